"""The lab results' reshaping (``engine.case_input.lab_input``) as Polars operations
(``nenguide.batch.columnar.case_labs``, part of step 2 of the columnar fact layer, ADR 0004):
every fact, the index of each analyte's result and the plausibility warnings equal to the
engine's, on every golden vignette, on generated cases and on generated cases whose lab
results are redrawn; a case the columns cannot hold is flagged for the per-case path."""

from __future__ import annotations

import pytest
from case_lines import case_line, read_ready, same, varied_labs, vignette_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_labs import fact_names, lab_columns
from nenguide.batch.synth import generate
from nenguide.engine.case_input import lab_input
from nenguide.engine.context import Context
from nenguide.engine.kb import Knowledge


def _check(kb: Knowledge, lines: list[str]) -> tuple[int, int]:
    """Compares the columns with the engine on each line the columns read and do not flag;
    (compared, flagged)."""
    ready, frame, padded = read_ready(lines)
    if not ready:
        return 0, 0
    cols = lab_columns(frame, kb.analytes)
    names = [f for per in fact_names(kb.analytes).values() for f in per.values()]
    assert cols.facts.columns == names
    compared = flagged = 0
    rows = zip(
        ready,
        cols.facts.to_dicts(),
        cols.index.to_dicts(),
        cols.issues.to_list(),
        cols.per_case.to_list(),
        padded,
        strict=True,
    )
    for case, facts, index, issues, per_case, pad in rows:
        if pad:  # a row flagged when read (a date as a Unix time...): the per-case path
            continue
        ctx = Context(kb, "en")
        want, want_index = lab_input(ctx, case.clinical)
        ranged = any(k.endswith("_interval") for k in want)
        conflict = any(i["kind"].value == "conflict" for i in ctx.issues)
        if ranged or conflict:  # candidates or a refused result: the per-case path
            assert per_case, case.model_dump_json()
            flagged += 1
            continue
        assert not per_case, case.model_dump_json()
        assert set(want) <= set(facts), case.model_dump_json()
        diffs = {k: (want.get(k), v) for k, v in facts.items() if not same(want.get(k), v)}
        assert not diffs, (case.model_dump_json(), diffs)
        assert {k: v for k, v in index.items() if v is not None} == want_index
        assert issues == [i["code"] for i in ctx.issues], case.model_dump_json()
        compared += 1
    return compared, flagged


def test_every_vignette_reshapes_its_labs_as_the_engine(kb: Knowledge) -> None:
    compared, flagged = _check(kb, vignette_lines())
    assert compared >= 300, (compared, flagged)


def test_generated_labs_reshape_as_the_engine(kb: Knowledge) -> None:
    lines = [case_line(g.case) for g in generate(3000, seed=29)]
    compared, flagged = _check(kb, lines)
    assert compared + flagged == len(lines)


_CHECKED: list[tuple[int, int, int]] = []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(varied_labs(), min_size=1, max_size=10))
def test_varied_labs_reshape_as_the_engine(kb: Knowledge, lines: list[str]) -> None:
    compared, flagged = _check(kb, lines)
    _CHECKED.append((compared, flagged, len(lines)))


def test_the_varied_labs_were_mostly_compared(kb: Knowledge) -> None:
    if not _CHECKED:  # run alone
        pytest.skip("runs after the varied-labs test")
    compared, flagged, total = map(sum, zip(*_CHECKED, strict=True))
    assert compared >= 0.3 * total, (compared, flagged, total)


def test_two_warnings_the_latest_result_and_a_qualitative_limit(kb: Knowledge) -> None:
    """Two implausible results give two warnings; the latest result of an analyte is the one
    read, whatever the order listed; a qualitative result with a comparator keeps its reading
    and says nothing of the lower limit. Each as the engine (drawn results seldom give these)."""
    base = next(iter(generate(1, seed=3))).case
    labs = [
        [
            {"analyte": "gastrin", "value": 2e7, "unit": "pg/mL"},
            {"analyte": "chromogranin_a", "value": 3e7, "unit": "ug/L"},
        ],
        [
            {"analyte": "calcium", "value": 0.1, "unit": "mmol/L"},
            {"analyte": "gastrin", "value": 1.0, "unit": "pg/mL", "date": "2024-01-05"},
            {"analyte": "calcium", "value": 9.0, "unit": "mmol/L", "date": "2020-01-01"},
        ],
        [
            {
                "analyte": "sulfonylurea_screen",
                "value": 0,
                "unit": "1",
                "comparator": "<",
                "reference_low": 1.0,
            }
        ],
    ]
    lines = [case_line({**base, "clinical": {"labs": ls}}) for ls in labs]
    compared, flagged = _check(kb, lines)
    assert (compared, flagged) == (3, 0)
