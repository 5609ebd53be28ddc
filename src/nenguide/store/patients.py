"""Patients: registration, search and demographics (optimistic versioning)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from nenguide.store import models as m
from nenguide.store.audit import audit
from nenguide.store.common import Actor, escape_like, field, flush_unique, new_id, now
from nenguide.store.errors import Conflict, Invalid, NotFound, VersionConflict
from nenguide.store.records import PatientDoc, as_doc


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
    flush_unique(s, "patient")
    doc = as_doc(PatientDoc, p)
    audit(s, actor, "patient.create", "patient", p.id, patient_id=p.id, after=doc)
    return doc


def get_patient(s: Session, patient_id: str) -> dict[str, Any]:
    p = s.get(m.Patient, patient_id)
    if p is None:
        raise NotFound("patient", patient_id)
    return as_doc(PatientDoc, p)


def list_patients(
    s: Session, *, q: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    where = []
    if q:
        pattern = f"%{escape_like(q)}%"
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
    return [as_doc(PatientDoc, p) for p in rows], total


def update_patient(
    s: Session, actor: Actor, patient_id: str, *, version: int, changes: dict[str, Any]
) -> dict[str, Any]:
    allowed = {"name", "mrn", "birth_date", "sex"}
    values = {k: v for k, v in changes.items() if k in allowed}
    if "name" in values and values["name"] is None:
        raise Invalid(
            "name cannot be removed",
            [field("name", "cannot be null", None, "text")],
        )
    if "mrn" in values and values["mrn"] is not None:
        other = s.scalar(
            select(m.Patient.id).where(m.Patient.mrn == values["mrn"], m.Patient.id != patient_id)
        )
        if other:
            raise Conflict("another patient already has this MRN", details={"field": "mrn"})
    before = s.get(m.Patient, patient_id)
    if before is None:
        raise NotFound("patient", patient_id)
    before_doc = as_doc(PatientDoc, before)
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
            "patient", patient_id, sent=version, current=cur.version, record=as_doc(PatientDoc, cur)
        )
    s.expire_all()
    p = s.get(m.Patient, patient_id)
    assert p is not None
    doc = as_doc(PatientDoc, p)
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
