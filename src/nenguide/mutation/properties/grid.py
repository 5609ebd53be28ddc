"""Input grids the properties share: every value of each input with it also unknown, and every
fully known case a partly known one can turn out to be."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from nenguide.engine.logic import OneOf


def with_unknowns(domains: Mapping[str, Sequence[Any]]) -> Iterator[dict[str, Any]]:
    """Every combination of the inputs' values, each input also unknown (``None``)."""
    names = list(domains)
    for combo in itertools.product(*((*domains[n], None) for n in names)):
        yield dict(zip(names, combo, strict=True))


def completions(
    f: Mapping[str, Any], domains: Mapping[str, Sequence[Any]]
) -> Iterator[dict[str, Any]]:
    """Every fully known case ``f`` can be: each unknown input (``None``) at every value of its
    domain, each partly known one (a ``OneOf``) at every value it allows."""
    axes = []
    for name, v in f.items():
        if v is None and name in domains:
            axes.append([(name, x) for x in domains[name]])
        elif isinstance(v, OneOf):
            axes.append([(name, x) for x in v.sorted()])
    for combo in itertools.product(*axes):
        yield {**f, **dict(combo)}


def values_of(value: Any) -> frozenset[str]:
    """A table output as the set of values it may be (none, one, or a ``OneOf``'s), as text."""
    if value is None:
        return frozenset()
    if isinstance(value, OneOf):
        return frozenset(str(v) for v in value.values)
    return frozenset({str(value)})
