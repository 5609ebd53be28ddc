"""The fact tables of the fact layer's phase 1 over a chunk's columns, as
:func:`nenguide.engine.fact_layer.case_facts` evaluates them after the reshaping (the columns of
:mod:`.phase1`), in its order:

1. list ``precedence`` (which source wins: the node status): each table sets its output fact,
   unknown where undecided;
2. list ``consistency`` (contradictions in the data): every row that applies is one issue (its
   code), the facts it names in ``unknown_facts`` become unknown for every later table and
   step, and are gathered, in order and as often as named, in the fact ``conflicted``; a later
   table reads the facts an earlier one made unknown;
3. list ``case`` (symptom combinations, atrophic gastritis, SSTR positivity, ...): as 1.

(The counting table of role ``relative_men1_major``, evaluated between 2 and 3 by the engine,
reads the relatives only, no fact: :mod:`.case_relatives` gives its column.)

Every condition is the table's own, compiled to a Polars expression by :mod:`.compile` (the
three-valued logic as Polars' Kleene booleans), so a table edit changes these columns as it
changes the engine. The unconfirmed rules are those the engine's trace names: the candidate
rows of a ``first`` or ``unique`` table (the first row that applies and the rows before it
that wait on a missing input) and the rows of a ``collect`` table that apply.

A fact table whose outputs are of several types, which no column can hold, is refused when
the tables are compiled (:class:`MixedOutputs`); this package has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from nenguide.batch.columnar.compile import dtype_of, eval_first, row_truth, then_col
from nenguide.batch.columnar.exprs import NO_WORDS, concat_words, words_when, words_where
from nenguide.batch.columnar.plan import ENGINE, OPTIMIZATIONS, Plan, Recorder, compact, replay
from nenguide.engine.kb import Knowledge
from nenguide.engine.tables import Table

STEP = "facts"


class MixedOutputs(ValueError):
    """A fact table sets values of several types: no column can hold its output."""


@dataclass(frozen=True)
class CaseTables:
    """The fact tables' part of phase 1, one row per case in order: ``facts`` (the columns
    given, with the tables' outputs set, the contradicted facts unknown and ``conflicted``),
    ``issues`` (the codes of the consistency tables' issues, in the engine's order) and
    ``unconfirmed`` (the unconfirmed rules the tables read, as often as read)."""

    facts: pl.DataFrame
    issues: pl.Series
    unconfirmed: pl.Series


@dataclass(frozen=True)
class _Program:
    plan: Plan
    inputs: dict[str, pl.DataType]  # every input the tables read, typed by its domain
    outputs: tuple[str, ...]  # the facts the first tables set, and ``conflicted``


def output_dtype(table: Table) -> pl.DataType:
    """The column type of a first table's output, from the values its rows set."""
    kinds = {type(row.then.get(table.output)) for row in table.rows} - {type(None)}
    if kinds <= {bool}:
        return pl.Boolean()
    if kinds <= {str}:
        return pl.String()
    if kinds <= {int}:
        return pl.Int64()
    if kinds <= {int, float}:
        return pl.Float64()
    raise MixedOutputs(
        f"fact table {table.spec.id} sets {table.output} to values of several types "
        f"({', '.join(sorted(k.__name__ for k in kinds))}): no column can hold them"
    )


def first_fact(rec: Any, table: Table, p: str) -> tuple[Any, str]:
    """A first/unique table of the fact layer: its output fact (unknown where undecided), as
    :func:`nenguide.engine.fact_layer._first_tables` sets it; returns the column of its
    unconfirmed candidate rows' ids (the rows the engine's trace names)."""
    rec = eval_first(rec, table, p, candidates=True)
    rows = enumerate(table.rows)
    unconfirmed = [(pl.col(f"{p}_c{i}"), row.id) for i, row in rows if row.status != "confirmed"]
    rec = rec.with_columns(
        pl.when(pl.col(f"{p}_dec"))
        .then(then_col(table, p, table.output, output_dtype(table)))
        .alias(table.output),
        words_where(unconfirmed).alias(f"{p}_uids"),
    )
    return rec, f"{p}_uids"


