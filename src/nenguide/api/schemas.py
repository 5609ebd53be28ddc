"""Request and response models of the HTTP API (the API's own shapes, not the tables')."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from nenguide.limits import AS_OF_MAX, AS_OF_MIN, DATETIME_RANGE, datetime_in_range
from nenguide.store.vocab import DEPARTURE_REASONS, EXPORT_FORMAT, ROLES, SPECIALTIES

#: A case document, validated by ``nenguide.errors.parse_case`` in the handler so errors carry
#: the same field paths and allowed values as the CLI's; documented as the engine's Case schema
#: (the placeholder becomes a $ref when the OpenAPI document is built, see ``app._openapi``).
CaseBody = Annotated[dict[str, Any], WithJsonSchema({"x-nenguide-ref": "Case"})]
#: The engine's Assessment JSON, stored as produced.
AssessmentBody = Annotated[dict[str, Any], WithJsonSchema({"x-nenguide-ref": "Assessment"})]

Role = Literal[ROLES]  # type: ignore[valid-type]
Sex = Literal["female", "male", "other", "unknown"]
Specialty = Literal[SPECIALTIES]  # type: ignore[valid-type]
DepartureReason = Literal[DEPARTURE_REASONS]  # type: ignore[valid-type]
Lang = Literal["en", "zh-CN"]
Version = Annotated[int, Field(ge=1, le=2_000_000_000, description="The version you edited")]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=20_000)]
PlanCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=80,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
        description="An option code of the assessment's treatment options (treatment[].code), "
        "e.g. EVEROLIMUS",
    ),
]


AsOf = Annotated[
    dt.date,
    Field(ge=AS_OF_MIN, le=AS_OF_MAX, description="Assessment date, 1900-01-01 to 2199-12-31"),
]

# Bounds of stored values, also applied to records read back by import.
Id = Annotated[str, Field(min_length=1, max_length=36)]
Num = Annotated[int, Field(ge=0, le=2_000_000_000)]
Who = Annotated[str, Field(max_length=64)]
Short = Annotated[str, Field(max_length=200)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ----------------------------------------------------------------------------- auth & users


#: A password as typed: never stripped (a space is part of it), checked by the one password
#: policy (:mod:`nenguide.api.passwords`) where a password is set, which answers weak_password.
Password = Annotated[
    str,
    StringConstraints(strip_whitespace=False, max_length=1000),
    Field(description="Kept exactly as typed (spaces included); see docs/security.md"),
]


class LoginIn(_In):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[Password, Field(min_length=1)]


class UserOut(_Out):
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    created_at: dt.datetime


class LoginOut(_Out):
    token: str = Field(description="Send as 'Authorization: Bearer <token>'")
    token_type: Literal["bearer"] = "bearer"
    expires_at: dt.datetime
    user: UserOut


Username = Annotated[
    str,
    Field(
        min_length=2,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9._-]*$",
        description="Lower-case letters, digits, '.', '_' and '-'",
    ),
]


class UserCreate(_In):
    username: Username
    role: Role
    password: Password
    display_name: Annotated[str, Field(max_length=200)] = ""


class UserUpdate(_In):
    role: Role | None = None
    active: bool | None = None
    display_name: Annotated[str, Field(max_length=200)] | None = None
    password: Password | None = None


# ----------------------------------------------------------------------------- patients


class PatientIn(_In):
    name: Text200
    mrn: (
        Annotated[str, Field(min_length=1, max_length=64, description="Medical record number")]
        | None
    ) = None
    birth_date: dt.date | None = None
    sex: Sex | None = None


class PatientUpdate(_In):
    version: Version
    name: Text200 | None = None
    mrn: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    birth_date: dt.date | None = None
    sex: Sex | None = None


class PatientOut(_Out):
    id: Id
    mrn: Who | None
    name: Short
    birth_date: dt.date | None
    sex: Sex | None
    version: Num
    created_at: dt.datetime
    created_by: Who
    updated_at: dt.datetime
    updated_by: Who


class Page(_Out):
    total: int
    limit: int
    offset: int


class PatientList(Page):
    items: list[PatientOut]


# ----------------------------------------------------------------------------- cases


class CaseCreate(_In):
    title: Text200 = Field(description="Short label, e.g. 'Pancreatic NET, liver metastases'")
    case: CaseBody
    comment: LongText | None = None


class CaseUpdate(_In):
    version: Version
    case: CaseBody | None = Field(default=None, description="The new case data (omit to keep)")
    title: Text200 | None = None
    status: Literal["open", "closed"] | None = None
    comment: LongText | None = Field(default=None, description="Why the case changed")


class CaseOut(_Out):
    id: Id
    patient_id: Id
    title: Short
    status: Literal["open", "closed"]
    version: int = Field(description="Current version: send it back when you edit the case")
    data: dict[str, Any] = Field(description="The case (see the Case schema)")
    comment: str | None
    created_at: dt.datetime
    created_by: Who
    updated_at: dt.datetime
    updated_by: Who


class CaseList(Page):
    items: list[CaseOut]


class CaseVersionOut(_Out):
    case_id: Id
    version: Num
    data: dict[str, Any]
    comment: str | None
    created_at: dt.datetime
    created_by: Who


class AssessStored(_In):
    version: Version | None = Field(default=None, description="Case version (default: current)")
    as_of: AsOf | None = Field(default=None, description="Assessment date (default: today)")
    lang: Lang = "en"


class AssessmentRecord(_Out):
    id: Id
    case_id: Id
    case_version: Num
    guideline_id: Short
    guideline_version: Short
    guideline_content_hash: Short
    engine_version: Short
    as_of: dt.date
    language: Short
    result: dict[str, Any] = Field(description="The engine's Assessment JSON, as produced")
    created_at: dt.datetime
    created_by: Who


# ----------------------------------------------------------------------------- meetings


def _in_range(v: dt.datetime | None) -> dt.datetime | None:
    if v is not None and not datetime_in_range(v):
        raise PydanticCustomError(
            "datetime_range", "must be {allowed}", {"allowed": DATETIME_RANGE}
        )
    return v


#: a date-time with its zone that can be stored (in UTC, within the years of the as-of date)
StoredDatetime = Annotated[AwareDatetime, AfterValidator(_in_range)]
#: a date-time filter of a query, held to the same years
QueryDatetime = Annotated[dt.datetime, AfterValidator(_in_range)]


class MeetingIn(_In):
    title: Text200
    scheduled_at: StoredDatetime
    location: Annotated[str, Field(max_length=200)] | None = None
    notes: LongText | None = None


class MeetingUpdate(_In):
    version: Version
    title: Text200 | None = None
    scheduled_at: StoredDatetime | None = None
    location: Annotated[str, Field(max_length=200)] | None = None
    status: Literal["scheduled", "held", "cancelled"] | None = None
    notes: LongText | None = None


class AttendeeIn(_In):
    name: Text200
    specialty: Specialty
    username: Annotated[str, Field(max_length=64)] | None = None


class AttendeeOut(_Out):
    id: Id
    meeting_id: Id
    name: Short
    specialty: Short
    username: Who | None


class AgendaIn(_In):
    case_id: Annotated[str, Field(min_length=1, max_length=36)]
    assessment_id: Annotated[str, Field(min_length=1, max_length=36)] | None = None
    question: LongText | None = Field(default=None, description="What the MDT is asked")


class DecisionIn(_In):
    plan_codes: Annotated[list[PlanCode], Field(max_length=50)] = Field(
        default_factory=list, description="Chosen plan as recommendation codes"
    )
    plan_text: LongText | None = Field(default=None, description="Chosen plan in words")
    follows_guideline: bool
    departure_reason: DepartureReason | None = Field(
        default=None, description="Required when follows_guideline is false"
    )
    departure_comment: LongText | None = Field(
        default=None, description="Required when departure_reason is 'other'"
    )
    assessment_id: Annotated[str, Field(min_length=1, max_length=36)] | None = None


class DecisionOut(_Out):
    id: Id
    agenda_item_id: Id
    case_id: Id
    case_version: Num
    assessment_id: Id | None
    plan_codes: list[str]
    plan_text: str | None
    follows_guideline: bool
    departure_reason: Short | None
    departure_comment: str | None
    supersedes_id: Id | None
    decided_at: dt.datetime
    recorded_by: Who


class AgendaItemOut(_Out):
    id: Id
    meeting_id: Id
    case_id: Id
    position: Num
    case_version: Num
    assessment_id: Id | None
    question: str | None
    decision: DecisionOut | None = Field(description="The current decision (latest recorded)")
    decision_history: list[DecisionOut]
    created_at: dt.datetime
    created_by: Who


class MeetingSummary(_Out):
    id: Id
    title: Short
    scheduled_at: dt.datetime
    location: Short | None
    status: Literal["scheduled", "held", "cancelled"]
    notes: str | None
    version: Num
    created_at: dt.datetime
    created_by: Who
    updated_at: dt.datetime
    updated_by: Who


class MeetingOut(MeetingSummary):
    attendees: list[AttendeeOut]
    agenda: list[AgendaItemOut]


class MeetingList(Page):
    items: list[MeetingSummary]


# ----------------------------------------------------------------------------- follow-up


class TaskIn(_In):
    due: dt.date
    exams: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=50)
    ]
    description: LongText | None = None
    assessment_id: Annotated[str, Field(min_length=1, max_length=36)] | None = None


class TaskComplete(_In):
    version: Version
    result: Annotated[str, Field(min_length=1, max_length=20_000)] = Field(
        description="What was found, e.g. 'CT: stable disease'"
    )
    completed_on: dt.date | None = Field(default=None, description="Default: today")
    status: Literal["done", "cancelled"] = "done"


class TaskOut(_Out):
    id: Id
    patient_id: Id
    case_id: Id
    assessment_id: Id | None
    source: Literal["schedule", "manual"]
    due: dt.date
    exams: list[str]
    description: str | None
    status: Literal["open", "done", "cancelled"]
    overdue: bool
    completed_on: dt.date | None
    result: str | None
    completed_by: Who | None
    version: Num
    created_at: dt.datetime
    created_by: Who


class TaskList(Page):
    as_of: dt.date
    items: list[TaskOut]


class GeneratedTasks(_Out):
    created: bool = Field(description="False when the tasks had been generated before")
    items: list[TaskOut]


# ----------------------------------------------------------------------------- audit


class AuditOut(_Out):
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


class AuditList(_Out):
    items: list[AuditOut]
    next_after_id: int | None = Field(description="Pass as after_id for the next page")


# ----------------------------------------------------------------------------- export


class CaseRecord(_Out):
    id: Id
    title: Short
    status: Literal["open", "closed"]
    version: Num
    created_at: dt.datetime
    created_by: Who
    updated_at: dt.datetime
    updated_by: Who
    versions: list[CaseVersionOut]
    assessments: list[AssessmentRecord]


class PatientRecord(_Out):
    """A patient's full record: what export writes and import reads."""

    format: Literal[EXPORT_FORMAT]  # type: ignore[valid-type]
    format_version: Literal[1]
    exported_at: dt.datetime
    patient: PatientOut
    cases: list[CaseRecord]
    follow_up_tasks: list[TaskOut]
    meetings: list[MeetingOut]


class Health(_Out):
    status: Literal["ok"]
    version: str
    database: str
    schema_revision: str | None
