"""The pieces of the core program's plan that are not a step of the guideline: the fact layer's
consistency tables applied over the frame, the numbers banded between the tables' cut-offs (the
program runs once per distinct row), and the recorder that records the plan once to replay it
on every chunk (:meth:`nenguide.batch.columnar.core.CoreProgram.run`), compacted first
(:func:`compact`)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from typing import Any, cast

import polars as pl

from nenguide.batch.columnar.compile import row_truth
from nenguide.batch.columnar.exprs import plain_column
from nenguide.engine.tables import Table

Plan = list[tuple[str, tuple[Any, ...], dict[str, Any]]]

#: How the program's plan is collected: with Polars' own merging of ``with_columns`` steps
#: (``cluster_with_columns``) off. The plan arrives merged already (:func:`compact`), and in
#: Polars 2.1 that optimisation can move a step that overwrites a column above a step that
#: still reads the column's old value (a wrong answer; the case is
#: ``test_hazards_keep_their_order`` in tests/batch/test_columnar_plan.py)
OPTIMIZATIONS = pl.QueryOptFlags(cluster_with_columns=False)

#: Polars engine for every lazy query of the column path (``collect(engine=ENGINE)``): a deep
#: plan of many small column steps over one chunk runs about twice as fast in memory as on
#: the streaming engine (Polars 2's default), and the streaming engine spends more CPU on the
#: same query (phase 2's program on 30 000 rows: 229 against 133 ms of CPU, 118 against
#: 108 ms of wall time; the whole column path, parts of 30 000 measured alternately in one
#: process: a median 130 against 115 µs of CPU a row, session 22). With two worker processes
#: on two cores the CPU is what counts. Eager operations run in memory already.
ENGINE: Any = "in-memory"


def replay(plan: Plan, lf: pl.LazyFrame) -> pl.LazyFrame:
    """The recorded steps of ``plan`` on ``lf``."""
    for name, args, kwargs in plan:
        lf = getattr(lf, name)(*args, **kwargs)
    return lf


def compact(plan: Plan) -> Plan:
    """``plan`` with its ``with_columns`` steps merged into as few as their dependencies allow,
    giving the same frame: Polars pays a fixed cost per step of a plan on every collect
    (about 0.3 ms for each of the core program's ~270 steps, whatever the chunk's size), and
    the program's tables are mostly independent of each other.

    Each ``with_columns`` expression goes to the earliest layer after the last layer that
    writes a column it reads (read after write) or a column it writes (write after write),
    and not before a layer that reads a column it overwrites (write after read: a
    ``with_columns`` reads its input frame, so the same layer is still in time). ``drop``
    steps are left out (the program's intermediate names are never reused, and its last
    step selects its output); any other step (a ``select``), or an expression whose columns
    cannot be listed (a regex or a multi-column selection), ends the layers before it."""
    out: Plan = []
    layers: list[list[pl.Expr]] = []
    writer: dict[str, int] = {}  # column -> the last layer that writes it
    reader: dict[str, int] = {}  # column -> the last layer that reads it

    def flush() -> None:
        out.extend(("with_columns", tuple(layer), {}) for layer in layers)
        layers.clear()
        writer.clear()
        reader.clear()

    for name, args, kwargs in plan:
        if name == "drop":
            continue
        items = _with_columns_items(args, kwargs) if name == "with_columns" else None
        if items is None:
            flush()
            out.append((name, args, kwargs))
            continue
        reads = {r for e in items for r in e.meta.root_names()}
        writes = [e.meta.output_name() for e in items]
        level = max(
            [writer[c] + 1 for c in reads.union(writes) if c in writer]
            + [reader[c] for c in writes if c in reader]
            + [0]
        )
        while len(layers) <= level:
            layers.append([])
        layers[level].extend(items)
        for c in writes:
            writer[c] = level
        for c in reads:
            reader[c] = max(reader.get(c, 0), level)
    flush()
    return out


def _with_columns_items(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[pl.Expr] | None:
    """The expressions of a ``with_columns`` step, each named; ``None`` when one of them is
    not a single named column expression (the step is then kept as it is)."""
    items: list[Any] = []
    for a in args:
        items.extend(a if isinstance(a, list | tuple) else [a])
    items.extend(e.alias(k) if isinstance(e, pl.Expr) else e for k, e in kwargs.items())
    if not all(isinstance(e, pl.Expr) for e in items):
        return None
    exprs = cast(list[pl.Expr], items)
    try:
        for e in exprs:
            if e.meta.has_multiple_outputs() or e.meta.is_regex_projection():
                return None
            e.meta.output_name()
    except pl.exceptions.ComputeError:  # no single output name
        return None
    return exprs


def once_per_group(
    plan: Plan, facts: pl.DataFrame, keys: list[str], cuts: dict[str, list[float]], engine: Any
) -> pl.DataFrame:
    """``plan`` run once per distinct row of ``keys`` (each number banded between its
    ``cuts``, :func:`bands`), the answers gathered back in input order."""
    banded = facts.lazy().select(*[bands(k, cuts.get(k)) for k in keys])
    groups = banded.with_row_index("_i").group_by(keys).agg(pl.col("_i")).collect(engine=engine)
    uniq = replay(plan, groups.drop("_i").lazy()).collect(
        engine=engine, optimizations=OPTIMIZATIONS
    )
    # the answer of each input row: its group's, in input order
    where = (
        groups.select(pl.col("_i"), _g=pl.int_range(pl.len(), dtype=pl.UInt32))
        .explode("_i")
        .sort("_i")
    )
    return uniq[where["_g"]]


def cut_offs(tables: Iterable[Table]) -> dict[str, list[float]]:
    """Per fact, every number the conditions of ``tables`` compare it with (:func:`numbers`),
    sorted, each once: the bounds of its bands (:func:`band_of`). Facts compared with no
    number are left out."""
    found: dict[str, set[float]] = {}
    for table in tables:
        for row in table.rows:
            for c in row.conditions:
                nums = numbers(c.spec)
                if nums:
                    found.setdefault(c.fact, set()).update(map(float, nums))
    return {fact: sorted(v) for fact, v in found.items()}


def band_of(cuts: list[float], v: float) -> int:
    """The band of the number ``v`` among ``cuts`` (sorted): ``2i + 1`` on cut ``i``, ``2i``
    between cut ``i - 1`` and cut ``i`` (below the first: 0; above the last: ``2 len(cuts)``).
    Every comparison with a cut gives the same answer for all numbers of a band; the same
    bands as :func:`bands`, whose representatives are :func:`band_values`."""
    i = bisect_left(cuts, v)
    return 2 * i + 1 if i < len(cuts) and cuts[i] == v else 2 * i


def band_masks(name: str, vals: list[Any], cuts: list[float]) -> pl.Series | None:
    """Per value of ``vals``, ``1 << band_of(cuts, v)`` (null: unknown), as a column, for a
    column of plain numbers; ``None`` when a value is no finite number (a range of candidates,
    another type): the caller bands the values one by one."""
    col = plain_column(name, vals, pl.Float64())
    if col is None:
        return None
    # band_of: 2i below cut i (i: the cuts below the value), 2i + 1 on it
    below = pl.Series(cuts, dtype=pl.Float64()).search_sorted(col, side="left")
    v = pl.col(name)
    band = pl.col("_below").cast(pl.Int64()) * 2 + v.is_in(cuts).cast(pl.Int64())
    out = pl.DataFrame([col, below.alias("_below")]).select(
        pl.when(v.is_null()).then(None).otherwise(pl.lit(2, pl.Int64()).pow(band)).alias(name)
    )
    return out.to_series()


def band_values(cuts: list[float]) -> list[float]:
    """A number of each band among ``cuts`` (:func:`band_of`), in band order: the value
    itself on a cut, the midpoint between two, one below the lowest and one above the
    highest (as :func:`bands` replaces a column's numbers)."""
    if not cuts:
        return [0.0]
    out: list[float] = [cuts[0] - 1.0]
    for lo, hi in zip(cuts, [*cuts[1:], None], strict=True):
        out += [lo, lo + 1.0 if hi is None else lo + (hi - lo) / 2]
    return out


def bands(name: str, cuts: list[float] | None) -> pl.Expr:
    """Column ``name`` with each number replaced by a representative of its band between
    ``cuts``, the cut-offs the compiled tables compare it with (unchanged where it equals one;
    ``None``: not a number, the column as it is)."""
    col = pl.col(name)
    if cuts is None:
        return col
    if not cuts:  # read only for being known or not
        return pl.when(col.is_not_null()).then(pl.lit(0.0)).alias(name)
    reps = band_values(cuts)  # band 2i+1 is cut i itself, band 2i+2 the numbers above it
    e: Any = pl.when(col < cuts[0]).then(pl.lit(reps[0]))
    for i, (lo, hi) in enumerate(zip(cuts, [*cuts[1:], None], strict=True)):
        e = e.when(col == lo).then(pl.lit(reps[2 * i + 1]))
        e = e.when(col < hi if hi is not None else col > lo).then(pl.lit(reps[2 * i + 2]))
    return cast(pl.Expr, e.otherwise(col).alias(name))


def consistency(lf: pl.LazyFrame, table: Table, p: str) -> pl.LazyFrame:
    """A consistency table of the fact layer, as :func:`nenguide.engine.fact_layer._consistency`
    applies it: every fact a true row names in ``unknown_facts`` becomes unknown, and
    ``has_conflicted`` says whether this or an earlier consistency table made any fact
    unknown (the engine's ``conflicted``, gathered over the tables in turn). Its issues are
    the fact layer's, not the core's (the core-only mode returns the core columns only)."""
    truths = row_truth(table)
    lf = lf.with_columns([t.fill_null(False).alias(f"{p}_t{i}") for i, t in enumerate(truths)])
    facts: dict[str, list[pl.Expr]] = {}
    conflicted: list[pl.Expr] = [pl.col("has_conflicted")]
    for i, row in enumerate(table.rows):
        for fact in row.then.get("unknown_facts") or ():
            facts.setdefault(fact, []).append(pl.col(f"{p}_t{i}"))
        if row.then.get("unknown_facts"):
            conflicted.append(pl.col(f"{p}_t{i}"))
    return lf.with_columns(
        *[pl.when(pl.any_horizontal(ts)).then(None).otherwise(pl.col(f)).alias(f)
          for f, ts in facts.items()],
        has_conflicted=pl.any_horizontal(conflicted),
    ).drop([f"{p}_t{i}" for i in range(len(truths))])  # fmt: skip


def numbers(spec: Any) -> list[float]:
    """Every number a condition's spec compares with (as :func:`.compile.condition_expr`
    reads it: bounds, an equality, a list of values)."""
    if isinstance(spec, bool):
        return []
    if isinstance(spec, int | float):
        return [spec]
    if isinstance(spec, dict):
        return [n for v in spec.values() for n in numbers(v)]
    if isinstance(spec, list):
        return [n for v in spec for n in numbers(v)]
    return []


class Recorder:
    """Stands in for a LazyFrame while the plan is built: records each step to replay it."""

    def __init__(self) -> None:
        self.ops: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def _step(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Recorder:
        self.ops.append((name, args, kwargs))
        return self

    def with_columns(self, *args: Any, **kwargs: Any) -> Recorder:
        return self._step("with_columns", args, kwargs)

    def drop(self, *args: Any, **kwargs: Any) -> Recorder:
        return self._step("drop", args, kwargs)

    def select(self, *args: Any, **kwargs: Any) -> Recorder:
        return self._step("select", args, kwargs)
