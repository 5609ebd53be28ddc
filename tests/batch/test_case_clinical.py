"""The clinical section's reshaping (``engine.case_input.clinical_input``) as Polars
expressions (``nenguide.batch.columnar.case_clinical``, part of step 2 of the columnar fact
layer, ADR 0004): every fact equal to the engine's, on every golden vignette, on generated
cases and on generated cases whose clinical section is redrawn."""

from __future__ import annotations

from typing import Any

import polars as pl
from case_lines import case_line, varied_clinical, vignette_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_arrow import (
    arrow_ready,
    case_schema,
    padded_rows,
    read_lines,
    strict_case,
)
from nenguide.batch.columnar.case_clinical import clinical_columns
from nenguide.batch.synth import generate
from nenguide.engine.case_input import clinical_input
from nenguide.model.clinical import Symptom

_SYMPTOMS = {f"sym_{s.value}" for s in Symptom}


def _same(engine: Any, column: Any) -> bool:
    """A fact's value from the engine and from the columns: equal, a set as a set, a flag
    never taken for a number (True == 1 in Python)."""
    if isinstance(engine, frozenset):
        return column is not None and engine == frozenset(column)
    if isinstance(engine, bool) or isinstance(column, bool):
        return type(engine) is type(column) and engine == column
    return engine == column


def _check(lines: list[str]) -> int:
    """Compares the columns with the engine on each line the columns read; how many."""
    s = case_schema()
    ready, read = [], []
    for line in lines:
        case = strict_case(line)
        if case is not None and arrow_ready(case, s, line):
            ready.append(case)
            read.append(line)
    if not ready:
        return 0
    table = read_lines(read, s)
    keep = [not p for p in padded_rows(table, s).to_list()]  # a padded row: the per-case path
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    got = clinical_columns(frame)
    n = 0
    for case, row, ok in zip(ready, got.to_dicts(), keep, strict=True):
        if not ok:
            continue
        want = clinical_input(case, case.clinical)
        # every fact the engine makes is a column; a symptom not recorded is a null column
        assert set(want) <= set(row) and set(row) - set(want) <= _SYMPTOMS
        diffs = {k: (want.get(k), row[k]) for k in row if not _same(want.get(k), row[k])}
        assert not diffs, (case.model_dump_json(), diffs)
        n += 1
    return n


def test_every_vignette_reshapes_as_the_engine() -> None:
    lines = vignette_lines()
    assert _check(lines) >= len(lines) - 20


def test_generated_cases_reshape_as_the_engine() -> None:
    lines = [case_line(g.case) for g in generate(3000, seed=23)]
    assert _check(lines) == len(lines)


_CHECKED: list[tuple[int, int]] = []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(varied_clinical(), min_size=1, max_size=10))
def test_varied_clinical_sections_reshape_as_the_engine(lines: list[str]) -> None:
    _CHECKED.append((_check(lines), len(lines)))


def test_the_varied_clinical_sections_were_mostly_compared() -> None:
    """The varied lines are mostly valid cases the columns read (not all refused)."""
    if not _CHECKED:  # run alone
        test_varied_clinical_sections_reshape_as_the_engine()
    compared, total = map(sum, zip(*_CHECKED, strict=True))
    assert compared >= 0.5 * total, (compared, total)


def test_platinum_courses_as_the_engine() -> None:
    """Months to progression after platinum-etoposide: the longest over the courses that
    progressed, unknown when one of them has none; each way through the columns as the engine
    (the drawn sections seldom give two such courses)."""
    base = next(iter(generate(1, seed=3))).case
    courses = [
        [(True, 3.0), (True, 9.0)],
        [(True, 9.0), (True, 3.0), (False, 20.0)],
        [(True, 3.0), (True, None)],
        [(None, 3.0), (False, 9.0)],
        [(False, 3.0)],
    ]
    lines = [
        case_line(
            {
                **base,
                "clinical": {
                    "prior_therapies": [
                        {
                            "therapy": "platinum_etoposide",
                            "progressed": p,
                            "months_to_progression": m,
                        }
                        for p, m in c
                    ]
                },
            }
        )
        for c in courses
    ]
    assert _check(lines) == len(lines)
