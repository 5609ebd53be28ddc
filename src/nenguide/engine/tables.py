"""Decision tables: their file schema, compilation and row-by-row evaluation.

A table is a list of rows; each row has a stable id, a machine condition (``when``), the same
condition in words (``when_text``), an output (``then``) and at least one source. The hit policy
says how rows combine:

* ``unique``: at most one row can be true for any input (checked by ``knowledge lint``), and the
  table is total over its declared input domain;
* ``first``: the first true row wins; the table is total;
* ``collect``: every true row applies (recommendation lists); no totality required;
* ``priority``: rows are ranked in the order written; the highest-ranked true row wins, and
  rows ranked above it that need a missing input do not block it (they are named when no row
  is true). No totality required: no true row means "not decided" (e.g. a syndrome's status).

Evaluation uses the three-valued logic of :mod:`nenguide.engine.logic`: when the rows that could
still decide the outcome disagree because an input is unknown, the result is *undetermined* and
names the missing inputs. When they agree, the outcome stands even with inputs unknown.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from nenguide.engine.logic import (
    OP_EQ,
    OP_IN,
    OP_IS,
    OP_NOT_IN,
    Condition,
    ConditionError,
    OneOf,
    Tri,
    compile_condition,
    one_of,
)
from nenguide.engine.table_code import CollectFn, FirstFn, build
from nenguide.model.frozen import FrozenDict, FrozenList

HitPolicy = Literal["unique", "first", "collect", "priority"]
ContentStatus = Literal["confirmed", "unconfirmed"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InputDomain(_Strict):
    """Declared domain of one table input, used by the lint to check totality and overlap."""

    type: Literal["number", "enum", "bool"]
    min: float | None = None
    max: float | None = None
    values: list[Any] | None = None
    integer: bool = False
    description: str | None = None


class RowSpec(_Strict):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_.\-]*[A-Z0-9]$")
    when: dict[str, Any] = Field(default_factory=dict)
    when_text: str = Field(min_length=3)
    then: dict[str, Any]
    sources: list[str] = Field(min_length=1)
    status: ContentStatus = "confirmed"
    note: str | None = None


class TableSpec(_Strict):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_.\-]*[A-Z0-9]$")
    title: str
    step: str
    hit_policy: HitPolicy
    output: str = Field(description="Name of the primary output in every row's 'then'")
    inputs: dict[str, InputDomain]
    rows: list[RowSpec] = Field(min_length=1)
    coarse: dict[str, str] = Field(
        default_factory=dict,
        description="Output value -> coarser value reported when candidates share it",
    )
    parameters: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    conditions: tuple[Condition, ...]
    when_text: str
    then: dict[str, Any]
    sources: tuple[str, ...]
    status: ContentStatus
    trace_text: str = ""  # "RULE_ID: condition & condition", precomputed for the trace
    key: str = ""  # identity of the whole output, to tell whether candidate rows agree
    # the conditions compiled against the table's input order: (input index, the condition's
    # OP_* code, its argument, the condition), tested inline by the evaluators
    checks: tuple[tuple[int, int, Any, Condition], ...] = ()
    out: Any = None  # the output's value as the trace shows it (jsonable, frozen)
    # the row's parts of a trace entry, frozen once: [id], [trace_text], [when_text], sources
    ids: FrozenList = field(default_factory=FrozenList)
    conds: FrozenList = field(default_factory=FrozenList)
    expls: FrozenList = field(default_factory=FrozenList)
    srcs: FrozenList = field(default_factory=FrozenList)
    usrcs: FrozenList = field(default_factory=FrozenList)  # the sources, each once
    outs: FrozenList = field(default_factory=FrozenList)  # [out], a collect entry's result
    # the inputs its conditions read, in the order written: (input index, fact name)
    reads: tuple[tuple[int, str], ...] = ()

    @property
    def value(self) -> Any:  # convenience for single-output tables
        return next(iter(self.then.values()))


@dataclass(frozen=True, slots=True)
class Table:
    spec: TableSpec
    rows: tuple[Row, ...]
    names: tuple[str, ...] = ()  # the declared input names, in order (the memo key's order)
    # an index built at load (:func:`_index`): the input it is keyed on (-1: none), the rows
    # that can be true for each value of that input, and those for any other value
    key_input: int = -1
    by_value: Mapping[Any, tuple[Row, ...]] = field(default_factory=FrozenDict)
    by_other: tuple[Row, ...] = ()
    # the rows tested as compiled Python (:mod:`nenguide.engine.table_code`), built at load
    first_fn: FirstFn | None = None
    collect_fn: CollectFn | None = None
    values: tuple[Any, ...] = ()  # each row's output value (``then[output]``)
    singles: tuple[tuple[Row, ...], ...] = ()  # (row,) for each row: a decided result's rows

    def candidates(self, vals: tuple[Any, ...]) -> tuple[Row, ...]:
        """The rows that are not FALSE for sure given the input values ``vals``: all rows,
        less those whose condition on the key input excludes its (concrete) value."""
        i = self.key_input
        if i < 0:
            return self.rows
        v = vals[i]
        if v is None or type(v) is OneOf:
            return self.rows
        try:
            return self.by_value.get(v, self.by_other)
        except TypeError:  # an unhashable value
            return self.rows

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def output(self) -> str:
        return self.spec.output


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


#: values :func:`jsonable` returns as they are, by exact type (scalars, frozen containers)
_PLAIN = frozenset({str, int, float, bool, type(None), FrozenDict, FrozenList})
_STR = frozenset({str})
#: builds a result tuple without the named tuple's keyword-handling constructor
_tuple = tuple.__new__


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


class TableError(ValueError):
    """A knowledge table is malformed."""


def compile_table(spec: TableSpec) -> Table:
    rows: list[Row] = []
    for r in spec.rows:
        conds: list[Condition] = []
        for fact, cspec in r.when.items():
            if fact not in spec.inputs:
                raise TableError(f"{spec.id} row {r.id}: condition on undeclared input '{fact}'")
            try:
                c = compile_condition(fact, cspec)
            except ConditionError as exc:
                raise TableError(f"{spec.id} row {r.id}: {exc}") from exc
            if c is not None:
                conds.append(c)
        if spec.output not in r.then:
            raise TableError(f"{spec.id} row {r.id}: 'then' lacks the output '{spec.output}'")
        text = " & ".join(c.text for c in conds) or "(always)"
        out = jsonable(r.then[spec.output])
        index = {name: i for i, name in enumerate(spec.inputs)}
        rows.append(
            Row(
                r.id,
                tuple(conds),
                r.when_text,
                dict(r.then),
                tuple(r.sources),
                r.status,
                trace_text=f"{r.id}: {text}",
                key=repr(sorted(r.then.items())),
                checks=tuple((index[c.fact], c.op, c.arg, c) for c in conds),
                out=out,
                ids=FrozenList([r.id]),
                conds=FrozenList([f"{r.id}: {text}"]),
                expls=FrozenList([r.when_text]),
                srcs=FrozenList(r.sources),
                usrcs=FrozenList(dict.fromkeys(r.sources)),
                outs=FrozenList([out]),
                reads=tuple((index[c.fact], c.fact) for c in conds),
            )
        )
    names = tuple(spec.inputs)
    key, by_value, by_other = _index(names, tuple(rows), spec.rows)
    first_fn, collect_fn = build(len(names), rows, key, spec.id)
    return Table(
        spec,
        tuple(rows),
        names,
        key,
        by_value,
        by_other,
        first_fn,
        collect_fn,
        tuple(r.then[spec.output] for r in rows),
        tuple((r,) for r in rows),
    )


def _allowed(spec: Any) -> tuple[Any, ...] | None:
    """The values that can make a condition written ``spec`` (as in the table file) true, when
    it names them (equality or membership); ``None`` for a condition that allows values it
    does not name (``not_in``, comparisons)."""
    if isinstance(spec, list):
        return tuple(spec)
    if isinstance(spec, dict):
        if set(spec) == {"in"}:
            return tuple(spec["in"])
        if set(spec) == {"eq"}:
            return (spec["eq"],)
        return None
    if isinstance(spec, str | int | float | bool):
        return (spec,)
    return None


def _index(
    names: tuple[str, ...], rows: tuple[Row, ...], specs: list[RowSpec]
) -> tuple[int, Mapping[Any, tuple[Row, ...]], tuple[Row, ...]]:
    """Rows by the value of the input most rows name the values of (e.g. the site): the rows
    kept for a value are, in table order, those that allow it and those with no such condition
    on that input. Skipping the others never changes an answer: a concrete value outside a
    row's allowed values makes that row FALSE whatever the other inputs are (Kleene AND)."""
    allowed: list[dict[int, tuple[Any, ...]]] = []
    for row, rspec in zip(rows, specs, strict=True):
        per: dict[int, tuple[Any, ...]] = {}
        for i, _, _, c in row.checks:
            a = _allowed(rspec.when[c.fact])
            if a is not None:
                per[i] = a
        allowed.append(per)
    counts = [sum(1 for per in allowed if i in per) for i in range(len(names))]
    if len(rows) < 4 or not counts or max(counts) < 2:
        return -1, FrozenDict(), ()
    best = counts.index(max(counts))
    values: dict[Any, None] = {}
    for per in allowed:
        for v in per.get(best, ()):
            values[v] = None
    try:
        by_value = {
            v: tuple(r for r, per in zip(rows, allowed, strict=True) if v in per.get(best, (v,)))
            for v in values
        }
    except TypeError:  # an unhashable value in a condition: no index
        return -1, FrozenDict(), ()
    other = tuple(r for r, per in zip(rows, allowed, strict=True) if best not in per)
    return best, FrozenDict(by_value), other


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


