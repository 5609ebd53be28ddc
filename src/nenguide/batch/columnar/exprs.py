"""Small expression helpers shared by the columnar steps."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import polars as pl

S = pl.String()
B = pl.Boolean()


def lit(v: Any, dtype: pl.DataType = S) -> pl.Expr:
    return pl.lit(v, dtype)


def one(code: pl.Expr) -> pl.Expr:
    """A list of the code, or an empty list where it is null."""
    return pl.when(code.is_null()).then(pl.lit([], pl.List(S))).otherwise(pl.concat_list(code))


#: a list of words (codes, rule ids, names), and the empty one
WORDS = pl.List(pl.String())
NO_WORDS = pl.lit([], WORDS)


def words_when(flag: pl.Expr, words: Sequence[str]) -> pl.Expr:
    """``words`` where ``flag`` is true, else an empty list (unknown counts as false)."""
    return pl.when(flag).then(pl.lit(list(words), WORDS)).otherwise(NO_WORDS)


def concat_words(parts: Sequence[pl.Expr]) -> pl.Expr:
    """The word lists ``parts`` one after the other (an empty list when there are none)."""
    return pl.concat_list(list(parts)) if parts else NO_WORDS


def words_where(pairs: Sequence[tuple[pl.Expr, str]]) -> pl.Expr:
    """The words of the pairs whose flag is true, in order (rule ids of rows that apply)."""
    return concat_words([words_when(flag, [word]) for flag, word in pairs])


def bit_mask(flags: Sequence[pl.Expr]) -> pl.Expr:
    """The bit mask of the flags that are true (bit ``j`` for flag ``j``; unknown counts as
    false), as an Int64."""
    zero = pl.lit(0, pl.Int64())
    out: pl.Expr = zero
    for j, flag in enumerate(flags):
        out = out | pl.when(flag.fill_null(False)).then(pl.lit(1 << j, pl.Int64())).otherwise(zero)
    return out


def by_row(items: pl.DataFrame, height: int) -> pl.DataFrame:
    """``items`` (at most one row per case, keyed by ``_row``, the case's row number, Int64)
    aligned with the ``height`` cases: one row per case, in order, null where ``items`` has
    none (how a result worked out on the items, one row each, comes back to the cases)."""
    rows = pl.DataFrame({"_row": pl.int_range(height, dtype=pl.Int64, eager=True)})
    return rows.join(items, on="_row", how="left", maintain_order="left")


def exploded(frame: pl.DataFrame, items: pl.Expr, name: str) -> pl.DataFrame:
    """The items of the list ``items`` (an expression over ``frame``), a row each: ``_row``
    (the row's number, Int64, as :func:`by_row` reads it) and the item as ``name``, in the
    order listed. An empty or null list gives no row."""
    return (
        frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"), items.alias(name))
        .filter(pl.col(name).list.len() > 0)
        .explode(name)
    )


def _items(lists: pl.DataFrame) -> pl.DataFrame:
    """The items of the list columns ``lists``, a row each: ``_row`` (the row), ``_c`` (the
    column's name) and ``_v`` (the item). A missing list gives no row; an item that is null
    stays; within a list the items keep their order (explode keeps it)."""
    return (
        lists.with_row_index("_row")
        .with_columns(pl.col("_row").cast(pl.Int64))
        .unpivot(index="_row", variable_name="_c", value_name="_v")
        .filter(pl.col("_v").is_not_null())
        .explode("_v", empty_as_null=False, keep_nulls=True)
    )


def _per_row(items: pl.DataFrame, height: int, name: str) -> pl.Series:
    """The lists ``_v`` of ``items`` (one a row, keyed by ``_row``) as a column ``name`` of the
    ``height`` rows, an empty list where there is none."""
    return by_row(items, height).select(pl.col("_v").fill_null(NO_WORDS).alias(name)).to_series()


def concat_lists(lists: pl.DataFrame, name: str) -> pl.Series:
    """Per row of ``lists`` (columns of lists of texts), the items of its lists one list after
    the other, in the columns' order, repeats kept (an empty list where there are none):
    ``concat_list(...)`` done on the items alone. Most rows hold no item at all, and
    ``concat_list`` builds every row's list (about 30 ms for eleven columns of 30 000 rows,
    session 22). A null item stays, as in ``concat_list``; a null list counts as an empty one
    (``concat_list`` would make the row null: its callers fill a missing list with ``[]``)."""
    order = {c: j for j, c in enumerate(lists.columns)}
    items = (
        _items(lists)
        .with_row_index("_p")  # the order within a list
        .with_columns(pl.col("_c").replace_strict(order, return_dtype=pl.UInt32()))
        .sort("_row", "_c", "_p")
        .group_by("_row", maintain_order=True)
        .agg(pl.col("_v"))
    )
    return _per_row(items, lists.height, name)


def union_sorted(lists: pl.DataFrame, name: str) -> pl.Series:
    """Per row of ``lists`` (columns of lists of texts), the distinct items of all its lists,
    sorted (an empty list where there are none): ``concat_list(...).list.unique().list.sort()``
    done on the items alone. Most rows hold no item at all, and the per-row list operations
    cost about 1.4 µs a row (43 against 2.6 ms on 30 000 rows, session 22)."""
    items = _items(lists).group_by("_row").agg(pl.col("_v").unique().sort())
    return _per_row(items, lists.height, name)


def kleene_any(flags: pl.Expr) -> pl.Expr:
    """Kleene OR over a list of flags, as ``engine.case_items.any_of``: true when one is true,
    unknown when none is and one is unknown, false otherwise (and for an empty or null list)."""
    return (
        pl.when(flags.list.eval(pl.element() == True).list.any())  # noqa: E712
        .then(True)
        .when(flags.list.eval(pl.element().is_null()).list.any())
        .then(None)
        .otherwise(False)
    )


def fits(v: Any, dtype: pl.DataType) -> bool:
    """Whether a fact's value can stand in a column of ``dtype`` (a set or range of
    candidates, a non-finite number or a value of another type cannot: the engine decides)."""
    t = type(v)
    # a column's type by its class (no DataType built and compared per call)
    kind: Any = dtype if isinstance(dtype, type) else type(dtype)
    if kind is pl.Float64:
        return (t is float or t is int) and math.isfinite(v)
    if kind is pl.Boolean:
        return t is bool
    if kind is pl.Int32:
        return t is int
    return t is str


def plain_column(name: str, vals: Sequence[Any], dtype: pl.DataType) -> pl.Series | None:
    """Column ``name`` of ``vals`` as ``dtype`` when every value fits it (:func:`fits`), built
    at once; ``None`` when one does not (of another type, out of the type's range, a
    non-finite number): the caller reads the values one by one."""
    if not _PLAIN_TYPES.get(dtype, frozenset()).issuperset(map(type, vals)):
        return None
    try:
        col = pl.Series(name, vals, dtype=dtype, strict=True)
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        return None
    if dtype != pl.Float64() or col.is_finite().fill_null(True).all():
        return col
    return None


def typed_column(
    name: str, vals: Sequence[Any], dtype: pl.DataType, fallback: list[bool]
) -> pl.Series:
    """Column ``name`` of ``vals`` as ``dtype``; a value that does not fit it (:func:`fits`)
    is left out (null) and its row marked in ``fallback`` (the engine decides that row)."""
    col = plain_column(name, vals, dtype)
    if col is not None:
        return col
    vals = list(vals)
    for i, v in enumerate(vals):
        if v is not None and not fits(v, dtype):
            fallback[i] = True
            vals[i] = None
    return pl.Series(name, vals, dtype=dtype)


#: the Python types a column of each type holds as they are
_PLAIN_TYPES: dict[pl.DataType, frozenset[type]] = {
    pl.Float64(): frozenset({float, int, type(None)}),
    pl.Boolean(): frozenset({bool, type(None)}),
    pl.String(): frozenset({str, type(None)}),
    pl.Int32(): frozenset({int, type(None)}),
}
