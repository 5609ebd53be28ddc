"""Hereditary syndromes (issue 3, item 6): referral triggers for genetic counselling and
germline testing, genes, carrier surveillance, and three-valued handling of missing data.

Sources of the expected values: eviQ MEN1/CDKN1B testing criteria, Thakker 2012 (MEN1),
shared/reference/clinical-treatment.md §6 (see tables/hereditary.yaml for each rule's sources).
"""

from __future__ import annotations

import copy
import datetime as dt
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nenguide
from nenguide import load_knowledge
from nenguide.engine.classify import classify
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts, pathway_facts
from nenguide.engine.hereditary import hereditary
from nenguide.errors import parse_case
from nenguide.model.assessment import FunctionalSyndrome, Hereditary

_KB = load_knowledge()
ISSUE_KINDS = _KB.issue_kinds
T_TRIGGERS = _KB.pathway.table("hereditary", "triggers")
T_SURVEILLANCE = _KB.pathway.table("hereditary", "surveillance")
AS_OF = dt.date(2026, 11, 23)

#: Every history finding the hereditary step reads, all stated absent.
NEGATIVE_HISTORY = {
    h: False
    for h in (
        "primary_hyperparathyroidism",
        "pituitary_adenoma",
        "zollinger_ellison_syndrome",
        "medullary_thyroid_carcinoma",
        "pheochromocytoma_paraganglioma",
        "cns_haemangioblastoma",
        "retinal_haemangioblastoma",
        "clear_cell_renal_cell_carcinoma",
        "cafe_au_lait_macules",
        "neurofibromas",
        "facial_angiofibromas",
        "renal_angiomyolipoma",
        "cortical_tubers_or_sega",
        "autoimmune_atrophic_gastritis",
        "pernicious_anaemia",
        "chronic_atrophic_gastritis_other",
    )
}
#: Findings that point towards a hereditary syndrome (never away from one).
POSITIVE_FINDINGS = [
    "primary_hyperparathyroidism",
    "pituitary_adenoma",
    "zollinger_ellison_syndrome",
    "medullary_thyroid_carcinoma",
    "pheochromocytoma_paraganglioma",
    "cns_haemangioblastoma",
    "retinal_haemangioblastoma",
    "clear_cell_renal_cell_carcinoma",
    "cafe_au_lait_macules",
    "neurofibromas",
    "facial_angiofibromas",
    "renal_angiomyolipoma",
    "cortical_tubers_or_sega",
]


@cache
def kb() -> Any:
    # the content hash is not under test here (other knowledge files change concurrently)
    from importlib import resources

    from nenguide.knowledge import DEFAULT_GUIDELINE, load_from

    return load_from(resources.files("nenguide.knowledge") / DEFAULT_GUIDELINE, verify_hash=False)


def case(
    site: str = "pancreas",
    *,
    age: int | None = 60,
    n: int | None = 1,
    diff: str | None = "well",
    history: dict[str, bool] | None = None,
    family: list[dict[str, Any]] | None = None,
    germline: list[dict[str, str]] | None = None,
    negative: bool = True,
) -> dict[str, Any]:
    """A case; ``negative`` starts from every hereditary finding stated absent."""
    hist = dict(NEGATIVE_HISTORY) if negative else {}
    hist.update(history or {})
    tumour: dict[str, Any] = {"primary_site": site}
    if n is not None:
        tumour["number_of_tumours"] = n
    pathology: dict[str, Any] = {"ki67_percent": 5}
    if diff is not None:
        pathology["differentiation"] = diff
        if diff == "poor":
            pathology["ki67_percent"] = 60
            pathology["morphology"] = "small_cell"
    clinical: dict[str, Any] = {"history": hist, "germline": germline or []}
    if family is not None or negative:
        clinical["family_history"] = family if family is not None else []
    return {
        "patient": {"age_years": age} if age is not None else {},
        "tumour": tumour,
        "pathology": pathology,
        "clinical": clinical,
    }


