"""Treatment options (issue 3 item 4): unit tests with hand-made syndrome lists, and Hypothesis
properties (adding a metastasis never removes the required systemic / liver-directed options; a
missing required input withholds the option and names the field)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nenguide
from nenguide.engine.classify import classify
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts, pathway_facts
from nenguide.engine.kb import Knowledge
from nenguide.engine.liver import liver_type
from nenguide.engine.stage import stage
from nenguide.engine.treatment import treatment
from nenguide.engine.treatment_data import catalogue, check_catalogue
from nenguide.errors import parse_case
from nenguide.model.assessment import FunctionalSyndrome
from nenguide.model.site import SiteParameters

AS_OF = dt.date(2026, 11, 23)
SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SYSTEMIC = {"ssa", "targeted", "chemotherapy", "prrt", "immunotherapy"}
GATED_BY_ECOG = {"targeted", "chemotherapy", "prrt", "immunotherapy"}


def run(kb: Knowledge, case: dict[str, Any], lang: str = "en", site: Any = None) -> dict[str, Any]:
    a = nenguide.assess(parse_case(case), kb, as_of=AS_OF, lang=lang, site=site)
    return a.model_dump(mode="json")


def codes(out: dict[str, Any]) -> list[str]:
    return [o["code"] for o in out["treatment"]]


def recommended(out: dict[str, Any]) -> list[str]:
    return [o["code"] for o in out["treatment"] if o.get("status", "recommended") == "recommended"]


def conditional_on(out: dict[str, Any], code: str) -> list[str]:
    """The fields a conditional option waits on (empty when it is not conditional)."""
    return [
        r["field"]
        for o in out["treatment"]
        if o["code"] == code and o.get("status") == "conditional"
        for r in o["requires"]
    ]


def option(out: dict[str, Any], code: str) -> dict[str, Any]:
    return next(o for o in out["treatment"] if o["code"] == code)


def tx_issues(out: dict[str, Any], code: str = "TX_NEEDS_DATA") -> list[dict[str, Any]]:
    return [i for i in out["issues"] if i["code"] == code]


def direct(
    kb: Knowledge, case: dict[str, Any], syndromes: list[FunctionalSyndrome], lang: str = "en"
) -> tuple[list[Any], Any, Context]:
    """Run the treatment step alone with a hand-made list of functional syndromes."""
    c = parse_case(case)
    ctx = Context(kb, lang)
    facts = case_facts(ctx, c)
    cls = classify(ctx, facts, c)
    stg = stage(ctx, facts, c, cls)
    liver = liver_type(ctx, facts, cls)
    facts = pathway_facts(ctx, facts, cls, syndromes)
    opts, mdt = treatment(ctx, c, facts, cls, stg, liver, syndromes, SiteParameters())
    return opts, mdt, ctx


def syn(name: str, status: str) -> FunctionalSyndrome:
    return FunctionalSyndrome(
        syndrome=name,
        status=status,  # type: ignore[typeddict-item]
        criteria_met=[],
        criteria_unmet=[],
        next_tests=[],
        caveats=[],
        rule_ids=[],
    )


PNET_MET: dict[str, Any] = {
    "patient": {"ecog": 1},
    "tumour": {"primary_site": "pancreas", "size_cm": 3.0},
    "metastases": {
        "status": "present",
        "liver": {"lesion_count": 8, "extent": "bilobar", "resectability": "unresectable"},
    },
    "pathology": {"differentiation": "well", "ki67_percent": 5},
    "staging_basis": "clinical",
    "clinical": {
        "symptoms": {"flushing": False},
        "investigations": [
            {"kind": "sstr_pet", "positive": True, "krenning_score": 3,
             "all_lesions_sstr_positive": True}
        ],
        "prior_therapies": [],
    },
}  # fmt: skip


# --- knowledge ------------------------------------------------------------------------------


def test_catalogue_tables_texts_and_sources_are_consistent(kb: Knowledge) -> None:
    assert check_catalogue(kb) == []


def test_issue_codes_have_texts_in_every_language(kb: Knowledge) -> None:
    for code in kb.issue_kinds:
        for lang in ("en", "zh-CN"):
            assert kb.catalog.texts[lang].get(f"issue.{code}"), (code, lang)


def test_levels_stay_null_and_unconfirmed(kb: Knowledge) -> None:
    out = run(kb, PNET_MET)
    assert out["treatment"]
    for o in out["treatment"]:
        assert o["level"] is None and o["evidence"] is None
        assert o["level_status"] == "unconfirmed"
    for spec in catalogue(kb).values():
        assert spec.level is None and spec.level_status == "unconfirmed"


def test_a_confirmed_level_without_level_is_rejected() -> None:
    from nenguide.engine.treatment_data import OptionSpec

    base = {"code": "X", "text": {"en": "x"}, "category": "other", "intent": "x", "sources": ["s"]}
    with pytest.raises(ValueError):
        OptionSpec.model_validate(base | {"level_status": "confirmed"})
    with pytest.raises(ValueError):
        OptionSpec.model_validate(base | {"level": "I"})
    ok = OptionSpec.model_validate(base | {"level": "I", "level_status": "confirmed"})
    assert ok.level == "I"


# --- options, sources, because, caveats ----------------------------------------------------


def test_metastatic_pnet_options_cite_statement_and_pivotal_trial(kb: Knowledge) -> None:
    out = run(kb, PNET_MET)
    assert {"EVEROLIMUS", "SUNITINIB", "SURUFATINIB", "CAPTEM", "STZ_5FU", "LANREOTIDE",
            "TAE_TACE"} <= set(codes(out))  # fmt: skip
    # no prior therapy: PRRT is a later line in pancreatic NET (issue 8 §3)
    assert "PRRT_LU177" not in codes(out)
    ev = option(out, "EVEROLIMUS")
    assert "tx-csco-s6-drugs" in ev["sources"] and "tx-radiant-3" in ev["sources"]
    assert ev["rule_id"] == "CSCO2021.TX.NET.EVEROLIMUS.PANCREAS"
    assert "Primary site: pancreas" in ev["because"]
    assert "ECOG performance status: 1" in ev["because"]
    assert "OCTREOTIDE_LAR" not in codes(out)  # PROMID: midgut only
    assert out["mdt_discussion"] == {
        "required": True,
        "reasons": ["METASTATIC_NET_LOCAL_TREATMENT"],
    }


def test_texts_follow_the_language(kb: Knowledge) -> None:
    en = run(kb, PNET_MET, "en")
    zh = run(kb, PNET_MET, "zh-CN")
    assert codes(en) == codes(zh)
    assert option(zh, "EVEROLIMUS")["text"].startswith("依维莫司")
    assert any("原发部位" in b for b in option(zh, "EVEROLIMUS")["because"])
    assert zh["mdt_discussion"] == en["mdt_discussion"]


def test_sunitinib_is_pancreas_only(kb: Knowledge) -> None:
    case = copy.deepcopy(PNET_MET)
    case["tumour"]["primary_site"] = "rectum"
    out = run(kb, case)
    assert "SUNITINIB" not in codes(out) and "STZ_5FU" not in codes(out)
    assert {"EVEROLIMUS", "SURUFATINIB"} <= set(codes(out))


def test_prior_therapy_received_is_a_caveat_and_failed_is_withdrawn(kb: Knowledge) -> None:
    case = copy.deepcopy(PNET_MET)
    case["clinical"]["prior_therapies"] = [
        {"therapy": "everolimus", "progressed": True},
        {"therapy": "capecitabine_temozolomide", "progressed": False},
    ]
    out = run(kb, case)
    assert "EVEROLIMUS" not in codes(out)
    failed = tx_issues(out, "TX_OPTION_ALREADY_FAILED")
    assert failed and failed[0]["details"]["therapy"] == "everolimus"
    assert any("Already received" in c for c in option(out, "CAPTEM")["caveats"])


def test_insulinoma_from_a_hand_made_syndrome_list(kb: Knowledge) -> None:
    opts, mdt, _ = direct(kb, PNET_MET, [syn("insulinoma", "confirmed")])
    got = {o["code"]: o for o in opts}
    assert {"DIAZOXIDE", "SSA_SYMPTOM_CONTROL", "DEBULKING_FUNCTIONAL", "EVEROLIMUS"} <= set(got)
    assert any("hypoglycaemia" in c for c in got["SSA_SYMPTOM_CONTROL"]["caveats"])
    assert any("hypoglycaemia" in c for c in got["LANREOTIDE"]["caveats"])
    assert mdt is not None and "FUNCTIONAL_DEBULKING" in mdt["reasons"]


def test_insulinoma_without_sstr_imaging_gets_no_ssa(kb: Knowledge) -> None:
    case = copy.deepcopy(PNET_MET)
    case["clinical"]["investigations"] = []
    opts, _, ctx = direct(kb, case, [syn("insulinoma", "suspected")])
    got = {o["code"] for o in opts}
    assert "DIAZOXIDE" in got and "SSA_SYMPTOM_CONTROL" not in got and "LANREOTIDE" not in got
    needs = [i for i in ctx.issues if i["code"] == "TX_NEEDS_DATA"]
    assert any("clinical.investigations (SSTR imaging)" in i["fields"] for i in needs)


def test_syndrome_with_insufficient_data_withholds_its_symptom_option(kb: Knowledge) -> None:
    opts, _, ctx = direct(kb, PNET_MET, [syn("vipoma", "insufficient_data")])
    assert "VIPOMA_FLUID_ELECTROLYTES" not in {o["code"] for o in opts}
    needs = [i for i in ctx.issues if i["code"] == "TX_NEEDS_DATA"]
    assert any(any(f.startswith("functional_syndromes") for f in i["fields"]) for i in needs)


def test_excluded_syndrome_offers_nothing_and_other_names_get_ssa(kb: Knowledge) -> None:
    opts, _, _ = direct(kb, PNET_MET, [syn("carcinoid_syndrome", "excluded")])
    got = {o["code"] for o in opts}
    assert "TELOTRISTAT" not in got and "DEBULKING_FUNCTIONAL" not in got
    opts, _, _ = direct(kb, PNET_MET, [syn("pthrpoma", "suspected")])
    ssa = next(o for o in opts if o["code"] == "SSA_SYMPTOM_CONTROL")
    assert ssa["rule_id"] == "CSCO2021.TX.SYMPTOMS.OTHER"


def test_gastrinoma_suspected_gives_no_ppi_regimen_and_no_gastric_type(kb: Knowledge) -> None:
    case = {
        "tumour": {"primary_site": "stomach", "size_cm": 0.8},
        "metastases": {"status": "none"},
        "pathology": {"differentiation": "well", "ki67_percent": 1},
    }
    opts, _, ctx = direct(kb, case, [syn("gastrinoma", "suspected")])
    got = {o["code"] for o in opts}
    # a suspected gastrinoma gets gastrin and gastric pH first, not the ZES regimen (issue 8 §3)
    assert "HIGH_DOSE_PPI" not in got
    assert "ENDOSCOPIC_SURVEILLANCE" not in got and "GASTRECTOMY_LYMPHADENECTOMY" not in got
    assert any(i["code"] == "TX_GASTRIC_TYPE_NEEDS_DATA" for i in ctx.issues)


def test_carcinoid_syndrome_caveats_on_procedures(kb: Knowledge) -> None:
    opts, _, _ = direct(kb, PNET_MET, [syn("carcinoid_syndrome", "confirmed")])
    tae = next(o for o in opts if o["code"] == "TAE_TACE")
    assert any("carcinoid-crisis" in c for c in tae["caveats"])


def test_appendix_without_margin_after_appendicectomy_names_the_margin(kb: Knowledge) -> None:
    case = {
        "tumour": {"primary_site": "appendix", "size_cm": 0.8, "extent": "submucosa"},
        "metastases": {"status": "none"},
        "pathology": {"differentiation": "well", "ki67_percent": 1},
        "clinical": {"resection": {"performed": True}},
    }
    out = run(kb, case)
    assert "APPENDECTOMY_SUFFICIENT" not in codes(out)
    assert "RIGHT_HEMICOLECTOMY_CONSIDER" not in codes(out)
    assert any("clinical.resection.margin" in i["fields"] for i in tx_issues(out))


def test_data_conflict_requires_mdt(kb: Knowledge) -> None:
    case = copy.deepcopy(PNET_MET)
    case["regional_nodes"] = {"status": "negative", "examined": 10, "positive": 3}
    out = run(kb, case)
    if any(i["kind"] == "conflict" for i in out["issues"]):
        assert "DATA_CONFLICT" in out["mdt_discussion"]["reasons"]


def test_no_classification_no_options(kb: Knowledge) -> None:
    case = {"tumour": {"primary_site": "pancreas", "size_cm": 2}, "metastases": {"status": "none"}}
    out = run(kb, case)
    assert out["treatment"] == []
    assert tx_issues(out, "TX_NEEDS_CLASSIFICATION")


def test_site_parameter_set_is_traced(kb: Knowledge) -> None:
    out = run(kb, PNET_MET)
    notes = [t for t in out["trace"] if t["step"] == "treatment" and t["table"] is None]
    assert notes and notes[-1]["result"]["site_parameters"] == "csco-2021-default-china"
    assert notes[-1]["inputs"]["available.surufatinib"] is True


# --- properties -----------------------------------------------------------------------------

GEP = ["stomach", "duodenum", "jejunum", "ileum", "appendix", "colon", "rectum", "pancreas"]


@st.composite
def metastatic_net(draw: st.DrawFn) -> dict[str, Any]:
    site = draw(st.sampled_from(GEP))
    ki67 = draw(st.sampled_from([1.0, 2.5, 5.0, 12.0, 19.0, 30.0, 60.0]))
    krenning = draw(st.integers(min_value=0, max_value=4))
    liver_count = draw(st.integers(min_value=1, max_value=30))
    liver = {"lesion_count": liver_count}
    if liver_count > 1:
        liver |= draw(
            st.sampled_from(
                [
                    {"extent": "confined", "resectability": "standard_resection"},
                    {"extent": "bilobar", "resectability": "resection_with_ablation_or_staged"},
                    {"extent": "bilobar", "resectability": "unresectable"},
                ]
            )
        )
    extra = draw(st.lists(st.sampled_from(["bone", "peritoneum", "lung"]), max_size=2, unique=True))
    return {
        "patient": {"ecog": draw(st.integers(min_value=0, max_value=4))},
        "tumour": {"primary_site": site, "size_cm": draw(st.sampled_from([0.8, 1.5, 3.0]))},
        "metastases": {
            "status": "present",
            "liver": liver,
            "extrahepatic": [{"site": s} for s in extra],
        },
        "pathology": {"differentiation": "well", "ki67_percent": ki67},
        "staging_basis": "clinical",
        "clinical": {
            "symptoms": {"flushing": draw(st.booleans())},
            "investigations": [
                {"kind": "sstr_pet", "positive": krenning > 0, "krenning_score": krenning,
                 "all_lesions_sstr_positive": draw(st.booleans())}
            ],
            "prior_therapies": [],
        },
    }  # fmt: skip


def _required(out: dict[str, Any]) -> set[str]:
    """Systemic options and the liver-directed embolisation the reference requires."""
    return {
        o["code"] for o in out["treatment"] if o["category"] in SYSTEMIC or o["code"] == "TAE_TACE"
    }


@SETTINGS
@given(case=metastatic_net(), new=st.sampled_from(["bone", "peritoneum", "brain", "more_liver"]))
def test_adding_a_metastasis_never_removes_required_options(
    kb: Knowledge, case: dict[str, Any], new: str
) -> None:
    before = run(kb, case)
    more = copy.deepcopy(case)
    if new == "more_liver":
        lv = more["metastases"]["liver"]
        lv.update(lesion_count=lv["lesion_count"] + 5, extent="bilobar", diffuse=True,
                  resectability="unresectable")  # fmt: skip
    elif new not in {e["site"] for e in more["metastases"]["extrahepatic"]}:
        more["metastases"]["extrahepatic"].append({"site": new})
    after = run(kb, more)
    lost = _required(before) - _required(after)
    assert not lost, f"adding {new} removed {lost}"


@SETTINGS
@given(case=metastatic_net())
def test_a_non_metastatic_tumour_becoming_metastatic_gains_systemic_options(
    kb: Knowledge, case: dict[str, Any]
) -> None:
    m0 = copy.deepcopy(case)
    m0["metastases"] = {"status": "none"}
    assert not {o["code"] for o in run(kb, m0)["treatment"] if o["category"] in GATED_BY_ECOG}
    assert _required(run(kb, m0)) <= _required(run(kb, case))


DROPS = {
    "ecog": (("patient", "ecog"), "patient.ecog", GATED_BY_ECOG),
    "sstr": (("clinical", "investigations"), "clinical.investigations (SSTR imaging)", {"ssa"}),
}


@SETTINGS
@given(case=metastatic_net(), drop=st.sampled_from(sorted(DROPS)))
def test_missing_required_input_gives_insufficient_data_never_the_option(
    kb: Knowledge, case: dict[str, Any], drop: str
) -> None:
    (section, key), field, categories = DROPS[drop]
    full = run(kb, case)
    gated = {o["code"] for o in full["treatment"] if o["category"] in categories}
    partial_case = copy.deepcopy(case)
    del partial_case[section][key]
    partial = run(kb, partial_case)
    # never recommended; an option waiting only on ECOG (a conditional input of the package)
    # is shown as conditional naming the field, SSTR-gated options are withheld entirely
    still = {
        o["code"]
        for o in partial["treatment"]
        if o["category"] in categories and (o["status"] == "recommended" or drop == "sstr")
    }
    assert not still, f"{drop} missing but {still} offered"
    for o in partial["treatment"]:
        if o["category"] in categories and o["status"] == "conditional":
            assert field in [r["field"] for r in o["requires"]], o
    if gated:
        named = tx_issues(partial) + tx_issues(partial, "TX_OPTION_CONDITIONAL")
        assert any(field in i["fields"] for i in named), (
            f"{drop} missing: no INSUFFICIENT_DATA naming {field}"
        )


@SETTINGS
@given(
    site=st.sampled_from(["colon", "pancreas", "stomach"]),
    months=st.one_of(st.none(), st.floats(min_value=0, max_value=24)),
)
def test_nec_lines_need_prior_therapy_and_never_repeat_failed_platinum(
    kb: Knowledge, site: str, months: float | None
) -> None:
    case = {
        "patient": {"ecog": 1},
        "tumour": {"primary_site": site, "size_cm": 4.0},
        "metastases": {"status": "present", "extrahepatic": [{"site": "bone"}]},
        "pathology": {"differentiation": "poor", "morphology": "large_cell", "ki67_percent": 70},
        "staging_basis": "clinical",
    }
    unknown = run(kb, case)
    # first line is settled but for the prior lines: conditional on them, never recommended
    assert "PLATINUM_ETOPOSIDE" not in recommended(unknown)
    assert "clinical.prior_therapies" in conditional_on(unknown, "PLATINUM_ETOPOSIDE")
    assert any(
        "clinical.prior_therapies" in i["fields"]
        for i in tx_issues(unknown) + tx_issues(unknown, "TX_OPTION_CONDITIONAL")
    )
    case["clinical"] = {
        "prior_therapies": [
            {"therapy": "platinum_etoposide", "progressed": True, "months_to_progression": months}
        ]
    }
    out = run(kb, case)
    assert "PLATINUM_ETOPOSIDE" not in codes(out)
    assert {"FOLFIRI", "IMMUNE_CHECKPOINT_INHIBITOR"} <= set(codes(out))
    if months is None:
        assert "PLATINUM_ETOPOSIDE_RECHALLENGE" not in recommended(out)
        assert any(
            "clinical.prior_therapies.months_to_progression" in i["fields"]
            for i in tx_issues(out) + tx_issues(out, "TX_OPTION_CONDITIONAL")
        )
    else:
        assert ("PLATINUM_ETOPOSIDE_RECHALLENGE" in codes(out)) == (months > 6)


def test_local_option_needs_to_know_whether_the_primary_was_resected(kb: Knowledge) -> None:
    """A missing resection record is never read as 'not resected' (no silent default)."""
    case = {
        "patient": {"ecog": 0},
        "tumour": {"primary_site": "rectum", "size_cm": 0.7, "extent": "submucosa"},
        "regional_nodes": {"status": "negative"},
        "metastases": {"status": "none"},
        "pathology": {"differentiation": "well", "ki67_percent": 1},
        "clinical": {"prior_therapies": []},
    }
    unknown = run(kb, case)
    assert not [o for o in unknown["treatment"] if o["category"] == "endoscopic_resection"]
    needs = [i for i in unknown["issues"] if i["code"] == "TX_NEEDS_DATA"]
    assert any("clinical.resection" in i["fields"] for i in needs), needs
    case["clinical"]["resection"] = {"performed": False}
    known = run(kb, case)
    assert [o for o in known["treatment"] if o["category"] == "endoscopic_resection"]


SETTLED_CASE: dict[str, Any] = {
    "patient": {"ecog": 1},
    "tumour": {"primary_site": "pancreas", "size_cm": 4},
    "metastases": {
        "status": "present",
        "liver": {"lesion_count": 8, "extent": "bilobar", "diffuse": True,
                  "resectability": "unresectable"},
        "extrahepatic": [],
    },
    "pathology": {"differentiation": "well", "ki67_range": "15-25", "mitoses_per_2mm2": 4},
    "clinical": {
        "investigations": [{"kind": "sstr_pet", "positive": True, "krenning_score": 4,
                            "all_lesions_sstr_positive": True}],
        "prior_therapies": [],
    },
}  # fmt: skip


def _settled(kb: Knowledge, **clinical: Any) -> Any:
    data = copy.deepcopy(SETTLED_CASE)
    data["clinical"].update(clinical)
    return nenguide.assess(parse_case(data), kb, as_of=dt.date(2026, 11, 23))


def test_options_settled_over_a_grade_left_open(kb: Knowledge) -> None:
    """Ki-67 "15-25" leaves the grade between G2 and G3 (a probe, session 24): the options both
    grades give are offered, with the MDT reason of the G3 rules that give them; the options
    only one grade gives still wait; one trace entry, with no table, names the rules of each
    candidate, and the look-ups per candidate are not traced as rules applied."""
    a = _settled(kb)
    codes = {o["code"] for o in a.treatment}
    assert {"EVEROLIMUS", "SUNITINIB", "CAPTEM"} <= codes and "LANREOTIDE" not in codes
    assert "NET_G3_TARGETED_SELECTED" in a.mdt_discussion["reasons"]
    (note,) = [t for t in a.trace if t["step"] == "treatment" and t["table"] is None
               and t["result"] == ["CAPTEM", "EVEROLIMUS", "SUNITINIB"]]  # fmt: skip
    assert "CSCO2021.TX.NET.G3.EVEROLIMUS" in note["rule_ids"]
    assert "if grade = G2" in note["conditions"][0] and "if grade = G3" in note["conditions"][0]
    applied = [t for t in a.trace if t["table"] == "CSCO2021.TX.NET.SYSTEMIC"]
    assert all(t["inputs"]["grade"] == {"one_of": ["G2", "G3"]} for t in applied)
    unconfirmed = [i for i in a.issues if i["code"] == "CONTENT_UNCONFIRMED"]
    assert "CSCO2021.TX.NET.G3.EVEROLIMUS" in unconfirmed[0]["details"]["rules"]


def test_an_option_already_failed_is_not_also_waiting_on_data(kb: Knowledge) -> None:
    """Everolimus, settled over the candidate grades, after progression on everolimus: reported
    once, as already failed, not also as "not offered for lack of data" (a review, session
    24)."""
    a = _settled(kb, prior_therapies=[{"therapy": "everolimus", "progressed": True}])
    assert "EVEROLIMUS" not in {o["code"] for o in a.treatment}
    failed = [i for i in a.issues if i["code"] == "TX_OPTION_ALREADY_FAILED"]
    assert [i["details"]["option"] for i in failed] == ["Everolimus 10 mg daily"]
    for i in a.issues:
        if i["code"] == "TX_NEEDS_DATA":
            assert "Everolimus 10 mg daily" not in i["details"]["options"], i
