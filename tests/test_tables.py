"""The decision-table evaluator on tiny synthetic tables (no clinical content)."""

from __future__ import annotations

from typing import Any

import pytest

from nenguide.engine.logic import OneOf, Tri, compile_condition, one_of
from nenguide.engine.tables import (
    TableError,
    TableSpec,
    compile_table,
    evaluate_collect,
    evaluate_first,
)


def table(rows: list[dict[str, object]], policy: str = "first") -> object:
    spec = TableSpec.model_validate(
        {
            "id": "TEST.T",
            "title": "t",
            "step": "test",
            "hit_policy": policy,
            "output": "out",
            "inputs": {
                "x": {"type": "number", "min": 0, "max": 100},
                "c": {"type": "enum", "values": ["a", "b", "c"]},
                "f": {"type": "bool"},
            },
            "rows": [{"when_text": "row", "sources": ["s"], **r} for r in rows],
        }
    )
    return compile_table(spec)


def test_conditions() -> None:
    lt = compile_condition("x", {"lt": 3})
    rng = compile_condition("x", {"ge": 3, "le": 20})
    assert lt is not None and rng is not None
    assert lt.evaluate(2.999) is Tri.TRUE and lt.evaluate(3) is Tri.FALSE
    assert rng.evaluate(3) is Tri.TRUE and rng.evaluate(20) is Tri.TRUE
    assert rng.evaluate(20.0001) is Tri.FALSE
    assert lt.evaluate(None) is Tri.UNKNOWN
    assert lt.evaluate(OneOf(frozenset({1, 2}))) is Tri.TRUE
    assert lt.evaluate(OneOf(frozenset({1, 5}))) is Tri.UNKNOWN
    assert lt.evaluate(OneOf(frozenset({4, 5}))) is Tri.FALSE
    member = compile_condition("c", ["a", "b"])
    assert member is not None and member.evaluate("b") is Tri.TRUE
    assert compile_condition("c", "any") is None
    flag = compile_condition("f", True)
    assert flag is not None and flag.evaluate(1) is Tri.FALSE and flag.evaluate(True) is Tri.TRUE
    eq = compile_condition("x", 1)
    assert eq is not None and eq.evaluate(True) is Tri.FALSE  # a boolean is not the number 1


def test_bad_condition_is_a_table_error() -> None:
    with pytest.raises(TableError):
        table([{"id": "R.1", "when": {"x": {"between": [1, 2]}}, "then": {"out": 1}}])
    with pytest.raises(TableError):
        table([{"id": "R.1", "when": {"nope": 1}, "then": {"out": 1}}])
    with pytest.raises(TableError):
        table([{"id": "R.1", "when": {"x": 1}, "then": {"other": 1}}])


def test_first_hit_and_unknown_inputs() -> None:
    t = table(
        [
            {"id": "R.HIGH", "when": {"c": "a"}, "then": {"out": "high"}},
            {"id": "R.SIZE", "when": {"x": {"gt": 10}}, "then": {"out": "mid"}},
            {"id": "R.LOW", "when": {"x": {"le": 10}}, "then": {"out": "low"}},
        ]
    )
    r = evaluate_first(t, {"c": "b", "x": 12})  # type: ignore[arg-type]
    assert r.decided and r.value == "mid" and r.rows[0].id == "R.SIZE"
    r = evaluate_first(t, {"c": None, "x": 12})  # type: ignore[arg-type]
    assert not r.decided and r.value == OneOf(frozenset({"high", "mid"}))
    assert r.missing == {"c"}
    r = evaluate_first(t, {"c": "b", "x": None})  # type: ignore[arg-type]
    assert not r.decided and r.missing == {"x"}


def test_agreeing_candidates_decide_despite_unknowns() -> None:
    t = table(
        [
            {"id": "R.A", "when": {"c": "a"}, "then": {"out": "same"}},
            {"id": "R.B", "when": {"x": {"gt": 1}}, "then": {"out": "same"}},
            {"id": "R.C", "when": {}, "then": {"out": "other"}},
        ]
    )
    r = evaluate_first(t, {"c": None, "x": 5})  # type: ignore[arg-type]
    assert r.decided and r.value == "same"


def test_no_row_matches() -> None:
    t = table([{"id": "R.A", "when": {"c": "a"}, "then": {"out": 1}}])
    r = evaluate_first(t, {"c": "b"})  # type: ignore[arg-type]
    assert r.value is None and not r.decided and r.rows == ()


def test_collect() -> None:
    t = table(
        [
            {"id": "R.A", "when": {"f": True}, "then": {"out": 1}},
            {"id": "R.B", "when": {"x": {"ge": 5}}, "then": {"out": 2}},
            {"id": "R.C", "when": {"c": "c"}, "then": {"out": 3}},
        ],
        policy="collect",
    )
    r = evaluate_collect(t, {"f": True, "x": None, "c": "a"})  # type: ignore[arg-type]
    assert [row.id for row in r.applies] == ["R.A"]
    assert [(row.id, miss) for row, miss in r.maybe] == [("R.B", ("x",))]


def test_one_of_narrows() -> None:
    assert one_of(["T2"]) == "T2"
    assert one_of(["T2", "T3"]) == OneOf(frozenset({"T2", "T3"}))
    with pytest.raises(ValueError):
        one_of([])


def test_outcomes_go_through_every_value_of_the_unknown_inputs() -> None:
    """An undecided first table's exact candidates (used by the follow-up risk): every value
    of an unknown enum or bool input; nothing when an unknown input is a number, or when some
    value leaves no row applying (then "no answer" is a candidate too)."""
    from nenguide.engine.table_eval import first_of, outcomes

    t: Any = table(
        [
            {"id": "R1", "when": {"c": "a"}, "then": {"out": "one"}},
            {"id": "R2", "when": {"c": ["b", "c"], "f": True}, "then": {"out": "two"}},
            {"id": "R3", "when": {"c": ["b", "c"], "f": False}, "then": {"out": "one"}},
            {"id": "R4", "when": {"x": {"gt": 5}}, "then": {"out": "three"}},
        ]
    )
    read = {"x": 1.0, "c": None, "f": None}
    res = first_of(t, tuple(read[n] for n in t.names))
    assert not res.decided
    assert outcomes(t, read, ["c", "f"]) == {"one", "two"}
    assert outcomes(t, {**read, "f": False}, ["c"]) == {"one"}
    assert outcomes(t, {**read, "x": None}, ["x"]) is None  # a number: no finite domain
    # a table with no row for c = "b" or "c": "no answer" is possible, so no candidate set
    gap: Any = table([{"id": "R1", "when": {"c": "a"}, "then": {"out": "one"}}])
    assert outcomes(gap, {"x": 1.0, "c": None, "f": None}, ["c"]) is None
