"""The treatment step's key as columns (``nenguide.batch.columnar.case_treatment``): cases
with one key get one answer from the engine's step - the options as the flat row shows them,
the MDT flag and its reasons, the codes and kinds of the step's issues and the unconfirmed
rules it traced - on every case the columns read and do not leave to the engine; the key is
about as coarse as the batch program's own; and ``derive_facts`` reads for its own facts no
more than the key's view gives it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import chain
from typing import Any

import polars as pl
from case_lines import (
    case_line,
    contradiction_lines,
    ready_lines,
    varied_clinical,
    varied_sections,
    vignette_lines,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.backend import program
from nenguide.batch.columnar.case_arrow import read_lines
from nenguide.batch.columnar.case_core import core_frame
from nenguide.batch.columnar.case_pathway import pathway_columns
from nenguide.batch.columnar.case_syndromes import syndrome_columns
from nenguide.batch.columnar.case_treatment import GRADES, LIVER_TYPE, _joined_sets, treatment_key
from nenguide.batch.columnar.phase1 import phase1
from nenguide.batch.columnar.treatment import TreatmentProgram
from nenguide.batch.flatten import mdt_columns, treatment_columns
from nenguide.batch.synth import generate
from nenguide.engine.classify import classify
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts, pathway_facts
from nenguide.engine.kb import Knowledge
from nenguide.engine.liver import liver_type
from nenguide.engine.stage import stage
from nenguide.engine.syndromes import functional_syndromes
from nenguide.engine.treatment import DIRECT_READS, mdt_issues_before, treatment
from nenguide.engine.treatment_data import effective_site
from nenguide.engine.treatment_facts import DERIVED_READS, SHARED, derive_facts
from nenguide.engine.workup import workup
from nenguide.model.assessment import IssueKind


def _engine(kb: Knowledge, prog: TreatmentProgram, case: Any) -> tuple[Any, ...]:
    """The engine up to the treatment step on ``case``: whether a conflict was reported
    before it, the program's key, and the step's answer as the flat row shows it."""
    ctx = Context(kb, "en", notes=False)
    facts = case_facts(ctx, case)
    cls = classify(ctx, facts, case)
    stg = stage(ctx, facts, case, cls)
    liver = liver_type(ctx, facts, cls)
    syndromes = functional_syndromes(ctx, case, facts, cls)
    after = pathway_facts(ctx, facts, cls, syndromes)
    work = workup(ctx, case, after, cls, stg, liver, syndromes)
    del work
    # as the batch keys it (lines.py): a conflict, and the issues that are MDT reasons
    mdt = mdt_issues_before(kb, ctx.issues)
    conflict = f"{any(i['kind'] is IssueKind.conflict for i in ctx.issues)}{mdt or ''}"
    key = prog._key(ctx, after, cls, liver)
    n_issues, n_trace = len(ctx.issues), len(ctx.trace)
    options, mdt = treatment(ctx, case, after, cls, stg, liver, syndromes, None)
    traced = set(chain.from_iterable(t["rule_ids"] for t in ctx.trace[n_trace:]))
    answer = (
        repr(treatment_columns(options)),
        repr(mdt_columns(mdt)),
        tuple((i["code"], str(i["kind"])) for i in ctx.issues[n_issues:]),
        tuple(sorted(kb.unconfirmed_rules & traced)),
    )
    return conflict, key, answer


def _columns(
    kb: Knowledge, lines: list[str]
) -> tuple[list[Any], Any, pl.DataFrame, pl.DataFrame, Any]:
    """The cases of the lines the columns read, their phase 1, the core program's columns,
    the facts the key reads (phase 1 and 2 with the core's grades and liver type) and phase
    2's bits of the facts it can leave open."""
    ready, read = ready_lines(lines)
    table = read_lines(read)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    p = phase1(table, kb)
    core = program(kb).run(core_frame(p.facts, frame, program(kb)))
    cls = core.select("classification_category", "classification_status", *GRADES, LIVER_TYPE)
    phase2 = pathway_columns(p.facts, cls, syndrome_columns(p.facts, p.lab_index, kb), kb)
    facts = pl.concat([p.facts.with_columns(phase2.facts), cls.select(*GRADES, LIVER_TYPE)],
                      how="horizontal")  # fmt: skip
    return ready, p, core, facts, phase2.masks


def _check(kb: Knowledge, lines: list[str]) -> tuple[int, int, int]:
    """(cases keyed by the columns, their distinct keys here, their distinct keys in the
    program) of the lines the columns read."""
    if not ready_lines(lines)[0]:
        return 0, 0, 0
    ready, p, core, facts, masks = _columns(kb, lines)
    prog = TreatmentProgram(kb, "en")
    engine = [_engine(kb, prog, c) for c in ready]
    conflicts = pl.Series([e[0] for e in engine], dtype=pl.String())
    key = treatment_key(facts, conflicts, kb, masks)
    seen: dict[tuple[Any, ...], Any] = {}
    theirs = set()
    keyed = 0
    for i, (row, fb) in enumerate(zip(key.frame.rows(), key.fallback, strict=True)):
        if p.per_case[i] or core["core_fallback"][i] or fb:
            continue
        _, pkey, answer = engine[i]
        why = (ready[i].model_dump_json(), row)
        assert seen.setdefault(row, answer) == answer, why
        theirs.add(pkey)
        keyed += 1
    return keyed, len(seen), len(theirs)


def test_every_vignette_one_answer_per_key(kb: Knowledge) -> None:
    keyed, ours, theirs = _check(kb, vignette_lines())
    assert ours >= 50 and ours <= theirs * 1.2, (keyed, ours, theirs)


def test_generated_cases_one_answer_per_key(kb: Knowledge) -> None:
    lines = [case_line(g.case) for g in generate(3000, seed=71)] + contradiction_lines(1000, 23)
    keyed, ours, theirs = _check(kb, lines)
    assert ours >= 300 and ours <= theirs * 1.2, (keyed, ours, theirs)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.one_of(varied_clinical(), varied_sections()), min_size=2, max_size=10))
