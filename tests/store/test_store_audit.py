"""Audit log integrity (issue 10, defect 6) on SQLite and PostgreSQL: the SQLite REPLACE path
is closed, every entry is hash-chained, an edit made by the tables' owner (triggers disabled)
is detected by ``nenguide audit verify``, a rewritten chain is caught by an anchor noted
earlier, and on PostgreSQL the service's role owns nothing and cannot touch the log."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import typer
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from nenguide import store
from nenguide.api.cli import register
from nenguide.store import Actor, Database
from nenguide.store.chain import FIELDS, GENESIS, entry_hash, verify
from nenguide.store.models import AuditEntry

ANN = Actor("ann", "clinician", "req-1")


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("version")(lambda: None)
    register(app)
    return app


def _write_some(db: Database) -> None:
    with db.write() as s:
        p = store.patients.create_patient(s, ANN, name="Chain Patient", mrn="C-1")
        store.patients.update_patient(s, ANN, p["id"], version=1, changes={"name": "Chained"})
    with db.write() as s:
        store.patients.create_patient(s, ANN, name="Ünïcode 患者 1.5", sex="female")


def _owner_edit(db: Database, sql: str) -> None:
    """What the owner of the tables can do: switch the protection off, edit, switch it on."""
    with db.engine.begin() as c:
        if db.dialect == "postgresql":
            c.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            c.exec_driver_sql(sql)
            c.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        else:
            c.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
            c.exec_driver_sql(sql)


def test_chain_verifies_and_the_cli_prints_the_head(db: Database) -> None:
    _write_some(db)
    with db.read() as s:
        result = verify(s)
    assert result.ok and result.entries == 3 and result.head_id == 3
    r = CliRunner().invoke(_cli(), ["audit", "verify", "--database-url", db.url])
    assert r.exit_code == 0, r.output
    assert f"head: {result.anchor}" in r.output and "3 entries" in r.output


def test_sqlite_replace_cannot_rewrite_an_entry(db: Database, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("REPLACE is SQLite syntax")
    _write_some(db)
    for verb in ("REPLACE INTO", "INSERT OR REPLACE INTO"):
        with pytest.raises(Exception, match="append-only"), db.write() as s:
            s.execute(
                text(
                    f"{verb} audit_log (id, at, actor, action, entity_type, entity_id) "
                    "VALUES (1, '2001-01-01 00:00:00', 'mallory', 'x', 'patient', 'p')"
                )
            )
    with db.read() as s:
        assert store.audit.list_audit(s)[0]["actor"] == "ann"
        assert verify(s).ok


def test_an_owner_edit_is_detected(db: Database) -> None:
    _write_some(db)
    _owner_edit(db, "UPDATE audit_log SET actor = 'mallory' WHERE id = 2")
    with db.read() as s:
        result = verify(s)
    assert not result.ok and result.first_bad_id == 2 and result.entries == 1
    r = CliRunner().invoke(_cli(), ["audit", "verify", "--database-url", db.url])
    assert r.exit_code == 1 and "TAMPERED" in r.output and "entry 2" in r.output


def test_a_deleted_entry_is_detected(db: Database) -> None:
    _write_some(db)
    if db.dialect == "sqlite":
        with db.engine.begin() as c:
            c.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
            c.exec_driver_sql("DELETE FROM audit_log WHERE id = 2")
    else:
        _owner_edit(db, "DELETE FROM audit_log WHERE id = 2")
    with db.read() as s:
        assert verify(s).first_bad_id == 3


def test_a_rewritten_chain_is_caught_by_the_anchor(db: Database) -> None:
    _write_some(db)
    with db.read() as s:
        anchor = verify(s).anchor
    # the owner edits entry 1 and recomputes every hash after it
    _owner_edit(db, "UPDATE audit_log SET actor = 'mallory' WHERE id = 1")
    with db.read() as s:
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        entries = [{f: getattr(e, f) for f in FIELDS} for e in rows]
    prev = GENESIS
    for entry in entries:
        prev = entry_hash(prev, entry)
        _owner_edit(db, f"UPDATE audit_log SET chain_hash = '{prev}' WHERE id = {entry['id']}")
    with db.read() as s:
        assert verify(s).ok  # the chain alone no longer shows it ...
        assert not verify(s, anchor).ok  # ... the anchor noted before does
    r = CliRunner().invoke(
        _cli(), ["audit", "verify", "--database-url", db.url, "--expect", anchor]
    )
    assert r.exit_code == 1 and "rewritten" in r.output


@pytest.fixture
def app_role(db: Database, backend: str) -> Iterator[tuple[str, str]]:
    """A login role that owns nothing, granted with ``db grant-app-role`` (PostgreSQL)."""
    if backend != "postgres":
        pytest.skip("database roles are PostgreSQL's")
    role = f"nenguide_app_{secrets.token_hex(4)}"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
    try:
        r = CliRunner().invoke(_cli(), ["db", "grant-app-role", role, "--database-url", db.url])
        assert r.exit_code == 0, r.output
        yield role, make_url(db.url).set(username=role).render_as_string(hide_password=False)
    finally:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql(f"DROP OWNED BY {role}")
            c.exec_driver_sql(f"DROP ROLE {role}")


def test_the_service_role_cannot_touch_the_audit_log(
    db: Database, app_role: tuple[str, str]
) -> None:
    _write_some(db)
    _role, url = app_role
    app_db = Database(url)
    try:
        with app_db.write() as s:  # it can do its work ...
            store.patients.create_patient(s, Actor("bob", "clinician"), name="As App Role")
        for sql in (
            "UPDATE audit_log SET actor = 'mallory'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
            "DROP TABLE audit_log",
        ):
            engine = create_engine(url)
            try:
                denied = pytest.raises(Exception, match=r"permission denied|must be owner")
                with denied, engine.begin() as c:
                    c.exec_driver_sql(sql)
            finally:
                engine.dispose()
        with app_db.read() as s:
            assert verify(s).ok and verify(s).entries == 4
    finally:
        app_db.dispose()
    r = CliRunner().invoke(_cli(), ["db", "grant-app-role", "postgres", "--database-url", db.url])
    assert r.exit_code == 2 and "owns the tables" in r.output
