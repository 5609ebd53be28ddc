"""The lab results' reshaping, :func:`nenguide.engine.case_input.lab_input`, as Polars
operations over the case columns of :mod:`.case_arrow`: part of the second step of the columnar
fact layer (docs/decisions/0004-speed-targets-need-a-decision.md).

Per case and analyte, the latest result (by date; undated count as older; among equals the
last listed), its value in the analyte's canonical unit, its multiple of the upper reference
limit, whether it is below the lower one, its sampling context, and the index of the result
in ``clinical.labs``; and the warning the engine gives for a value outside the analyte's
plausible range. No factor, range or name is written here: each (analyte, unit) pair's factor
is the analyte catalogue's own (:meth:`AnalyteCatalogue.convert`, worked out once per pair and
chunk), and the engine multiplies by that same factor, so each canonical value is the
engine's to the last bit.

What a column cannot hold goes to the per-case path (:attr:`LabColumns.per_case`):

* a censored result (``>1000``) or one given only as elevated, normal or low: the engine makes
  a range of candidate values of it;
* a result the catalogue refuses (unknown analyte, unit or value): the batch rejects such a
  case when it validates it, and the engine reports it as a conflict.

tests/batch/test_case_labs.py holds the columns, the index and the warnings to the engine's.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from nenguide.batch.columnar.case_arrow import list_items
from nenguide.batch.columnar.exprs import by_row
from nenguide.engine.lab_names import value_fact
from nenguide.units import AnalyteCatalogue, LabInputError

#: the warning of a value outside the analyte's plausible range
IMPLAUSIBLE = "LAB_VALUE_IMPLAUSIBLE_FOR_UNIT"
#: the sampling context's flags, each a fact ``<analyte>_<flag>``
_CONTEXT = ("on_ppi", "on_h2_blocker", "fasting", "diet_restricted", "supervised_fast")


@dataclass(frozen=True)
class LabColumns:
    """The lab facts of a chunk: ``facts`` (one row per case, a column per fact the engine can
    make, named as the engine names it, null where it makes none), ``index`` (a column per
    analyte: the position in ``clinical.labs`` of the result its facts came from),
    ``issues`` (per case, the warnings' codes in the engine's order), ``per_case`` (per case,
    whether its labs need the per-case path)."""

    facts: pl.DataFrame
    index: pl.DataFrame
    issues: pl.Series
    per_case: pl.Series


def fact_names(cat: AnalyteCatalogue) -> dict[str, dict[str, str]]:
    """Per analyte, the name of each of its facts (key: the column made here)."""
    out: dict[str, dict[str, str]] = {}
    for code, a in cat.analytes.items():
        names = {
            "measured": f"{code}_measured",
            **{flag: f"{code}_{flag}" for flag in _CONTEXT},
            "interfering_drugs": f"{code}_interfering_drugs",
            "xuln": f"{code}_xuln",
            "below_reference_low": f"{code}_below_reference_low",
        }
        if a.kind == "qualitative":
            names["qualitative"] = code
        else:
            names["canonical"] = value_fact(code, a.canonical_unit)
        out[code] = names
    return out


def _factors(cat: AnalyteCatalogue, pairs: pl.DataFrame) -> pl.DataFrame:
    """The factor of each (analyte, unit) pair, by the catalogue; null when it refuses it."""
    factors: list[float | None] = []
    for code, unit in pairs.iter_rows():
        try:
            factors.append(cat.convert(code, 1.0, unit, "clinical.labs").factor)
        except LabInputError:
            factors.append(None)
    return pairs.with_columns(pl.Series("factor", factors, dtype=pl.Float64))


def _value_refusals(cat: AnalyteCatalogue, values: pl.DataFrame) -> pl.DataFrame:
    """Whether the catalogue refuses each (analyte, unit, value): its own check of the value
    for the analyte's kind."""
    refused: list[bool] = []
    for code, unit, value in values.iter_rows():
        try:
            cat.convert(code, value, unit, "clinical.labs")
            refused.append(False)
        except LabInputError:
            refused.append(True)
    return values.with_columns(pl.Series("_value_refused", refused, dtype=pl.Boolean))


def _analytes(cat: AnalyteCatalogue) -> pl.DataFrame:
    rows = [
        (code, a.kind, a.canonical_unit, a.plausible_min, a.plausible_max)
        for code, a in cat.analytes.items()
    ]
    return pl.DataFrame(
        rows,
        schema={
            "analyte": pl.String,
            "kind": pl.String,
            "canonical_unit": pl.String,
            "plausible_min": pl.Float64,
            "plausible_max": pl.Float64,
        },
        orient="row",
    )


