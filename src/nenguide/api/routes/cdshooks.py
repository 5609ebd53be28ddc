"""CDS Hooks 2.0 service (``GET /cds-services``, ``POST /cds-services/nenguide-patient-view``).

Outside demo mode every call is authenticated by the EHR's signed JWT (``nenguide.api.cds_auth``,
CDS Hooks 2.0 "Trusting CDS Clients"): 401 without a valid one, 503 naming the missing settings
when the service is not configured for it. Demo mode answers without a JWT."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from nenguide import assess as run_assess
from nenguide.api.auth import AUDIT, Principal, Require
from nenguide.api.cds_auth import CdsAuthError, CdsVerifier
from nenguide.api.errors import ApiError
from nenguide.api.routes import DB, ERRORS
from nenguide.interop import cdshooks
from nenguide.interop.fhir import BundleError, import_bundle
from nenguide.store import cds_feedback
from nenguide.store.common import Actor
from nenguide.store.vocab import DEPARTURE_REASONS
from nenguide.web import smart_data

_NOT_CONFIGURED = {
    **ERRORS[401],
    "description": "Outside demo mode without the EHR's JWK Set and issuers configured",
}
router = APIRouter(
    prefix="/cds-services",
    tags=["cds-hooks"],
    responses={
        **ERRORS,
        401: {**ERRORS[401], "description": "The EHR's JWT is missing or refused"},
        503: _NOT_CONFIGURED,
    },
)


#: nenguide's own route (a user session, not the EHR's JWT): the feedback stored, for the
#: concordance audit (``nenguide concordance --cds-feedback``).
export_router = APIRouter(prefix="/api/v1/cds-feedback", tags=["cds-hooks"], responses=ERRORS)
Auditor = Annotated[Principal, Depends(Require(AUDIT, "read the CDS Hooks feedback"))]


@export_router.get("")
def list_cds_feedback(_: Auditor, db: DB) -> list[dict[str, Any]]:
    """The EHR's CDS Hooks feedback (accepted or overridden, with the reason), oldest first: the
    input of ``nenguide concordance --cds-feedback``."""
    with db.read() as s:
        return cds_feedback.list_feedback(s)


def _authenticate(request: Request) -> str:
    """Demo mode: no check (issuer "demo"). Otherwise the EHR's JWT, with ``aud`` = the URL
    that was called; returns its issuer."""
    if request.app.state.settings.demo:
        return "demo"
    verifier: CdsVerifier = request.app.state.cds_verifier
    missing = verifier.missing()
    if missing:
        raise ApiError(
            503,
            "cds_hooks_not_configured",
            "the CDS Hooks service authenticates the EHR by its signed JWT and is not configured "
            f"for it: set {' and '.join(missing)} (see docs/api.md, CDS Hooks)",
        )
    audience = str(request.url.replace(query=None))
    try:
        claims = verifier.verify(request.headers.get("authorization"), audience)
    except CdsAuthError as exc:
        raise ApiError(401, "cds_hooks_unauthenticated", str(exc)) from None
    return str(claims["iss"])


async def _complete_prefetch(body: dict[str, Any], patient_id: str) -> Any:
    """The prefetch, with the keys the EHR did not send fetched from ``fhirServer`` (with the
    ``fhirAuthorization`` bearer token when given), as CDS Hooks 2.0 describes. Raises
    PrefetchError (answered 412) when that is impossible."""
    prefetch = body.get("prefetch")
    missing = cdshooks.missing_prefetch(prefetch)
    server = body.get("fhirServer")
    if not missing or not isinstance(server, str):
        return prefetch
    if not server.startswith(("http://", "https://")):
        raise cdshooks.PrefetchError("fhirServer must be an http(s) URL")
    auth = body.get("fhirAuthorization")
    headers = {"Accept": "application/fhir+json"}
    if isinstance(auth, dict) and isinstance(auth.get("access_token"), str):
        headers["Authorization"] = f"Bearer {auth['access_token']}"
    got: dict[str, Any] = dict(prefetch) if isinstance(prefetch, dict) else {}
    try:
        async with httpx.AsyncClient(timeout=5, headers=headers) as client:
            for key in missing:
                url = f"{server.rstrip('/')}/{cdshooks.query(key, patient_id)}"
                r = await client.get(url)
                if r.status_code == 404 and key == "patient":
                    got[key] = None
                    continue
                if r.status_code != 200:
                    raise cdshooks.PrefetchError(
                        f"fetching {key} from fhirServer answered HTTP {r.status_code}"
                    )
                got[key] = r.json()
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # InvalidURL: not an HTTPError
        raise cdshooks.PrefetchError(f"fetching from fhirServer failed: {exc}") from None
    return got


@router.get("", response_class=JSONResponse)
def discovery(request: Request) -> dict[str, Any]:
    """CDS Hooks discovery: the services and their prefetch templates."""
    _authenticate(request)
    return cdshooks.discovery()


@router.post("/{service_id}/feedback", response_class=JSONResponse)
async def feedback(service_id: str, request: Request) -> Any:
    """CDS Hooks 2.0 feedback: the outcome (accepted or overridden, with the override reason) of
    cards this service returned, stored with an audit entry."""
    issuer = await run_in_threadpool(_authenticate, request)
    if service_id != cdshooks.SERVICE_ID:
        raise ApiError(404, "not_found", f"no CDS service '{service_id}'")
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "bad_request", "send the CDS Hooks feedback as JSON") from None
    actor = Actor(f"cds:{issuer}"[:64], None, getattr(request.state, "request_id", None))

    def store() -> list[str]:
        with request.app.state.db.write() as s:
            return cds_feedback.record_feedback(s, actor, service_id, body, issuer=issuer)

    ids = await run_in_threadpool(store)
    return {"stored": len(ids)}


@router.post(
    "/{service_id}",
    response_class=JSONResponse,
    responses={412: {"description": "Prefetch missing: the service cannot get the data"}},
)
async def call_service(service_id: str, request: Request) -> Any:
    """Run a CDS service: the ``patient-view`` cards from the prefetched FHIR data."""
    await run_in_threadpool(_authenticate, request)
    if service_id != cdshooks.SERVICE_ID:
        raise ApiError(404, "not_found", f"no CDS service '{service_id}'")
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "bad_request", "send the CDS Hooks request as JSON") from None
    if not isinstance(body, dict) or body.get("hook") != "patient-view":
        raise ApiError(400, "bad_request", "this service answers the 'patient-view' hook")
    raw_context = body.get("context")
    context: dict[str, Any] = raw_context if isinstance(raw_context, dict) else {}
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id:
        raise ApiError(400, "bad_request", "context.patientId is required")
    try:
        prefetch = await _complete_prefetch(body, patient_id)
        bundle = cdshooks.prefetch_bundle(prefetch)
        cdshooks.check_patient(bundle, patient_id)
        imported = import_bundle(bundle, request.app.state.kb.analytes)
    except (cdshooks.PrefetchError, BundleError) as exc:
        return JSONResponse(
            {
                "error": {
                    "code": "prefetch_required",
                    "message": str(exc),
                    "fields": [],
                    "details": {},
                }
            },
            status_code=412,
        )
    if imported.case is None:
        return {"cards": []}  # not a patient with a mapped NEN: no advice
    assessment = run_assess(imported.case, request.app.state.kb, as_of=dt.date.today())
    settings = request.app.state.settings
    existing = await run_in_threadpool(
        smart_data.latest_case_by_mrn, request.app.state.db, imported.patient.identifier
    )
    links = cdshooks.case_links(
        str(request.base_url),
        smart_launch=bool(settings.smart_issuers.strip() and settings.smart_client_id),
        case=existing,
    )
    return {
        "cards": cdshooks.cards(
            assessment,
            imported,
            patient=f"Patient/{patient_id}",
            source_url=str(request.base_url).rstrip("/") + "/docs",
            override_reasons=DEPARTURE_REASONS,
            links=links,
        )
    }
