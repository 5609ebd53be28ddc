"""The condition language of the decision tables, with three-valued logic.

A *fact* is a value the engine derived from the case: a concrete value, ``None`` (not known), or
:class:`OneOf` (known to be one of several values, e.g. "T2, T3 or T4" when depth is missing but
size already excludes T1). A condition on a fact is TRUE, FALSE or UNKNOWN; a row is the
Kleene AND of its conditions. Unknown never silently becomes false: a table whose outcome
depends on an unknown fact reports INSUFFICIENT_DATA naming it.

Condition forms (YAML), the whole language:

=====================  ==========================================
``any`` (or omitted)   always true
``G2`` / ``3`` / true  equal to that value
``[a, b]``             one of the values
``{in: [a, b]}``       one of the values
``{not_in: [a, b]}``   none of the values
``{lt|le|gt|ge: x}``   numeric comparison; several keys are ANDed
``{eq: x}``            equal to x
=====================  ==========================================
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Tri(Enum):
    FALSE = 0
    TRUE = 1
    UNKNOWN = 2


@dataclass(frozen=True, slots=True)
class OneOf:
    """A fact known to be one of ``values`` (never empty, never a single value)."""

    values: frozenset[Any]

    def __post_init__(self) -> None:
        if len(self.values) < 2:
            raise ValueError("OneOf needs at least two values; use the value itself")

    def sorted(self) -> list[Any]:
        return sorted(self.values, key=str)


#: builds a OneOf of a checked set of values without the dataclass's __init__ (which sets a
#: frozen field through object.__setattr__ and calls __post_init__): one_of runs for every
#: table left undecided
_new = object.__new__
_set_values = OneOf.__dict__["values"].__set__


def one_of(values: Iterable[Any]) -> Any:
    """The narrowest fact for ``values``: the value itself when only one remains."""
    vals = frozenset(values)
    n = len(vals)
    if n > 1:
        fact = _new(OneOf)
        _set_values(fact, vals)
        return fact
    if not vals:
        raise ValueError("empty set of possible values")
    return next(iter(vals))


Predicate = Callable[[Any], bool]

_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "lt": lambda v, x: v < x,
    "le": lambda v, x: v <= x,
    "gt": lambda v, x: v > x,
    "ge": lambda v, x: v >= x,
}
_OP_TEXT = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥"}


class ConditionError(ValueError):
    """A condition in a knowledge file is not written in the condition language."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One compiled condition on one fact."""

    fact: str
    spec: Any
    predicate: Predicate
    text: str
    thresholds: tuple[float, ...]  # numeric cut-offs used (for lint sampling)
    values: tuple[Any, ...]  # literal values named (for lint sampling)
    # how the table evaluators test a concrete value without calling ``predicate``: one of
    # the ``OP_*`` codes below, with its argument (``OP_CALL``: call the predicate)
    op: int = 4
    arg: Any = None

    def evaluate(self, value: Any) -> Tri:
        if value is None:
            return Tri.UNKNOWN
        if type(value) is OneOf:
            hits = [self.predicate(v) for v in value.values]
            if all(hits):
                return Tri.TRUE
            if not any(hits):
                return Tri.FALSE
            return Tri.UNKNOWN
        return Tri.TRUE if self.predicate(value) else Tri.FALSE


#: :attr:`Condition.op` codes: ``v in arg`` (a frozenset), ``v not in arg``, ``v is arg`` (a bool),
#: ``v == arg`` (a str: no bool or number equals it), else ``predicate(v)``
OP_IN, OP_NOT_IN, OP_IS, OP_EQ, OP_CALL = 0, 1, 2, 3, 4

_CMP = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}


def _numeric_predicate(bounds: list[tuple[str, float]]) -> Predicate:
    """A fast predicate for one or two numeric bounds (finite int/float values only; bool, NaN
    and infinities never match)."""
    checks = [(_CMP[op], x) for op, x in bounds]
    if len(checks) == 1:
        ((f1, x1),) = checks

        def one(v: Any) -> bool:
            t = type(v)
            return (t is float or t is int) and v - v == 0 and f1(v, x1)

        return one
    if len(checks) == 2:
        (f1, x1), (f2, x2) = checks

        def two(v: Any) -> bool:
            t = type(v)
            return (t is float or t is int) and v - v == 0 and f1(v, x1) and f2(v, x2)

        return two

    def many(v: Any) -> bool:
        return _is_number(v) and all(f(v, x) for f, x in checks)

    return many


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def compile_condition(fact: str, spec: Any) -> Condition | None:
    """Compile ``spec`` for ``fact``; ``None`` for ``any``."""
    if spec == "any":
        return None
    if isinstance(spec, list):
        return _membership(fact, spec, negate=False)
    if isinstance(spec, dict):
        keys = set(spec)
        if keys == {"in"}:
            return _membership(fact, spec["in"], negate=False)
        if keys == {"not_in"}:
            return _membership(fact, spec["not_in"], negate=True)
        if keys == {"eq"}:
            return _equality(fact, spec["eq"])
        if keys and keys <= set(_NUMERIC_OPS):
            bounds: list[tuple[str, float]] = []
            for op in ("gt", "ge", "lt", "le"):
                if op in spec:
                    x = spec[op]
                    if not _is_number(x):
                        raise ConditionError(f"{fact}: '{op}' needs a number, got {x!r}")
                    bounds.append((op, float(x)))
            numeric = _numeric_predicate(bounds)

            text = " & ".join(f"{fact} {_OP_TEXT[op]} {x:g}" for op, x in bounds)
            return Condition(fact, spec, numeric, text, tuple(x for _, x in bounds), ())
        raise ConditionError(
            f"{fact}: unknown condition keys {sorted(keys)}; use in, not_in, eq, lt, le, gt, ge"
        )
    if isinstance(spec, str | int | float | bool):
        return _equality(fact, spec)
    raise ConditionError(f"{fact}: cannot read condition {spec!r}")


def _equality(fact: str, value: Any) -> Condition:
    if isinstance(value, list | dict):
        raise ConditionError(f"{fact}: eq needs a single value")

    def eq(v: Any) -> bool:
        return not isinstance(v, bool) and bool(v == value)

    if isinstance(value, bool):

        def eq_bool(v: Any) -> bool:
            return v is value

        return Condition(
            fact, value, eq_bool, f"{fact} = {str(value).lower()}", (), (value,), OP_IS, value
        )
    thresholds = (float(value),) if _is_number(value) else ()
    op, arg = (OP_EQ, value) if type(value) is str else (OP_CALL, None)
    return Condition(fact, value, eq, f"{fact} = {value}", thresholds, (value,), op, arg)


def _membership(fact: str, values: Any, *, negate: bool) -> Condition:
    if not isinstance(values, list) or not values:
        raise ConditionError(f"{fact}: a set condition needs a non-empty list")
    allowed = frozenset(values)

    if negate:

        def pred(v: Any) -> bool:
            return v not in allowed

        text = f"{fact} ∉ {{{', '.join(map(str, values))}}}"
    else:

        def pred(v: Any) -> bool:
            return v in allowed

        text = f"{fact} ∈ {{{', '.join(map(str, values))}}}"
    # the spec as written: a negated set keeps its 'not_in' (read by the columnar compiler and
    # by the texts of conditional options)
    spec: Any = {"not_in": values} if negate else values
    op = OP_NOT_IN if negate else OP_IN
    return Condition(fact, spec, pred, text, (), tuple(values), op, allowed)
