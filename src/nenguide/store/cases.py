"""Cases and their immutable versions (a new version per edit, optimistic versioning)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from nenguide.store import models as m
from nenguide.store.audit import audit
from nenguide.store.common import Actor, flush_unique, new_id, now
from nenguide.store.errors import NotFound, VersionConflict
from nenguide.store.records import CaseDoc, CaseVersionDoc, as_doc


def case_doc(c: m.Case, v: m.CaseVersion) -> dict[str, Any]:
    """A case with the data and comment of version ``v``."""
    return as_doc(CaseDoc, c, version=c.current_version, data=v.data, comment=v.comment)


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
    flush_unique(s, "case")
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
    return as_doc(CaseDoc, dict(row))


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
    return [as_doc(CaseVersionDoc, v) for v in rows]


def get_version(s: Session, case_id: str, version: int) -> dict[str, Any]:
    return as_doc(CaseVersionDoc, _version(s, case_id, version))
