"""Every table's compiled functions (engine/table_code.py) answer what the generic row-by-row
evaluator answers (the reference), on values drawn from each input's declared domain, the
values its conditions name, values next to its thresholds and ``None``."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import one_of
from nenguide.engine.table_eval import _collect_generic, _first_generic
from nenguide.engine.tables import Table, collect_of, compile_table, first_of
from nenguide.engine.trace_entries import collect_entries, collect_hit, first_hit, table_entry


def _pool(table: Table, i: int) -> list[Any]:
    """Values to try for input ``i``: None, the domain's values, the values and thresholds the
    conditions name (and numbers either side of each threshold), and one outside value."""
    name = table.names[i]
    dom = table.spec.inputs[name]
    pool: list[Any] = [None, "__other__"]
    if dom.type == "bool":
        pool += [True, False]
    pool += list(dom.values or [])
    for row in table.rows:
        for c in row.conditions:
            if c.fact == name:
                pool += list(c.values)
                for x in c.thresholds:
                    pool += [x, x - 0.5, x + 0.5, int(x)]
    return pool


def _samples(table: Table, n: int, rng: random.Random) -> list[tuple[Any, ...]]:
    pools = [_pool(table, i) for i in range(len(table.names))]
    return [tuple(rng.choice(p) for p in pools) for _ in range(n)]


def test_the_compiled_tables_answer_as_the_row_by_row_evaluator(kb: Knowledge) -> None:
    rng = random.Random(7)
    for table in kb.tables.values():
        for vals in _samples(table, 150, rng):
            a, b = first_of(table, vals), _first_generic(table, vals)
            assert tuple(a) == tuple(b), (table.id, vals)
            assert list(a.missing) == list(b.missing), (table.id, vals)  # the same set order
            assert tuple(collect_of(table, vals)) == tuple(_collect_generic(table, vals)), (
                table.id,
                vals,
            )
            # the trace entry built in one go is the one built from the result
            res, entry = first_hit("step", table, vals)
            assert tuple(res) == tuple(b) and entry == table_entry("step", b), (table.id, vals)
            c = _collect_generic(table, vals)
            assert collect_hit("step", table, vals) == (c, *collect_entries("step", c)), (
                table.id,
                vals,
            )


def test_oneof_and_unhashable_inputs_take_the_row_by_row_path(kb: Knowledge) -> None:
    table = next(t for t in kb.tables.values() if len(t.names) >= 2 and t.key_input >= 0)
    key = table.names[table.key_input]
    values = list(table.by_value)[:2]
    vals = tuple(one_of(values) if n == key else None for n in table.names)
    assert tuple(first_of(table, vals)) == tuple(_first_generic(table, vals))
    assert tuple(collect_of(table, vals)) == tuple(_collect_generic(table, vals))
    odd = tuple([values[0]] if n == key else None for n in table.names)  # a list: unhashable
    for evaluate, generic in ((first_of, _first_generic), (collect_of, _collect_generic)):
        try:
            expected: Any = tuple(generic(table, odd))
        except TypeError:
            expected = TypeError
        try:
            got: Any = tuple(evaluate(table, odd))
        except TypeError:
            got = TypeError
        assert got == expected


def test_a_table_is_compiled_when_first_evaluated(kb: Knowledge) -> None:
    """Not at load: a mutant table that is never evaluated costs no compilation."""
    table = compile_table(next(iter(kb.tables.values())).spec)
    assert table.code == [None, None]
    first_of(table, tuple(None for _ in table.names))
    assert table.code[0] is not None and table.code[1] is not None
    # a copy with other rows compiles its own code
    copy = dataclasses.replace(table, rows=table.rows[:1])
    assert copy.code == [None, None] and copy.parts == {} and copy.parts is not table.parts


def test_generic_answers_keep_their_parts_by_row_not_by_rule_id() -> None:
    """The generic evaluator's answers (a OneOf input) keep their trace parts per table; two
    rows that share an id (the package's loader forbids it, a hand-built table need not) are
    still told apart (found by review, session 7)."""
    from nenguide.engine.table_spec import TableSpec

    spec = TableSpec.model_validate(
        {
            "id": "T-1", "title": "t", "step": "s", "hit_policy": "collect", "output": "out",
            "inputs": {"x": {"type": "enum", "values": ["a", "b", "c"]}},
            "rows": [
                {"id": "R-1", "when": {"x": "a"}, "when_text": "x is a", "then": {"out": "A"},
                 "sources": ["S"]},
                {"id": "R-1", "when": {"x": "b"}, "when_text": "x is b", "then": {"out": "B"},
                 "sources": ["S"]},
            ],
        }
    )  # fmt: skip
    table = compile_table(spec)
    first = collect_hit("s", table, (one_of(["a", "c"]),))
    second = collect_hit("s", table, (one_of(["b", "c"]),))
    assert [r.then["out"] for r, _ in second[0].maybe] == ["B"]
    assert first[2] is not None and second[2] is not None
    assert first[2]["explanations"] == ["x is a"]
    assert second[2]["explanations"] == ["x is b"]