def lab_columns(cases: pl.DataFrame, cat: AnalyteCatalogue) -> LabColumns:
    """The lab facts of the case columns ``cases`` (see :class:`LabColumns`)."""
    n = cases.height
    items = (
        list_items(cases, pl.col("clinical").struct.field("labs"))
        .join(_analytes(cat), on="analyte", how="left", maintain_order="left")
        # the unit a result is checked in (engine.units.lab_quantity)
        .with_columns(
            pl.coalesce("unit", "canonical_unit", pl.lit("1")).alias("_unit"),
            pl.col("date").fill_null("").alias("_date"),
        )
    )
    pairs = items.select("analyte", "_unit").unique(maintain_order=True)
    items = items.join(
        _factors(cat, pairs), on=["analyte", "_unit"], how="left", maintain_order="left"
    )
    value = pl.col("value")
    # a value the catalogue refuses for its analyte's kind (a reading that is not 0 or 1, a pH
    # beyond its scale): asked of the catalogue once per distinct value of those kinds, so its
    # rule is not written again here
    valued = items.filter(value.is_not_null() & pl.col("kind").is_in(["qualitative", "ph"]))
    values = valued.select("analyte", "_unit", "value").unique(maintain_order=True)
    items = items.join(
        _value_refusals(cat, values),
        on=["analyte", "_unit", "value"],
        how="left",
        maintain_order="left",
    )
    refused = (
        pl.col("kind").is_null()  # an analyte the catalogue does not know
        | pl.col("factor").is_null()
        | pl.col("_value_refused").fill_null(False)
    ).fill_null(False)
    # a range of candidates in the engine: a censored value in units (not a qualitative
    # result) or as a multiple of the ULN (a ULN given), or a reading without a value
    cmp, high = pl.col("comparator"), pl.col("reference_high")
    ranged = (
        (value.is_not_null() & cmp.is_not_null())
        & ((pl.col("kind") != "qualitative") | (high.is_not_null() & (high != 0)))
    ).fill_null(False) | (value.is_null() & pl.col("times_uln").is_null())
    # a refused result anywhere in the list is a conflict; a range matters only where it is
    # the latest result of its analyte (the engine reads no other)
    refused_rows = items.filter(refused).get_column("_row").unique()
    # the latest result by value, not by row order (which a group-by need not keep): the
    # date (undated: '', before every date), then the position in the list, as one text
    order = pl.col("_date") + pl.lit("#") + pl.col("_pos").cast(pl.String).str.zfill(9)
    latest = (
        items.filter(~pl.col("_row").is_in(refused_rows.implode()))
        .with_columns(ranged.alias("_ranged"), order.alias("_order"))
        .filter(pl.col("_order") == pl.col("_order").max().over(["_row", "analyte"]))
        .sort(["_row", "analyte"])
    )
    ranged_rows = latest.filter(pl.col("_ranged")).get_column("_row").unique()
    flagged = pl.concat([refused_rows, ranged_rows]).unique()
    per_case = pl.Series("per_case", [False] * n).scatter(flagged.to_list(), True)
    latest = latest.filter(~pl.col("_row").is_in(flagged.implode()))
    low = pl.col("reference_low")
    canonical = value * pl.col("factor")
    below = (pl.col("plausible_min").is_not_null() & (canonical < pl.col("plausible_min"))) & (
        ~cmp.is_in(["<", "<="])
    ).fill_null(True)
    above = (pl.col("plausible_max").is_not_null() & (canonical > pl.col("plausible_max"))) & (
        ~cmp.is_in([">", ">="])
    ).fill_null(True)
    context = pl.col("context")
    facts = latest.select(
        "_row",
        "analyte",
        pl.col("_pos").alias("index"),
        pl.lit(True).alias("measured"),
        *[context.struct.field(flag).alias(flag) for flag in _CONTEXT],
        pl.when(context.struct.field("interfering_drugs").list.len() > 0)
        .then(True)
        .alias("interfering_drugs"),
        pl.when(value.is_not_null() & (pl.col("kind") == "qualitative"))
        .then(pl.when(value == 1).then(pl.lit("positive")).otherwise(pl.lit("negative")))
        .alias("qualitative"),
        pl.when(value.is_not_null() & (pl.col("kind") != "qualitative") & cmp.is_null())
        .then(canonical)
        .alias("canonical"),
        pl.when(value.is_not_null())
        .then(pl.when(high.is_not_null() & (high != 0)).then(value / high))
        .otherwise(pl.col("times_uln"))
        .alias("xuln"),
        pl.when(value.is_not_null() & low.is_not_null() & cmp.is_null())
        .then(value < low)
        .alias("below_reference_low"),
        (value.is_not_null() & (below | above).fill_null(False)).alias("implausible"),
    )
    names = fact_names(cat)
    wide = _wide(facts, names, n)
    index = _wide(facts, {code: {"index": code} for code in names}, n)
    issues = (
        facts.filter(pl.col("implausible"))
        # one warning per analyte, all alike: their order among them shows nowhere
        .group_by("_row", maintain_order=True)
        .agg(pl.lit(IMPLAUSIBLE).repeat_by(pl.len()).first().alias("codes"))
    )
    codes = (
        by_row(issues, n)
        .select(pl.col("codes").fill_null(pl.lit([], pl.List(pl.String))))
        .to_series()
    )
    return LabColumns(wide, index, codes.alias("lab_issue_codes"), per_case)


def _wide(long: pl.DataFrame, names: dict[str, dict[str, str]], n: int) -> pl.DataFrame:
    """``long`` (a row per case and analyte) as one row per case and a column per named fact
    (``names``: per analyte, the column of ``long`` -> the fact's name), null where the case
    has no such result; every named fact is a column, in a stable order."""
    values = sorted({c for per in names.values() for c in per})
    out = pl.DataFrame({"_row": pl.int_range(n, dtype=pl.Int64, eager=True)})
    if long.height:
        pivot = long.pivot(on="analyte", index="_row", values=values, aggregate_function=None)
        out = out.join(pivot, on="_row", how="left", maintain_order="left")
    columns: list[pl.Expr] = []
    present = set(out.columns)
    for code, per in names.items():
        for column, fact in per.items():
            source = f"{column}_{code}" if len(values) > 1 else code
            columns.append(
                pl.col(source).alias(fact) if source in present else pl.lit(None).alias(fact)
            )
    # with_columns, not select: a frame of literals only would have one row
    return out.with_columns(columns).select([c.meta.output_name() for c in columns])
