"""API fixtures: the running servers (see ``apitest``)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from apitest import Server, _cli, start_server, stop_server
from sqlalchemy.engine import make_url


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server on SQLite, shared by the API tests."""
    work = tmp_path_factory.mktemp("sqlite-server")
    srv = start_server(f"sqlite:///{work / 'nenguide.db'}", work)
    yield srv
    stop_server(srv)


@pytest.fixture(scope="session")
def pg_server(
    tmp_path_factory: pytest.TempPathFactory,
    pg_throwaway_db: Callable[[], AbstractContextManager[str]],
    pg_admin: Any,
) -> Iterator[Server]:
    """The server on a throwaway PostgreSQL database (skipped, visibly, without PostgreSQL),
    deployed as docs/security.md says: the schema is made by the owner, the service connects
    as a role that owns nothing (``db grant-app-role``) and starts with ``--no-migrate``."""
    work = tmp_path_factory.mktemp("pg-server")
    role = f"nenguide_app_{secrets.token_hex(4)}"
    with pg_admin.connect() as c:
        c.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
    try:
        with pg_throwaway_db() as url:
            up = _cli("db", "upgrade", "--database-url", url)
            assert up.returncode == 0, up.stderr
            grant = _cli("db", "grant-app-role", role, "--database-url", url)
            assert grant.returncode == 0, grant.stderr
            app_url = make_url(url).set(username=role).render_as_string(hide_password=False)
            srv = start_server(url, work, serve_url=app_url, serve_args=("--no-migrate",))
            try:
                assert "owner of the tables" not in srv.log()
                yield srv
            finally:
                stop_server(srv)
    finally:
        with pg_admin.connect() as c:
            c.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")


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
