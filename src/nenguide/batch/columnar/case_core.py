"""The core program's fact frame made from phase 1's columns: what
:func:`nenguide.batch.columnar.backend.fact_frame` makes from the engine's facts of each case,
one row per case, a column per fact the core tables read (typed by the tables' domains) and the
case attributes the steps' glue reads:

* ``lung_descriptor_rank``: the highest rank among the lung descriptors (none: -1; unknown
  when not recorded), a descriptor the table does not rank sending the case to the engine;
* ``has_components`` (MiNEN components recorded), ``staging_basis``, ``multiple_tumours``
  (the fact layer's reading: multiple primaries), ``has_conflicted`` (a contradiction made
  facts unknown);
* ``_fallback``: the engine decides the case's core steps - a value that does not fit its
  column, a reported pT or a venous tumour thrombus (the engine's glue reads them), a T input
  reported as a range.

tests/batch/test_case_core.py holds it to ``fact_frame`` on the engine's facts.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from nenguide.batch.columnar.core import CoreProgram
from nenguide.batch.columnar.exprs import by_row, exploded
from nenguide.engine import ranges

_DERIVED = ("lung_descriptor_rank", "has_components", "staging_basis", "multiple_tumours",
            "has_conflicted")  # fmt: skip


def _descriptor_ranks(facts: pl.DataFrame, ranks: Mapping[str, int]) -> tuple[pl.Series, pl.Series]:
    """Per case, the highest T rank of its lung descriptors (null where it has none) and
    whether one of them has no rank (an unknown descriptor: the engine decides), worked out
    on the descriptors themselves, one row each: a ``list.eval`` holding a ``replace_strict``
    made the mapping again for each case's list (the fact frame of 30 000 cases took 107 ms
    of CPU with it, 5 ms now; session 22)."""
    rank = pl.col("_d").replace_strict(dict(ranks), default=None, return_dtype=pl.Int32())
    items = (
        exploded(facts, pl.col("lung_descriptors"), "_d")
        .group_by("_row")
        .agg(rank.max().alias("highest"), rank.is_null().any().alias("unranked"))
    )
    got = by_row(items, facts.height)
    return got["highest"], got["unranked"].fill_null(False)


def core_frame(facts: pl.DataFrame, cases: pl.DataFrame, prog: CoreProgram) -> pl.DataFrame:
    """The fact frame of the cases whose phase-1 columns are ``facts`` and whose lines
    :func:`.case_arrow.read_lines` read into ``cases`` (as a Polars frame)."""
    ranks = prog.descriptor_rank
    schema = facts.schema  # made once: each call builds it anew (a few hundred columns)
    exprs: list[pl.Expr] = []
    misfit: list[pl.Expr] = []
    for name, dtype in prog.inputs.items():
        if name in _DERIVED:
            continue
        if name not in schema:
            exprs.append(pl.lit(None, dtype).alias(name))
            continue
        col = pl.col(name)
        cast = col.cast(dtype, strict=False)
        if schema[name] != dtype:  # a value the cast does not keep: the engine's
            misfit.append(col.is_not_null() & cast.is_null())
        if dtype == pl.Float64():  # no infinity or NaN either (the engine decides: ``fits``)
            misfit.append(cast.is_not_null() & ~cast.is_finite())
        exprs.append(cast.alias(name))
    descriptors = pl.col("lung_descriptors")
    highest, unranked_rows = _descriptor_ranks(facts, ranks)
    unranked = pl.col("_unranked")
    rank = (
        pl.when(descriptors.is_null() | unranked)
        .then(None)
        .when(descriptors.list.len() == 0)
        .then(pl.lit(-1, pl.Int32()))
        .otherwise(pl.col("_highest"))
    )
    reported = [
        pl.col(c).is_not_null() for c in ("reported_t", "venous_tumour_thrombus")
        if c in schema
    ]  # fmt: skip
    ranged = [
        pl.col(f"{fact}_interval").is_not_null() for fact in ranges.T_INPUTS.values()
        if f"{fact}_interval" in schema
    ]  # fmt: skip
    fallback = [*misfit, *reported, *ranged, unranked]
    multiple = (pl.col("multiple_primaries") == True).fill_null(False)  # noqa: E712
    return (
        pl.concat(
            [facts, cases.select(
                pl.col("pathology").struct.field("components").list.len().fill_null(0)
                .alias("_components"),
                pl.col("staging_basis").alias("_staging_basis"),
            ), pl.DataFrame([highest.alias("_highest"), unranked_rows.alias("_unranked")])],
            how="horizontal",
        )
        .select(
            *exprs,
            rank.cast(pl.Int32()).alias("lung_descriptor_rank"),
            (pl.col("_components") > 0).alias("has_components"),
            pl.col("_staging_basis").alias("staging_basis"),
            multiple.alias("multiple_tumours"),
            (pl.col("conflicted").list.len() > 0).alias("has_conflicted"),
            pl.any_horizontal([f.fill_null(False) for f in fallback]).alias("_fallback"),
        )
        .select(*prog.inputs, "_fallback")
    )  # fmt: skip
