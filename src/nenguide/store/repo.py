"""Repository functions: every read and write of the case store, each write audited.

All functions take an open :class:`~sqlalchemy.orm.Session` (from ``Database.read()`` or
``Database.write()``); writes also take the :class:`Actor` who makes them and add one audit entry
in the same transaction, so a write and its audit entry are committed together or not at all.

Records leave the store as plain JSON-ready documents (``*_doc`` functions); the API builds its
response models from them and the audit log keeps them as before/after snapshots.

Optimistic concurrency: every editable record carries a version number. An update names the
version it was based on and is applied by a conditional ``UPDATE ... WHERE version = :sent``;
if another writer got there first nothing is written and :class:`VersionConflict` reports the
current version and record.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nenguide.store import models as m
from nenguide.store.errors import Conflict, Invalid, NotFound, VersionConflict

ROLES = ("clinician", "coordinator", "admin", "auditor")
SPECIALTIES = (
    "pathology",
    "medical_oncology",
    "surgery",
    "radiology",
    "endocrinology",
    "nuclear_medicine",
    "gastroenterology",
    "radiation_oncology",
    "hepatology",
    "nursing",
    "genetics",
    "other",
)
DEPARTURE_REASONS = (
    "patient_preference",
    "comorbidity",
    "drug_not_available",
    "not_reimbursed",
    "trial_enrolment",
    "other",
)
EXPORT_FORMAT = "nenguide.patient-record"
EXPORT_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Actor:
    """Who is writing: recorded in the audit log and in created_by/updated_by columns."""

    username: str
    role: str | None = None
    request_id: str | None = None


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(v: dt.date | dt.datetime | None) -> str | None:
    return None if v is None else v.isoformat()


# --------------------------------------------------------------------------- documents


def user_doc(u: m.User) -> dict[str, Any]:
    return {
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role,
        "active": u.active,
        "created_at": _iso(u.created_at),
    }


def patient_doc(p: m.Patient) -> dict[str, Any]:
    return {
        "id": p.id,
        "mrn": p.mrn,
        "name": p.name,
        "birth_date": _iso(p.birth_date),
        "sex": p.sex,
        "version": p.version,
        "created_at": _iso(p.created_at),
        "created_by": p.created_by,
        "updated_at": _iso(p.updated_at),
        "updated_by": p.updated_by,
    }


def case_doc(c: m.Case, v: m.CaseVersion) -> dict[str, Any]:
    return {
        "id": c.id,
        "patient_id": c.patient_id,
        "title": c.title,
        "status": c.status,
        "version": c.current_version,
        "data": v.data,
        "comment": v.comment,
        "created_at": _iso(c.created_at),
        "created_by": c.created_by,
        "updated_at": _iso(c.updated_at),
        "updated_by": c.updated_by,
    }


def version_doc(v: m.CaseVersion) -> dict[str, Any]:
    return {
        "case_id": v.case_id,
        "version": v.version,
        "data": v.data,
        "comment": v.comment,
        "created_at": _iso(v.created_at),
        "created_by": v.created_by,
    }


def assessment_doc(a: m.Assessment) -> dict[str, Any]:
    return {
        "id": a.id,
        "case_id": a.case_id,
        "case_version": a.case_version,
        "guideline_id": a.guideline_id,
        "guideline_version": a.guideline_version,
        "guideline_content_hash": a.guideline_content_hash,
        "engine_version": a.engine_version,
        "as_of": _iso(a.as_of),
        "language": a.language,
        "result": a.result,
        "created_at": _iso(a.created_at),
        "created_by": a.created_by,
    }


def attendee_doc(a: m.Attendee) -> dict[str, Any]:
    return {
        "id": a.id,
        "meeting_id": a.meeting_id,
        "name": a.name,
        "specialty": a.specialty,
        "username": a.username,
    }


def decision_doc(d: m.Decision) -> dict[str, Any]:
    return {
        "id": d.id,
        "agenda_item_id": d.agenda_item_id,
        "case_id": d.case_id,
        "case_version": d.case_version,
        "assessment_id": d.assessment_id,
        "plan_codes": list(d.plan_codes),
        "plan_text": d.plan_text,
        "follows_guideline": d.follows_guideline,
        "departure_reason": d.departure_reason,
        "departure_comment": d.departure_comment,
        "supersedes_id": d.supersedes_id,
        "decided_at": _iso(d.decided_at),
        "recorded_by": d.recorded_by,
    }


def agenda_doc(i: m.AgendaItem, decisions: Sequence[m.Decision] = ()) -> dict[str, Any]:
    history = [decision_doc(d) for d in decisions]
    return {
        "id": i.id,
        "meeting_id": i.meeting_id,
        "case_id": i.case_id,
        "position": i.position,
        "case_version": i.case_version,
        "assessment_id": i.assessment_id,
        "question": i.question,
        "decision": history[-1] if history else None,
        "decision_history": history,
        "created_at": _iso(i.created_at),
        "created_by": i.created_by,
    }


def meeting_summary_doc(mt: m.Meeting) -> dict[str, Any]:
    return {
        "id": mt.id,
        "title": mt.title,
        "scheduled_at": _iso(mt.scheduled_at),
        "location": mt.location,
        "status": mt.status,
        "notes": mt.notes,
        "version": mt.version,
        "created_at": _iso(mt.created_at),
        "created_by": mt.created_by,
        "updated_at": _iso(mt.updated_at),
        "updated_by": mt.updated_by,
    }


def task_doc(t: m.FollowUpTask, as_of: dt.date | None = None) -> dict[str, Any]:
    as_of = as_of or dt.date.today()
    return {
        "id": t.id,
        "patient_id": t.patient_id,
        "case_id": t.case_id,
        "assessment_id": t.assessment_id,
        "source": t.source,
        "due": _iso(t.due),
        "exams": list(t.exams),
        "description": t.description,
        "status": t.status,
        "overdue": t.status == "open" and t.due < as_of,
        "completed_on": _iso(t.completed_on),
        "result": t.result,
        "completed_by": t.completed_by,
        "version": t.version,
        "created_at": _iso(t.created_at),
        "created_by": t.created_by,
    }


def audit_doc(e: m.AuditEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": _iso(e.at),
        "actor": e.actor,
        "actor_role": e.actor_role,
        "action": e.action,
        "entity_type": e.entity_type,
        "entity_id": e.entity_id,
        "patient_id": e.patient_id,
        "before": e.before,
        "after": e.after,
        "request_id": e.request_id,
    }


# --------------------------------------------------------------------------- audit


def audit(
    s: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str,
    *,
    patient_id: str | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    s.add(
        m.AuditEntry(
            at=now(),
            actor=actor.username,
            actor_role=actor.role,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            patient_id=patient_id,
            before=before,
            after=after,
            request_id=actor.request_id,
        )
    )


def list_audit(
    s: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    patient_id: str | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    q = select(m.AuditEntry).order_by(m.AuditEntry.id)
    if entity_type:
        q = q.where(m.AuditEntry.entity_type == entity_type)
    if entity_id:
        q = q.where(m.AuditEntry.entity_id == entity_id)
    if actor:
        q = q.where(m.AuditEntry.actor == actor)
    if patient_id:
        q = q.where(m.AuditEntry.patient_id == patient_id)
    if after_id is not None:
        q = q.where(m.AuditEntry.id > after_id)
    return [audit_doc(e) for e in s.scalars(q.limit(limit))]


# --------------------------------------------------------------------------- users & sessions


def create_user(
    s: Session,
    actor: Actor,
    *,
    username: str,
    role: str,
    password_hash: str,
    display_name: str = "",
) -> dict[str, Any]:
    if role not in ROLES:
        raise Invalid(
            f"unknown role {role!r}",
            [_field("role", f"unknown role {role!r}", role, ", ".join(ROLES))],
        )
    if s.scalar(select(m.User.id).where(m.User.username == username)) is not None:
        raise Conflict(f"a user named {username!r} already exists; choose another name")
    t = now()
    u = m.User(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        active=True,
        created_at=t,
        password_changed_at=t,
    )
    s.add(u)
    s.flush()
    doc = user_doc(u)
    audit(s, actor, "user.create", "user", username, after=doc)
    return doc


def get_user(s: Session, username: str) -> m.User | None:
    return s.scalar(select(m.User).where(m.User.username == username))


def list_users(s: Session) -> list[dict[str, Any]]:
    return [user_doc(u) for u in s.scalars(select(m.User).order_by(m.User.username))]


def update_user(
    s: Session,
    actor: Actor,
    username: str,
    *,
    role: str | None = None,
    active: bool | None = None,
    display_name: str | None = None,
    password_hash: str | None = None,
) -> dict[str, Any]:
    u = get_user(s, username)
    if u is None:
        raise NotFound("user", username)
    before = user_doc(u)
    if role is not None:
        if role not in ROLES:
            raise Invalid(
                f"unknown role {role!r}",
                [_field("role", f"unknown role {role!r}", role, ", ".join(ROLES))],
            )
        u.role = role
    if active is not None:
        u.active = active
    if display_name is not None:
        u.display_name = display_name
    if password_hash is not None:
        u.password_hash = password_hash
        u.password_changed_at = now()
    if active is False or password_hash is not None or role is not None:
        # Changing who someone is or how they log in ends their current sessions.
        s.execute(
            update(m.AuthSession)
            .where(m.AuthSession.user_id == u.id, m.AuthSession.revoked_at.is_(None))
            .values(revoked_at=now())
        )
    s.flush()
    after = user_doc(u)
    if password_hash is not None:
        after = {**after, "password": "changed"}
    audit(s, actor, "user.update", "user", username, before=before, after=after)
    return user_doc(u)


def create_session(
    s: Session, actor: Actor, user: m.User, token_hash: str, ttl: dt.timedelta
) -> dt.datetime:
    t = now()
    expires = t + ttl
    s.add(m.AuthSession(token_hash=token_hash, user_id=user.id, created_at=t, expires_at=expires))
    audit(s, actor, "auth.login", "user", user.username, after={"expires_at": _iso(expires)})
    return expires


def session_user(s: Session, token_hash: str) -> m.User | None:
    """The active user of an unexpired, unrevoked session, or None."""
    row = s.execute(
        select(m.User, m.AuthSession.expires_at)
        .join(m.AuthSession, m.AuthSession.user_id == m.User.id)
        .where(m.AuthSession.token_hash == token_hash, m.AuthSession.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    user, expires = row
    if expires <= now() or not user.active:
        return None
    return user


def revoke_session(s: Session, actor: Actor, token_hash: str) -> None:
    s.execute(
        update(m.AuthSession)
        .where(m.AuthSession.token_hash == token_hash, m.AuthSession.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    audit(s, actor, "auth.logout", "user", actor.username)


# --------------------------------------------------------------------------- patients


def _field(
    path: str, message: str, received: Any = None, allowed: str | None = None
) -> dict[str, Any]:
    return {"path": path, "message": message, "received": received, "allowed": allowed}


def create_patient(
    s: Session,
    actor: Actor,
    *,
    name: str,
    mrn: str | None = None,
    birth_date: dt.date | None = None,
    sex: str | None = None,
    id: str | None = None,
) -> dict[str, Any]:
    if mrn is not None and s.scalar(select(m.Patient.id).where(m.Patient.mrn == mrn)):
        raise Conflict(
            "a patient with this MRN is already registered; search for it instead of "
            "registering the patient twice",
            details={"field": "mrn"},
        )
    t = now()
    p = m.Patient(
        id=id or new_id(),
        mrn=mrn,
        name=name,
        birth_date=birth_date,
        sex=sex,
        version=1,
        created_at=t,
        created_by=actor.username,
        updated_at=t,
        updated_by=actor.username,
    )
    s.add(p)
    _flush_unique(s, "patient")
    doc = patient_doc(p)
    audit(s, actor, "patient.create", "patient", p.id, patient_id=p.id, after=doc)
    return doc


def _flush_unique(s: Session, what: str) -> None:
    try:
        s.flush()
    except IntegrityError:
        raise Conflict(
            f"the {what} clashes with an existing record (same id or MRN); nothing was written"
        ) from None


def get_patient(s: Session, patient_id: str) -> dict[str, Any]:
    p = s.get(m.Patient, patient_id)
    if p is None:
        raise NotFound("patient", patient_id)
    return patient_doc(p)


def list_patients(
    s: Session, *, q: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    where = []
    if q:
        pattern = f"%{_escape_like(q)}%"
        where.append(
            or_(
                m.Patient.name.ilike(pattern, escape="\\"),
                m.Patient.mrn.ilike(pattern, escape="\\"),
            )
        )
    total = s.scalar(select(func.count()).select_from(m.Patient).where(*where)) or 0
    rows = s.scalars(
        select(m.Patient)
        .where(*where)
        .order_by(m.Patient.name, m.Patient.id)
        .limit(limit)
        .offset(offset)
    )
    return [patient_doc(p) for p in rows], total


def _escape_like(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text)


def update_patient(
    s: Session, actor: Actor, patient_id: str, *, version: int, changes: dict[str, Any]
) -> dict[str, Any]:
    allowed = {"name", "mrn", "birth_date", "sex"}
    values = {k: v for k, v in changes.items() if k in allowed}
    if "mrn" in values and values["mrn"] is not None:
        other = s.scalar(
            select(m.Patient.id).where(m.Patient.mrn == values["mrn"], m.Patient.id != patient_id)
        )
        if other:
            raise Conflict("another patient already has this MRN", details={"field": "mrn"})
    before = s.get(m.Patient, patient_id)
    if before is None:
        raise NotFound("patient", patient_id)
    before_doc = patient_doc(before)
    res = s.execute(
        update(m.Patient)
        .where(m.Patient.id == patient_id, m.Patient.version == version)
        .values(**values, version=version + 1, updated_at=now(), updated_by=actor.username)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount == 0:  # type: ignore[attr-defined]
        s.expire_all()
        cur = s.get(m.Patient, patient_id)
        assert cur is not None
        raise VersionConflict(
            "patient", patient_id, sent=version, current=cur.version, record=patient_doc(cur)
        )
    s.expire_all()
    p = s.get(m.Patient, patient_id)
    assert p is not None
    doc = patient_doc(p)
    audit(
        s,
        actor,
        "patient.update",
        "patient",
        patient_id,
        patient_id=patient_id,
        before=before_doc,
        after=doc,
    )
    return doc


# --------------------------------------------------------------------------- cases


def create_case(
    s: Session,
    actor: Actor,
    *,
    patient_id: str,
    title: str,
    data: dict[str, Any],
    comment: str | None = None,
    id: str | None = None,
) -> dict[str, Any]:
    if s.get(m.Patient, patient_id) is None:
        raise NotFound("patient", patient_id)
    t = now()
    c = m.Case(
        id=id or new_id(),
        patient_id=patient_id,
        title=title,
        status="open",
        current_version=1,
        created_at=t,
        created_by=actor.username,
        updated_at=t,
        updated_by=actor.username,
    )
    v = m.CaseVersion(
        case_id=c.id, version=1, data=data, comment=comment, created_at=t, created_by=actor.username
    )
    s.add(c)
    _flush_unique(s, "case")
    s.add(v)
    s.flush()
    doc = case_doc(c, v)
    audit(s, actor, "case.create", "case", c.id, patient_id=patient_id, after=doc)
    return doc


def _case(s: Session, case_id: str) -> m.Case:
    c = s.get(m.Case, case_id)
    if c is None:
        raise NotFound("case", case_id)
    return c


def _version(s: Session, case_id: str, version: int) -> m.CaseVersion:
    v = s.get(m.CaseVersion, (case_id, version))
    if v is None:
        raise NotFound("case version", f"{case_id} v{version}")
    return v


# The hot read path: one prebuilt Core statement, rows straight to documents (no ORM objects).
_CASE_COLUMNS = (
    m.Case.id,
    m.Case.patient_id,
    m.Case.title,
    m.Case.status,
    m.Case.current_version.label("version"),
    m.CaseVersion.data,
    m.CaseVersion.comment,
    m.Case.created_at,
    m.Case.created_by,
    m.Case.updated_at,
    m.Case.updated_by,
)
_GET_CASE = (
    select(*_CASE_COLUMNS)
    .join(
        m.CaseVersion,
        (m.CaseVersion.case_id == m.Case.id) & (m.CaseVersion.version == m.Case.current_version),
    )
    .where(m.Case.id == bindparam("case_id"))
)


def get_case(s: Session, case_id: str) -> dict[str, Any]:
    row = s.execute(_GET_CASE, {"case_id": case_id}).mappings().first()
    if row is None:
        raise NotFound("case", case_id)
    doc = dict(row)
    for k in ("created_at", "updated_at"):
        doc[k] = _iso(doc[k])
    return doc


def list_cases(
    s: Session,
    *,
    patient_id: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    where = []
    if patient_id:
        where.append(m.Case.patient_id == patient_id)
    if status:
        where.append(m.Case.status == status)
    total = s.scalar(select(func.count()).select_from(m.Case).where(*where)) or 0
    rows = s.execute(
        select(m.Case, m.CaseVersion)
        .join(
            m.CaseVersion,
            (m.CaseVersion.case_id == m.Case.id)
            & (m.CaseVersion.version == m.Case.current_version),
        )
        .where(*where)
        .order_by(m.Case.created_at, m.Case.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [case_doc(c, v) for c, v in rows], total


def update_case(
    s: Session,
    actor: Actor,
    case_id: str,
    *,
    base_version: int,
    data: dict[str, Any] | None = None,
    comment: str | None = None,
    title: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """Store a new version of the case; ``base_version`` is the version the client edited."""
    new = base_version + 1
    values: dict[str, Any] = {
        "current_version": new,
        "updated_at": now(),
        "updated_by": actor.username,
    }
    if title is not None:
        values["title"] = title
    if status is not None:
        values["status"] = status
    # The conditional UPDATE is the claim: of two writers that both read version n, exactly one
    # moves the case to n+1; the other matches no row and gets a 409 with what is there now.
    res = s.execute(
        update(m.Case)
        .where(m.Case.id == case_id, m.Case.current_version == base_version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount == 0:  # type: ignore[attr-defined]
        s.expire_all()
        c = _case(s, case_id)
        cur = get_case(s, case_id)
        raise VersionConflict(
            "case", case_id, sent=base_version, current=c.current_version, record=cur
        )
    prev = _version(s, case_id, base_version)
    s.expire_all()
    c = _case(s, case_id)
    before = {**case_doc(c, prev), "version": base_version}
    v = m.CaseVersion(
        case_id=case_id,
        version=new,
        data=prev.data if data is None else data,
        comment=comment,
        created_at=now(),
        created_by=actor.username,
    )
    s.add(v)
    s.flush()
    doc = case_doc(c, v)
    if title is None and status is None:
        before = {"version": base_version, "data": prev.data}
        after: dict[str, Any] = {"version": new, "data": v.data, "comment": comment}
    else:
        after = doc
    audit(
        s,
        actor,
        "case.update",
        "case",
        case_id,
        patient_id=c.patient_id,
        before=before,
        after=after,
    )
    return doc


def list_versions(s: Session, case_id: str) -> list[dict[str, Any]]:
    _case(s, case_id)
    rows = s.scalars(
        select(m.CaseVersion)
        .where(m.CaseVersion.case_id == case_id)
        .order_by(m.CaseVersion.version)
    )
    return [version_doc(v) for v in rows]


def get_version(s: Session, case_id: str, version: int) -> dict[str, Any]:
    return version_doc(_version(s, case_id, version))


# --------------------------------------------------------------------------- assessments


def add_assessment(
    s: Session,
    actor: Actor,
    *,
    case_id: str,
    case_version: int,
    result: dict[str, Any],
    id: str | None = None,
    created_at: dt.datetime | None = None,
) -> dict[str, Any]:
    c = _case(s, case_id)
    _version(s, case_id, case_version)
    g = result.get("guideline", {})
    a = m.Assessment(
        id=id or new_id(),
        case_id=case_id,
        case_version=case_version,
        guideline_id=str(g.get("id", "")),
        guideline_version=str(g.get("version", "")),
        guideline_content_hash=str(g.get("content_hash", "")),
        engine_version=str(result.get("engine_version", "")),
        as_of=dt.date.fromisoformat(str(result["as_of"])),
        language=str(result.get("language", "en")),
        result=result,
        created_at=created_at or now(),
        created_by=actor.username,
    )
    s.add(a)
    _flush_unique(s, "assessment")
    doc = assessment_doc(a)
    summary = {k: v for k, v in doc.items() if k != "result"}
    audit(s, actor, "assessment.create", "assessment", a.id, patient_id=c.patient_id, after=summary)
    return doc


def get_assessment(s: Session, assessment_id: str) -> dict[str, Any]:
    a = s.get(m.Assessment, assessment_id)
    if a is None:
        raise NotFound("assessment", assessment_id)
    return assessment_doc(a)


def list_assessments(s: Session, case_id: str) -> list[dict[str, Any]]:
    _case(s, case_id)
    rows = s.scalars(
        select(m.Assessment)
        .where(m.Assessment.case_id == case_id)
        .order_by(m.Assessment.created_at, m.Assessment.id)
    )
    return [assessment_doc(a) for a in rows]


# --------------------------------------------------------------------------- meetings


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
    _flush_unique(s, "meeting")
    doc = meeting_summary_doc(mt)
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
        **meeting_summary_doc(mt),
        "attendees": [attendee_doc(a) for a in attendees],
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
    return [meeting_summary_doc(mt) for mt in rows], total


def update_meeting(
    s: Session, actor: Actor, meeting_id: str, *, version: int, changes: dict[str, Any]
) -> dict[str, Any]:
    allowed = {"title", "scheduled_at", "location", "status", "notes"}
    values = {k: v for k, v in changes.items() if k in allowed}
    if isinstance(values.get("scheduled_at"), dt.datetime):
        values["scheduled_at"] = values["scheduled_at"].astimezone(dt.UTC)
    before = meeting_summary_doc(_meeting(s, meeting_id))
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
            record=meeting_summary_doc(cur),
        )
    s.expire_all()
    after = meeting_summary_doc(_meeting(s, meeting_id))
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
    _flush_unique(s, "attendee")
    doc = attendee_doc(a)
    audit(s, actor, "meeting.attendee.add", "meeting", meeting_id, after=doc)
    return doc


def remove_attendee(s: Session, actor: Actor, meeting_id: str, attendee_id: str) -> None:
    a = s.get(m.Attendee, attendee_id)
    if a is None or a.meeting_id != meeting_id:
        raise NotFound("attendee", attendee_id)
    before = attendee_doc(a)
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
                [_field("assessment_id", "not an assessment of this case", assessment_id)],
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
    _flush_unique(s, "agenda item")
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
                [_field("assessment_id", "not an assessment of this case", assessment_id)],
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
    _flush_unique(s, "decision")
    doc = decision_doc(d)
    audit(
        s,
        actor,
        "meeting.decision.record",
        "decision",
        d.id,
        patient_id=c.patient_id,
        before=decision_doc(prev) if prev else None,
        after=doc,
    )
    return doc


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
        _field(
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


# --------------------------------------------------------------------------- follow-up


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
    _flush_unique(s, "follow-up task")
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
                    _field(
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


# --------------------------------------------------------------------------- export / import


def export_patient(s: Session, patient_id: str) -> dict[str, Any]:
    """The patient's full record as one JSON document (see ``import_patient``)."""
    patient = get_patient(s, patient_id)
    cases = s.scalars(
        select(m.Case).where(m.Case.patient_id == patient_id).order_by(m.Case.created_at, m.Case.id)
    ).all()
    case_ids = [c.id for c in cases]
    out_cases = []
    for c in cases:
        versions = list_versions(s, c.id)
        out_cases.append(
            {
                "id": c.id,
                "title": c.title,
                "status": c.status,
                "version": c.current_version,
                "created_at": _iso(c.created_at),
                "created_by": c.created_by,
                "updated_at": _iso(c.updated_at),
                "updated_by": c.updated_by,
                "versions": versions,
                "assessments": list_assessments(s, c.id),
            }
        )
    tasks = s.scalars(
        select(m.FollowUpTask)
        .where(m.FollowUpTask.patient_id == patient_id)
        .order_by(m.FollowUpTask.due, m.FollowUpTask.id)
    ).all()
    items = (
        s.scalars(
            select(m.AgendaItem)
            .where(m.AgendaItem.case_id.in_(case_ids))
            .order_by(m.AgendaItem.created_at)
        ).all()
        if case_ids
        else []
    )
    decisions = _decisions_by_item(s, [i.id for i in items])
    meetings: dict[str, dict[str, Any]] = {}
    for i in items:
        if i.meeting_id not in meetings:
            mt = _meeting(s, i.meeting_id)
            attendees = s.scalars(
                select(m.Attendee)
                .where(m.Attendee.meeting_id == mt.id)
                .order_by(m.Attendee.created_at, m.Attendee.id)
            )
            meetings[mt.id] = {
                **meeting_summary_doc(mt),
                "attendees": [attendee_doc(a) for a in attendees],
                "agenda": [],
            }
        meetings[i.meeting_id]["agenda"].append(agenda_doc(i, decisions.get(i.id, [])))
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": _iso(now()),
        "patient": patient,
        "cases": out_cases,
        "follow_up_tasks": [task_doc(t) for t in tasks],
        "meetings": list(meetings.values()),
    }


