"""Evaluating a compiled decision table (:mod:`nenguide.engine.tables`) on a case's input
values: by the table's compiled functions (:mod:`nenguide.engine.table_code`), or row by row
with the three-valued logic (:func:`_live_rows`, the reference) for the inputs those do not
cover. Results are immutable: they are memoised and shared between assessments."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import chain, product
from math import prod
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from nenguide.engine.logic import (
    OP_EQ,
    OP_IN,
    OP_IS,
    OP_NOT_IN,
    OneOf,
    Tri,
    one_of,
)
from nenguide.model.frozen import FrozenDict, FrozenList

if TYPE_CHECKING:
    from nenguide.engine.tables import Row, Table

#: builds a result tuple without the named tuple's keyword-handling constructor
_tuple = tuple.__new__


#: values :func:`jsonable` returns as they are, by exact type (scalars, frozen containers)
_PLAIN = frozenset({str, int, float, bool, type(None), FrozenDict, FrozenList})
_STR = frozenset({str})


def jsonable(v: Any) -> Any:
    """``v`` as a JSON-ready value, immutable (frozen containers): a trace or issue entry is
    memoised and shared between assessments."""
    t = type(v)
    if t in _PLAIN:
        return v
    if t is tuple or t is frozenset or t is set:
        if _STR.issuperset(map(type, v)):  # only texts: sorted as they are (str(x) is x)
            return FrozenList(sorted(v))
        return FrozenList(sorted((jsonable(x) for x in v), key=str))
    if t is list:
        if _PLAIN.issuperset(map(type, v)):
            return FrozenList(v)
        return FrozenList([x if type(x) in _PLAIN else jsonable(x) for x in v])
    if t is OneOf:
        return FrozenDict({"one_of": FrozenList([jsonable(x) for x in v.sorted()])})
    if isinstance(v, frozenset | set | tuple):
        return FrozenList(sorted((jsonable(x) for x in v), key=str))
    if t is dict:
        if _PLAIN.issuperset(map(type, v.values())):
            return FrozenDict(v)
        return FrozenDict({k: x if type(x) in _PLAIN else jsonable(x) for k, x in v.items()})
    return v


class TableResult(NamedTuple):
    """What one table said about one case (immutable: results are memoised and shared)."""

    table: Table
    value: Any  # concrete output, a OneOf of candidate outputs, or None (no row can apply)
    rows: tuple[Row, ...]  # the decisive row first (if any), then the other candidates
    decided: bool
    missing: frozenset[str] = frozenset()
    read: Mapping[str, Any] = FrozenDict()

    @property
    def row(self) -> Row | None:
        return self.rows[0] if self.decided and self.rows else None


_FALSE, _TRUE, _UNKNOWN = Tri.FALSE, Tri.TRUE, Tri.UNKNOWN
_NONE: frozenset[str] = frozenset()


def _row_truth(row: Row, facts: Mapping[str, Any]) -> tuple[Tri, list[str]]:
    """Kleene AND of the row's conditions, and the inputs that left it UNKNOWN."""
    unknown: list[str] = []
    for c in row.conditions:
        v = facts.get(c.fact)
        if v is None:
            unknown.append(c.fact)
        elif type(v) is OneOf:
            t = c.evaluate(v)
            if t is _FALSE:
                return _FALSE, []
            if t is _UNKNOWN:
                unknown.append(c.fact)
        elif not c.predicate(v):  # fast path: a concrete value
            return _FALSE, []
    return (_UNKNOWN, unknown) if unknown else (_TRUE, unknown)


def _live_rows(table: Table, vals: tuple[Any, ...]) -> Iterator[tuple[Row, list[str] | None]]:
    """The rows that are not FALSE on the table's input values in order (``table.names``), in
    row order, each with the inputs that leave it UNKNOWN (``None``: it is TRUE).
    :func:`_row_truth` inline, each condition tested by its OP_* code without a call where it
    can: this loop is the engine's hot path (every table look-up of every assessment)."""
    for row in table.candidates(vals):
        unknown: list[str] | None = None
        for i, op, arg, c in row.checks:
            v = vals[i]
            if v is None:
                if unknown is None:
                    unknown = []
                unknown.append(c.fact)
            elif type(v) is OneOf:
                t = c.evaluate(v)
                if t is _FALSE:
                    break
                if t is _UNKNOWN:
                    if unknown is None:
                        unknown = []
                    unknown.append(c.fact)
            elif op == OP_IN:
                if v not in arg:
                    break
            elif op == OP_EQ:
                if v != arg:
                    break
            elif op == OP_IS:
                if v is not arg:
                    break
            elif op == OP_NOT_IN:
                if v in arg:
                    break
            elif not c.predicate(v):
                break
        else:
            yield row, unknown


