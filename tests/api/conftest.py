"""API fixtures: the running servers (see ``apitest``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from apitest import PG_ADMIN_URL, Server, start_server, stop_server
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server on SQLite, shared by the API tests."""
    work = tmp_path_factory.mktemp("sqlite-server")
    srv = start_server(f"sqlite:///{work / 'nenguide.db'}", work)
    yield srv
    stop_server(srv)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server on a throwaway PostgreSQL database (skipped, visibly, without PostgreSQL)."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text("select 1"))
    except Exception as exc:  # any failure means: no server to test against
        admin.dispose()
        pytest.skip(
            f"PostgreSQL at {make_url(PG_ADMIN_URL).render_as_string()} is not reachable "
            f"({type(exc).__name__}): "
            "PostgreSQL variants of the API tests were NOT run"
        )
    name = f"nenguide_test_api_{secrets.token_hex(4)}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    work = tmp_path_factory.mktemp("pg-server")
    try:
        url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        srv = start_server(url, work)
        yield srv
        stop_server(srv)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def any_server(request: pytest.FixtureRequest) -> Server:
    name = "server" if request.param == "sqlite" else "pg_server"
    srv: Server = request.getfixturevalue(name)
    return srv