def first_of(table: Table, vals: tuple[Any, ...]) -> TableResult:
    """:func:`evaluate_first` on the table's input values in order (``table.names``): by the
    table's compiled function, or by :func:`_live_rows` for a ``OneOf`` or unhashable input."""
    fn = table.first_fn
    if fn is None:
        return _first_generic(table, vals)
    try:
        got = fn(vals)
    except TypeError:  # an unhashable input value
        return _first_generic(table, vals)
    if got is None:  # a OneOf input
        return _first_generic(table, vals)
    # strict=False: vals was read by table.names (the same length)
    read = FrozenDict(zip(table.names, vals, strict=False))
    if type(got) is int:
        if got < 0:
            return _tuple(TableResult, (table, None, (), False, _NONE, read))
        return _tuple(
            TableResult, (table, table.values[got], table.singles[got], True, _NONE, read)
        )
    return _decide(table, tuple(got), vals, read)


def _decide(
    table: Table, rows: tuple[Row, ...], vals: tuple[Any, ...], read: FrozenDict
) -> TableResult:
    """The result of a first table whose candidate rows (the decisive row, if any, first) are
    ``rows``, more than one or UNKNOWN: decided when they all give the same output."""
    out = table.spec.output
    key = rows[0].key
    if all(r.key == key for r in rows):
        # every row that could still apply gives the same answer
        return TableResult(table, rows[0].then[out], rows, True, _NONE, read)
    missing = {f for r in rows for i, f in r.reads if vals[i] is None}
    return TableResult(
        table, one_of(r.then[out] for r in rows), rows, False, frozenset(missing), read
    )


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
    # strict=False: vals was read by table.names (the same length)
    read = FrozenDict(zip(table.names, vals, strict=False))
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
    fn = table.collect_fn
    if fn is None:
        return _collect_generic(table, vals)
    try:
        got = fn(vals)
    except TypeError:  # an unhashable input value
        return _collect_generic(table, vals)
    if got is None:  # a OneOf input
        return _collect_generic(table, vals)
    a, m = got
    read = FrozenDict(zip(table.names, vals, strict=False))
    return _tuple(
        CollectResult, (table, () if a is None else tuple(a), () if m is None else tuple(m), read)
    )


def _collect_generic(table: Table, vals: tuple[Any, ...]) -> CollectResult:
    applies: list[Row] = []
    maybe: list[tuple[Row, tuple[str, ...]]] = []
    for row, unknown in _live_rows(table, vals):
        if unknown is None:
            applies.append(row)
        else:
            maybe.append((row, tuple(unknown)))
    read = FrozenDict(zip(table.names, vals, strict=False))
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
