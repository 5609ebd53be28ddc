"""Issue 7, finding 6: the rule language is documented and checked - every ``then`` key has a
schema per step, input descriptions are required, ranked rows use the ``priority`` policy."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from nenguide.engine.kb import Knowledge
from nenguide.engine.lint import lint
from nenguide.engine.rule_language import THEN_KEYS
from nenguide.engine.tables import InputDomain, compile_table

DOC = Path(__file__).resolve().parent.parent / "docs" / "knowledge-authoring.md"


def _with_table(kb: Knowledge, table_id: str, **update: object) -> Knowledge:
    spec = kb.tables[table_id].spec.model_copy(update=update)
    return replace(
        kb, tables={**kb.tables, table_id: compile_table(spec)}, memo={},
        rule_status=dict(kb.rule_status),
    )  # fmt: skip


def test_the_package_passes_the_rule_language_lint(kb: Knowledge) -> None:
    assert lint(kb).errors == []


def test_an_undocumented_then_key_fails_the_lint(kb: Knowledge) -> None:
    tid = kb.pathway.table("workup", "items")
    spec = kb.tables[tid].spec
    rows = [spec.rows[0].model_copy(update={"then": {**spec.rows[0].then, "urgent": True}})]
    errors = lint(_with_table(kb, tid, rows=rows + list(spec.rows[1:]))).errors
    assert any("'urgent' is not in the workup rule language" in e for e in errors), errors


def test_a_then_value_of_the_wrong_type_fails_the_lint(kb: Knowledge) -> None:
    tid = kb.pathway.table("stage", "system")
    spec = kb.tables[tid].spec
    row = next(r for r in spec.rows if "t_table" in r.then)
    bad = row.model_copy(update={"then": {**row.then, "t_table": "NO.SUCH.TABLE"}})
    rows = [bad if r.id == row.id else r for r in spec.rows]
    errors = lint(_with_table(kb, tid, rows=rows)).errors
    assert any(f"{row.id}: 'then.t_table' must be table" in e for e in errors), errors


def test_an_interval_below_one_month_fails_the_lint(kb: Knowledge) -> None:
    # the follow-up places an extra exam at multiples of its interval: 0 or a negative number
    # of months has no meaning (and no placement); a count is a whole number of at least 1
    tid = kb.pathway.table("follow_up", "extra_exams")
    spec = kb.tables[tid].spec
    for every in (0, -6, True):
        row = spec.rows[0].model_copy(update={"then": {**spec.rows[0].then, "every_months": every}})
        errors = lint(_with_table(kb, tid, rows=[row, *spec.rows[1:]])).errors
        assert any(f"'then.every_months' must be count, got {every!r}" in e for e in errors), every


def test_an_extra_exam_without_its_interval_fails_the_lint(kb: Knowledge) -> None:
    # the interval is the table's, never a default in the engine
    tid = kb.pathway.table("follow_up", "extra_exams")
    spec = kb.tables[tid].spec
    then = {k: v for k, v in spec.rows[0].then.items() if k != "every_months"}
    row = spec.rows[0].model_copy(update={"then": then})
    errors = lint(_with_table(kb, tid, rows=[row, *spec.rows[1:]])).errors
    assert any(f"{row.id}: 'then.exam' needs 'then.every_months'" in e for e in errors), errors


def test_an_input_without_description_fails_the_lint(kb: Knowledge) -> None:
    tid = kb.pathway.table("workup", "items")
    spec = kb.tables[tid].spec
    inputs = {**spec.inputs, "undeclared_fact": InputDomain(type="bool")}
    errors = lint(_with_table(kb, tid, inputs=inputs)).errors
    assert any("input 'undeclared_fact' has no description" in e for e in errors), errors


def test_every_then_key_is_documented_with_an_example() -> None:
    text = DOC.read_text(encoding="utf-8")
    for step, keys in THEN_KEYS.items():
        assert f"### `{step}`" in text
        for key, spec in keys.items():
            assert f"| `{key}` |" in text and f"`{spec.example}`" in text, (step, key)
    assert "`priority`" in text


def test_ranked_tables_use_the_priority_policy(kb: Knowledge) -> None:
    for tid in kb.pathway.tables("functional_syndromes", "syndromes"):
        assert kb.tables[tid].spec.hit_policy == "priority", tid
    for t in kb.tables.values():
        assert t.spec.step in THEN_KEYS, t.id


def test_every_fact_table_output_is_declared(kb: Knowledge) -> None:
    for t in kb.tables.values():
        if t.spec.step == "facts":
            decl = kb.facts.find(t.output)
            assert decl is not None and decl.description, t.id