def run(
    data: dict[str, Any], syndromes: list[FunctionalSyndrome] | None = None
) -> tuple[Hereditary, Context]:
    c = parse_case(data)
    ctx = Context(kb(), "en")
    facts = case_facts(ctx, c)
    cls = classify(ctx, facts, c)
    facts = pathway_facts(ctx, facts, cls, syndromes or [])
    out = hereditary(ctx, c, facts, cls, syndromes or [])
    assert out is not None
    return out, ctx


def syndrome(name: str, status: str) -> FunctionalSyndrome:
    return FunctionalSyndrome(
        syndrome=name,
        status=status,  # type: ignore[typeddict-item]
        criteria_met=[],
        criteria_unmet=[],
        next_tests=[],
        caveats=[],
        rule_ids=[],
    )


def codes(ctx: Context) -> list[str]:
    return [i["code"] for i in ctx.issues]


# --- the negative baseline -----------------------------------------------------------------


def test_baseline_no_trigger_is_determined_not_recommended() -> None:
    h, ctx = run(case())
    assert h["status"] == "DETERMINED"
    assert h["testing_recommended"] is False
    assert h["syndromes"] == [] and h["genes"] == [] and h["rule_ids"] == []
    assert "HEREDITARY_NEEDS_DATA" not in codes(ctx)


# --- each trigger ----------------------------------------------------------------------------

