"""8 writers x 50 updates, on one shared case and on one case each: no update is lost, and
every update that lost the race is reported as a conflict (nothing silently overwritten)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from nenguide import store
from nenguide.store import Actor, Database, VersionConflict

WRITERS, UPDATES = 8, 50
BASE: dict[str, Any] = {"tumour": {"primary_site": "ileum", "size_cm": 1.0}}


def _new_case(db: Database) -> str:
    with db.write() as s:
        p = store.patients.create_patient(s, Actor("setup"), name="Concurrency")
        return str(
            store.cases.create_case(s, Actor("setup"), patient_id=p["id"], title="c", data=BASE)[
                "id"
            ]
        )


def _run(
    db: Database, case_for: list[str]
) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]]]:
    wins: list[tuple[int, int, int]] = []  # (writer, attempt, version written)
    conflicts: list[tuple[int, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(WRITERS)

    def writer(w: int) -> None:
        actor = Actor(f"writer{w}", "clinician")
        start.wait()
        for i in range(UPDATES):
            with db.read() as s:
                seen = store.cases.get_case(s, case_for[w])["version"]
            data = {**BASE, "case_id": f"w{w}-u{i}"}
            try:
                with db.write() as s:
                    doc = store.cases.update_case(
                        s, actor, case_for[w], base_version=seen, data=data
                    )
                with lock:
                    wins.append((w, i, doc["version"]))
            except VersionConflict as exc:
                assert exc.details["current_version"] > seen
                with lock:
                    conflicts.append((w, i))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return wins, conflicts


def _check_history(db: Database, case_id: str, wins: list[tuple[int, int, int]]) -> None:
    with db.read() as s:
        versions = store.cases.list_versions(s, case_id)
        current = store.cases.get_case(s, case_id)
        audited = [
            e
            for e in store.audit.list_audit(s, entity_id=case_id, limit=10_000)
            if e["action"] == "case.update"
        ]
    assert [v["version"] for v in versions] == list(range(1, len(wins) + 2))
    assert current["version"] == len(wins) + 1
    written = {v["version"]: v["data"].get("case_id") for v in versions[1:]}
    assert written == {version: f"w{w}-u{i}" for w, i, version in wins}  # every win is kept
    assert len(audited) == len(wins)


def test_same_case(db: Database) -> None:
    case_id = _new_case(db)
    wins, conflicts = _run(db, [case_id] * WRITERS)
    assert len(wins) + len(conflicts) == WRITERS * UPDATES
    assert len({v for _, _, v in wins}) == len(wins)
    assert conflicts, "8 writers on one case should collide at least once"
    _check_history(db, case_id, wins)


def test_different_cases(db: Database) -> None:
    cases = [_new_case(db) for _ in range(WRITERS)]
    wins, conflicts = _run(db, cases)
    assert conflicts == []
    assert Counter(w for w, _, _ in wins) == dict.fromkeys(range(WRITERS), UPDATES)
    for w, case_id in enumerate(cases):
        _check_history(db, case_id, [x for x in wins if x[0] == w])
