"""The reported forms (``engine.case_reported.reported_input``) as Polars expressions
(``nenguide.batch.columnar.case_reported``, part of step 2 of the columnar fact layer, ADR
0004): the pT category, the thrombus and multiple primaries equal to the engine's, and a case
sent to the per-case path exactly when the engine makes a form a column cannot hold."""

from __future__ import annotations

from case_lines import case_line, read_ready, same, varied_reported, vignette_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_reported import reported_columns
from nenguide.batch.synth import generate
from nenguide.engine.case_reported import reported_input
from nenguide.engine.context import Context
from nenguide.engine.kb import Knowledge

_COLUMNS = {"reported_t", "reported_t_text", "venous_tumour_thrombus", "multiple_primaries"}


def _check(kb: Knowledge, lines: list[str]) -> tuple[int, int]:
    """(compared, sent to the per-case path) of the lines the columns read."""
    ready, frame, padded = read_ready(lines)
    if not ready:
        return 0, 0
    cols = reported_columns(frame)
    compared = flagged = 0
    for case, row, per_case, pad in zip(
        ready, cols.facts.to_dicts(), cols.per_case.to_list(), padded, strict=True
    ):
        want = reported_input(Context(kb, "en", notes=False), case)
        # the per-case path exactly when the engine makes a fact no column holds
        assert per_case == bool(set(want) - _COLUMNS), case.model_dump_json()
        if per_case:
            flagged += 1
            continue
        if pad:
            continue
        diffs = {k: (want.get(k), v) for k, v in row.items() if not same(want.get(k), v)}
        assert not diffs, (case.model_dump_json(), diffs)
        compared += 1
    return compared, flagged


def test_every_vignette_as_the_engine(kb: Knowledge) -> None:
    compared, flagged = _check(kb, vignette_lines())
    assert compared >= 250, (compared, flagged)


def test_generated_cases_as_the_engine(kb: Knowledge) -> None:
    lines = [case_line(g.case) for g in generate(3000, seed=37)]
    compared, flagged = _check(kb, lines)
    assert compared + flagged == len(lines) and compared > 0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(varied_reported(), min_size=1, max_size=10))
def test_varied_reported_forms_as_the_engine(kb: Knowledge, lines: list[str]) -> None:
    _check(kb, lines)
