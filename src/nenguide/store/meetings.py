"""MDT meetings: schedule, attendees, agenda and the decisions recorded for each case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from nenguide.store import models as m
from nenguide.store.audit import audit
from nenguide.store.cases import _case
from nenguide.store.common import Actor, field, flush_unique, new_id, now
from nenguide.store.errors import Conflict, Invalid, NotFound, VersionConflict
from nenguide.store.records import (
    AgendaItemDoc,
    AttendeeDoc,
    DecisionDoc,
    MeetingSummaryDoc,
    as_doc,
)
from nenguide.store.vocab import DEPARTURE_REASONS


def agenda_doc(i: m.AgendaItem, decisions: Sequence[m.Decision] = ()) -> dict[str, Any]:
    """An agenda item with its decision history (the last one is the current decision)."""
    history = [as_doc(DecisionDoc, d) for d in decisions]
    return as_doc(
        AgendaItemDoc,
        i,
        decision=history[-1] if history else None,
        decision_history=history,
    )


def create_meeting(
    s: Session,
    actor: Actor,
    *,
    title: str,
    scheduled_at: dt.datetime,
    location: str | None = None,
    notes: str | None = None,
    id: str | None = None,
) -> dict[str, Any]:
    t = now()
    mt = m.Meeting(
        id=id or new_id(),
        title=title,
        scheduled_at=scheduled_at.astimezone(dt.UTC),
        location=location,
        status="scheduled",
        notes=notes,
        version=1,
        created_at=t,
        created_by=actor.username,
        updated_at=t,
        updated_by=actor.username,
    )
    s.add(mt)
    flush_unique(s, "meeting")
    doc = as_doc(MeetingSummaryDoc, mt)
    audit(s, actor, "meeting.create", "meeting", mt.id, after=doc)
    return get_meeting(s, mt.id)


def _meeting(s: Session, meeting_id: str) -> m.Meeting:
    mt = s.get(m.Meeting, meeting_id)
    if mt is None:
        raise NotFound("meeting", meeting_id)
    return mt


def get_meeting(s: Session, meeting_id: str) -> dict[str, Any]:
    mt = _meeting(s, meeting_id)
    attendees = s.scalars(
        select(m.Attendee)
        .where(m.Attendee.meeting_id == meeting_id)
        .order_by(m.Attendee.created_at, m.Attendee.id)
    ).all()
    items = s.scalars(
        select(m.AgendaItem)
        .where(m.AgendaItem.meeting_id == meeting_id)
        .order_by(m.AgendaItem.position)
    ).all()
    decisions = _decisions_by_item(s, [i.id for i in items])
    return {
        **as_doc(MeetingSummaryDoc, mt),
        "attendees": [as_doc(AttendeeDoc, a) for a in attendees],
        "agenda": [agenda_doc(i, decisions.get(i.id, [])) for i in items],
    }


def _decisions_by_item(s: Session, item_ids: list[str]) -> dict[str, list[m.Decision]]:
    out: dict[str, list[m.Decision]] = {}
    if not item_ids:
        return out
    rows = s.scalars(
        select(m.Decision)
        .where(m.Decision.agenda_item_id.in_(item_ids))
        .order_by(m.Decision.decided_at, m.Decision.id)
    )
    for d in rows:
        out.setdefault(d.agenda_item_id, []).append(d)
    return out


def list_meetings(
    s: Session,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    where = []
    if start is not None:
        where.append(m.Meeting.scheduled_at >= start)
    if end is not None:
        where.append(m.Meeting.scheduled_at < end)
    if status:
        where.append(m.Meeting.status == status)
    total = s.scalar(select(func.count()).select_from(m.Meeting).where(*where)) or 0
    rows = s.scalars(
        select(m.Meeting)
        .where(*where)
        .order_by(m.Meeting.scheduled_at, m.Meeting.id)
        .limit(limit)
        .offset(offset)
    )
    return [as_doc(MeetingSummaryDoc, mt) for mt in rows], total


def update_meeting(
    s: Session, actor: Actor, meeting_id: str, *, version: int, changes: dict[str, Any]
) -> dict[str, Any]:
    allowed = {"title", "scheduled_at", "location", "status", "notes"}
    values = {k: v for k, v in changes.items() if k in allowed}
    for key in ("title", "scheduled_at", "status"):
        if key in values and values[key] is None:
            raise Invalid(f"{key} cannot be removed", [field(key, "cannot be null")])
    if isinstance(values.get("scheduled_at"), dt.datetime):
        values["scheduled_at"] = values["scheduled_at"].astimezone(dt.UTC)
    before = as_doc(MeetingSummaryDoc, _meeting(s, meeting_id))
    res = s.execute(
        update(m.Meeting)
        .where(m.Meeting.id == meeting_id, m.Meeting.version == version)
        .values(**values, version=version + 1, updated_at=now(), updated_by=actor.username)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount == 0:  # type: ignore[attr-defined]
        s.expire_all()
        cur = _meeting(s, meeting_id)
        raise VersionConflict(
            "meeting",
            meeting_id,
            sent=version,
            current=cur.version,
            record=as_doc(MeetingSummaryDoc, cur),
        )
    s.expire_all()
    after = as_doc(MeetingSummaryDoc, _meeting(s, meeting_id))
    audit(s, actor, "meeting.update", "meeting", meeting_id, before=before, after=after)
    return get_meeting(s, meeting_id)


def add_attendee(
    s: Session,
    actor: Actor,
    meeting_id: str,
    *,
    name: str,
    specialty: str,
    username: str | None = None,
    id: str | None = None,
) -> dict[str, Any]:
    _meeting(s, meeting_id)
    a = m.Attendee(
        id=id or new_id(),
        meeting_id=meeting_id,
        name=name,
        specialty=specialty,
        username=username,
        created_at=now(),
    )
    s.add(a)
    flush_unique(s, "attendee")
    doc = as_doc(AttendeeDoc, a)
    audit(s, actor, "meeting.attendee.add", "meeting", meeting_id, after=doc)
    return doc


def remove_attendee(s: Session, actor: Actor, meeting_id: str, attendee_id: str) -> None:
    a = s.get(m.Attendee, attendee_id)
    if a is None or a.meeting_id != meeting_id:
        raise NotFound("attendee", attendee_id)
    before = as_doc(AttendeeDoc, a)
    s.delete(a)
    s.flush()
    audit(s, actor, "meeting.attendee.remove", "meeting", meeting_id, before=before)


def add_agenda_item(
    s: Session,
    actor: Actor,
    meeting_id: str,
    *,
    case_id: str,
    assessment_id: str | None = None,
    question: str | None = None,
    id: str | None = None,
    case_version: int | None = None,
) -> dict[str, Any]:
    mt = _meeting(s, meeting_id)
    if mt.status == "cancelled":
        raise Conflict("the meeting is cancelled; schedule a new one or re-open it first")
    c = _case(s, case_id)
    if assessment_id is not None:
        a = s.get(m.Assessment, assessment_id)
        if a is None or a.case_id != case_id:
            raise Invalid(
                "the assessment does not belong to this case",
                [field("assessment_id", "not an assessment of this case", assessment_id)],
            )
    if s.scalar(
        select(m.AgendaItem.id).where(
            m.AgendaItem.meeting_id == meeting_id, m.AgendaItem.case_id == case_id
        )
    ):
        raise Conflict("the case is already on this meeting's agenda")
    pos = (
        s.scalar(
            select(func.max(m.AgendaItem.position)).where(m.AgendaItem.meeting_id == meeting_id)
        )
        or 0
    ) + 1
    i = m.AgendaItem(
        id=id or new_id(),
        meeting_id=meeting_id,
        case_id=case_id,
        position=pos,
        case_version=case_version or c.current_version,
        assessment_id=assessment_id,
        question=question,
        created_at=now(),
        created_by=actor.username,
    )
    s.add(i)
    flush_unique(s, "agenda item")
    doc = agenda_doc(i)
    audit(s, actor, "meeting.agenda.add", "meeting", meeting_id, patient_id=c.patient_id, after=doc)
    return doc


def remove_agenda_item(s: Session, actor: Actor, meeting_id: str, item_id: str) -> None:
    i = s.get(m.AgendaItem, item_id)
    if i is None or i.meeting_id != meeting_id:
        raise NotFound("agenda item", item_id)
    if s.scalar(select(m.Decision.id).where(m.Decision.agenda_item_id == item_id).limit(1)):
        raise Conflict("a decision is recorded for this agenda item; it cannot be removed")
    c = _case(s, i.case_id)
    before = agenda_doc(i)
    s.delete(i)
    s.flush()
    audit(
        s,
        actor,
        "meeting.agenda.remove",
        "meeting",
        meeting_id,
        patient_id=c.patient_id,
        before=before,
    )


def move_agenda_item(
    s: Session, actor: Actor, meeting_id: str, item_id: str, *, position: int
) -> dict[str, Any]:
    """Move an agenda item to ``position`` (1 = first; clamped to the agenda) and number the
    agenda 1..n again. Returns the meeting with its new agenda order."""
    _meeting(s, meeting_id)
    items = list(
        s.scalars(
            select(m.AgendaItem)
            .where(m.AgendaItem.meeting_id == meeting_id)
            .order_by(m.AgendaItem.position, m.AgendaItem.created_at, m.AgendaItem.id)
        ).all()
    )
    moving = next((i for i in items if i.id == item_id), None)
    if moving is None:
        raise NotFound("agenda item", item_id)
    before = [i.id for i in items]
    items.remove(moving)
    items.insert(min(max(position, 1), len(items) + 1) - 1, moving)
    for n, i in enumerate(items, start=1):
        i.position = n
    s.flush()
    after = [i.id for i in items]
    if after != before:
        c = _case(s, moving.case_id)
        audit(
            s,
            actor,
            "meeting.agenda.move",
            "meeting",
            meeting_id,
            patient_id=c.patient_id,
            before={"order": before},
            after={"order": after},
        )
    return get_meeting(s, meeting_id)


def record_decision(
    s: Session,
    actor: Actor,
    meeting_id: str,
    item_id: str,
    *,
    plan_codes: list[str],
    plan_text: str | None,
    follows_guideline: bool,
    departure_reason: str | None,
    departure_comment: str | None,
    assessment_id: str | None = None,
    id: str | None = None,
    decided_at: dt.datetime | None = None,
) -> dict[str, Any]:
    problems = decision_problems(
        plan_codes, plan_text, follows_guideline, departure_reason, departure_comment
    )
    if problems:
        raise Invalid("the decision is incomplete", problems, code="invalid_decision")
    i = s.get(m.AgendaItem, item_id)
    if i is None or i.meeting_id != meeting_id:
        raise NotFound("agenda item", item_id)
    c = _case(s, i.case_id)
    assessment_id = assessment_id or i.assessment_id
    if assessment_id is not None:
        a = s.get(m.Assessment, assessment_id)
        if a is None or a.case_id != i.case_id:
            raise Invalid(
                "the assessment does not belong to the case on this agenda item",
                [field("assessment_id", "not an assessment of this case", assessment_id)],
            )
        _check_plan_codes(plan_codes, a.result)
    prev = s.scalars(
        select(m.Decision)
        .where(m.Decision.agenda_item_id == item_id)
        .order_by(m.Decision.decided_at.desc(), m.Decision.id.desc())
        .limit(1)
    ).first()
    d = m.Decision(
        id=id or new_id(),
        agenda_item_id=item_id,
        case_id=i.case_id,
        case_version=i.case_version,
        assessment_id=assessment_id,
        plan_codes=list(plan_codes),
        plan_text=plan_text,
        follows_guideline=follows_guideline,
        departure_reason=departure_reason,
        departure_comment=departure_comment,
        supersedes_id=prev.id if prev else None,
        decided_at=decided_at or now(),
        recorded_by=actor.username,
    )
    s.add(d)
    flush_unique(s, "decision")
    doc = as_doc(DecisionDoc, d)
    audit(
        s,
        actor,
        "meeting.decision.record",
        "decision",
        d.id,
        patient_id=c.patient_id,
        before=as_doc(DecisionDoc, prev) if prev else None,
        after=doc,
    )
    return doc


def decision_problems(
    plan_codes: list[str],
    plan_text: str | None,
    follows_guideline: bool,
    departure_reason: str | None,
    departure_comment: str | None,
) -> list[dict[str, Any]]:
    """What is missing or contradictory in an MDT decision ([] when it is complete)."""
    out: list[dict[str, Any]] = []
    if not plan_codes and not (plan_text and plan_text.strip()):
        out.append(
            field(
                "plan_codes", "record the chosen plan", [], "at least one plan code, or plan_text"
            )
        )
    if follows_guideline and departure_reason is not None:
        out.append(
            field(
                "departure_reason",
                "a departure reason is only recorded when follows_guideline is false",
                departure_reason,
                "null",
            )
        )
    if not follows_guideline and departure_reason is None:
        out.append(
            field(
                "departure_reason",
                "say why the plan departs from the guideline",
                None,
                ", ".join(DEPARTURE_REASONS),
            )
        )
    if departure_reason is not None and departure_reason not in DEPARTURE_REASONS:
        out.append(
            field(
                "departure_reason", "unknown reason", departure_reason, ", ".join(DEPARTURE_REASONS)
            )
        )
    if departure_reason == "other" and not (departure_comment or "").strip():
        out.append(
            field(
                "departure_comment", "explain the 'other' reason", departure_comment, "a short text"
            )
        )
    return out


def treatment_codes(result: dict[str, Any]) -> list[str]:
    """The recommendation codes of an assessment's treatment options ([] for an engine that
    proposed none)."""
    options = result.get("treatment") or []
    return [str(t["code"]) for t in options if isinstance(t, dict) and t.get("code")]


def _check_plan_codes(plan_codes: list[str], result: dict[str, Any]) -> None:
    allowed = treatment_codes(result)
    if not allowed:
        return
    bad = [
        field(
            f"plan_codes.{n}", "not a treatment option of the assessment", code, ", ".join(allowed)
        )
        for n, code in enumerate(plan_codes)
        if code not in allowed
    ]
    if bad:
        raise Invalid(
            "plan codes must be treatment options of the assessment discussed; describe any "
            "other plan in plan_text",
            bad,
        )
