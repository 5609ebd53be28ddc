"""The fact layer's phase 2 as columns (``nenguide.batch.columnar.case_pathway``): on every
case the columns read whose classification has no range of grades, every fact phase 2 sets,
its issues and the unconfirmed rules it read equal to what ``engine.fact_layer.pathway_facts``
gives after the engine's own classification and syndrome steps; a case it sends to the
per-case path is one whose phase 2 holds a range of candidates."""

from __future__ import annotations

import json
from itertools import product
from typing import Any

import pytest
from case_lines import (
    case_line,
    contradiction_lines,
    ready_lines,
    same,
    special_lab_lines,
    unconfirmed_read,
    varied_clinical,
    varied_labs,
    varied_sections,
    vignette_lines,
)
from engine_phase2 import classification_frame, engine_phase2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_arrow import read_lines
from nenguide.batch.columnar.case_pathway import pathway_columns
from nenguide.batch.columnar.case_syndromes import syndrome_columns
from nenguide.batch.columnar.phase1 import phase1
from nenguide.batch.synth import generate
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.tables import compile_table
from nenguide.mutation.runner import with_tables


def _check(kb: Knowledge, lines: list[str]) -> tuple[int, int]:
    """(compared, of which with the gastric cause left open between candidates) of the lines
    the columns read."""
    ready, read = ready_lines(lines)
    if not ready:
        return 0, 0
    p = phase1(read_lines(read), kb)
    engine = [engine_phase2(kb, c) for c in ready]
    cls = classification_frame(engine)
    syn = syndrome_columns(p.facts, p.lab_index, kb)
    got = pathway_columns(p.facts, cls, syn, kb)
    compared = opened = 0
    rows: Any = zip(
        ready, engine, got.facts.to_dicts(), got.issues.to_list(), got.kinds.to_list(),
        got.unconfirmed.to_list(), p.per_case.to_list(), strict=True,
    )  # fmt: skip
    for case, engine_says, facts, issues, kinds, unc, pc1 in rows:
        _, before, want, issues_w, trace_w, left_open = engine_says
        if pc1 or left_open:  # phase 1's per-case path, or a classification left open (the core's)
            continue
        why = case.model_dump_json()
        for fact, bits in got.masks.items():
            # the candidates as a mask (one bit each), the value null while several are left
            v = want[fact]
            candidates = v.values if isinstance(v, OneOf) else [] if v is None else [v]
            mask = facts.pop(f"{fact}_mask")
            assert mask == (sum(1 << bits[c] for c in candidates) if candidates else None), why
            if isinstance(v, OneOf):
                assert facts[fact] is None, why
                facts[fact] = v
        opened += isinstance(want["gastric_cause"], OneOf)
        set_ = {k for k in want if k not in before or not same(before[k], want[k])}
        assert set_ <= set(facts), (why, set_ - set(facts))
        facts["gastric_cause_missing"] = tuple(facts["gastric_cause_missing"])
        diffs = {k: (want[k], facts[k]) for k in set_ if not same(want[k], facts[k])}
        assert not diffs, (why, diffs)
        assert issues == [i["code"] for i in issues_w], why
        assert kinds == [str(getattr(i["kind"], "value", i["kind"])) for i in issues_w], why
        assert sorted(set(unc)) == unconfirmed_read(kb, trace_w), why
        compared += 1
    return compared, opened


def test_every_vignette_as_the_engine(kb: Knowledge) -> None:
    compared, opened = _check(kb, vignette_lines())
    assert compared >= 250, (compared, opened)


def test_generated_cases_as_the_engine(kb: Knowledge) -> None:
    compared, opened = _check(kb, [case_line(g.case) for g in generate(3000, seed=31)])
    assert compared >= 2500, (compared, opened)


def test_contradictions_as_the_engine(kb: Knowledge) -> None:
    compared, opened = _check(kb, contradiction_lines(1000, seed=3))
    assert compared >= 800 and opened >= 100, (compared, opened)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(
        st.one_of(varied_clinical(), varied_labs(), varied_sections()), min_size=1, max_size=8
    )
)
def test_varied_cases_as_the_engine(kb: Knowledge, lines: list[str]) -> None:
    _check(kb, lines)


def test_every_rule_unconfirmed(kb: Knowledge) -> None:
    """A copy of the package with every row of phase 2's tables unconfirmed: the rules named
    are the candidate rows of the first tables, the rows of the count that apply and those of
    the look-ups of the syndrome flags, once per status looked up."""
    facts = kb.pathway.steps["facts"]
    roles = ("syndrome_active", "men1_major", "gastric_cause")
    ids = [*facts.lists["pathway"], *(facts.tables[r] for r in roles)]
    tables = dict(kb.tables)
    for t in ids:
        spec = kb.tables[t].spec
        rows = [r.model_copy(update={"status": "unconfirmed"}) for r in spec.rows]
        tables[t] = compile_table(spec.model_copy(update={"rows": rows}))
    lines = vignette_lines() + contradiction_lines(300, seed=9) + special_lab_lines()
    compared, opened = _check(with_tables(kb, tables), lines)
    assert compared >= 450 and opened >= 20, (compared, opened)


