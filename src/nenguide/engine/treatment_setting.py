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
    by_value = [(v, {o["code"]: o for o in opts}) for v, opts in runs]
    n = len(by_value)
    out: list[TreatmentOption] = []
    # every code once, in order of first mention (a run names each of its codes once)
    for code in dict.fromkeys([o["code"] for _, opts in runs for o in opts]):
        seen = [(v, got[code]) for v, got in by_value if code in got]
        first = seen[0][1]
        if len(seen) == n and all(o is first or _same(first, o) for _, o in seen):
            out.append(first)
            continue
        # the values under which it is offered (recommended, where it is offered under every
        # value but recommended only under some)
        if len(seen) < n:
            requires = [requirement[v] for v, _ in seen]
        else:
            requires = [requirement[v] for v, o in seen if o["status"] == "recommended"]
        for _, o in seen:
            requires += [r for r in o.get("requires") or [] if r not in requires]
        because = [b for _, o in seen for b in o["because"]]
        sources = [s for _, o in seen for s in o["sources"]]
        caveats = [c for _, o in seen for c in o["caveats"]]
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
