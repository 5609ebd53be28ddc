"""Mutants of a knowledge package's decision tables, generated from the table files themselves.

The generator reads ``tables/*.yaml`` as plain data and knows only the condition language of
:mod:`nenguide.engine.logic` (``any``, a value, a list, ``in``, ``not_in``, ``eq``,
``lt``/``le``/``gt``/``ge``) and that a row has an ``id``, a ``when`` mapping and a ``then``
output. Everything else in a row or table is carried over untouched, so new row fields do not
break it. For every row it makes:

* ``bound``: every numeric bound moved just across its boundary (10 % of the value, at least one
  step of the input's resolution) and by a clinically meaningful step (50 %), down and up, within
  the input's declared domain;
* ``op``: ``lt`` <-> ``le`` and ``gt`` <-> ``ge`` (the boundary value itself changes side);
* ``enum``: one value removed from (or added to) a set condition, an equality widened by one
  value of the declared domain, a boolean condition negated;
* ``then``: the whole output replaced by the neighbouring row's output (the next row, the
  previous one for the last row).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

NUMERIC_OPS = ("lt", "le", "gt", "ge")
OP_FLIP = {"lt": "le", "le": "lt", "gt": "ge", "ge": "gt"}
#: Steps as a fraction of the bound: "just across" the boundary, and a clinically meaningful move.
SMALL_STEP = 0.1
LARGE_STEP = 0.5
KINDS = ("bound", "op", "enum", "then")


@dataclass(frozen=True, slots=True)
class Mutant:
    """One edit of one row of one table."""

    id: str  # stable: "<row id> <what> <old> -> <new>"
    file: str  # tables/<name>.yaml
    table_id: str
    row_id: str
    kind: str  # one of KINDS
    change: str  # human-readable, e.g. "size_cm: lt 1 -> lt 1.5"
    path: tuple[str, ...]  # "when", fact[, op] or ("then",)
    new_value: Any

    def apply(self, table: dict[str, Any]) -> dict[str, Any]:
        """A deep copy of the raw ``table`` with this mutant's edit made."""
        out = copy.deepcopy(table)
        row = next(r for r in out["rows"] if r.get("id") == self.row_id)
        if self.path == ("then",):
            row["then"] = copy.deepcopy(self.new_value)
        else:
            row["when"][self.path[1]] = copy.deepcopy(self.new_value)
        return out


@dataclass(frozen=True, slots=True)
class TableSource:
    """A table as written in its file (plain data)."""

    file: str
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])


def read_tables(package: Path) -> list[TableSource]:
    """Every table of every ``tables/*.yaml`` file of the package folder, in file order."""
    out: list[TableSource] = []
    for path in sorted((package / "tables").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for table in doc.get("tables") or []:
            if isinstance(table, dict) and isinstance(table.get("rows"), list):
                out.append(TableSource(f"tables/{path.name}", table))
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) + "}"
    return str(v)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _clean(x: float, integer: bool) -> float | int:
    if integer:
        return round(x)
    r = round(x, 4)
    return int(r) if r == int(r) else r


def moved_bounds(x: float, domain: dict[str, Any]) -> list[float | int]:
    """The bound ``x`` moved just across (10 %) and by a meaningful step (50 %), down and up."""
    integer = bool(domain.get("integer"))
    resolution = 1.0 if integer else 0.1
    lo, hi = domain.get("min"), domain.get("max")
    out: list[float | int] = []
    for frac in (SMALL_STEP, LARGE_STEP):
        step = max(abs(x) * frac, resolution if frac == SMALL_STEP else 5 * resolution)
        for new in (x - step, x + step):
            v = _clean(new, integer)
            if v == x or v in out:
                continue
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                continue  # outside the declared domain: no input can tell the difference
            out.append(v)
    return out


def _enum_values(domain: dict[str, Any]) -> list[Any]:
    if domain.get("type") == "bool":
        return [True, False]
    return list(domain.get("values") or [])


