"""SMART App Launch 2.x of the pages (EHR launch and standalone launch): ``GET /smart/launch``
and ``GET /smart/callback`` (the redirect URI to register at the EHR).

- ``/smart/launch?iss=<FHIR base>&launch=<id>`` (EHR launch) or ``/smart/launch[?iss=...]``
  (standalone; without ``iss`` when one EHR is configured): ``iss`` must be on
  ``NENGUIDE_SMART_ISSUERS``; discovery, then a redirect to the EHR's authorization endpoint with
  ``state`` and a PKCE S256 challenge. The state, the verifier and the issuer go into a
  short-lived HttpOnly cookie (``SameSite=Lax``, path ``/smart/``: it must come back on the EHR's
  cross-site redirect), so any worker can finish the launch.
- ``/smart/callback?code&state``: state compared in constant time with the cookie's, at most
  10 minutes old; the code is exchanged with the verifier; the patient in context and its
  resources are read from the FHIR server and mapped by :func:`import_bundle`; the EHR user gets
  a nenguide session (see :mod:`nenguide.web.smart_data`: role ``NENGUIDE_SMART_ROLE``, never
  admin) and the case page opens.

The session cookie is ``SameSite=Strict`` like a login's, and a Strict cookie set during a
cross-site redirect chain is not sent on the next hop: so the callback answers a small page of
this site that moves on to the case page itself (a same-site navigation).
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import time
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from nenguide.api.auth import CLINICAL_WRITE
from nenguide.interop import smart
from nenguide.interop.fhir import BundleError, ImportResult, import_bundle
from nenguide.report.texts import ui_texts
from nenguide.store import Actor
from nenguide.web import data, pages_patients, render, session, smart_data

router = APIRouter(include_in_schema=False)

COOKIE = "nenguide_smart_launch"
#: Longest time between the launch and the callback (seconds).
MAX_AGE = 600
#: How long a discovery document is reused (seconds).
DISCOVERY_TTL = 300.0


class SmartPageError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def issuers(settings: Any) -> frozenset[str]:
    return frozenset(
        smart.normalise_iss(x) for x in str(settings.smart_issuers).split(",") if x.strip()
    )


def _configured(request: Request) -> tuple[frozenset[str], str]:
    settings = request.app.state.settings
    allowed = issuers(settings)
    if not allowed or not settings.smart_client_id:
        raise SmartPageError(
            503,
            "smart_not_configured",
            "SMART App Launch is not configured on this nenguide service: set "
            "NENGUIDE_SMART_ISSUERS and NENGUIDE_SMART_CLIENT_ID (docs/fhir.md)",
        )
    return allowed, str(settings.smart_client_id)


def _discover(request: Request, client: httpx.Client, iss: str) -> smart.SmartConfiguration:
    cache: dict[str, tuple[float, smart.SmartConfiguration]] = request.app.state.smart_discovery
    hit = cache.get(iss)
    if hit is not None and time.monotonic() - hit[0] < DISCOVERY_TTL:
        return hit[1]
    cfg = smart.discover(client, iss)
    cache[iss] = (time.monotonic(), cfg)
    return cfg


def _redirect_uri(request: Request) -> str:
    return str(request.url_for("smart_callback"))


def _pack(doc: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")


def _unpack(raw: str | None) -> dict[str, Any] | None:
    if not raw or len(raw) > 2000:
        return None
    try:
        doc = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except ValueError:
        return None
    keys = {"s": str, "v": str, "i": str, "t": int}
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), t) for k, t in keys.items()):
        return None
    return doc


@router.get("/smart/launch", name="smart_launch")
def launch(request: Request, iss: str | None = None, launch: str | None = None) -> Response:
    allowed, client_id = _configured(request)
    if iss is None:
        if launch:
            raise SmartPageError(400, "bad_launch", "an EHR launch must send iss with launch")
        if len(allowed) != 1:
            raise SmartPageError(
                400,
                "bad_launch",
                "name the EHR: /smart/launch?iss=<FHIR base URL>, one of "
                + ", ".join(sorted(allowed)),
            )
        iss = next(iter(allowed))
    base = smart.normalise_iss(iss)
    if base not in allowed:
        raise SmartPageError(
            400,
            "unknown_issuer",
            f"the EHR '{base[:200]}' is not allowed to launch nenguide (NENGUIDE_SMART_ISSUERS)",
        )
    try:
        with httpx.Client() as client:
            cfg = _discover(request, client, base)
    except smart.SmartError as exc:
        raise SmartPageError(502, exc.code, str(exc)) from None
    state, verifier = smart.new_state(), smart.new_verifier()
    url = smart.authorize_url(
        cfg,
        client_id=client_id,
        redirect_uri=_redirect_uri(request),
        state=state,
        verifier=verifier,
        launch=launch or None,
    )
    out = RedirectResponse(url, status_code=302)
    out.set_cookie(
        COOKIE,
        _pack({"s": state, "v": verifier, "i": base, "t": int(time.time())}),
        max_age=MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookie_secure,
        path="/smart/",
    )
    return out


def _pending(request: Request, state: str | None, allowed: frozenset[str]) -> dict[str, Any]:
    pending = _unpack(request.cookies.get(COOKIE))
    if pending is None:
        raise SmartPageError(
            400,
            "no_launch",
            "no SMART launch is in progress in this browser: launch nenguide again from the EHR",
        )
    if not state or not hmac.compare_digest(state.encode(), pending["s"].encode()):
        raise SmartPageError(
            400, "bad_state", "the state sent back does not match this browser's launch"
        )
    if not 0 <= time.time() - pending["t"] <= MAX_AGE:
        raise SmartPageError(400, "launch_expired", "the launch took too long: launch again")
    if pending["i"] not in allowed:
        raise SmartPageError(400, "unknown_issuer", "the EHR is no longer allowed to launch")
    return pending


def _import(request: Request, bundle: dict[str, Any]) -> ImportResult:
    try:
        return import_bundle(bundle, request.app.state.kb.analytes, as_of=dt.date.today())
    except BundleError as exc:
        raise SmartPageError(502, "fhir_unusable", f"the EHR's FHIR data: {exc}") from None


@router.get("/smart/callback", name="smart_callback")
def callback(
    request: Request,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    allowed, client_id = _configured(request)
    pending = _pending(request, state, allowed)
    if error:
        raise SmartPageError(
            400,
            "authorization_refused",
            f"the EHR refused the authorization: {error[:100]} {(error_description or '')[:200]}",
        )
    if not code:
        raise SmartPageError(400, "bad_callback", "the EHR sent no authorization code")
    iss = pending["i"]
    try:
        with httpx.Client() as client:
            cfg = _discover(request, client, iss)
            token = smart.exchange_code(
                client,
                cfg,
                code=code,
                verifier=pending["v"],
                client_id=client_id,
                redirect_uri=_redirect_uri(request),
            )
            who = smart.fhir_user(client, cfg, token.id_token, client_id)
            bundle = smart.fetch_patient_bundle(client, iss, token.patient, token.access_token)
    except smart.SmartError as exc:
        status = 502 if exc.code in ("fhir_failed", "bad_response", "discovery_failed") else 400
        raise SmartPageError(status, exc.code, str(exc)) from None
    result = _import(request, bundle)
    settings = request.app.state.settings
    rid = getattr(request.state, "request_id", None)
    try:
        ehr = smart_data.ehr_session(
            request.app.state.db,
            iss=iss,
            fhir_user=who,
            role=settings.smart_role,
            ttl=dt.timedelta(hours=settings.session_hours),
            request_id=rid,
        )
    except smart_data.AccountDisabled:
        raise SmartPageError(
            403, "account_disabled", "your nenguide account for this EHR was disabled"
        ) from None
    user = session.WebUser(ehr.user_id, ehr.username, ehr.role, "", rid)
    case_data = result.case.model_dump(mode="json", exclude_none=True) if result.case else None
    opened = smart_data.open_case(
        request.app.state.db,
        Actor(ehr.username, ehr.role, rid),
        iss=iss,
        fhir_patient=token.patient,
        info=result.patient,
        case_data=case_data,
        comment=(
            f"SMART launch from {iss}: {result.resources_read} FHIR resources read, "
            f"{len(result.unmapped)} not used"
        ),
        write=ehr.role in CLINICAL_WRITE,
    )
    if opened.case is not None and opened.new_version:
        lang = session.language(request, user)
        done = pages_patients.assess_data(request, opened.case["data"], lang, dt.date.today())
        data.add_assessment(
            request.app.state.db,
            user.actor(),
            case_id=opened.case["id"],
            case_version=opened.case["version"],
            result=done.model_dump(mode="json"),
        )
    if opened.case is not None:
        target = f"/cases/{opened.case['id']}"
    elif opened.patient_id is not None:
        target = f"/patients/{opened.patient_id}"
    else:
        target = "/patients"
    out = _opened_page(request, user, result, target, who, iss, opened)
    out.set_cookie(
        settings.cookie_name,
        ehr.token,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )
    out.delete_cookie(COOKIE, path="/smart/")
    return out


def _opened_page(
    request: Request,
    user: session.WebUser,
    result: ImportResult,
    target: str,
    who: str | None,
    iss: str,
    opened: smart_data.Opened,
) -> HTMLResponse:
    """The page between the EHR and nenguide, in the user's language: what was read and not
    used; it moves on to the case page at once when everything was used, else after the user
    has seen the list."""
    if opened.case is not None:
        what = "case"
    elif opened.patient_id is not None:
        what = "patient"
    else:
        what = "nothing"
    html = (
        render.env()
        .get_template("smart_opened.html")
        .render(
            tx=render.texts(request, user),
            unmapped=result.unmapped,
            target=target,
            iss=iss,
            who=who,
            resources_read=result.resources_read,
            what=what,
        )
    )
    return HTMLResponse(html)


def install(app: FastAPI) -> None:
    """Mount the SMART launch routes and their error page."""
    app.state.smart_discovery = {}
    app.include_router(router)

    @app.exception_handler(SmartPageError)
    async def smart_failed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SmartPageError)
        tx = render.texts(request, None)
        # English: the detailed message; other languages: the code's text when there is one
        reason = exc.message
        if tx.lang != "en":
            reason = (
                tx.t(f"smart.err.{exc.code}")
                if f"smart.err.{exc.code}" in ui_texts()[tx.lang]
                else tx.t("smart.err.other", message=exc.message)
            )
        out = render.page(
            request,
            "error.html",
            None,
            status=exc.status,
            tx=tx,
            message=tx.t("smart.failed", code=exc.code, reason=reason),
        )
        if exc.code not in ("smart_not_configured", "unknown_issuer", "bad_launch"):
            out.delete_cookie(COOKIE, path="/smart/")
        return out
