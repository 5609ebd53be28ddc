"""The core program's plan, compacted (:func:`nenguide.batch.columnar.plan.compact`): its
``with_columns`` steps merged into layers give the same frame as the steps one by one.

Checked on random plans (Hypothesis: each step reads and writes random columns, input
columns overwritten included, so every ordering hazard occurs), on the three hazards written
out, and on the knowledge package's own core program over generated cases. The batch's
differential test (test_columnar.py) compares the compacted program with the single-case
engine on every vignette and 20 000 generated cases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar import ColumnarBackend
from nenguide.batch.columnar.backend import fact_frame
from nenguide.batch.columnar.core import ENGINE
from nenguide.batch.columnar.exprs import fits
from nenguide.batch.columnar.facts import core_fact_frame
from nenguide.batch.columnar.plan import (
    OPTIMIZATIONS,
    Plan,
    band_masks,
    band_of,
    compact,
    replay,
)
from nenguide.batch.synth import generate
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts
from nenguide.engine.logic import OneOf
from nenguide.model.case import Case

INPUTS = ("a", "b", "c")


def _frame() -> pl.DataFrame:
    return pl.DataFrame({"a": [1, 2, 3, None], "b": [10, 20, None, 40], "c": [5, 0, 5, 0]})


def _run(plan: Plan) -> pl.DataFrame:
    return replay(plan, _frame().lazy()).collect(optimizations=OPTIMIZATIONS)


def _step(
    reads: list[str], writes: list[str], k: int
) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """A ``with_columns`` step: each written column is the sum of the read ones plus ``k``."""
    exprs = []
    for j, w in enumerate(writes):
        e: pl.Expr = pl.lit(k + j)
        for r in reads:
            e = e + pl.col(r)
        exprs.append(e.alias(w))
    return ("with_columns", tuple(exprs), {})


def _final(plan: Plan) -> Plan:
    """``plan`` ending with a ``select`` of every column it leaves (as the core program
    ends with a select of its output)."""
    cols = list(replay(plan, _frame().lazy()).collect_schema())
    return [*plan, ("select", tuple(cols), {})]


def test_hazards_keep_their_order() -> None:
    plan = _final(
        [
            _step(["a"], ["x"], 1),  # layer 0
            _step(["x", "a"], ["y"], 2),  # reads x: layer 1; reads a
            _step(["b"], ["a"], 3),  # a overwritten after y read it: not before layer 1
            _step(["a"], ["z"], 4),  # reads the new a: layer 2
            _step(["c"], ["x"], 5),  # x written again, after y read it: layer 1
            ("drop", (["b"],), {}),
            _step(["c"], ["b"], 6),  # b again after its drop, after a read it: layer 1
        ]
    )
    got = compact(plan)
    assert _run(got).equals(_run(plan))
    assert [[e.meta.output_name() for e in args] for _, args, _ in got[:-1]] == [
        ["x"],
        ["y", "a", "x", "b"],
        ["z"],
    ]


names = st.sampled_from([*INPUTS, "x", "y", "z", "w"])


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    plan: Plan = []
    known = list(INPUTS)
    for k in range(draw(st.integers(1, 8))):
        if draw(st.booleans()) and len(known) > 1 and k:
            gone = draw(st.sampled_from(known))
            known.remove(gone)
            plan.append(("drop", ([gone],), {}))
            continue
        reads = draw(st.lists(st.sampled_from(known), max_size=3))
        writes = draw(st.lists(names, min_size=1, max_size=3, unique=True))
        plan.append(_step(reads, writes, k))
        known.extend(w for w in writes if w not in known)
    return _final(plan)


@settings(max_examples=150, deadline=None)
@given(plans())
def test_compacted_plan_gives_the_same_frame(plan: Plan) -> None:
    assert _run(compact(plan)).equals(_run(plan))


def test_a_step_it_cannot_read_is_kept_in_place() -> None:
    plan: Plan = [
        _step(["a"], ["x"], 1),
        ("with_columns", (pl.all().exclude("c") * 2,), {}),  # several outputs: kept as it is
        _step(["x"], ["y"], 2),
    ]
    got = compact(plan)
    assert [len(args) for _, args, _ in got] == [1, 1, 1]
    assert _run(got).equals(_run(plan))


def test_the_core_program_compacted_gives_the_same_columns() -> None:
    backend = ColumnarBackend("csco-2021", dt.date(2026, 11, 23))
    prog = backend.prog
    cases = [Case.model_validate(s.case) for s in generate(1500, seed=11)]
    facts = [case_facts(backend._context(), c) for c in cases]
    column_read = core_fact_frame(prog, Context(backend.kb, "en"), cases)
    assert column_read is not None
    frames = {  # the full pathway's frame, and the core-only mode's (read column by column)
        (False, False): fact_frame(prog, facts, cases),
        (True, True): column_read,
    }
    for key, frame in frames.items():
        plan = prog._record(*key)
        small = compact(plan)
        assert len(small) < len(plan) / 4, (len(plan), len(small))
        got = replay(small, frame.lazy()).collect(engine=ENGINE, optimizations=OPTIMIZATIONS)
        assert got.equals(
            replay(plan, frame.lazy()).collect(engine=ENGINE, optimizations=OPTIMIZATIONS)
        )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6), max_size=8, unique=True).map(sorted),
    st.lists(st.one_of(st.none(), st.integers(-(10**6), 10**6), st.floats(-2e6, 2e6)), max_size=40),
    st.data(),
)
def test_band_masks_are_the_bands_of_band_of(
    cuts: list[float], vals: list[Any], data: st.DataObject
) -> None:
    """The column at once (:func:`band_masks`) holds what :func:`band_of` gives value by value,
    a cut itself included; a value that is no finite number leaves it to the caller."""
    vals += data.draw(st.lists(st.sampled_from(cuts), max_size=4)) if cuts else []
    got = band_masks("x", vals, cuts)
    assert got is not None
    assert got.to_list() == [None if v is None else 1 << band_of(cuts, v) for v in vals]
    for odd in (float("nan"), float("inf"), True, "3", OneOf((1, 2))):
        assert band_masks("x", [*vals, odd], cuts) is None


def test_fits_reads_a_column_type_given_as_class_or_instance() -> None:
    """What a column of each type can hold (the engine decides any other value)."""
    values = (1, 1.5, float("nan"), float("inf"), True, "x", OneOf((1, 2)))
    expected = {
        pl.Float64: (True, True, False, False, False, False, False),
        pl.Boolean: (False, False, False, False, True, False, False),
        pl.Int32: (True, False, False, False, False, False, False),
        pl.String: (False, False, False, False, False, True, False),
    }
    for dtype, want in expected.items():
        for given_as in (dtype, dtype()):
            assert tuple(fits(v, given_as) for v in values) == want, given_as
