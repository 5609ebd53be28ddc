"""MDT meetings (schedule, attendees, agenda, decisions) and follow-up tasks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from nenguide import store
from nenguide.api.auth import FOLLOWUP_WRITE, MEETING_WRITE, READ, Principal, Require
from nenguide.api.routes import DB, ERRORS, out
from nenguide.api.schemas import (
    AgendaIn,
    AgendaItemOut,
    AttendeeIn,
    AttendeeOut,
    DecisionIn,
    DecisionOut,
    GeneratedTasks,
    MeetingIn,
    MeetingList,
    MeetingOut,
    MeetingUpdate,
    QueryDatetime,
    TaskComplete,
    TaskIn,
    TaskList,
    TaskOut,
)

router = APIRouter(prefix="/api/v1", responses=ERRORS)

Reader = Annotated[Principal, Depends(Require(READ, "read MDT meetings and follow-up"))]
MeetingWriter = Annotated[
    Principal, Depends(Require(MEETING_WRITE, "schedule meetings or record decisions"))
]
FollowUpWriter = Annotated[Principal, Depends(Require(FOLLOWUP_WRITE, "manage follow-up tasks"))]


# ----------------------------------------------------------------------------- meetings


@router.post("/meetings", response_model=MeetingOut, status_code=201, tags=["meetings"])
def create_meeting(body: MeetingIn, principal: MeetingWriter, db: DB) -> MeetingOut:
    with db.write() as s:
        doc = store.meetings.create_meeting(s, principal.actor(), **body.model_dump())
    return MeetingOut.model_validate(doc)


@router.get("/meetings", response_model=MeetingList, tags=["meetings"])
def list_meetings(
    _: Reader,
    db: DB,
    start: Annotated[
        QueryDatetime | None, Query(alias="from", description="From (inclusive)")
    ] = None,
    end: Annotated[QueryDatetime | None, Query(alias="to", description="Until (exclusive)")] = None,
    status: Annotated[str | None, Query(pattern="^(scheduled|held|cancelled)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    with db.read() as s:
        items, total = store.meetings.list_meetings(
            s, start=_aware(start), end=_aware(end), status=status, limit=limit, offset=offset
        )
    return out(
        MeetingList.model_validate(
            {"items": items, "total": total, "limit": limit, "offset": offset}
        )
    )


def _aware(v: dt.datetime | None) -> dt.datetime | None:
    if v is not None and v.tzinfo is None:
        return v.replace(tzinfo=dt.UTC)
    return v


@router.get("/meetings/{meeting_id}", response_model=MeetingOut, tags=["meetings"])
def get_meeting(meeting_id: str, _: Reader, db: DB) -> Response:
    """The meeting with its attendees, agenda and the decision recorded for each case."""
    with db.read() as s:
        return out(MeetingOut.model_validate(store.meetings.get_meeting(s, meeting_id)))


@router.patch("/meetings/{meeting_id}", response_model=MeetingOut, tags=["meetings"])
def update_meeting(
    meeting_id: str, body: MeetingUpdate, principal: MeetingWriter, db: DB
) -> MeetingOut:
    """Reschedule, rename, mark held or cancelled. Send the version you edited."""
    changes = body.model_dump(include=body.model_fields_set - {"version"})
    with db.write() as s:
        doc = store.meetings.update_meeting(
            s, principal.actor(), meeting_id, version=body.version, changes=changes
        )
    return MeetingOut.model_validate(doc)


@router.post(
    "/meetings/{meeting_id}/attendees",
    response_model=AttendeeOut,
    status_code=201,
    tags=["meetings"],
)
def add_attendee(
    meeting_id: str, body: AttendeeIn, principal: MeetingWriter, db: DB
) -> AttendeeOut:
    with db.write() as s:
        doc = store.meetings.add_attendee(s, principal.actor(), meeting_id, **body.model_dump())
    return AttendeeOut.model_validate(doc)


@router.delete("/meetings/{meeting_id}/attendees/{attendee_id}", status_code=204, tags=["meetings"])
def remove_attendee(
    meeting_id: str, attendee_id: str, principal: MeetingWriter, db: DB
) -> Response:
    with db.write() as s:
        store.meetings.remove_attendee(s, principal.actor(), meeting_id, attendee_id)
    return Response(status_code=204)


@router.post(
    "/meetings/{meeting_id}/agenda",
    response_model=AgendaItemOut,
    status_code=201,
    tags=["meetings"],
)
def add_agenda_item(
    meeting_id: str, body: AgendaIn, principal: MeetingWriter, db: DB
) -> AgendaItemOut:
    """Put a case on the agenda (the case's current version is the one discussed)."""
    with db.write() as s:
        doc = store.meetings.add_agenda_item(s, principal.actor(), meeting_id, **body.model_dump())
    return AgendaItemOut.model_validate(doc)


@router.delete("/meetings/{meeting_id}/agenda/{item_id}", status_code=204, tags=["meetings"])
def remove_agenda_item(meeting_id: str, item_id: str, principal: MeetingWriter, db: DB) -> Response:
    """Take a case off the agenda (refused once a decision is recorded for it)."""
    with db.write() as s:
        store.meetings.remove_agenda_item(s, principal.actor(), meeting_id, item_id)
    return Response(status_code=204)


@router.post(
    "/meetings/{meeting_id}/agenda/{item_id}/decision",
    response_model=DecisionOut,
    status_code=201,
    tags=["meetings"],
)
def record_decision(
    meeting_id: str, item_id: str, body: DecisionIn, principal: MeetingWriter, db: DB
) -> DecisionOut:
    """Record the MDT's decision for a case on the agenda. Recording again revises it: the new
    decision supersedes the old one, which stays in the history."""
    with db.write() as s:
        doc = store.meetings.record_decision(
            s, principal.actor(), meeting_id, item_id, **body.model_dump()
        )
    return DecisionOut.model_validate(doc)


# ----------------------------------------------------------------------------- follow-up


@router.post(
    "/cases/{case_id}/follow-up-tasks", response_model=TaskOut, status_code=201, tags=["follow-up"]
)
def create_task(case_id: str, body: TaskIn, principal: FollowUpWriter, db: DB) -> TaskOut:
    """Add a follow-up task by hand (e.g. a CT in 6 months decided at the MDT)."""
    with db.write() as s:
        doc = store.followup.create_task(s, principal.actor(), case_id=case_id, **body.model_dump())
    return TaskOut.model_validate(doc)


@router.post(
    "/assessments/{assessment_id}/follow-up-tasks",
    response_model=GeneratedTasks,
    tags=["follow-up"],
)
def generate_tasks(assessment_id: str, principal: FollowUpWriter, db: DB) -> GeneratedTasks:
    """Create the tasks of the assessment's follow-up schedule (``follow_up.visits``).
    Idempotent: calling it again returns the tasks made the first time."""
    with db.write() as s:
        items, created = store.followup.generate_tasks(s, principal.actor(), assessment_id)
    return GeneratedTasks.model_validate({"created": created, "items": items})


@router.get("/follow-up-tasks", response_model=TaskList, tags=["follow-up"])
def list_tasks(
    _: Reader,
    db: DB,
    status: Annotated[str | None, Query(pattern="^(open|done|cancelled)$")] = None,
    overdue: Annotated[
        bool | None, Query(description="Only open tasks past their due date")
    ] = None,
    due_before: Annotated[dt.date | None, Query(description="Due on or before")] = None,
    patient_id: Annotated[str | None, Query(max_length=36)] = None,
    case_id: Annotated[str | None, Query(max_length=36)] = None,
    as_of: Annotated[
        dt.date | None, Query(description="'Today' for overdue (default: today)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Due and overdue follow-up, e.g. ``?status=open&due_before=2025-06-30``, ``?overdue=true``."""
    day = as_of or dt.date.today()
    with db.read() as s:
        items, total = store.followup.list_tasks(
            s,
            as_of=day,
            status=status,
            due_before=due_before,
            overdue=overdue,
            patient_id=patient_id,
            case_id=case_id,
            limit=limit,
            offset=offset,
        )
    return out(
        TaskList.model_validate(
            {"items": items, "total": total, "limit": limit, "offset": offset, "as_of": day}
        )
    )


@router.get("/follow-up-tasks/{task_id}", response_model=TaskOut, tags=["follow-up"])
def get_task(task_id: str, _: Reader, db: DB) -> Response:
    with db.read() as s:
        return out(TaskOut.model_validate(store.followup.get_task(s, task_id)))


@router.post("/follow-up-tasks/{task_id}/complete", response_model=TaskOut, tags=["follow-up"])
def complete_task(task_id: str, body: TaskComplete, principal: FollowUpWriter, db: DB) -> TaskOut:
    """Mark a task done (or cancelled) with its result. Send the version you saw."""
    with db.write() as s:
        doc = store.followup.complete_task(
            s,
            principal.actor(),
            task_id,
            version=body.version,
            completed_on=body.completed_on or dt.date.today(),
            result=body.result,
            status=body.status,
        )
    return TaskOut.model_validate(doc)
