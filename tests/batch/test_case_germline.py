"""The germline results and the case's bookkeeping beside the facts
(``engine.case_input.carrier_input`` and ``extra_input``) as Polars operations
(``nenguide.batch.columnar.case_germline``, part of step 2 of the columnar fact layer, ADR
0004): the carrier facts, the genes carried, the relatives' genes, the genes tested, the
resection date and the tumour count equal to the engine's, on every vignette, generated cases
and redrawn germline results and relatives."""

from __future__ import annotations

from typing import Any

from case_lines import (
    case_line,
    read_ready,
    same,
    unconfirmed_read,
    varied_germline,
    vignette_lines,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_germline import germline_columns
from nenguide.batch.synth import generate
from nenguide.engine.case_input import carrier_input, extra_input
from nenguide.engine.context import Context
from nenguide.engine.kb import Knowledge


def _check(kb: Knowledge, lines: list[str]) -> int:
    """Compares the columns with the engine on each line the columns read; how many."""
    ready, frame, flagged = read_ready(lines)
    if not ready:
        return 0
    cols = germline_columns(frame, kb)
    n = 0
    rows = zip(
        ready,
        cols.facts.to_dicts(),
        cols.extra.to_dicts(),
        cols.unconfirmed.to_list(),
        flagged,
        strict=True,
    )
    for case, facts, extra, unconfirmed, flag in rows:
        gene_texts = [m.pathogenic_variant_gene or "" for m in case.clinical.family_history or ()]
        if any(not g.isascii() for g in gene_texts):
            assert flag  # upper-cased by the reshaping: the per-case path
        if flag:
            continue
        ctx = Context(kb, "en", notes=False)
        want, carriers = carrier_input(ctx, case.clinical)
        diffs = {k: (want[k], facts[k]) for k in want if not same(want[k], facts[k])}
        assert not diffs and set(facts) == set(want), (case.model_dump_json(), diffs)
        want_extra = extra_input(case, case.clinical, carriers)
        got: dict[str, Any] = {
            "carriers": tuple(extra["carriers"]),
            "relative_genes": tuple(extra["relative_genes"]),
            "tested": {t["gene"]: t["result"] for t in extra["tested"]},
            "resection_date": (
                None if extra["resection_date"] is None else extra["resection_date"]
            ),
            "number_of_tumours": extra["number_of_tumours"],
        }
        want_plain = {
            **want_extra,
            "tested": dict(want_extra["tested"]),
            "resection_date": (
                None
                if want_extra["resection_date"] is None
                else want_extra["resection_date"].isoformat()
            ),
        }
        assert got == want_plain, case.model_dump_json()
        assert unconfirmed == unconfirmed_read(kb, ctx.trace)
        n += 1
    return n


def test_every_vignette_as_the_engine(kb: Knowledge) -> None:
    lines = vignette_lines()
    assert _check(kb, lines) >= len(lines) - 20


def test_generated_cases_as_the_engine(kb: Knowledge) -> None:
    lines = [case_line(g.case) for g in generate(3000, seed=31)]
    assert _check(kb, lines) == len(lines)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(varied_germline(), min_size=1, max_size=10))
def test_varied_germline_as_the_engine(kb: Knowledge, lines: list[str]) -> None:
    assert _check(kb, lines) >= 0
