"""Reordering a meeting's agenda and recording its attendees, on SQLite and PostgreSQL (the
meeting page's up/down buttons and attendee list, issue 9)."""

from __future__ import annotations

import datetime as dt

import pytest

from nenguide import store
from nenguide.store import Actor, Database, NotFound

BOB = Actor("bob", "coordinator", "req-2")
CASE = {"tumour": {"primary_site": "rectum"}, "pathology": {"differentiation": "well"}}


def _meeting_with_items(db: Database, n: int) -> tuple[str, list[str]]:
    with db.write() as s:
        mt = store.meetings.create_meeting(
            s, BOB, title="MDT", scheduled_at=dt.datetime(2026, 12, 9, 14, tzinfo=dt.UTC)
        )
        items = []
        for k in range(n):
            p = store.patients.create_patient(s, BOB, name=f"Patient {k}")
            c = store.cases.create_case(s, BOB, patient_id=p["id"], title=f"Case {k}", data=CASE)
            items.append(store.meetings.add_agenda_item(s, BOB, mt["id"], case_id=c["id"])["id"])
    return mt["id"], items


def _order(db: Database, meeting_id: str) -> list[str]:
    with db.read() as s:
        agenda = store.meetings.get_meeting(s, meeting_id)["agenda"]
    assert [i["position"] for i in agenda] == list(range(1, len(agenda) + 1))
    return [i["id"] for i in agenda]


def test_move_agenda_item(db: Database) -> None:
    mid, (a, b, c) = _meeting_with_items(db, 3)
    with db.write() as s:
        store.meetings.move_agenda_item(s, BOB, mid, c, position=1)
    assert _order(db, mid) == [c, a, b]
    with db.write() as s:
        store.meetings.move_agenda_item(s, BOB, mid, c, position=99)  # clamped to the end
    assert _order(db, mid) == [a, b, c]
    with db.write() as s:
        store.meetings.move_agenda_item(s, BOB, mid, a, position=0)  # already first: no change
        store.meetings.move_agenda_item(s, BOB, mid, b, position=1)
    assert _order(db, mid) == [b, a, c]
    with db.read() as s:
        moves = store.audit.list_audit(s, entity_type="meeting", entity_id=mid)
    moved = [e for e in moves if e["action"] == "meeting.agenda.move"]
    assert len(moved) == 3  # the no-op move is not audited
    assert moved[-1]["before"] == {"order": [a, b, c]}
    assert moved[-1]["after"] == {"order": [b, a, c]}


def test_move_needs_an_item_of_this_meeting(db: Database) -> None:
    _, (a,) = _meeting_with_items(db, 1)
    other, _ = _meeting_with_items(db, 1)
    with db.write() as s, pytest.raises(NotFound):
        store.meetings.move_agenda_item(s, BOB, other, a, position=1)


def test_items_added_after_a_move_go_last(db: Database) -> None:
    mid, (a, b) = _meeting_with_items(db, 2)
    with db.write() as s:
        store.meetings.move_agenda_item(s, BOB, mid, b, position=1)
        p = store.patients.create_patient(s, BOB, name="Late")
        c = store.cases.create_case(s, BOB, patient_id=p["id"], title="Late", data=CASE)
        late = store.meetings.add_agenda_item(s, BOB, mid, case_id=c["id"])["id"]
    assert _order(db, mid) == [b, a, late]


def test_attendees_for_the_minutes(db: Database) -> None:
    mid, _ = _meeting_with_items(db, 1)
    with db.write() as s:
        p = store.meetings.add_attendee(s, BOB, mid, name="Dr Li", specialty="pathology")
        store.meetings.add_attendee(s, BOB, mid, name="Dr Wu", specialty="nuclear_medicine")
        store.meetings.remove_attendee(s, BOB, mid, p["id"])
    with db.read() as s:
        got = store.meetings.get_meeting(s, mid)["attendees"]
    assert [(x["name"], x["specialty"]) for x in got] == [("Dr Wu", "nuclear_medicine")]