def _condition_mutants(
    fact: str, spec: Any, domain: dict[str, Any]
) -> Iterator[tuple[str, str, Any]]:
    """(kind, change, new condition) for one condition of a row."""
    if spec == "any":
        return
    domain_values = _enum_values(domain)
    if isinstance(spec, dict) and set(spec) <= set(NUMERIC_OPS) and spec:
        for op, x in spec.items():
            if not _is_number(x):
                continue
            flipped = {(OP_FLIP[op] if k == op else k): v for k, v in spec.items()}
            if OP_FLIP[op] not in spec:
                yield "op", f"{fact}: {op} {_fmt(x)} -> {OP_FLIP[op]} {_fmt(x)}", flipped
            for new in moved_bounds(float(x), domain):
                yield "bound", f"{fact}: {op} {_fmt(x)} -> {op} {_fmt(new)}", {**spec, op: new}
        return
    if isinstance(spec, list) or (isinstance(spec, dict) and set(spec) in ({"in"}, {"not_in"})):
        key = None if isinstance(spec, list) else next(iter(spec))
        values = list(spec if isinstance(spec, list) else spec[key])
        label = f"{key} " if key else ""

        def wrap(vals: list[Any]) -> Any:
            return vals if key is None else {key: vals}

        if len(values) > 1:
            for v in values:
                rest = [x for x in values if x != v]
                yield "enum", f"{fact}: {label}{_fmt(values)} -> {label}{_fmt(rest)}", wrap(rest)
        for v in domain_values:
            if v in values:
                continue
            if key == "not_in" and len(values) + 1 >= len(domain_values):
                continue  # nothing left allowed: the row could never apply
            more = [*values, v]
            yield "enum", f"{fact}: {label}{_fmt(values)} -> {label}{_fmt(more)}", wrap(more)
        return
    value = spec["eq"] if isinstance(spec, dict) and set(spec) == {"eq"} else spec
    if isinstance(value, dict | list):
        return
    if isinstance(value, bool):
        yield "enum", f"{fact}: {_fmt(value)} -> {_fmt(not value)}", (not value)
        return
    if domain_values:
        for v in domain_values:
            if v != value:
                yield "enum", f"{fact}: {_fmt(value)} -> {_fmt([value, v])}", [value, v]
        return
    if _is_number(value):
        integer = bool(domain.get("integer"))
        for new in moved_bounds(float(value), {**domain, "integer": integer}):
            yield "bound", f"{fact}: = {_fmt(value)} -> = {_fmt(new)}", new


def table_mutants(table: TableSource) -> list[Mutant]:
    data = table.data
    inputs: dict[str, Any] = data.get("inputs") or {}
    rows: list[dict[str, Any]] = data["rows"]
    out: list[Mutant] = []
    for i, row in enumerate(rows):
        rid = str(row.get("id"))
        for fact, spec in (row.get("when") or {}).items():
            domain = inputs.get(fact) or {}
            for kind, change, new in _condition_mutants(fact, spec, domain):
                out.append(
                    Mutant(
                        f"{rid} when {change}",
                        table.file,
                        table.id,
                        rid,
                        kind,
                        change,
                        ("when", fact),
                        new,
                    )
                )
        if len(rows) > 1:
            j = i + 1 if i + 1 < len(rows) else i - 1
            neighbour = rows[j]
            if neighbour.get("then") != row.get("then"):
                nid = str(neighbour.get("id"))
                out.append(
                    Mutant(
                        f"{rid} then <- {nid}",
                        table.file,
                        table.id,
                        rid,
                        "then",
                        f"then {_fmt(row.get('then'))} -> {_fmt(neighbour.get('then'))}"
                        f" (from {nid})",
                        ("then",),
                        neighbour.get("then"),
                    )
                )
    return out


def all_mutants(tables: list[TableSource]) -> list[Mutant]:
    out: list[Mutant] = []
    seen: set[str] = set()
    for t in tables:
        for m in table_mutants(t):
            if m.id not in seen:  # the same edit reached twice (e.g. a flip of a flip) counts once
                seen.add(m.id)
                out.append(m)
    return out
