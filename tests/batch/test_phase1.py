"""Phase 1 of the fact layer as columns (``nenguide.batch.columnar.phase1``): on every case
the columns read, every fact (the fact tables' included, and the facts a contradiction made
unknown), the lab index, what was done, the bookkeeping beside the facts, the issues and the
unconfirmed rules read equal to what ``engine.fact_layer.case_facts`` gives."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import polars as pl
import pytest
from case_lines import (
    case_line,
    contradiction_lines,
    ready_lines,
    same,
    special_lab_lines,
    unconfirmed_read,
    varied_clinical,
    varied_contradictions,
    varied_labs,
    varied_sections,
    vignette_lines,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_arrow import read_lines
from nenguide.batch.columnar.case_tables import MixedOutputs, output_dtype
from nenguide.batch.columnar.phase1 import phase1
from nenguide.batch.synth import generate
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts
from nenguide.engine.kb import Knowledge
from nenguide.engine.tables import compile_table
from nenguide.mutation.runner import with_tables


def _check(kb: Knowledge, lines: list[str]) -> tuple[int, int, int]:
    """(compared, left out: the per-case path, compared with a contradiction) of the lines
    read."""
    ready, read = ready_lines(lines)
    if not ready:
        return 0, 0, 0
    p = phase1(read_lines(read), kb)  # the lines as written
    compared = left = conflicted = 0
    rows: Any = zip(
        ready,
        p.facts.to_dicts(),
        p.lab_index.to_dicts(),
        p.done.to_list(),
        p.extra.to_dicts(),
        p.issues.to_list(),
        p.unconfirmed.to_list(),
        p.per_case.to_list(),
        strict=True,
    )
    for case, facts, index, done, extra, issues, unconfirmed, per_case in rows:
        ctx = Context(kb, "en", notes=False)
        want = case_facts(ctx, case)
        if per_case:
            left += 1
            continue
        assert set(want) <= set(facts), (case.model_dump_json(), set(want) - set(facts))
        facts["conflicted"] = tuple(facts["conflicted"])
        diffs = {k: (want.get(k), v) for k, v in facts.items() if not same(want.get(k), v)}
        assert not diffs, (case.model_dump_json(), diffs)
        assert {k: v for k, v in index.items() if v is not None} == dict(want.lab_index)
        assert [(d["token"], d["date"]) for d in done] == list(want.done.items())
        assert tuple(extra["carriers"]) == want.extra["carriers"]
        assert tuple(extra["relative_genes"]) == want.extra["relative_genes"]
        assert {t["gene"]: t["result"] for t in extra["tested"]} == dict(want.extra["tested"])
        # the lab results' warnings, then the consistency tables' issues
        assert issues == [i["code"] for i in ctx.issues], case.model_dump_json()
        assert unconfirmed == unconfirmed_read(kb, ctx.trace), case.model_dump_json()
        conflicted += bool(want["conflicted"])
        compared += 1
    return compared, left, conflicted


def test_every_vignette_as_case_facts(kb: Knowledge) -> None:
    compared, left, conflicted = _check(kb, vignette_lines())
    assert compared >= 250 and conflicted >= 5, (compared, left, conflicted)


def test_generated_cases_as_case_facts(kb: Knowledge) -> None:
    lines = [case_line(g.case) for g in generate(2000, seed=47)]
    compared, left, _ = _check(kb, lines)
    assert compared >= 1500, (compared, left)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(
        st.one_of(varied_clinical(), varied_labs(), varied_sections(), varied_contradictions()),
        min_size=1,
        max_size=8,
    )
)
def test_varied_cases_as_case_facts(kb: Knowledge, lines: list[str]) -> None:
    _check(kb, lines)


def test_contradictions_as_case_facts(kb: Knowledge) -> None:
    """Cases drawn to contradict themselves or sit on the consistency tables' cut-offs: the
    facts made unknown, ``conflicted``, the issues and the unconfirmed rules read (the size
    checks are unconfirmed content) as the engine's."""
    compared, left, conflicted = _check(kb, contradiction_lines(2000, seed=11))
    assert compared >= 1500, (compared, left)
    assert conflicted >= 300, conflicted


def _edited(kb: Knowledge) -> Knowledge:
    """A copy of the package that reaches what this one cannot: every row of the phase-1 fact
    tables unconfirmed (the rules the trace names of a first table: its candidate rows), and
    the node-status table evaluated again, last in the ``case`` list (it then reads the facts
    a contradiction made unknown: the tables run after the consistency checks, in order)."""
    facts = kb.pathway.steps["facts"]
    ids = [t for role in ("precedence", "consistency", "case") for t in facts.lists[role]]
    tables = dict(kb.tables)
    for t in ids:
        spec = kb.tables[t].spec
        rows = [r.model_copy(update={"status": "unconfirmed"}) for r in spec.rows]
        tables[t] = compile_table(spec.model_copy(update={"rows": rows}))
    lists = {**facts.lists, "case": [*facts.lists["case"], facts.lists["precedence"][0]]}
    steps = {**kb.pathway.steps, "facts": facts.model_copy(update={"lists": lists})}
    pathway = kb.pathway.model_copy(update={"steps": steps})
    return with_tables(replace(kb, pathway=pathway), tables)


def test_special_lab_results_as_case_facts(kb: Knowledge) -> None:
    """An infinite multiple of the upper limit matches no bound, as in the engine."""
    compared, _, _ = _check(kb, special_lab_lines())
    assert compared == len(special_lab_lines())


def test_unconfirmed_rows_and_a_table_after_the_checks(kb: Knowledge) -> None:
    edited = _edited(kb)
    assert len(edited.unconfirmed_rules) > len(kb.unconfirmed_rules)
    lines = vignette_lines() + contradiction_lines(600, seed=5)
    compared, left, conflicted = _check(edited, lines)
    assert compared >= 700 and conflicted >= 100, (compared, left, conflicted)


def test_a_table_of_mixed_outputs_is_refused(kb: Knowledge) -> None:
    """No column holds a fact set to a flag by one row and a word by another: the columnar
    fact layer refuses such a table when it compiles it, naming it, instead of a wrong type."""
    t = kb.tables[kb.pathway.tables("facts", "case")[0]]
    assert output_dtype(t) == pl.Boolean()
    rows = [t.spec.rows[0].model_copy(update={"then": {t.output: "present"}}), *t.spec.rows[1:]]
    mixed = compile_table(t.spec.model_copy(update={"rows": rows}))
    with pytest.raises(MixedOutputs, match=t.spec.id):
        output_dtype(mixed)
