"""The count of MEN1 manifestations in a first-degree relative (the counting table of role
``relative_men1_major``) as Polars operations (``nenguide.batch.columnar.case_relatives``,
part of step 2 of the columnar fact layer, ADR 0004): equal to the engine's fact layer, and a
case sent to the per-case path exactly when the engine's count is a range."""

from __future__ import annotations

from case_lines import case_line, read_ready, varied_clinical, vignette_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_relatives import ROLE, relative_columns
from nenguide.batch.synth import generate
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf


def _check(kb: Knowledge, lines: list[str]) -> tuple[int, int]:
    """(compared, sent to the per-case path) of the lines the columns read."""
    ready, frame, padded = read_ready(lines)
    if not ready:
        return 0, 0
    cols = relative_columns(frame, kb)
    output = kb.tables[kb.pathway.steps["facts"].tables[ROLE]].output
    compared = flagged = 0
    rows = zip(
        ready,
        cols.facts.get_column(output).to_list(),
        cols.per_case.to_list(),
        cols.unconfirmed.to_list(),
        padded,
        strict=True,
    )
    for case, got, per_case, unconfirmed, pad in rows:
        if pad:
            continue
        ctx = Context(kb, "en", notes=False)
        want = case_facts(ctx, case)[output]
        assert per_case == isinstance(want, OneOf), case.model_dump_json()
        if per_case:
            flagged += 1
            continue
        assert got == want and type(got) is type(want), (case.model_dump_json(), got, want)
        assert set(unconfirmed) <= kb.unconfirmed_rules
        compared += 1
    return compared, flagged


def test_every_vignette_as_the_engine(kb: Knowledge) -> None:
    compared, flagged = _check(kb, vignette_lines())
    assert compared >= 300, (compared, flagged)


def test_generated_cases_as_the_engine(kb: Knowledge) -> None:
    lines = [case_line(g.case) for g in generate(2000, seed=41)]
    compared, flagged = _check(kb, lines)
    assert compared + flagged == len(lines)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(varied_clinical(), min_size=1, max_size=10))
def test_varied_relatives_as_the_engine(kb: Knowledge, lines: list[str]) -> None:
    _check(kb, lines)
