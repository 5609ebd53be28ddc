"""CDS Hooks 2.0 feedback (``POST /cds-services/{id}/feedback``): what the EHR's user did with a
card, accepted or overridden with a reason, kept durably with an audit entry like every write.

The body is the spec's ``{"feedback": [{"card", "outcome", "overrideReason", "outcomeTimestamp",
"acceptedSuggestions"}]}`` (https://cds-hooks.hl7.org/2.0/#feedback); every item is checked before
any is written, and a bad one answers 422 naming its path."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nenguide.limits import AS_OF_MAX, AS_OF_MIN, datetime_in_range
from nenguide.store import models as m
from nenguide.store.audit import audit
from nenguide.store.common import Actor, field, iso, new_id
from nenguide.store.errors import Invalid

OUTCOMES = ("accepted", "overridden")
MAX_ITEMS = 100


def _timestamp(v: Any) -> dt.datetime | None:
    if not isinstance(v, str):
        return None
    try:
        t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo is not None and datetime_in_range(t) else None


def _item(i: int, item: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    p = f"feedback[{i}]"
    if not isinstance(item, dict):
        return {}, [field(p, "must be an object")]
    problems = []
    card = item.get("card")
    try:
        card_uuid = str(uuid.UUID(card)) if isinstance(card, str) else None
    except ValueError:
        card_uuid = None
    if card_uuid is None:
        problems.append(field(f"{p}.card", "must be the uuid of a card", card))
    outcome = item.get("outcome")
    if outcome not in OUTCOMES:
        problems.append(field(f"{p}.outcome", "not an outcome", outcome, ", ".join(OUTCOMES)))
    when = _timestamp(item.get("outcomeTimestamp"))
    if when is None:
        problems.append(
            field(
                f"{p}.outcomeTimestamp",
                f"must be an ISO 8601 date-time with its zone, from {AS_OF_MIN.year} to "
                f"{AS_OF_MAX.year}",
                item.get("outcomeTimestamp"),
            )
        )
    code = comment = None
    reason = item.get("overrideReason")
    if reason is not None:
        if outcome != "overridden" or not isinstance(reason, dict):
            problems.append(
                field(f"{p}.overrideReason", "only an object, for an 'overridden' outcome")
            )
        else:
            coding = reason.get("reason")
            if coding is not None:
                code = coding.get("code") if isinstance(coding, dict) else None
                if not isinstance(code, str) or not 0 < len(code) <= 64:
                    problems.append(field(f"{p}.overrideReason.reason.code", "must be a code"))
            comment = reason.get("userComment")
            if comment is not None and (not isinstance(comment, str) or len(comment) > 4000):
                problems.append(
                    field(f"{p}.overrideReason.userComment", "text up to 4000 characters")
                )
    row = {
        "card_uuid": card_uuid,
        "outcome": outcome,
        "override_code": code,
        "override_comment": comment,
        "outcome_timestamp": when,
    }
    return row, problems


def record_feedback(
    s: Session, actor: Actor, service_id: str, body: Any, *, issuer: str
) -> list[str]:
    """Store each feedback item; returns their ids. :class:`Invalid` (nothing written) when an
    item is not acceptable."""
    items = body.get("feedback") if isinstance(body, dict) else None
    if not isinstance(items, list) or not 0 < len(items) <= MAX_ITEMS:
        raise Invalid(
            "send {'feedback': [...]} with 1 to 100 items",
            [field("feedback", "must be a list of 1 to 100 items")],
            code="invalid_feedback",
        )
    rows, problems = [], []
    for i, item in enumerate(items):
        row, bad = _item(i, item)
        rows.append(row)
        problems += bad
    if problems:
        raise Invalid("the feedback is not acceptable", problems, code="invalid_feedback")
    ids = []
    for row in rows:
        fb = m.CdsFeedback(id=new_id(), service_id=service_id, issuer=issuer, **row)
        s.add(fb)
        s.flush()
        doc = {**row, "service_id": service_id, "issuer": issuer}
        doc["outcome_timestamp"] = iso(row["outcome_timestamp"])
        audit(s, actor, "cds.feedback", "cds_feedback", fb.id, after=doc)
        ids.append(fb.id)
    return ids


def list_feedback(s: Session, *, card_uuid: str | None = None) -> list[dict[str, Any]]:
    """The stored feedback, oldest first (for the concordance audit)."""
    q = select(m.CdsFeedback).order_by(m.CdsFeedback.received_at, m.CdsFeedback.id)
    if card_uuid:
        q = q.where(m.CdsFeedback.card_uuid == card_uuid)
    return [
        {
            "id": f.id,
            "service_id": f.service_id,
            "card_uuid": f.card_uuid,
            "outcome": f.outcome,
            "override_code": f.override_code,
            "override_comment": f.override_comment,
            "outcome_timestamp": iso(f.outcome_timestamp),
            "issuer": f.issuer,
            "received_at": iso(f.received_at),
        }
        for f in s.scalars(q)
    ]
