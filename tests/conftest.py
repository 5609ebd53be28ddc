"""Shared fixtures. The knowledge package is loaded once per session (it is immutable)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from nenguide import load_knowledge
from nenguide.engine.kb import Knowledge

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return load_knowledge()


# --- PostgreSQL, shared by the store and API tests --------------------------------------------

#: The PostgreSQL server the tests use (a maintenance database; throwaway databases are created
#: and dropped). Override with NENGUIDE_TEST_PG_URL.
PG_ADMIN_URL = os.environ.get(
    "NENGUIDE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
_PG_TAG = secrets.token_hex(3)
_pg_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Any]:
    """An AUTOCOMMIT engine on the maintenance database; skips, visibly, without PostgreSQL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.execute(text("select 1"))
    except Exception as exc:  # any failure means: no server to test against
        engine.dispose()
        pytest.skip(
            f"PostgreSQL at {make_url(PG_ADMIN_URL).render_as_string()} is not reachable "
            f"({type(exc).__name__}): the PostgreSQL variants of the tests were NOT run"
        )
    yield engine
    with engine.connect() as c:  # sweep anything a crashed test left behind
        for (name,) in c.execute(
            text("select datname from pg_database where datname like :p"),
            {"p": f"nenguide_test_{_PG_TAG}_%"},
        ):
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def pg_throwaway_db(pg_admin: Any) -> Callable[[], AbstractContextManager[str]]:
    """``with pg_throwaway_db() as url:`` a new empty database, dropped afterwards."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    @contextmanager
    def make() -> Iterator[str]:
        name = f"nenguide_test_{_PG_TAG}_{next(_pg_counter)}"
        with pg_admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            with pg_admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return make
