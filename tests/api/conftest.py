"""API fixtures: the running servers (see ``apitest``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from apitest import Server, start_server, stop_server


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
) -> Iterator[Server]:
    """The server on a throwaway PostgreSQL database (skipped, visibly, without PostgreSQL)."""
    work = tmp_path_factory.mktemp("pg-server")
    with pg_throwaway_db() as url:
        srv = start_server(url, work)
        yield srv
        stop_server(srv)


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
