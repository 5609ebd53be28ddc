"""Issue 7 ("Clinical derivations are tables; Python only reshapes input"): the last clinical
derivations the engine made in Python are package data now - which prior therapies count as
systemic, which germline results make a carrier, which gastrin result types a gastric NET, the
count of extrathoracic lesions that decides M1b/M1c, and the MEN1 count of a clinical diagnosis.

Each test assesses a case with the bundled package, then edits one row (or the parameter) in an
in-memory copy of the package and sees the answer move, without touching Python (as
tests/test_fact_tables.py does for the earlier fact tables).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from nenguide import assess
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.tables import RowSpec
from nenguide.model.frozen import FrozenDict
from test_fact_tables import _case, _edited, _fact_rule

AS_OF = dt.date(2026, 11, 23)


def _row(rid: str, **update: Any) -> Any:
    """An edit for :func:`_edited`: the row ``rid`` with ``update`` applied, the others as
    they are."""

    def edit(r: RowSpec) -> RowSpec:
        return r.model_copy(update=update) if r.id == rid else r

    return edit


# --- which prior therapies count as systemic ----------------------------------------------------

T_SYSTEMIC = "CSCO2021.FACT.PROGRESSED_ON_SYSTEMIC"
PRRT_PANCREAS = "CSCO2021.TX.NET.PRRT.PANCREAS"


def _advanced_pnet(therapies: list[dict[str, Any]]) -> Any:
    return _case(
        pathology={"differentiation": "well", "ki67_percent": 8, "mitoses_per_2mm2": 1},
        metastases={"status": "present", "liver": {"lesion_count": 4}, "extrahepatic": []},
        clinical={
            "prior_therapies": therapies,
            "investigations": [{"kind": "sstr_pet", "positive": True, "krenning_score": 3,
                                "all_lesions_sstr_positive": True}],
        },
    )  # fmt: skip


def _rules(a: Any) -> set[str]:
    return {r for t in a.trace for r in t["rule_ids"]}


def test_which_therapies_count_as_systemic_is_a_table(kb: Knowledge) -> None:
    case = _advanced_pnet([{"therapy": "everolimus", "progressed": True}])
    a = assess(case, kb, as_of=AS_OF)
    assert _fact_rule(a, T_SYSTEMIC) == ([f"{T_SYSTEMIC}.EVEROLIMUS"], True)
    assert PRRT_PANCREAS in _rules(a)  # PRRT after progression on a systemic line
    # an editor for whom everolimus is no systemic line: its row goes, and so does its
    # condition in the row that says "none"
    none = next(r for r in kb.tables[T_SYSTEMIC].spec.rows if r.id.endswith(".NONE"))
    when = {k: v for k, v in none.when.items() if k != "progressed_on_everolimus"}
    edited = _edited(
        kb,
        T_SYSTEMIC,
        lambda r: None if r.id.endswith(".EVEROLIMUS") else _row(none.id, when=when)(r),
    )
    b = assess(case, edited, as_of=AS_OF)
    assert _fact_rule(b, T_SYSTEMIC) == ([f"{T_SYSTEMIC}.NONE"], False)
    assert PRRT_PANCREAS not in _rules(b)


def test_liver_directed_therapy_is_not_systemic_and_unknown_stays_unknown(kb: Knowledge) -> None:
    ctx = Context(kb, "en")
    liver = _advanced_pnet([{"therapy": "liver_directed", "progressed": True}])
    assert case_facts(ctx, liver)["progressed_on_systemic"] is False
    # a course whose outcome is not recorded leaves it open; no list recorded, too
    open_ = _advanced_pnet([{"therapy": "ssa", "progressed": None}])
    assert case_facts(ctx, open_)["progressed_on_systemic"] is None
    assert case_facts(ctx, _case())["progressed_on_systemic"] is None
    # an editor who counts liver-directed therapy as a line
    extra = RowSpec(
        id=f"{T_SYSTEMIC}.LIVER_DIRECTED",
        when={"progressed_on_liver_directed": True},
        when_text="Progressed on liver-directed therapy",
        then={"progressed_on_systemic": True},
        sources=["tx-csco-s6-drugs"],
    )
    spec = kb.tables[T_SYSTEMIC].spec
    edited = _edited(kb, T_SYSTEMIC, lambda r: r)
    from nenguide.engine.tables import compile_table

    table = compile_table(spec.model_copy(update={
        "rows": [extra, *spec.rows],
        "inputs": {**spec.inputs, "progressed_on_liver_directed": spec.inputs["progressed_on_ssa"]},
    }))  # fmt: skip
    edited = replace(edited, tables={**edited.tables, T_SYSTEMIC: table}, memo={})
    assert case_facts(Context(edited, "en"), liver)["progressed_on_systemic"] is True


# --- who counts as a carrier ------------------------------------------------------------------

T_CARRIER = "CSCO2021.FACT.GERMLINE_CARRIER"


def test_carrier_classes_are_a_table(kb: Knowledge) -> None:
    case = _case(clinical={"germline": [{"gene": "MEN1", "result": "likely_pathogenic"}],
                           "family_history": []})  # fmt: skip
    a = assess(case, kb, as_of=AS_OF)
    assert _fact_rule(a, T_CARRIER) == ([f"{T_CARRIER}.LIKELY_PATHOGENIC"], True)
    assert a.hereditary is not None
    assert "CSCO2021.HER.KNOWN_CARRIER" in a.hereditary["rule_ids"]
    assert a.hereditary["surveillance"]  # the MEN1 carrier programme
    # an editor who counts only pathogenic variants
    edited = _edited(
        kb, T_CARRIER, _row(f"{T_CARRIER}.LIKELY_PATHOGENIC", then={"germline_carrier": False})
    )
    b = assess(case, edited, as_of=AS_OF)
    assert _fact_rule(b, T_CARRIER)[1] is False
    assert b.hereditary is not None
    assert "CSCO2021.HER.KNOWN_CARRIER" not in b.hereditary["rule_ids"]
    assert b.hereditary["surveillance"] == []
    f = case_facts(Context(edited, "en"), case)
    assert (f["carrier"], f["carrier_men1"], f.extra["carriers"]) == (False, False, ())


def test_a_vus_is_no_carrier_unless_the_table_says_so(kb: Knowledge) -> None:
    case = _case(clinical={"germline": [{"gene": "VHL", "result": "vus"},
                                        {"gene": "MEN1", "result": "negative"}]})  # fmt: skip
    f = case_facts(Context(kb, "en"), case)
    assert (f["carrier"], f["carrier_vhl"], f["carrier_men1"]) == (False, False, False)
    edited = _edited(kb, T_CARRIER, _row(f"{T_CARRIER}.VUS", then={"germline_carrier": True}))
    g = case_facts(Context(edited, "en"), case)
    assert (g["carrier"], g["carrier_vhl"], g["carrier_men1"]) == (True, True, False)
    assert g.extra["carriers"] == ("VHL",)


def test_without_a_carrier_table_a_result_decides_nothing(kb: Knowledge) -> None:
    binding = kb.pathway.steps["facts"]
    tables = {k: v for k, v in binding.tables.items() if k != "germline_carrier"}
    steps = {**kb.pathway.steps, "facts": binding.model_copy(update={"tables": tables})}
    unbound = replace(kb, pathway=kb.pathway.model_copy(update={"steps": steps}), memo={})
    case = _case(clinical={"germline": [{"gene": "MEN1", "result": "pathogenic"}]})
    f = case_facts(Context(unbound, "en"), case)
    assert f["carrier"] is None and f.extra["carriers"] == ()  # never guessed
    assert case_facts(Context(unbound, "en"), _case())["carrier"] is False  # no result at all


# --- which gastrin result types a gastric NET ---------------------------------------------------

T_LAB = "CSCO2021.FACT.LAB_DONE"


def _gastric(on_ppi: bool | None) -> Any:
    return _case(
        tumour={"primary_site": "stomach", "size_cm": 0.8, "extent": "submucosa"},
        pathology={"differentiation": "well", "ki67_percent": 1, "mitoses_per_2mm2": 1},
        clinical={"labs": [
            {"analyte": "gastrin", "value": 300, "unit": "pg/mL", "reference_high": 100,
             "context": {"on_ppi": on_ppi}},
            {"analyte": "gastric_ph", "value": 5, "unit": "pH"},
        ]},
    )  # fmt: skip


def _workup(a: Any) -> list[str]:
    return [w["code"] for w in a.workup]


def test_gastrin_off_ppi_counts_as_done_by_a_table(kb: Knowledge) -> None:
    a = assess(_gastric(False), kb, as_of=AS_OF)
    assert _fact_rule(a, T_LAB) == ([f"{T_LAB}.GASTRIN_OFF_PPI"], ["lab:gastrin_off_ppi"])
    assert "WU.GASTRIC_TYPE" not in _workup(a)  # gastrin off PPI and the pH: done
    for on_ppi in (True, None):  # on a PPI, or not recorded: the type work-up stays open
        assert "WU.GASTRIC_TYPE" in _workup(assess(_gastric(on_ppi), kb, as_of=AS_OF))
    # an editor who asks for gastrin drawn off PPIs and fasting
    row = kb.tables[T_LAB].spec.rows[0]
    spec = kb.tables[T_LAB].spec
    from nenguide.engine.tables import InputDomain, compile_table

    table = compile_table(spec.model_copy(update={
        "inputs": {**spec.inputs, "lab_fasting": InputDomain(type="bool", description="fasting")},
        "rows": [row.model_copy(update={"when": {**row.when, "lab_fasting": True}})],
    }))  # fmt: skip
    edited = replace(kb, tables={**kb.tables, T_LAB: table}, memo={})
    assert "WU.GASTRIC_TYPE" in _workup(assess(_gastric(False), edited, as_of=AS_OF))
    # the row as the package writes it, turned round: only a gastrin on a PPI would count
    flipped = _edited(kb, T_LAB, _row(row.id, when={**row.when, "lab_on_ppi": True}))
    assert "WU.GASTRIC_TYPE" in _workup(assess(_gastric(False), flipped, as_of=AS_OF))
    assert "WU.GASTRIC_TYPE" not in _workup(assess(_gastric(True), flipped, as_of=AS_OF))


def test_the_lab_table_is_consulted_only_for_the_analytes_it_names(kb: Knowledge) -> None:
    case = _case(clinical={"labs": [{"analyte": "chromogranin_a", "value": 80, "unit": "ug/L",
                                     "reference_high": 100}]})  # fmt: skip
    a = assess(case, kb, as_of=AS_OF)
    assert not [t for t in a.trace if t["table"] == T_LAB]
    f = case_facts(Context(kb, "en"), case)
    assert "lab:chromogranin_a" in f.done  # the analyte is the test: no row needed


# --- extrathoracic lesions: the M1b/M1c boundary is the M table's alone ------------------------

T_LUNG_M = "CSCO2021.STAGE.LUNG.M"


def _lung(liver: dict[str, Any]) -> Any:
    return _case(
        tumour={"primary_site": "lung", "size_cm": 2.5, "extent": None},
        pathology={"differentiation": "well", "mitoses_per_2mm2": 1, "necrosis": "absent"},
        metastases={"status": "present", "liver": liver, "extrahepatic": []},
    )


def test_a_partial_lesion_count_is_a_range_cut_by_the_m_table(kb: Knowledge) -> None:
    at_least_3 = _lung({"lesion_count_range": {"ge": 3}})
    f = case_facts(Context(kb, "en"), at_least_3)
    lesions = f["extrathoracic_lesions"]
    assert isinstance(lesions, OneOf) and min(lesions.values) == 3
    assert f["extrathoracic_lesions_interval"] == "[3, 1000]"
    assert assess(at_least_3, kb, as_of=AS_OF).stage.m == "M1c"  # multiple: M1c
    # one lesion counted, the count of the liver not given: M1b or M1c (the coarse M1)
    one = _lung({})
    assert assess(one, kb, as_of=AS_OF).stage.m == "M1"
    # an editor who moves the boundary to 4 lesions: "at least 3" no longer settles M1c,
    # and 3 lesions counted are M1b
    edited = _edited(kb, T_LUNG_M, lambda r: (
        r.model_copy(update={"when": {**r.when, "extrathoracic_lesions": {"ge": 4}}})
        if r.id.endswith(".M1C_LESIONS")
        else r.model_copy(update={"when": {**r.when, "extrathoracic_lesions": {"le": 3}}})
        if r.id.endswith(".M1B")
        else r
    ))  # fmt: skip
    edited = replace(edited, package_cache={})  # the range's cut-offs are read per package
    assert assess(at_least_3, edited, as_of=AS_OF).stage.m == "M1"
    assert assess(_lung({"lesion_count": 3}), edited, as_of=AS_OF).stage.m == "M1b"
    assert assess(_lung({"lesion_count": 3}), kb, as_of=AS_OF).stage.m == "M1c"


# --- MEN1 diagnosed clinically: a package parameter --------------------------------------------


def test_the_men1_count_of_a_clinical_diagnosis_is_a_parameter(kb: Knowledge) -> None:
    case = _case(clinical={"history": {"men1_syndrome": True}, "family_history": []})
    a = assess(case, kb, as_of=AS_OF)
    assert kb.parameters["men1_clinical_min_majors"] == 2
    assert a.hereditary is not None
    assert "CSCO2021.HER.CLINICAL_MEN1" in a.hereditary["rule_ids"]
    # an editor who lets a clinical diagnosis count as one major manifestation only: this
    # pancreatic NET alone is then one, below the two of clinical MEN1
    params = FrozenDict({**kb.parameters, "men1_clinical_min_majors": 1})
    b = assess(case, replace(kb, parameters=params, memo={}), as_of=AS_OF)
    assert b.hereditary is not None
    assert "CSCO2021.HER.CLINICAL_MEN1" not in b.hereditary["rule_ids"]
