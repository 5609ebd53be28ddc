"""Treatment options when the SETTING is open (issue 8 §1): the setting table stays undecided
only because one input (pathway.yaml ``treatment.parameters.open_setting_input``, the
metastasis status) is unknown. The options are assembled under each setting that input may
lead to and merged here: an option every candidate setting gives alike (same status, same
requirements) is kept as it is; any other option is CONDITIONAL on the input, naming the
candidate values under which it is offered - never recommended."""

from __future__ import annotations

from typing import Any

from nenguide.engine.tables import Table
from nenguide.model.assessment import TreatmentOption, TreatmentRequirement


def setting_candidates(table: Table, name: str, current: Any) -> list[Any]:
    """The values of input ``name`` of the setting table other than the one in the case."""
    domain = table.spec.inputs[name]
    return [v for v in (domain.values or []) if v != current]


def _key(entry: Any) -> Any:
    """What equal trace entries and issues share (their step, table and code)."""
    if isinstance(entry, dict):
        return (entry.get("step"), entry.get("table"), entry.get("code"))
    return type(entry)


def append_new(
    dst: list[Any], items: list[Any], seen: dict[Any, list[Any]], ids: set[int]
) -> None:
    """Append each of ``items`` not already in ``dst`` (by equality, order kept), in one pass:
    an entry the memo handed out again is found by identity (``ids``, of the entries in
    ``dst``), any other is compared only with the entries of ``dst`` that share its
    :func:`_key` (``seen``). ``seen`` and ``ids`` are kept across calls for the same ``dst``
    (and may serve several lists, the keys of trace entries and issues differ); they are
    filled from ``dst`` on first use."""
    if dst and id(dst[0]) not in ids:
        for x in dst:
            ids.add(id(x))
            seen.setdefault(_key(x), []).append(x)
    for x in items:
        if id(x) in ids:
            continue
        bucket = seen.setdefault(_key(x), [])
        if x not in bucket:
            bucket.append(x)
            ids.add(id(x))
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
    order: list[str] = []
    for _, opts in runs:
        order += [o["code"] for o in opts if o["code"] not in order]
    out: list[TreatmentOption] = []
    for code in order:
        seen = [(v, got[code]) for v, got in by_value if code in got]
        first = seen[0][1]
        if len(seen) == len(by_value) and all(_same(first, o) for _, o in seen):
            out.append(first)
            continue
        requires: list[TreatmentRequirement] = []
        recommended = [v for v, o in seen if o["status"] == "recommended"]
        # the values under which it is offered (recommended, where it is offered under every
        # value but recommended only under some)
        values = [v for v, _ in seen] if len(seen) < len(by_value) else recommended
        for v in values:
            requires.append(requirement[v])
        for _, o in seen:
            requires += [r for r in o.get("requires") or [] if r not in requires]
        because = [b for _, o in seen for b in o["because"]]
        sources = [s for _, o in seen for s in o["sources"]]
        caveats = [c for _, o in seen for c in o["caveats"]]
        out.append(
            TreatmentOption(
                **{
                    **first,
                    "status": "conditional",
                    "requires": requires,
                    "because": list(dict.fromkeys(because)),
                    "sources": list(dict.fromkeys(sources)),
                    "caveats": list(dict.fromkeys(caveats)),
                }
            )
        )
    out.sort(key=lambda o: o["status"] == "conditional")
    return out
