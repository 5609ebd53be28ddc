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
from nenguide.batch.columnar.lines import Answers, ChunkColumns
from nenguide.batch.io import ASSESSMENT_SCHEMA, frame_of
from nenguide.batch.rows import FrameRows, plain_case_line
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
    ref = per_case.assess(cases)
    assert diff(ref, got, cases) == []
    framed_equal(ref, ColumnarBackend("csco-2021", as_of).assess_frame(cases, strict))
    return len(cases), len(cases) - by_itself


def framed_equal(ref: Sequence[Row | Failure], got: FrameRows) -> None:
    """The rows as one frame (``assess_frame``, what ``nenguide batch`` writes) are the frame
    of the reference rows, and the same cases failed."""
    assert sorted(got.failed) == [i for i, r in enumerate(ref) if isinstance(r, Failure)]
    want = frame_of([r for r in ref if not isinstance(r, Failure)], ASSESSMENT_SCHEMA)
    assert got.frame.schema == want.schema
    if not got.frame.equals(want):
        bad = [c for c in want.columns if not got.frame[c].equals(want[c], check_names=True)]
        raise AssertionError(f"the frame differs in {bad}")


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
    """The column path's look-up of a key's first case raising on one case (a planted fault:
    the column path must not give an answer to the other cases of its keys)."""

    planted = "PLANTED"

    def representative(self, case: Case) -> Answers | Failure:
        if case.case_id == self.planted:
            return Failure("RuntimeError: planted")
        return super().representative(case)


def test_a_key_whose_first_case_the_engine_raised_on() -> None:
    """That case and every other case of its keys are assessed by themselves (the per-case
    path), each with the reference's row: the per-case path rejects a case only where the
    engine itself raises on it."""
    raw = [g.case for g in generate(300, seed=64)]
    lines = [case_line({**r, "case_id": "PLANTED"} if i == 0 else r) for i, r in enumerate(raw)]
    cases, strict = validated(lines)
    backend = _Raising("csco-2021", AS_OF)
    got: list[Row | Failure] = backend.assess(cases, strict)
    ref = PerCaseBackend("csco-2021", AS_OF).assess(cases)
    assert diff(ref, got, cases) == []
    # the planted case was the first of a key in every step: cases sharing one went by
    # themselves
    assert backend.per_case_count > 1


def _resected(raw: dict[str, Any], date: str) -> dict[str, Any]:
    clinical = {**raw.get("clinical", {})}
    clinical["resection"] = {"performed": True, "margin": "R0", "date": date}
    return {**raw, "clinical": clinical}


def test_a_resection_date_the_engine_cannot_date_from_rejects_that_row_only() -> None:
    """A resection date of 9999-12-31 (a placeholder for "unknown" in some records): the
    engine's dating of the follow-up visits raises, so the case is a rejected row, as on the
    per-case path; the chunk's other cases, those of its key included, are assessed (found
    by review: the column path's dating once stopped the whole batch)."""
    raw = [g.case for g in generate(60, seed=69)]
    lines = [case_line(r) for r in raw] + [case_line(_resected(r, "9999-12-31")) for r in raw[:3]]
    lines += [case_line(_resected(r, "2025-02-03")) for r in raw[:3]]
    cases, strict = validated(lines)
    backend = ColumnarBackend("csco-2021", AS_OF)
    got = backend.assess(cases, strict)
    ref = PerCaseBackend("csco-2021", AS_OF).assess(cases)
    assert diff(ref, got, cases) == []
    assert sum(isinstance(r, Failure) for r in got) >= 1
    framed_equal(ref, ColumnarBackend("csco-2021", AS_OF).assess_frame(cases, strict))
    # a chunk whose every case fails: each named failed (found by review: the frame path once
    # gave such a chunk no failures, and the batch then stopped on the frame's height)
    bad = [i for i, r in enumerate(ref) if isinstance(r, Failure)]
    only = [cases[i] for i in bad], [strict[i] for i in bad]
    framed_equal([ref[i] for i in bad], ColumnarBackend("csco-2021", AS_OF).assess_frame(*only))
    # only those cases went by themselves (and the few whose core the engine decides), not
    # the chunk
    assert backend._columns is not None and backend._columns.errors == 0
    assert backend.per_case_count < len(cases) // 4


