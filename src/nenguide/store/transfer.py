"""Export of a patient's full record as one JSON document, and its import elsewhere."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nenguide.store import models as m
from nenguide.store.assessments import list_assessments
from nenguide.store.audit import audit
from nenguide.store.cases import list_versions
from nenguide.store.common import Actor, field, flush_unique, iso, now
from nenguide.store.errors import Conflict, Invalid
from nenguide.store.followup import task_doc
from nenguide.store.meetings import _decisions_by_item, _meeting, agenda_doc
from nenguide.store.patients import get_patient
from nenguide.store.records import AttendeeDoc, MeetingSummaryDoc, as_doc
from nenguide.store.vocab import EXPORT_FORMAT, EXPORT_FORMAT_VERSION


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
                "created_at": iso(c.created_at),
                "created_by": c.created_by,
                "updated_at": iso(c.updated_at),
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
                **as_doc(MeetingSummaryDoc, mt),
                "attendees": [as_doc(AttendeeDoc, a) for a in attendees],
                "agenda": [],
            }
        meetings[i.meeting_id]["agenda"].append(agenda_doc(i, decisions.get(i.id, [])))
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": iso(now()),
        "patient": patient,
        "cases": out_cases,
        "follow_up_tasks": [task_doc(t) for t in tasks],
        "meetings": list(meetings.values()),
    }


def _dt(v: Any) -> dt.datetime | None:
    return None if v is None else dt.datetime.fromisoformat(str(v))


def _d(v: Any) -> dt.date | None:
    return None if v is None else dt.date.fromisoformat(str(v))


class _Clock:
    """The import time, one microsecond later at each call, so imported rows keep their order."""

    def __init__(self, t0: dt.datetime):
        self.t0 = t0
        self._n = 0

    def __call__(self) -> dt.datetime:
        self._n += 1
        return self.t0 + dt.timedelta(microseconds=self._n)


_AUTHORSHIP = ("created_at", "created_by", "updated_at", "updated_by", "recorded_by")


def _original_authorship(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every record's claimed authorship in the import: (what, id, who/when as claimed)."""
    out: list[dict[str, Any]] = []

    def add(kind: str, key: str, rec: dict[str, Any]) -> None:
        claims = {k: rec[k] for k in _AUTHORSHIP if rec.get(k) is not None}
        if claims:
            out.append({"record": kind, "id": key, **claims})

    add("patient", str(doc["patient"].get("id")), doc["patient"])
    for c in doc.get("cases", []):
        add("case", c["id"], c)
        for v in c.get("versions", []):
            add("case_version", f"{c['id']} v{v['version']}", v)
        for a in c.get("assessments", []):
            add("assessment", a["id"], a)
    for mt in doc.get("meetings", []):
        add("meeting", mt["id"], mt)
        for i in mt.get("agenda", []):
            add("agenda_item", i["id"], i)
            for d in i.get("decision_history", []):
                add("decision", d["id"], d)
    for task in doc.get("follow_up_tasks", []):
        add("follow_up_task", task["id"], task)
    return out


def _version_problems(i: int, c: dict[str, Any]) -> list[dict[str, Any]]:
    """A case's version numbers: each version 1 or more and listed once, the case's current
    version one of them, and each assessment of one of them (else the database refused the
    rows and the import read as a clash with an existing record)."""
    out: list[dict[str, Any]] = []
    numbers = [v.get("version") for v in c.get("versions", [])]
    for j, n in enumerate(numbers):
        if not isinstance(n, int) or n < 1 or numbers.count(n) > 1:
            out.append(
                field(
                    f"cases.{i}.versions.{j}.version",
                    "not a version number of its own",
                    n,
                    "a whole number from 1, each once",
                )
            )
    listed = ", ".join(map(str, numbers)) or "a listed version"
    refs = [(f"cases.{i}.version", c.get("version"))] + [
        (f"cases.{i}.assessments.{k}.case_version", a.get("case_version"))
        for k, a in enumerate(c.get("assessments", []))
    ]
    out += [
        field(path, "not one of the case's versions", n, listed)
        for path, n in refs
        if n not in numbers
    ]
    return out


