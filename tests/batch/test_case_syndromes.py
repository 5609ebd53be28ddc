"""The functional-syndrome step as columns (``nenguide.batch.columnar.case_syndromes``): on
every case the columns read, the syndromes evaluated, their statuses and the rules that gave
them, the step's issues (codes and kinds, in order) and the unconfirmed rules it read equal to
what ``engine.syndromes.functional_syndromes`` gives on the engine's own facts."""

from __future__ import annotations

from typing import Any

from case_lines import (
    case_line,
    ready_lines,
    special_lab_lines,
    unconfirmed_read,
    varied_clinical,
    varied_labs,
    vignette_lines,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_arrow import read_lines
from nenguide.batch.columnar.case_syndromes import syndrome_columns
from nenguide.batch.columnar.phase1 import phase1
from nenguide.batch.synth import generate
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts
from nenguide.engine.kb import Knowledge
from nenguide.engine.syndromes import functional_syndromes
from nenguide.engine.tables import compile_table
from nenguide.mutation.runner import with_tables


def _chosen(kb: Knowledge, item: Any) -> str | None:
    ids = item["rule_ids"]
    tables = kb.pathway.tables("functional_syndromes", "syndromes")
    own = {r.id for t in tables for r in kb.tables[t].rows}
    return ids[0] if ids and ids[0] in own else None


def _check(kb: Knowledge, lines: list[str]) -> tuple[int, int]:
    """(compared, of which with a syndrome evaluated) of the lines the columns read."""
    ready, read = ready_lines(lines)
    if not ready:
        return 0, 0
    p = phase1(read_lines(read), kb)
    got = syndrome_columns(p.facts, p.lab_index, kb)
    compared = evaluated = 0
    rows: Any = zip(
        ready,
        got.names.to_list(),
        got.statuses.to_list(),
        got.rules.to_list(),
        got.issues.to_list(),
        got.kinds.to_list(),
        got.unconfirmed.to_list(),
        got.by_syndrome.to_dicts(),
        p.per_case.to_list(),
        strict=True,
    )
    for case, names, statuses, rules, issues, kinds, unconfirmed, by_syndrome, per_case in rows:
        if per_case:
            continue
        ctx = Context(kb, "en", notes=False)
        facts = case_facts(ctx, case)
        n_issues, n_trace = len(ctx.issues), len(ctx.trace)
        want = functional_syndromes(ctx, case, facts, None)  # type: ignore[arg-type]
        why = case.model_dump_json()
        assert names == [s["syndrome"] for s in want], why
        assert statuses == [s["status"] for s in want], why
        assert {k: v for k, v in by_syndrome.items() if v is not None} == {
            s["syndrome"]: s["status"] for s in want
        }, why
        # the rule that gave the status: the item's first rule, when one of its table's rows
        # (none applied: its rules are the interference and heart-disease rows)
        assert rules == [_chosen(kb, s) for s in want], why
        step_issues = ctx.issues[n_issues:]
        assert issues == [i["code"] for i in step_issues], why
        assert kinds == [str(getattr(i["kind"], "value", i["kind"])) for i in step_issues], why
        assert sorted(set(unconfirmed)) == unconfirmed_read(kb, ctx.trace[n_trace:]), why
        compared += 1
        evaluated += bool(want)
    return compared, evaluated


def test_every_vignette_as_the_engine(kb: Knowledge) -> None:
    compared, evaluated = _check(kb, vignette_lines())
    assert compared >= 250 and evaluated >= 40, (compared, evaluated)


def test_generated_cases_as_the_engine(kb: Knowledge) -> None:
    compared, evaluated = _check(kb, [case_line(g.case) for g in generate(3000, seed=29)])
    assert compared >= 2500 and evaluated >= 120, (compared, evaluated)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.one_of(varied_clinical(), varied_labs()), min_size=1, max_size=8))
def test_varied_cases_as_the_engine(kb: Knowledge, lines: list[str]) -> None:
    _check(kb, lines)


def test_every_rule_unconfirmed(kb: Knowledge) -> None:
    """A copy of the package with every row of the step's tables unconfirmed (this package has
    none): the rules named are those of the tables consulted that apply. Its heart-disease
    table's first row no longer reads the carcinoid status: the table is still consulted only
    where the carcinoid syndrome is evaluated."""
    step = kb.pathway.steps["functional_syndromes"]
    ids = [*step.tables.values(), *step.lists["syndromes"]]
    tables = dict(kb.tables)
    for t in ids:
        spec = kb.tables[t].spec
        rows = [r.model_copy(update={"status": "unconfirmed"}) for r in spec.rows]
        if t == step.tables["chd"]:
            when = {k: v for k, v in rows[0].when.items() if k != "carcinoid_status"}
            rows[0] = rows[0].model_copy(update={"when": when})
        tables[t] = compile_table(spec.model_copy(update={"rows": rows}))
    edited = with_tables(kb, tables)
    compared, evaluated = _check(edited, vignette_lines() + special_lab_lines())
    assert compared >= 250 and evaluated >= 40, (compared, evaluated)


def test_special_lab_results_as_the_engine(kb: Knowledge) -> None:
    """A gastrin infinitely many times its upper limit matches no bound (a finite number
    only), so the gastrinoma is not confirmed on it, as in the engine."""
    compared, evaluated = _check(kb, special_lab_lines())
    assert compared == len(special_lab_lines()) and evaluated == compared, (compared, evaluated)