_BASE = [g.case for g in generate(6, seed=13)]
_GASTRIN = {
    "none": None,
    "high": {"analyte": "gastrin", "value": 900.0, "unit": "pg/mL", "reference_high": 100.0,
             "context": {"on_ppi": False}},
    "normal": {"analyte": "gastrin", "value": 40.0, "unit": "pg/mL", "reference_high": 100.0,
               "context": {"on_ppi": False}},
    "on_ppi": {"analyte": "gastrin", "value": 400.0, "unit": "pg/mL", "reference_high": 100.0,
               "context": {"on_ppi": True}},
}  # fmt: skip


def _history_lines() -> list[str]:
    """Every recorded-or-not combination of the history phase 2 reads (MEN1 diagnosed and
    its manifestations; atrophic gastritis and ZES with each gastrin result, for a gastric
    primary), on a pancreatic and a gastric primary."""
    out = []
    states: list[bool | None] = [None, True, False]
    for i, (a, b, c, d, g) in enumerate(product(states, states, states, states, _GASTRIN)):
        raw = json.loads(json.dumps(_BASE[i % len(_BASE)]))
        raw["tumour"] = {"primary_site": "stomach" if i // 4 % 2 else "pancreas", "size_cm": 1.2}
        history = {"men1_syndrome": a, "primary_hyperparathyroidism": b,
                   "autoimmune_atrophic_gastritis": c, "zollinger_ellison_syndrome": d}  # fmt: skip
        clinical = raw.setdefault("clinical", {})
        clinical["history"] = {k: v for k, v in history.items() if v is not None}
        clinical["labs"] = [_GASTRIN[g]] if _GASTRIN[g] else []
        out.append(case_line(raw))
    return out


def test_recorded_history_as_the_engine(kb: Knowledge) -> None:
    compared, opened = _check(kb, _history_lines())
    assert compared >= 250 and opened >= 12, (compared, opened)


def test_a_cause_decided_with_a_row_before_it_waiting(kb: Knowledge) -> None:
    """A copy of the package whose cause table has a first row that waits on the gastrin
    and gives the type the autoimmune row gives: with the gastrin unknown, the type is decided
    and the rule named is the row that applies, not the one before it that waits."""
    t = kb.tables[kb.pathway.table("facts", "gastric_cause")]
    aag = next(r for r in t.spec.rows if r.then.get(t.output) == "type1")
    waiting = aag.model_copy(update={"id": f"{aag.id}.HIGH_GASTRIN",
                                     "when": {"aag": "present", "gastrin": "high"}})  # fmt: skip
    table = compile_table(t.spec.model_copy(update={"rows": [waiting, *t.spec.rows]}))
    edited = with_tables(kb, {**kb.tables, t.spec.id: table})
    compared, _ = _check(edited, _history_lines())
    assert compared >= 250, compared


def test_special_lab_results_as_the_engine(kb: Knowledge) -> None:
    compared, _ = _check(kb, special_lab_lines())
    assert compared == len(special_lab_lines()), compared


def test_a_cause_left_open_on_one_value(kb: Knowledge) -> None:
    """A copy of the package whose cause table gives one type by two rows that differ in
    another part of their answer: with the gastrin unknown both wait, the table is undecided
    and the engine keeps the one value as the cause, and no type."""
    t = kb.tables[kb.pathway.table("facts", "gastric_cause")]
    rows = list(t.spec.rows)
    first = next(i for i, r in enumerate(rows) if r.then.get(t.output) == "type3")
    second = next(i for i, r in enumerate(rows) if r.then.get(t.output) == "unexplained")
    rows[second] = rows[second].model_copy(
        update={"then": {t.output: "type3", "reason": "another"}}
    )
    assert rows[first].then != rows[second].then
    edited = with_tables(kb, {**kb.tables, t.spec.id: compile_table(
        t.spec.model_copy(update={"rows": rows}))})  # fmt: skip
    compared, _ = _check(edited, _history_lines())
    assert compared >= 250, compared


def test_the_masks_handed_out_cannot_be_changed(kb: Knowledge) -> None:
    """The bits of the facts left open are the package's program's, kept for every chunk: a
    caller that changed them would change the next chunk's answers."""
    ready, read = ready_lines(vignette_lines()[:5])
    p = phase1(read_lines(read), kb)
    cls = classification_frame([engine_phase2(kb, c) for c in ready])
    got = pathway_columns(p.facts, cls, syndrome_columns(p.facts, p.lab_index, kb), kb)
    fact = next(iter(got.masks))
    with pytest.raises(TypeError):
        got.masks[fact] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        got.masks[fact][next(iter(got.masks[fact]))] = 99  # type: ignore[index]
