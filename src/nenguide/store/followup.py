"""Follow-up tasks: by hand or generated from an assessment's schedule; due and overdue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from nenguide.store import models as m
from nenguide.store.audit import audit
from nenguide.store.cases import _case
from nenguide.store.common import Actor, field, flush_unique, new_id, now
from nenguide.store.errors import Conflict, Invalid, NotFound, VersionConflict
from nenguide.store.records import TaskDoc, as_doc


def task_doc(t: m.FollowUpTask, as_of: dt.date | None = None) -> dict[str, Any]:
    """The task; ``overdue`` when open and due before ``as_of`` (default: today)."""
    as_of = as_of or dt.date.today()
    return as_doc(TaskDoc, t, overdue=t.status == "open" and t.due < as_of)


def create_task(
    s: Session,
    actor: Actor,
    *,
    case_id: str,
    due: dt.date,
    exams: list[str],
    description: str | None = None,
    assessment_id: str | None = None,
    source: str = "manual",
    id: str | None = None,
) -> dict[str, Any]:
    c = _case(s, case_id)
    if assessment_id is not None:
        a = s.get(m.Assessment, assessment_id)
        if a is None or a.case_id != case_id:
            raise Invalid(
                "the assessment does not belong to this case",
                [field("assessment_id", "not an assessment of this case", assessment_id)],
            )
    t = m.FollowUpTask(
        id=id or new_id(),
        patient_id=c.patient_id,
        case_id=case_id,
        assessment_id=assessment_id,
        source=source,
        due=due,
        exams=list(exams),
        description=description,
        status="open",
        version=1,
        created_at=now(),
        created_by=actor.username,
    )
    s.add(t)
    flush_unique(s, "follow-up task")
    doc = task_doc(t)
    audit(s, actor, "followup.create", "followup_task", t.id, patient_id=c.patient_id, after=doc)
    return doc


def schedule_visits(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The follow-up visits an assessment proposes (``follow_up.visits``), or [] when the
    engine that produced it had no follow-up schedule yet."""
    fu = result.get("follow_up") or {}
    visits = fu.get("visits") if isinstance(fu, dict) else None
    return [v for v in visits or [] if isinstance(v, dict)]


def generate_tasks(
    s: Session, actor: Actor, assessment_id: str
) -> tuple[list[dict[str, Any]], bool]:
    """Create one task per visit in the assessment's follow-up schedule. Idempotent: when tasks
    were already generated from this assessment, those are returned and nothing is created.
    Returns (tasks, created)."""
    a = s.get(m.Assessment, assessment_id)
    if a is None:
        raise NotFound("assessment", assessment_id)
    existing = s.scalars(
        select(m.FollowUpTask)
        .where(m.FollowUpTask.assessment_id == assessment_id, m.FollowUpTask.source == "schedule")
        .order_by(m.FollowUpTask.due, m.FollowUpTask.id)
    ).all()
    if existing:
        return [task_doc(t) for t in existing], False
    visits = schedule_visits(a.result)
    if not visits:
        raise Invalid(
            "this assessment has no follow-up schedule (the engine that produced it did not "
            "propose one); create follow-up tasks explicitly with POST "
            "/api/v1/cases/{case_id}/follow-up-tasks",
        )
    out = []
    for n, v in enumerate(visits):
        try:
            due = dt.date.fromisoformat(str(v.get("due")))
        except ValueError:
            raise Invalid(
                "the assessment's follow-up schedule has a visit without a valid date",
                [
                    field(
                        f"result.follow_up.visits.{n}.due",
                        "not a date",
                        v.get("due"),
                        "a date such as 2025-01-31",
                    )
                ],
            ) from None
        exams = [str(x) for x in v.get("exams") or []]
        out.append(
            create_task(
                s,
                actor,
                case_id=a.case_id,
                due=due,
                exams=exams,
                description=v.get("description") if isinstance(v.get("description"), str) else None,
                assessment_id=assessment_id,
                source="schedule",
            )
        )
    return out, True


def list_tasks(
    s: Session,
    *,
    as_of: dt.date,
    status: str | None = None,
    due_before: dt.date | None = None,
    overdue: bool | None = None,
    patient_id: str | None = None,
    case_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    where = []
    if status:
        where.append(m.FollowUpTask.status == status)
    if due_before is not None:
        where.append(m.FollowUpTask.due <= due_before)
    if overdue is True:
        where += [m.FollowUpTask.status == "open", m.FollowUpTask.due < as_of]
    elif overdue is False:
        where.append(or_(m.FollowUpTask.status != "open", m.FollowUpTask.due >= as_of))
    if patient_id:
        where.append(m.FollowUpTask.patient_id == patient_id)
    if case_id:
        where.append(m.FollowUpTask.case_id == case_id)
    total = s.scalar(select(func.count()).select_from(m.FollowUpTask).where(*where)) or 0
    rows = s.scalars(
        select(m.FollowUpTask)
        .where(*where)
        .order_by(m.FollowUpTask.due, m.FollowUpTask.id)
        .limit(limit)
        .offset(offset)
    )
    return [task_doc(t, as_of) for t in rows], total


def get_task(s: Session, task_id: str, as_of: dt.date | None = None) -> dict[str, Any]:
    t = s.get(m.FollowUpTask, task_id)
    if t is None:
        raise NotFound("follow-up task", task_id)
    return task_doc(t, as_of)


def complete_task(
    s: Session,
    actor: Actor,
    task_id: str,
    *,
    version: int,
    completed_on: dt.date,
    result: str,
    status: str = "done",
) -> dict[str, Any]:
    t = s.get(m.FollowUpTask, task_id)
    if t is None:
        raise NotFound("follow-up task", task_id)
    before = task_doc(t)
    if t.status != "open":
        raise Conflict(f"the task is already {t.status}", details={"current": before})
    res = s.execute(
        update(m.FollowUpTask)
        .where(m.FollowUpTask.id == task_id, m.FollowUpTask.version == version)
        .values(
            status=status,
            completed_on=completed_on,
            result=result,
            completed_by=actor.username,
            version=version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    s.expire_all()
    cur = s.get(m.FollowUpTask, task_id)
    assert cur is not None
    if res.rowcount == 0:  # type: ignore[attr-defined]
        raise VersionConflict(
            "follow-up task", task_id, sent=version, current=cur.version, record=task_doc(cur)
        )
    after = task_doc(cur)
    audit(
        s,
        actor,
        "followup.complete",
        "followup_task",
        task_id,
        patient_id=cur.patient_id,
        before=before,
        after=after,
    )
    return after
