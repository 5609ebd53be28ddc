"""Is a mutant equivalent? A table-level proof by exhaustive evaluation.

A mutant is *equivalent* when no input can tell the mutated table from the original: for every
combination of input values the same rows apply (or stay undecided on the same unknown inputs)
with the same outputs. Conditions are piecewise constant between thresholds, so evaluating every
input at each threshold of both tables, a step below and above it, between thresholds, unknown
(``None``), and, for enumerations and booleans, at every value and every pair of values (a fact
known to be one of two values), covers every case the engine can present to the table.

Such a mutant changes nothing the engine reads (the rows' ids, outputs and the missing inputs
they name are compared), so no test can kill it; it belongs in the reviewed allow-list.

A *pathway-level* proof (``domain=``) evaluates the same grid restricted to the table's declared
input domain (:mod:`nenguide.mutation.domains`): inputs the pathway never presents unknown or
as one of several values drop those points, and value combinations that never occur together are
skipped. It holds as long as the domain does (tests/test_mutation_domains.py checks the domains
on the traces of the vignettes and generated cases).
"""

from __future__ import annotations

import itertools
from typing import Any

from nenguide.engine.lint import sample_domain
from nenguide.engine.logic import OneOf, Tri
from nenguide.engine.tables import Table, _row_truth, evaluate_collect, evaluate_first
from nenguide.mutation.domains import Domain

MAX_POINTS = 400_000


def _points(original: Table, mutant: Table, name: str, domain: Domain | None = None) -> list[Any]:
    dom = original.spec.inputs[name]
    unknown: list[Any] = [None]
    if domain is not None and name in domain.never_unknown:
        unknown = []
    if dom.type in ("enum", "bool"):
        values: list[Any] = list(dom.values or []) if dom.type == "enum" else [True, False]
        if domain is not None:
            values = _representatives(original, mutant, name, values, domain)
        pairs = [OneOf(frozenset(p)) for p in itertools.combinations(values, 2)]
        if domain is not None and name in domain.never_one_of:
            pairs = []
        elif domain is not None and name in domain.one_of_only:
            sets = domain.one_of_only[name][0]
            pairs = [OneOf(s) for s in sorted(sets, key=lambda s: sorted(map(str, s)))]
        return [*unknown, *values, *pairs]
    pts = set(sample_domain(original, name, dom)) | set(sample_domain(mutant, name, dom))
    return [*unknown, *sorted(pts)]


def _representatives(
    original: Table, mutant: Table, name: str, values: list[Any], domain: Domain
) -> list[Any]:
    """One value of each class of ``values`` that every condition on ``name`` (in both tables)
    and every value list of the domain treat alike: a condition's truth on a value, or on a set
    of values, depends only on which class each value is in, so the others add nothing. The
    values a ``one_of_only`` set names are all kept."""
    conds = [c for t in (original, mutant) for r in t.rows for c in r.conditions if c.fact == name]
    lists = [t.values[name] for t in domain.never_together if name in t.values]
    keep = set().union(*domain.one_of_only[name][0]) if name in domain.one_of_only else set()
    seen: set[Any] = set()
    out = []
    for v in values:
        cls = (
            tuple(c.predicate(v) for c in conds),
            tuple(v in lst for lst in lists),
            v if v in keep else None,
        )
        if cls not in seen:
            seen.add(cls)
            out.append(v)
    return out


def _only_row_conditions_differ(original: Table, mutant: Table, row_id: str | None) -> bool:
    """Whether the mutant differs from the original only in the conditions of ``row_id`` (the
    same rows in the same order, the same outputs, every other row unchanged)."""
    if row_id is None or len(original.rows) != len(mutant.rows):
        return False
    for a, b in zip(original.rows, mutant.rows, strict=True):
        if a.id != b.id or a.key != b.key:
            return False
        if a.id != row_id and a.trace_text != b.trace_text:
            return False
    return True


def _truth(table: Table, row_id: str, facts: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
    row = next(r for r in table.rows if r.id == row_id)
    tri, unknown = _row_truth(row, facts)
    return tri, tuple(sorted(unknown))


def _signature(table: Table, facts: dict[str, Any], row_id: str | None) -> Any:
    if table.spec.hit_policy in ("collect", "priority"):
        # a priority table is evaluated like a collect table and every row that applies (or
        # waits on an input) is traced, not only the winner: compare them all
        res = evaluate_collect(table, facts)
        if row_id is not None and table.spec.hit_policy == "collect":
            # rows of a collect table are independent
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
    original: Table, mutant: Table, row_id: str | None = None, *, domain: Domain | None = None
) -> tuple[bool | None, int]:
    """(True: equivalent, False: an input tells them apart, None: too many combinations; the
    number of input combinations compared). ``row_id``: the mutated row. ``domain``: compare
    only the input combinations the pathway can present to the table (a pathway-level proof)."""
    names = _inputs(original, mutant, row_id)
    grids = [_points(original, mutant, n, domain) for n in names]
    if (
        domain is not None
        # first hit only: a priority table traces every row that applies, so a row below a
        # true row is still seen and the shortcut's pruning would be unsound there
        and original.spec.hit_policy in ("first", "unique")
        and _only_row_conditions_differ(original, mutant, row_id)
    ):
        assert row_id is not None
        return _equivalent_by_row(original, mutant, row_id, names, grids, domain)
    total = 1
    for g in grids:
        total *= len(g)
    if total > MAX_POINTS:
        return None, total
    compared = 0
    for combo in itertools.product(*grids):
        facts = dict(zip(names, combo, strict=True))
        if domain is not None and domain.filters and not domain.admits(facts):
            continue
        compared += 1
        if _signature(original, facts, row_id) != _signature(mutant, facts, row_id):
            return False, total
    return True, compared


def _equivalent_by_row(
    original: Table,
    mutant: Table,
    row_id: str,
    names: list[str],
    grids: list[list[Any]],
    domain: Domain,
) -> tuple[bool | None, int]:
    """The grid compared only where it can differ: every other row is unchanged, so the
    outcome can change only for values of the mutated row's own inputs that give that row a
    different truth (true / false / unknown on which inputs); elsewhere it is the same. Where
    those values alone already make an earlier row true, the mutated row is never reached
    (first hit), whatever the other inputs: nothing to compare either."""
    own = {
        c.fact for t in (original, mutant) for r in t.rows if r.id == row_id for c in r.conditions
    }
    head = [i for i, n in enumerate(names) if n in own]
    before = original.rows[: [r.id for r in original.rows].index(row_id)]
    rest = [i for i, n in enumerate(names) if n not in own]
    differ = []
    for combo in itertools.product(*(grids[i] for i in head)):
        facts = {names[i]: v for i, v in zip(head, combo, strict=True)}
        if _truth(original, row_id, facts) == _truth(mutant, row_id, facts):
            continue
        if not any(_row_truth(r, facts)[0] is Tri.TRUE for r in before):
            differ.append(facts)
    total = len(differ)
    covered = 1  # the whole grid of the domain: every point outside ``differ`` is settled
    for g in grids:
        covered *= len(g)
    for i in rest:
        total *= len(grids[i])
    if total > MAX_POINTS:
        return None, total
    for part in differ:
        for combo in itertools.product(*(grids[i] for i in rest)):
            facts = {**part, **{names[i]: v for i, v in zip(rest, combo, strict=True)}}
            if domain.filters and not domain.admits(facts):
                continue
            if _signature(original, facts, row_id) != _signature(mutant, facts, row_id):
                return False, total
    return True, covered
