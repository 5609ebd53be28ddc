"""The count of MEN1 manifestations in a first-degree relative (the counting table of role
``relative_men1_major``, :func:`nenguide.engine.fact_layer.case_facts`) as Polars operations
over the case columns of :mod:`.case_arrow`: part of the second step of the columnar fact layer
(docs/decisions/0004-speed-targets-need-a-decision.md).

The table decides what counts; the engine evaluates it (``Context.collect``), once per
distinct relative of the chunk: a relative is three inputs (primary hyperparathyroidism and a
pituitary adenoma among the findings, a NEN recorded or not), so there are at most twelve. Per
case, the count is the most rows that apply for one relative, as ``_count_max`` makes it. While
rows wait on a relative's missing input the count is a range of candidates, which a column
cannot hold: that case goes to the per-case path (:attr:`RelativeColumns.per_case`).

tests/batch/test_case_relatives.py holds the column to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from nenguide.batch.columnar.case_arrow import list_items
from nenguide.batch.columnar.exprs import by_row
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import STEP
from nenguide.engine.kb import Knowledge
from nenguide.model.clinical import History, Relation

ROLE = "relative_men1_major"
_FIRST = Relation.first_degree.value
#: a relative's inputs of the counting table (``engine.case_input.first_degree_relatives``)
_PHPT, _PITUITARY = History.primary_hyperparathyroidism.value, History.pituitary_adenoma.value


@dataclass(frozen=True)
class RelativeColumns:
    """``facts``: the table's output fact (none when the package binds no such table);
    ``per_case``: per case, whether the count is a range; ``unconfirmed``: per case, the
    unconfirmed rules its relatives' evaluations read."""

    facts: pl.DataFrame
    per_case: pl.Series
    unconfirmed: pl.Series


def _counts(kb: Knowledge, table_id: str, relatives: pl.DataFrame) -> pl.DataFrame:
    """Rows that apply and rows that wait, per distinct relative, by the engine."""
    known, waiting, unconfirmed = [], [], []
    for phpt, pituitary, nen in relatives.iter_rows():
        ctx = Context(kb, "en", notes=False)
        res = ctx.collect(
            STEP,
            table_id,
            {
                "rel_primary_hyperparathyroidism": phpt,
                "rel_pituitary_adenoma": pituitary,
                "rel_has_nen": nen,
            },
        )
        known.append(len(res.applies))
        waiting.append(len(res.maybe))
        read = {r for entry in ctx.trace for r in entry["rule_ids"]}
        unconfirmed.append(sorted(kb.unconfirmed_rules & read))
    return relatives.with_columns(
        pl.Series("_known", known, dtype=pl.Int64),
        pl.Series("_waiting", waiting, dtype=pl.Int64),
        pl.Series("_unconfirmed", unconfirmed, dtype=pl.List(pl.String)),
    )


def relative_columns(cases: pl.DataFrame, kb: Knowledge) -> RelativeColumns:
    """The relatives' count of the case columns ``cases`` (see :class:`RelativeColumns`)."""
    n = cases.height
    table_id = kb.pathway.optional_table(STEP, ROLE)
    empty = pl.lit([], pl.List(pl.String))
    if table_id is None:  # the package defines no such count: no fact
        return RelativeColumns(
            pl.DataFrame(),
            pl.Series("per_case", [False] * n),
            pl.Series("unconfirmed", [[]] * n, dtype=pl.List(pl.String)),
        )
    output = kb.tables[table_id].output
    fh = pl.col("clinical").struct.field("family_history")  # null: not recorded
    findings = pl.col("findings").fill_null(pl.lit([], pl.List(pl.String)))
    members = (
        list_items(cases, fh)
        .filter(pl.col("relation") == _FIRST)
        .select(
            "_row",
            findings.list.contains(_PHPT).alias("phpt"),
            findings.list.contains(_PITUITARY).alias("pituitary"),
            pl.col("has_nen"),
        )
    )
    distinct = members.select("phpt", "pituitary", "has_nen").unique(maintain_order=True)
    members = members.join(
        _counts(kb, table_id, distinct),
        on=["phpt", "pituitary", "has_nen"],
        how="left",
        maintain_order="left",
        nulls_equal=True,
    )
    per_row = members.group_by("_row", maintain_order=True).agg(
        pl.col("_known").max().alias("_lo"),
        (pl.col("_known") + pl.col("_waiting")).max().alias("_hi"),
        pl.col("_unconfirmed").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
    )
    joined = by_row(per_row, n)
    recorded = cases.select(fh.is_not_null().alias("_recorded")).to_series()
    joined = joined.with_columns(recorded)
    lo, hi = pl.col("_lo").fill_null(0), pl.col("_hi").fill_null(0)
    out = joined.select(
        pl.when(pl.col("_recorded") & (lo == hi)).then(lo).alias(output),
        (pl.col("_recorded") & (lo != hi)).alias("per_case"),
        pl.col("_unconfirmed").fill_null(empty).alias("unconfirmed"),
    )
    return RelativeColumns(
        out.select(output), out.get_column("per_case"), out.get_column("unconfirmed")
    )