def _consistency(rec: Any, table: Table, p: str) -> tuple[Any, str, str, str]:
    """A consistency (collect) table: the facts its rows that apply name made unknown;
    returns the columns of its issue codes, of the facts it made unknown (in order) and of
    its unconfirmed rows that apply."""
    n = len(table.rows)
    rec = rec.with_columns(
        [t.fill_null(False).alias(f"{p}_t{i}") for i, t in enumerate(row_truth(table))]
    )
    applies = [(pl.col(f"{p}_t{i}"), row) for i, row in enumerate(table.rows)]
    unknown: dict[str, list[pl.Expr]] = {}
    named = []
    for t, row in applies:
        facts = list(row.then.get("unknown_facts") or ())
        for fact in facts:
            unknown.setdefault(fact, []).append(t)
        if facts:
            named.append(words_when(t, facts))
    unconfirmed = [(t, row.id) for t, row in applies if row.status != "confirmed"]
    rec = rec.with_columns(
        words_where([(t, row.then[table.output]) for t, row in applies]).alias(f"{p}_codes"),
        concat_words(named).alias(f"{p}_named"),
        words_where(unconfirmed).alias(f"{p}_uids"),
    )
    rec = rec.with_columns(
        [pl.when(pl.any_horizontal(ts)).then(None).otherwise(pl.col(f)).alias(f)
         for f, ts in unknown.items()]
    ).drop([f"{p}_t{i}" for i in range(n)])  # fmt: skip
    return rec, f"{p}_codes", f"{p}_named", f"{p}_uids"


def _program(kb: Knowledge) -> _Program:
    tables = kb.tables
    lists = {role: [tables[i] for i in kb.pathway.tables(STEP, role)]
             for role in ("precedence", "consistency", "case")}  # fmt: skip
    inputs: dict[str, pl.DataType] = {}
    for ts in lists.values():
        for t in ts:
            for name in t.spec.inputs:
                inputs.setdefault(name, dtype_of(t, name))
    rec: Any = Recorder()
    uids: list[str] = []
    codes: list[str] = []
    named: list[str] = []
    for i, t in enumerate(lists["precedence"]):
        rec, u = first_fact(rec, t, f"_ftp{i}")
        uids.append(u)
    for i, t in enumerate(lists["consistency"]):
        rec, c, n, u = _consistency(rec, t, f"_ftc{i}")
        codes.append(c)
        named.append(n)
        uids.append(u)
    for i, t in enumerate(lists["case"]):
        rec, u = first_fact(rec, t, f"_ftf{i}")
        uids.append(u)
    rec = rec.with_columns(
        (pl.concat_list(named) if named else NO_WORDS).alias("conflicted"),
        (pl.concat_list(codes) if codes else NO_WORDS).alias("_ft_issues"),
        (pl.concat_list(uids) if uids else NO_WORDS).alias("_ft_unc"),
    )
    outputs = [t.output for ts in (lists["precedence"], lists["case"]) for t in ts]
    return _Program(compact(rec.ops), inputs, tuple(dict.fromkeys([*outputs, "conflicted"])))


def case_tables(facts: pl.DataFrame, kb: Knowledge) -> CaseTables:
    """The fact tables of phase 1 over ``facts`` (the reshaped columns of
    :func:`.phase1.phase1`)."""
    prog = kb.derived(("columnar_case_tables",), lambda: _program(kb))
    missing = [pl.lit(None, dtype).alias(name) for name, dtype in prog.inputs.items()
               if name not in facts.columns]  # fmt: skip
    lf = facts.lazy().with_columns(missing) if missing else facts.lazy()
    out = replay(prog.plan, lf).collect(engine=ENGINE, optimizations=OPTIMIZATIONS)
    # the facts given (a table's output replacing its column), then the new ones
    keep = [*facts.columns, *[c for c in prog.outputs if c not in facts.columns]]
    return CaseTables(
        out.select(keep), out["_ft_issues"].alias("issues"), out["_ft_unc"].alias("unconfirmed")
    )
