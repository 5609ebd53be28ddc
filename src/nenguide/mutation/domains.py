"""Declared input domains of the tables: what the pathway never presents to a table.

The table-level proof (:mod:`nenguide.mutation.equivalence`) evaluates every input unknown, at
every value and every pair of values. Some of those inputs never reach the table: the follow-up
schedule is read only once the tumour family is settled, the case model cannot express a
resection margin that is "R1 or R2", no site outside the digestive tract has a mucosa or
submucosa. A *domain* names, for one table, the inputs the pathway never presents:

- ``never_unknown``: the input is never ``None`` when the table is consulted;
- ``never_one_of``: the input is never "one of several values" (a ``OneOf``);
- ``one_of_only``: the only ``OneOf`` sets the input can take (e.g. adjacent grades);
- ``never_together``: value combinations that never occur in one consult (an input matches a
  clause when its value, or any value of its ``OneOf``, is in the clause's list);
- ``unknown_together``: groups of inputs filled from one source, so that either all of them are
  unknown or none is;
- ``known_only_with``: an input that is known only when other inputs are (filled from the same
  source, which also fills those; the input alone may still be unknown).

Each carries its reason (the code path or case-model rule that guarantees it). The domains are
reviewed data (``tests/mutation/domains.yaml``); tests/test_mutation_domains.py checks each one
on the trace of every golden vignette and thousands of generated cases, and the mutation harness
proves a survivor *pathway-level* equivalent by evaluating the grid restricted to its table's
domain (:func:`nenguide.mutation.equivalence.equivalent` with ``domain=``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nenguide.engine.logic import OneOf


class DomainError(ValueError):
    """The domains file is malformed."""


@dataclass(frozen=True, slots=True)
class Together:
    """A combination of values that never occurs in one consult of the table."""

    values: Mapping[str, frozenset[Any]]
    reason: str

    def matches(self, facts: Mapping[str, Any]) -> bool:
        return all(bool(_members(facts.get(k)) & allowed) for k, allowed in self.values.items())

    def describe(self) -> str:
        return " & ".join(f"{k} in {sorted(map(str, v))}" for k, v in self.values.items())


@dataclass(frozen=True, slots=True)
class Group:
    """Inputs that are unknown together (all of them or none)."""

    inputs: tuple[str, ...]
    reason: str

    def matches(self, facts: Mapping[str, Any]) -> bool:
        """Whether ``facts`` break the group (some of its inputs unknown, others known)."""
        known = {facts[n] is not None for n in self.inputs if n in facts}
        return len(known) > 1


@dataclass(frozen=True, slots=True)
class KnownOnlyWith:
    """An input known only when every input of ``needs`` is known."""

    input: str
    needs: tuple[str, ...]
    reason: str

    def matches(self, facts: Mapping[str, Any]) -> bool:
        """Whether ``facts`` break it (the input known, one it needs unknown)."""
        if facts.get(self.input) is None:
            return False
        return any(n in facts and facts[n] is None for n in self.needs)

    def describe(self) -> str:
        return f"{self.input} known only with {', '.join(self.needs)}"


@dataclass(frozen=True, slots=True)
class Domain:
    table: str
    never_unknown: Mapping[str, str] = field(default_factory=dict)  # input -> reason
    never_one_of: Mapping[str, str] = field(default_factory=dict)
    one_of_only: Mapping[str, tuple[frozenset[frozenset[Any]], str]] = field(default_factory=dict)
    never_together: tuple[Together, ...] = ()
    unknown_together: tuple[Group, ...] = ()
    known_only_with: tuple[KnownOnlyWith, ...] = ()

    @property
    def filters(self) -> bool:
        """Whether the domain excludes combinations of inputs (not just single points)."""
        return bool(self.never_together or self.unknown_together or self.known_only_with)

    def inputs(self) -> set[str]:
        """Every input the domain names."""
        out = {*self.never_unknown, *self.never_one_of, *self.one_of_only}
        out.update(k for t in self.never_together for k in t.values)
        out.update(k for g in self.unknown_together for k in g.inputs)
        out.update(k for w in self.known_only_with for k in (w.input, *w.needs))
        return out

    def admits(self, facts: Mapping[str, Any]) -> bool:
        """Whether the pathway can present these input values to the table."""
        return not self.violations(facts)

    def violations(self, facts: Mapping[str, Any]) -> list[str]:
        """What in ``facts`` (engine values, or a trace entry's ``inputs``) the domain excludes."""
        out = []
        for name in self.never_unknown:
            if name in facts and facts[name] is None:
                out.append(f"{name} is unknown")
        for name in self.never_one_of:
            if _is_one_of(facts.get(name)):
                out.append(f"{name} is one of {sorted(map(str, _members(facts[name])))}")
        for name, (sets, _why) in self.one_of_only.items():
            v = facts.get(name)
            if _is_one_of(v) and frozenset(_members(v)) not in sets:
                out.append(f"{name} is one of {sorted(map(str, _members(v)))} (not declared)")
        out += [f"never together: {t.describe()}" for t in self.never_together if t.matches(facts)]
        out += [
            f"unknown together: {', '.join(g.inputs)}"
            for g in self.unknown_together
            if g.matches(facts)
        ]
        out += [w.describe() for w in self.known_only_with if w.matches(facts)]
        return out

    def proof_text(self) -> str:
        """The restriction, in one line (shown in the report and the allow-list)."""
        parts = [f"{n} never unknown" for n in self.never_unknown]
        parts += [f"{n} never one of several values" for n in self.never_one_of]
        for n, (sets, _w) in self.one_of_only.items():
            shown = " or ".join(sorted(_set_text(s) for s in sets))
            parts.append(f"{n} one of several values only as {shown}")
        parts += [f"never {t.describe()}" for t in self.never_together]
        parts += [f"{', '.join(g.inputs)} unknown together" for g in self.unknown_together]
        parts += [w.describe() for w in self.known_only_with]
        return "; ".join(parts)


def _set_text(s: frozenset[Any]) -> str:
    return "{" + ", ".join(sorted(map(str, s))) + "}"


def _is_one_of(v: Any) -> bool:
    return type(v) is OneOf or (isinstance(v, Mapping) and "one_of" in v)


def _members(v: Any) -> set[Any]:
    """The values ``v`` can be: a ``OneOf``'s (engine or trace form), the value itself, or
    none for unknown."""
    if v is None:
        return set()
    if type(v) is OneOf:
        return set(v.values)
    if isinstance(v, Mapping) and "one_of" in v:
        return set(v["one_of"])
    return {v}


def _reason(table: str, where: str, raw: Any) -> str:
    text = str(raw or "").strip()
    if not text:
        raise DomainError(f"{table}: {where} needs a reason")
    return text


def _names(table: str, key: str, raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise DomainError(f"{table}: {key} maps each input to its reason")
    return {str(k): _reason(table, f"{key}.{k}", v) for k, v in raw.items()}


KEYS = (
    "never_unknown",
    "never_one_of",
    "one_of_only",
    "never_together",
    "unknown_together",
    "known_only_with",
)


def parse(data: Mapping[str, Any]) -> dict[str, Domain]:
    """The domains of a parsed domains file (``{"domains": {table_id: {...}}}``)."""
    out: dict[str, Domain] = {}
    for table, raw in (data.get("domains") or {}).items():
        table = str(table)
        if not isinstance(raw, Mapping):
            raise DomainError(f"{table}: a domain is a mapping")
        unknown = set(raw) - {*KEYS}
        if unknown:
            raise DomainError(f"{table}: unknown keys {sorted(unknown)}")
        only: dict[str, tuple[frozenset[frozenset[Any]], str]] = {}
        for name, spec in (raw.get("one_of_only") or {}).items():
            sets = frozenset(frozenset(s) for s in spec.get("sets") or [])
            if not sets or any(len(s) < 2 for s in sets):
                raise DomainError(f"{table}: one_of_only.{name}.sets lists sets of 2+ values")
            only[str(name)] = (sets, _reason(table, f"one_of_only.{name}", spec.get("reason")))
        together = []
        for i, spec in enumerate(raw.get("never_together") or []):
            values = spec.get("values") or {}
            if len(values) < 2:
                raise DomainError(f"{table}: never_together[{i}] names 2+ inputs")
            together.append(
                Together(
                    {str(k): frozenset(v) for k, v in values.items()},
                    _reason(table, f"never_together[{i}]", spec.get("reason")),
                )
            )
        groups = []
        for i, spec in enumerate(raw.get("unknown_together") or []):
            names = tuple(str(n) for n in spec.get("inputs") or [])
            if len(names) < 2:
                raise DomainError(f"{table}: unknown_together[{i}] names 2+ inputs")
            why = _reason(table, f"unknown_together[{i}]", spec.get("reason"))
            groups.append(Group(names, why))
        known = []
        for i, spec in enumerate(raw.get("known_only_with") or []):
            name = str(spec.get("input") or "")
            needs = tuple(str(n) for n in spec.get("needs") or [])
            if not name or not needs or name in needs:
                raise DomainError(f"{table}: known_only_with[{i}] names an input and its needs")
            why = _reason(table, f"known_only_with[{i}]", spec.get("reason"))
            known.append(KnownOnlyWith(name, needs, why))
        out[table] = Domain(
            table,
            _names(table, "never_unknown", raw.get("never_unknown") or {}),
            _names(table, "never_one_of", raw.get("never_one_of") or {}),
            only,
            tuple(together),
            tuple(groups),
            tuple(known),
        )
    return out


def read_domains(path: Path) -> dict[str, Domain]:
    """The reviewed domains (table id -> domain); none when the file is not there."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return parse(data)
