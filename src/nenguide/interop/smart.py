"""SMART App Launch 2.x client (https://hl7.org/fhir/smart-app-launch/): the steps between the
EHR's launch request and the patient's FHIR data, as plain functions over an ``httpx.Client``.

1. discovery: ``GET {iss}/.well-known/smart-configuration`` (:func:`discover`);
2. authorization request with PKCE (RFC 7636, ``S256`` only) and ``state`` (:func:`authorize_url`);
3. token request: the code, the ``code_verifier`` and the registered redirect URI, as a public
   client (:func:`exchange_code`); the patient in context comes with the token response;
4. the EHR user from the OpenID Connect ``id_token`` (``fhirUser``), verified against the
   server's ``jwks_uri`` with PyJWT (:func:`fhir_user`);
5. the patient's resources read from the FHIR server with the access token, with the same
   queries as the CDS Hooks prefetch, as one Bundle for :func:`nenguide.interop.fhir.import_bundle`
   (:func:`fetch_patient_bundle`).

The HTTP pages that drive these steps (cookies, session, MDT store) are ``nenguide.web.smart``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from nenguide.interop import cdshooks

#: FHIR resource types read (the data of docs/fhir.md), one ``patient/<type>.rs`` scope each.
RESOURCE_TYPES = (
    "Patient",
    "Condition",
    "Observation",
    "Procedure",
    "MedicationStatement",
    "MedicationAdministration",
    "FamilyMemberHistory",
    "List",
)
_READ = " ".join(f"patient/{t}.rs" for t in RESOURCE_TYPES)
#: EHR launch: ``launch`` asks for the EHR's context; ``openid fhirUser`` for who the user is.
SCOPE_EHR = f"launch openid fhirUser {_READ}"
#: Standalone launch: ``launch/patient`` asks the authorization server to choose a patient.
SCOPE_STANDALONE = f"launch/patient openid fhirUser {_READ}"
#: Algorithms accepted on the ``id_token`` (SMART requires RS256 support).
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "ES256", "ES384")
TIMEOUT = 10.0


class SmartError(Exception):
    """A launch step failed; ``code`` is short and stable, ``str()`` says what happened."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SmartConfiguration:
    """The fields of ``.well-known/smart-configuration`` that the launch uses."""

    fhir_base: str
    authorization_endpoint: str
    token_endpoint: str
    issuer: str | None
    jwks_uri: str | None


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    patient: str
    scope: str
    id_token: str | None


def normalise_iss(iss: str) -> str:
    """The FHIR base URL as compared with the allow-list (no trailing slash)."""
    return iss.strip().rstrip("/")


def new_state() -> str:
    return secrets.token_urlsafe(32)


def new_verifier() -> str:
    """A PKCE ``code_verifier``: 43 to 128 characters of the unreserved set (RFC 7636 §4.1)."""
    return secrets.token_urlsafe(48)  # 64 characters


def challenge(verifier: str) -> str:
    """``code_challenge`` for method S256: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _json(r: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = r.json()
    except ValueError:
        raise SmartError("bad_response", f"{what} did not answer JSON") from None
    if not isinstance(body, dict):
        raise SmartError("bad_response", f"{what} did not answer a JSON object")
    return body


def _url(body: dict[str, Any], key: str, required: bool = True) -> str | None:
    v = body.get(key)
    if isinstance(v, str) and v.startswith(("https://", "http://")):
        return v
    if required:
        raise SmartError("bad_configuration", f"smart-configuration has no usable '{key}' URL")
    return None


def discover(client: httpx.Client, iss: str) -> SmartConfiguration:
    """Read the FHIR server's SMART configuration; a server that does not offer PKCE with S256
    (SMART 2.x requires it) is refused."""
    base = normalise_iss(iss)
    url = f"{base}/.well-known/smart-configuration"
    try:
        r = client.get(url, headers={"Accept": "application/json"}, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise SmartError("discovery_failed", f"{url} could not be read: {exc}") from None
    if r.status_code != 200:
        raise SmartError("discovery_failed", f"{url} answered HTTP {r.status_code}")
    body = _json(r, url)
    methods = body.get("code_challenge_methods_supported")
    if not isinstance(methods, list) or "S256" not in methods:
        raise SmartError(
            "bad_configuration",
            "the authorization server does not list PKCE method S256 "
            "(code_challenge_methods_supported), which SMART App Launch 2 requires",
        )
    issuer = body.get("issuer")
    return SmartConfiguration(
        fhir_base=base,
        authorization_endpoint=str(_url(body, "authorization_endpoint")),
        token_endpoint=str(_url(body, "token_endpoint")),
        issuer=issuer if isinstance(issuer, str) and issuer else None,
        jwks_uri=_url(body, "jwks_uri", required=False),
    )


def authorize_url(
    cfg: SmartConfiguration,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    verifier: str,
    launch: str | None,
) -> str:
    """The authorization request (SMART App Launch 2, "Obtain authorization code")."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPE_EHR if launch else SCOPE_STANDALONE,
        "state": state,
        "aud": cfg.fhir_base,
        "code_challenge": challenge(verifier),
        "code_challenge_method": "S256",
    }
    if launch:
        params["launch"] = launch
    sep = "&" if "?" in cfg.authorization_endpoint else "?"
    return cfg.authorization_endpoint + sep + urlencode(params)