TRIGGERS: list[tuple[str, dict[str, Any], list[str], list[str], str]] = [
    (
        "clinical MEN1: PHPT + pituitary (rectal NET)",
        case("rectum", history={"primary_hyperparathyroidism": True, "pituitary_adenoma": True}),
        ["MEN1"],
        ["MEN1", "CDKN1B"],
        "CSCO2021.HER.CLINICAL_MEN1",
    ),
    (
        "clinical MEN1: pNET + PHPT",
        case(history={"primary_hyperparathyroidism": True}),
        ["MEN1"],
        ["MEN1", "CDKN1B"],
        "CSCO2021.HER.CLINICAL_MEN1",
    ),
    (
        "familial MEN1: pNET + first-degree relative with PHPT and pituitary adenoma",
        case(
            family=[
                {
                    "relation": "first_degree",
                    "findings": ["primary_hyperparathyroidism", "pituitary_adenoma"],
                }
            ]
        ),
        ["MEN1"],
        ["MEN1", "CDKN1B"],
        "CSCO2021.HER.FAMILIAL_MEN1",
    ),
    (
        "gastrinoma from history (ZES)",
        case("duodenum", history={"zollinger_ellison_syndrome": True}),
        ["MEN1"],
        ["MEN1", "CDKN1B"],
        "CSCO2021.HER.GASTRINOMA",
    ),
    (
        "type 2 gastric NET",
        case("stomach", history={"zollinger_ellison_syndrome": True}),
        ["MEN1"],
        ["MEN1", "CDKN1B"],
        "CSCO2021.HER.GASTRIC_TYPE2",
    ),
    (
        "multifocal pNET at 60",
        case(n=3),
        ["MEN1"],
        ["MEN1", "CDKN1B", "VHL"],
        "CSCO2021.HER.MULTIFOCAL_DP_NET",
    ),
    (
        "multifocal gastric NET without atrophic gastritis",
        case("stomach", n=2),
        ["MEN1"],
        ["MEN1", "CDKN1B"],
        "CSCO2021.HER.MULTIFOCAL_GASTRIC_NET",
    ),
    (
        "unifocal duodenal NET at 39",
        case("duodenum", age=39),
        ["MEN1"],
        ["MEN1", "CDKN1B"],
        "CSCO2021.HER.DP_NET_UNDER_40",
    ),
    (
        "gastric NET at 30 without atrophic gastritis",
        case("stomach", age=30),
        ["MEN1"],
        ["MEN1", "CDKN1B"],
        "CSCO2021.HER.GASTRIC_NET_UNDER_40",
    ),
    (
        "bronchial carcinoid at 70",
        case("lung", age=70),
        ["MEN1"],
        ["MEN1", "CDKN1B"],
        "CSCO2021.HER.THORACIC_NET",
    ),
    (
        "thymic carcinoid",
        case("thymus"),
        ["MEN1"],
        ["MEN1", "CDKN1B"],
        "CSCO2021.HER.THORACIC_NET",
    ),
    (
        "PHPT at 35 with an ileal NET",
        case("ileum", age=35, history={"primary_hyperparathyroidism": True}),
        ["MEN1"],
        ["MEN1", "CDKN1B"],
        "CSCO2021.HER.PHPT_UNDER_40",
    ),
    (
        "familial PHPT with a colonic NET",
        case(
            "colon",
            history={"primary_hyperparathyroidism": True},
            family=[{"relation": "first_degree", "findings": ["primary_hyperparathyroidism"]}],
        ),
        ["MEN1"],
        ["MEN1", "CDKN1B"],
        "CSCO2021.HER.FAMILIAL_PHPT",
    ),
    (
        "relative with a VHL variant",
        case("ileum", family=[{"relation": "first_degree", "pathogenic_variant_gene": "VHL"}]),
        ["VHL"],
        ["VHL"],
        "CSCO2021.HER.RELATIVE_VARIANT",
    ),
    (
        "NF1 stigmata with an ampullary NET",
        case("ampulla", history={"cafe_au_lait_macules": True}),
        ["NF1"],
        ["NF1"],
        "CSCO2021.HER.NF1_DUODENAL_NET",
    ),
    (
        "pNET with CNS haemangioblastoma",
        case(history={"cns_haemangioblastoma": True}),
        ["VHL"],
        ["VHL"],
        "CSCO2021.HER.VHL_PNET",
    ),
    (
        "medullary thyroid carcinoma",
        case("rectum", history={"medullary_thyroid_carcinoma": True}),
        ["MEN2"],
        ["RET"],
        "CSCO2021.HER.MTC",
    ),
    (
        "pNET with TSC features",
        case(history={"renal_angiomyolipoma": True}),
        ["TSC"],
        ["TSC1", "TSC2"],
        "CSCO2021.HER.TSC_PNET",
    ),
    (
        "red flag: appendiceal NET at 25",
        case("appendix", age=25),
        [],
        [],
        "CSCO2021.HER.RED_FLAG_EARLY_AGE",
    ),
    (
        "red flag: multiple ileal NETs",
        case("ileum", n=4),
        [],
        [],
        "CSCO2021.HER.RED_FLAG_MULTIPLE_PRIMARIES",
    ),
    (
        "red flag: relative with a NEN",
        case("ileum", family=[{"relation": "first_degree", "has_nen": True}]),
        [],
        [],
        "CSCO2021.HER.RED_FLAG_FAMILY",
    ),
]


@pytest.mark.parametrize(
    ("data", "syndromes", "genes", "rule"),
    [pytest.param(d, s, g, r, id=name) for name, d, s, g, r in TRIGGERS],
)
def test_trigger(data: dict[str, Any], syndromes: list[str], genes: list[str], rule: str) -> None:
    h, _ = run(data)
    assert h["status"] == "DETERMINED"
    assert h["testing_recommended"] is True
    assert rule in h["rule_ids"]
    assert h["syndromes"] == syndromes
    assert h["genes"] == genes
    assert len(h["because"]) >= len(h["rule_ids"])


def test_pheochromocytoma_adds_sdhx_as_unconfirmed() -> None:
    h, _ = run(case("rectum", history={"pheochromocytoma_paraganglioma": True}))
    assert h["rule_ids"] == ["CSCO2021.HER.PHEO", "CSCO2021.HER.PHEO_SDHX"]
    assert h["syndromes"] == ["MEN2", "VHL", "NF1", "SDHx"]
    assert h["genes"] == ["RET", "VHL", "NF1", "SDHB", "SDHD", "SDHC", "SDHA"]
    assert kb().rule_status["CSCO2021.HER.PHEO_SDHX"] == "unconfirmed"
    assert kb().rule_status["CSCO2021.HER.PHEO"] == "confirmed"


