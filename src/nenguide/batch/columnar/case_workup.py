"""The work-up step's key over a chunk's columns: what its answer, as the flat row shows it,
depends on (:mod:`.workup`, whose :class:`~.workup.WorkupProgram` computes the same key case
by case from the engine's facts):

* the outcome of the work-up table (role ``items``) on its view of the facts
  (:data:`nenguide.engine.workup.WORKUP_VIEW`, the metastatic inputs unknown while the status
  is): the rows that apply and the rows that wait on a missing input, each a bit mask;
* for each investigation a row names as satisfying it (``done_if_any`` / ``done_if_all``),
  whether it was done, where a row that applies or waits names it (null elsewhere: the
  answer does not read it).

Every condition is the table's own, compiled by :mod:`.compile`. The key is meant for the
engine's step to run once per distinct key, on one case that has it, its answer joined back
(docs/decisions/0004-speed-targets-need-a-decision.md). tests/batch/test_case_workup.py holds
it to the program's own key.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from nenguide.batch.columnar.compile import dtype_of, row_truth
from nenguide.batch.columnar.exprs import bit_mask
from nenguide.batch.columnar.plan import ENGINE
from nenguide.engine.kb import Knowledge
from nenguide.engine.pathway import KNOWN_MET_STATUSES
from nenguide.engine.workup import STEP, WORKUP_KNOWN_MET_ONLY, WORKUP_VIEW

#: rows per mask column (an Int64 holds 63 bits)
BLOCK = 62


@dataclass(frozen=True)
class WorkupKey:
    """The key, one row per case in order: ``applies_<b>`` and ``waits_<b>`` (the bits of
    rows ``b * BLOCK`` on of the table that apply, that wait on a missing input) and
    ``done_<investigation>`` for each investigation in ``investigations``."""

    frame: pl.DataFrame
    investigations: tuple[str, ...]


def workup_key(facts: pl.DataFrame, done: pl.Series, kb: Knowledge) -> WorkupKey:
    """The key over ``facts`` (phase 1 and phase 2's columns, the classification's included)
    and ``done`` (phase 1's list of what was done: ``token`` and ``date``)."""
    table = kb.tables[kb.pathway.table(STEP, "items")]
    known = pl.col("met_status").is_in(list(KNOWN_MET_STATUSES)).fill_null(False)
    view = []
    for name, fact in WORKUP_VIEW.items():
        if name not in table.spec.inputs:  # read by the step's texts only (no key part)
            continue
        col = pl.col(fact) if fact in facts.columns else pl.lit(None, dtype_of(table, name))
        if name in WORKUP_KNOWN_MET_ONLY:
            col = pl.when(known).then(col)
        view.append(col.alias(name))
    truths = row_truth(table)
    lf = (
        facts.lazy()
        .select(*view, done.alias("_done"))
        .with_columns([t.alias(f"_t{i}") for i, t in enumerate(truths)])
    )
    ts = [pl.col(f"_t{i}") for i in range(len(truths))]
    masks = []
    for b in range(0, len(ts), BLOCK):
        block = list(enumerate(ts[b : b + BLOCK]))
        masks.append(bit_mask([t.fill_null(False) for _, t in block]).alias(f"applies_{b}"))
        masks.append(bit_mask([t.is_null() for _, t in block]).alias(f"waits_{b}"))
    named: dict[str, list[pl.Expr]] = {}
    for i, row in enumerate(table.rows):
        for d in [str(d) for k in ("done_if_any", "done_if_all") for d in row.then.get(k) or ()]:
            named.setdefault(d, []).append(ts[i].is_null() | ts[i])
    tokens = pl.col("_done").list.eval(pl.element().struct.field("token"))
    flags = [
        pl.when(pl.any_horizontal(read).fill_null(False))
        .then(tokens.list.contains(pl.lit(d)))
        .alias(f"done_{d}")
        for d, read in sorted(named.items())
    ]
    frame = lf.select(*masks, *flags).collect(engine=ENGINE)
    return WorkupKey(frame, tuple(sorted(named)))
