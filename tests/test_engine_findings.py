"""Issue 7: each finding of the engine review has a test that failed before the fix.

Finding 1 (shared mutable results) is here; the others follow the same pattern: reproduce the
observed behaviour on a real case, then assert the fixed behaviour.
"""

from __future__ import annotations

import copy
import datetime as dt
import pickle
from pathlib import Path

import pytest
import yaml

from nenguide import assess
from nenguide.engine.kb import Knowledge
from nenguide.model.case import Case

AS_OF = dt.date(2026, 11, 23)
EXAMPLES = Path(__file__).resolve().parent.parent / "src" / "nenguide" / "examples"


def _case(name: str) -> Case:
    data = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    return Case.model_validate(data.get("case", data))


# --- finding 1: shared mutable results ------------------------------------------------------


def test_mutating_a_result_cannot_change_a_later_assessment(kb: Knowledge) -> None:
    case = _case("pnet-g2-liver.yaml")
    a = assess(case, kb, as_of=AS_OF)
    before = a.model_dump(mode="json")
    assert a.issues and a.trace and a.treatment
    # every part a caller could format in place refuses the change ...
    with pytest.raises(TypeError):
        a.issues[0]["message"] = "X"
    with pytest.raises(TypeError):
        a.trace[0]["inputs"]["x"] = 1
    with pytest.raises(TypeError):
        a.trace[0]["rule_ids"].append("X")
    with pytest.raises(TypeError):
        a.issues.append(a.issues[0])
    with pytest.raises(TypeError):
        a.treatment[0]["caveats"].append("X")
    with pytest.raises(TypeError):
        a.stage.possible["t"] = ["T9"]
    # ... and the next assessment of the same case is unchanged
    b = assess(case, kb, as_of=AS_OF)
    assert b.model_dump(mode="json") == before
    assert b.issues[0]["message"] != "X"


def test_frozen_results_copy_pickle_and_serialise(kb: Knowledge) -> None:
    a = assess(_case("gastric-net-type1.yaml"), kb, as_of=AS_OF)
    mutable = copy.deepcopy(a.model_dump())
    mutable["issues"].append({"code": "X"})  # a plain copy is the caller's to change
    assert pickle.loads(pickle.dumps(a)).model_dump() == a.model_dump()
    assert a.model_dump_json()  # no serializer warnings turned into errors


# --- finding 2: one definition per clinical fact ---------------------------------------------


def _raw(**clinical: object) -> Case:
    return Case.model_validate(
        {
            "patient": {"age_years": 60, "ecog": 0},
            "tumour": {"primary_site": "stomach", "size_cm": 0.8, "extent": "submucosa"},
            "regional_nodes": {"status": "negative"},
            "metastases": {"status": "none"},
            "pathology": {"differentiation": "well", "ki67_percent": 1, "mitoses_per_2mm2": 1},
            "staging_basis": "clinical",
            "clinical": {
                "resection": {"performed": True, "margin": "R0", "date": "2026-06-30"},
                **clinical,
            },
        }
    )


def _inputs(a: object, table_suffix: str) -> list[dict[str, object]]:
    return [t["inputs"] for t in a.trace if (t["table"] or "").endswith(table_suffix)]  # type: ignore[attr-defined]


def test_gastric_cause_conflict_is_one_item_seen_by_every_step(kb: Knowledge) -> None:
    """AAG and ZES both recorded: treatment reported a conflict while follow-up silently chose
    the type 1 schedule. Now: one CONFLICT, and follow-up does not pick a gastric type."""
    a = assess(
        _raw(history={"autoimmune_atrophic_gastritis": True, "zollinger_ellison_syndrome": True}),
        kb,
        as_of=AS_OF,
    )
    conflicts = [i for i in a.issues if i["code"] == "TX_GASTRIC_CAUSE_CONFLICT"]
    assert len(conflicts) == 1
    assert a.follow_up is not None
    assert a.follow_up["rule_id"] != "CSCO2021.FOLLOWUP.SCHEDULE.GASTRIC_TYPE1"
    assert all(i.get("gastric_type") is None for i in _inputs(a, "FOLLOWUP.SCHEDULE"))
    # the cause table is evaluated once per case
    assert sum(1 for t in a.trace if t["table"] == "CSCO2021.TX.GASTRIC.CAUSE") == 1


def test_zes_in_the_history_is_read_by_the_syndrome_step(kb: Knowledge) -> None:
    a = assess(_raw(history={"zollinger_ellison_syndrome": True}), kb, as_of=AS_OF)
    gas = [s for s in a.functional_syndromes if s["syndrome"] == "gastrinoma"]
    assert gas and gas[0]["status"] == "confirmed"
    assert "ZES_RECORDED" in gas[0]["criteria_met"]


