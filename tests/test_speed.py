"""The engine's memo (issue 7, speed): it may only ever answer what a fresh evaluation would.

The steps after the fact layer are memoised per set of facts (``engine/assess.py``); these tests
check that the memo key holds everything those steps read, and that a warm engine (memo filled)
gives byte for byte the JSON of a cold one (memo empty) for generated cases of every kind.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from nenguide import assess
from nenguide.batch.synth import generate
from nenguide.engine.assess import CASE_FIELDS_READ_BY_STEPS
from nenguide.engine.kb import Knowledge
from nenguide.errors import parse_case

ENGINE = Path(__file__).resolve().parent.parent / "src" / "nenguide" / "engine"
AS_OF = dt.date(2026, 11, 23)
#: modules that read the case before the memo (the fact layer's phase 1 and its reshaping)
BEFORE_THE_MEMO = {
    "case_input.py",
    "case_items.py",
    "case_reported.py",
    "facts.py",
    "fact_layer.py",
    "assess.py",
    "lint.py",
}


def _dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id == "case":
        return ".".join(["case", *reversed(parts)])
    return None


def test_the_steps_read_no_case_field_outside_the_memo_key() -> None:
    """A step that reads a case field the memo key lacks would get another case's answer."""
    found: list[str] = []
    for path in sorted(ENGINE.glob("*.py")):
        if path.name in BEFORE_THE_MEMO:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        inner = {
            id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)
        }  # attributes that are part of a longer chain
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and id(node) not in inner:
                name = _dotted(node)
                if name and not any(
                    name == f or name.startswith(f + ".") for f in CASE_FIELDS_READ_BY_STEPS
                ):
                    found.append(f"{path.name}:{node.lineno}: {name}")
    assert not found, (
        "steps read case fields the pathway memo key does not hold; read a fact instead, or "
        f"add the field to CASE_FIELDS_READ_BY_STEPS and _pathway_key: {found}"
    )


def test_the_guard_sees_a_case_read() -> None:
    tree = ast.parse("def f(case):\n    return case.patient.age_years\n")
    reads = [_dotted(n) for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    assert "case.patient.age_years" in reads


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_warm_answers_equal_cold_answers(kb: Knowledge, lang: str) -> None:
    cases = [parse_case(s.case) for s in generate(150, seed=5, with_care=True)]
    cold = []
    for c in cases:
        kb.memo.clear()
        cold.append(assess(c, kb, as_of=AS_OF, lang=lang).model_dump_json())
    warm = [assess(c, kb, as_of=AS_OF, lang=lang).model_dump_json() for c in cases]
    assert warm == cold
    assert any(k[0] == "pathway" for k in kb.memo), "the pathway memo was never filled"


def test_an_issue_keeps_its_own_calls_order_of_details(kb: Knowledge) -> None:
    """An issue's details are in the order its call gives them, whatever the memo holds: the
    memo key keeps that order (session 16; a sorted key handed the second call the first
    call's issue, its details in the first call's order)."""
    from nenguide.engine.context import Context

    kb.memo.clear()
    first, second = Context(kb, "en"), Context(kb, "en")
    first.issue("TX_NEEDS_DATA", "treatment", ["tumour.size_cm"], options=("A",), needs=("x",))
    second.issue("TX_NEEDS_DATA", "treatment", ["tumour.size_cm"], needs=("x",), options=("A",))
    a, b = first.issues[0], second.issues[0]
    assert list(a["details"]) == ["options", "needs"]
    assert list(b["details"]) == ["needs", "options"]
    assert a["message"] == b["message"] and dict(a["details"]) == dict(b["details"])


def test_a_case_differing_only_outside_the_facts_shares_the_steps(kb: Knowledge) -> None:
    """Another case id: same steps' answer (from the memo), its own case id."""
    data = next(iter(generate(1, seed=3))).case
    a = assess(parse_case({**data, "case_id": "first"}), kb, as_of=AS_OF)
    b = assess(parse_case({**data, "case_id": "second"}), kb, as_of=AS_OF)
    assert (a.case_id, b.case_id) == ("first", "second")
    assert a.treatment is b.treatment and a.trace == b.trace
    # another staging basis is another key
    basis = "clinical" if data.get("staging_basis") != "clinical" else "pathological"
    c = assess(parse_case({**data, "staging_basis": basis}), kb, as_of=AS_OF)
    assert c.stage.prefix != a.stage.prefix


def test_the_row_index_only_skips_rows_that_are_false(kb: Knowledge) -> None:
    """A table's index (built at load) keeps, for each value of its key input, every row that
    is not FALSE whatever the other inputs are, in table order."""
    from nenguide.engine.logic import Tri
    from nenguide.engine.tables import _row_truth

    indexed = [t for t in kb.tables.values() if t.key_input >= 0]
    assert len(indexed) >= 10
    for t in indexed:
        name = t.names[t.key_input]
        for v in [*t.by_value, "__another_value__", 12345]:
            vals = tuple(v if i == t.key_input else None for i in range(len(t.names)))
            kept = t.candidates(vals)
            assert [r for r in t.rows if r in kept] == list(kept), t.id  # table order
            for row in t.rows:
                if row not in kept:
                    truth, _ = _row_truth(row, {name: v})
                    assert truth is Tri.FALSE, (t.id, row.id, v)