def evaluate_first(table: Table, facts: Mapping[str, Any]) -> TableResult:
    """Evaluate a ``first``/``unique`` table.

    The outcome is decided when every row that could still be the first true row gives the same
    ``then`` (all outputs equal); otherwise the candidate outputs are returned as a ``OneOf``.
    """
    return first_of(table, tuple(map(facts.get, table.names)))


#: most combinations of unknown inputs :func:`outcomes` tries
OUTCOMES_LIMIT = 64


def outcomes(
    table: Table, read: Mapping[str, Any], unknown: Iterable[str]
) -> frozenset[Any] | None:
    """Every output a first table gives when each input in ``unknown`` takes each value it
    can (its candidates when it is a ``OneOf``; else its declared domain: an enum's values, a
    bool's true and false), the other inputs as ``read``: the exact candidate set of an
    undecided result. ``None`` when it cannot be known that way: an unknown input that is a
    number (no finite domain), more than :data:`OUTCOMES_LIMIT` combinations, or a combination
    that leaves the table undecided or no row applying (then "no answer" is a candidate too)."""
    names = tuple(unknown)
    domains: list[tuple[Any, ...]] = []
    for name in names:
        spec = table.spec.inputs.get(name)
        given = read.get(name)
        if spec is None:
            return None
        if isinstance(given, OneOf):  # one of a few values already: those
            domains.append(tuple(given.values))
        elif given is not None:
            domains.append((given,))
        elif spec.type == "bool":
            domains.append((True, False))
        elif spec.type == "enum" and spec.values:
            domains.append(tuple(spec.values))
        else:
            return None
    if not names or prod(map(len, domains)) > OUTCOMES_LIMIT:
        return None
    found: set[Any] = set()
    for combo in product(*domains):
        given = {**read, **dict(zip(names, combo, strict=True))}
        res = first_of(table, tuple(map(given.get, table.names)))
        if not res.decided or not res.rows:
            return None
        found.add(res.value)
    return frozenset(found)


def first_of(table: Table, vals: tuple[Any, ...]) -> TableResult:
    """:func:`evaluate_first` on the table's input values in order (``table.names``): by the
    table's compiled function, or by :func:`_live_rows` for a ``OneOf`` or unhashable input."""
    return first_from(table, vals, compiled_first(table, vals))


def compiled_first(table: Table, vals: tuple[Any, ...]) -> Any:
    """What a first table's compiled function answers for its input values ``vals``: the
    index of the row that decides (``-1``: no row can apply), or the key of the undecided
    answer's parts (see :func:`first_parts`); ``None`` when it cannot read them (a ``OneOf``
    or an unhashable value, or a value whose tests raise: :func:`first_from` then evaluates
    the rows one by one)."""
    fn = table.code[0]
    try:
        return fn(vals) if fn is not None else table.first_fn()(vals)
    except TypeError:
        return None


def first_from(table: Table, vals: tuple[Any, ...], got: Any) -> TableResult:
    """The result of a first table from what its compiled function answered (``got``) for the
    input values ``vals``."""
    if got is None:  # a OneOf input
        return _first_generic(table, vals)
    # vals was read by table.names (the same length); zip's strict= costs 0.17 µs
    read = FrozenDict(zip(table.names, vals))  # noqa: B905
    if type(got) is int:
        if got < 0:
            return _tuple(TableResult, (table, None, (), False, _NONE, read))
        return _tuple(
            TableResult, (table, table.values[got], table.singles[got], True, _NONE, read)
        )
    parts = table.parts.get(got) or first_parts(table, got)
    rows, decided, value, reads = parts[:4]
    missing = _NONE if decided else frozenset({f for i, f in reads if vals[i] is None})
    return _tuple(TableResult, (table, value, rows, decided, missing, read))


def _bits(mask: int) -> list[int]:
    """The positions of the bits set in ``mask``, lowest first."""
    out: list[int] = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


#: how many sets of candidate rows a table keeps the parts of (:func:`first_parts`)
PARTS_LIMIT = 1_000
_ID, _TRACE_TEXT, _WHEN_TEXT, _SOURCES = map(
    attrgetter, ("id", "trace_text", "when_text", "sources")
)


def row_parts(rows: tuple[Any, ...]) -> tuple[Any, Any, Any, Any, Any]:
    """The trace parts of the rows that applied: their ids, conditions, explanations, outputs
    and sources (each once, in order of first mention); a single row's were built at load."""
    if len(rows) == 1:
        r = rows[0]
        return r.ids, r.conds, r.expls, r.outs, r.usrcs
    if not rows:
        return EMPTY, EMPTY, EMPTY, EMPTY, EMPTY
    return (
        FrozenList(map(_ID, rows)),
        FrozenList(map(_TRACE_TEXT, rows)),
        FrozenList(map(_WHEN_TEXT, rows)),
        FrozenList([r.out for r in rows]),
        FrozenList(dict.fromkeys(chain.from_iterable(map(_SOURCES, rows)))),
    )


