"""Functional syndromes (insulinoma, gastrinoma, carcinoid syndrome, VIPoma, glucagonoma,
somatostatinoma, ectopic ACTH, PTHrPoma, GHRHoma, calcitoninoma): status, the criteria met and
unmet, the next confirmatory test, and interference caveats.

Lab results are converted to each analyte's canonical unit (``nenguide.units``) and become facts
named with that unit (``gastrin_pg_ml``) or as a multiple of the local upper limit of normal
(``gastrin_xuln``); every conversion is noted in the trace. All thresholds are in the tables of
``syndromes.yaml``. Each syndrome's table has the ``priority`` hit policy: the highest-ranked
row that applies gives the status; rows that could still apply name the missing data. A syndrome is
evaluated only when one of its trigger symptoms is present or a trigger analyte was measured, so
the list shows syndromes the case gives a reason to think about, not every syndrome as "unknown".
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from operator import is_
from typing import Any

from nenguide.engine.context import Context
from nenguide.engine.kb import Knowledge
from nenguide.engine.lab_names import unit_slug, value_fact
from nenguide.engine.tables import CollectResult, Row, pick_priority
from nenguide.model.assessment import Classification, FunctionalSyndrome, IssueKind
from nenguide.model.case import Case
from nenguide.model.frozen import FrozenList, frozen_dict

STEP = "functional_syndromes"

_I, _W = IssueKind.insufficient_data, IssueKind.warning
#: ``v is True`` (a symptom or history item recorded as present; not a truthy value)
_is_true = partial(is_, True)
__all__ = ["functional_syndromes", "unit_slug", "value_fact"]


def functional_syndromes(
    ctx: Context, case: Case, facts: Mapping[str, Any], cls: Classification
) -> list[FunctionalSyndrome]:
    """The syndromes the case gives a reason to think about; reads the facts only (the lab
    results were converted once by the fact layer)."""
    f = facts
    index: Mapping[str, int] = getattr(facts, "lab_index", {})

    caveats_by_syndrome: dict[str, list[str]] = {}
    rules_by_syndrome: dict[str, list[str]] = {}
    interference = ctx.collect(STEP, ctx.table_id(STEP, "interference"), f)
    for row in interference.applies:
        code = row.then["code"]
        ctx.issue(code, STEP, _fields_of(row, index), rule_id=row.id, kind=_W)
        for s in row.then.get("syndromes") or []:
            _add(caveats_by_syndrome.setdefault(s, []), code)
            rules_by_syndrome.setdefault(s, []).append(row.id)

    out: list[FunctionalSyndrome] = []
    tables, flags, analytes_any = syndrome_tables(ctx.kb)
    if not any(map(_is_true, map(f.get, flags))) and index.keys().isdisjoint(analytes_any):
        return FrozenList(out)  # no syndrome's trigger present (most cases): none evaluated
    for table_id, name, params, symptoms, analytes, history in tables:
        triggered = (
            any(map(_is_true, map(f.get, symptoms)))
            or not index.keys().isdisjoint(analytes)  # an analyte with a usable result
            or any(map(_is_true, map(f.get, history)))
        )
        if not triggered:
            continue
        res = ctx.collect(STEP, table_id, f)
        item = _status(ctx, name, res, params, index)
        if name == "carcinoid_syndrome":
            _chd(ctx, item, f)
        for c in caveats_by_syndrome.get(name, []):
            _add(item["caveats"], c)
        item["rule_ids"].extend(rules_by_syndrome.get(name, []))
        out.append(_frozen(item))
    return FrozenList(out)


def _frozen(item: FunctionalSyndrome) -> FunctionalSyndrome:
    """A finished item, frozen."""
    return frozen_dict(
        FunctionalSyndrome(
            syndrome=item["syndrome"],
            status=item["status"],
            criteria_met=FrozenList(item["criteria_met"]),
            criteria_unmet=FrozenList(item["criteria_unmet"]),
            next_tests=FrozenList(item["next_tests"]),
            caveats=FrozenList(item["caveats"]),
            rule_ids=FrozenList(item["rule_ids"]),
        )
    )


_Triggers = tuple[str, str, dict[str, Any], tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def syndrome_tables(
    kb: Knowledge,
) -> tuple[tuple[_Triggers, ...], tuple[str, ...], frozenset[str]]:
    """Per syndrome table, in order: its id, the syndrome, the table's parameters and the facts
    that trigger it (symptoms, analytes, history items); and every table's trigger symptoms
    and history items, and analytes, together (a case with none of them present triggers no
    table) - package data, read once (:meth:`Knowledge.derived`)."""
    return kb.derived(_TRIGGERS_KEY, partial(_read_triggers, kb))


def _read_triggers(kb: Knowledge) -> tuple[tuple[_Triggers, ...], tuple[str, ...], frozenset[str]]:
    tables = tuple(map(kb.tables.__getitem__, kb.pathway.tables(STEP, "syndromes")))
    found: list[_Triggers] = []
    for table in tables:
        params = table.spec.parameters
        trig = params.get("triggers") or {}
        found.append((
            table.spec.id,
            str(params["syndrome"]),
            params,
            tuple(f"sym_{s}" for s in trig.get("symptoms") or ()),
            tuple(trig.get("analytes") or ()),
            tuple(f"hx_{h}" for h in trig.get("history") or ()),
        ))  # fmt: skip
    flags = tuple(dict.fromkeys(f for t in found for f in (*t[3], *t[5])))
    analytes = frozenset(a for t in found for a in t[4])
    return tuple(found), flags, analytes


_TRIGGERS_KEY = ("syndrome_triggers",)


def _add(items: list[str], code: str) -> None:
    if code not in items:
        items.append(code)


def _fields_of(row: Row, index: Mapping[str, int]) -> list[str]:
    fields: list[str] = []
    for c in row.conditions:
        fact = c.fact
        for code, i in index.items():
            if fact.startswith(code + "_"):
                fields.append(f"clinical.labs.{i}")
                break
        else:
            if fact in ("renal_failure",):
                fields.append("clinical.history.renal_failure")
            elif fact == "egfr_ml_min":
                fields.append("clinical.egfr_ml_min")
            elif fact == "atrophic_gastritis":
                fields.append("clinical.history")
    return sorted(set(fields))


def _status(
    ctx: Context,
    name: str,
    res: CollectResult,
    params: dict[str, Any],
    index: Mapping[str, int],
) -> FunctionalSyndrome:
    chosen, missing = pick_priority(res)
    if chosen is None:
        item = FunctionalSyndrome(
            syndrome=name,
            status="insufficient_data",
            criteria_met=[],
            criteria_unmet=[],
            next_tests=list(params.get("insufficient_next_tests") or []),
            caveats=[],
            rule_ids=[],
        )
        ctx.issue(
            "SYNDROME_NEEDS_DATA",
            STEP,
            sorted({_field(m, index) for m in missing}) or ["clinical.labs"],
            kind=_I,
            syndrome=name,
            missing=tuple(missing),
        )
        ctx.note(STEP, "insufficient_data", {"syndrome": name, "missing": missing}, [])
        return item
    then = chosen.then
    item = FunctionalSyndrome(
        syndrome=name,
        status=then["status"],
        criteria_met=list(then.get("met") or []),
        criteria_unmet=list(then.get("unmet") or []),
        next_tests=list(then.get("next_tests") or []),
        caveats=list(then.get("caveats") or []),
        rule_ids=[chosen.id],
    )
    for c in item["caveats"]:
        ctx.issue(c, STEP, [], rule_id=chosen.id, kind=_W, syndrome=name)
    return item


def _field(fact: str, index: Mapping[str, int]) -> str:
    if fact.startswith("sym_"):
        return f"clinical.symptoms.{fact[4:]}"
    if fact.startswith("hx_"):
        return f"clinical.history.{fact[3:]}"
    return "clinical.labs"


def _chd(ctx: Context, item: FunctionalSyndrome, f: Mapping[str, Any]) -> None:
    res = ctx.collect(STEP, ctx.table_id(STEP, "chd"), {**f, "carcinoid_status": item["status"]})
    for row in res.applies:
        code = row.then["caveat"]
        _add(item["caveats"], code)
        for t in row.then.get("next_tests") or []:
            _add(item["next_tests"], t)
        item["rule_ids"].append(row.id)
        ctx.issue(code, STEP, [], rule_id=row.id, kind=_W, syndrome=item["syndrome"])
