"""The web pages' only door to the MDT store: every read and write the pages make.

Kept in one thin module so a change of the store's layout is fixed here alone. Each function
opens its own read or write transaction, like the JSON API's handlers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from nenguide.store import (
    Actor,
    Conflict,
    Database,
    Invalid,
    NotFound,
    StoreError,
    VersionConflict,
)
from nenguide.store import assessments as assessments_store
from nenguide.store import audit as audit_store
from nenguide.store import cases as cases_store
from nenguide.store import followup as followup_store
from nenguide.store import meetings as meetings_store
from nenguide.store import patients as patients_store
from nenguide.store import users as users_store
from nenguide.store import vocab as vocab_store

__all__ = [
    "Actor",
    "Conflict",
    "Database",
    "Invalid",
    "NotFound",
    "StoreError",
    "VersionConflict",
    "departure_reasons",
]


def departure_reasons() -> tuple[str, ...]:
    """The store's vocabulary of departure reasons (whatever it lists)."""
    return tuple(vocab_store.DEPARTURE_REASONS)


def session_user(db: Database, token_hash: str) -> tuple[int, str, str] | None:
    with db.read() as s:
        user = users_store.session_user(s, token_hash)
        return None if user is None else (user.id, user.username, user.role)


def audit(
    db: Database,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str,
    *,
    before: Any = None,
    after: Any = None,
) -> None:
    with db.write() as s:
        audit_store.audit(s, actor, action, entity_type, entity_id, before=before, after=after)


# ------------------------------------------------------------------ patients and cases


def list_patients(
    db: Database, q: str | None, limit: int = 100
) -> tuple[list[dict[str, Any]], int]:
    with db.read() as s:
        return patients_store.list_patients(s, q=q or None, limit=limit, offset=0)


def get_patient(db: Database, patient_id: str) -> dict[str, Any]:
    with db.read() as s:
        return patients_store.get_patient(s, patient_id)


def create_patient(db: Database, actor: Actor, **fields: Any) -> dict[str, Any]:
    with db.write() as s:
        return patients_store.create_patient(s, actor, **fields)


def list_cases(db: Database, patient_id: str) -> list[dict[str, Any]]:
    with db.read() as s:
        return cases_store.list_cases(s, patient_id=patient_id, limit=500, offset=0)[0]


def get_case(db: Database, case_id: str) -> dict[str, Any]:
    with db.read() as s:
        return cases_store.get_case(s, case_id)


def get_version(db: Database, case_id: str, version: int) -> dict[str, Any]:
    with db.read() as s:
        return cases_store.get_version(s, case_id, version)


def create_case(
    db: Database,
    actor: Actor,
    *,
    patient_id: str,
    title: str,
    data: dict[str, Any],
    comment: str | None,
) -> dict[str, Any]:
    with db.write() as s:
        return cases_store.create_case(
            s, actor, patient_id=patient_id, title=title, data=data, comment=comment
        )


def update_case(
    db: Database,
    actor: Actor,
    case_id: str,
    *,
    base_version: int,
    data: dict[str, Any],
    comment: str | None,
    title: str | None,
) -> dict[str, Any]:
    with db.write() as s:
        return cases_store.update_case(
            s, actor, case_id, base_version=base_version, data=data, comment=comment, title=title
        )


def list_assessments(db: Database, case_id: str) -> list[dict[str, Any]]:
    with db.read() as s:
        return assessments_store.list_assessments(s, case_id)


def get_assessment(db: Database, assessment_id: str) -> dict[str, Any]:
    with db.read() as s:
        return assessments_store.get_assessment(s, assessment_id)


def add_assessment(
    db: Database, actor: Actor, *, case_id: str, case_version: int, result: dict[str, Any]
) -> dict[str, Any]:
    with db.write() as s:
        return assessments_store.add_assessment(
            s, actor, case_id=case_id, case_version=case_version, result=result
        )


# ------------------------------------------------------------------ meetings


