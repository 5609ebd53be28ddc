"""Treatment options when the SETTING is open (issue 8 §1): the setting table stays undecided
only because one input (pathway.yaml ``treatment.parameters.open_setting_input``, the
metastasis status) is unknown. The options are assembled under each setting that input may
lead to and merged here: an option every candidate setting gives alike (same status, same
requirements) is kept as it is; any other option is CONDITIONAL on the input, naming the
candidate values under which it is offered - never recommended."""

from __future__ import annotations

from itertools import compress
from operator import methodcaller
from typing import Any, cast

from nenguide.engine.tables import Table
from nenguide.model.assessment import TreatmentOption, TreatmentRequirement
from nenguide.model.frozen import FrozenDict, FrozenList


def setting_candidates(table: Table, name: str, current: Any) -> list[Any]:
    """The values of input ``name`` of the setting table other than the one in the case."""
    domain = table.spec.inputs[name]
    return [v for v in (domain.values or []) if v != current]


_STEP = methodcaller("get", "step")


def _key(entry: Any) -> Any:
    """What equal trace entries and issues share (their step, table and code)."""
    return (entry.get("step"), entry.get("table"), entry.get("code"))


class NewEntries:
    """Appends to ``dst`` (trace entries or issues) each entry not already in it, by equality,
    order kept, in one pass: each is compared only with the entries of ``dst`` that share its
    :func:`_key` (identity first: an entry the memo handed out again is found at once; entries
    of a step the new ones do not name cannot be equal and are never indexed)."""

    def __init__(self, dst: list[Any]) -> None:
        self.dst = dst
        self.seen: dict[Any, list[Any]] = {}  # key -> the entries of dst with that key
        self.steps: set[Any] = set()  # the steps whose entries of dst are in ``seen``

    def add(self, items: list[Any]) -> None:
        dst, seen = self.dst, self.seen
        new = set(map(_STEP, items)).difference(self.steps)
        if new:
            for x in compress(dst, map(new.__contains__, map(_STEP, dst))):
                key = _key(x)
                bucket = seen.get(key)
                if bucket is None:
                    seen[key] = [x]
                else:
                    bucket.append(x)
            self.steps |= new
        for x in items:
            key = _key(x)
            bucket = seen.get(key)
            if bucket is None:
                seen[key] = [x]
            elif x in bucket:  # the same entry, or an equal one
                continue
            else:
                bucket.append(x)
            dst.append(x)


def _same(a: TreatmentOption, b: TreatmentOption) -> bool:
    return a["status"] == b["status"] and list(a.get("requires") or []) == list(
        b.get("requires") or []
    )


def merge_settings(
    runs: list[tuple[Any, list[TreatmentOption]]],
    requirement: dict[Any, TreatmentRequirement],
) -> list[TreatmentOption]:
    """Options of every candidate setting (``runs``: the input's value, its options), merged.

    ``requirement[value]`` is the condition "the input has this value" (field, fact, text).
    An option offered under a value is conditional on that value's requirement where the
    candidates differ; the requirements it waits on under each value follow it.
    """
    n = len(runs)
    # every code once, in order of first mention, with the values it is offered under and its
    # option under each (a run names each of its codes once)
    offered: dict[str, list[tuple[Any, TreatmentOption]]] = {}
    for v, opts in runs:
        for o in opts:
            seen = offered.get(o["code"])
            if seen is None:
                offered[o["code"]] = [(v, o)]
            else:
                seen.append((v, o))
    out: list[TreatmentOption] = []
    for seen in offered.values():
        first = seen[0][1]
        if len(seen) == n and all(o is first or _same(first, o) for _, o in seen):
            out.append(first)
            continue
        # the values under which it is offered (recommended, where it is offered under every
        # value but recommended only under some), then what it waits on under each
        requires: list[TreatmentRequirement] = []
        for v, o in seen:
            if len(seen) < n or o["status"] == "recommended":
                requires.append(requirement[v])
        because: list[str] = []
        sources: list[str] = []
        caveats: list[str] = []
        for _, o in seen:
            waits = o.get("requires")
            if waits:
                requires += [r for r in waits if r not in requires]
            because += o["because"]
            sources += o["sources"]
            caveats += o["caveats"]
        merged = FrozenDict(  # built frozen, as the assessment holds it
            first,
            status="conditional",
            requires=FrozenList(requires),
            because=FrozenList(dict.fromkeys(because)),
            sources=FrozenList(dict.fromkeys(sources)),
            caveats=FrozenList(dict.fromkeys(caveats)),
        )
        out.append(cast(TreatmentOption, merged))
    out.sort(key=_conditional)
    return out


def _conditional(o: TreatmentOption) -> bool:
    return o["status"] == "conditional"
