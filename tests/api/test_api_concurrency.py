"""8 clients x 50 edits through HTTP against the running server (SQLite and PostgreSQL):
on one shared case and on one case each. No edit is lost; every losing edit gets a 409."""

from __future__ import annotations

import threading
from typing import Any

from apitest import Server

WRITERS, UPDATES = 8, 50
CASE: dict[str, Any] = {"tumour": {"primary_site": "rectum", "size_cm": 0.8}}


def _new_case(server: Server) -> str:
    with server.client("clinician") as c:
        p = c.post("/api/v1/patients", json={"name": "Concurrency"}).json()
        r = c.post(f"/api/v1/patients/{p['id']}/cases", json={"title": "c", "case": CASE})
        return str(r.json()["id"])


def _hammer(server: Server, cases: list[str]) -> tuple[list[tuple[int, int, int]], list[int]]:
    wins: list[tuple[int, int, int]] = []
    conflicts: list[int] = []
    other: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(WRITERS)

    def writer(w: int) -> None:
        with server.client("clinician") as c:
            barrier.wait()
            for i in range(UPDATES):
                seen = c.get(f"/api/v1/cases/{cases[w]}").json()["version"]
                body = {"version": seen, "case": {**CASE, "case_id": f"w{w}-u{i}"}}
                r = c.put(f"/api/v1/cases/{cases[w]}", json=body)
                with lock:
                    if r.status_code == 200:
                        wins.append((w, i, r.json()["version"]))
                    elif r.status_code == 409 and r.json()["error"]["code"] == "version_conflict":
                        conflicts.append(r.json()["error"]["details"]["current_version"])
                    else:
                        other.append(r.text)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other == []
    return wins, conflicts


def _history(server: Server, case_id: str) -> dict[int, str]:
    with server.client("auditor") as c:
        versions = c.get(f"/api/v1/cases/{case_id}/versions").json()
    return {v["version"]: v["data"].get("case_id") for v in versions[1:]}


def test_same_case(any_server: Server) -> None:
    case_id = _new_case(any_server)
    wins, conflicts = _hammer(any_server, [case_id] * WRITERS)
    assert len(wins) + len(conflicts) == WRITERS * UPDATES
    assert conflicts, "eight writers on one case should collide"
    assert _history(any_server, case_id) == {v: f"w{w}-u{i}" for w, i, v in wins}
    with any_server.client("auditor") as c:
        assert c.get(f"/api/v1/cases/{case_id}").json()["version"] == len(wins) + 1


def test_different_cases(any_server: Server) -> None:
    cases = [_new_case(any_server) for _ in range(WRITERS)]
    wins, conflicts = _hammer(any_server, cases)
    assert conflicts == [] and len(wins) == WRITERS * UPDATES
    for w, case_id in enumerate(cases):
        assert _history(any_server, case_id) == {v: f"w{w}-u{i}" for ww, i, v in wins if ww == w}
