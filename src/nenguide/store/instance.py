"""Facts about this database (the ``instance`` table), e.g. that it is a demo database.

Demo mode uses its own database only: :func:`check_demo` refuses a database that holds data
and is not marked as a demo database, before anything is written to it."""

from __future__ import annotations

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from nenguide.store import models as m
from nenguide.store.db import Database, describe
from nenguide.store.errors import StoreError

MODE = "mode"
DEMO = "demo"
DEMO_PASSWORD = "demo_password"


class NotADemoDatabase(StoreError):
    code = "not_a_demo_database"


def get(s: Session, key: str) -> str | None:
    return s.scalar(select(m.Instance.value).where(m.Instance.key == key))


def put(s: Session, key: str, value: str) -> None:
    row = s.get(m.Instance, key)
    if row is None:
        s.add(m.Instance(key=key, value=value))
    else:
        row.value = value
    s.flush()


def check_demo(db: Database) -> None:
    """Raise :class:`NotADemoDatabase` unless ``db`` is empty or marked as a demo database.
    Reads only (works before the schema is created or upgraded)."""
    tables = set(inspect(db.engine).get_table_names())
    if "users" not in tables:
        return
    with db.engine.connect() as c:
        if "instance" in tables:
            mode = c.execute(
                text("SELECT value FROM instance WHERE key = :k"), {"k": MODE}
            ).scalar()
            if mode == DEMO:
                return
        # Only the demo's own users and patients (a demo database made before it was marked)?
        users = (
            c.execute(text("SELECT count(*) FROM users WHERE username NOT LIKE 'demo-%'")).scalar()
            or 0
        )
        patients = (
            c.execute(
                text("SELECT count(*) FROM patients WHERE mrn IS NULL OR mrn NOT LIKE 'DEMO-%'")
            ).scalar()
            or 0
            if "patients" in tables
            else 0
        )
    if users or patients:
        raise NotADemoDatabase(
            f"{describe(db.url)} holds {users} user(s) and {patients} patient(s) that are not "
            "the demo's, and is not a "
            "demo database: demo mode only uses a database of its own. Start 'nenguide serve "
            "--demo' without --database-url (it uses nenguide-demo.db), or give it a new, "
            "empty database."
        )