def test_because_names_the_values_read() -> None:
    h, _ = run(case("duodenum", age=39))
    assert any("age_years=39" in b and "site_group=duodenum" in b for b in h["because"])


# --- boundaries and negatives ------------------------------------------------------------


@pytest.mark.parametrize(("age", "expected"), [(39, True), (40, False)])
def test_unifocal_pnet_age_boundary(age: int, expected: bool) -> None:
    h, _ = run(case(age=age))
    assert h["status"] == "DETERMINED"
    assert h["testing_recommended"] is expected
    assert ("CSCO2021.HER.DP_NET_UNDER_40" in h["rule_ids"]) is expected


@pytest.mark.parametrize(("age", "expected"), [(39, True), (40, False)])
def test_phpt_age_boundary(age: int, expected: bool) -> None:
    h, _ = run(case("ileum", age=age, history={"primary_hyperparathyroidism": True}))
    assert h["testing_recommended"] is expected


def test_single_pnet_is_not_multifocal() -> None:
    h, _ = run(case(n=1))
    assert "CSCO2021.HER.MULTIFOCAL_DP_NET" not in h["rule_ids"]


def test_family_history_null_vs_empty() -> None:
    recorded, _ = run(case(family=[]))
    assert recorded["status"] == "DETERMINED" and recorded["testing_recommended"] is False

    data = case()
    del data["clinical"]["family_history"]  # null: not recorded
    h, ctx = run(data)
    assert h["status"] == "INSUFFICIENT_DATA"
    assert h["testing_recommended"] is None
    issue = next(i for i in ctx.issues if i["code"] == "HEREDITARY_NEEDS_DATA")
    assert issue["fields"] == ["clinical.family_history"]
    assert issue["kind"] == "insufficient_data"


def test_age_unknown_for_unifocal_pnet_is_insufficient() -> None:
    h, ctx = run(case(age=None))
    assert h["status"] == "INSUFFICIENT_DATA"
    issue = next(i for i in ctx.issues if i["code"] == "HEREDITARY_NEEDS_DATA")
    assert issue["fields"] == ["patient.age_years"]
    assert "CSCO2021.HER.DP_NET_UNDER_40" in issue["details"]["rules"]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_needs_data_text_names_syndromes_not_rule_ids(lang: str) -> None:
    """The reader sees what may be involved (syndromes, or a family variant / red flag), never
    rule ids; the ids stay in the details for programs."""
    data = case("rectum", negative=False, family=[])
    other = kb().catalog.text(lang, "hereditary.possible.other")
    for family_recorded in (True, False):
        if not family_recorded:
            del data["clinical"]["family_history"]  # relatives' variants and NENs now open
        a = nenguide.assess(parse_case(data), kb(), as_of=dt.date(2026, 11, 23), lang=lang)
        issue = next(i for i in a.issues if i["code"] == "HEREDITARY_NEEDS_DATA")
        assert "CSCO2021." not in issue["message"]
        assert "MEN2" in issue["message"] and "VHL" in issue["message"]
        # rules that name no syndrome (a relative's variant, red flags) read as plain words
        assert (other in issue["message"]) is not family_recorded
        assert any(r.startswith("CSCO2021.HER.") for r in issue["details"]["rules"])


def test_unknown_history_is_named_never_assumed_absent() -> None:
    h, ctx = run(case("rectum", negative=False, family=[]))
    assert h["status"] == "INSUFFICIENT_DATA"
    fields = next(i for i in ctx.issues if i["code"] == "HEREDITARY_NEEDS_DATA")["fields"]
    for f in (
        "clinical.history.primary_hyperparathyroidism",
        "clinical.history.medullary_thyroid_carcinoma",
        "clinical.history.pheochromocytoma_paraganglioma",
    ):
        assert f in fields


