"""Trace entries: what an assessment's trace shows for a table look-up or a step's note.

Entries are built frozen (:class:`FrozenDict`, no deep copy: frozen parts are shared, not
copied), as they are memoised with the table result and shared between assessments. A row's
parts of an entry (its id, condition text, explanation, output, sources) are frozen once, when
the table is compiled (:class:`~nenguide.engine.tables.Row`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import chain, compress
from operator import attrgetter, not_
from typing import Any

from nenguide.engine.table_eval import (
    EMPTY,
    NO_PARTS,
    collect_parts,
    compiled_collect,
    compiled_first,
    first_parts,
    generic_parts,
)
from nenguide.engine.tables import (
    _NONE,
    _PLAIN,
    CollectResult,
    Table,
    TableResult,
    collect_from,
    first_from,
    jsonable,
)
from nenguide.model.frozen import FrozenDict, FrozenList

#: sets a value of a FrozenDict being built (before anyone else can see it)
_set = dict.__setitem__
#: builds a result tuple without the named tuple's keyword-handling constructor
_tuple = tuple.__new__


def entry(
    step: str, table: str | None, rule_ids: list[str], decided: bool, inputs: Mapping[str, Any],
    conditions: list[str], explanations: list[str], result: Any, sources: list[str],
) -> FrozenDict:  # fmt: skip
    """One trace entry, built frozen (no deep copy; frozen parts are shared, not copied)."""
    plain = _PLAIN
    if type(inputs) is FrozenDict and plain.issuperset(map(type, inputs.values())):
        shown_ = inputs  # a table's read values, all plain already: the same frozen mapping
    else:
        shown_ = shown(inputs)
    return FrozenDict(
        step=step,
        table=table,
        rule_ids=rule_ids if type(rule_ids) is FrozenList else FrozenList(rule_ids),
        decided=decided,
        inputs=shown_,
        conditions=conditions if type(conditions) is FrozenList else FrozenList(conditions),
        explanations=(
            explanations if type(explanations) is FrozenList else FrozenList(explanations)
        ),
        result=result if type(result) in plain else jsonable(result),
        sources=sources if type(sources) is FrozenList else FrozenList(sources),
    )


def shown(inputs: Mapping[str, Any]) -> FrozenDict:
    """``inputs`` as a trace entry shows them: frozen, each value JSON-ready (the keys of the
    values that need :func:`jsonable` found without a Python-level pass over all of them:
    the fact layer's note reads over a hundred facts)."""
    d = FrozenDict(inputs)  # one copy; the values that need it replaced before it is shared
    for k in list(compress(d, map(not_, map(_PLAIN.__contains__, map(type, d.values()))))):
        _set(d, k, jsonable(d[k]))
    return d


def _sources(rows: Iterable[Any]) -> FrozenList:
    """The sources of ``rows``, each once, in order of first mention."""
    return FrozenList(dict.fromkeys(chain.from_iterable(map(_SOURCES, rows))))


_ID, _TRACE_TEXT, _WHEN_TEXT, _OUT, _SOURCES = map(
    attrgetter, ("id", "trace_text", "when_text", "out", "sources")
)


def first_hit(step: str, table: Table, vals: tuple[Any, ...]) -> tuple[TableResult, FrozenDict]:
    """A first table's result for the (hashable) input values ``vals`` and its trace entry,
    built in one go from the parts the rows keep (:func:`first_parts`)."""
    got = compiled_first(table, vals)
    if got is None or got == -1:  # None: the generic evaluator (first_from) answers
        res = first_from(table, vals, got)
        return res, table_entry(step, res)
    # vals was read by table.names (the same length); zip's strict= costs 0.17 µs
    read = FrozenDict(zip(table.names, vals))  # noqa: B905
    if type(got) is int:  # one row TRUE, none before it waiting on a missing input
        row = table.rows[got]
        res = _tuple(TableResult, (table, table.values[got], table.singles[got], True, _NONE, read))
        rule_ids, decided, conditions, explanations, result, sources = (
            row.ids, True, row.conds, row.expls, row.out, row.srcs,
        )  # fmt: skip
    else:
        parts = table.parts.get(got) or first_parts(table, got)
        rows, decided, value, reads, rule_ids, conditions, explanations, result, sources = parts
        missing = _NONE if decided else frozenset({f for i, f in reads if vals[i] is None})
        res = _tuple(TableResult, (table, value, rows, decided, missing, read))
    return res, FrozenDict(
        step=step,
        table=table.spec.id,
        rule_ids=rule_ids,
        decided=decided,
        inputs=read if _PLAIN.issuperset(map(type, vals)) else shown(read),
        conditions=conditions,
        explanations=explanations,
        result=result,
        sources=sources,
    )


def table_entry(step: str, res: TableResult) -> FrozenDict:
    """The trace entry of a first table's result."""
    rows = res.rows
    if len(rows) == 1:  # the common case: the row's trace parts, built at load
        r = rows[0]
        read = res.read
        if not _PLAIN.issuperset(map(type, read.values())):
            read = shown(read)
        result = r.out if res.decided else res.value
        return FrozenDict(
            step=step,
            table=res.table.spec.id,
            rule_ids=r.ids,
            decided=res.decided,
            inputs=read,
            conditions=r.conds,
            explanations=r.expls,
            result=result if type(result) in _PLAIN else jsonable(result),
            sources=r.srcs,
        )
    return entry(
        step,
        res.table.spec.id,
        FrozenList(map(_ID, rows)),
        res.decided,
        res.read,
        FrozenList(map(_TRACE_TEXT, rows)),
        FrozenList(map(_WHEN_TEXT, rows)),
        # decided: the first row's output (its JSON form built at load)
        rows[0].out if res.decided and rows else res.value,
        _sources(rows),
    )


def collect_hit(
    step: str, table: Table, vals: tuple[Any, ...]
) -> tuple[CollectResult, FrozenDict, FrozenDict | None]:
    """A collect table's result for the (hashable) input values ``vals`` and its trace
    entries (:func:`collect_entries`), built in one go from the parts the rows keep
    (:func:`collect_parts`)."""
    got = compiled_collect(table, vals)
    if got is None:  # a OneOf input: the generic evaluator's rows, their parts kept as well
        res = collect_from(table, vals, got)
        applies, maybe, ids, conds, expls, outs, srcs, pending = generic_parts(
            table, res.applies, res.maybe
        )
        read = res.read
    else:
        applies, maybe, ids, conds, expls, outs, srcs, pending = (
            NO_PARTS if got == 0 else table.cparts.get(got) or collect_parts(table, got)
        )
        # vals was read by table.names (the same length); zip's strict= costs 0.17 µs
        read = FrozenDict(zip(table.names, vals))  # noqa: B905
        res = _tuple(CollectResult, (table, applies, maybe, read))
    inputs = read if _PLAIN.issuperset(map(type, vals)) else shown(read)
    return (
        res,
        *_collect_pair(step, table.spec.id, inputs, ids, conds, expls, outs, srcs, pending),
    )


def collect_entries(step: str, res: CollectResult) -> tuple[FrozenDict, FrozenDict | None]:
    """The rows that applied (none: an empty entry, so every table consulted is traced),
    and the rows that could apply but need a missing input (``decided`` false; the inputs
    each needs under ``result.pending``), ``None`` when there are none. Built frozen, from the
    parts the table keeps for these rows (:func:`generic_parts`)."""
    read = res.read
    if not _PLAIN.issuperset(map(type, read.values())):
        read = shown(read)
    _, _, ids, conds, expls, outs, srcs, pending = generic_parts(res.table, res.applies, res.maybe)
    return _collect_pair(step, res.table.spec.id, read, ids, conds, expls, outs, srcs, pending)


def _collect_pair(
    step: str,
    table: str,
    inputs: Any,
    ids: Any,
    conds: Any,
    expls: Any,
    outs: Any,
    srcs: Any,
    pending: tuple[Any, Any, Any] | None,
) -> tuple[FrozenDict, FrozenDict | None]:
    """A collect table's two trace entries: the rows that applied (an empty entry when none
    did, so every table consulted is traced) and, when some rows wait on a missing input, their
    conditions, explanations and pending inputs (``decided`` false)."""
    applied = FrozenDict(
        step=step,
        table=table,
        rule_ids=ids,
        decided=True,
        inputs=inputs,
        conditions=conds,
        explanations=expls,
        result=outs,
        sources=srcs,
    )
    if pending is None:
        return applied, None
    return applied, FrozenDict(
        step=step,
        table=table,
        rule_ids=EMPTY,
        decided=False,
        inputs=inputs,
        conditions=pending[0],
        explanations=pending[1],
        result=pending[2],
        sources=EMPTY,
    )
