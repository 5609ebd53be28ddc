"""The audit log: one entry per write, in the writer's transaction, never changed afterwards."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nenguide.store import models as m
from nenguide.store.chain import chain_head, entry_hash
from nenguide.store.common import Actor, now
from nenguide.store.records import AuditDoc, as_doc


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
    """Append one entry, chained to the previous one (see :mod:`nenguide.store.chain`)."""
    last_id, prev = chain_head(s)
    entry: dict[str, Any] = {
        "id": last_id + 1,
        "at": now(),
        "actor": actor.username,
        "actor_role": actor.role,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "patient_id": patient_id,
        # stored as JSON: the hash is taken over what will be read back
        "before": json.loads(json.dumps(before)),
        "after": json.loads(json.dumps(after)),
        "request_id": actor.request_id,
    }
    s.add(m.AuditEntry(**entry, chain_hash=entry_hash(prev, entry)))
    s.flush()


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
    return [as_doc(AuditDoc, e) for e in s.scalars(q.limit(limit))]