def _dt(v: Any) -> dt.datetime | None:
    return None if v is None else dt.datetime.fromisoformat(str(v))


def _d(v: Any) -> dt.date | None:
    return None if v is None else dt.date.fromisoformat(str(v))


def import_patient(s: Session, actor: Actor, doc: dict[str, Any]) -> dict[str, Any]:
    """Recreate a record exported by :func:`export_patient`, keeping its ids and history.

    Refused (409, nothing written) when the patient, a case or an MRN already exists here.
    Meetings are matched by id: an existing meeting gets the agenda items added, a missing
    one is created as exported (with its attendees). The import itself is one audit entry.
    """
    if doc.get("format") != EXPORT_FORMAT or doc.get("format_version") != EXPORT_FORMAT_VERSION:
        raise Invalid(
            f"not a patient record export: expected format {EXPORT_FORMAT!r} version "
            f"{EXPORT_FORMAT_VERSION}",
            [_field("format", "unsupported format", doc.get("format"), EXPORT_FORMAT)],
        )
    p = doc["patient"]
    if s.get(m.Patient, p["id"]) is not None:
        raise Conflict(
            "this patient already exists here; nothing was imported", details={"id": p["id"]}
        )
    if p.get("mrn") and s.scalar(select(m.Patient.id).where(m.Patient.mrn == p["mrn"])):
        raise Conflict(
            "another patient here has the same MRN; nothing was imported", details={"field": "mrn"}
        )
    s.add(
        m.Patient(
            id=p["id"],
            mrn=p.get("mrn"),
            name=p["name"],
            birth_date=_d(p.get("birth_date")),
            sex=p.get("sex"),
            version=p["version"],
            created_at=_dt(p["created_at"]),
            created_by=p["created_by"],
            updated_at=_dt(p["updated_at"]),
            updated_by=p["updated_by"],
        )
    )
    _flush_unique(s, "patient")
    for c in doc.get("cases", []):
        s.add(
            m.Case(
                id=c["id"],
                patient_id=p["id"],
                title=c["title"],
                status=c["status"],
                current_version=c["version"],
                created_at=_dt(c["created_at"]),
                created_by=c["created_by"],
                updated_at=_dt(c["updated_at"]),
                updated_by=c["updated_by"],
            )
        )
        _flush_unique(s, "case")
        for v in c["versions"]:
            s.add(
                m.CaseVersion(
                    case_id=c["id"],
                    version=v["version"],
                    data=v["data"],
                    comment=v.get("comment"),
                    created_at=_dt(v["created_at"]),
                    created_by=v["created_by"],
                )
            )
        s.flush()
        for a in c.get("assessments", []):
            s.add(
                m.Assessment(
                    id=a["id"],
                    case_id=c["id"],
                    case_version=a["case_version"],
                    guideline_id=a["guideline_id"],
                    guideline_version=a["guideline_version"],
                    guideline_content_hash=a["guideline_content_hash"],
                    engine_version=a["engine_version"],
                    as_of=_d(a["as_of"]),
                    language=a["language"],
                    result=a["result"],
                    created_at=_dt(a["created_at"]),
                    created_by=a["created_by"],
                )
            )
        _flush_unique(s, "assessment")
    for mt in doc.get("meetings", []):
        if s.get(m.Meeting, mt["id"]) is None:
            s.add(
                m.Meeting(
                    id=mt["id"],
                    title=mt["title"],
                    scheduled_at=_dt(mt["scheduled_at"]),
                    location=mt.get("location"),
                    status=mt["status"],
                    notes=mt.get("notes"),
                    version=mt["version"],
                    created_at=_dt(mt["created_at"]),
                    created_by=mt["created_by"],
                    updated_at=_dt(mt["updated_at"]),
                    updated_by=mt["updated_by"],
                )
            )
            s.flush()
            for a in mt.get("attendees", []):
                s.add(
                    m.Attendee(
                        id=a["id"],
                        meeting_id=mt["id"],
                        name=a["name"],
                        specialty=a["specialty"],
                        username=a.get("username"),
                        created_at=now(),
                    )
                )
        for i in mt.get("agenda", []):
            s.add(
                m.AgendaItem(
                    id=i["id"],
                    meeting_id=mt["id"],
                    case_id=i["case_id"],
                    position=i["position"],
                    case_version=i["case_version"],
                    assessment_id=i.get("assessment_id"),
                    question=i.get("question"),
                    created_at=_dt(i["created_at"]),
                    created_by=i["created_by"],
                )
            )
            _flush_unique(s, "agenda item")
            for d in i.get("decision_history", []):
                s.add(
                    m.Decision(
                        id=d["id"],
                        agenda_item_id=i["id"],
                        case_id=d["case_id"],
                        case_version=d["case_version"],
                        assessment_id=d.get("assessment_id"),
                        plan_codes=d["plan_codes"],
                        plan_text=d.get("plan_text"),
                        follows_guideline=d["follows_guideline"],
                        departure_reason=d.get("departure_reason"),
                        departure_comment=d.get("departure_comment"),
                        supersedes_id=d.get("supersedes_id"),
                        decided_at=_dt(d["decided_at"]),
                        recorded_by=d["recorded_by"],
                    )
                )
            _flush_unique(s, "decision")
    for t in doc.get("follow_up_tasks", []):
        s.add(
            m.FollowUpTask(
                id=t["id"],
                patient_id=p["id"],
                case_id=t["case_id"],
                assessment_id=t.get("assessment_id"),
                source=t["source"],
                due=_d(t["due"]),
                exams=t["exams"],
                description=t.get("description"),
                status=t["status"],
                completed_on=_d(t.get("completed_on")),
                result=t.get("result"),
                completed_by=t.get("completed_by"),
                version=t["version"],
                created_at=_dt(t["created_at"]),
                created_by=t["created_by"],
            )
        )
    _flush_unique(s, "follow-up task")
    summary = {
        "exported_at": doc.get("exported_at"),
        "cases": len(doc.get("cases", [])),
        "follow_up_tasks": len(doc.get("follow_up_tasks", [])),
        "meetings": len(doc.get("meetings", [])),
    }
    audit(
        s,
        actor,
        "patient.import",
        "patient",
        p["id"],
        patient_id=p["id"],
        after={"patient": get_patient(s, p["id"]), **summary},
    )
    return get_patient(s, p["id"])
