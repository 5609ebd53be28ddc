"""The meeting page over HTTP: attendees recorded for the minutes, the agenda reordered with
buttons, the board following the new order, and the departure reasons on offer (issue 9)."""

from __future__ import annotations

import re

from test_page_security import _login
from webserver import WebServer

CASE = {
    "tumour": {"primary_site": "rectum", "size_cm": 0.8, "extent": "submucosa"},
    "pathology": {"differentiation": "well", "ki67_percent": 1},
}


def test_attendees_and_agenda_order(web: WebServer) -> None:
    coord, token = _login(web, "coordinator")
    r = coord.post(
        "/meetings",
        data={"csrf": token, "title": "Order MDT", "scheduled_at": "2030-02-06T14:00"},
    )
    assert r.status_code == 303
    murl = r.headers["location"]
    mid = murl.rsplit("/", 1)[1]
    names = ["Agenda First", "Agenda Second"]
    with web.api("clinician") as api:
        for n in names:
            p = api.post("/api/v1/patients", json={"name": n}).json()
            c = api.post(
                f"/api/v1/patients/{p['id']}/cases", json={"title": n, "case": CASE}
            ).json()
            api.post(f"/api/v1/cases/{c['id']}/assessments", json={})
            r = coord.post(f"/cases/{c['id']}/agenda", data={"csrf": token, "meeting_id": mid})
            assert r.status_code == 303

    def order() -> list[str]:
        page = coord.get(murl).text
        return re.findall(r"<strong>(Agenda \w+)</strong></a>", page)

    assert order() == names
    page = coord.get(murl).text
    second = re.findall(r'<li id="item-([0-9a-f-]+)">', page)[1]
    r = coord.post(f"/meetings/{mid}/items/{second}/move", data={"csrf": token, "direction": "up"})
    assert r.status_code == 303
    assert order() == names[::-1]
    # the board presents the agenda in its new order
    assert "Agenda Second" in coord.get(f"/meetings/{mid}/board?item=1").text
    # a move without its CSRF token is refused
    assert coord.post(f"/meetings/{mid}/items/{second}/move", data={}).status_code == 403

    # attendees: a name is needed, a specialty from the list; shown in the minutes
    r = coord.post(
        f"/meetings/{mid}/attendees", data={"csrf": token, "name": "", "specialty": "pathology"}
    )
    assert r.status_code == 422 and "This field is required" in r.text
    r = coord.post(
        f"/meetings/{mid}/attendees", data={"csrf": token, "name": "Dr Li", "specialty": "chef"}
    )
    assert r.status_code == 422 and 'value="Dr Li"' in r.text
    for name, sp in (("Dr Li", "pathology"), ("Dr <i>Wu</i>", "nuclear_medicine")):
        r = coord.post(
            f"/meetings/{mid}/attendees", data={"csrf": token, "name": name, "specialty": sp}
        )
        assert r.status_code == 303
    page = coord.get(murl).text
    assert "Nuclear medicine: <strong>Dr &lt;i&gt;Wu&lt;/i&gt;</strong>" in page
    minutes = coord.get(f"/meetings/{mid}/minutes", params={"format": "html", "lang": "zh-CN"})
    assert "Dr Li（病理科）" in minutes.text and "核医学科" in minutes.text
    # remove one
    li = re.search(r"/attendees/([0-9a-f-]+)/remove", page).group(1)  # type: ignore[union-attr]
    r = coord.post(f"/meetings/{mid}/attendees/{li}/remove", data={"csrf": token})
    assert r.status_code == 303
    assert coord.get(murl).text.count("/remove") == 1

    # the departure reasons pathway programmes see most are offered on the board
    board = coord.get(f"/meetings/{mid}/board?item=1").text
    for reason in ("newer_evidence", "prior_toxicity"):
        assert f'value="{reason}"' in board

    # an auditor sees the page but no write buttons
    auditor, _ = _login(web, "auditor")
    ro = auditor.get(murl).text
    assert "Dr Li" in ro and "/move" not in ro and 'action="/meetings/' not in ro