def test_varied_cases_one_answer_per_key(kb: Knowledge, lines: list[str]) -> None:
    _check(kb, lines)


class _Reads(Mapping[str, Any]):
    """A mapping that records the keys read."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values, self.read = values, set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return self.values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("derive_facts must read facts by name")

    def __len__(self) -> int:
        return len(self.values)


def test_derive_facts_reads_what_the_key_declares(kb: Knowledge) -> None:
    """The key gives ``derive_facts`` only ``DERIVED_READS`` to derive its own facts from:
    it must read nothing else but the facts it copies (``SHARED``)."""
    from nenguide.model.assessment import LiverMetastasis, Status

    site = effective_site(kb, None)
    for g in generate(200, seed=73):
        facts = case_facts(Context(kb, "en", notes=False), parse(g.case))
        rec = _Reads(dict(facts))
        derive_facts(rec, LiverMetastasis(status=Status.NOT_APPLICABLE), site)
        assert rec.read <= set(SHARED) | set(DERIVED_READS), rec.read - set(SHARED)


def parse(raw: Any) -> Any:
    from nenguide.errors import parse_case

    return parse_case(raw)


def test_the_key_holds_what_the_answer_depends_on(kb: Knowledge) -> None:
    """The parts the program's key has that generated cases seldom tell apart are in the key
    all the same: the setting's deciding row, the inputs each collect table's waiting rows
    wait on, the facts the step's Python reads itself, the conflict reported before."""
    ready, _, _, facts, masks = _columns(kb, vignette_lines()[:20])
    key = treatment_key(facts, pl.Series([False] * len(ready)), kb, masks)
    n_collect = len(kb.pathway.tables("treatment", "collect"))
    want = {"set_cands", "set_k", "conflict_before", "caveats_unconfirmed"}
    want |= {f"direct_{r}" for r in DIRECT_READS}
    want |= {f"col{j}_{x}" for j in range(n_collect) for x in ("applies", "waits", "missing")}
    # an open setting: the setting table's unknown inputs, the open input's value, and per
    # other value of it the setting table's answer and its tables' answers under it; a
    # gastric cause or type left open: its candidates (each part a guard: with this package
    # the tables' answers already tell these cases apart)
    want |= {"_nulls", "_open_value", "open_gastric_cause", "open_gastric_type"}
    want |= {f"cand{j}_{x}" for j in range(3) for x in ("set_cands", "set_k", "col0_applies")}
    assert want <= set(key.frame.columns), want - set(key.frame.columns)


@settings(max_examples=150, deadline=None)
@given(
    sets=st.lists(
        st.one_of(st.none(), st.lists(st.sampled_from(["sunitinib", "ssa", "a", "B", ""]))),
        min_size=1,
        max_size=20,
    )
)
def test_a_set_read_as_a_key_part_is_its_items_sorted_and_joined(
    sets: list[list[str] | None],
) -> None:
    """A list fact in the key (a set of therapies, the inputs a cause waits on) is its items
    sorted and joined (worked out on the items since session 22): as ``list.sort`` and
    ``list.join`` give it, an empty list as ``""`` and a missing one as null."""
    facts = pl.DataFrame({"s": sets}, schema={"s": pl.List(pl.String())})
    want = facts.select(pl.col("s").list.sort().list.join("\u001f")).to_series().to_list()
    assert _joined_sets(facts, ["s"])["_joined_s"].to_list() == want
