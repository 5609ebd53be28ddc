"""The engine's first reshaping of a case (``engine.facts.derive``) as Polars expressions
(``nenguide.batch.columnar.case_derive``, step 2 of the columnar fact layer, ADR 0004): every
fact equal to the engine's, on every golden vignette, on generated cases and on generated
cases whose nodes, metastases and tumour components are redrawn."""

from __future__ import annotations

from case_lines import case_line, read_ready, same, varied_sections, vignette_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_derive import DERIVED, derived
from nenguide.batch.synth import generate
from nenguide.engine.facts import derive


def _check(lines: list[str]) -> int:
    """Compares the columns with the engine on each line the columns read; how many (none
    of the facts here is a text, so padded rows are compared too)."""
    ready, frame, _ = read_ready(lines)
    if not ready:
        return 0
    got = derived(frame)
    assert got.columns == list(DERIVED)
    for case, row in zip(ready, got.to_dicts(), strict=True):
        want = derive(case)
        assert list(want) == list(DERIVED)  # the same facts, in the same order
        diffs = {k: (want[k], row[k]) for k in DERIVED if not same(want[k], row[k])}
        assert not diffs, (case.model_dump_json(), diffs)
    return len(ready)


def test_every_vignette_derives_as_the_engine() -> None:
    lines = vignette_lines()
    assert _check(lines) >= len(lines) - 20


def test_generated_cases_derive_as_the_engine() -> None:
    lines = [case_line(g.case) for g in generate(3000, seed=17)]
    assert _check(lines) == len(lines)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(varied_sections(), min_size=1, max_size=10))
def test_varied_sections_derive_as_the_engine(lines: list[str]) -> None:
    _CHECKED.append((_check(lines), len(lines)))


_CHECKED: list[tuple[int, int]] = []


def test_the_varied_sections_were_mostly_compared() -> None:
    """The varied lines are mostly valid cases the columns read (not all refused)."""
    if not _CHECKED:  # run alone
        test_varied_sections_derive_as_the_engine()
    compared, total = map(sum, zip(*_CHECKED, strict=True))
    assert compared >= 0.5 * total, (compared, total)
