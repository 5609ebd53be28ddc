"""Properties of the clinical corrections of issue 8 §3 (sources in the knowledge package's
bibliography and CHANGES.md; one golden vignette each in tests/vignettes/480-497).

Each property holds over a range of cases, not one: the tables must never fall back into the
corrected behaviour for any size, grade, depth, symptom or prior-therapy combination drawn.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide import assess
from nenguide.engine.kb import Knowledge
from nenguide.errors import parse_case

AS_OF = dt.date(2026, 11, 23)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

size = st.floats(min_value=0.1, max_value=3.0, allow_nan=False)
ki67 = st.floats(min_value=0, max_value=20, allow_nan=False)
GEP_WALL = ["mucosa", "submucosa", "muscularis_propria", "subserosa", "serosa"]
SSA_RESULTS = st.sampled_from([None, True, False])
NO_SYMPTOMS = {"flushing": False, "secretory_diarrhoea": False, "peptic_ulcer_refractory": False}


def _run(kb: Knowledge, case: dict[str, Any]) -> dict[str, Any]:
    return assess(parse_case(case), kb, as_of=AS_OF).model_dump(mode="json")


def _codes(a: dict[str, Any]) -> set[str]:
    """The options recommended (a conditional option waits on an input and is not offered)."""
    return {o["code"] for o in a["treatment"] if o.get("status", "recommended") == "recommended"}


def _conditional(a: dict[str, Any]) -> dict[str, list[str]]:
    return {
        o["code"]: [r["field"] for r in o["requires"]]
        for o in a["treatment"]
        if o.get("status") == "conditional"
    }


def _syndrome(a: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((s for s in a["functional_syndromes"] if s["syndrome"] == name), None)


def _metastatic(site: str, k: float, clinical: dict[str, Any]) -> dict[str, Any]:
    return {
        "patient": {"ecog": 1},
        "tumour": {"primary_site": site, "size_cm": 2.0},
        "regional_nodes": {"status": "positive"},
        "metastases": {
            "status": "present",
            "liver": {"lesion_count": 6, "extent": "bilobar", "resectability": "unresectable"},
            "extrahepatic": [],
        },
        "pathology": {"differentiation": "well", "ki67_percent": k},
        "staging_basis": "clinical",
        "clinical": {
            "investigations": [
                {
                    "kind": "sstr_pet",
                    "positive": True,
                    "krenning_score": 4,
                    "all_lesions_sstr_positive": True,
                }
            ],
            "resection": {"performed": False},
            **clinical,
        },
    }


# 1. functioning duodenal NET: never endoscopic resection, whatever its size, grade or depth
@SETTINGS
@given(s=size, k=ki67, extent=st.sampled_from(["mucosa", "submucosa", "muscularis_propria"]))
def test_functioning_duodenal_net_never_gets_endoscopic_resection(
    kb: Knowledge, s: float, k: float, extent: str
) -> None:
    a = _run(
        kb,
        {
            "tumour": {"primary_site": "duodenum", "size_cm": s, "extent": extent},
            "regional_nodes": {"status": "negative"},
            "metastases": {"status": "none"},
            "pathology": {"differentiation": "well", "ki67_percent": k},
            "clinical": {
                "history": {"zollinger_ellison_syndrome": True},
                "resection": {"performed": False},
            },
        },
    )
    codes = _codes(a)
    assert "ENDOSCOPIC_RESECTION" not in codes
    assert "DUODENAL_LOCAL_EXCISION_INDIVIDUALISED" not in codes
    assert "SURGICAL_RESECTION_LYMPHADENECTOMY" in codes


# 2. PRRT: never first line for G1/G2 GEP-NET (no prior therapy), and never for midgut without
# progression on an SSA
@SETTINGS
@given(
    site=st.sampled_from(["jejunum", "ileum", "pancreas", "stomach", "rectum", "colon"]),
    k=st.floats(min_value=0, max_value=19.9, allow_nan=False),
)
def test_prrt_is_never_offered_first_line_for_g1_g2(kb: Knowledge, site: str, k: float) -> None:
    a = _run(kb, _metastatic(site, k, {"prior_therapies": [], "symptoms": NO_SYMPTOMS}))
    assert "PRRT_LU177" not in _codes(a)


@SETTINGS
@given(
    k=st.floats(min_value=0, max_value=19.9, allow_nan=False),
    ssa_progressed=SSA_RESULTS,
    other=st.sampled_from(["everolimus", "capecitabine_temozolomide", "liver_directed"]),
)
def test_midgut_prrt_needs_progression_on_ssa(
    kb: Knowledge, k: float, ssa_progressed: bool | None, other: str
) -> None:
    prior: list[dict[str, Any]] = [{"therapy": other, "progressed": True}]
    if ssa_progressed is not None:
        prior.append({"therapy": "ssa", "progressed": ssa_progressed})
    a = _run(kb, _metastatic("ileum", k, {"prior_therapies": prior, "symptoms": NO_SYMPTOMS}))
    assert ("PRRT_LU177" in _codes(a)) is (ssa_progressed is True)


# 2b. telotristat only for confirmed carcinoid syndrome with SSA-refractory diarrhoea
@SETTINGS
@given(refractory=SSA_RESULTS, hiaa=st.sampled_from([None, 5.0, 60.0]))
def test_telotristat_only_for_confirmed_syndrome_refractory_on_ssa(
    kb: Knowledge, refractory: bool | None, hiaa: float | None
) -> None:
    symptoms: dict[str, Any] = {"flushing": True, "secretory_diarrhoea": True}
    if refractory is not None:
        symptoms["diarrhoea_refractory_on_ssa"] = refractory
    clinical: dict[str, Any] = {"symptoms": symptoms, "prior_therapies": []}
    if hiaa is not None:
        clinical["labs"] = [
            {
                "analyte": "hiaa_5_urine_24h",
                "value": hiaa,
                "unit": "mg/(24.h)",
                "reference_high": 9,
                "context": {"urine_24h": True, "diet_restricted": True},
            }
        ]
    a = _run(kb, _metastatic("ileum", 2, clinical))
    confirmed = (_syndrome(a, "carcinoid_syndrome") or {}).get("status") == "confirmed"
    codes = _codes(a)
    assert ("TELOTRISTAT" in codes) is (confirmed and refractory is True)
    # unknown refractoriness: telotristat waits on it (issue 8 §1), naming the field
    waiting = _conditional(a).get("TELOTRISTAT")
    if confirmed and refractory is None:
        assert waiting == ["clinical.symptoms.diarrhoea_refractory_on_ssa"]
    else:
        assert waiting is None
    # 4. symptom-control SSA only once the syndrome is confirmed (a suspicion is tested first)
    assert ("SSA_SYMPTOM_CONTROL" in codes) is confirmed


# 3. type 3 gastric NET: endoscopic resection exactly for <= 1 cm, G1/G2, within the submucosa,
# node-negative; gastrectomy is always listed
@SETTINGS
@given(
    s=size,
    k=st.floats(min_value=0, max_value=40, allow_nan=False),
    extent=st.sampled_from(GEP_WALL),
)
def test_type3_gastric_endoscopic_resection_only_when_small_and_low_risk(
    kb: Knowledge, s: float, k: float, extent: str
) -> None:
    a = _run(
        kb,
        {
            "tumour": {"primary_site": "stomach", "size_cm": s, "extent": extent},
            "regional_nodes": {"status": "negative"},
            "metastases": {"status": "none"},
            "pathology": {"differentiation": "well", "ki67_percent": k},
            "clinical": {
                "history": {
                    "autoimmune_atrophic_gastritis": False,
                    "pernicious_anaemia": False,
                    "chronic_atrophic_gastritis_other": False,
                },
                "labs": [
                    {
                        "analyte": "gastrin",
                        "value": 50,
                        "unit": "pg/mL",
                        "reference_high": 100,
                        "context": {"on_ppi": False},
                    }
                ],
                "resection": {"performed": False},
            },
        },
    )
    small_low_risk = s <= 1 and k <= 20 and extent in ("mucosa", "submucosa")
    codes = _codes(a)
    assert ("ENDOSCOPIC_RESECTION" in codes) is small_low_risk
    assert "GASTRECTOMY_LYMPHADENECTOMY" in codes


# 5. hypergastrinaemia with recorded atrophic gastritis: never "suspected" while pH is unknown
@SETTINGS
@given(
    xuln=st.floats(min_value=1.01, max_value=50, allow_nan=False),
    form=st.sampled_from(
        ["autoimmune_atrophic_gastritis", "pernicious_anaemia", "chronic_atrophic_gastritis_other"]
    ),
    ulcer=st.sampled_from([None, True, False]),
)
def test_gastrin_with_atrophic_gastritis_is_not_suspected_gastrinoma(
    kb: Knowledge, xuln: float, form: str, ulcer: bool | None
) -> None:
    symptoms = {} if ulcer is None else {"peptic_ulcer_refractory": ulcer}
    a = _run(
        kb,
        {
            "tumour": {"primary_site": "stomach", "size_cm": 0.5, "extent": "mucosa"},
            "regional_nodes": {"status": "negative"},
            "metastases": {"status": "none"},
            "pathology": {"differentiation": "well", "ki67_percent": 1},
            "clinical": {
                "history": {form: True},
                "symptoms": symptoms,
                "labs": [
                    {
                        "analyte": "gastrin",
                        "value": 100 * xuln,
                        "unit": "pg/mL",
                        "reference_high": 100,
                        "context": {"on_ppi": False},
                    }
                ],
                "resection": {"performed": False},
            },
        },
    )
    gas = _syndrome(a, "gastrinoma")
    assert gas is not None
    assert gas["status"] == "insufficient_data"
    assert "ZES_GASTRIC_PH" in gas["next_tests"]
    assert "HIGH_DOSE_PPI" not in _codes(a)


# 7. R0-resected rectal NET G1 < 1 cm within the submucosa: no baseline CT/MRI and no CgA;
# any risk feature brings both back
@SETTINGS
@given(
    s=st.floats(min_value=0.1, max_value=1.9, allow_nan=False),
    k=st.floats(min_value=0, max_value=10, allow_nan=False),
    extent=st.sampled_from(GEP_WALL),
    margin=st.sampled_from(["R0", "R1"]),
)
def test_small_r0_rectal_net_g1_gets_no_baseline_ct_or_cga(
    kb: Knowledge, s: float, k: float, extent: str, margin: str
) -> None:
    a = _run(
        kb,
        {
            "tumour": {"primary_site": "rectum", "size_cm": s, "extent": extent},
            "regional_nodes": {"status": "not_assessed"},
            "metastases": {"status": "none"},
            "pathology": {"differentiation": "well", "ki67_percent": k, "mitoses_per_2mm2": 0},
            "clinical": {"resection": {"performed": True, "margin": margin}},
        },
    )
    low_risk = s < 1 and k < 3 and extent in ("mucosa", "submucosa") and margin == "R0"
    items = {w["code"] for w in a["workup"]}
    assert ("WU.CT_MRI" in items) is not low_risk
    assert ("WU.CGA" in items) is not low_risk
    # every such tumour is also exempt from long-term follow-up (the seed's exemption, which
    # does not read the depth)
    if low_risk:
        assert a["follow_up"]["lifelong"] is False