def test_further_triggers_unknown_when_testing_already_recommended() -> None:
    data = case(n=2)
    del data["clinical"]["family_history"]
    h, ctx = run(data)
    assert h["testing_recommended"] is True
    issue = next(i for i in ctx.issues if i["code"] == "HEREDITARY_FURTHER_TRIGGERS_UNKNOWN")
    assert issue["kind"] == "info"
    assert "clinical.family_history" in issue["fields"]


def test_nec_is_not_a_men1_tumour() -> None:
    h, _ = run(case(age=30, diff="poor", n=2))
    assert h["testing_recommended"] is False


def test_type1_gastric_multifocal_is_not_a_trigger() -> None:
    h, _ = run(case("stomach", n=5, history={"autoimmune_atrophic_gastritis": True}))
    assert h["status"] == "DETERMINED" and h["testing_recommended"] is False


def test_gastric_multifocal_with_gastritis_unknown_is_insufficient() -> None:
    hist = {
        k: v for k, v in NEGATIVE_HISTORY.items() if "gastritis" not in k and "anaemia" not in k
    }
    data = case("stomach", n=5, negative=False, history=hist, family=[])
    h, ctx = run(data)
    assert h["status"] == "INSUFFICIENT_DATA"
    fields = next(i for i in ctx.issues if i["code"] == "HEREDITARY_NEEDS_DATA")["fields"]
    assert "clinical.history.autoimmune_atrophic_gastritis" in fields


def test_second_degree_relative_variant_is_not_the_targeted_trigger() -> None:
    h, _ = run(case(family=[{"relation": "second_degree", "pathogenic_variant_gene": "MEN1"}]))
    assert "CSCO2021.HER.RELATIVE_VARIANT" not in h["rule_ids"]


# --- gastrinoma from the functional-syndrome step -----------------------------------------


@pytest.mark.parametrize(
    ("status", "zes", "expected"),
    [
        ("confirmed", None, True),
        ("suspected", None, True),
        ("suspected", False, True),  # a positive wins over a stale "absent"
        ("excluded", None, False),
        ("insufficient_data", False, False),
        ("insufficient_data", None, None),
    ],
)
def test_gastrinoma_from_syndromes(status: str, zes: bool | None, expected: bool | None) -> None:
    hist = {k: v for k, v in NEGATIVE_HISTORY.items() if k != "zollinger_ellison_syndrome"}
    if zes is not None:
        hist["zollinger_ellison_syndrome"] = zes
    data = case(negative=False, history=hist, family=[])
    h, _ = run(data, [syndrome("gastrinoma", status)])
    assert h["testing_recommended"] is expected
    assert ("CSCO2021.HER.GASTRINOMA" in h["rule_ids"]) is bool(expected)


def test_other_syndromes_do_not_count_as_gastrinoma() -> None:
    h, _ = run(case(), [syndrome("insulinoma", "confirmed")])
    assert h["testing_recommended"] is False


# --- tested patients and carriers ---------------------------------------------------------


def test_men1_negative_leaves_cdkn1b() -> None:
    h, _ = run(
        case(
            history={"primary_hyperparathyroidism": True},
            germline=[{"gene": "MEN1", "result": "negative"}],
        )
    )
    assert h["genes"] == ["CDKN1B"]
    assert "MEN1 already tested in the patient: negative" in h["because"]


