"""Is a mutant equivalent? A table-level proof by exhaustive evaluation.

A mutant is *equivalent* when no input can tell the mutated table from the original: for every
combination of input values the same rows apply (or stay undecided on the same unknown inputs)
with the same outputs. Conditions are piecewise constant between thresholds, so evaluating every
input at each threshold of both tables, a step below and above it, between thresholds, unknown
(``None``), and, for enumerations and booleans, at every value and every pair of values (a fact
known to be one of two values), covers every case the engine can present to the table.

Such a mutant changes nothing the engine reads (the rows' ids, outputs and the missing inputs
they name are compared), so no test can kill it; it belongs in the reviewed allow-list.
"""

from __future__ import annotations

import itertools
from typing import Any

from nenguide.engine.lint import sample_domain
from nenguide.engine.logic import OneOf
from nenguide.engine.tables import Table, evaluate_collect, evaluate_first

MAX_POINTS = 400_000


def _points(original: Table, mutant: Table, name: str) -> list[Any]:
    dom = original.spec.inputs[name]
    if dom.type in ("enum", "bool"):
        values: list[Any] = list(dom.values or []) if dom.type == "enum" else [True, False]
        pairs = [OneOf(frozenset(p)) for p in itertools.combinations(values, 2)]
        return [None, *values, *pairs]
    pts = set(sample_domain(original, name, dom)) | set(sample_domain(mutant, name, dom))
    return [None, *sorted(pts)]


def _signature(table: Table, facts: dict[str, Any], row_id: str | None) -> Any:
    if table.spec.hit_policy == "collect":
        res = evaluate_collect(table, facts)
        if row_id is not None:  # rows of a collect table are independent
            return (
                tuple((r.id, r.key) for r in res.applies if r.id == row_id),
                tuple((r.id, r.key, tuple(sorted(u))) for r, u in res.maybe if r.id == row_id),
            )
        return (
            tuple((r.id, r.key) for r in res.applies),
            tuple((r.id, r.key, tuple(sorted(u))) for r, u in res.maybe),
        )
    first = evaluate_first(table, facts)
    value = first.value
    if isinstance(value, OneOf):
        value = tuple(sorted(map(repr, value.values)))
    if first.decided:  # the decisive row (named in the trace) and its output
        rows: Any = first.rows[0].id if first.rows else None
    else:  # the candidate rows, named in the trace in table order
        rows = frozenset(r.id for r in first.rows)
    return (first.decided, repr(value), rows, frozenset(first.missing))


def _inputs(original: Table, mutant: Table, row_id: str | None) -> list[str]:
    """The inputs that can matter: in a collect table every row stands alone, so only the
    mutated row's own inputs; otherwise every input some row reads."""
    tables = (original, mutant)
    rows = [r for t in tables for r in t.rows if row_id is None or r.id == row_id]
    if original.spec.hit_policy != "collect" or row_id is None:
        rows = [r for t in tables for r in t.rows]
    used = {c.fact for r in rows for c in r.conditions}
    return [n for n in original.spec.inputs if n in used]


def equivalent(
    original: Table, mutant: Table, row_id: str | None = None
) -> tuple[bool | None, int]:
    """(True: equivalent, False: an input tells them apart, None: too many combinations; the
    number of input combinations compared). ``row_id``: the mutated row."""
    names = _inputs(original, mutant, row_id)
    grids = [_points(original, mutant, n) for n in names]
    total = 1
    for g in grids:
        total *= len(g)
    if total > MAX_POINTS:
        return None, total
    for combo in itertools.product(*grids):
        facts = dict(zip(names, combo, strict=True))
        if _signature(original, facts, row_id) != _signature(mutant, facts, row_id):
            return False, total
    return True, total
