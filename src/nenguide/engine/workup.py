"""Work-up still needed: imaging, endoscopy, markers, biopsy, echocardiography.

One collect table (role ``items`` in ``pathway.yaml``) lists every investigation the situation
calls for, with the investigations that satisfy it (``done_if_any`` / ``done_if_all``). This
module only builds the facts the table reads, drops items already done (traced, never silently),
merges rows asking for the same item, and turns rows that depend on an unknown input into an
INSUFFICIENT_DATA issue naming the missing fields: an item is never asked for on an assumption.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nenguide.engine.context import CATEGORY_FIELDS, Context, fields_of, grade_fields
from nenguide.engine.pathway import KNOWN_MET_STATUSES
from nenguide.engine.tables import Row
from nenguide.model.assessment import (
    Classification,
    FunctionalSyndrome,
    LiverMetastasis,
    Stage,
    WorkupItem,
)
from nenguide.model.case import Case
from nenguide.model.frozen import FrozenList, frozen_dict

STEP = "workup"

#: Facts of this step that are not in context.FIELD_OF_FACT -> the case fields they come from.
FIELDS: dict[str, list[str]] = {
    "category": list(CATEGORY_FIELDS),
    "met_status": ["metastases.status"],
    "liver_mets": ["metastases.liver"],
    "carcinoid_syndrome": ["clinical.symptoms", "clinical.labs"],
    "insulinoma": ["clinical.symptoms", "clinical.labs"],
    "gastrinoma": ["clinical.symptoms", "clinical.labs", "clinical.history"],
    "rectal_low_risk_r0": ["clinical.resection", "tumour.extent", "tumour.size_cm", "metastases"],
}


#: The work-up table's view of the facts: each input and the fact it is read from (confirmed
#: syndromes only: a suspected syndrome gets its confirmatory tests from the syndrome step, not
#: imaging; a recorded ZES counts as a confirmed gastrinoma - both decided once by the fact
#: layer). A value reported as a range is shown as reported ("10–15 %"), never as one number
#: (``*_text``); the rectal fact is the R0-resected small low-risk rectal NET (issue 8 §3).
WORKUP_VIEW: dict[str, str] = {
    "primary_site": "primary_site",
    "category": "category",
    "classification_status": "classification_status",
    "grade": "grade",
    "ki67_percent": "ki67_percent",
    "mitoses_per_2mm2": "mitoses_per_2mm2",
    "ki67_reported": "ki67_reported",
    "mitoses_reported": "mitoses_reported",
    "size_cm": "size_cm",
    "ki67_percent_text": "ki67_percent_text",
    "size_cm_text": "size_cm_text",
    "met_status": "met_status",
    "liver_mets": "liver_mets",
    "carcinoid_syndrome": "confirmed_carcinoid_syndrome",
    "insulinoma": "confirmed_insulinoma",
    "gastrinoma": "confirmed_gastrinoma",
    "rectal_low_risk_r0": "rectal_low_risk_r0",
}
#: The inputs read only while the metastatic status is known (none or present); unknown else
WORKUP_KNOWN_MET_ONLY = ("met_status", "liver_mets")


def workup_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The work-up table's view of the facts (:data:`WORKUP_VIEW`)."""
    view = {name: facts.get(fact) for name, fact in WORKUP_VIEW.items()}
    view["primary_site"] = facts["primary_site"]
    if facts.get("met_status") not in KNOWN_MET_STATUSES:
        for name in WORKUP_KNOWN_MET_ONLY:
            view[name] = None
    return view


def _is_done(row: Row, done: Mapping[str, str]) -> list[str] | None:
    """The investigations that satisfy the row, or None when it is still needed."""
    any_of = row.then.get("done_if_any") or []
    all_of = row.then.get("done_if_all") or []
    hit = [d for d in any_of if d in done]
    if hit:
        return hit
    if all_of and all(d in done for d in all_of):
        return list(all_of)
    return None


