"""A small EHR on loopback: a SMART App Launch 2.x authorization server and a FHIR R4 server, the
test double that nenguide's real SMART client (``nenguide.interop.smart``, ``nenguide.web.smart``)
talks to. It follows the SMART App Launch 2.x specification
(https://hl7.org/fhir/smart-app-launch/app-launch.html) for what a launch uses:

- ``GET /fhir/.well-known/smart-configuration``: the discovery document (``issuer``,
  ``jwks_uri``, ``authorization_endpoint``, ``token_endpoint``, ``code_challenge_methods_supported``
  = ``["S256"]``, the capabilities ``launch-ehr``, ``launch-standalone``, ``client-public``,
  ``context-ehr-patient``, ``context-standalone-patient``, ``sso-openid-connect``,
  ``permission-v2``);
- ``GET /auth/authorize``: checks ``response_type=code``, the registered ``client_id`` and
  ``redirect_uri``, ``aud`` = the FHIR base URL, a ``state``, a PKCE ``code_challenge`` with
  method ``S256``, and either a known ``launch`` id (EHR launch: the launch's patient) or the
  ``launch/patient`` scope (standalone: the configured patient; a real EHR would ask the user to
  log in, approve and pick a patient; the double approves at once), then redirects to
  ``redirect_uri?code=...&state=...`` (or with ``error=...`` per RFC 6749 §4.1.2.1);
- ``POST /auth/token``: ``grant_type=authorization_code``; the code must be known, unused and
  not expired, with the same ``redirect_uri`` and ``client_id``, and BASE64URL(SHA256
  (``code_verifier``)) must equal the challenge; answers ``access_token``, ``token_type``
  Bearer, ``expires_in``, ``scope``, the ``patient`` launch context and an ``id_token`` (RS256,
  ``fhirUser`` claim) signed with the key published at ``/auth/jwks``; errors are RFC 6749 §5.2
  (``invalid_grant``, ``invalid_request``, ``invalid_client``);
- ``GET /fhir/Patient/{id}`` and ``GET /fhir/{type}?patient={id}`` (searchset Bundles) with the
  access token as Bearer (401 without it), from a Bundle file.

Every request is logged in ``requests`` and every token-endpoint refusal in ``refusals``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "nenguide-test-client"
FHIR_USER = "Practitioner/dr-invented-1"


@dataclass
class SmartEhr:
    base_url: str
    resources: list[dict[str, Any]]
    patient_id: str
    redirect_uri: str = ""
    code_ttl: float = 60.0
    s256: bool = True
    launches: dict[str, str] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    key: Any = None

    @property
    def fhir_base(self) -> str:
        return f"{self.base_url}/fhir"

    def new_launch(self) -> str:
        lid = secrets.token_urlsafe(8)
        self.launches[lid] = self.patient_id
        return lid

    def jwks(self) -> dict[str, Any]:
        pub = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**pub, "kid": "ehr-1", "use": "sig", "alg": "RS256"}]}

    def config(self) -> dict[str, Any]:
        return {
            "issuer": self.fhir_base,
            "jwks_uri": f"{self.base_url}/auth/jwks",
            "authorization_endpoint": f"{self.base_url}/auth/authorize",
            "token_endpoint": f"{self.base_url}/auth/token",
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"] if self.s256 else ["plain"],
            "scopes_supported": ["openid", "fhirUser", "launch", "launch/patient", "patient/*.rs"],
            "response_types_supported": ["code"],
            "capabilities": [
                "launch-ehr",
                "launch-standalone",
                "client-public",
                "context-ehr-patient",
                "context-standalone-patient",
                "sso-openid-connect",
                "permission-v2",
            ],
        }

    # -- /auth/authorize ----------------------------------------------------------------------
    def authorize(self, q: dict[str, str]) -> tuple[int, dict[str, str]]:
        """(status, headers): a redirect to the client, or 400 when the redirect URI itself
        cannot be trusted (RFC 6749 §4.1.2.1: never redirect then)."""
        if q.get("client_id") != CLIENT_ID or q.get("redirect_uri") != self.redirect_uri:
            return 400, {}

        def back(**params: str) -> tuple[int, dict[str, str]]:
            params["state"] = q.get("state", "")
            return 302, {"Location": f"{self.redirect_uri}?{urlencode(params)}"}

        scopes = set(q.get("scope", "").split())
        if q.get("response_type") != "code" or not q.get("state"):
            return back(error="invalid_request")
        if q.get("aud") != self.fhir_base:
            return back(error="invalid_request", error_description="aud is not this FHIR server")
        if q.get("code_challenge_method") != "S256" or len(q.get("code_challenge", "")) != 43:
            return back(error="invalid_request", error_description="PKCE S256 required")
        if "launch" in q:
            patient = self.launches.pop(q["launch"], None)
            if patient is None or "launch" not in scopes:
                return back(error="invalid_request", error_description="unknown launch")
        elif "launch/patient" in scopes:
            patient = self.patient_id
        else:
            return back(error="invalid_scope")
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "challenge": q["code_challenge"],
            "redirect_uri": q["redirect_uri"],
            "patient": patient,
            "scope": q.get("scope", ""),
            "issued": time.monotonic(),
        }
        return back(code=code)

    # -- /auth/token --------------------------------------------------------------------------
    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        def refuse(error: str, why: str) -> tuple[int, dict[str, Any]]:
            self.refusals.append(why)
            return 400, {"error": error, "error_description": why}

        if form.get("grant_type") != "authorization_code":
            return refuse("unsupported_grant_type", "grant_type")
        if form.get("client_id") != CLIENT_ID:
            return refuse("invalid_client", "client_id")
        grant = self.codes.pop(form.get("code", ""), None)  # a code is good for one use
        if grant is None:
            return refuse("invalid_grant", "unknown or used code")
        if time.monotonic() - grant["issued"] > self.code_ttl:
            return refuse("invalid_grant", "code expired")
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return refuse("invalid_grant", "redirect_uri differs")
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
            return refuse("invalid_grant", "PKCE verifier does not match")
        access = secrets.token_urlsafe(24)
        self.tokens[access] = grant["patient"]
        now = int(time.time())
        id_token = jwt.encode(
            {
                "iss": self.fhir_base,
                "sub": "dr-invented-1",
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 300,
                "fhirUser": f"{self.fhir_base}/{FHIR_USER}",
            },
            self.key,
            algorithm="RS256",
            headers={"kid": "ehr-1"},
        )
        return 200, {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": grant["scope"],
            "patient": grant["patient"],
            "id_token": id_token,
        }

    # -- FHIR ---------------------------------------------------------------------------------
    def fhir(self, path: list[str], query: dict[str, list[str]], auth: str) -> tuple[int, Any]:
        patient = self.tokens.get(auth.removeprefix("Bearer ")) if auth else None
        if patient is None:
            return 401, {"resourceType": "OperationOutcome", "issue": [{"code": "login"}]}
        if len(path) == 2 and path[0] == "Patient":
            if path[1] != patient:
                return 404, {"resourceType": "OperationOutcome", "issue": [{"code": "not-found"}]}
            return 200, next(r for r in self.resources if r["resourceType"] == "Patient")
        if len(path) != 1 or query.get("patient") != [patient]:
            return 403, {"resourceType": "OperationOutcome", "issue": [{"code": "forbidden"}]}
        hits = [r for r in self.resources if r["resourceType"] == path[0]]
        return 200, {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(hits),
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in hits],
        }


@contextmanager
def smart_ehr(bundle: Path) -> Iterator[SmartEhr]:
    """Start the double on a free loopback port, serving ``bundle``'s resources as one patient."""
    resources = [e["resource"] for e in json.loads(bundle.read_text(encoding="utf-8"))["entry"]]
    patient_id = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    holder: dict[str, SmartEhr] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            ehr = holder["ehr"]
            ehr.requests.append(f"GET {self.path}")
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            if parts.path == "/fhir/.well-known/smart-configuration":
                self._send(200, ehr.config())
            elif parts.path == "/auth/jwks":
                self._send(200, ehr.jwks())
            elif parts.path == "/auth/authorize":
                status, headers = ehr.authorize({k: v[0] for k, v in query.items()})
                self._send(status, None if status == 302 else {"error": "bad client"}, headers)
            elif parts.path.startswith("/fhir/"):
                path = parts.path[len("/fhir/") :].strip("/").split("/")
                status, body = ehr.fhir(path, query, self.headers.get("Authorization", ""))
                self._send(status, body)
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            ehr = holder["ehr"]
            ehr.requests.append(f"POST {self.path}")
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            if urlsplit(self.path).path != "/auth/token":
                self._send(404, {"error": "not found"})
                return
            if not self.headers.get("Content-Type", "").startswith(
                "application/x-www-form-urlencoded"
            ):
                self._send(400, {"error": "invalid_request"})
                return
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            status, body = ehr.token(form)
            self._send(status, body, {"Cache-Control": "no-store"})

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ehr = SmartEhr(f"http://127.0.0.1:{httpd.server_address[1]}", resources, patient_id)
    ehr.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    holder["ehr"] = ehr
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield ehr
    finally:
        httpd.shutdown()
        httpd.server_close()
