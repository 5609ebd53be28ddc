"""Stored assessments: immutable engine results linked to a case version."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nenguide.store import models as m
from nenguide.store.audit import audit
from nenguide.store.cases import _case, _version
from nenguide.store.common import Actor, flush_unique, new_id, now
from nenguide.store.errors import NotFound
from nenguide.store.records import AssessmentDoc, as_doc


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
    flush_unique(s, "assessment")
    doc = as_doc(AssessmentDoc, a)
    summary = {k: v for k, v in doc.items() if k != "result"}
    audit(s, actor, "assessment.create", "assessment", a.id, patient_id=c.patient_id, after=summary)
    return doc


def get_assessment(s: Session, assessment_id: str) -> dict[str, Any]:
    a = s.get(m.Assessment, assessment_id)
    if a is None:
        raise NotFound("assessment", assessment_id)
    return as_doc(AssessmentDoc, a)


def list_assessments(s: Session, case_id: str) -> list[dict[str, Any]]:
    _case(s, case_id)
    rows = s.scalars(
        select(m.Assessment)
        .where(m.Assessment.case_id == case_id)
        .order_by(m.Assessment.created_at, m.Assessment.id)
    )
    return [as_doc(AssessmentDoc, a) for a in rows]
