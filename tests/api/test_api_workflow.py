"""The MDT's day through the HTTP API of a running server: register a patient, record and edit
a case (versions, 409 on a stale edit), assess it, put it on a meeting, record the decision,
follow up, export and import. Every successful write is checked against the audit log by its
request id, and every write route must have been exercised. The server log must not contain
patient data."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from typing import Any

import httpx
import pytest
from apitest import Server, free_port

from nenguide.api import Settings, create_app
from nenguide.api.app import api_routes, route_roles

NAME, MRN = "Ma Xiaoling", "WF-7731"
PNET: dict[str, Any] = {
    "patient": {"age_years": 58, "sex": "female"},
    "tumour": {"primary_site": "pancreas", "size_cm": 3.4, "extent": "confined_to_pancreas"},
    "regional_nodes": {"examined": 14, "positive": 2},
    "metastases": {
        "status": "present",
        "liver": {"lesion_count": 5, "extent": "bilobar", "resectability": "unresectable"},
    },
    "pathology": {"differentiation": "well", "ki67_percent": 8, "mitoses_per_2mm2": 3},
    "staging_basis": "pathological",
}


class Recorder:
    """Sends requests with a fresh X-Request-Id and remembers the successful writes."""

    def __init__(self, server: Server):
        self.server = server
        self.writes: list[tuple[str, str, str]] = []  # (method, route template, request id)

    def call(
        self,
        role: str,
        method: str,
        template: str,
        *,
        status: int,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        **path: str,
    ) -> Any:
        url = template.format(**path)
        rid = uuid.uuid4().hex[:16]
        with self.server.client(role) as c:
            r = c.request(method, url, json=json_body, params=params, headers={"X-Request-Id": rid})
        assert r.status_code == status, (method, url, r.text)
        assert r.headers["x-request-id"] == rid
        if method != "GET" and r.status_code < 300:
            self.writes.append((method, template, rid))
        return r.json() if r.content else None


def _write_routes(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('w') / 'x.db'}"))
    out = set()
    for route in api_routes(app):
        for m in route.methods:
            if m != "GET" and route_roles(route) is not None:
                out.add((m, route.path))
    return out


AUTHORSHIP = {"created_at", "created_by", "updated_at", "updated_by", "recorded_by"}


def without_authorship(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: without_authorship(v) for k, v in doc.items() if k not in AUTHORSHIP}
    if isinstance(doc, list):
        return [without_authorship(v) for v in doc]
    return doc


def test_mdt_workflow(server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    rec = Recorder(server)
    call = rec.call

    # stateless assessment, and a field-path error
    a = call(
        "clinician",
        "POST",
        "/api/v1/assess",
        status=200,
        json_body=PNET,
        params={"as_of": "2026-11-23"},
    )
    assert a["classification"]["grade"] == "G2" and a["liver_metastasis_type"] == "III"
    assert a["guideline"]["id"] and a["engine_version"]
    rec.writes.pop()  # stateless: writes nothing
    bad = call(
        "clinician",
        "POST",
        "/api/v1/assess",
        status=422,
        json_body={"tumour": {"primary_site": "pancreas", "size_cm": 0}},
    )
    assert bad["error"]["fields"][0]["path"] == "tumour.size_cm"
    assert bad["error"]["fields"][0]["allowed"].startswith("a number greater than")

    # patient and case
    p = call(
        "coordinator",
        "POST",
        "/api/v1/patients",
        status=201,
        json_body={"name": NAME, "mrn": MRN, "birth_date": "1968-02-03", "sex": "female"},
    )
    call(
        "coordinator", "POST", "/api/v1/patients", status=409, json_body={"name": "Dup", "mrn": MRN}
    )
    found = call("auditor", "GET", "/api/v1/patients", status=200, params={"q": "WF-77"})
    assert [x["id"] for x in found["items"]] == [p["id"]]
    p2 = call(
        "coordinator",
        "PATCH",
        "/api/v1/patients/{pid}",
        status=200,
        pid=p["id"],
        json_body={"version": 1, "sex": "female", "birth_date": "1968-02-04"},
    )
    assert p2["version"] == 2
    call(
        "coordinator",
        "PATCH",
        "/api/v1/patients/{pid}",
        status=409,
        pid=p["id"],
        json_body={"version": 1, "name": "stale"},
    )

    bad = call(
        "clinician",
        "POST",
        "/api/v1/patients/{pid}/cases",
        status=422,
        pid=p["id"],
        json_body={
            "title": "x",
            "case": {"tumour": {"primary_site": "pancreas", "extent": "submucosa"}},
        },
    )
    assert bad["error"]["fields"][0]["path"] == "case.tumour.extent"
    c = call(
        "clinician",
        "POST",
        "/api/v1/patients/{pid}/cases",
        status=201,
        pid=p["id"],
        json_body={"title": "Pancreatic NET", "case": PNET, "comment": "referral"},
    )
    assert c["version"] == 1
    edited = {**PNET, "pathology": {**PNET["pathology"], "ki67_percent": 12}}
    c2 = call(
        "clinician",
        "PUT",
        "/api/v1/cases/{cid}",
        status=200,
        cid=c["id"],
        json_body={"version": 1, "case": edited, "comment": "review of Ki-67"},
    )
    assert c2["version"] == 2
    stale = call(
        "admin",
        "PUT",
        "/api/v1/cases/{cid}",
        status=409,
        cid=c["id"],
        json_body={"version": 1, "case": PNET},
    )
    assert stale["error"]["code"] == "version_conflict"
    assert stale["error"]["details"]["current_version"] == 2
    assert stale["error"]["details"]["current"]["data"]["pathology"]["ki67_percent"] == 12
    versions = call("auditor", "GET", "/api/v1/cases/{cid}/versions", status=200, cid=c["id"])
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["data"]["pathology"]["ki67_percent"] == 8
    v1 = call("auditor", "GET", "/api/v1/cases/{cid}/versions/{v}", status=200, cid=c["id"], v="1")
    assert v1["comment"] == "referral"
    assert (
        call("auditor", "GET", "/api/v1/patients/{pid}/cases", status=200, pid=p["id"])["total"]
        == 1
    )
    assert (
        call("auditor", "GET", "/api/v1/cases", status=200, params={"status": "open"})["total"] >= 1
    )

    # stored assessments, immutable and linked to versions
    a1 = call(
        "clinician",
        "POST",
        "/api/v1/cases/{cid}/assessments",
        status=201,
        cid=c["id"],
        json_body={"version": 1, "as_of": "2026-11-23"},
    )
    a2 = call(
        "clinician",
        "POST",
        "/api/v1/cases/{cid}/assessments",
        status=201,
        cid=c["id"],
        json_body={"as_of": "2026-11-23", "lang": "zh-CN"},
    )
    assert (a1["case_version"], a2["case_version"]) == (1, 2)
    assert a2["language"] == "zh-CN" and a2["result"]["language"] == "zh-CN"
    assert a1["guideline_version"] == a1["result"]["guideline"]["version"]
    assert a1["engine_version"] == a1["result"]["engine_version"]
    listed = call("auditor", "GET", "/api/v1/cases/{cid}/assessments", status=200, cid=c["id"])
    assert [x["id"] for x in listed] == [a1["id"], a2["id"]]
    assert call("auditor", "GET", "/api/v1/assessments/{aid}", status=200, aid=a1["id"]) == a1

    # meeting, attendees, agenda, decision
    m = call(
        "coordinator",
        "POST",
        "/api/v1/meetings",
        status=201,
        json_body={
            "title": "NEN MDT",
            "scheduled_at": "2026-12-03T13:00:00+08:00",
            "location": "Room 3",
        },
    )
    assert m["scheduled_at"].startswith("2026-12-03T05:00:00")
    call(
        "coordinator",
        "POST",
        "/api/v1/meetings",
        status=422,
        json_body={"title": "naive time", "scheduled_at": "2026-12-03T13:00:00"},
    )
    att = call(
        "coordinator",
        "POST",
        "/api/v1/meetings/{mid}/attendees",
        status=201,
        mid=m["id"],
        json_body={"name": "Dr Chen", "specialty": "pathology"},
    )
    call(
        "coordinator",
        "POST",
        "/api/v1/meetings/{mid}/attendees",
        status=201,
        mid=m["id"],
        json_body={"name": "Dr Sun", "specialty": "surgery"},
    )
    call(
        "coordinator",
        "DELETE",
        "/api/v1/meetings/{mid}/attendees/{aid}",
        status=204,
        mid=m["id"],
        aid=att["id"],
    )
    call(
        "coordinator",
        "POST",
        "/api/v1/meetings/{mid}/attendees",
        status=422,
        mid=m["id"],
        json_body={"name": "Dr X", "specialty": "astrology"},
    )
    item = call(
        "coordinator",
        "POST",
        "/api/v1/meetings/{mid}/agenda",
        status=201,
        mid=m["id"],
        json_body={
            "case_id": c["id"],
            "assessment_id": a2["id"],
            "question": "PRRT or everolimus?",
        },
    )
    assert item["case_version"] == 2
    other = call(
        "clinician",
        "POST",
        "/api/v1/patients/{pid}/cases",
        status=201,
        pid=p["id"],
        json_body={
            "title": "second primary?",
            "case": {"tumour": {"primary_site": "unknown_primary"}},
        },
    )
    item2 = call(
        "coordinator",
        "POST",
        "/api/v1/meetings/{mid}/agenda",
        status=201,
        mid=m["id"],
        json_body={"case_id": other["id"]},
    )
    call(
        "coordinator",
        "DELETE",
        "/api/v1/meetings/{mid}/agenda/{iid}",
        status=204,
        mid=m["id"],
        iid=item2["id"],
    )

    dec_url = "/api/v1/meetings/{mid}/agenda/{iid}/decision"
    err = call(
        "coordinator",
        "POST",
        dec_url,
        status=422,
        mid=m["id"],
        iid=item["id"],
        json_body={"plan_codes": [], "follows_guideline": False},
    )
    assert {f["path"] for f in err["error"]["fields"]} == {"plan_codes", "departure_reason"}
    err = call(
        "coordinator",
        "POST",
        dec_url,
        status=422,
        mid=m["id"],
        iid=item["id"],
        json_body={"plan_text": "PRRT", "follows_guideline": False, "departure_reason": "other"},
    )
    assert [f["path"] for f in err["error"]["fields"]] == ["departure_comment"]
    options = [t["code"] for t in a2["result"].get("treatment") or []]
    if options:  # plan codes must be treatment options of the assessment discussed
        err = call(
            "coordinator",
            "POST",
            dec_url,
            status=422,
            mid=m["id"],
            iid=item["id"],
            json_body={"plan_codes": ["NOT.AN.OPTION"], "follows_guideline": True},
        )
        assert err["error"]["fields"][0]["path"] == "plan_codes.0"
        assert options[0] in err["error"]["fields"][0]["allowed"]
    d1 = call(
        "coordinator",
        "POST",
        dec_url,
        status=201,
        mid=m["id"],
        iid=item["id"],
        json_body={"plan_codes": options[:1] or ["CSCO2021.TX.SSA"], "follows_guideline": True},
    )
    d2 = call(
        "clinician",
        "POST",
        dec_url,
        status=201,
        mid=m["id"],
        iid=item["id"],
        json_body={
            "plan_text": "Everolimus",
            "follows_guideline": False,
            "departure_reason": "drug_not_available",
            "departure_comment": "PRRT not available",
        },
    )
    assert d2["supersedes_id"] == d1["id"] and d2["assessment_id"] == a2["id"]
    full = call("auditor", "GET", "/api/v1/meetings/{mid}", status=200, mid=m["id"])
    assert full["agenda"][0]["decision"]["departure_reason"] == "drug_not_available"
    assert [x["specialty"] for x in full["attendees"]] == ["surgery"]
    m2 = call(
        "coordinator",
        "PATCH",
        "/api/v1/meetings/{mid}",
        status=200,
        mid=m["id"],
        json_body={"version": 1, "status": "held"},
    )
    assert m2["status"] == "held" and m2["version"] == 2
    call(
        "coordinator",
        "PATCH",
        "/api/v1/meetings/{mid}",
        status=409,
        mid=m["id"],
        json_body={"version": 1, "notes": "stale"},
    )
    listing = call(
        "auditor",
        "GET",
        "/api/v1/meetings",
        status=200,
        params={"from": "2026-12-01T00:00:00Z", "to": "2026-12-05T00:00:00Z"},
    )
    assert m["id"] in [x["id"] for x in listing["items"]]

    # follow-up: the engine has no schedule yet -> explicit tasks; due / overdue; completion
    visits = (a2["result"].get("follow_up") or {}).get("visits") or []
    if visits:  # the engine proposed a schedule: tasks come from it, once
        gen = call(
            "coordinator",
            "POST",
            "/api/v1/assessments/{aid}/follow-up-tasks",
            status=200,
            aid=a2["id"],
        )
        assert gen["created"] and [t["due"] for t in gen["items"]] == sorted(
            v["due"] for v in visits
        )
    else:  # an engine without a schedule: say so, and point to explicit tasks
        nosched = call(
            "coordinator",
            "POST",
            "/api/v1/assessments/{aid}/follow-up-tasks",
            status=422,
            aid=a2["id"],
        )
        assert "explicitly" in nosched["error"]["message"]
    t1 = call(
        "coordinator",
        "POST",
        "/api/v1/cases/{cid}/follow-up-tasks",
        status=201,
        cid=c["id"],
        json_body={"due": "2026-11-01", "exams": ["CT abdomen", "CgA"], "assessment_id": a2["id"]},
    )
    t2 = call(
        "clinician",
        "POST",
        "/api/v1/cases/{cid}/follow-up-tasks",
        status=201,
        cid=c["id"],
        json_body={"due": "2027-02-01", "exams": ["SSTR PET/CT"]},
    )
    overdue = call(
        "auditor",
        "GET",
        "/api/v1/follow-up-tasks",
        status=200,
        params={"overdue": "true", "as_of": "2026-11-23", "patient_id": p["id"]},
    )
    assert [x["id"] for x in overdue["items"]] == [t1["id"]] and overdue["items"][0]["overdue"]
    due = call(
        "auditor",
        "GET",
        "/api/v1/follow-up-tasks",
        status=200,
        params={"status": "open", "due_before": "2027-03-01", "case_id": c["id"]},
    )
    ids = [x["id"] for x in due["items"]]  # with the engine's schedule tasks, if any
    assert {t1["id"], t2["id"]} <= set(ids)
    assert [x["due"] for x in due["items"]] == sorted(x["due"] for x in due["items"])
    assert all(x["status"] == "open" and x["due"] <= "2027-03-01" for x in due["items"])
    done = call(
        "coordinator",
        "POST",
        "/api/v1/follow-up-tasks/{tid}/complete",
        status=200,
        tid=t1["id"],
        json_body={"version": 1, "result": "stable disease", "completed_on": "2026-11-20"},
    )
    assert done["status"] == "done" and not done["overdue"]
    call(
        "coordinator",
        "POST",
        "/api/v1/follow-up-tasks/{tid}/complete",
        status=409,
        tid=t1["id"],
        json_body={"version": 2, "result": "again"},
    )
    assert (
        call("auditor", "GET", "/api/v1/follow-up-tasks/{tid}", status=200, tid=t1["id"])["result"]
        == "stable disease"
    )

    # export, then import under new ids (the same record would be refused with 409)
    exported = call("auditor", "GET", "/api/v1/patients/{pid}/export", status=200, pid=p["id"])
    assert len(exported["cases"]) == 2 and len(exported["cases"][0]["versions"]) == 2
    assert exported["meetings"][0]["agenda"][0]["decision"]["id"] == d2["id"]
    call("clinician", "POST", "/api/v1/patients/import", status=409, json_body=exported)
    text = json.dumps(exported)
    for old in set(
        re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text)
    ):
        text = text.replace(old, str(uuid.uuid4()))
    copy = json.loads(text.replace(MRN, MRN + "-copy"))
    # An assessment made by an engine that proposes a follow-up schedule (as a later engine will)
    # (the first assessment: no tasks were generated from it yet, unlike the second)
    scheduled = copy["cases"][0]["assessments"][0]
    scheduled["result"]["follow_up"] = {
        "visits": [
            {"due": "2027-05-23", "exams": ["CT abdomen", "CgA"]},
            {"due": "2027-11-23", "exams": ["SSTR PET/CT"]},
        ]
    }
    imported = call("clinician", "POST", "/api/v1/patients/import", status=201, json_body=copy)
    again = call("auditor", "GET", "/api/v1/patients/{pid}/export", status=200, pid=imported["id"])
    for doc in (again, copy):
        doc.pop("exported_at")
    assert without_authorship(again) == without_authorship(copy)
    assert again["patient"]["created_by"] == "test-clinician"  # the importer, not the claim
    gen = call(
        "coordinator",
        "POST",
        "/api/v1/assessments/{aid}/follow-up-tasks",
        status=200,
        aid=scheduled["id"],
    )
    assert gen["created"] and [t["due"] for t in gen["items"]] == ["2027-05-23", "2027-11-23"]
    assert all(t["source"] == "schedule" for t in gen["items"])
    gen2 = call(
        "coordinator",
        "POST",
        "/api/v1/assessments/{aid}/follow-up-tasks",
        status=200,
        aid=scheduled["id"],
    )
    assert not gen2["created"] and gen2["items"] == gen["items"]
    rec.writes.pop()  # idempotent repeat: nothing written, nothing to audit

    # a token of each role can log out (write) -- recorded too
    token = server.login("test-auditor")
    with server.client(token=token) as cl:
        rid = uuid.uuid4().hex[:16]
        assert cl.post("/api/v1/auth/logout", headers={"X-Request-Id": rid}).status_code == 204
        rec.writes.append(("POST", "/api/v1/auth/logout", rid))
    with server.client("admin") as cl:
        rid = uuid.uuid4().hex[:16]
        r = cl.post(
            "/api/v1/users",
            json={"username": "wf-user", "role": "clinician", "password": "long enough password"},
            headers={"X-Request-Id": rid},
        )
        assert r.status_code == 201
        rec.writes.append(("POST", "/api/v1/users", rid))
        rid = uuid.uuid4().hex[:16]
        r = cl.patch(
            "/api/v1/users/wf-user", json={"role": "coordinator"}, headers={"X-Request-Id": rid}
        )
        assert r.status_code == 200
        rec.writes.append(("PATCH", "/api/v1/users/{username}", rid))

    # every successful write has its audit entry, found by request id
    with server.client("auditor") as cl:
        log: list[dict[str, Any]] = []
        after = None
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if after is not None:
                params["after_id"] = after
            page = cl.get("/api/v1/audit", params=params).json()
            log += page["items"]
            after = page["next_after_id"]
            if after is None:
                break
    by_rid: dict[str, list[dict[str, Any]]] = {}
    for e in log:
        by_rid.setdefault(e["request_id"], []).append(e)
    for method, template, rid in rec.writes:
        assert rid in by_rid, f"no audit entry for {method} {template}"
        assert all(e["actor"] and e["at"] for e in by_rid[rid])
    upd = next(e for e in by_rid[next(r for m_, t, r in rec.writes if t == "/api/v1/cases/{cid}")])
    assert upd["action"] == "case.update" and upd["actor"] == "test-clinician"
    assert upd["before"]["data"]["pathology"]["ki67_percent"] == 8
    assert upd["after"]["data"]["pathology"]["ki67_percent"] == 12
    # failed writes (409/422) leave no entry
    assert all(e["action"] != "case.update" or e["after"]["version"] != 1 for e in log)

    # every write route of the API was exercised above
    exercised = {
        (
            m_,
            t.replace("{pid}", "{patient_id}")
            .replace("{cid}", "{case_id}")
            .replace("{mid}", "{meeting_id}")
            .replace("{iid}", "{item_id}")
            .replace("{tid}", "{task_id}"),
        )
        for m_, t, _ in rec.writes
    }
    exercised = {
        (
            m_,
            t.replace("/attendees/{aid}", "/attendees/{attendee_id}").replace(
                "/assessments/{aid}", "/assessments/{assessment_id}"
            ),
        )
        for m_, t in exercised
    }
    stateless = {("POST", "/api/v1/assess"), ("POST", "/api/v1/fhir/assess")}
    missing = _write_routes(tmp_path_factory) - exercised - stateless
    assert missing == set()

    # no patient data in the server log
    server_log = server.log()
    for secret in (NAME, MRN, "1968-02-0", "Everolimus", "stable disease", p["id"], c["id"]):
        assert secret not in server_log, secret
    assert "PUT /api/v1/cases/{case_id} 409" in server_log


def test_error_envelope_shapes(server: Server) -> None:
    with server.client("clinician") as c:
        r = c.get("/api/v1/nowhere")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = c.get("/api/v1/patients/00000000-0000-0000-0000-000000000000")
        assert r.status_code == 404 and "no patient with id" in r.json()["error"]["message"]
        r = c.delete("/api/v1/patients")
        assert r.status_code == 405 and "allowed: " in r.json()["error"]["message"]
        r = c.post(
            "/api/v1/patients", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
        r = c.get("/api/v1/patients", params={"limit": 0})
        assert r.status_code == 422
        f = r.json()["error"]["fields"][0]
        assert f["path"] == "query:limit" and f["allowed"] == "a number greater than or equal to 1"
        r = c.post("/api/v1/patients", json={"name": "x", "colour": "blue"})
        assert r.json()["error"]["fields"][0] == {
            "path": "colour",
            "message": "Extra inputs are not permitted",
            "received": "blue",
            "allowed": "no such field",
        }


def test_internal_error_envelope_hides_the_message(
    tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    import threading

    import uvicorn

    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('e') / 'x.db'}", migrate=True)
    )

    @app.get("/boom")
    def boom() -> None:
        # built at run time: the traceback quotes source lines, which must not be the secret
        raise RuntimeError(" ".join(["patient", "Ma", "Xiaoling"]))

    # served by uvicorn in a thread of this process (a real HTTP server; the route above is
    # added to this app object, and caplog sees the server's log records)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if server.started:
                break
            time.sleep(0.05)
        assert server.started, "the in-process server did not start within 15 s"
        r = httpx.get(f"http://127.0.0.1:{server.config.port}/boom", timeout=30)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
    assert r.status_code == 500
    body = r.json()["error"]
    assert (
        body["code"] == "internal_error"
        and body["details"]["request_id"] == r.headers["x-request-id"]
    )
    assert "Ma Xiaoling" not in r.text and "Ma Xiaoling" not in caplog.text
    assert "RuntimeError" in caplog.text


def test_health_is_public(server: Server) -> None:
    r = httpx.get(f"{server.base_url}/api/v1/health")
    assert r.json()["status"] == "ok" and r.json()["database"] == "sqlite"
    assert r.json()["schema_revision"]
    assert dt.date.today()  # the server runs with the real clock; tests pass as_of explicitly
