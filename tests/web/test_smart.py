"""SMART App Launch 2.x of the pages against a real ``nenguide serve`` and the loopback EHR double
(``smartehr.py``: discovery, /authorize, /token with PKCE, patient context, FHIR): EHR launch in
headless Chromium ending on the patient's case page with the FHIR-derived data; standalone
launch; and the refusals (bad state, wrong PKCE verifier, expired code, unknown issuer, an EHR
without S256)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from smartehr import CLIENT_ID, FHIR_USER, SmartEhr, smart_ehr
from webserver import WebServer, start, stop

from nenguide.interop import smart
from nenguide.web.smart_data import account_name

BUNDLE = Path(__file__).resolve().parents[2] / "src/nenguide/examples/fhir/pnet-g2-liver.json"
NAME = "Demo patient pnet-g2-liver (invented)"
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def ehr() -> Iterator[SmartEhr]:
    with smart_ehr(BUNDLE) as e:
        yield e


@pytest.fixture(scope="module")
def server(ehr: SmartEhr, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NENGUIDE_SMART_ISSUERS", ehr.fhir_base + "/")  # trailing "/" ignored
        mp.setenv("NENGUIDE_SMART_CLIENT_ID", CLIENT_ID)
        srv = start(tmp_path_factory.mktemp("smart-server"))
    ehr.redirect_uri = f"{srv.base_url}/smart/callback"
    yield srv
    stop(srv)


@pytest.fixture
def client(server: WebServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=60, headers=HTML) as c:
        yield c


def _authorize(client: httpx.Client, **params: str) -> str:
    """Launch, let the EHR authorize; the callback URL (with code and state) it redirects to."""
    r = client.get("/smart/launch", params=params)
    assert r.status_code == 302, r.text
    auth = r.headers["location"]
    q = parse_qs(urlsplit(auth).query)
    assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) == 43
    back = httpx.get(auth, timeout=30)
    assert back.status_code == 302, back.text
    loc = str(back.headers["location"])
    assert loc.startswith(f"{client.base_url}/smart/callback?")
    return loc


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    q = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query="&".join(f"{k}={v}" for k, v in q.items())).geturl()


def test_pkce_challenge_is_rfc7636_s256() -> None:
    # RFC 7636 Appendix B
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert smart.challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    v = smart.new_verifier()
    assert 43 <= len(v) <= 128 and v != smart.new_verifier()


def test_ehr_launch_in_browser_opens_the_patients_case(
    browser: Any, server: WebServer, ehr: SmartEhr
) -> None:
    launch = ehr.new_launch()
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{server.base_url}/smart/launch?iss={ehr.fhir_base}&launch={launch}")
        page.wait_for_url("**/cases/*")
        text = page.locator("main").inner_text()
        assert NAME in text, text[:2000]
        assert "Ki-67" in text and "G2" in text, text[:2000]
        case_url = page.url
        # the form is pre-filled from FHIR
        page.goto(case_url + "/edit")
        assert page.input_value("#f-pathology-ki67_percent") in ("8", "8.0")
        assert page.input_value("#f-patient-sex") == "female"
        who = page.locator(".who").inner_text()
        assert account_name(ehr.fhir_base, f"{ehr.fhir_base}/{FHIR_USER}") in who
    finally:
        ctx.close()
    assert any(r.startswith("POST /auth/token") for r in ehr.requests)


def test_standalone_launch_binds_a_clinician_session_and_reuses_the_case(
    client: httpx.Client, server: WebServer, ehr: SmartEhr
) -> None:
    r = client.get(_authorize(client))  # no iss: the one configured EHR
    assert r.status_code == 200, r.text
    assert "nenguide_session" in r.cookies
    target = r.text.split('id="smart-continue" href="')[1].split('"')[0]
    assert target.startswith("/cases/")
    page = client.get(target)
    assert page.status_code == 200 and NAME in page.text
    me = client.get("/api/v1/auth/me").json()
    assert me["role"] == "clinician"
    assert me["username"] == account_name(ehr.fhir_base, f"{ehr.fhir_base}/{FHIR_USER}")
    assert FHIR_USER in me["display_name"]
    # a second launch with the same EHR data opens the same case, no new version
    with httpx.Client(base_url=server.base_url, timeout=60, headers=HTML) as again:
        r2 = again.get(_authorize(again))
        assert r2.status_code == 200
        assert r2.text.split('id="smart-continue" href="')[1].split('"')[0] == target
    case_id = target.rsplit("/", 1)[1]
    case = client.get(f"/api/v1/cases/{case_id}").json()
    assert case["version"] == 1 and case["created_by"] == me["username"]
    # the account cannot log in with a password
    bad = httpx.post(
        f"{server.base_url}/api/v1/auth/login",
        json={"username": me["username"], "password": "!smart-launch-account: no password login"},
    )
    assert bad.status_code == 401


def test_bad_state_is_refused_and_the_code_is_not_used(client: httpx.Client, ehr: SmartEhr) -> None:
    callback = _authorize(client, iss=ehr.fhir_base)
    before = len([r for r in ehr.requests if r.startswith("POST")])
    r = client.get(_with_query(callback, state="forged-state"))
    assert r.status_code == 400 and "bad_state" in r.text
    assert "nenguide_session" not in r.cookies
    assert len([r for r in ehr.requests if r.startswith("POST")]) == before


def test_no_launch_cookie_is_refused(server: WebServer, client: httpx.Client) -> None:
    callback = _authorize(client)
    with httpx.Client(timeout=30, headers=HTML) as other_browser:
        r = other_browser.get(callback)
    assert r.status_code == 400 and "no_launch" in r.text


def test_wrong_pkce_verifier_is_refused_by_the_ehr(client: httpx.Client, ehr: SmartEhr) -> None:
    callback = _authorize(client)
    raw = client.cookies.get("nenguide_smart_launch")
    assert raw
    doc = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    doc["v"] = smart.new_verifier()  # an attacker's own launch cookie with a stolen code
    forged = base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")
    client.cookies.set("nenguide_smart_launch", forged, path="/smart/")
    r = client.get(callback)
    assert r.status_code == 400 and "token_refused" in r.text and "invalid_grant" in r.text
    assert "nenguide_session" not in r.cookies
    assert ehr.refusals[-1] == "PKCE verifier does not match"


def test_expired_code_is_refused(client: httpx.Client, ehr: SmartEhr) -> None:
    ehr.code_ttl = 0.0
    try:
        r = client.get(_authorize(client))
    finally:
        ehr.code_ttl = 60.0
    assert r.status_code == 400 and "invalid_grant" in r.text
    assert ehr.refusals[-1] == "code expired"
    assert "nenguide_session" not in r.cookies


def test_unknown_issuer_is_refused_without_contacting_it(
    client: httpx.Client, ehr: SmartEhr
) -> None:
    seen = len(ehr.requests)
    other = ehr.base_url + "/other-fhir"
    r = client.get("/smart/launch", params={"iss": other, "launch": "x"})
    assert r.status_code == 400 and "unknown_issuer" in r.text
    assert "nenguide_smart_launch" not in r.cookies
    assert len(ehr.requests) == seen


def test_an_ehr_without_pkce_s256_is_refused(ehr: SmartEhr) -> None:
    ehr.s256 = False
    try:
        with httpx.Client() as c, pytest.raises(smart.SmartError) as err:
            smart.discover(c, ehr.fhir_base)
    finally:
        ehr.s256 = True
    assert err.value.code == "bad_configuration" and "S256" in str(err.value)


def test_an_id_token_from_another_key_is_refused(ehr: SmartEhr) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    with httpx.Client() as c:
        cfg = smart.discover(c, ehr.fhir_base)
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        import jwt

        forged = jwt.encode(
            {"iss": ehr.fhir_base, "sub": "x", "aud": CLIENT_ID, "iat": 1, "exp": 2**40},
            other,
            algorithm="RS256",
            headers={"kid": "ehr-1"},
        )
        with pytest.raises(smart.SmartError) as err:
            smart.fhir_user(c, cfg, forged, CLIENT_ID)
    assert err.value.code == "bad_id_token"


def test_a_refused_launch_reads_in_the_users_language(client: httpx.Client, ehr: SmartEhr) -> None:
    """The SMART error page is translated like every other page (issue 9's rule): Chinese for a
    browser that chose Chinese, the detailed English message otherwise."""
    other = ehr.base_url + "/other-fhir"
    client.cookies.set("nenguide_lang", "zh-CN")  # the browser's choice (the client's jar)
    zh = client.get("/smart/launch", params={"iss": other, "launch": "x"})
    assert zh.status_code == 400
    assert "SMART启动失败（unknown_issuer）" in zh.text
    assert "不在允许启动nenguide的列表中" in zh.text
    assert "is not allowed to launch" not in zh.text
    client.cookies.set("nenguide_lang", "en")
    en = client.get("/smart/launch", params={"iss": other, "launch": "x"})
    assert "SMART launch failed (unknown_issuer)" in en.text
    assert "is not allowed to launch nenguide" in en.text
