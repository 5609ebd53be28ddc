"""Issue 7, finding 3 (the rest): the clinical derivations the fact layer used to compute in
Python are rows of fact tables now - symptom combinations, the MEN1 manifestations counted in
the patient and in each relative, and the precedence between the sources of the node status.

Each test assesses a case with the bundled package, then edits one row of the fact table in an
in-memory copy of the package and sees the answer move, without touching Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from nenguide import assess
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts
from nenguide.engine.kb import Knowledge
from nenguide.engine.tables import RowSpec, compile_table
from nenguide.errors import parse_case
from nenguide.model.case import Case

AS_OF = dt.date(2026, 11, 23)


def _edited(kb: Knowledge, table_id: str, edit: Callable[[RowSpec], RowSpec | None]) -> Knowledge:
    """``kb`` with every row of ``table_id`` passed through ``edit`` (None drops the row)."""
    spec = kb.tables[table_id].spec
    rows = [r2 for r in spec.rows if (r2 := edit(r)) is not None]
    table = compile_table(spec.model_copy(update={"rows": rows}))
    return replace(
        kb, tables={**kb.tables, table_id: table}, memo={}, rule_status=dict(kb.rule_status)
    )


def _then(kb: Knowledge, table_id: str, row_suffix: str, then: dict[str, Any]) -> Knowledge:
    """``kb`` with the output of the row of ``table_id`` whose id ends in ``row_suffix``
    replaced by ``then`` (an editor changing one row's answer)."""
    return _edited(
        kb,
        table_id,
        lambda r: r.model_copy(update={"then": then}) if r.id.endswith(row_suffix) else r,
    )


def _case(**parts: Any) -> Case:
    base: dict[str, Any] = {
        "patient": {"age_years": 60, "sex": "female", "ecog": 0},
        "tumour": {"primary_site": "pancreas", "size_cm": 2.5, "extent": "confined_to_pancreas"},
        "pathology": {"differentiation": "well", "ki67_percent": 4, "mitoses_per_2mm2": 1},
        "regional_nodes": {"status": "negative"},
        "metastases": {"status": "none"},
        "staging_basis": "clinical",
        "clinical": {"resection": {"performed": False}, "primary_resectability": "resectable"},
    }
    for k, v in parts.items():
        base[k] = {**base[k], **v} if isinstance(base.get(k), dict) else v
    return parse_case(base)


def _fact_rule(a: Any, table_id: str) -> tuple[list[str], Any]:
    hits = [t for t in a.trace if t["table"] == table_id]
    assert hits, f"{table_id} not in the trace"
    return list(hits[0]["rule_ids"]), hits[0]["result"]


def _syndrome(a: Any, name: str) -> str | None:
    return next((s["syndrome"] and s["status"] for s in a.functional_syndromes
                 if s["syndrome"] == name), None)  # fmt: skip


# --- symptom combinations ---------------------------------------------------------------------

T_CARCINOID = "CSCO2021.FACT.CARCINOID_SYMPTOMS"
T_TRIAD = "CSCO2021.FACT.SOMATOSTATINOMA_TRIAD"


def test_carcinoid_symptoms_are_a_table(kb: Knowledge) -> None:
    case = _case(
        tumour={"primary_site": "ileum", "size_cm": 2.0, "extent": "submucosa"},
        clinical={
            "symptoms": {"flushing": True},
            "labs": [
                {
                    "analyte": "hiaa_5_urine_24h",
                    "value": 48,
                    "unit": "mg/(24.h)",
                    "reference_high": 9,
                    "context": {"urine_24h": True, "diet_restricted": True},
                }
            ],
        },
    )
    a = assess(case, kb, as_of=AS_OF)
    assert _fact_rule(a, T_CARCINOID) == ([f"{T_CARCINOID}.FLUSHING"], True)
    assert _syndrome(a, "carcinoid_syndrome") == "confirmed"
    # an editor for whom flushing is not a carcinoid symptom: no longer confirmed
    edited = _then(kb, T_CARCINOID, ".FLUSHING", {"sym_carcinoid": False})
    b = assess(case, edited, as_of=AS_OF)
    assert _syndrome(b, "carcinoid_syndrome") != "confirmed"


def test_somatostatinoma_triad_is_a_table_and_its_trigger(kb: Knowledge) -> None:
    triad = {"new_diabetes": True, "cholelithiasis": True, "steatorrhoea": True}
    case = _case(clinical={"symptoms": triad})
    a = assess(case, kb, as_of=AS_OF)
    assert _fact_rule(a, T_TRIAD) == ([f"{T_TRIAD}.ALL_THREE"], True)
    assert _syndrome(a, "somatostatinoma") == "suspected"  # triggered by the triad fact
    # the row says false: no triad, and (no somatostatin measured) no somatostatinoma listed
    edited = _then(kb, T_TRIAD, ".ALL_THREE", {"sym_somatostatinoma_triad": False})
    b = assess(case, edited, as_of=AS_OF)
    assert _syndrome(b, "somatostatinoma") is None
    # Kleene AND: one recorded absent decides false, one unknown leaves it unknown
    for symptoms, want in (({**triad, "steatorrhoea": False}, False),
                           ({"new_diabetes": True, "cholelithiasis": True}, None)):  # fmt: skip
        f = case_facts(Context(kb, "en"), _case(clinical={"symptoms": symptoms}))
        assert f["sym_somatostatinoma_triad"] is want


# --- node status: which source wins ------------------------------------------------------------

T_NODES = "CSCO2021.FACT.NODE_STATUS"


def test_node_count_precedence_is_a_table(kb: Knowledge) -> None:
    case = _case(regional_nodes={"status": None, "positive": 2, "examined": 10})
    a = assess(case, kb, as_of=AS_OF)
    assert _fact_rule(a, T_NODES) == ([f"{T_NODES}.COUNT_POSITIVE"], "positive")
    assert a.stage.n == "N1"
    # an editor who moves the count cut-off to 3 positive nodes: 2 no longer decides, and with
    # no stated status the node status (and N) is unknown
    edited = _edited(
        kb,
        T_NODES,
        lambda r: (
            r.model_copy(update={"when": {**r.when, "nodes_positive": {"ge": 3}}})
            if r.id.endswith(".COUNT_POSITIVE")
            else r
        ),
    )
    b = assess(case, edited, as_of=AS_OF)
    assert b.stage.n != "N1"
    assert case_facts(Context(edited, "en"), case)["node_status"] is None


def test_a_stated_status_stands_only_without_a_count(kb: Knowledge) -> None:
    f = case_facts(Context(kb, "en"), _case(regional_nodes={"status": "not_assessed"}))
    assert f["node_status"] == "not_assessed"
    f = case_facts(
        Context(kb, "en"), _case(regional_nodes={"status": None, "positive": 0, "examined": 0})
    )
    assert f["node_status"] is None  # 0 of 0 examined is no count


# --- MEN1 major manifestations, counted --------------------------------------------------------

T_MEN1 = "CSCO2021.FACT.MEN1_MAJOR"
T_REL = "CSCO2021.FACT.RELATIVE_MEN1_MAJOR"


def test_men1_manifestations_of_the_patient_are_a_table(kb: Knowledge) -> None:
    case = _case(
        clinical={"history": {"primary_hyperparathyroidism": True, "pituitary_adenoma": False},
                  "family_history": []},
    )  # fmt: skip
    a = assess(case, kb, as_of=AS_OF)
    assert a.hereditary is not None
    assert "CSCO2021.HER.CLINICAL_MEN1" in a.hereditary["rule_ids"]  # PHPT + a pancreatic NET
    rules, _ = _fact_rule(a, T_MEN1)
    assert set(rules) == {f"{T_MEN1}.PARATHYROID", f"{T_MEN1}.DUODENOPANCREATIC_NET"}
    # an editor who counts only duodenal NETs: one manifestation, no clinical MEN1
    edited = _edited(
        kb,
        T_MEN1,
        lambda r: (
            r.model_copy(update={"when": {**r.when, "primary_site": ["duodenum"]}})
            if r.id.endswith(".DUODENOPANCREATIC_NET")
            else r
        ),
    )
    b = assess(case, edited, as_of=AS_OF)
    assert b.hereditary is not None
    assert "CSCO2021.HER.CLINICAL_MEN1" not in b.hereditary["rule_ids"]


def test_men1_manifestations_of_a_relative_are_a_table(kb: Knowledge) -> None:
    relative = {"relation": "first_degree",
                "findings": ["primary_hyperparathyroidism", "pituitary_adenoma"],
                "has_nen": False}  # fmt: skip
    case = _case(clinical={"family_history": [relative]})
    a = assess(case, kb, as_of=AS_OF)
    assert _fact_rule(a, "CSCO2021.FACT.RELATIVE_MEN1")[1] is True
    rules, _ = _fact_rule(a, T_REL)
    assert set(rules) == {f"{T_REL}.PARATHYROID", f"{T_REL}.PITUITARY"}
    # the pituitary no longer counts: one manifestation, no clinical MEN1 in the relative
    edited = _edited(kb, T_REL, lambda r: None if r.id.endswith(".PITUITARY") else r)
    b = assess(case, edited, as_of=AS_OF)
    assert _fact_rule(b, "CSCO2021.FACT.RELATIVE_MEN1")[1] is False
    # a relative whose NEN status is unknown may have one more: the count is a range
    unknown = {**relative, "findings": ["primary_hyperparathyroidism"], "has_nen": None}
    f = case_facts(Context(kb, "en"), _case(clinical={"family_history": [unknown]}))
    assert f["relative_men1"] is None
    assert f["relative_men1_major_max"].values == frozenset({1, 2})
    f = case_facts(Context(kb, "en"), _case())  # family history not recorded: unknown
    assert f["relative_men1_major_max"] is None


# --- phase 2: the gastrinoma, the differentiation, the treatment flags ---------------------------


def test_gastric_cause_from_the_history_is_a_table(kb: Knowledge) -> None:
    case = _case(
        tumour={"primary_site": "stomach", "size_cm": 0.8, "extent": "submucosa"},
        pathology={"differentiation": "well", "ki67_percent": 1, "mitoses_per_2mm2": 1},
        clinical={"history": {"zollinger_ellison_syndrome": True}},
    )
    f = _facts(kb, case)
    assert f["zes_cause"] == "present" and f["gastric_type"] == "type2"
    # an editor for whom a recorded ZES does not establish the cause: the type is no longer 2
    t = "CSCO2021.FACT.ZES_CAUSE"
    edited = _then(kb, t, ".HISTORY", {"zes_cause": "not_recorded"})
    g = _facts(edited, case)
    assert g["zes_cause"] == "not_recorded" and g["gastric_type"] != "type2"


def test_well_differentiated_is_a_table(kb: Knowledge) -> None:
    history = {"primary_hyperparathyroidism": True, "pituitary_adenoma": False}
    case = _case(clinical={"history": history, "family_history": []})
    f = _facts(kb, case)
    assert f["well_differentiated"] is True and f["men1_major_count"] == 2
    t = "CSCO2021.FACT.WELL_DIFFERENTIATED"
    edited = _then(kb, t, ".CATEGORY_WELL", {"well_differentiated": False})
    f = _facts(edited, case)
    assert f["well_differentiated"] is False
    assert f["men1_major_count"] == 1  # the pancreatic tumour no longer counts for MEN1


def test_syndrome_flags_for_treatment_are_a_table(kb: Knowledge) -> None:
    case = _case(clinical={"symptoms": {"flushing": True}})  # carcinoid syndrome suspected
    f = _facts(kb, case)
    assert f["carcinoid_syndrome"] is True and f["insulinoma"] is False
    t = "CSCO2021.FACT.SYNDROME_ACTIVE"
    edited = _edited(
        kb,
        t,
        lambda r: (
            r.model_copy(update={"when": {"syndrome_status": "confirmed"}})
            if r.id.endswith(".YES")
            else r.model_copy(
                update={"when": {"syndrome_status": ["suspected", "excluded", "not_evaluated"]}}
            )
            if r.id.endswith(".NO")
            else r
        ),
    )
    assert _facts(edited, case)["carcinoid_syndrome"] is False  # suspected no longer counts


def _facts(kb: Knowledge, case: Case) -> Any:
    from nenguide.engine.classify import classify
    from nenguide.engine.fact_layer import pathway_facts
    from nenguide.engine.syndromes import functional_syndromes

    ctx = Context(kb, "en")
    f = case_facts(ctx, case)
    cls = classify(ctx, f, case)
    return pathway_facts(ctx, f, cls, functional_syndromes(ctx, case, f, cls))
