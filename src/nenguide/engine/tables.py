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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nenguide.engine.logic import (
    Condition,
    ConditionError,
    OneOf,
    compile_condition,
)
from nenguide.engine.table_code import CollectFn, FirstFn, build, index_rows
from nenguide.engine.table_eval import (
    _NONE as _NONE,
)
from nenguide.engine.table_eval import (
    _PLAIN as _PLAIN,
)
from nenguide.engine.table_eval import (
    CollectResult as CollectResult,
)
from nenguide.engine.table_eval import (
    TableResult as TableResult,
)
from nenguide.engine.table_eval import (
    _live_rows as _live_rows,
)
from nenguide.engine.table_eval import (
    _row_truth as _row_truth,
)
from nenguide.engine.table_eval import (
    collect_from as collect_from,
)
from nenguide.engine.table_eval import (
    collect_of as collect_of,
)
from nenguide.engine.table_eval import (
    evaluate_collect as evaluate_collect,
)
from nenguide.engine.table_eval import (
    evaluate_first as evaluate_first,
)
from nenguide.engine.table_eval import (
    first_from as first_from,
)
from nenguide.engine.table_eval import (
    first_of as first_of,
)
from nenguide.engine.table_eval import (
    jsonable as jsonable,
)
from nenguide.engine.table_eval import (
    pick_priority as pick_priority,
)
from nenguide.engine.table_spec import (
    ContentStatus as ContentStatus,
)
from nenguide.engine.table_spec import (
    HitPolicy as HitPolicy,
)
from nenguide.engine.table_spec import (
    InputDomain as InputDomain,
)
from nenguide.engine.table_spec import (
    RowSpec as RowSpec,
)
from nenguide.engine.table_spec import (
    TableSpec as TableSpec,
)
from nenguide.model.frozen import FrozenDict, FrozenList


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
    values: tuple[Any, ...] = ()  # each row's output value (``then[output]``)
    singles: tuple[tuple[Row, ...], ...] = ()  # (row,) for each row: a decided result's rows
    # the rows tested as compiled Python (:mod:`nenguide.engine.table_code`): [first, collect],
    # built when the table is first evaluated (not at load: most mutants are never evaluated)
    # (init=False: a copy made with dataclasses.replace gets its own, not the original's)
    code: list[Any] = field(
        default_factory=lambda: [None, None], init=False, compare=False, repr=False
    )
    # what a set of rows that could be the first true row decides, with its trace parts (see
    # :func:`~nenguide.engine.table_eval.first_parts`), by the compiled function's answer
    parts: dict[Any, Any] = field(default_factory=dict, init=False, compare=False, repr=False)
    # the same for a collect table (:func:`~nenguide.engine.table_eval.collect_parts`)
    cparts: dict[Any, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def first_fn(self) -> FirstFn:
        fn = self.code[0]
        return fn if fn is not None else self._build()[0]

    def collect_fn(self) -> CollectFn:
        fn = self.code[1]
        return fn if fn is not None else self._build()[1]

    def _build(self) -> tuple[FirstFn, CollectFn]:
        fns = build(len(self.names), self.rows, self.key_input, self.spec.id)
        self.code[:] = fns
        return fns

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
    key, by_value, by_other = index_rows(names, tuple(rows), spec.rows)
    values = tuple(r.then[spec.output] for r in rows)
    return Table(
        spec, tuple(rows), names, key, by_value, by_other, values, tuple((r,) for r in rows)
    )