def check_record(doc: dict[str, Any]) -> None:
    """Raise :class:`Invalid` (``invalid_record``) unless every case version is a valid case
    and every task and agenda item refers to one of the record's cases."""
    from nenguide.errors import CaseInputError, parse_case

    case_ids = {c["id"] for c in doc.get("cases", [])}
    problems: list[dict[str, Any]] = []
    for i, c in enumerate(doc.get("cases", [])):
        problems += _version_problems(i, c)
        for j, v in enumerate(c.get("versions", [])):
            try:
                parse_case(v["data"])
            except CaseInputError as err:
                prefix = f"cases.{i}.versions.{j}.data"
                problems += [
                    {**fe.as_dict(), "path": f"{prefix}.{fe.path}"} for fe in err.errors
                ] or [field(prefix, err.summary)]
    for i, t in enumerate(doc.get("follow_up_tasks", [])):
        if t["case_id"] not in case_ids:
            problems.append(
                field(
                    f"follow_up_tasks.{i}.case_id", "not one of this record's cases", t["case_id"]
                )
            )
    for i, mt in enumerate(doc.get("meetings", [])):
        for j, item in enumerate(mt.get("agenda", [])):
            if item["case_id"] not in case_ids:
                problems.append(
                    field(
                        f"meetings.{i}.agenda.{j}.case_id",
                        "not one of this record's cases",
                        item["case_id"],
                    )
                )
    if problems:
        raise Invalid(
            "the record is not consistent; nothing was imported", problems, code="invalid_record"
        )


def import_patient(s: Session, actor: Actor, doc: dict[str, Any]) -> dict[str, Any]:
    """Recreate a record exported by :func:`export_patient`, keeping its ids and history.

    Refused (409, nothing written) when the patient, a case or an MRN already exists here.
    Provenance: the stored rows name the importer and the import time as their author
    (created_by/updated_by/recorded_by, created_at/updated_at); what the record claimed is
    kept as imported metadata in the import's audit entry (``after.original_authorship``).
    Clinical dates (decided_at, due, completed_on, as_of) are kept as imported.
    Meetings are matched by id: an existing meeting gets the agenda items added, a missing
    one is created as exported (with its attendees). The import itself is one audit entry.
    """
    if doc.get("format") != EXPORT_FORMAT or doc.get("format_version") != EXPORT_FORMAT_VERSION:
        raise Invalid(
            f"not a patient record export: expected format {EXPORT_FORMAT!r} version "
            f"{EXPORT_FORMAT_VERSION}",
            [field("format", "unsupported format", doc.get("format"), EXPORT_FORMAT)],
        )
    check_record(doc)
    p = doc["patient"]
    clock = _Clock(now())
    me = actor.username
    original = _original_authorship(doc)
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
            created_at=clock(),
            created_by=me,
            updated_at=clock(),
            updated_by=me,
        )
    )
    flush_unique(s, "patient")
    for c in doc.get("cases", []):
        s.add(
            m.Case(
                id=c["id"],
                patient_id=p["id"],
                title=c["title"],
                status=c["status"],
                current_version=c["version"],
                created_at=clock(),
                created_by=me,
                updated_at=clock(),
                updated_by=me,
            )
        )
        flush_unique(s, "case")
        for v in c["versions"]:
            s.add(
                m.CaseVersion(
                    case_id=c["id"],
                    version=v["version"],
                    data=v["data"],
                    comment=v.get("comment"),
                    created_at=clock(),
                    created_by=me,
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
                    created_at=clock(),
                    created_by=me,
                )
            )
        flush_unique(s, "assessment")
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
                    created_at=clock(),
                    created_by=me,
                    updated_at=clock(),
                    updated_by=me,
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
                        created_at=clock(),
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
                    created_at=clock(),
                    created_by=me,
                )
            )
            flush_unique(s, "agenda item")
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
                        recorded_by=me,
                    )
                )
            flush_unique(s, "decision")
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
                created_at=clock(),
                created_by=me,
            )
        )
    flush_unique(s, "follow-up task")
    summary = {
        "exported_at": doc.get("exported_at"),
        # who wrote what, and when, in the system the record came from: kept here (the audit
        # log is append-only and chained); the stored rows name the importer and this import
        "original_authorship": original,
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
