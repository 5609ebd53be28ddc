"""The core program's fact frame from phase 1's columns (``nenguide.batch.columnar.case_core``):
on every case the columns read, equal to the frame the columnar backend makes from the
engine's own facts (``backend.fact_frame``), and the core program's answers on it equal."""

from __future__ import annotations

import json

import polars as pl
from case_lines import case_line, contradiction_lines, ready_lines, same, vignette_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.backend import fact_frame, program
from nenguide.batch.columnar.case_arrow import read_lines
from nenguide.batch.columnar.case_core import _descriptor_ranks, core_frame
from nenguide.batch.columnar.core import CORE_OUTPUT
from nenguide.batch.columnar.phase1 import phase1
from nenguide.batch.synth import generate
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts
from nenguide.engine.kb import Knowledge
from nenguide.model.case import LungDescriptor


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


_LUNG = [g.case for g in generate(400, seed=57) if g.case["tumour"]["primary_site"] == "lung"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(
        st.tuples(
            st.integers(0, len(_LUNG) - 1),
            st.one_of(
                st.none(), st.lists(st.sampled_from([d.value for d in LungDescriptor]), max_size=6)
            ),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_lung_descriptors_rank_as_the_backend(
    kb: Knowledge, picks: list[tuple[int, list[str] | None]]
) -> None:
    """The highest rank of a case's lung descriptors, worked out on the descriptors one row
    each (session 22; it was a ``list.eval`` per case): none, an empty list and every mix of
    the model's descriptors, repeats included, as the engine's facts give it."""
    lines = []
    for at, descriptors in picks:
        raw = json.loads(json.dumps(_LUNG[at]))
        raw["tumour"].pop("lung_descriptors", None)
        if descriptors is not None:
            raw["tumour"]["lung_descriptors"] = descriptors
        lines.append(case_line(raw))
    _check(kb, lines)


def test_a_descriptor_without_a_rank_is_left_to_the_engine() -> None:
    """A descriptor the package gives no rank (possible in another package) makes the case's
    rank unknown and marks it, whatever else it lists; no descriptor gives no rank."""
    facts = pl.DataFrame(
        {"lung_descriptors": [None, [], ["heart"], ["heart", "carina"], ["carina", "odd"]]},
        schema={"lung_descriptors": pl.List(pl.String())},
    )
    highest, unranked = _descriptor_ranks(facts, {"heart": 6, "carina": 2})
    assert highest.to_list()[:4] == [None, None, 6, 6]  # the last: unranked decides
    assert unranked.to_list() == [False, False, False, False, True]