def exchange_code(
    client: httpx.Client,
    cfg: SmartConfiguration,
    *,
    code: str,
    verifier: str,
    client_id: str,
    redirect_uri: str,
) -> TokenResponse:
    """Trade the authorization code for an access token (public client: ``client_id`` in the
    body, no secret; the ``code_verifier`` proves this is the client that asked)."""
    try:
        r = client.post(
            cfg.token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "code_verifier": verifier,
            },
            headers={"Accept": "application/json"},
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as exc:
        raise SmartError("token_failed", f"the token endpoint failed: {exc}") from None
    body = _json(r, "the token endpoint")
    if r.status_code != 200:
        err = str(body.get("error") or f"HTTP {r.status_code}")[:100]
        desc = str(body.get("error_description") or "")[:200]
        msg = f"the EHR refused the token request: {err} {desc}".strip()
        raise SmartError("token_refused", msg)
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise SmartError("token_failed", "the token response has no access_token")
    if str(body.get("token_type", "")).lower() != "bearer":
        raise SmartError("token_failed", "the token response's token_type is not Bearer")
    patient = body.get("patient")
    if not isinstance(patient, str) or not patient or "/" in patient:
        raise SmartError(
            "no_patient",
            "the EHR gave no patient in context (token response 'patient'): launch nenguide "
            "from a patient's chart",
        )
    id_token = body.get("id_token")
    return TokenResponse(
        access_token=token,
        patient=patient,
        scope=str(body.get("scope") or ""),
        id_token=id_token if isinstance(id_token, str) and id_token else None,
    )


def fhir_user(
    client: httpx.Client, cfg: SmartConfiguration, id_token: str | None, client_id: str
) -> str | None:
    """The ``fhirUser`` (else ``sub``) of a verified ``id_token``; None when the EHR sent none.
    A token that does not verify (signature from ``jwks_uri``, ``iss`` = the configuration's
    ``issuer``, ``aud`` = our client id, ``exp``) raises :class:`SmartError`."""
    if id_token is None:
        return None
    if not (cfg.jwks_uri and cfg.issuer):
        raise SmartError(
            "bad_id_token", "an id_token was sent but smart-configuration gives no issuer/jwks_uri"
        )
    try:
        header = jwt.get_unverified_header(id_token)
        r = client.get(cfg.jwks_uri, headers={"Accept": "application/json"}, timeout=TIMEOUT)
        r.raise_for_status()
        keys = jwt.PyJWKSet.from_dict(r.json())
        kid = header.get("kid")
        key = next((k for k in keys.keys if kid is None or k.key_id == kid), None)
        if key is None:
            raise SmartError("bad_id_token", f"no key '{kid}' in the EHR's jwks_uri")
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key=key.key,
            algorithms=list(ID_TOKEN_ALGORITHMS),
            audience=client_id,
            issuer=cfg.issuer,
            leeway=30,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except (jwt.PyJWTError, httpx.HTTPError, ValueError) as exc:
        raise SmartError("bad_id_token", f"the id_token was refused: {exc}") from None
    who = claims.get("fhirUser") or claims.get("sub")
    return str(who)[:150] if who else None


def fetch_patient_bundle(
    client: httpx.Client, fhir_base: str, patient_id: str, access_token: str
) -> dict[str, Any]:
    """The patient's resources (the CDS Hooks prefetch queries) as one collection Bundle."""
    headers = {"Accept": "application/fhir+json", "Authorization": f"Bearer {access_token}"}
    got: dict[str, Any] = {}
    for key in cdshooks.PREFETCH:
        url = f"{fhir_base}/{cdshooks.query(key, patient_id)}"
        try:
            r = client.get(url, headers=headers, timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            raise SmartError("fhir_failed", f"reading {key} from the EHR failed: {exc}") from None
        if r.status_code != 200:
            msg = f"reading {key} from the EHR answered HTTP {r.status_code}"
            raise SmartError("fhir_failed", msg)
        got[key] = _json(r, f"the FHIR server ({key})")
    try:
        return cdshooks.prefetch_bundle(got)
    except cdshooks.PrefetchError as exc:
        raise SmartError("fhir_failed", str(exc)) from None
