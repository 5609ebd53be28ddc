"""The audit log's hash chain: each entry's ``chain_hash`` is the SHA-256 of the previous
entry's hash and this entry's canonical JSON, so changing, deleting, inserting or reordering an
entry breaks the chain from there on, whoever did it, the table's owner included.

The owner could recompute the whole chain after an edit; the defence is the anchor: note the
head (``nenguide audit verify`` prints ``<id>:<hash>``) somewhere the database owner cannot
write (the MDT minutes, a ticket, a backup manifest) and later run
``nenguide audit verify --expect <id>:<hash>``: a rewritten history no longer contains it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from nenguide.store import models as m

GENESIS = "0" * 64
FIELDS = (
    "id",
    "at",
    "actor",
    "actor_role",
    "action",
    "entity_type",
    "entity_id",
    "patient_id",
    "before",
    "after",
    "request_id",
)
#: Key of the PostgreSQL advisory lock that serialises appends to the chain.
_PG_LOCK = 0x6E656E67


def _at(v: dt.datetime) -> str:
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)
    return v.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(prev: str, entry: dict[str, Any]) -> str:
    data = {k: entry[k] for k in FIELDS}
    data["at"] = _at(data["at"])
    canon = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev}\n{canon}".encode()).hexdigest()


def chain_head(s: Session) -> tuple[int, str]:
    """Lock the chain for this transaction and return (last id, last hash)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
    # (SQLite: writes start with BEGIN IMMEDIATE, so this transaction already holds the lock.)
    row = s.execute(
        select(m.AuditEntry.id, m.AuditEntry.chain_hash).order_by(m.AuditEntry.id.desc()).limit(1)
    ).first()
    if row is None:
        return 0, GENESIS
    return int(row[0]), row[1] or GENESIS


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    head_id: int
    head_hash: str
    first_bad_id: int | None = None
    problem: str | None = None

    @property
    def anchor(self) -> str:
        return f"{self.head_id}:{self.head_hash}"


def verify(s: Session, expect: str | None = None) -> Verification:
    """Recompute the chain from the first entry. ``expect`` (``<id>:<hash>``, an anchor noted
    earlier) must still be in it."""
    prev, count, last_id = GENESIS, 0, 0
    want: tuple[int, str] | None = None
    if expect:
        i, _, h = expect.partition(":")
        want = (int(i), h.strip().lower())
    seen_anchor = want is None
    q = select(*(getattr(m.AuditEntry, f) for f in FIELDS), m.AuditEntry.chain_hash).order_by(
        m.AuditEntry.id
    )
    for row in s.execute(q.execution_options(yield_per=1000)):
        entry = dict(zip((*FIELDS, "chain_hash"), row, strict=True))
        expected = entry_hash(prev, entry)
        if entry["chain_hash"] != expected:
            return Verification(
                False,
                count,
                last_id,
                prev,
                entry["id"],
                f"entry {entry['id']} does not match the chain: it, or an entry before it, "
                "was changed, removed or inserted after it was written",
            )
        if want is not None and entry["id"] == want[0]:
            if expected != want[1]:
                return Verification(
                    False,
                    count,
                    last_id,
                    prev,
                    entry["id"],
                    f"entry {entry['id']} no longer has the hash noted earlier: the history "
                    "up to it was rewritten",
                )
            seen_anchor = True
        prev, last_id, count = expected, entry["id"], count + 1
    if not seen_anchor:
        assert want is not None
        return Verification(
            False, count, last_id, prev, want[0], f"entry {want[0]} noted earlier is missing"
        )
    return Verification(True, count, last_id, prev)
