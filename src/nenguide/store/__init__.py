"""The MDT case store: patients, versioned cases, assessments, meetings, decisions, follow-up
tasks, users and the append-only audit log, on SQLite (default) or PostgreSQL.

``Database`` opens it and :mod:`nenguide.store.migrate` creates and upgrades the schema. Reads
and writes are grouped by concern, one module each: :mod:`~nenguide.store.audit`,
:mod:`~nenguide.store.users`, :mod:`~nenguide.store.patients`, :mod:`~nenguide.store.cases`,
:mod:`~nenguide.store.assessments`, :mod:`~nenguide.store.meetings`,
:mod:`~nenguide.store.followup` and :mod:`~nenguide.store.transfer` (export/import). Every
function takes an open session (``Database.read()`` / ``Database.write()``); a write also takes
the :class:`Actor` and adds its audit entry in the same transaction. Records leave the store as
JSON-ready documents read through the pydantic models of :mod:`~nenguide.store.records`.

Optimistic concurrency: every editable record carries a version number. An update names the
version it was based on and is applied by a conditional ``UPDATE ... WHERE version = :sent``;
if another writer got there first nothing is written and :class:`VersionConflict` reports the
current version and record.
"""

from __future__ import annotations

from nenguide.store import (
    assessments,
    audit,
    cases,
    followup,
    meetings,
    patients,
    transfer,
    users,
)
from nenguide.store.common import Actor
from nenguide.store.db import Database, resolve_url
from nenguide.store.errors import (
    Conflict,
    Invalid,
    NotFound,
    SchemaOutOfDate,
    StoreError,
    VersionConflict,
)

__all__ = [
    "Actor",
    "Conflict",
    "Database",
    "Invalid",
    "NotFound",
    "SchemaOutOfDate",
    "StoreError",
    "VersionConflict",
    "assessments",
    "audit",
    "cases",
    "followup",
    "meetings",
    "patients",
    "resolve_url",
    "transfer",
    "users",
]
