"""What was already done (``engine.case_items.done_tokens``) as Polars operations
(``nenguide.batch.columnar.case_done``, part of step 2 of the columnar fact layer, ADR 0004):
the investigations and lab tests done, each with its first date, in the engine's order, on
every vignette, generated cases and redrawn investigations and lab results."""

from __future__ import annotations

from case_lines import (
    case_line,
    read_ready,
    unconfirmed_read,
    varied_clinical,
    varied_labs,
    vignette_lines,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_done import done_columns
from nenguide.batch.synth import generate
from nenguide.engine.case_items import done_tokens
from nenguide.engine.context import Context
from nenguide.engine.kb import Knowledge


def _check(kb: Knowledge, lines: list[str]) -> int:
    """How many of the lines the columns read were compared (padded ones are not)."""
    ready, frame, padded = read_ready(lines)
    if not ready:
        return 0
    cols = done_columns(frame, kb)
    n = 0
    rows = zip(ready, cols.done.to_list(), cols.unconfirmed.to_list(), padded, strict=True)
    for case, done, unconfirmed, pad in rows:
        if pad:
            continue
        ctx = Context(kb, "en", notes=False)
        want = done_tokens(ctx, case.clinical.investigations, case.clinical.labs)
        got = [(d["token"], d["date"]) for d in done]
        assert got == list(want.items()), case.model_dump_json()
        assert unconfirmed == unconfirmed_read(kb, ctx.trace)
        n += 1
    return n


def test_every_vignette_as_the_engine(kb: Knowledge) -> None:
    lines = vignette_lines()
    assert _check(kb, lines) >= len(lines) - 20


def test_generated_cases_as_the_engine(kb: Knowledge) -> None:
    lines = [case_line(g.case) for g in generate(2000, seed=43)]
    assert _check(kb, lines) == len(lines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.one_of(varied_clinical(), varied_labs()), min_size=1, max_size=10))
def test_varied_investigations_and_labs_as_the_engine(kb: Knowledge, lines: list[str]) -> None:
    _check(kb, lines)
