"""Migrations: upgrade from an empty database, downgrade/upgrade round trip, the schema the
migrations build matches the models, and the audit log is append-only in the database itself."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from nenguide import store
from nenguide.store import Actor, Database, SchemaOutOfDate, migrate
from nenguide.store.models import Base

TABLES = {
    "users",
    "auth_sessions",
    "patients",
    "cases",
    "case_versions",
    "assessments",
    "meetings",
    "meeting_attendees",
    "agenda_items",
    "decisions",
    "followup_tasks",
    "audit_log",
    "instance",
    "cds_feedback",
}


def _tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty(empty_db: Database) -> None:
    assert _tables(empty_db) == set()
    with pytest.raises(SchemaOutOfDate, match="nenguide db upgrade"):
        migrate.check(empty_db)
    migrate.upgrade(empty_db)
    assert _tables(empty_db) == TABLES
    assert migrate.current(empty_db) == migrate.head()
    migrate.check(empty_db)


def test_downgrade_upgrade_round_trip(db: Database) -> None:
    with db.write() as s:
        store.patients.create_patient(s, Actor("t"), name="Round Trip")
    migrate.downgrade(db, "base")
    assert _tables(db) == set()
    assert migrate.current(db) is None
    migrate.upgrade(db)
    assert _tables(db) == TABLES
    with db.read() as s:
        assert store.patients.list_patients(s)[1] == 0
    # and once more, so a downgrade after a fresh upgrade also works
    migrate.downgrade(db, "base")
    migrate.upgrade(db)
    assert migrate.current(db) == migrate.head()


def test_migrations_match_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(db: Database) -> None:
    migrate.upgrade(db)
    assert migrate.current(db) == migrate.head()


def test_audit_log_is_append_only_in_the_database(db: Database) -> None:
    with db.write() as s:
        store.patients.create_patient(s, Actor("t"), name="Audit Probe")
    for stmt in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), db.write() as s:
            s.execute(text(stmt))
    with db.read() as s:
        entries = store.audit.list_audit(s)
    assert [e["actor"] for e in entries] == ["t"]
