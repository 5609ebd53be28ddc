"""Tables of the MDT case store (SQLAlchemy 2 declarative models).

These are storage shapes, not API shapes: the HTTP layer has its own pydantic models. Case data
and assessments are kept as the JSON documents the engine reads and writes, so a stored case can
always be re-validated and re-assessed with a newer engine, and an old assessment is never
re-interpreted. Times are stored in UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonDoc = JSON().with_variant(JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)


class AuthSession(Base):
    __tablename__ = "auth_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    mrn: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    sex: Mapped[str | None] = mapped_column(String(16), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    updated_by: Mapped[str] = mapped_column(String(64))


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    updated_by: Mapped[str] = mapped_column(String(64))


class CaseVersion(Base):
    """One immutable version of a case's clinical data (a validated Case document)."""

    __tablename__ = "case_versions"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(64))


class Assessment(Base):
    """An immutable engine result for one case version, with the versions that produced it."""

    __tablename__ = "assessments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["case_id", "case_version"], ["case_versions.case_id", "case_versions.version"]
        ),
        Index("ix_assessments_case", "case_id", "case_version"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    case_version: Mapped[int] = mapped_column(Integer)
    guideline_id: Mapped[str] = mapped_column(String(64))
    guideline_version: Mapped[str] = mapped_column(String(64))
    guideline_content_hash: Mapped[str] = mapped_column(String(128))
    engine_version: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[dt.date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(64))


class Meeting(Base):
    __tablename__ = "meetings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    scheduled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    location: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    updated_by: Mapped[str] = mapped_column(String(64))


class Attendee(Base):
    __tablename__ = "meeting_attendees"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    specialty: Mapped[str] = mapped_column(String(32))
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)


class AgendaItem(Base):
    __tablename__ = "agenda_items"
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    case_version: Mapped[int] = mapped_column(Integer)
    assessment_id: Mapped[str | None] = mapped_column(ForeignKey("assessments.id"), nullable=True)
    question: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(64))


class Decision(Base):
    """The MDT's decision for one agenda item. Immutable: a revision is a new row that
    supersedes the earlier one, so what was decided when is never lost."""

    __tablename__ = "decisions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agenda_item_id: Mapped[str] = mapped_column(ForeignKey("agenda_items.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    case_version: Mapped[int] = mapped_column(Integer)
    assessment_id: Mapped[str | None] = mapped_column(ForeignKey("assessments.id"), nullable=True)
    plan_codes: Mapped[list[str]] = mapped_column(JsonDoc)
    plan_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    follows_guideline: Mapped[bool] = mapped_column(Boolean)
    departure_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    departure_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    supersedes_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    recorded_by: Mapped[str] = mapped_column(String(64))


class FollowUpTask(Base):
    __tablename__ = "followup_tasks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    assessment_id: Mapped[str | None] = mapped_column(
        ForeignKey("assessments.id"), nullable=True, index=True
    )
    source: Mapped[str] = mapped_column(String(16))
    due: Mapped[dt.date] = mapped_column(Date, index=True)
    exams: Mapped[list[str]] = mapped_column(JsonDoc)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    completed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """Append-only: database triggers refuse UPDATE and DELETE (and, on SQLite, an INSERT that
    would REPLACE an entry); each entry is chained to the previous one by ``chain_hash``."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    actor_role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    before: Mapped[Any] = mapped_column(JsonDoc, nullable=True)
    after: Mapped[Any] = mapped_column(JsonDoc, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: SHA-256 over the previous entry's chain_hash and this entry (see store/chain.py).
    chain_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id"),)


class Instance(Base):
    """Facts about this database, e.g. ``mode = demo`` for a demo database."""

    __tablename__ = "instance"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class CdsFeedback(Base):
    """CDS Hooks 2.0 feedback from the EHR on one card (issue 11): accepted or overridden, with
    the override reason the user chose. Kept with the concordance data MDT decisions feed."""

    __tablename__ = "cds_feedback"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(100))
    card_uuid: Mapped[str] = mapped_column(String(36), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    override_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    override_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome_timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    issuer: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
