"""The MDT case store: patients, versioned cases, assessments, meetings, decisions, follow-up
tasks, users and the append-only audit log, on SQLite (default) or PostgreSQL.

``Database`` opens it, :mod:`nenguide.store.migrate` creates and upgrades the schema, and
:mod:`nenguide.store.repo` holds every read and write.
"""

from __future__ import annotations

from nenguide.store.db import Database, resolve_url
from nenguide.store.errors import (
    Conflict,
    Invalid,
    NotFound,
    SchemaOutOfDate,
    StoreError,
    VersionConflict,
)
from nenguide.store.repo import Actor

__all__ = [
    "Actor",
    "Conflict",
    "Database",
    "Invalid",
    "NotFound",
    "SchemaOutOfDate",
    "StoreError",
    "VersionConflict",
    "resolve_url",
]