def list_meetings(db: Database) -> list[dict[str, Any]]:
    with db.read() as s:
        return meetings_store.list_meetings(s, limit=200, offset=0)[0]


def get_meeting(db: Database, meeting_id: str) -> dict[str, Any]:
    with db.read() as s:
        return meetings_store.get_meeting(s, meeting_id)


def create_meeting(
    db: Database, actor: Actor, *, title: str, scheduled_at: dt.datetime, location: str | None
) -> dict[str, Any]:
    with db.write() as s:
        return meetings_store.create_meeting(
            s, actor, title=title, scheduled_at=scheduled_at, location=location
        )


def add_agenda_item(
    db: Database,
    actor: Actor,
    meeting_id: str,
    *,
    case_id: str,
    assessment_id: str | None,
    question: str | None,
) -> dict[str, Any]:
    with db.write() as s:
        return meetings_store.add_agenda_item(
            s,
            actor,
            meeting_id,
            case_id=case_id,
            assessment_id=assessment_id,
            question=question,
        )


def add_attendee(
    db: Database, actor: Actor, meeting_id: str, *, name: str, specialty: str
) -> dict[str, Any]:
    with db.write() as s:
        return meetings_store.add_attendee(s, actor, meeting_id, name=name, specialty=specialty)


def remove_attendee(db: Database, actor: Actor, meeting_id: str, attendee_id: str) -> None:
    with db.write() as s:
        meetings_store.remove_attendee(s, actor, meeting_id, attendee_id)


def move_agenda_item(
    db: Database, actor: Actor, meeting_id: str, item_id: str, *, position: int
) -> dict[str, Any]:
    with db.write() as s:
        return meetings_store.move_agenda_item(s, actor, meeting_id, item_id, position=position)


def specialties() -> tuple[str, ...]:
    """The store's vocabulary of MDT specialties."""
    return tuple(vocab_store.SPECIALTIES)


def record_decision(
    db: Database,
    actor: Actor,
    meeting_id: str,
    item_id: str,
    *,
    plan_codes: list[str],
    plan_text: str | None,
    follows_guideline: bool,
    departure_reason: str | None,
    departure_comment: str | None,
    assessment_id: str | None,
) -> dict[str, Any]:
    with db.write() as s:
        return meetings_store.record_decision(
            s,
            actor,
            meeting_id,
            item_id,
            plan_codes=plan_codes,
            plan_text=plan_text,
            follows_guideline=follows_guideline,
            departure_reason=departure_reason,
            departure_comment=departure_comment,
            assessment_id=assessment_id,
        )


# ------------------------------------------------------------------ follow-up and audit


def list_tasks(
    db: Database, *, as_of: dt.date, status: str | None = None, patient_id: str | None = None
) -> list[dict[str, Any]]:
    with db.read() as s:
        return followup_store.list_tasks(
            s, as_of=as_of, status=status, patient_id=patient_id, limit=500
        )[0]


def get_task(db: Database, task_id: str, as_of: dt.date) -> dict[str, Any]:
    with db.read() as s:
        return followup_store.get_task(s, task_id, as_of)


def complete_task(
    db: Database,
    actor: Actor,
    task_id: str,
    *,
    version: int,
    completed_on: dt.date,
    result: str,
    status: str,
) -> dict[str, Any]:
    with db.write() as s:
        return followup_store.complete_task(
            s,
            actor,
            task_id,
            version=version,
            completed_on=completed_on,
            result=result,
            status=status,
        )


def generate_tasks(db: Database, actor: Actor, assessment_id: str) -> list[dict[str, Any]]:
    with db.write() as s:
        return followup_store.generate_tasks(s, actor, assessment_id)[0]


def list_audit(
    db: Database,
    *,
    entity_type: str | None,
    actor: str | None,
    patient_id: str | None,
    after_id: int | None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    with db.read() as s:
        return audit_store.list_audit(
            s,
            entity_type=entity_type,
            actor=actor,
            patient_id=patient_id,
            after_id=after_id,
            limit=limit,
        )
