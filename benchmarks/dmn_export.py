"""Export a knowledge table with numeric/enum conditions as a DMN 1.3 decision table (XML), so
the same rules can be run by another engine (the benchmark runs the grade table in pyDMNrules).
Only the condition forms the grade tables use are translated (lt/le/gt/ge, equality, lists)."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from nenguide.engine.tables import Table

_OPS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _unary(spec: Any) -> str:
    """A condition as a FEEL unary test."""
    if spec == "any" or spec is None:
        return "-"
    if isinstance(spec, dict):
        if "in" in spec:
            return ", ".join(_literal(v) for v in spec["in"])
        lo = [(op, x) for op, x in spec.items() if op in ("gt", "ge")]
        hi = [(op, x) for op, x in spec.items() if op in ("lt", "le")]
        if lo and hi:
            (lop, lx), (hop, hx) = lo[0], hi[0]
            return f"{'[' if lop == 'ge' else '('}{lx:g}..{hx:g}{']' if hop == 'le' else ')'}"
        op, x = next(iter(spec.items()))
        return f"{_OPS[op]} {x:g}"
    if isinstance(spec, list):
        return ", ".join(_literal(v) for v in spec)
    return _literal(spec)


def _literal(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int | float):
        return f"{v:g}"
    return f'"{v}"'


def to_dmn(table: Table, names: dict[str, str]) -> str:
    """DMN XML of ``table``; ``names`` maps each input (and the output) to a DMN variable."""
    spec = table.spec
    hit = {"unique": "UNIQUE", "first": "FIRST", "collect": "COLLECT", "priority": "PRIORITY"}
    inputs = list(spec.inputs)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
        f'id="d_{abs(hash(spec.id))}" name="{escape(spec.id)}" namespace="nenguide">',
        f'<decision id="decision" name="{escape(spec.title)}">',
        f'<decisionTable id="table" hitPolicy="{hit[spec.hit_policy]}">',
    ]
    for i, name in enumerate(inputs):
        kind = "number" if spec.inputs[name].type == "number" else "string"
        out.append(
            f'<input id="in{i}" label="{names[name]}"><inputExpression typeRef="{kind}">'
            f"<text>{names[name]}</text></inputExpression></input>"
        )
    out.append(f'<output id="out" label="{names[spec.output]}" name="{names[spec.output]}" '
               'typeRef="string"/>')  # fmt: skip
    for r in spec.rows:
        out.append(f'<rule id="{escape(r.id)}">')
        for name in inputs:
            out.append(f"<inputEntry><text>{escape(_unary(r.when.get(name)))}</text></inputEntry>")
        out.append(f"<outputEntry><text>{_literal(r.then[spec.output])}</text></outputEntry>")
        out.append("</rule>")
    out += ["</decisionTable>", "</decision>", "</definitions>"]
    return "\n".join(out)