def test_functional_status_is_one_fact_for_treatment_and_follow_up(kb: Knowledge) -> None:
    """Weight loss recorded, no syndrome: treatment said 'unknown', follow-up 'non-functional'.
    Now both read the one FUNCTIONAL fact."""
    case = Case.model_validate(
        {
            "patient": {"age_years": 50, "ecog": 0},
            "tumour": {"primary_site": "pancreas", "size_cm": 1.5,
                       "extent": "confined_to_pancreas"},
            "regional_nodes": {"status": "negative"},
            "metastases": {"status": "none"},
            "pathology": {"differentiation": "well", "ki67_percent": 1, "mitoses_per_2mm2": 1},
            "staging_basis": "clinical",
            "clinical": {"symptoms": {"weight_loss": True}, "resection": {"performed": False},
                         "primary_resectability": "resectable"},
        }
    )  # fmt: skip
    a = assess(case, kb, as_of=AS_OF)
    seen = {
        t["step"]: t["inputs"]["functional"]
        for t in a.trace
        if "functional" in t["inputs"] and t["step"] in ("treatment", "follow_up")
    }
    assert set(seen) == {"treatment", "follow_up"}
    assert len(set(seen.values())) == 1, seen
    assert sum(1 for t in a.trace if t["table"] == "CSCO2021.FACT.FUNCTIONAL") == 1


# --- finding 3: clinical thresholds in tables, not Python -------------------------------------


@pytest.mark.parametrize(
    ("table", "row"),
    [
        ("CSCO2021.FACT.SSTR_POSITIVE", "CSCO2021.FACT.SSTR_POSITIVE.KRENNING_UPTAKE"),
        ("CSCO2021.FACT.GASTRIN_STATUS", "CSCO2021.FACT.GASTRIN_STATUS.HIGH"),
        ("CSCO2021.FACT.RELATIVE_MEN1", "CSCO2021.FACT.RELATIVE_MEN1.CLINICAL"),
        ("CSCO2021.FACT.VHL_FEATURE", "CSCO2021.FACT.VHL_FEATURE.CCRCC"),
        ("CSCO2021.FACT.NF1_STIGMATA", "CSCO2021.FACT.NF1_STIGMATA.NEUROFIBROMAS"),
        ("CSCO2021.FACT.TSC_FEATURE", "CSCO2021.FACT.TSC_FEATURE.TUBERS"),
    ],
)
def test_thresholds_are_table_rows(kb: Knowledge, table: str, row: str) -> None:
    assert row in {r.id for r in kb.tables[table].rows}
    assert table in kb.pathway.tables("facts", "case")


def test_krenning_threshold_is_read_from_the_table(kb: Knowledge) -> None:
    """Krenning 1 with no stated result: SSTR-positive by the table's row (was `>= 1` in code)."""
    from dataclasses import replace

    from nenguide.engine.tables import compile_table

    case = _raw(investigations=[{"kind": "sstr_pet", "krenning_score": 1}])
    a = assess(case, kb, as_of=AS_OF)
    hit = [t for t in a.trace if t["table"] == "CSCO2021.FACT.SSTR_POSITIVE"]
    assert hit[0]["rule_ids"] == ["CSCO2021.FACT.SSTR_POSITIVE.KRENNING_UPTAKE"]
    assert hit[0]["result"] is True
    # an editor who moves the threshold to 2 changes the answer, without touching Python
    spec = kb.tables["CSCO2021.FACT.SSTR_POSITIVE"].spec
    rows = [
        r.model_copy(update={"when": {**r.when, "sstr_krenning_score": {"ge": 2}}})
        if r.id.endswith("KRENNING_UPTAKE")
        else r.model_copy(update={"when": {**r.when, "sstr_krenning_score": {"lt": 2}}})
        if r.id.endswith("KRENNING_NONE")
        else r
        for r in spec.rows
    ]
    edited = replace(
        kb,
        tables={**kb.tables, spec.id: compile_table(spec.model_copy(update={"rows": rows}))},
        memo={},
        rule_status=dict(kb.rule_status),
    )
    b = assess(case, edited, as_of=AS_OF)
    hit = [t for t in b.trace if t["table"] == "CSCO2021.FACT.SSTR_POSITIVE"]
    assert hit[0]["result"] is False


# --- finding 4: steps never change the facts another step reads --------------------------------


