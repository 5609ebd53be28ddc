"""A decision table compiled at load into one Python function per hit policy.

The generic evaluator (:func:`nenguide.engine.tables._live_rows`) reads each row's conditions
from tuples and dispatches on the operator for every test. The functions built here test the
same conditions written out as Python source (``compile()``), one ``if`` per row, so a row that
cannot apply costs a few byte codes. They cover the common inputs: concrete, hashable values
and ``None`` (unknown). A ``OneOf`` input, or an unhashable value (a ``TypeError`` from a set
test), goes to the generic evaluator, which stays the reference: the two give the same rows.

Semantics, written once for both functions: a row is FALSE when a condition on a known input is
false; TRUE when every condition's input is known (and true); else UNKNOWN. With every input
hashable, testing a condition cannot raise, so the conditions of a row are tested in the order
that rejects rows soonest (set and equality tests first), not the order written.

* ``first(vals)``: the index of the first TRUE row when no UNKNOWN row comes before it (-1:
  no row is TRUE or UNKNOWN); else the pair (that index or -1, the UNKNOWN rows before it as a
  bit mask: bit ``k`` for row ``k``); ``None`` for a ``OneOf`` input;
* ``collect(vals)``: the TRUE rows as a bit mask when no row is UNKNOWN; else the triple
  (TRUE rows, UNKNOWN rows, the unknown inputs: bit ``i`` for input ``i``); ``None`` for a
  ``OneOf`` input.

What a mask stands for (the rows, the trace's parts) is built once per table and answer
(:func:`nenguide.engine.table_eval.first_parts`, :func:`~nenguide.engine.table_eval.collect_parts`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nenguide.engine.logic import OP_CALL, OP_EQ, OP_IN, OP_IS, OP_NOT_IN, OneOf
from nenguide.model.frozen import FrozenDict

#: a row's compiled conditions as :class:`~nenguide.engine.tables.Row` keeps them:
#: (input index, the OP_* code, its argument, the Condition)
Checks = Sequence[tuple[int, int, Any, Any]]
FirstFn = Callable[[tuple[Any, ...]], Any]
CollectFn = Callable[[tuple[Any, ...]], Any]

#: the order a row's tests are written in: the ones that reject most rows cheaply first
_RANK = {OP_IN: 0, OP_EQ: 0, OP_IS: 0, OP_NOT_IN: 1, OP_CALL: 2}


def _tests(k: int, checks: Checks, key_input: int, ns: dict[str, Any]) -> str:
    """The row's condition as a Python expression, false only when a known input fails it;
    constants go into ``ns``."""
    order = sorted(
        range(len(checks)),
        key=lambda j: (checks[j][0] != key_input, _RANK.get(checks[j][1], 2), j),
    )
    parts: list[str] = []
    for j in order:
        i, op, arg, cond = checks[j]
        v = f"v{i}"
        if op == OP_IN:
            name = f"A{k}_{j}"
            ns[name] = arg
            test = f"{v} in {name}"
        elif op == OP_NOT_IN:
            name = f"A{k}_{j}"
            ns[name] = arg
            test = f"{v} not in {name}"
        elif op == OP_IS and (arg is True or arg is False):
            test = f"{v} is {arg!r}"
        elif op == OP_EQ:
            name = f"A{k}_{j}"
            ns[name] = arg
            test = f"{v} == {name}"
        else:
            name = f"P{k}_{j}"
            ns[name] = cond.predicate
            test = f"{name}({v})"
        parts.append(f"({v} is None or {test})")
    return " and ".join(parts)


def _header(n: int, name: str, used: list[int]) -> list[str]:
    lines = [f"def {name}(vals):"]
    if n == 1:
        lines.append("    v0, = vals")
    elif n > 1:
        lines.append(f"    {', '.join(f'v{i}' for i in range(n))} = vals")
    if used:
        lines.append(f"    if {' or '.join(f'type(v{i}) is OneOf' for i in used)}:")
        lines.append("        return None")
    return lines


def build(
    n_inputs: int, rows: Sequence[Any], key_input: int, label: str
) -> tuple[FirstFn, CollectFn]:
    """The ``first`` and ``collect`` functions of a table with ``n_inputs`` inputs and the rows
    ``rows`` (:class:`~nenguide.engine.tables.Row`; ``label`` names the table in tracebacks)."""
    ns: dict[str, Any] = {"OneOf": OneOf}
    used = sorted({c[0] for row in rows for c in row.checks})
    first = [*_header(n_inputs, "first", used), "    c = 0"]
    collect = [*_header(n_inputs, "collect", used), "    a = 0", "    m = 0"]
    always = False  # a row without conditions: the first table's later rows cannot matter
    for k, row in enumerate(rows):
        checks = row.checks
        if not checks:
            if not always:
                first.append(f"    return ({k}, c) if c else {k}")
                always = True
            collect.append(f"    a |= {1 << k}")
            continue
        cond = _tests(k, checks, key_input, ns)
        known = " and ".join(f"v{c[0]} is not None" for c in checks)
        if not always:
            first += [
                f"    if {cond}:",
                f"        if {known}:",
                f"            return ({k}, c) if c else {k}",
                f"        c |= {1 << k}",
            ]
        collect += [
            f"    if {cond}:",
            f"        if {known}:",
            f"            a |= {1 << k}",
            "        else:",
            f"            m |= {1 << k}",
        ]
    if not always:
        first.append("    return (-1, c) if c else -1")
    nones = " | ".join(f"(v{i} is None) << {i}" if i else "(v0 is None)" for i in used) or "0"
    collect += ["    if m:", f"        return a, m, {nones}", "    return a"]
    source = "\n".join(first) + "\n\n\n" + "\n".join(collect) + "\n"
    exec(compile(source, f"<table {label}>", "exec"), ns)  # the source is built above
    return ns["first"], ns["collect"]


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


def index_rows(
    names: tuple[str, ...], rows: tuple[Any, ...], specs: Sequence[Any]
) -> tuple[int, Mapping[Any, tuple[Any, ...]], tuple[Any, ...]]:
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
