"""A real ``nenguide serve`` (uvicorn) for the page tests, on a free loopback port, with its
own SQLite database and web state directory, and one user per role (created with the CLI, the
way an operator does)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

PASSWORD = "correct horse battery staple"
USERS = {
    "clinician": "w-clinician",
    "coordinator": "w-coordinator",
    "admin": "w-admin",
    "auditor": "w-auditor",
}


@dataclass
class WebServer:
    base_url: str
    state_dir: Path
    log_path: Path
    proc: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def token(self, role: str) -> str:
        r = httpx.post(
            f"{self.base_url}/api/v1/auth/login",
            json={"username": USERS[role], "password": PASSWORD},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def patient_with_case(self, name: str, mrn: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A new patient with the pnet-g2-liver demo case stored (through the API, as a
        clinician): the patient's and the case's records."""
        from nenguide.cli import demo_cases

        text = demo_cases()["pnet-g2-liver"].read_text()
        case = json.loads(json.dumps(yaml.safe_load(text), default=str))
        with self.api("clinician") as api:
            p = api.post("/api/v1/patients", json={"name": name, "mrn": mrn}).json()
            c = api.post(
                f"/api/v1/patients/{p['id']}/cases", json={"title": "pNET", "case": case}
            ).json()
        return p, c

    def api(self, role: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            timeout=60,
            headers={"Authorization": f"Bearer {self.token(role)}"},
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(workdir: Path) -> WebServer:
    url = f"sqlite:///{workdir / 'web.db'}"
    for role, name in USERS.items():
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "nenguide.api",
                "user",
                "create",
                name,
                "--role",
                role,
                "--password-stdin",
                "--database-url",
                url,
            ],
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NENGUIDE_WEB_STATE_DIR": str(workdir / "state")}
    env.pop("NENGUIDE_DATABASE_URL", None)
    for attempt in range(3):
        port = _free_port()
        log_path = workdir / f"server-{attempt}.log"
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
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        srv = WebServer(f"http://127.0.0.1:{port}", workdir / "state", log_path, proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{srv.base_url}/api/v1/health", timeout=2).status_code == 200:
                    return srv
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        stop(srv)
        if "address already in use" not in srv.log().lower():
            raise RuntimeError(f"server did not start:\n{srv.log()}")
    raise RuntimeError("no free port for the server")


def stop(srv: WebServer) -> None:
    srv.proc.terminate()
    try:
        srv.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
        srv.proc.wait()
