"""CDS Hooks 2.0 authentication of the EHR against a running server outside demo mode: every call
carries ``Authorization: Bearer <JWT>`` signed with the EHR's private key; the server reads the
public keys from the JWK Set URL it is configured with. The EHR side is a test double that follows
the spec's "Trusting CDS Clients" section: a loopback HTTP server serving the JWK Set, and tokens
signed here with PyJWT (RSA and EC keys made by ``cryptography``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import polars as pl
import pytest
import sqlalchemy as sa
from apitest import PASSWORD, Server, _cli, launch, stop_server
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy.engine import make_url

from nenguide.api.cds_auth import CdsAuthError, CdsVerifier
from nenguide.batch.concordance import feedback_table

ISSUER = "https://ehr.example.org"
SERVICE = "/cds-services/nenguide-patient-view"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP384R1())
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key))
    return {**out, "kid": kid, "alg": alg, "use": "sig"}


JWKS = {
    "keys": [
        _jwk(RSA_KEY.public_key(), "ehr-rsa", "RS384"),
        _jwk(EC_KEY.public_key(), "ehr-ec", "ES384"),
    ]
}


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    """The EHR's JWK Set endpoint (test double on loopback)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(JWKS).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/jwks.json"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def cds(tmp_path_factory: pytest.TempPathFactory, jwks_url: str) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("cds-jwt")
    env = {
        "NENGUIDE_MIGRATE": "1",
        "NENGUIDE_CDS_ISSUERS": f"{ISSUER}, https://other-ehr.example.org",
        "NENGUIDE_CDS_JWKS_URL": jwks_url,
    }
    server = launch(f"sqlite:///{work / 'cds.db'}", work / "serve.log", env=env)
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def cds_pg(
    tmp_path_factory: pytest.TempPathFactory,
    jwks_url: str,
    pg_throwaway_db: Callable[[], AbstractContextManager[str]],
    pg_admin: Any,
) -> Iterator[tuple[Server, str]]:
    """The CDS Hooks service on PostgreSQL, deployed as docs/security.md says: schema made by
    the owner, the service connecting as a role that owns nothing; (server, owner's URL)."""
    work = tmp_path_factory.mktemp("cds-jwt-pg")
    role = f"nenguide_cds_{secrets.token_hex(4)}"
    with pg_admin.connect() as c:
        c.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
    try:
        with pg_throwaway_db() as url:
            up = _cli("db", "upgrade", "--database-url", url)
            assert up.returncode == 0, up.stderr
            grant = _cli("db", "grant-app-role", role, "--database-url", url)
            assert grant.returncode == 0, grant.stderr
            app_url = make_url(url).set(username=role).render_as_string(hide_password=False)
            env = {
                "NENGUIDE_CDS_ISSUERS": ISSUER,
                "NENGUIDE_CDS_JWKS_URL": jwks_url,
            }
            server = launch(app_url, work / "serve.log", "--no-migrate", env=env)
            try:
                yield server, url
            finally:
                stop_server(server)
    finally:
        with pg_admin.connect() as c:
            c.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def any_cds(request: pytest.FixtureRequest) -> tuple[Server, str]:
    """(server, database URL) of the CDS Hooks service on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        srv: Server = request.getfixturevalue("cds")
        return srv, f"sqlite:///{srv.log_path.parent / 'cds.db'}"
    pg: tuple[Server, str] = request.getfixturevalue("cds_pg")
    return pg


def token(
    aud: str,
    *,
    key: Any = RSA_KEY,
    alg: str = "RS384",
    kid: str = "ehr-rsa",
    iss: str = ISSUER,
    exp_in: int = 300,
    jti: str | None = None,
    headers: dict[str, Any] | None = None,
) -> str:
    now = int(time.time())
    claims = {
        "iss": iss,
        "aud": aud,
        "iat": now,
        "exp": now + exp_in,
        "jti": jti or str(uuid.uuid4()),
    }
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid, **(headers or {})})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def call(server: Server, bearer: str | None) -> httpx.Response:
    body = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/1", "patientId": "p1"},
        "prefetch": {},
    }
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return httpx.post(server.base_url + SERVICE, json=body, headers=headers, timeout=30)


def _refused(r: httpx.Response, why: str) -> None:
    assert r.status_code == 401, r.text
    err = r.json()["error"]
    assert err["code"] == "cds_hooks_unauthenticated"
    assert why in err["message"], err["message"]


def test_signed_tokens_are_accepted(cds: Server, jwks_url: str) -> None:
    aud = cds.base_url + SERVICE
    for t in (
        token(aud),
        token(aud, key=EC_KEY, alg="ES384", kid="ehr-ec"),
        token(aud, headers={"jku": jwks_url}),  # jku equal to the configured URL
    ):
        r = call(cds, t)
        # authenticated: the request itself is then checked (no prefetch data -> 412)
        assert r.status_code == 412, r.text
    r = httpx.get(
        cds.base_url + "/cds-services",
        headers={"Authorization": f"Bearer {token(cds.base_url + '/cds-services')}"},
    )
    assert r.status_code == 200 and r.json()["services"][0]["id"] == "nenguide-patient-view"


def test_missing_or_wrong_tokens_are_refused(cds: Server) -> None:
    aud = cds.base_url + SERVICE
    _refused(call(cds, None), "Authorization: Bearer")
    _refused(httpx.get(cds.base_url + "/cds-services"), "Authorization: Bearer")
    _refused(call(cds, token(cds.base_url + "/cds-services")), "aud must be")  # wrong aud
    _refused(call(cds, token(aud, exp_in=-120)), "expired (exp)")
    _refused(call(cds, token(aud, iss="https://evil.example.org")), "trusted issuer")
    _refused(call(cds, token(aud, kid="nope")), "no key with kid 'nope'")
    _refused(call(cds, token(aud, key=OTHER_KEY)), "Signature verification failed")
    _refused(call(cds, token(aud, headers={"jku": "https://evil.example.org/jwks"})), "jku")
    _refused(call(cds, "not-a-jwt"), "not a JWT")


def test_replayed_jti_is_refused(cds: Server) -> None:
    t = token(cds.base_url + SERVICE)
    assert call(cds, t).status_code == 412
    _refused(call(cds, t), "replayed")


def test_alg_none_and_hmac_with_the_public_key_are_refused(cds: Server) -> None:
    aud = cds.base_url + SERVICE
    claims = {"iss": ISSUER, "aud": aud, "iat": int(time.time()), "exp": int(time.time()) + 300}
    head = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "ehr-rsa"}).encode())
    unsigned = f"{head}.{_b64(json.dumps({**claims, 'jti': 'x1'}).encode())}."
    _refused(call(cds, unsigned), "alg 'none' is not accepted")
    # the classic confusion attack: HS256 keyed with the PEM of the EHR's public key
    pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "ehr-rsa"}).encode())
    body = _b64(json.dumps({**claims, "jti": "x2"}).encode())
    sig = _b64(hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest())
    _refused(call(cds, f"{head}.{body}.{sig}"), "alg 'HS256' is not accepted")


def test_a_jwks_file_and_unconfigured_service(tmp_path: Path, server: Server) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(JWKS), encoding="utf-8")
    v = CdsVerifier(frozenset([ISSUER]), None, str(path))
    aud = "https://nenguide.example.org" + SERVICE
    assert v.verify(f"Bearer {token(aud)}", aud)["iss"] == ISSUER
    path.write_text(json.dumps({"keys": JWKS["keys"][1:]}), encoding="utf-8")  # RSA key removed
    with pytest.raises(CdsAuthError, match="no key with kid 'ehr-rsa'"):
        v.verify(f"Bearer {token(aud)}", aud)
    # outside demo mode, without the settings: 503 naming them
    r = httpx.get(server.base_url + "/cds-services")
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "cds_hooks_not_configured"
    assert "NENGUIDE_CDS_ISSUERS" in r.json()["error"]["message"]
    assert "NENGUIDE_CDS_JWKS_URL" in r.json()["error"]["message"]


def test_feedback_is_stored_with_an_audit_entry(any_cds: tuple[Server, str]) -> None:
    cds, db_url = any_cds
    url = cds.base_url + SERVICE + "/feedback"
    cards = [str(uuid.uuid4()), str(uuid.uuid4())]
    body = {
        "feedback": [
            {"card": cards[0], "outcome": "accepted", "outcomeTimestamp": "2026-12-04T10:00:00Z"},
            {
                "card": cards[1],
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {"code": "patient_preference", "display": "Patient preference"},
                    "userComment": "declined PRRT",
                },
                "outcomeTimestamp": "2026-12-04T10:05:00+08:00",
            },
        ]
    }
    _refused(httpx.post(url, json=body), "Authorization: Bearer")
    # a token for the service call is not one for its feedback endpoint (aud)
    wrong = {"Authorization": f"Bearer {token(cds.base_url + SERVICE)}"}
    _refused(httpx.post(url, json=body, headers=wrong), "aud must be")
    bad = {"feedback": [{"card": "x", "outcome": "maybe", "outcomeTimestamp": "today"}]}
    r = httpx.post(url, json=bad, headers={"Authorization": f"Bearer {token(url)}"})
    assert r.status_code == 422, r.text
    paths = {f["path"] for f in r.json()["error"]["fields"]}
    assert paths == {"feedback[0].card", "feedback[0].outcome", "feedback[0].outcomeTimestamp"}
    # a time at the calendar's edge cannot be stored in UTC: it was an HTTP 500 (session 24)
    edge = {
        "card": cards[0],
        "outcome": "accepted",
        "outcomeTimestamp": "9999-12-31T23:59:59-14:00",
    }
    r = httpx.post(
        url, json={"feedback": [edge]}, headers={"Authorization": f"Bearer {token(url)}"}
    )
    assert r.status_code == 422, r.text
    assert [f["path"] for f in r.json()["error"]["fields"]] == ["feedback[0].outcomeTimestamp"]
    r = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token(url)}"})
    assert r.status_code == 200 and r.json() == {"stored": 2}, r.text
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as c:
            rows = c.execute(
                sa.text(
                    "SELECT card_uuid, outcome, override_code, override_comment, issuer"
                    " FROM cds_feedback ORDER BY outcome"
                )
            ).all()
            audited = c.execute(
                sa.text("SELECT actor FROM audit_log WHERE action = 'cds.feedback'")
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [
        (cards[0], "accepted", None, None, ISSUER),
        (cards[1], "overridden", "patient_preference", "declined PRRT", ISSUER),
    ]
    assert [a for (a,) in audited] == [f"cds:{ISSUER}"] * 2
    # exported for the concordance audit (an auditor's session), where it is an indicator
    made = _cli(
        "user",
        "create",
        "fb-auditor",
        "--role",
        "auditor",
        "--password-stdin",
        "--database-url",
        db_url,
        stdin=PASSWORD + "\n",
    )
    assert made.returncode == 0, made.stderr
    with cds.client(token=cds.login("fb-auditor")) as c:
        exported = c.get("/api/v1/cds-feedback")
    assert exported.status_code == 200, exported.text
    assert [(f["outcome"], f["override_code"]) for f in exported.json()] == [
        ("accepted", None),
        ("overridden", "patient_preference"),
    ]
    overall = (
        feedback_table(exported.json()).filter(pl.col("dimension") == "overall").row(0, named=True)
    )
    assert (overall["concordant"], overall["not_concordant"], overall["rate"]) == (1, 1, 0.5)