def first_parts(table: Table, got: tuple[int, int]) -> tuple[Any, ...]:
    """What the rows that could be the first true row decide - the answer ``(k, mask)`` of a
    first table's compiled function: row ``k`` TRUE (-1: none) after the UNKNOWN rows in
    ``mask`` - and the parts of its trace entry. A pure function of the table's rows, kept in
    ``table.parts`` (like the compiled code, not a memo of case values):

    ``(rows, decided, value, reads, rule_ids, conditions, explanations, result, sources)``,
    with ``rows`` the decisive row (if any) first, then the others; ``decided`` when they all
    give the same output (``value``), else ``value`` is the candidate outputs; ``reads`` the
    (input index, name) of their conditions, in order (the missing inputs are those unknown);
    the rest what the trace shows (:func:`~nenguide.engine.trace_entries.table_entry`)."""
    k, mask = got
    every = table.rows
    rows = tuple(([every[k]] if k >= 0 else []) + [every[j] for j in _bits(mask)])
    out = table.spec.output
    key = rows[0].key
    decided = all(r.key == key for r in rows)
    # every row that could still apply gives the same answer, or the candidate outputs
    value = rows[0].then[out] if decided else one_of(r.then[out] for r in rows)
    reads = tuple(chain.from_iterable([r.reads for r in rows]))
    if len(rows) == 1:  # the row's trace parts, built at load
        r = rows[0]
        ids, conds, expls, srcs = r.ids, r.conds, r.expls, r.srcs
    else:
        ids = FrozenList(map(_ID, rows))
        conds = FrozenList(map(_TRACE_TEXT, rows))
        expls = FrozenList(map(_WHEN_TEXT, rows))
        srcs = FrozenList(dict.fromkeys(chain.from_iterable(map(_SOURCES, rows))))
    # decided: the first row's output (its JSON form built at load)
    result = rows[0].out if decided else value if type(value) in _PLAIN else jsonable(value)
    parts = (rows, decided, value, reads, ids, conds, expls, result, srcs)
    if len(table.parts) >= PARTS_LIMIT:
        table.parts.clear()
    table.parts[got] = parts
    return parts


def _first_generic(table: Table, vals: tuple[Any, ...]) -> TableResult:
    """:func:`first_of` by :func:`_live_rows` (any input values)."""
    candidates: list[Row] | None = None
    missing: set[str] = set()
    decisive: Row | None = None
    # one pass in row order: the first TRUE row ends it; rows that need an unknown input
    # before it are the candidates
    for row, unknown in _live_rows(table, vals):
        if unknown is None:
            decisive = row
            break
        if candidates is None:
            candidates = []
        candidates.append(row)
        missing.update(unknown)
    # vals was read by table.names (the same length); zip's strict= costs 0.17 µs
    read = FrozenDict(zip(table.names, vals))  # noqa: B905
    if candidates is None:
        if decisive is None:
            return _tuple(TableResult, (table, None, (), False, _NONE, read))
        value = decisive.then[table.spec.output]
        return _tuple(TableResult, (table, value, (decisive,), True, _NONE, read))
    out = table.spec.output
    rows = (decisive, *candidates) if decisive is not None else tuple(candidates)
    key = rows[0].key
    if all(r.key == key for r in rows):
        # every row that could still apply gives the same answer
        return TableResult(table, rows[0].then[out], rows, True, _NONE, read)
    return TableResult(
        table, one_of(r.then[out] for r in rows), rows, False, frozenset(missing), read
    )


class CollectResult(NamedTuple):
    """The rows of a collect/priority table that apply (immutable, like :class:`TableResult`)."""

    table: Table
    applies: tuple[Row, ...]
    maybe: tuple[tuple[Row, tuple[str, ...]], ...]  # rows that apply if the unknowns allow
    read: Mapping[str, Any]


def evaluate_collect(table: Table, facts: Mapping[str, Any]) -> CollectResult:
    return collect_of(table, tuple(map(facts.get, table.names)))


def collect_of(table: Table, vals: tuple[Any, ...]) -> CollectResult:
    """:func:`evaluate_collect` on the table's input values in order (``table.names``): by the
    table's compiled function, or by :func:`_live_rows` for a ``OneOf`` or unhashable input."""
    return collect_from(table, vals, compiled_collect(table, vals))


def compiled_collect(table: Table, vals: tuple[Any, ...]) -> Any:
    """What a collect table's compiled function answers for its input values ``vals``: the
    mask of the rows that apply, or (that mask, the mask of the rows that wait on a missing
    input, the mask of the missing inputs), see :func:`collect_parts`; ``None`` when it cannot
    read them (a ``OneOf`` or an unhashable value: :func:`collect_from` then evaluates the
    rows one by one)."""
    fn = table.code[1]
    try:
        return fn(vals) if fn is not None else table.collect_fn()(vals)
    except TypeError:  # an unhashable input value
        return None


