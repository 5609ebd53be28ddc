"""Work-up still needed: imaging, endoscopy, markers, biopsy, echocardiography.

One collect table (role ``items`` in ``pathway.yaml``) lists every investigation the situation
calls for, with the investigations that satisfy it (``done_if_any`` / ``done_if_all``). This
module only builds the facts the table reads, drops items already done (traced, never silently),
merges rows asking for the same item, and turns rows that depend on an unknown input into an
INSUFFICIENT_DATA issue naming the missing fields: an item is never asked for on an assumption.
"""

from __future__ import annotations

from typing import Any

from nenguide.engine.context import Context, fields_of
from nenguide.engine.tables import Row
from nenguide.model.assessment import (
    Classification,
    FunctionalSyndrome,
    LiverMetastasis,
    Stage,
    WorkupItem,
)
from nenguide.model.case import Case
from nenguide.model.clinical import History

STEP = "workup"

#: Facts of this step that are not in context.FIELD_OF_FACT -> the case fields they come from.
FIELDS: dict[str, list[str]] = {
    "category": ["pathology.differentiation", "pathology.morphology"],
    "grade": ["pathology.ki67_percent", "pathology.mitoses_per_2mm2"],
    "met_status": ["metastases.status"],
    "liver_mets": ["metastases.liver"],
    "carcinoid_syndrome": ["clinical.symptoms", "clinical.labs"],
    "insulinoma": ["clinical.symptoms", "clinical.labs"],
    "gastrinoma": ["clinical.symptoms", "clinical.labs", "clinical.history"],
}

#: Lab analytes (analyte catalogue codes) that count as a "lab:<token>" investigation done.
LAB_TOKENS: dict[str, tuple[str, ...]] = {
    "chromogranin_a": ("chromogranin_a",),
    "nse": ("nse",),
    "calcium": ("calcium",),
    "pth": ("pth",),
    "gastric_ph": ("gastric_ph",),
}


def syndrome_flags(case: Case, syndromes: list[FunctionalSyndrome]) -> dict[str, bool]:
    """Confirmed functional syndromes as booleans.

    Only ``confirmed`` counts: a suspected syndrome gets its confirmatory tests from the
    syndromes step, not imaging. A Zollinger-Ellison syndrome in the history counts as a
    confirmed gastrinoma.
    """
    confirmed = {s["syndrome"] for s in syndromes if s["status"] == "confirmed"}
    return {
        "carcinoid_syndrome": "carcinoid_syndrome" in confirmed,
        "insulinoma": "insulinoma" in confirmed,
        "gastrinoma": "gastrinoma" in confirmed
        or case.clinical.history.get(History.zollinger_ellison_syndrome) is True,
    }


def done_tokens(case: Case) -> dict[str, str]:
    """What was already done: investigation kinds and ``lab:<token>`` -> a date or ''."""
    done: dict[str, str] = {}
    for inv in case.clinical.investigations:
        done.setdefault(inv.kind.value, inv.date.isoformat() if inv.date else "")
    for lab in case.clinical.labs:
        when = lab.date.isoformat() if lab.date else ""
        for token, analytes in LAB_TOKENS.items():
            if lab.analyte in analytes:
                done.setdefault(f"lab:{token}", when)
        # gastrin counts for gastric-type work-up only when drawn off PPI (PPIs raise it)
        if lab.analyte == "gastrin" and lab.context.on_ppi is False:
            done.setdefault("lab:gastrin_off_ppi", when)
    return done


def workup_facts(
    case: Case,
    facts: dict[str, Any],
    cls: Classification,
    syndromes: list[FunctionalSyndrome],
) -> dict[str, Any]:
    met = facts.get("met_status")
    return {
        "primary_site": facts["primary_site"],
        "category": cls.category,
        "classification_status": cls.status.value,
        "grade": cls.grade,
        "ki67_percent": facts.get("ki67_percent"),
        "size_cm": facts.get("size_cm"),
        "met_status": met if met in ("none", "present") else None,
        "liver_mets": facts.get("liver_mets") if met in ("none", "present") else None,
        **syndrome_flags(case, syndromes),
    }


def _is_done(row: Row, done: dict[str, str]) -> list[str] | None:
    """The investigations that satisfy the row, or None when it is still needed."""
    any_of = row.then.get("done_if_any") or []
    all_of = row.then.get("done_if_all") or []
    hit = [d for d in any_of if d in done]
    if hit:
        return hit
    if all_of and all(d in done for d in all_of):
        return list(all_of)
    return None


def _fields(names: list[str]) -> list[str]:
    out: set[str] = set()
    for n in names:
        out.update(FIELDS.get(n) or fields_of([n]))
    return sorted(out)


def workup(
    ctx: Context,
    case: Case,
    facts: dict[str, Any],
    cls: Classification,
    stg: Stage,
    liver: LiverMetastasis,
    syndromes: list[FunctionalSyndrome],
) -> list[WorkupItem]:
    wf = workup_facts(case, facts, cls, syndromes)
    res = ctx.collect(STEP, ctx.table_id(STEP, "items"), wf)
    done = done_tokens(case)

    items: dict[str, WorkupItem] = {}
    satisfied: dict[str, list[str]] = {}
    for row in res.applies:
        code = row.then["item"]
        hit = _is_done(row, done)
        if hit is not None:
            satisfied.setdefault(code, []).extend(f"{row.id}: {h}" for h in hit)
            continue
        reason = ctx.text(f"workup_reason.{row.then['reason']}", **_params(wf))
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
    for code in sorted(undecided):
        missing = sorted(undecided[code])
        ctx.issue(
            "WORKUP_NEEDS_DATA",
            STEP,
            _fields(missing),
            item=ctx.text(f"workup.{code}"),
            item_code=code,
            missing=", ".join(_fields(missing)),
        )
    return list(items.values())


def _params(wf: dict[str, Any]) -> dict[str, Any]:
    size = wf.get("size_cm")
    return {
        "size_cm": f"{size:g}" if isinstance(size, int | float) else "?",
        "grade": wf.get("grade") or "?",
        "ki67": f"{wf['ki67_percent']:g}" if wf.get("ki67_percent") is not None else "?",
    }
