"""Immutable containers for the parts of an assessment.

The assessment's typed-dict parts (issues, trace entries, treatment options, ...) stay plain
``dict``/``list`` *types* for the JSON contract and for readers (``issue["message"]``), but the
values the engine hands out are :class:`FrozenDict` and :class:`FrozenList`: every mutating
method raises ``TypeError``. The engine memoises and shares these values between assessments,
so a caller that formats a result in place can never change a later answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import compress
from operator import not_
from typing import Any, NoReturn, TypeVar, cast


def _refuse(self: object, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(
        f"{type(self).__name__} is immutable: the engine shares assessment parts between "
        "assessments; copy it first (dict(x) / list(x)) to change it"
    )


class FrozenDict(dict[str, Any]):
    """A ``dict`` that cannot be changed after it is built (hashable by identity only)."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self


class FrozenList(list[Any]):
    """A ``list`` that cannot be changed after it is built."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (list(self),))

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenList:
        return self


_SCALARS = (str, int, float, bool, type(None))
#: the types :func:`freeze` returns as they are, by exact type: scalars and frozen containers,
#: and every other type found to be no container (a date, an enum, a model: returned as they
#: are, as before; remembered here so that the next value of the type costs one look-up and a
#: dict or list holding only such values is frozen without a call per item)
_LEAVES: set[type] = {str, int, float, bool, type(None), FrozenDict, FrozenList}


def freeze(value: Any) -> Any:
    """``value`` with every dict, list, tuple and set inside made immutable (deep).

    Values that are immutable already (scalars, frozen containers) are returned as they are,
    without a call per item: this runs on every part of every assessment."""
    t = type(value)
    leaves = _LEAVES
    if t in leaves:
        return value
    if t is dict:
        if leaves.issuperset(map(type, value.values())):
            return FrozenDict(value)
        d = dict(value)  # the keys whose value is not a leaf, found without a Python-level pass
        for k in list(compress(d, map(not_, map(leaves.__contains__, map(type, d.values()))))):
            d[k] = freeze(d[k])
        return FrozenDict(d)
    if t is list or t is tuple:
        if leaves.issuperset(map(type, value)):
            return FrozenList(value)
        return FrozenList([v if type(v) in leaves else freeze(v) for v in value])
    if isinstance(value, dict):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return FrozenList(freeze(v) for v in value)
    if isinstance(value, set | frozenset):
        return FrozenList(sorted((freeze(v) for v in value), key=str))
    leaves.add(t)  # no container (the cases above): returned as it is, now and next time
    return value


_D = TypeVar("_D", bound=Mapping[str, Any])


def frozen_dict(d: _D) -> _D:
    """The typed dict ``d`` as an immutable one (its values immutable already: a step that
    builds its output frozen spares :func:`freeze` the walk over it)."""
    return cast(_D, FrozenDict(d))
