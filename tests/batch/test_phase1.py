"""Phase 1 of the fact layer up to its fact tables, as columns
(``nenguide.batch.columnar.phase1``): on every case the columns read, every fact, the lab
index, what was done, the bookkeeping beside the facts and the issues equal to what
``engine.fact_layer.case_facts`` gives, but for the facts its fact tables set (the step that
comes next). A case whose data contradict themselves is left out here: the consistency
tables, also that next step, make its contradicted facts unknown."""

from __future__ import annotations

from typing import Any

from case_lines import (
    case_line,
    ready_lines,
    same,
    varied_clinical,
    varied_labs,
    varied_sections,
    vignette_lines,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_arrow import read_lines
from nenguide.batch.columnar.phase1 import phase1
from nenguide.batch.synth import generate
from nenguide.engine.case_input import LAB_STEP
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts
from nenguide.engine.kb import Knowledge


def _table_outputs(kb: Knowledge) -> set[str]:
    """The facts the fact tables set (precedence, the ``case`` list): the next step's."""
    return {
        kb.tables[t].output
        for role in ("precedence", "case")
        for t in kb.pathway.tables("facts", role)
    }


def _check(kb: Knowledge, lines: list[str]) -> tuple[int, int]:
    """(compared, left out: the per-case path or a contradiction) of the lines read."""
    ready, read = ready_lines(lines)
    if not ready:
        return 0, 0
    p = phase1(read_lines(read), kb)  # the lines as written
    outputs = _table_outputs(kb)
    compared = left = 0
    rows: Any = zip(
        ready,
        p.facts.to_dicts(),
        p.lab_index.to_dicts(),
        p.done.to_list(),
        p.extra.to_dicts(),
        p.issues.to_list(),
        p.per_case.to_list(),
        strict=True,
    )
    for case, facts, index, done, extra, issues, per_case in rows:
        ctx = Context(kb, "en", notes=False)
        want = case_facts(ctx, case)
        if per_case or want["conflicted"]:
            left += 1
            continue
        assert set(want) - set(facts) <= outputs | {"conflicted"}, case.model_dump_json()
        diffs = {
            k: (want.get(k), v)
            for k, v in facts.items()
            if k not in outputs and not same(want.get(k), v)
        }
        assert not diffs, (case.model_dump_json(), diffs)
        assert {k: v for k, v in index.items() if v is not None} == dict(want.lab_index)
        assert [(d["token"], d["date"]) for d in done] == list(want.done.items())
        assert tuple(extra["carriers"]) == want.extra["carriers"]
        assert tuple(extra["relative_genes"]) == want.extra["relative_genes"]
        assert {t["gene"]: t["result"] for t in extra["tested"]} == dict(want.extra["tested"])
        # the lab results' warnings (the consistency tables' issues are the next step's)
        lab_issues = [i["code"] for i in ctx.issues if i["step"] == LAB_STEP]
        assert issues == lab_issues, case.model_dump_json()
        compared += 1
    return compared, left


def test_every_vignette_as_case_facts(kb: Knowledge) -> None:
    compared, left = _check(kb, vignette_lines())
    assert compared >= 250, (compared, left)


def test_generated_cases_as_case_facts(kb: Knowledge) -> None:
    lines = [case_line(g.case) for g in generate(2000, seed=47)]
    compared, left = _check(kb, lines)
    assert compared >= 1500, (compared, left)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(
        st.one_of(varied_clinical(), varied_labs(), varied_sections()), min_size=1, max_size=8
    )
)
def test_varied_cases_as_case_facts(kb: Knowledge, lines: list[str]) -> None:
    _check(kb, lines)