def test_dated_answers_kept_across_chunks_and_bounded(monkeypatch: Any) -> None:
    """The follow-up answers dated from a resection date are kept across chunks, by the
    decision's schedule and issues and the date (decisions of different keys share them),
    and emptied when :data:`~nenguide.batch.columnar.lines.DATED_LIMIT` are held: every
    chunk's rows are still the per-case path's."""
    import nenguide.batch.columnar.lines as lines_mod

    monkeypatch.setattr(lines_mod, "DATED_LIMIT", 20)
    raw = [g.case for g in generate(600, seed=72)]
    # few dates, so that decisions that differ share dates
    dates = [("2019-03-10", "2022-07-31", "2024-11-30")[i % 3] for i in range(600)]
    resected = [case_line(_resected(r, d)) for r, d in zip(raw, dates, strict=True)]
    # R1 margins: a schedule name of two rules (net_high_risk: NET_HIGH_RISK and NET_R1)
    resected = [
        line.replace('"margin": "R0"', '"margin": "R1"') if i % 4 == 0 else line
        for i, line in enumerate(resected)
    ]
    backend = ColumnarBackend("csco-2021", AS_OF)
    reference = PerCaseBackend("csco-2021", AS_OF)
    counts = []
    for lines in (resected[:300], resected[300:], resected[:300], resected[:300]):
        cases, strict = validated(lines)
        assert diff(reference.assess(cases), backend.assess(cases, strict), cases) == []
        assert backend._columns is not None
        counts.append(backend._columns._dated_count)
    assert backend._columns.errors == 0
    assert max(counts) <= 20  # bounded: emptied when full
    monkeypatch.setattr(lines_mod, "DATED_LIMIT", 10_000)
    cases, strict = validated(resected[:300])
    backend.assess(cases, strict)
    held = backend._columns._dated_count
    backend.assess(cases, strict)  # the same chunk again: every date known
    assert backend._columns._dated_count == held > 0


class _Breaking(ColumnarBackend):
    """The column code raising once, at its 30th look-up of a key's first case, so midway
    through a chunk whose earlier first cases were answered (a planted fault)."""

    calls = 0

    def representative(self, case: Case) -> Answers | Failure:
        self.calls += 1
        if self.calls == 30:
            raise RuntimeError("planted")
        return super().representative(case)


def test_an_error_of_the_column_code_leaves_no_trace_in_later_chunks() -> None:
    """An error of the column code itself sends its chunk case by case, and the next chunks
    are assessed as if it had not happened (nothing of the failed chunk is kept: found by
    review, answers of a failed chunk were once given to the next chunk's rows)."""
    first = [case_line(g.case) for g in generate(200, seed=70)]
    second = [case_line(g.case) for g in generate(150, seed=71)]
    backend = _Breaking("csco-2021", AS_OF)
    reference = PerCaseBackend("csco-2021", AS_OF)
    for lines in (first, second, second):
        cases, strict = validated(lines)
        assert diff(reference.assess(cases), backend.assess(cases, strict), cases) == []
    assert backend.calls > 30
    assert backend._columns is not None and backend._columns.errors == 1


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


def test_the_hereditary_key_holds_what_missing_fields_reads() -> None:
    """Where trigger rows apply and others wait, the engine's step asks ``missing_fields``
    whether the fields behind the waiting rows' inputs are known to be missing (the
    further-triggers issue): the key holds what that reads (which of the facts are unknown,
    the values of the counting table's inputs, the open MEN1 count), and nothing where it is
    not asked. With this package the trigger masks happen to decide it on every case tried
    (a guard for other packages); ``missing_fields_reads`` is checked to name every fact
    ``missing_fields`` reads."""
    import sys
    from pathlib import Path

    import polars as pl

    sys.path.insert(0, str(Path(__file__).parent))
    from engine_phase2 import phase2_columns
    from test_case_treatment import _Reads

    from nenguide.batch.columnar.case_hereditary import trigger_masks
    from nenguide.engine.hereditary import SOURCES, missing_fields, missing_fields_reads

    backend = ColumnarBackend("csco-2021", AS_OF)
    kb = backend.kb
    known, values = missing_fields_reads(kb)
    lines = [case_line(g.case) for g in generate(600, seed=66)] + contradiction_lines(200, 67)
    cols = phase2_columns(kb, lines)
    assert cols is not None
    names = [n for n, _ in SOURCES]
    for e in cols.engine:
        rec = _Reads(dict(e.after))
        missing_fields(rec, kb, names)
        assert rec.read <= set(known) | set(values), rec.read - set(known) - set(values)
    masks = trigger_masks(cols.facts, cols.phase2.masks, backend.hereditary)
    key = ChunkColumns(backend)._hereditary_key(
        cols.facts, masks, cols.phase1.extra, cols.phase2.masks
    )
    both = ((masks["applies"] != 0) & (masks["waiting"] != 0)).to_list()
    further = [c for c in key.columns if c.startswith(("_known_", "_value_"))]
    assert {f"_known_{f}" for f in known if f in cols.facts.columns} <= set(further)
    assert {f"_value_{f}" for f in values if f in cols.facts.columns} <= set(further)
    assert "men1_major_count_mask" in key.columns
    assert any(both) and not all(both)
    for c in [*further, "men1_major_count_mask"]:
        held = key[c].is_not_null().to_list()
        assert not any(h and not b for h, b in zip(held, both, strict=True)), c
    unknown = key.filter(pl.Series(both)).select(further[0]).to_series()
    assert unknown.null_count() == 0


