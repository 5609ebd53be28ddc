"""Small expression helpers shared by the columnar steps."""

from __future__ import annotations

from typing import Any

import polars as pl

S = pl.String()
B = pl.Boolean()


def lit(v: Any, dtype: pl.DataType = S) -> pl.Expr:
    return pl.lit(v, dtype)


def one(code: pl.Expr) -> pl.Expr:
    """A list of the code, or an empty list where it is null."""
    return pl.when(code.is_null()).then(pl.lit([], pl.List(S))).otherwise(pl.concat_list(code))
