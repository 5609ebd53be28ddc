"""The engine's own phase 2, case by case, for the tests of the columns that come after it
(``case_pathway``, ``case_workup``): the facts before and after ``pathway_facts``, with the
classification and syndromes the engine gave, and the classification as the core program's
columns hold it."""

from __future__ import annotations

from typing import Any, NamedTuple

import polars as pl
from case_lines import ready_lines

from nenguide.batch.columnar.case_arrow import read_lines
from nenguide.batch.columnar.case_pathway import CLASSIFICATION, pathway_columns
from nenguide.batch.columnar.case_syndromes import syndrome_columns
from nenguide.batch.columnar.phase1 import phase1
from nenguide.engine.classify import classify
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts, pathway_facts
from nenguide.engine.kb import Knowledge
from nenguide.engine.syndromes import functional_syndromes


class Phase2(NamedTuple):
    cls: Any
    before: Any  # the facts of phase 1
    after: Any  # the facts with phase 2
    issues: list[Any]  # the issues phase 2 raised
    trace: list[Any]  # what phase 2 traced
    #: the classification is left open (a range of grades, candidate categories): the core
    #: program leaves such a case to the engine
    open: bool


def engine_phase2(kb: Knowledge, case: Any) -> Phase2:
    ctx = Context(kb, "en", notes=False)
    facts = case_facts(ctx, case)
    cls = classify(ctx, facts, case)
    syndromes = functional_syndromes(ctx, case, facts, cls)
    n_issues, n_trace = len(ctx.issues), len(ctx.trace)
    after = pathway_facts(ctx, facts, cls, syndromes)
    ranged = cls.grade is None and bool(cls.possible.get("grade"))
    left_open = ranged or bool(cls.possible_categories)
    return Phase2(cls, facts, after, ctx.issues[n_issues:], ctx.trace[n_trace:], left_open)


def classification_frame(engine: list[Phase2]) -> pl.DataFrame:
    """The engine's classifications as the core program's columns, the indices' own grades
    included."""
    return pl.DataFrame(
        {col: [e.cls.status.value if fact == "classification_status" else getattr(e.cls, fact)
               for e in engine] for fact, col in _CLASSIFICATION_COLUMNS.items()},
        schema=dict.fromkeys(_CLASSIFICATION_COLUMNS.values(), pl.String()),
    )  # fmt: skip


_CLASSIFICATION_COLUMNS = {
    **CLASSIFICATION,
    "grade_by_ki67": "classification_grade_by_ki67",
    "grade_by_mitoses": "classification_grade_by_mitoses",
}


class Columns(NamedTuple):
    """Phase 1 and 2 as columns, after the engine's own classification of each case."""

    ready: list[Any]  # the cases of the lines the columns read
    phase1: Any
    engine: list[Phase2]
    syndromes: Any
    phase2: Any
    facts: pl.DataFrame  # phase 1 and 2's facts with the classification's columns


def phase2_columns(kb: Knowledge, lines: list[str]) -> Columns | None:
    """The columns of the lines the columns read (``None``: none), the classification the
    engine's (as the core program's columns would hold it)."""
    ready, read = ready_lines(lines)
    if not ready:
        return None
    p = phase1(read_lines(read), kb)
    engine = [engine_phase2(kb, c) for c in ready]
    cls = classification_frame(engine)
    syn = syndrome_columns(p.facts, p.lab_index, kb)
    phase2 = pathway_columns(p.facts, cls, syn, kb)
    facts = p.facts.with_columns(phase2.facts)
    facts = pl.concat([facts, cls.drop([c for c in cls.columns if c in facts.columns])],
                      how="horizontal")  # fmt: skip
    return Columns(ready, p, engine, syn, phase2, facts)
