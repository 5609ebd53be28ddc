"""Decision tables compiled to Polars expressions, built from the knowledge tables at load.

Nothing here knows a threshold or a table id: every condition is the table's own condition
(:mod:`nenguide.engine.logic`) translated to an expression, so a table edit changes the columnar
answers exactly as it changes the single-case engine's.

Three-valued logic maps onto Polars' Kleene booleans: a condition on a missing fact is ``null``
(UNKNOWN), ``&`` of a false and a null is false, of a true and a null is null. A ``first`` /
``unique`` table is evaluated as :func:`nenguide.engine.tables.evaluate_first` does: the
outcome is decided when every row that could still be the first true row gives the same
``then``. The columnar evaluator returns, per case, whether the outcome was decided, the index
of the first row that could apply (its ``then`` is the answer; all candidates agree when
decided) and whether a row the engine would trace is marked unconfirmed. Undecided outcomes
(the engine's ``OneOf`` of candidates) are not represented: the caller sends those cases to
the single-case engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from nenguide.engine.logic import Condition
from nenguide.engine.tables import Table

_NUMERIC = {"lt": "__lt__", "le": "__le__", "gt": "__gt__", "ge": "__ge__"}


def dtype_of(table: Table, fact: str) -> pl.DataType:
    """The column type of a table input, from its declared domain."""
    dom = table.spec.inputs[fact]
    if dom.type == "number":
        return pl.Float64()
    if dom.type == "bool":
        return pl.Boolean()
    vals = dom.values or []
    if vals and all(isinstance(v, bool) for v in vals):
        return pl.Boolean()
    if vals and all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals):
        return pl.Float64()
    return pl.String()


def condition_expr(c: Condition, dtype: pl.DataType) -> pl.Expr:
    """One condition as a Kleene boolean: null when the fact is missing."""
    col = pl.col(c.fact)
    spec = c.spec
    if isinstance(spec, dict) and set(spec) <= set(_NUMERIC):
        if dtype != pl.Float64():
            body: pl.Expr = pl.lit(False)
        else:
            parts = [getattr(col, _NUMERIC[op])(float(spec[op])) for op in spec]
            body = parts[0]
            for p in parts[1:]:
                body = body & p
    elif isinstance(spec, dict) and set(spec) == {"eq"}:
        body = _eq(col, spec["eq"], dtype)
    elif isinstance(spec, dict) and set(spec) in ({"in"}, {"not_in"}):
        key = next(iter(spec))
        body = _member(col, spec[key], dtype)
        if key == "not_in":
            body = ~body
    elif isinstance(spec, list):
        body = _member(col, spec, dtype)
    else:
        body = _eq(col, spec, dtype)
    return pl.when(col.is_null()).then(pl.lit(None, pl.Boolean())).otherwise(body)


def _eq(col: pl.Expr, value: Any, dtype: pl.DataType) -> pl.Expr:
    if isinstance(value, bool):
        return col == value if dtype == pl.Boolean() else pl.lit(False)
    if isinstance(value, int | float):
        return col == float(value) if dtype == pl.Float64() else pl.lit(False)
    return col == value if dtype == pl.String() else pl.lit(False)


def _member(col: pl.Expr, values: list[Any], dtype: pl.DataType) -> pl.Expr:
    out: pl.Expr = pl.lit(False)
    for v in values:
        out = out | _eq(col, v, dtype)
    return out


def row_truth(table: Table) -> list[pl.Expr]:
    """Each row's Kleene truth (true / false / null = unknown)."""
    out = []
    for row in table.rows:
        e: pl.Expr = pl.lit(True)
        for c in row.conditions:
            e = e & condition_expr(c, dtype_of(table, c.fact))
        out.append(e)
    return out


@dataclass(frozen=True)
class FirstExprs:
    """A first/unique table over a frame: ``row`` is the index of the first row that could
    apply (null: none can), ``decided`` whether the outcome stands, ``unconfirmed`` whether a
    row the engine would trace is unconfirmed content."""

    row: pl.Expr
    decided: pl.Expr
    unconfirmed: pl.Expr


def first_exprs(table: Table) -> FirstExprs:
    truths = row_truth(table)
    true = [t.fill_null(False) for t in truths]
    keys: dict[str, int] = {}
    cands: list[tuple[pl.Expr, int, int]] = []
    unconfirmed: pl.Expr = pl.lit(False)
    for i, (row, truth) in enumerate(zip(table.rows, truths, strict=True)):
        k = keys.setdefault(row.key, len(keys))
        # could be the first true row: not false, and no earlier row is true
        cand = truth.fill_null(True)
        if i:
            cand = cand & ~pl.any_horizontal(true[:i])
        cands.append((cand, i, k))
        if row.status != "confirmed":
            unconfirmed = unconfirmed | cand
    first_row = pl.coalesce([pl.when(c).then(pl.lit(i, pl.Int32())) for c, i, _ in cands])
    first_key = pl.coalesce([pl.when(c).then(pl.lit(k, pl.Int32())) for c, _, k in cands])
    # decided when every candidate row gives the same output as the first one
    distinct = sorted({k for _, _, k in cands})
    if len(distinct) == 1:
        agree: pl.Expr = pl.lit(True)
    else:
        agree = pl.all_horizontal(
            [~(c & (first_key != pl.lit(k, pl.Int32()))) for c, _, k in cands]
        )
    decided = first_key.is_not_null() & agree
    return FirstExprs(first_row, decided, unconfirmed)


def then_expr(table: Table, row_index: pl.Expr, key: str, dtype: pl.DataType) -> pl.Expr:
    """The ``then[key]`` of the row at ``row_index`` (null where the row does not set it)."""
    mapping = {i: row.then.get(key) for i, row in enumerate(table.rows)}
    return row_index.replace_strict(mapping, default=None, return_dtype=dtype)


@dataclass(frozen=True)
class CollectExprs:
    """A collect table: ``applies`` any row is true, ``maybe`` any row is unknown,
    ``unconfirmed`` an unconfirmed row is true."""

    applies: pl.Expr
    maybe: pl.Expr
    unconfirmed: pl.Expr


def collect_exprs(table: Table) -> CollectExprs:
    applies: pl.Expr = pl.lit(False)
    maybe: pl.Expr = pl.lit(False)
    unconfirmed: pl.Expr = pl.lit(False)
    for row, truth in zip(table.rows, row_truth(table), strict=True):
        applies = applies | truth.fill_null(False)
        maybe = maybe | truth.is_null()
        if row.status != "confirmed":
            unconfirmed = unconfirmed | truth.fill_null(False)
    return CollectExprs(applies, maybe, unconfirmed)