def test_men1_carrier_gets_thakker_surveillance_and_no_further_genes() -> None:
    h, ctx = run(
        case(
            history={"primary_hyperparathyroidism": True},
            germline=[{"gene": "MEN1", "result": "pathogenic"}],
        )
    )
    assert h["testing_recommended"] is True
    assert "CSCO2021.HER.KNOWN_CARRIER" in h["rule_ids"]
    assert h["syndromes"] == ["MEN1"]
    assert h["genes"] == []  # MEN1 known; CDKN1B not needed
    surv = [r for r in h["rule_ids"] if r.startswith("CSCO2021.HER.SURV.")]
    assert len(surv) == 7 and len(h["surveillance"]) == 7
    assert any("from age 8" in s and "PTH" in s for s in h["surveillance"])
    assert "HEREDITARY_SURVEILLANCE_NOT_ENCODED" not in codes(ctx)


def test_vhl_carrier_surveillance_is_unconfirmed() -> None:
    h, _ = run(case("ileum", germline=[{"gene": "VHL", "result": "likely_pathogenic"}]))
    assert h["syndromes"] == ["VHL"]
    assert "CSCO2021.HER.SURV.VHL_PANCREAS" in h["rule_ids"]
    assert kb().rule_status["CSCO2021.HER.SURV.VHL_PANCREAS"] == "unconfirmed"


def test_ret_carrier_surveillance_not_encoded() -> None:
    h, ctx = run(case("ileum", germline=[{"gene": "RET", "result": "pathogenic"}]))
    assert h["syndromes"] == ["MEN2"] and h["surveillance"] == []
    issue = next(i for i in ctx.issues if i["code"] == "HEREDITARY_SURVEILLANCE_NOT_ENCODED")
    assert issue["details"]["genes"] == ["RET"]


def test_vus_is_not_a_carrier() -> None:
    h, _ = run(case(germline=[{"gene": "MEN1", "result": "vus"}]))
    assert h["testing_recommended"] is False and h["surveillance"] == []


# --- texts and contract ---------------------------------------------------------------------


def test_every_rule_and_code_has_text_in_every_language() -> None:
    k = kb()
    rules = [r.id for t in (T_TRIGGERS, T_SURVEILLANCE) for r in k.tables[t].rows]
    keys = [f"hereditary.rule.{r}" for r in rules] + [f"issue.{c}" for c in ISSUE_KINDS]
    keys += [f"hereditary.syndrome.{s}" for s in ("MEN1", "MEN2", "MEN4", "VHL", "NF1", "TSC")]
    for lang in ("en", "zh-CN"):
        missing = [key for key in keys if not k.catalog.texts[lang].get(key)]
        assert not missing, f"{lang}: {missing}"


def test_tables_belong_to_the_hereditary_step_and_cite_sources() -> None:
    k = kb()
    for t in (T_TRIGGERS, T_SURVEILLANCE):
        assert k.tables[t].spec.step == "hereditary"
        for r in k.tables[t].rows:
            assert r.sources and all(s in k.bibliography for s in r.sources)


def test_assessment_is_language_independent() -> None:
    c = parse_case(case(n=3, history={"primary_hyperparathyroidism": True}))
    en = nenguide.assess(c, kb(), as_of=AS_OF, lang="en").model_dump(mode="json")
    zh = nenguide.assess(c, kb(), as_of=AS_OF, lang="zh-CN").model_dump(mode="json")
    assert en["hereditary"] == zh["hereditary"]
    assert en["hereditary"]["testing_recommended"] is True


# --- properties ------------------------------------------------------------------------------

SITES = ["stomach", "duodenum", "ampulla", "ileum", "appendix", "rectum", "pancreas", "lung"]
HISTORY_KEYS = sorted(NEGATIVE_HISTORY)

