"""The store's records as they leave it: pydantic models read from the ORM rows
(``from_attributes``), dumped to JSON-ready documents. The API builds its responses from these
documents and the audit log keeps them as before/after snapshots."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict


class _Doc(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


D = TypeVar("D", bound=_Doc)


def as_doc(model: type[D], obj: Any, **extra: Any) -> dict[str, Any]:
    """``obj`` (an ORM row, or a mapping) read through ``model``, as a JSON-ready dict."""
    if extra or isinstance(obj, dict):
        data = (
            obj if isinstance(obj, dict) else {k: getattr(obj, k, None) for k in model.model_fields}
        )
        obj = {**data, **extra}
    return model.model_validate(obj).model_dump(mode="json")


def _attrs(obj: Any, model: type[_Doc]) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in model.model_fields if hasattr(obj, k)}


class UserDoc(_Doc):
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    created_at: dt.datetime


class PatientDoc(_Doc):
    id: str
    mrn: str | None
    name: str
    birth_date: dt.date | None
    sex: str | None
    version: int
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str


class CaseDoc(_Doc):
    """A case with its current version's data."""

    id: str
    patient_id: str
    title: str
    status: str
    version: int
    data: dict[str, Any]
    comment: str | None
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str


class CaseVersionDoc(_Doc):
    case_id: str
    version: int
    data: dict[str, Any]
    comment: str | None
    created_at: dt.datetime
    created_by: str


class AssessmentDoc(_Doc):
    id: str
    case_id: str
    case_version: int
    guideline_id: str
    guideline_version: str
    guideline_content_hash: str
    engine_version: str
    as_of: dt.date
    language: str
    result: dict[str, Any]
    created_at: dt.datetime
    created_by: str


class AttendeeDoc(_Doc):
    id: str
    meeting_id: str
    name: str
    specialty: str
    username: str | None


class DecisionDoc(_Doc):
    id: str
    agenda_item_id: str
    case_id: str
    case_version: int
    assessment_id: str | None
    plan_codes: list[str]
    plan_text: str | None
    follows_guideline: bool
    departure_reason: str | None
    departure_comment: str | None
    supersedes_id: str | None
    decided_at: dt.datetime
    recorded_by: str


class AgendaItemDoc(_Doc):
    id: str
    meeting_id: str
    case_id: str
    position: int
    case_version: int
    assessment_id: str | None
    question: str | None
    decision: DecisionDoc | None = None
    decision_history: list[DecisionDoc] = []
    created_at: dt.datetime
    created_by: str


class MeetingSummaryDoc(_Doc):
    id: str
    title: str
    scheduled_at: dt.datetime
    location: str | None
    status: str
    notes: str | None
    version: int
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str


class TaskDoc(_Doc):
    id: str
    patient_id: str
    case_id: str
    assessment_id: str | None
    source: str
    due: dt.date
    exams: list[str]
    description: str | None
    status: str
    overdue: bool
    completed_on: dt.date | None
    result: str | None
    completed_by: str | None
    version: int
    created_at: dt.datetime
    created_by: str


class AuditDoc(_Doc):
    id: int
    at: dt.datetime
    actor: str
    actor_role: str | None
    action: str
    entity_type: str
    entity_id: str
    patient_id: str | None
    before: Any
    after: Any
    request_id: str | None
