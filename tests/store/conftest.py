"""Store fixtures: every store test runs on SQLite (a temporary file) and on PostgreSQL
(a throwaway database on 127.0.0.1:5432, dropped afterwards). Without a reachable PostgreSQL the
PostgreSQL variants are skipped with the reason shown in the test report."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from nenguide.store import Database, migrate

#: The PostgreSQL server the tests use (a maintenance database; throwaway ones are created).
PG_ADMIN_URL = os.environ.get(
    "NENGUIDE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
_SESSION_TAG = secrets.token_hex(3)
_counter = iter(range(1_000_000))


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.execute(text("select 1"))
    except Exception as exc:  # any failure means: no server to test against
        engine.dispose()
        pytest.skip(
            f"PostgreSQL at {make_url(PG_ADMIN_URL).render_as_string()} is not reachable "
            f"({type(exc).__name__}): "
            "PostgreSQL variants of the store tests were NOT run"
        )
    yield engine
    with engine.connect() as c:  # sweep anything a crashed test left behind
        for (name,) in c.execute(
            text("select datname from pg_database where datname like :p"),
            {"p": f"nenguide_test_{_SESSION_TAG}_%"},
        ):
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def new_database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    admin: Engine = request.getfixturevalue("pg_admin")
    name = f"nenguide_test_{_SESSION_TAG}_{next(_counter)}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    yield from new_database_url(request, backend, tmp_path)


@pytest.fixture
def another_db_url(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A second, empty database on the same backend (e.g. to import into)."""
    yield from new_database_url(request, backend, tmp_path_factory.mktemp("other"))


@pytest.fixture
def empty_db(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def db(empty_db: Database) -> Database:
    migrate.upgrade(empty_db)
    return empty_db
