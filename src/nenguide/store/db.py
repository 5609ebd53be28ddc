"""Opening the database: URL resolution, engine options and read/write sessions.

SQLite (the default, a file in the user data directory) runs in WAL mode so readers never wait
for the writer; write transactions start with ``BEGIN IMMEDIATE`` so two writers queue on the
lock instead of failing half-way through. PostgreSQL is selected by a ``postgresql+psycopg://``
URL, from ``NENGUIDE_DATABASE_URL`` or the command line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

ENV_URL = "NENGUIDE_DATABASE_URL"
_WRITE = "nenguide_write"


def default_sqlite_path(name: str = "nenguide.db") -> Path:
    """The zero-set-up database file in the user's data directory (created on demand)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("nenguide", appauthor=False)) / name


def resolve_url(url: str | None = None, *, demo: bool = False) -> str:
    """The database URL to use: the argument, else ``NENGUIDE_DATABASE_URL``, else the default
    SQLite file (a separate ``nenguide-demo.db`` in demo mode, so demo data never mix with real
    patients)."""
    # Demo mode never follows NENGUIDE_DATABASE_URL to a real database: only an explicit URL
    # (which must then be empty or a demo database, see store.instance.check_demo).
    url = url or (None if demo else os.environ.get(ENV_URL)) or None
    if url:
        if url.startswith(("postgres://", "postgresql://")):
            # psycopg 3 is the driver we ship; the bare scheme would ask for psycopg2.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    path = default_sqlite_path("nenguide-demo.db" if demo else "nenguide.db")
    return f"sqlite:///{path}"


def describe(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


class Database:
    """An engine plus the two kinds of session the application uses."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False):
        self.url = url
        u = make_url(url)
        self.dialect = u.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.dialect == "sqlite":
            db = u.database
            if db and db != ":memory:":
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = 20
        elif self.dialect == "postgresql":
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = 20
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            _sqlite_setup(self.engine)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; closed at the end (its transaction is rolled back, and the
        objects it loaded stay readable)."""
        with self._read() as s:
            yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        with self._write() as s, s.begin():
            yield s

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so "begin" below decides the mode.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "memory":
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
