"""Helpers for the API tests (imported by conftest and the tests): a real ``nenguide serve``
process (uvicorn) on a free loopback port, on SQLite and, for the tests that ask for it, on a
throwaway PostgreSQL database. Users are created the way an operator would: the first admin with
``user create --password-stdin``, the others by that admin through the API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from nenguide.store.vocab import ROLES  # defined once

PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base_url: str
    log_path: Path
    proc: subprocess.Popen[bytes]
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, role: str | None = None, token: str | None = None) -> httpx.Client:
        token = token or (self.tokens[role] if role else None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def login(self, username: str, password: str = PASSWORD) -> str:
        r = httpx.post(
            f"{self.base_url}/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert r.status_code == 200, r.text
        return str(r.json()["token"])


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nenguide.api", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start_server(
    url: str, workdir: Path, *, serve_url: str | None = None, serve_args: tuple[str, ...] = ()
) -> Server:
    """The first admin made with ``user create`` on ``url`` (the tables' owner), then ``serve``
    on ``serve_url`` (default: the same) with ``serve_args``."""
    admin = _cli(
        "user",
        "create",
        "root-admin",
        "--role",
        "admin",
        "--password-stdin",
        "--database-url",
        url,
        stdin=PASSWORD + "\n",
    )
    assert admin.returncode == 0, admin.stderr
    for attempt in range(3):
        server = _launch(serve_url or url, workdir / f"server-{attempt}.log", *serve_args)
        if server is not None:
            break
    else:
        raise RuntimeError(f"server did not start:\n{(workdir / 'server-2.log').read_text()}")
    server.tokens["admin"] = server.login("root-admin")
    with server.client("admin") as c:
        for role in ROLES:
            if role == "admin":
                continue
            r = c.post(
                "/api/v1/users",
                json={"username": f"test-{role}", "role": role, "password": PASSWORD},
            )
            assert r.status_code == 201, r.text
            server.tokens[role] = server.login(f"test-{role}")
    return server


def launch(url: str, log_path: Path, *args: str, env: dict[str, str] | None = None) -> Server:
    """``serve`` with extra arguments and environment variables, on a free port."""
    for _ in range(3):
        server = _launch(url, log_path, *args, extra_env=env)
        if server is not None:
            return server
    raise RuntimeError(f"server did not start:\n{log_path.read_text()}")


def _launch(
    url: str, log_path: Path, *args: str, extra_env: dict[str, str] | None = None
) -> Server | None:
    """Start ``serve`` on a free port; None if the port was taken meanwhile (retry)."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("NENGUIDE_DATABASE_URL", None)
    env.update(extra_env or {})
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nenguide.api",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--database-url",
                url,
                *args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = Server(f"http://127.0.0.1:{port}", log_path, proc)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{server.base_url}/api/v1/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            if "address already in use" in server.log().lower():
                return None
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not answer within 60 s:\n{server.log()}")
        time.sleep(0.1)


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
