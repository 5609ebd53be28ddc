"""The SMART launch's reads and writes of the MDT store (the rest of the pages use
:mod:`nenguide.web.data`): the EHR user's nenguide account and session, and the patient and case
made from the EHR's FHIR data.

An EHR user becomes one nenguide account per (EHR issuer, ``fhirUser``): its name is
``smart-`` and 20 hex digits of SHA-256(iss + "|" + fhirUser), its display name says who and
from where, its role is ``NENGUIDE_SMART_ROLE`` (never admin), and it has no usable password
(the stored hash is not an argon2 hash, so a password login always fails). An EHR that sends no
``id_token`` gives one shared account per issuer ("EHR user not identified").
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from nenguide.api.security import new_token, token_hash
from nenguide.interop.fhir import PatientInfo
from nenguide.store import Actor, Database
from nenguide.store import cases as cases_store
from nenguide.store import models as m
from nenguide.store import patients as patients_store
from nenguide.store import users as users_store

#: Not an argon2 hash: ``verify_password`` refuses it, so SMART accounts cannot log in.
NO_PASSWORD = "!smart-launch-account: no password login"
SYSTEM = "smart-launch"


class AccountDisabled(Exception):
    """An admin disabled the nenguide account of this EHR user."""


@dataclass(frozen=True)
class EhrSession:
    token: str
    user_id: int
    username: str
    role: str


def account_name(iss: str, fhir_user: str | None) -> str:
    digest = hashlib.sha256(f"{iss}|{fhir_user or ''}".encode()).hexdigest()
    return f"smart-{digest[:20]}"


def ehr_session(
    db: Database,
    *,
    iss: str,
    fhir_user: str | None,
    role: str,
    ttl: dt.timedelta,
    request_id: str | None,
) -> EhrSession:
    """A new session of the EHR user's account (created on first launch; its role set to the
    configured one)."""
    if role == "admin":  # settings refuse it too; never hand out admin from an EHR launch
        raise ValueError("a SMART-launched session is never admin")
    name = account_name(iss, fhir_user)
    display = f"{fhir_user or 'EHR user not identified'} via SMART launch from {iss}"[:200]
    system = Actor(SYSTEM, None, request_id)
    token = new_token()
    with db.write() as s:
        user = users_store.get_user(s, name)
        if user is None:
            users_store.create_user(
                s, system, username=name, role=role, password_hash=NO_PASSWORD, display_name=display
            )
        elif user.role != role:
            users_store.update_user(s, system, name, role=role)
        user = users_store.get_user(s, name)
        assert user is not None
        if not user.active:
            raise AccountDisabled(name)
        users_store.create_session(s, Actor(name, role, request_id), user, token_hash(token), ttl)
        return EhrSession(token, user.id, user.username, user.role)


@dataclass(frozen=True)
class Opened:
    patient_id: str | None
    case: dict[str, Any] | None
    new_version: bool


def case_title(iss: str, fhir_patient: str) -> str:
    return f"From the EHR (SMART): {iss} Patient/{fhir_patient}"[:200]


def _birth(info: PatientInfo) -> dt.date | None:
    try:
        return dt.date.fromisoformat(info.birth_date) if info.birth_date else None
    except ValueError:
        return None


def open_case(
    db: Database,
    actor: Actor,
    *,
    iss: str,
    fhir_patient: str,
    info: PatientInfo,
    case_data: dict[str, Any] | None,
    comment: str,
    write: bool,
) -> Opened:
    """The nenguide patient (matched by MRN = the first ``Patient.identifier``, else registered)
    and its case from this EHR patient (one case per EHR patient, titled by
    :func:`case_title`; a new version only when the EHR's data changed). ``write=False``
    (a role that may not write) only finds what exists."""
    title = case_title(iss, fhir_patient)
    mrn = (info.identifier or "")[:64] or None
    with db.write() as s:
        pid = None
        if mrn is not None:
            pid = s.scalar(select(m.Patient.id).where(m.Patient.mrn == mrn))
        if pid is None and write:
            sex = (case_data or {}).get("patient", {}).get("sex")
            created = patients_store.create_patient(
                s,
                actor,
                name=(info.name or f"EHR Patient/{fhir_patient}")[:200],
                mrn=mrn,
                birth_date=_birth(info),
                sex=sex if sex in ("female", "male") else None,
            )
            pid = created["id"]
        if pid is None:
            return Opened(None, None, False)
        if case_data is None:
            return Opened(str(pid), None, False)
        cases = cases_store.list_cases(s, patient_id=str(pid), limit=500, offset=0)[0]
        found = next((c for c in cases if c["title"] == title), None)
        if found is not None and found["data"] == case_data:
            return Opened(str(pid), found, False)
        if not write:
            return Opened(str(pid), found, False)
        if found is None:
            saved = cases_store.create_case(
                s, actor, patient_id=str(pid), title=title, data=case_data, comment=comment
            )
        else:
            saved = cases_store.update_case(
                s,
                actor,
                found["id"],
                base_version=found["version"],
                data=case_data,
                comment=comment,
                title=None,
            )
        return Opened(str(pid), saved, True)


def latest_case_by_mrn(db: Database, mrn: str | None) -> tuple[str, str] | None:
    """(case id, title) of the most recently changed case of the patient with this MRN, for
    the CDS Hooks card's link back to nenguide; None when there is none."""
    if not mrn:
        return None
    with db.read() as s:
        row = s.execute(
            select(m.Case.id, m.Case.title)
            .join(m.Patient, m.Patient.id == m.Case.patient_id)
            .where(m.Patient.mrn == mrn[:64])
            .order_by(m.Case.updated_at.desc(), m.Case.id)
            .limit(1)
        ).first()
    return None if row is None else (str(row[0]), str(row[1]))
