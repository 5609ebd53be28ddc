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
(the engine's ``OneOf`` of candidates) are represented, where the caller asks, as bit masks
over the table's outputs (one bit per value), and a table whose inputs are such masks is
evaluated as the engine evaluates conditions on a ``OneOf`` (:func:`mask_truth`); elsewhere the
caller sends those cases to the single-case engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from nenguide.batch.columnar.exprs import bit_mask
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
            # a bound holds for a finite number only (the engine's ``v - v == 0``): an
            # infinity or NaN matches none
            body = col.cast(pl.Float64()).is_finite()
            for op in spec:
                body = body & getattr(col, _NUMERIC[op])(float(spec[op]))
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


def eval_first(
    lf: pl.LazyFrame,
    table: Table,
    p: str,
    truths: list[pl.Expr] | None = None,
    bits: Mapping[Any, int] | None = None,
    candidates: bool = False,
) -> pl.LazyFrame:
    """Evaluate a first/unique table over every case: adds ``{p}_row`` (index of the first row
    that could apply; null: none can), ``{p}_ok`` (the outcome is decided and no row the engine
    would trace is unconfirmed content), ``{p}_dec`` (decided, whatever the content status),
    ``{p}_any`` (some row can apply and none the engine would trace is unconfirmed) and
    ``{p}_unc`` (a row the engine would trace is unconfirmed). Intermediate truths are
    materialised, so the expressions stay small whatever the number of rows.

    With ``bits`` (output value -> bit number), an undecided outcome is represented too:
    ``{p}_mask`` has the bit of every candidate output (the engine's ``OneOf``; one bit when
    decided). ``truths``: the rows' truths when the inputs are not plain columns
    (:func:`mask_truth`). With ``candidates``, ``{p}_c{i}`` are kept: whether row ``i`` could
    be the first true row (the rows the engine's trace names), for the caller to drop."""
    truths = row_truth(table) if truths is None else truths
    n = len(truths)
    lf = lf.with_columns([t.alias(f"{p}_t{i}") for i, t in enumerate(truths)])
    true = [pl.col(f"{p}_t{i}").fill_null(False) for i in range(n)]
    cands = []
    for i in range(n):
        c = pl.col(f"{p}_t{i}").fill_null(True)
        if i:
            c = c & ~pl.any_horizontal(true[:i])
        cands.append(c.alias(f"{p}_c{i}"))
    lf = lf.with_columns(cands)
    keys: dict[str, int] = {}
    kk = [keys.setdefault(row.key, len(keys)) for row in table.rows]
    cand = [pl.col(f"{p}_c{i}") for i in range(n)]
    lf = lf.with_columns(
        pl.coalesce([pl.when(c).then(pl.lit(i, pl.Int32())) for i, c in enumerate(cand)]).alias(
            f"{p}_row"
        ),
        pl.coalesce(
            [pl.when(c).then(pl.lit(k, pl.Int32())) for c, k in zip(cand, kk, strict=True)]
        ).alias(f"{p}_key"),
    )
    unconfirmed: pl.Expr = pl.lit(False)
    for c, row in zip(cand, table.rows, strict=True):
        if row.status != "confirmed":
            unconfirmed = unconfirmed | c
    key = pl.col(f"{p}_key")
    agree: pl.Expr = pl.lit(True)
    if len(set(kk)) > 1:
        # decided when every candidate row gives the same output as the first one
        agree = pl.all_horizontal([~(c & (key != k)) for c, k in zip(cand, kk, strict=True)])
    lf = lf.with_columns(
        (key.is_not_null() & agree & ~unconfirmed).alias(f"{p}_ok"),
        (key.is_not_null() & agree).alias(f"{p}_dec"),
        (key.is_not_null() & ~unconfirmed).alias(f"{p}_any"),
        unconfirmed.alias(f"{p}_unc"),
    )
    if bits is not None:
        out = table.spec.output
        zero = pl.lit(0, pl.Int64())
        mask: pl.Expr = zero
        for c, row in zip(cand, table.rows, strict=True):
            bit = pl.lit(1 << bits[row.then.get(out)], pl.Int64())
            mask = mask | pl.when(c).then(bit).otherwise(zero)
        lf = lf.with_columns(mask.alias(f"{p}_mask"))
    dropped = [] if candidates else [f"{p}_c{i}" for i in range(n)]
    return lf.drop([f"{p}_t{i}" for i in range(n)] + dropped + [f"{p}_key"])


def then_col(table: Table, p: str, key: str, dtype: pl.DataType) -> pl.Expr:
    """The ``then[key]`` of the row ``{p}_row`` (null where the row does not set it)."""
    mapping = {i: row.then.get(key) for i, row in enumerate(table.rows)}
    return pl.col(f"{p}_row").replace_strict(mapping, default=None, return_dtype=dtype)


def eval_collect(lf: pl.LazyFrame, table: Table, p: str, kinds: Mapping[str, Any]) -> pl.LazyFrame:
    """Evaluate a collect table whose output is an issue code: adds ``{p}_codes`` (the codes
    of the true rows, in row order), ``{p}_conflict`` (one of them is a conflict) and
    ``{p}_ok`` (no true row is unconfirmed content)."""
    truths = row_truth(table)
    lf = lf.with_columns([t.fill_null(False).alias(f"{p}_t{i}") for i, t in enumerate(truths)])
    empty = pl.lit([], pl.List(pl.String()))
    codes = []
    conflict: pl.Expr = pl.lit(False)
    unconfirmed: pl.Expr = pl.lit(False)
    for i, row in enumerate(table.rows):
        t = pl.col(f"{p}_t{i}")
        code = row.then[table.output]
        codes.append(pl.when(t).then(pl.lit([code], pl.List(pl.String()))).otherwise(empty))
        if str(getattr(kinds.get(code), "value", kinds.get(code))) == "conflict":
            conflict = conflict | t
        if row.status != "confirmed":
            unconfirmed = unconfirmed | t
    lf = lf.with_columns(
        pl.concat_list(codes).alias(f"{p}_codes"),
        conflict.alias(f"{p}_conflict"),
        (~unconfirmed).alias(f"{p}_ok"),
    )
    return lf.drop([f"{p}_t{i}" for i in range(len(truths))])


def mask_truth(table: Table, masks: Mapping[str, tuple[str, Mapping[Any, int]]]) -> list[pl.Expr]:
    """Each row's Kleene truth when the inputs in ``masks`` (input -> (column, value -> bit))
    are bit masks of candidate values (null: unknown), as the engine evaluates a condition on a
    ``OneOf`` (:meth:`nenguide.engine.logic.Condition.evaluate`): true when every candidate
    satisfies it, false when none does, unknown otherwise. Other inputs are plain columns."""
    out = []
    for row in table.rows:
        e: pl.Expr = pl.lit(True)
        for c in row.conditions:
            e = e & condition_truth(table, c, masks)
        out.append(e)
    return out


def condition_truth(
    table: Table, c: Condition, masks: Mapping[str, tuple[str, Mapping[Any, int]]]
) -> pl.Expr:
    """One condition's Kleene truth, its input a bit mask of candidates where ``masks`` names
    it (see :func:`mask_truth`), else a plain column (:func:`condition_expr`)."""
    if c.fact not in masks:
        return condition_expr(c, dtype_of(table, c.fact))
    name, bits = masks[c.fact]
    sat = sum(1 << b for v, b in bits.items() if c.predicate(v))
    m = pl.col(name)
    return (
        pl.when(m.is_null()).then(pl.lit(None, pl.Boolean()))
        .when((m & pl.lit(~sat, pl.Int64())) == 0).then(pl.lit(True))
        .when((m & pl.lit(sat, pl.Int64())) == 0).then(pl.lit(False))
        .otherwise(pl.lit(None, pl.Boolean()))
    )  # fmt: skip


def first_answer(
    lf: Any,
    table: Table,
    p: str,
    masks: Mapping[str, tuple[str, Mapping[Any, int]]] | None = None,
    bits: Mapping[Any, int] | None = None,
) -> Any:
    """A first table as the engine's result names its rows: :func:`eval_first`'s columns with
    ``{p}_c{i}`` kept, ``{p}_cands`` (the candidate rows: the first that applies and the rows
    before it that wait, a bit each) and ``{p}_k`` (the row that applies, if any: the result
    names it first). ``masks``: inputs that are masks of candidates (:func:`mask_truth`);
    ``bits``: the candidate outputs as ``{p}_mask`` too (:func:`eval_first`)."""
    truths = mask_truth(table, masks or {})
    lf = eval_first(lf, table, p, truths=truths, bits=bits, candidates=True)
    cands = [pl.col(f"{p}_c{i}") for i in range(len(table.rows))]
    applies = [c & t.fill_null(False) for c, t in zip(cands, truths, strict=True)]
    return lf.with_columns(
        bit_mask(cands).alias(f"{p}_cands"),
        pl.coalesce([pl.when(a).then(pl.lit(i, pl.Int32())) for i, a in enumerate(applies)])
        .alias(f"{p}_k"),
    )  # fmt: skip