def collect_from(table: Table, vals: tuple[Any, ...], got: Any) -> CollectResult:
    """The result of a collect table from what its compiled function answered (``got``) for
    the input values ``vals``."""
    if got is None:  # a OneOf input
        return _collect_generic(table, vals)
    parts = NO_PARTS if got == 0 else table.cparts.get(got) or collect_parts(table, got)
    read = FrozenDict(zip(table.names, vals))  # noqa: B905
    return _tuple(CollectResult, (table, parts[0], parts[1], read))


#: an empty frozen list (shared: it cannot change)
EMPTY = FrozenList()
#: the parts of a collect table's answer 0: no row applies or waits on an input
NO_PARTS: tuple[Any, ...] = ((), (), EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, None)


def collect_parts(table: Table, got: int | tuple[int, int, int]) -> tuple[Any, ...]:
    """What the answer ``got`` of a collect table's compiled function stands for - the TRUE
    rows' mask, or (that mask, the UNKNOWN rows' mask, the unknown inputs' mask) - with the
    parts of its trace entries. A pure function of the table's rows, kept in ``table.cparts``:

    ``(applies, maybe, rule_ids, conditions, explanations, outputs, sources, pending)``: the
    result's rows, then what the entry of the rows that apply shows, and ``pending`` the
    (conditions, explanations, result) of the entry of the rows that wait on a missing input
    (``None``: no such row; see :func:`~nenguide.engine.trace_entries.collect_entries`)."""
    a, m, n = (got, 0, 0) if isinstance(got, int) else got
    rows = table.rows
    applies = tuple([rows[j] for j in _bits(a)])
    maybe = tuple(
        [(r, tuple([f for i, f in r.reads if n >> i & 1])) for r in [rows[j] for j in _bits(m)]]
    )
    return _keep_parts(table, got, applies, maybe)


def generic_parts(
    table: Table, applies: tuple[Row, ...], maybe: tuple[tuple[Row, tuple[str, ...]], ...]
) -> tuple[Any, ...]:
    """:func:`collect_parts` for a result the generic evaluator gave (a ``OneOf`` input: which
    inputs leave a row UNKNOWN then differs from row to row, so there is no mask of unknown
    inputs). Kept in ``table.cparts`` by the rows (the table's own objects, by identity: two
    rows are never confused, whatever their ids) and the inputs each waits on: like the parts
    of a compiled answer, a pure function of the table's rows."""
    key = (tuple(map(id, applies)), tuple([(id(r), u) for r, u in maybe]))
    hit = table.cparts.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    return _keep_parts(table, key, applies, maybe)


def _keep_parts(
    table: Table,
    key: Any,
    applies: tuple[Row, ...],
    maybe: tuple[tuple[Row, tuple[str, ...]], ...],
) -> tuple[Any, ...]:
    """The parts of a collect table's answer (see :func:`collect_parts`), kept under ``key``."""
    ids, conds, expls, outs, srcs = row_parts(applies)
    pending = None
    if maybe:
        pending = (
            FrozenList([r.trace_text for r, _ in maybe]),
            FrozenList([r.when_text for r, _ in maybe]),
            # what jsonable() gives for {"pending": {rule: [inputs]}}
            FrozenDict(pending=FrozenDict({r.id: FrozenList(u) for r, u in maybe})),
        )
    parts = (applies, maybe, ids, conds, expls, outs, srcs, pending)
    if len(table.cparts) >= PARTS_LIMIT:
        table.cparts.clear()
    table.cparts[key] = parts
    return parts


def _collect_generic(table: Table, vals: tuple[Any, ...]) -> CollectResult:
    applies: list[Row] = []
    maybe: list[tuple[Row, tuple[str, ...]]] = []
    for row, unknown in _live_rows(table, vals):
        if unknown is None:
            applies.append(row)
        else:
            maybe.append((row, tuple(unknown)))
    read = FrozenDict(zip(table.names, vals))  # noqa: B905
    return _tuple(CollectResult, (table, tuple(applies), tuple(maybe), read))


def pick_priority(res: CollectResult) -> tuple[Row | None, list[str]]:
    """A ``priority`` table's answer: the highest-ranked true row, and (when there is none) the
    inputs the rows ranked above would need, in rank order."""
    applies = {r.id for r in res.applies}
    maybe = {r.id: missing for r, missing in res.maybe}
    missing: list[str] = []
    for row in res.table.rows:
        if row.id in applies:
            return row, []
        for m in maybe.get(row.id, ()):
            if m not in missing:
                missing.append(m)
    return None, missing
