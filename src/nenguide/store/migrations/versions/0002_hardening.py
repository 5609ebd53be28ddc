"""Hardening (issue 10): a hash chain over the audit log, the SQLite REPLACE path into the audit
log closed, and the instance table (a demo database is marked as one).

* ``audit_log.chain_hash``: SHA-256 over the previous entry's hash and this entry's canonical
  JSON (see :mod:`nenguide.store.chain`); entries already present are chained here, in id order.
* SQLite: ``REPLACE INTO audit_log`` / ``INSERT OR REPLACE`` deleted the old row without firing
  the DELETE trigger; a BEFORE INSERT trigger now refuses an insert whose id exists.
* ``instance``: key/value facts about this database (``mode = demo`` for a demo database).

The hash function is copied here (not imported) so this revision keeps meaning what it meant.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPEND_ONLY = "audit_log is append-only: entries cannot be changed or deleted"
_SQLITE_NO_REPLACE = f"""
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END
"""
_SQLITE_NO_UPDATE = f"""
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END
"""
GENESIS = "0" * 64
_FIELDS = (
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


def _at(v: Any) -> str:
    if isinstance(v, str):
        v = dt.datetime.fromisoformat(v)
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)
    return str(v.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def _hash(prev: str, row: dict[str, Any]) -> str:
    entry = {k: row[k] for k in _FIELDS}
    entry["at"] = _at(entry["at"])
    for k in ("before", "after"):
        if isinstance(entry[k], str):  # SQLite hands JSON back as text here
            entry[k] = json.loads(entry[k])
    canon = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev}\n{canon}".encode()).hexdigest()


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    op.create_table(
        "instance",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_instance")),
    )
    op.add_column("audit_log", sa.Column("chain_hash", sa.String(length=64), nullable=True))
    if pg:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    prev = GENESIS
    rows = bind.execute(sa.text(f"SELECT {', '.join(_FIELDS)} FROM audit_log ORDER BY id"))
    for row in rows.mappings().all():
        prev = _hash(prev, dict(row))
        bind.execute(
            sa.text("UPDATE audit_log SET chain_hash = :h WHERE id = :id"),
            {"h": prev, "id": row["id"]},
        )
    if pg:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        op.execute(_SQLITE_NO_UPDATE)
        op.execute(_SQLITE_NO_REPLACE)


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        op.drop_column("audit_log", "chain_hash")
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_replace")
        op.drop_column("audit_log", "chain_hash")
    op.drop_table("instance")
