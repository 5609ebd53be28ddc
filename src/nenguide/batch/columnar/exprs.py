"""Small expression helpers shared by the columnar steps."""

from __future__ import annotations

import math
from typing import Any

import polars as pl

S = pl.String()
B = pl.Boolean()


def lit(v: Any, dtype: pl.DataType = S) -> pl.Expr:
    return pl.lit(v, dtype)


def one(code: pl.Expr) -> pl.Expr:
    """A list of the code, or an empty list where it is null."""
    return pl.when(code.is_null()).then(pl.lit([], pl.List(S))).otherwise(pl.concat_list(code))


def fits(v: Any, dtype: pl.DataType) -> bool:
    """Whether a fact's value can stand in a column of ``dtype`` (a set or range of
    candidates, a non-finite number or a value of another type cannot: the engine decides)."""
    t = type(v)
    if dtype == pl.Float64():
        return (t is float or t is int) and math.isfinite(v)
    if dtype == pl.Boolean():
        return t is bool
    if dtype == pl.Int32():
        return t is int
    return t is str
