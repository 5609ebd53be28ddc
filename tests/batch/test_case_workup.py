"""The work-up step's key as columns (``nenguide.batch.columnar.case_workup``): on every case
the columns read, equal to the key the batch's work-up program works out case by case from
the engine's facts (the table's outcome on its view: the rows that apply and that wait; and,
for each investigation those rows name, whether it was done)."""

from __future__ import annotations

from typing import Any

from case_lines import (
    case_line,
    contradiction_lines,
    varied_clinical,
    varied_sections,
    vignette_lines,
)
from engine_phase2 import phase2_columns
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_workup import BLOCK, workup_key
from nenguide.batch.synth import generate
from nenguide.engine.kb import Knowledge
from nenguide.engine.table_eval import compiled_collect
from nenguide.engine.workup import STEP, workup_facts


def _program_key(kb: Knowledge, facts: Any) -> tuple[int, int, dict[str, bool]]:
    """What the batch's work-up program keys a case by (``WorkupProgram.step``): the rows
    that apply, the rows that wait, and whether each investigation they name was done."""
    table = kb.tables[kb.pathway.table(STEP, "items")]
    got = compiled_collect(table, tuple(map(workup_facts(facts).get, table.names)))
    assert got is not None
    applies, waits = (got, 0) if type(got) is int else (got[0], got[1])
    named = {
        str(d)
        for j, row in enumerate(table.rows)
        if (applies | waits) >> j & 1
        for k in ("done_if_any", "done_if_all")
        for d in row.then.get(k) or ()
    }
    return applies, waits, {d: d in facts.done for d in named}


def _check(kb: Knowledge, lines: list[str]) -> tuple[int, int]:
    """(compared, of which with an investigation read) of the lines the columns read."""
    cols = phase2_columns(kb, lines)
    if cols is None:
        return 0, 0
    ready, p, engine, facts = cols.ready, cols.phase1, cols.engine, cols.facts
    key = workup_key(facts, p.done, kb)
    compared = read_done = 0
    for case, e, row, per_case in zip(
        ready, engine, key.frame.to_dicts(), p.per_case.to_list(), strict=True
    ):
        if per_case or e.open:
            continue
        applies, waits, done = _program_key(kb, e.after)
        blocks = range(0, len(kb.tables[kb.pathway.table(STEP, "items")].rows), BLOCK)
        why = case.model_dump_json()
        assert sum(row[f"applies_{b}"] << b for b in blocks) == applies, why
        assert sum(row[f"waits_{b}"] << b for b in blocks) == waits, why
        got = {d: row[f"done_{d}"] for d in key.investigations if row[f"done_{d}"] is not None}
        assert got == done, why
        compared += 1
        read_done += bool(done)
    return compared, read_done


def test_every_vignette_as_the_program(kb: Knowledge) -> None:
    compared, read_done = _check(kb, vignette_lines())
    assert compared >= 250 and read_done >= 100, (compared, read_done)


def test_generated_cases_as_the_program(kb: Knowledge) -> None:
    lines = [case_line(g.case) for g in generate(3000, seed=37)]
    lines += contradiction_lines(1000, seed=7)
    compared, read_done = _check(kb, lines)
    assert compared >= 3000 and read_done >= 1000, (compared, read_done)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.one_of(varied_clinical(), varied_sections()), min_size=1, max_size=8))
def test_varied_cases_as_the_program(kb: Knowledge, lines: list[str]) -> None:
    _check(kb, lines)