def test_a_conflict_the_work_up_reports_reaches_the_treatment_key() -> None:
    """The treatment step flags the MDT for a conflict reported before it, the work-up's
    issues included; the work-up of this package reports none (its only issue is a lack of
    data), so a copy of the package that makes that issue a conflict checks that the column
    path's treatment key reads the work-up's answer (the rows then equal the engine's)."""
    import dataclasses

    from nenguide.batch.flatten import flatten
    from nenguide.engine.assess import assess
    from nenguide.knowledge import load
    from nenguide.model.assessment import IssueKind
    from nenguide.mutation.runner import with_tables

    kb = load("csco-2021")
    copy = with_tables(kb, dict(kb.tables))
    kinds = {**copy.issue_kinds, "WORKUP_NEEDS_DATA": IssueKind.conflict}
    edited = dataclasses.replace(copy, issue_kinds=kinds)
    cases, strict = validated([case_line(g.case) for g in generate(400, seed=68)])
    ref = [flatten(assess(c, edited, as_of=AS_OF)) for c in cases]
    got = ColumnarBackend("csco-2021", AS_OF, kb=edited).assess(cases, strict)
    assert diff(ref, got, cases) == []
    # the work-up's conflict alone flags the MDT in some rows
    flagged = [r for r in ref if "DATA_CONFLICT" in r["mdt_discussion_reasons"]]
    assert flagged, "no row shows the work-up's conflict"


def test_the_batch_hands_the_lines_over_and_gets_the_reference_rows() -> None:
    """Through the batch's own row pipeline (``assess_rows``): a case validated strictly from
    its line reaches a backend that reads the lines as that line (``LineCases``), one
    validated otherwise (a yes/no written as text) as its case; the rows equal the per-case
    backend's."""
    import json

    from nenguide.batch.mapping import Mapper
    from nenguide.batch.rows import LineCases, assess_rows, reads_lines

    raw = [g.case for g in generate(300, seed=72)]
    lax = {**raw[0], "pathology": {**raw[0].get("pathology", {}), "minen_diagnosed": "false"}}
    chunk = list(enumerate([json.dumps(r) for r in [*raw, lax]]))
    columnar = ColumnarBackend("csco-2021", AS_OF)
    assert reads_lines(columnar) and not reads_lines(PerCaseBackend("csco-2021", AS_OF))
    handed: list[Any] = []

    def recording(cases: Any, lines: Any) -> list[Row | Failure]:
        handed.append(cases)
        return columnar.assess(cases, lines)

    got = assess_rows(chunk, "jsonl", Mapper(), recording, keep_lines=True)
    (cases,) = handed
    assert isinstance(cases, LineCases)
    items = cases._items
    assert all(isinstance(i, str) for i in items[:-1]) and isinstance(items[-1], Case)
    ref = assess_rows(chunk, "jsonl", Mapper(), PerCaseBackend("csco-2021", AS_OF).assess)
    assert [a.flat for a in got.assessed] == [a.flat for a in ref.assessed]
    assert [a.case_columns for a in got.assessed] == [a.case_columns for a in ref.assessed]
    assert len(got.assessed) == 301


def test_the_core_left_to_the_engine_gives_the_programs_rows() -> None:
    """The per-case path runs the engine's own core steps on a case the column path found the
    compiled program leaves to the engine (``ChunkRows.engine_core``) instead of running the
    program on it again: the engine being the program's reference, every case gets the same
    row either way, whether the program would have decided its core steps or not. And the
    column path does name such cases (most of the per-case path's cases: the program's
    fallbacks)."""
    lines = [case_line(g.case) for g in generate(600, seed=71)]
    lines += contradiction_lines(200, seed=72)
    cases, strict = validated(lines)
    per_case, columnar = _backends(AS_OF)
    ref = per_case.assess(cases)
    assert diff(ref, columnar._assess(cases), cases) == []
    assert diff(ref, columnar._assess(cases, [True] * len(cases)), cases) == []
    mixed = [i % 3 == 0 for i in range(len(cases))]
    assert diff(ref, columnar._assess(cases, mixed), cases) == []
    ready = [i for i, s in enumerate(strict) if s is not None]
    got = ChunkColumns(columnar).rows([cases[i] for i in ready], [strict[i] or "" for i in ready])
    named = [i for i, e in enumerate(got.engine_core) if e]
    assert named and all(got.rows[i] is None for i in named)
