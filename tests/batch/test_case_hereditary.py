"""The hereditary trigger table's masks as columns (``nenguide.batch.columnar.case_hereditary``):
on every case the columns read, the rows that apply, the rows that wait and the engine's cases
equal to what the batch's hereditary program works out from the engine's facts with phase 2."""

from __future__ import annotations

from case_lines import (
    case_line,
    contradiction_lines,
    varied_clinical,
    varied_germline,
    vignette_lines,
)
from engine_phase2 import phase2_columns
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_hereditary import trigger_masks
from nenguide.batch.columnar.hereditary import HereditaryProgram
from nenguide.batch.synth import generate
from nenguide.engine.hereditary import derive_facts
from nenguide.engine.kb import Knowledge


def _check(kb: Knowledge, lines: list[str]) -> tuple[int, int]:
    """(compared, of which with rows that apply) of the lines the columns read."""
    cols = phase2_columns(kb, lines)
    if cols is None:
        return 0, 0
    ready, p, engine, phase2 = cols.ready, cols.phase1, cols.engine, cols.phase2
    prog = HereditaryProgram(kb, "en")
    got = trigger_masks(cols.facts, phase2.masks, prog)
    keep = [i for i, e in enumerate(engine) if not p.per_case[i] and not e.open]
    values = [tuple(map(derive_facts(engine[i].after).get, prog.table.names)) for i in keep]
    want, fallback = prog.masks_of(values)
    rows = got[keep].rows()
    for i, (a, w, fb), masks, efb in zip(keep, rows, want, fallback, strict=True):
        why = ready[i].model_dump_json()
        assert fb == efb, why
        if not fb:
            assert (a, w) == masks, (why, (a, w), masks)
    return len(keep), sum(1 for a, _, _ in rows if a)


def test_every_vignette_as_the_program(kb: Knowledge) -> None:
    compared, triggered = _check(kb, vignette_lines())
    assert compared >= 300 and triggered >= 30, (compared, triggered)


def test_generated_cases_as_the_program(kb: Knowledge) -> None:
    lines = [case_line(g.case) for g in generate(3000, seed=59)] + contradiction_lines(500, 17)
    compared, triggered = _check(kb, lines)
    assert compared >= 3000 and triggered >= 100, (compared, triggered)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.one_of(varied_clinical(), varied_germline()), min_size=1, max_size=8))
def test_varied_cases_as_the_program(kb: Knowledge, lines: list[str]) -> None:
    _check(kb, lines)
