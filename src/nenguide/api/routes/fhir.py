"""FHIR R4 in: ``POST /api/v1/fhir/assess`` takes a Bundle (mCODE-aligned), maps it to a case,
assesses it, and returns the assessment with everything that was not mapped (and, on request,
the assessment as FHIR: Observations, RequestGroup, GuidanceResponse). Nothing is stored.
Needs the ``[fhir]`` extra."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from nenguide import assess as run_assess
from nenguide.api.auth import ANY_ROLE, Principal, Require
from nenguide.api.errors import ApiError
from nenguide.api.routes import ERRORS
from nenguide.api.schemas import Lang
from nenguide.interop.fhir import (
    BundleError,
    ImportResult,
    Note,
    PatientInfo,
    Unmapped,
    assessment_to_bundle,
    import_bundle,
)
from nenguide.model.assessment import Assessment
from nenguide.model.case import Case

router = APIRouter(prefix="/api/v1/fhir", responses=ERRORS)

Assessor = Annotated[Principal, Depends(Require(ANY_ROLE, "run assessments"))]


class FhirAssessment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    assessment: Assessment = Field(description="The engine's assessment of the mapped case")
    case: Case = Field(description="The case as mapped from the Bundle")
    patient: PatientInfo
    unmapped: list[Unmapped] = Field(description="Everything in the Bundle that was not used")
    notes: list[Note] = Field(description="Duplicates resolved (latest wins), derived values")
    resources_read: int
    fhir: dict[str, Any] | None = Field(
        default=None,
        description="With export=true: the assessment as a FHIR R4 collection Bundle",
    )


@router.post(
    "/assess",
    tags=["fhir"],
    response_class=Response,
    responses={200: {"model": FhirAssessment, "description": "Assessment and import report"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A FHIR R4 Bundle (JSON; application/fhir+json or application/json)",
            "content": {
                "application/fhir+json": {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
async def fhir_assess(
    request: Request,
    _: Assessor,
    as_of: Annotated[dt.date | None, Query(description="Default: today")] = None,
    lang: Lang = "en",
    export: Annotated[
        bool, Query(description="Also return the assessment as a FHIR Bundle")
    ] = False,
) -> Response:
    """Assess the patient of a FHIR R4 Bundle without storing anything."""
    raw = await request.body()
    day = as_of or dt.date.today()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(
            400,
            "bad_request",
            "the request body could not be read: send a FHIR Bundle as UTF-8 JSON",
        ) from None
    try:
        result: ImportResult = import_bundle(data, request.app.state.kb.analytes, as_of=day)
    except BundleError as exc:
        raise ApiError(
            422,
            "invalid_bundle",
            str(exc),
            fields=[{"path": "resourceType", "message": str(exc), "allowed": "a FHIR R4 Bundle"}],
        ) from None
    if result.case is None:
        raise ApiError(
            422,
            "unmappable_bundle",
            "no case could be built from the Bundle: see 'fields' for what is missing or not "
            "mapped",
            fields=[
                {"path": u.field or u.resource, "message": u.reason, "received": u.code}
                for u in result.unmapped
            ],
            details={"notes": [n.model_dump() for n in result.notes]},
        )
    assessment = run_assess(result.case, request.app.state.kb, as_of=day, lang=lang)
    subject = result.patient.reference or "urn:uuid:unknown-patient"
    body = FhirAssessment(
        assessment=assessment,
        case=result.case,
        patient=result.patient,
        unmapped=result.unmapped,
        notes=result.notes,
        resources_read=result.resources_read,
        fhir=assessment_to_bundle(assessment, subject) if export else None,
    )
    return Response(body.model_dump_json(), media_type="application/json")
