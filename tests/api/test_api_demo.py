"""``serve --demo`` as a new user meets it: start it, read the printed demo login, log in and see
patients, a scheduled meeting with its agenda and follow-up tasks."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from apitest import free_port

from nenguide import store
from nenguide.api.demo import DEMO_USERS, seed
from nenguide.store import Actor, Database, migrate, resolve_url
from nenguide.store.instance import NotADemoDatabase


def test_serve_demo_end_to_end(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nenguide.api",
                "serve",
                "--demo",
                "--port",
                str(port),
                "--database-url",
                f"sqlite:///{tmp_path / 'demo.db'}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        text = log.read_text()
        assert "password" not in text  # not a terminal: the logins are not in the log
        where = re.search(r"Demo logins are in (\S+)", text)
        assert where, text
        logins = Path(where.group(1))
        assert logins.stat().st_mode & 0o077 == 0  # owner-only
        m = re.search(r"demo-clinician\s+password: (\S+)", logins.read_text())
        assert m, logins.read_text()
        token = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "demo-clinician", "password": m.group(1)}
        ).json()["token"]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
            patients = c.get("/api/v1/patients").json()
            assert patients["total"] == 3
            meetings = c.get("/api/v1/meetings", params={"status": "scheduled"}).json()["items"]
            assert len(meetings) == 1
            meeting = c.get(f"/api/v1/meetings/{meetings[0]['id']}").json()
            assert len(meeting["agenda"]) == 3 and len(meeting["attendees"]) == 6
            assert all(item["assessment_id"] for item in meeting["agenda"])
            overdue = c.get("/api/v1/follow-up-tasks", params={"overdue": "true"}).json()
            assert overdue["total"] >= 1
            # the walk-through of the issue: create a case, assess it, put it on the meeting
            pid = patients["items"][0]["id"]
            case = c.post(
                f"/api/v1/patients/{pid}/cases",
                json={
                    "title": "new lesion",
                    "case": {"tumour": {"primary_site": "rectum", "size_cm": 0.6}},
                },
            ).json()
            a = c.post(f"/api/v1/cases/{case['id']}/assessments", json={}).json()
            item = c.post(
                f"/api/v1/meetings/{meeting['id']}/agenda",
                json={"case_id": case["id"], "assessment_id": a["id"]},
            ).json()
            r = c.post(
                f"/api/v1/meetings/{meeting['id']}/agenda/{item['id']}/decision",
                json={"plan_text": "endoscopic resection", "follows_guideline": True},
            )
            assert r.status_code == 201, r.text
        assert "Li Hua" not in log.read_text()  # demo patient names stay out of the log
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_seed_is_idempotent_and_never_touches_existing_users(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'seed.db'}")
    migrate.upgrade(db)
    first = seed(db)
    assert set(first) == set(DEMO_USERS)
    with db.write() as s:  # an admin disables the demo admin
        store.users.update_user(s, Actor("root"), "demo-admin", active=False)
    second = seed(db)  # a restart with --demo
    assert set(second) == set(DEMO_USERS) - {"demo-admin"}
    assert second["demo-clinician"] == first["demo-clinician"]
    with db.read() as s:
        assert store.patients.list_patients(s)[1] == 3
        assert store.meetings.list_meetings(s)[1] == 1
        users = {u["username"]: u for u in store.users.list_users(s)}
        assert {n: u["role"] for n, u in users.items()} == DEMO_USERS
        assert users["demo-admin"]["active"] is False
    db.dispose()


def test_demo_refuses_a_real_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'real.db'}"
    db = Database(url)
    migrate.upgrade(db)
    with db.write() as s:
        store.patients.create_patient(s, Actor("ann"), name="Real Patient")
        store.users.create_user(
            s, Actor("cli"), username="ward-admin", role="admin", password_hash="x"
        )
    with pytest.raises(NotADemoDatabase, match="not a demo database"):
        seed(db)
    with db.read() as s:  # nothing was written
        assert [u["username"] for u in store.users.list_users(s)] == ["ward-admin"]
        assert store.patients.list_patients(s)[1] == 1
    db.dispose()
    # serve --demo pointed at it (explicitly, or through NENGUIDE_DATABASE_URL)
    r = subprocess.run(
        [sys.executable, "-m", "nenguide.api", "serve", "--demo", "--database-url", url],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == 2 and "Demo mode refused" in r.stderr, r.stderr
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NENGUIDE_DATABASE_URL", url)
        assert resolve_url(None, demo=True).endswith("nenguide-demo.db")
        assert resolve_url(None) == url
