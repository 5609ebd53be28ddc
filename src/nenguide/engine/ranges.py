"""Values known only as a range or a bound ("Ki-67 10-15 %", "<2 %", "3-4 cm", "multiple").

A range becomes a fact the decision tables already understand: :class:`OneOf` one value in each
band that the package's cut-offs on that fact cut the range into (a cut-off inside the range is
a value of its own, so ``lt``/``le`` boundaries are both seen). Every table that reads the fact
then gives its answer when the whole range falls in one band, and its candidates otherwise,
with no change to the tables. The interval itself is kept beside the fact (``<fact>_interval``,
written ``[3, 4]``, ``(90, 100]``) for the trace and for comparisons outside the tables.

Bookkeeping only: the cut-offs are read from the knowledge tables, never written here.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nenguide.engine.context import Context
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf, one_of

__all__ = [
    "Interval",
    "cuts",
    "holds",
    "open_question",
    "possible",
    "representatives",
    "settled",
]

ISSUE = "RANGE_SPANS_CUTOFF"
#: case field of a reported range -> the fact it sets (what would settle an open grade or T)
GRADE_INPUTS = {"pathology.ki67_range": "ki67_percent", "pathology.mitoses": "mitoses_per_2mm2"}
T_INPUTS = {"tumour.size": "size_cm"}


@dataclass(frozen=True, slots=True)
class Interval:
    lo: float
    lo_incl: bool
    hi: float
    hi_incl: bool

    def notation(self) -> str:
        return (
            f"{'[' if self.lo_incl else '('}{self.lo:g}, {self.hi:g}{']' if self.hi_incl else ')'}"
        )

    def contains(self, x: float) -> bool:
        above = x > self.lo or (self.lo_incl and x == self.lo)
        below = x < self.hi or (self.hi_incl and x == self.hi)
        return above and below

    def scaled(self, factor: float) -> Interval:
        return Interval(
            round(self.lo * factor, 9), self.lo_incl, round(self.hi * factor, 9), self.hi_incl
        )


_NOTATION = re.compile(r"^([\[(])(-?[\d.e+-]+), (-?[\d.e+-]+)([\])])$")


def parse_notation(text: str) -> Interval | None:
    m = _NOTATION.match(text)
    if not m:
        return None
    return Interval(float(m.group(2)), m.group(1) == "[", float(m.group(3)), m.group(4) == "]")


def interval(
    gt: float | None,
    ge: float | None,
    lt: float | None,
    le: float | None,
    *,
    minimum: float,
    maximum: float,
    minimum_incl: bool = True,
) -> Interval:
    """The interval of a reported range; a missing bound is the field's own limit."""
    if gt is not None:
        lo, lo_incl = gt, False
    elif ge is not None:
        lo, lo_incl = ge, True
    else:
        lo, lo_incl = minimum, minimum_incl
    if lt is not None:
        hi, hi_incl = lt, False
    elif le is not None:
        hi, hi_incl = le, True
    else:
        hi, hi_incl = maximum, True
    return Interval(lo, lo_incl, hi, hi_incl)


def cuts(kb: Knowledge, fact: str) -> tuple[float, ...]:
    """Every numeric cut-off that a condition of the package's tables applies to ``fact``
    (computed once per package; kept with the tables it was read from, since an edited copy of
    the package, a mutant, shares ``package_cache``)."""
    key = ("range_cuts", fact)
    hit = kb.package_cache.get(key)
    if hit is None or hit[0] is not kb.tables:
        found = {
            t
            for table in kb.tables.values()
            for row in table.rows
            for c in row.conditions
            if c.fact == fact
            for t in c.thresholds
        }
        hit = kb.package_cache[key] = (kb.tables, tuple(sorted(found)))
    return tuple(hit[1])


def _clean(x: float) -> float | int:
    r = round(x, 6)
    return int(r) if r == int(r) else r


def representatives(iv: Interval, cutoffs: Iterable[float], *, integer: bool = False) -> Any:
    """One value in each band of ``iv`` (every cut-off inside it is a band of its own): the
    value itself when one band holds the whole range, else a :class:`OneOf`."""
    inner = sorted({c for c in cutoffs if iv.lo < c < iv.hi})
    pts: set[float] = set(inner)
    if iv.lo_incl:
        pts.add(iv.lo)
    if iv.hi_incl:
        pts.add(iv.hi)
    edges = [iv.lo, *inner, iv.hi]
    for a, b in itertools.pairwise(edges):
        if integer:
            k = math.floor(a) + 1
            if k < b:
                pts.add(k)
        else:
            pts.add((a + b) / 2)
    if integer:
        pts = {p for p in pts if p == int(p)}
    if not pts:  # an integer range with no whole number in it cannot occur after validation
        pts = {iv.lo}
    return one_of(_clean(p) for p in pts)


_CMP = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}


def holds(facts: Mapping[str, Any], fact: str, op: str, x: float) -> bool | None:
    """``fact <op> x`` for a number or a reported range: true or false when it holds for the
    whole range or for none of it, else unknown (``None``)."""
    v = facts.get(fact)
    if v is None:
        return None
    cmp = _CMP[op]

    def compare(a: float) -> bool:
        return bool(cmp(a, x))

    if not isinstance(v, OneOf):
        return bool(compare(v))
    iv = parse_notation(str(facts.get(f"{fact}_interval") or ""))
    if iv is None:
        hits = {compare(p) for p in v.values}
        return hits.pop() if len(hits) == 1 else None
    # the interval's ends decide: every value in between lies on the same side of x
    lo_ok = compare(iv.lo) if iv.lo_incl else compare(math.nextafter(iv.lo, math.inf))
    hi_ok = compare(iv.hi) if iv.hi_incl else compare(math.nextafter(iv.hi, -math.inf))
    if lo_ok and hi_ok:
        return True
    if not lo_ok and not hi_ok:
        return False
    return None


def settled(v: Any) -> Any:
    """``v`` when it is one value, ``None`` while candidates remain."""
    return None if isinstance(v, OneOf) else v


def possible(v: Any) -> list[str]:
    """The candidates of ``v`` (empty when it is settled)."""
    return [str(x) for x in v.sorted()] if isinstance(v, OneOf) else []


def open_question(
    ctx: Context,
    step: str,
    what: str,
    candidates: Any,
    facts: Mapping[str, Any],
    reported: Mapping[str, str],
) -> None:
    """The insufficient-data item for a reported range that spans a cut-off: what stays open
    (``what``: grade, T...), its candidates, and the reported values that would settle it
    (``reported``: case field -> the fact whose range it gave)."""
    fields = [f for f, fact in reported.items() if facts.get(f"{fact}_interval")]
    if not fields or not isinstance(candidates, OneOf):
        return
    ctx.issue(
        ISSUE,
        step,
        fields,
        what=ctx.text(f"range_what.{what}"),
        candidates=possible(candidates),
        reported=", ".join(
            f"{facts.get(f'{fact}_text') or facts.get(f'{fact}_interval')}"
            for f, fact in reported.items()
            if facts.get(f"{fact}_interval")
        ),
    )