def _fields(names: list[str], grade: tuple[str, ...]) -> list[str]:
    """The case fields behind the open inputs ``names``; ``grade``: those of an open grade
    (:func:`~nenguide.engine.context.grade_fields`)."""
    out: set[str] = set()
    for n in names:
        out.update(grade if n == "grade" else FIELDS.get(n) or fields_of([n]))
    return sorted(out)


def workup(
    ctx: Context,
    case: Case,
    facts: Mapping[str, Any],
    cls: Classification,
    stg: Stage,
    liver: LiverMetastasis,
    syndromes: list[FunctionalSyndrome],
) -> list[WorkupItem]:
    wf = workup_facts(facts)
    res = ctx.collect(STEP, ctx.table_id(STEP, "items"), wf)
    done: Mapping[str, str] = getattr(facts, "done", {})

    items: dict[str, WorkupItem] = {}
    satisfied: dict[str, list[str]] = {}
    params: dict[str, Any] | None = None  # the values the reasons show (once, when needed)
    for row in res.applies:
        code = row.then["item"]
        hit = _is_done(row, done)
        if hit is not None:
            satisfied.setdefault(code, []).extend(f"{row.id}: {h}" for h in hit)
            continue
        if params is None:
            params = _params(wf)
        reason = ctx.text(f"workup_reason.{row.then['reason']}", **params)
        item = items.get(code)
        if item is None:
            items[code] = WorkupItem(
                code=code,
                text=ctx.text(f"workup.{code}"),
                reason=reason,
                sources=list(row.sources),
                rule_id=row.id,
            )
        else:
            if reason not in item["reason"]:
                item["reason"] = f"{item['reason']} {reason}"
            item["sources"].extend(s for s in row.sources if s not in item["sources"])
    # an item asked for by one row stays asked for even when another row asking for the same
    # item was satisfied by a different investigation (e.g. MRI satisfies rectal EUS-or-MRI but
    # not pancreatic EUS)
    if satisfied:
        ctx.note(
            STEP,
            sorted(c for c in satisfied if c not in items),
            {"done": sorted(done)},
            [
                f"already done, not asked again: {s}"
                for c in sorted(satisfied)
                for s in satisfied[c]
            ],
        )

    undecided: dict[str, set[str]] = {}
    for row, unknown in res.maybe:
        code = row.then["item"]
        if code in items or code in satisfied or _is_done(row, done) is not None:
            continue
        undecided.setdefault(code, set()).update(unknown)
    grade: tuple[str, ...] = ()  # the fields of an open grade, worked out once when named
    for code in sorted(undecided):
        missing = sorted(undecided[code])
        if not grade and "grade" in missing:
            grade = grade_fields(ctx, STEP, cls)
        fields = _fields(missing, grade)
        ctx.issue(
            "WORKUP_NEEDS_DATA",
            STEP,
            fields,
            item=ctx.text(f"workup.{code}"),
            item_code=code,
            missing=", ".join(fields),
        )
    # built frozen (the merging above changes an item until here)
    return FrozenList([_frozen(it) for it in items.values()])


def _frozen(it: WorkupItem) -> WorkupItem:
    return frozen_dict(
        WorkupItem(
            code=it["code"],
            text=it["text"],
            reason=it["reason"],
            sources=FrozenList(it["sources"]),
            rule_id=it["rule_id"],
        )
    )


def _params(wf: dict[str, Any]) -> dict[str, Any]:
    size, ki67, grade = wf.get("size_cm"), wf.get("ki67_percent"), wf.get("grade")
    return {
        "size_cm": f"{size:g}"
        if isinstance(size, int | float)
        else str(wf.get("size_cm_text") or "?").removesuffix(" cm"),
        "grade": grade if isinstance(grade, str) else "?",
        "ki67": f"{ki67:g}"
        if isinstance(ki67, int | float)
        else str(wf.get("ki67_percent_text") or "?").removesuffix(" %"),
    }
