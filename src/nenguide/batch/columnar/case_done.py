"""What was already done (:func:`nenguide.engine.case_items.done_tokens`) as Polars operations
over the case columns of :mod:`.case_arrow`: part of the second step of the columnar fact layer
(docs/decisions/0004-speed-targets-need-a-decision.md).

Per case, the investigations done and the lab tests that count as done (``lab:<token>``), each
with the date of its first mention (``''`` when undated), in the engine's order:
investigations as listed, then each lab result's tokens as listed. A result counts as its
analyte's test by the engine's ``LAB_TOKENS``. Where it counts only under a sampling condition,
the package's collect table of role ``lab_done`` decides. The engine evaluates that table
(``Context.collect``) once per distinct (analyte, PPI, H2 blocker, fasting) of the chunk.

tests/batch/test_case_done.py holds the columns to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from nenguide.batch.columnar.case_arrow import list_items
from nenguide.engine.case_items import FACT_STEP, LAB_DONE_INPUTS, LAB_TOKENS
from nenguide.engine.context import Context
from nenguide.engine.kb import Knowledge

_ITEM = pl.Struct({"token": pl.String, "date": pl.String})


@dataclass(frozen=True)
class DoneColumns:
    """``done``: per case, a list of (token, date) in the engine's order, each token once;
    ``unconfirmed``: per case, the unconfirmed rules its lab results' evaluations read."""

    done: pl.Series
    unconfirmed: pl.Series


def _table_tokens(kb: Knowledge, table_id: str, keys: pl.DataFrame) -> pl.DataFrame:
    """The tokens the ``lab_done`` table gives each distinct key, in its rows' order, by the
    engine, and the unconfirmed rules each evaluation read."""
    table = kb.tables[table_id]
    tokens: list[list[str]] = []
    unconfirmed: list[list[str]] = []
    for key in keys.iter_rows():
        ctx = Context(kb, "en", notes=False)
        res = ctx.collect(FACT_STEP, table_id, dict(zip(LAB_DONE_INPUTS, key, strict=True)))
        tokens.append([str(r.then[table.output]) for r in res.applies])
        read = {r for entry in ctx.trace for r in entry["rule_ids"]}
        unconfirmed.append(sorted(kb.unconfirmed_rules & read))
    return keys.with_columns(
        pl.Series("_tokens", tokens, dtype=pl.List(pl.String)),
        pl.Series("_unconfirmed", unconfirmed, dtype=pl.List(pl.String)),
    )


def done_columns(cases: pl.DataFrame, kb: Knowledge) -> DoneColumns:
    """The "done" columns of the case columns ``cases`` (see :class:`DoneColumns`)."""
    n = cases.height
    clinical = pl.col("clinical")
    rows = pl.DataFrame({"_row": pl.int_range(n, dtype=pl.Int64, eager=True)})

    def items(field: str) -> pl.DataFrame:
        return list_items(cases, clinical.struct.field(field))

    # the order of first mention: (part, position in its list, order within the item)
    invs = items("investigations").select(
        "_row",
        pl.lit(0).alias("_part"),
        "_pos",
        pl.lit(0).alias("_sub"),
        pl.col("kind").alias("token"),
        pl.col("date").fill_null("").alias("date"),
    )
    labs = items("labs").with_columns(pl.col("date").fill_null("").alias("date"))
    static = pl.DataFrame(
        [
            (code, f"lab:{token}", rank)
            for rank, (token, codes) in enumerate(LAB_TOKENS.items())
            for code in codes
        ],
        schema={"analyte": pl.String, "token": pl.String, "_sub": pl.Int64},
        orient="row",
    )
    parts = [
        invs,
        labs.join(static, on="analyte", how="inner").select(
            "_row", pl.lit(1).alias("_part"), "_pos", "_sub", "token", "date"
        ),
    ]
    table_id = kb.pathway.optional_table(FACT_STEP, "lab_done")
    unconfirmed = rows.with_columns(pl.lit([], pl.List(pl.String)).alias("unconfirmed"))
    if table_id is not None:
        named = kb.tables[table_id].spec.inputs.get("lab_analyte")
        analytes = named.values if named is not None and named.values else None
        # the table's inputs, as the engine reads them from a result
        context = pl.col("context")
        sources = [
            pl.col("analyte"),
            context.struct.field("on_ppi"),
            context.struct.field("on_h2_blocker"),
            context.struct.field("fasting"),
        ]
        keyed = labs.with_columns(
            e.alias(name) for e, name in zip(sources, LAB_DONE_INPUTS, strict=True)
        )
        if analytes is not None:
            keyed = keyed.filter(pl.col("analyte").is_in(list(analytes)))
        keys = keyed.select(LAB_DONE_INPUTS).unique(maintain_order=True)
        keyed = keyed.join(
            _table_tokens(kb, table_id, keys), on=list(LAB_DONE_INPUTS), nulls_equal=True
        )
        parts.append(
            keyed.select(
                "_row",
                pl.lit(1).alias("_part"),
                "_pos",
                pl.lit(len(LAB_TOKENS)).alias("_sub"),
                pl.col("_tokens").alias("token"),
                "date",
            )
            .explode("token")
            .drop_nulls("token")
            .with_columns(pl.col("_sub") + pl.int_range(pl.len()).over(["_row", "_pos"]))
        )
        unconfirmed = rows.join(
            keyed.group_by("_row").agg(
                pl.col("_unconfirmed")
                .list.explode(keep_nulls=False, empty_as_null=False)
                .unique()
                .sort()
                .alias("unconfirmed")
            ),
            on="_row",
            how="left",
            maintain_order="left",
        ).with_columns(pl.col("unconfirmed").fill_null(pl.lit([], pl.List(pl.String))))
    # each token's first mention, found by value (the order key), not by row order
    order = ["_part", "_pos", "_sub"]
    mentions = (
        pl.concat([p.cast({"_part": pl.Int64, "_sub": pl.Int64}) for p in parts])
        .sort(["_row", *order])
        .unique(["_row", "token"], keep="first", maintain_order=True)
        .group_by("_row", maintain_order=True)
        .agg(pl.struct("token", "date").alias("done"))
    )
    done = (
        rows.join(mentions, on="_row", how="left", maintain_order="left")
        .select(pl.col("done").fill_null(pl.lit([], pl.List(_ITEM))))
        .to_series()
    )
    return DoneColumns(done, unconfirmed.get_column("unconfirmed"))
