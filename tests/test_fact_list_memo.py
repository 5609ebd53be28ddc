"""The fact layer's ``case`` list memoised as a whole (engine.fact_layer._first_tables_as_one):
one look-up gives the facts its ten tables set and their trace entries. These tests check that
a case given the list's answer from the memo (filled by other cases) gets the same facts and
the same trace as with an empty memo, that answers are shared, and that the key holds every
value the list's tables read but the facts an earlier table of the list sets. The ``pathway``
list (phase 2) is memoised by runs of tables that read no number
(engine.fact_layer._first_tables_by_run): the same checks for its runs."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from nenguide.batch.synth import generate
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import (
    _first_tables,
    _first_tables_as_one,
    _first_tables_by_run,
    _list_inputs,
    _list_runs,
    case_facts,
)
from nenguide.engine.kb import Knowledge
from nenguide.errors import CaseInputError, parse_case
from nenguide.model.case import Case


def _cases(n: int, seed: int) -> list[Case]:
    """Generated cases, some given random symptoms and history items (the list's inputs)."""
    rng = random.Random(seed)
    out = []
    for s in generate(n, seed=seed):
        d: dict[str, Any] = dict(s.case)
        clin = dict(d.get("clinical") or {})
        if rng.random() < 0.5:
            clin["symptoms"] = {
                k: rng.random() < 0.4
                for k in rng.sample(
                    ["flushing", "secretory_diarrhoea", "bronchospasm", "new_diabetes",
                     "cholelithiasis", "steatorrhoea", "hypoglycaemia_symptoms"], rng.randint(0, 4)
                )
            }  # fmt: skip
        if rng.random() < 0.5:
            clin["history"] = {
                k: rng.random() < 0.4
                for k in rng.sample(
                    ["autoimmune_atrophic_gastritis", "zollinger_ellison_syndrome",
                     "cafe_au_lait_macules", "neurofibromas", "facial_angiofibromas",
                     "cns_haemangioblastoma", "pheochromocytoma_paraganglioma"],
                    rng.randint(0, 4),
                )
            }  # fmt: skip
        d["clinical"] = clin
        try:
            out.append(parse_case(d))
        except CaseInputError:
            continue
    return out


def _facts_and_trace(kb: Knowledge, case: Case) -> tuple[dict[str, Any], list[Any]]:
    ctx = Context(kb, "en")
    facts = case_facts(ctx, case)
    return dict(facts), list(ctx.trace)


def test_a_list_from_the_memo_sets_the_same_facts_and_trace(kb: Knowledge) -> None:
    kb = replace(kb, memo={})  # a memo of its own, emptied and filled here
    cases = _cases(600, seed=71)
    assert len(cases) > 400
    cold = []
    for case in cases:
        kb.memo.clear()
        cold.append(_facts_and_trace(kb, case))
    kb.memo.clear()
    for case in reversed(cases):  # the memo filled by the other cases first
        _facts_and_trace(kb, case)
    lists = [k for k in kb.memo if k[0] == "fact_list"]
    # answers shared between cases (even with random symptoms and history items)
    assert 0 < len(lists) < len(cases) * 0.8
    warm = [_facts_and_trace(kb, case) for case in cases]
    assert warm == cold


def test_the_key_holds_every_value_the_list_reads(kb: Knowledge) -> None:
    ctx = Context(kb, "en")
    ids, names = _list_inputs(ctx, "case")
    assert len(ids) > 1
    set_before: set[str] = set()
    for table_id in ids:
        table = kb.tables[table_id]
        assert set(table.names) - set_before <= set(names), table_id
        set_before.add(table.output)
    assert len(set(names)) == len(names)


def test_each_value_the_list_reads_gets_its_own_answer(kb: Knowledge) -> None:
    """Variants of generated cases' facts that differ in one value the list reads (each value
    the generated cases show for it, unknown, and true and false for a yes/no fact), evaluated
    one after the other on one memo: each gets what the list's tables give table by table.
    (Values of the fact's own kind only: a memo key does not tell true from 1.)"""
    kb = replace(kb, memo={})  # a memo of its own: the variants are no real cases
    _, names = _list_inputs(Context(kb, "en"), "case")
    bases = [dict(case_facts(Context(kb, "en"), case)) for case in _cases(200, seed=72)]
    seen: dict[str, set[Any]] = {}
    for n in names:
        values = {b.get(n) for b in bases} | {None}
        if values <= {True, False, None}:
            values |= {True, False}
        seen[n] = values
    checked = _variants_agree(kb, bases[:25], seen, "case", _first_tables_as_one)
    assert checked > 1000


def _variants_agree(
    kb: Knowledge,
    bases: list[dict[str, Any]],
    values: dict[str, set[Any]],
    role: str,
    memoised: Callable[[Context, dict[str, Any], str], None],
) -> int:
    """Each of ``bases`` with one input of list ``role`` set to each of its ``values``, one
    after the other on one memo: ``memoised`` sets the facts and trace entries, in order, that
    the list's tables give one by one. Returns how many variants were checked."""
    checked = 0
    for base in bases:
        for name, vs in values.items():
            for v in sorted(vs, key=repr):
                variant = {**base, name: v}
                got_ctx, want_ctx = Context(kb, "en"), Context(kb, "en")
                got, want = dict(variant), dict(variant)
                memoised(got_ctx, got, role)
                _first_tables(want_ctx, want, role)
                assert (got, got_ctx.trace) == (want, want_ctx.trace), (name, v)
                checked += 1
    return checked


def test_the_pathway_list_runs_cover_it_in_order(kb: Knowledge) -> None:
    """Each table of list ``pathway`` once, in the list's order; a table that reads a number
    alone; each run of more than one table reads no number, and its key holds every value
    its tables read but the facts an earlier table of the run sets."""
    ctx = Context(kb, "en")
    ids, _ = _list_inputs(ctx, "pathway")
    runs = _list_runs(ctx, "pathway")
    assert tuple(t for run, _ in runs for t in run) == ids
    assert any(names is not None for _, names in runs)  # something is memoised as a whole
    for run, names in runs:
        reads_number = [
            any(i.type == "number" for i in kb.tables[t].spec.inputs.values()) for t in run
        ]
        if names is None:
            assert len(run) == 1
            continue
        assert len(run) > 1 and not any(reads_number)
        set_before: set[str] = set()
        for table_id in run:
            table = kb.tables[table_id]
            assert set(table.names) - set_before <= set(names), table_id
            set_before.add(table.output)
    # the number the package's list reads (the tumour size) is looked up table by table
    assert any(names is None and "size_cm" in kb.tables[run[0]].names for run, names in runs)


def test_the_pathway_list_by_runs_sets_what_table_by_table_sets(kb: Knowledge) -> None:
    """Variants of the inputs of list ``pathway`` (every value generated cases show for each
    input, unknown, and true and false for a yes/no fact), one after the other on one memo:
    each gets the facts and trace entries, in order, that the list's tables give one by one."""
    kb = replace(kb, memo={})  # a memo of its own: the variants are no real cases
    ctx0 = Context(kb, "en")
    _, names = _list_inputs(ctx0, "pathway")
    bases = [dict(case_facts(Context(kb, "en"), case)) for case in _cases(200, seed=73)]
    values: dict[str, set[Any]] = {n: {None} for n in names}
    domain = {
        n: i for t in _list_inputs(ctx0, "pathway")[0] for n, i in kb.tables[t].spec.inputs.items()
    }
    for n in names:
        spec = domain[n]
        if spec.type == "bool":
            values[n] |= {True, False}
        elif spec.type == "enum":
            values[n] |= set(spec.values or ())
        else:
            values[n] |= {0.5, 0.9, 1.0, 1.5, 2.0, 3.0}
    checked = _variants_agree(kb, bases[:20], values, "pathway", _first_tables_by_run)
    assert checked > 500
    # runs were answered from the memo (the variants share most of their values)
    assert sum(1 for k in kb.memo if k[0] == "fact_list") < checked
