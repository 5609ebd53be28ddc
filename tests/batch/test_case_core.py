"""The core program's fact frame from phase 1's columns (``nenguide.batch.columnar.case_core``):
on every case the columns read, equal to the frame the columnar backend makes from the
engine's own facts (``backend.fact_frame``), and the core program's answers on it equal."""

from __future__ import annotations

import polars as pl
from case_lines import case_line, contradiction_lines, ready_lines, same, vignette_lines

from nenguide.batch.columnar.backend import fact_frame, program
from nenguide.batch.columnar.case_arrow import read_lines
from nenguide.batch.columnar.case_core import core_frame
from nenguide.batch.columnar.core import CORE_OUTPUT
from nenguide.batch.columnar.phase1 import phase1
from nenguide.batch.synth import generate
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts
from nenguide.engine.kb import Knowledge


def _check(kb: Knowledge, lines: list[str]) -> tuple[int, int]:
    """(compared, of which the engine decides the core steps) of the lines the columns read."""
    ready, read = ready_lines(lines)
    table = read_lines(read)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    p = phase1(table, kb)
    keep = [i for i, pc in enumerate(p.per_case.to_list()) if not pc]
    prog = program(kb)
    got = core_frame(p.facts, frame, prog)[keep]
    facts = [case_facts(Context(kb, "en", notes=False), ready[i]) for i in keep]
    want = fact_frame(prog, facts, [ready[i] for i in keep])
    assert got.columns == want.columns
    diffs = [
        (ready[keep[r]].model_dump_json(), c, a, b)
        for c in want.columns
        for r, (a, b) in enumerate(zip(got[c].to_list(), want[c].to_list(), strict=True))
        if not same(b, a)
    ]
    assert not diffs, diffs[:3]
    assert got.schema == want.schema
    core_got, core_want = prog.run(got), prog.run(want)
    assert core_got.select(*CORE_OUTPUT, "core_fallback").equals(
        core_want.select(*CORE_OUTPUT, "core_fallback")
    )
    return len(keep), int(got["_fallback"].sum())


def test_every_vignette_as_the_backend(kb: Knowledge) -> None:
    compared, fallback = _check(kb, vignette_lines())
    assert compared >= 300 and fallback >= 5, (compared, fallback)


def test_generated_cases_as_the_backend(kb: Knowledge) -> None:
    lines = [case_line(g.case) for g in generate(3000, seed=53)]
    compared, fallback = _check(kb, lines + contradiction_lines(1000, seed=13))
    assert compared >= 3500, (compared, fallback)