def test_step_order_does_not_change_answers(kb: Knowledge) -> None:
    """Stage used to null contradicted facts in a shared dict, so a step run before it saw
    other values than one run after it. The facts are immutable now; the contradiction is
    settled once by the fact layer."""
    from nenguide.engine.classify import classify
    from nenguide.engine.context import Context
    from nenguide.engine.fact_layer import case_facts
    from nenguide.engine.liver import liver_type
    from nenguide.engine.stage import stage

    case = Case.model_validate(
        {
            "tumour": {"primary_site": "pancreas", "size_cm": 3, "extent": "confined_to_pancreas"},
            "pathology": {"differentiation": "well", "ki67_percent": 5},
            "regional_nodes": {"status": "negative"},
            "metastases": {"status": "none", "liver": {"lesion_count": 3}},
        }
    )
    ctx1 = Context(kb, "en")
    f1 = case_facts(ctx1, case)
    snapshot = dict(f1)
    cls = classify(ctx1, f1, case)
    liver_first = liver_type(ctx1, f1, cls)
    stage(ctx1, f1, case, cls)
    liver_after = liver_type(ctx1, f1, cls)
    assert liver_first == liver_after
    assert dict(f1) == snapshot  # no step changed the facts
    with pytest.raises(TypeError):
        f1["met_status"] = None  # type: ignore[index]
    conflicts = [i for i in ctx1.issues if i["code"] == "CONFLICT_METASTASIS_STATUS"]
    assert len(conflicts) == 1


# --- finding 6 (part): a missing text is an error, never printed as its key ----------------------


def test_a_missing_text_is_an_error_not_the_key(kb: Knowledge) -> None:
    import io

    from rich.console import Console

    from nenguide.engine.kb import MissingTextError
    from nenguide.engine.lint import emitted_text_keys
    from nenguide.report.text import render_text

    with pytest.raises(MissingTextError):
        kb.catalog.text("en", "step.no_such_step")
    assert {"step.hereditary", "step.facts", "step.treatment"} <= emitted_text_keys(kb)
    for lang in ("en", "zh-CN"):
        console = Console(file=io.StringIO(), width=100, record=True, color_system=None)
        a = assess(_case("men1-young-multifocal-pnet.yaml"), kb, as_of=AS_OF, lang=lang)
        render_text(a, kb.catalog, console)
        text = console.export_text()
        assert "step.hereditary" not in text and "step." not in text


def test_no_step_reads_case_clinical() -> None:
    """Only the fact layer reads ``case.clinical`` (once, in ``case_facts``; ``case_input``
    reshapes the section it is handed); the steps read facts."""
    import ast

    engine = Path(__file__).resolve().parent.parent / "src" / "nenguide" / "engine"
    allowed = {"fact_layer.py"}
    found = []
    for path in sorted(engine.glob("*.py")):
        if path.name in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "clinical"
                and not (isinstance(node.value, ast.Name) and node.value.id == "StagingBasis")
            ):
                found.append(f"{path.name}:{node.lineno}")
    assert not found, found


def test_the_memo_holds_only_immutable_values(kb: Knowledge) -> None:
    """Everything the shared memo hands out is immutable (table results, issues, trace)."""
    from nenguide.engine.tables import CollectResult, TableResult
    from nenguide.model.frozen import FrozenDict

    assess(_case("pnet-g2-liver.yaml"), kb, as_of=AS_OF)
    for key, value in list(kb.memo.items()):
        items = value if isinstance(value, tuple) else (value,)
        for v in items:
            if isinstance(v, TableResult | CollectResult):
                with pytest.raises((AttributeError, TypeError)):
                    v.value = 1  # type: ignore[misc, union-attr]
                assert isinstance(v.read, FrozenDict)
            elif isinstance(v, dict):
                assert isinstance(v, FrozenDict), key


def test_the_texts_every_assessment_shares_are_read_only(kb: Knowledge) -> None:
    """The language's texts, choice-code texts and template parameters are built once at load
    and shared by every assessment: a caller (a report, an adapter) cannot change them in place
    and so change every later answer."""
    from nenguide.engine.context import Context

    ctx = Context(kb, "en")
    with pytest.raises(TypeError):
        ctx.texts["step.hereditary"] = "X"  # type: ignore[index]
    with pytest.raises(TypeError):
        ctx.codes["NET"] = "X"  # type: ignore[index]
    with pytest.raises(TypeError):
        ctx.params["x"] = None  # type: ignore[index]
    assert Context(kb, "en").texts["step.hereditary"] != "X"