member = st.fixed_dictionaries(
    {"relation": st.sampled_from(["first_degree", "second_degree"])},
    optional={
        "findings": st.lists(
            st.sampled_from(["primary_hyperparathyroidism", "pituitary_adenoma"]), unique=True
        ),
        "has_nen": st.booleans(),
        "pathogenic_variant_gene": st.sampled_from(["MEN1", "VHL", "RET"]),
    },
)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    data = case(
        draw(st.sampled_from(SITES)),
        age=draw(st.none() | st.integers(10, 90)),
        n=draw(st.none() | st.integers(1, 4)),
        diff=draw(st.none() | st.sampled_from(["well", "poor"])),
        history=draw(st.dictionaries(st.sampled_from(HISTORY_KEYS), st.booleans())),
        negative=False,
    )
    fam = draw(st.none() | st.lists(member, max_size=2))
    if fam is None:
        data["clinical"].pop("family_history", None)
    else:
        data["clinical"]["family_history"] = fam
    return data


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cases(), st.sampled_from(POSITIVE_FINDINGS))
def test_adding_a_positive_finding_never_withdraws_testing(
    data: dict[str, Any], finding: str
) -> None:
    before, _ = run(data)
    more = copy.deepcopy(data)
    more["clinical"]["history"][finding] = True
    after, _ = run(more)
    if before["testing_recommended"] is True:
        assert after["testing_recommended"] is True
        assert set(before["rule_ids"]) <= set(after["rule_ids"])


@SETTINGS
@given(cases(), member)
def test_adding_a_relative_never_withdraws_testing(
    data: dict[str, Any], relative: dict[str, Any]
) -> None:
    before, _ = run(data)
    more = copy.deepcopy(data)
    more["clinical"]["family_history"] = [*(data["clinical"].get("family_history") or []), relative]
    after, _ = run(more)
    if before["testing_recommended"] is True:
        assert after["testing_recommended"] is True


def _complete(data: dict[str, Any], *, positive: bool) -> dict[str, Any]:
    """Fill every unknown input the step reads, towards (positive) or away from a trigger."""
    out = copy.deepcopy(data)
    hist = out["clinical"]["history"]
    for k in HISTORY_KEYS:
        if k not in hist:
            hist[k] = positive if k in POSITIVE_FINDINGS else not positive
    out["patient"].setdefault("age_years", 20 if positive else 70)
    out["tumour"].setdefault("number_of_tumours", 3 if positive else 1)
    if "differentiation" not in out["pathology"]:
        out["pathology"]["differentiation"] = "well"
    if out["clinical"].get("family_history") is None:
        out["clinical"]["family_history"] = (
            [{"relation": "first_degree", "has_nen": True, "pathogenic_variant_gene": "MEN1"}]
            if positive
            else []
        )
    elif positive:
        # a relative recorded with what they have left unknown is an unknown input too (the
        # strategy draws such relatives; completed only towards the trigger, as above)
        for relative in out["clinical"]["family_history"]:
            relative.setdefault("has_nen", True)
            if relative.get("pathogenic_variant_gene") is None:
                relative["pathogenic_variant_gene"] = "MEN1"
    return out


@SETTINGS
@given(cases())
def test_unknown_input_never_yields_not_recommended(data: dict[str, Any]) -> None:
    h, _ = run(data)
    if h["testing_recommended"] is False:
        # "not recommended" must hold whatever the missing inputs turn out to be
        assert h["status"] == "DETERMINED"
        assert run(_complete(data, positive=True))[0]["testing_recommended"] is False
    if h["testing_recommended"] is None:
        # the missing data matter: some completion recommends testing
        assert h["status"] == "INSUFFICIENT_DATA"
        assert run(_complete(data, positive=True))[0]["testing_recommended"] is True


def test_a_syndrome_diagnosed_clinically_is_named_by_its_history_item() -> None:
    """The feature tables read whether VHL, NF1 or TSC was diagnosed clinically (``dx_*``, from
    the history); asked for, that input names its history item, not the family history."""
    from nenguide.engine.hereditary import fields_of_input

    kb = load_knowledge()
    for feature, item in (
        ("vhl_feature", "vhl_disease"),
        ("nf1_stigmata", "neurofibromatosis_type_1"),
        ("tsc_feature", "tuberous_sclerosis_complex"),
    ):
        named = fields_of_input({}, kb, feature)  # every input unknown
        assert f"clinical.history.{item}" in named
        assert "clinical.family_history" not in named
