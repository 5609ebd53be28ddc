"""Store fixtures: every store test runs on SQLite (a temporary file) and on PostgreSQL
(a throwaway database on 127.0.0.1:5432, dropped afterwards). Without a reachable PostgreSQL the
PostgreSQL variants are skipped with the reason shown in the test report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nenguide.store import Database, migrate


def new_database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with request.getfixturevalue("pg_throwaway_db")() as url:
        yield url


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
