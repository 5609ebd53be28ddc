"""The columnar backend's column path (cases given with their JSON Lines lines, validated in
strict mode: ``nenguide.batch.columnar.lines``) against the single-case reference: every
column of the flat row equal to :class:`PerCaseBackend`'s, on every vignette, on generated
cases, on cases drawn to contradict themselves or to vary where the columns and the engine
could part; a case whose key's first case the engine raised on is assessed by itself. The
large differential (``NENGUIDE_DIFF_CASES``) is in test_columnar.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import yaml
from case_lines import (
    VIGNETTES,
    case_line,
    contradiction_lines,
    special_lab_lines,
    varied_clinical,
    varied_contradictions,
    varied_germline,
    varied_labs,
    varied_reported,
    varied_sections,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.backend import Failure, PerCaseBackend, Row
from nenguide.batch.columnar import ColumnarBackend
from nenguide.batch.columnar.lines import Answers
from nenguide.batch.rows import plain_case_line
from nenguide.batch.synth import generate
from nenguide.model.case import Case

AS_OF = dt.date(2026, 11, 23)
_BACKENDS: dict[dt.date, tuple[PerCaseBackend, ColumnarBackend]] = {}


def _backends(as_of: dt.date) -> tuple[PerCaseBackend, ColumnarBackend]:
    """One pair per date, kept (the rows do not depend on what a backend assessed before)."""
    if as_of not in _BACKENDS:
        _BACKENDS[as_of] = (PerCaseBackend("csco-2021", as_of), ColumnarBackend("csco-2021", as_of))
    return _BACKENDS[as_of]


def validated(lines: Sequence[str]) -> tuple[list[Case], list[str | None]]:
    """The cases of the valid ``lines`` as the batch validates them, and each one's line where
    it was validated strictly (what the batch runner hands the backend)."""
    cases: list[Case] = []
    strict: list[str | None] = []
    for line in lines:
        got = plain_case_line(line)
        if got is not None:
            cases.append(got.case)
            strict.append(line if got.strict else None)
    return cases, strict


def diff(ref: Sequence[Any], got: Sequence[Any], cases: Sequence[Case]) -> list[str]:
    out = []
    for r, g, c in zip(ref, got, cases, strict=True):
        if r != g:
            cols = sorted(k for k in r if r[k] != g.get(k)) if isinstance(g, dict) else [g]
            out.append(f"{c.model_dump_json(exclude_none=True)[:300]}: {cols}")
    return out


def check(lines: Sequence[str], as_of: dt.date = AS_OF) -> tuple[int, int]:
    """(cases compared, of which the column path assessed) of the valid ``lines``."""
    cases, strict = validated(lines)
    if not cases:
        return 0, 0
    per_case, columnar = _backends(as_of)
    before = columnar.per_case_count
    got = columnar.assess(cases, strict)
    by_itself = columnar.per_case_count - before
    assert diff(per_case.assess(cases), got, cases) == []
    return len(cases), len(cases) - by_itself


def test_every_vignette_gives_the_same_row() -> None:
    by_date: dict[dt.date, list[str]] = {}
    for path in sorted(VIGNETTES.glob("*.yaml")):
        v = yaml.safe_load(path.read_text(encoding="utf-8"))
        a = v.get("as_of", AS_OF)
        as_of = a if isinstance(a, dt.date) else dt.date.fromisoformat(str(a))
        by_date.setdefault(as_of, []).append(case_line({**v["case"], "case_id": v["id"]}))
    total = columns = 0
    for as_of, lines in by_date.items():
        n, c = check(lines, as_of)
        total, columns = total + n, columns + c
    assert total >= 200 and columns >= 0.5 * total, (total, columns)


def test_generated_and_contradicting_cases_give_the_same_row() -> None:
    lines = [case_line(g.case) for g in generate(3000, seed=61)]
    lines += [case_line(g.case) for g in generate(1000, seed=62, population="china")]
    lines += contradiction_lines(1000, seed=63) + special_lab_lines()
    n, columns = check(lines)
    # most cases through the columns: the path is exercised, not bypassed
    assert n >= 4500 and columns >= 0.9 * n, (n, columns)


_VARIED = st.one_of(
    varied_clinical(),
    varied_contradictions(),
    varied_labs(),
    varied_germline(),
    varied_reported(),
    varied_sections(),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_VARIED, min_size=1, max_size=12))
def test_varied_lines_give_the_same_row(lines: list[str]) -> None:
    check(lines)


class _Raising(ColumnarBackend):
    """The engine raising on one case when it is the first of a key (a planted fault: the
    column path must not give its answer to the other cases of the key)."""

    planted = "PLANTED"

    def representative(self, case: Case) -> Answers | Failure:
        if case.case_id == self.planted:
            return Failure("RuntimeError: planted")
        return super().representative(case)


def test_a_key_whose_first_case_the_engine_raised_on() -> None:
    """The case itself is a rejected row; every other case of its keys is assessed by itself
    (the per-case path), with the reference's row."""
    raw = [g.case for g in generate(300, seed=64)]
    lines = [case_line({**r, "case_id": "PLANTED"} if i == 0 else r) for i, r in enumerate(raw)]
    cases, strict = validated(lines)
    backend = _Raising("csco-2021", AS_OF)
    got: list[Row | Failure] = backend.assess(cases, strict)
    assert got[0] == Failure("RuntimeError: planted")
    ref = PerCaseBackend("csco-2021", AS_OF).assess(cases[1:])
    assert diff(ref, got[1:], cases[1:]) == []
    # the planted case was the first of a key in every step: cases sharing one went by
    # themselves
    assert backend.per_case_count > 1


def test_no_row_can_change_another() -> None:
    """The cases of a key share its answer's columns: a list shared between rows is frozen
    (appending to one row's list must not change another row)."""
    from nenguide.model.frozen import FrozenList

    cases, strict = validated([case_line(g.case) for g in generate(400, seed=65)])
    rows = ColumnarBackend("csco-2021", AS_OF).assess(cases, strict)
    seen: dict[int, tuple[int, str]] = {}
    shared = 0
    for i, row in enumerate(rows):
        assert isinstance(row, dict)
        for column, value in row.items():
            if not isinstance(value, list):
                continue
            first = seen.setdefault(id(value), (i, column))
            if first[0] != i:
                shared += 1
                assert isinstance(value, FrozenList), (column, first)
    assert shared > 100  # the rows do share their keys' lists
