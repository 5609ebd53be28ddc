"""Security of the pages over HTTP against the real server: session cookie flags, CSRF on
every form, roles as in the API, escaping, the CSP header, and the report downloads of the
API. Also: the site parameters edited on the page change what /api/v1/assess answers."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import yaml
from webserver import PASSWORD, USERS, WebServer

from nenguide.cli import demo_cases

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _login(web: WebServer, role: str) -> tuple[httpx.Client, str]:
    c = httpx.Client(base_url=web.base_url, timeout=60, follow_redirects=False)
    page = c.get("/login")
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    r = c.post(
        "/login",
        data={"csrf": token, "username": USERS[role], "password": PASSWORD, "next": "/patients"},
    )
    assert r.status_code == 303, r.text
    cookie = r.headers.get_list("set-cookie")
    session = next(v for v in cookie if v.startswith("nenguide_session="))
    assert "HttpOnly" in session and "SameSite=strict" in session
    form = c.get("/patients")
    return c, CSRF.search(form.text).group(1)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def clinician(web: WebServer) -> tuple[httpx.Client, str]:
    return _login(web, "clinician")


def test_login_form_needs_its_csrf_token(web: WebServer) -> None:
    c = httpx.Client(base_url=web.base_url, timeout=30)
    r = c.post("/login", data={"username": USERS["clinician"], "password": PASSWORD})
    assert r.status_code == 403
    assert "nenguide_session" not in r.headers.get("set-cookie", "")


def test_every_write_form_rejects_a_missing_or_foreign_token(
    web: WebServer, clinician: tuple[httpx.Client, str]
) -> None:
    c, _ = clinician
    for path in ("/patients", "/meetings", "/language", "/logout", "/site"):
        for data in ({}, {"csrf": "x" * 64}):
            r = c.post(path, data={**data, "name": "Mallory", "title": "t", "lang": "zh-CN"})
            assert r.status_code == 403, (path, r.status_code)
    # nothing was created by the refused posts
    assert "Mallory" not in c.get("/patients").text


def test_roles_as_in_the_api(web: WebServer) -> None:
    auditor, atoken = _login(web, "auditor")
    assert auditor.get("/audit").status_code == 200
    assert auditor.get("/patients").status_code == 200
    r = auditor.post("/patients", data={"csrf": atoken, "name": "Not allowed"})
    assert r.status_code == 403
    assert "Register patient" not in auditor.get("/patients").text  # action hidden
    assert auditor.post("/site", data={"csrf": atoken}).status_code == 403
    coord, ctoken = _login(web, "coordinator")
    assert coord.get("/audit").status_code == 403
    pid = coord.post("/patients", data={"csrf": ctoken, "name": "Coord Patient"})
    assert pid.status_code == 303
    new_case = coord.get(pid.headers["location"] + "/cases/new")
    assert new_case.status_code == 403  # clinical data: clinicians and admins only
    anon = httpx.Client(base_url=web.base_url, timeout=30)
    r = anon.get("/patients")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_user_text_is_escaped(web: WebServer, clinician: tuple[httpx.Client, str]) -> None:
    c, token = clinician
    name = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    r = c.post("/patients", data={"csrf": token, "name": name, "mrn": "ESC-1"})
    page = c.get(r.headers["location"])
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    listing = c.get("/patients", params={"q": "<script>"})
    assert "&lt;script&gt;" in listing.text and "<script>alert" not in listing.text


def test_csp_and_vendored_docs(web: WebServer) -> None:
    c = httpx.Client(base_url=web.base_url, timeout=30)
    page = c.get("/login")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    for path, asset in (
        ("/docs", "/static/vendor/swagger-ui/swagger-ui-bundle.js"),
        ("/redoc", "/static/vendor/redoc/redoc.standalone.js"),
    ):
        html = c.get(path).text
        assert asset in html and "cdn" not in html.lower() and "https://" not in html
        assert c.get(asset).status_code == 200


def test_site_parameters_change_the_api_assessment(web: WebServer) -> None:
    admin, token = _login(web, "admin")
    case = json.loads(
        json.dumps(yaml.safe_load(demo_cases()["pnet-g2-liver"].read_text()), default=str)
    )
    with web.api("clinician") as api:
        before = api.post("/api/v1/assess", json=case).json()
    r = admin.post(
        "/site",
        data={
            "csrf": token,
            "name": "Test hospital",
            "item.surufatinib.available": "no",
            "item.surufatinib.note": "not stocked",
        },
    )
    assert r.status_code == 303
    assert "surufatinib" in (web.state_dir / "site-parameters.yaml").read_text()
    with web.api("clinician") as api:
        after = api.post("/api/v1/assess", json=case).json()
    suru = [o for o in after["treatment"] if "SURUFATINIB" in o["code"]]
    assert suru and all(o["available"] is False for o in suru)
    assert any(
        o["available"] is not False for o in before["treatment"] if "SURUFATINIB" in o["code"]
    )
    audit, _ = _login(web, "auditor")
    assert "site_parameters.update" in audit.get("/audit").text
    # back to the package defaults for the other tests
    (web.state_dir / "site-parameters.yaml").unlink()


def test_api_report_download(web: WebServer, clinician: tuple[httpx.Client, str]) -> None:
    with web.api("clinician") as api:
        p = api.post("/api/v1/patients", json={"name": "Report Patient"}).json()
        case = {
            "tumour": {"primary_site": "rectum", "size_cm": 0.8, "extent": "submucosa"},
            "pathology": {"differentiation": "well", "ki67_percent": 1},
        }
        c = api.post(f"/api/v1/patients/{p['id']}/cases", json={"title": "t", "case": case})
        cid = c.json()["id"]
        assert api.get(f"/api/v1/cases/{cid}/report").status_code == 404  # not assessed yet
        api.post(f"/api/v1/cases/{cid}/assessments", json={"lang": "zh-CN"})
        pdf = api.get(f"/api/v1/cases/{cid}/report", params={"lang": "zh-CN"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        html = api.get(f"/api/v1/cases/{cid}/report", params={"format": "html", "lang": "en"})
        assert "Assessment report" in html.text
        assert "script-src" not in html.headers["content-security-policy"]
    anon = httpx.get(f"{web.base_url}/api/v1/cases/{cid}/report", timeout=30)
    assert anon.status_code == 401


def test_a_failing_page_names_the_request_id(web: WebServer) -> None:
    """A broken site-parameter file (edited by hand) fails the page, not silently: the answer
    is an HTML page with the request id, and the log has the error."""
    admin, _ = _login(web, "admin")
    target = web.state_dir / "site-parameters.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("items: [not, a, mapping", encoding="utf-8")
    try:
        r = admin.get("/site", headers={"accept": "text/html"})  # as a browser asks
        api_style = admin.get("/site")  # a client that does not ask for HTML: the JSON envelope
    finally:
        target.unlink()
    assert api_style.status_code == 500
    assert api_style.json()["error"]["code"] == "internal_error"
    assert r.status_code == 500
    rid = r.headers["x-request-id"]
    assert f"<code>{rid}</code>" in r.text and "nothing was changed" in r.text
    assert admin.get("/site").status_code == 200


def test_site_page_keeps_what_it_does_not_edit(web: WebServer) -> None:
    admin, token = _login(web, "admin")
    target = web.state_dir / "site-parameters.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "nfpnet_small_default: surveillance\nunavailable: [telotristat]\n", encoding="utf-8"
    )
    try:
        r = admin.post("/site", data={"csrf": token, "prrt_krenning_min": "2"})
        assert r.status_code == 303
        saved = yaml.safe_load(target.read_text("utf-8"))
    finally:
        target.unlink()
    assert saved["nfpnet_small_default"] == "surveillance"
    assert saved["unavailable"] == ["telotristat"] and saved["prrt_krenning_min"] == 2


def test_a_forged_row_index_is_refused_not_built(
    web: WebServer, clinician: tuple[httpx.Client, str]
) -> None:
    """The case form is built row by row up to the largest row index it is sent: a forged
    index of 10^20 made the server build rows until it ran out of memory, and every other
    request waited (a probe, session 24). It is refused, naming the field, and the server
    still answers; an index inside the limit is still a row."""
    c, token = clinician
    pid = c.post("/patients", data={"csrf": token, "name": "Row Index"}).headers["location"]
    form = {"csrf": token, "title": "t", "tumour.primary_site": "rectum", "_save": "1"}
    for index in ("99999999999999999999", "200"):
        r = c.post(f"{pid}/cases", data={**form, f"pathology.ihc.{index}.marker": "x"})
        assert r.status_code == 413, (index, r.status_code)
        assert f"pathology.ihc.{index}.marker" in r.text and "200" in r.text
    assert httpx.get(f"{web.base_url}/api/v1/health", timeout=10).status_code == 200
    r = c.post(
        f"{pid}/cases",
        data={
            **form,
            "pathology.ihc.199.marker": "synaptophysin",
            "pathology.ihc.199.result": "positive",
        },
    )
    assert r.status_code in (303, 422), r.status_code


def test_a_follow_up_visit_is_never_recorded_on_another_date(
    web: WebServer, clinician: tuple[httpx.Client, str]
) -> None:
    """A completion date that does not exist (2026-02-30) was stored as today, silently, and
    a version that is not a number was an HTTP 500 (a probe, session 24). Both, and a date in
    the future, are refused and the task stays open; a real date is recorded as given."""
    c, token = clinician
    _, stored = web.patient_with_case("Visit Date", "VD-1")
    with web.api("clinician") as api:
        task = api.post(
            f"/api/v1/cases/{stored['id']}/follow-up-tasks",
            json={"due": "2026-11-01", "exams": ["CT"]},
        ).json()
    url = f"/followup/{task['id']}/complete"
    form = {"csrf": token, "version": "1", "result": "stable"}
    for bad in ({"completed_on": "2026-02-30"}, {"completed_on": "2999-01-01"},
                {"completed_on": "2026-11-20", "version": "abc"}):  # fmt: skip
        r = c.post(url, data={**form, **bad})
        assert r.status_code == 422, (bad, r.status_code)
    with web.api("clinician") as api:
        assert api.get(f"/api/v1/follow-up-tasks/{task['id']}").json()["status"] == "open"
    assert c.post(url, data={**form, "completed_on": "2026-11-20"}).status_code == 303
    with web.api("clinician") as api:
        done = api.get(f"/api/v1/follow-up-tasks/{task['id']}").json()
    assert done["status"] == "done" and done["completed_on"] == "2026-11-20"
