"""Stateless assessment, patients, versioned cases, stored assessments, export and import."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import ValidationError

from nenguide import assess as run_assess
from nenguide import store
from nenguide.api.auth import (
    ANY_ROLE,
    CLINICAL_WRITE,
    EXPORT,
    IMPORT,
    PATIENT_WRITE,
    READ,
    Principal,
    Require,
)
from nenguide.api.errors import ApiError, case_fields
from nenguide.api.routes import DB, ERRORS, out
from nenguide.api.schemas import (
    AssessmentRecord,
    AssessStored,
    CaseCreate,
    CaseList,
    CaseOut,
    CaseUpdate,
    CaseVersionOut,
    Lang,
    PatientIn,
    PatientList,
    PatientOut,
    PatientRecord,
    PatientUpdate,
)
from nenguide.errors import CaseInputError, labs_checked, parse_case
from nenguide.limits import AS_OF_MAX, AS_OF_MIN
from nenguide.model.assessment import Assessment
from nenguide.model.case import Case

router = APIRouter(prefix="/api/v1", responses=ERRORS)

Assessor = Annotated[Principal, Depends(Require(ANY_ROLE, "run assessments"))]
Reader = Annotated[Principal, Depends(Require(READ, "read patient records"))]
PatientWriter = Annotated[Principal, Depends(Require(PATIENT_WRITE, "register or edit patients"))]
ClinicalWriter = Annotated[Principal, Depends(Require(CLINICAL_WRITE, "edit or assess cases"))]
Exporter = Annotated[Principal, Depends(Require(EXPORT, "export patient records"))]
Importer = Annotated[Principal, Depends(Require(IMPORT, "import patient records"))]

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Id = Annotated[str, Query(max_length=36)]


def validate_case(data: Any, prefix: str = "") -> Case:
    try:
        return parse_case(data)
    except CaseInputError as err:
        api_err = ApiError(422, "invalid_case", err.summary, fields=case_fields(err, prefix))
        api_err.case_error, api_err.case_prefix = err, prefix  # worded per Accept-Language
        raise api_err from None


def case_json(case: Case) -> dict[str, Any]:
    return case.model_dump(mode="json", exclude_none=True)


def _assessment(request: Request, case: Case, as_of: dt.date, lang: str) -> Assessment:
    # the site parameters edited on the web page, as the CLI's --site (issue 9)
    site = request.app.state.site_params.current()
    return run_assess(case, request.app.state.kb, as_of=as_of, lang=lang, site=site)


# ----------------------------------------------------------------------------- stateless


@router.post(
    "/assess",
    tags=["assessment"],
    response_class=Response,
    responses={200: {"model": Assessment, "description": "The engine's assessment"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The case (see the Case schema)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}},
        }
    },
)
async def assess(
    request: Request,
    _: Assessor,
    as_of: Annotated[
        dt.date | None,
        Query(description="Default: today (1900-01-01 to 2199-12-31)", ge=AS_OF_MIN, le=AS_OF_MAX),
    ] = None,
    lang: Lang = "en",
) -> Response:
    """Assess a case without storing anything: the engine's JSON contract."""
    # async: pure computation (about a millisecond), cheaper on the event loop than a thread
    # hop. The body is validated straight from its bytes (pydantic's JSON parser); only an
    # invalid case takes the slower path that words the errors like the CLI.
    raw = await request.body()
    try:
        parsed = Case.model_validate_json(raw)
        if parsed.clinical.labs:  # units and analytes, as the CLI and the case store check them
            try:
                parsed = labs_checked(parsed)
            except CaseInputError as err:
                api_err = ApiError(422, "invalid_case", err.summary, fields=case_fields(err, ""))
                api_err.case_error, api_err.case_prefix = err, ""
                raise api_err from None
    except ValidationError:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(
                400,
                "bad_request",
                "the request body could not be read: send UTF-8 JSON with "
                "'Content-Type: application/json'",
            ) from None
        parsed = validate_case(data)
    result = _assessment(request, parsed, as_of or dt.date.today(), lang)
    return Response(result.model_dump_json(), media_type="application/json")


# ----------------------------------------------------------------------------- patients


@router.post("/patients", response_model=PatientOut, status_code=201, tags=["patients"])
def create_patient(body: PatientIn, principal: PatientWriter, db: DB) -> PatientOut:
    with db.write() as s:
        doc = store.patients.create_patient(s, principal.actor(), **body.model_dump())
    return PatientOut.model_validate(doc)


@router.get("/patients", response_model=PatientList, tags=["patients"])
def list_patients(
    _: Reader,
    db: DB,
    q: Annotated[str | None, Query(max_length=200, description="Part of name or MRN")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    with db.read() as s:
        items, total = store.patients.list_patients(s, q=q, limit=limit, offset=offset)
    return out(
        PatientList.model_validate(
            {"items": items, "total": total, "limit": limit, "offset": offset}
        )
    )


@router.get("/patients/{patient_id}", response_model=PatientOut, tags=["patients"])
def get_patient(patient_id: str, _: Reader, db: DB) -> Response:
    with db.read() as s:
        return out(PatientOut.model_validate(store.patients.get_patient(s, patient_id)))


@router.patch("/patients/{patient_id}", response_model=PatientOut, tags=["patients"])
def update_patient(
    patient_id: str, body: PatientUpdate, principal: PatientWriter, db: DB
) -> PatientOut:
    """Change demographics. Send the version you edited; a stale one gets 409."""
    changes = body.model_dump(include=body.model_fields_set - {"version"})
    with db.write() as s:
        doc = store.patients.update_patient(
            s, principal.actor(), patient_id, version=body.version, changes=changes
        )
    return PatientOut.model_validate(doc)


# ----------------------------------------------------------------------------- cases


@router.post(
    "/patients/{patient_id}/cases", response_model=CaseOut, status_code=201, tags=["cases"]
)
def create_case(patient_id: str, body: CaseCreate, principal: ClinicalWriter, db: DB) -> CaseOut:
    data = case_json(validate_case(body.case, "case"))
    with db.write() as s:
        doc = store.cases.create_case(
            s,
            principal.actor(),
            patient_id=patient_id,
            title=body.title,
            data=data,
            comment=body.comment,
        )
    return CaseOut.model_validate(doc)


@router.get("/patients/{patient_id}/cases", response_model=CaseList, tags=["cases"])
def list_patient_cases(
    patient_id: str, _: Reader, db: DB, limit: Limit = 50, offset: Offset = 0
) -> Response:
    with db.read() as s:
        store.patients.get_patient(s, patient_id)
        items, total = store.cases.list_cases(s, patient_id=patient_id, limit=limit, offset=offset)
    return out(
        CaseList.model_validate({"items": items, "total": total, "limit": limit, "offset": offset})
    )


@router.get("/cases", response_model=CaseList, tags=["cases"])
def list_cases(
    _: Reader,
    db: DB,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    with db.read() as s:
        items, total = store.cases.list_cases(s, status=status, limit=limit, offset=offset)
    return out(
        CaseList.model_validate({"items": items, "total": total, "limit": limit, "offset": offset})
    )


@router.get("/cases/{case_id}", response_model=CaseOut, tags=["cases"])
def get_case(case_id: str, _: Reader, db: DB) -> Response:
    with db.read() as s:
        return out(CaseOut.model_validate(store.cases.get_case(s, case_id)))


@router.put(
    "/cases/{case_id}",
    response_model=CaseOut,
    tags=["cases"],
    responses={409: {**ERRORS[409], "description": "Stale version: details.current_version"}},
)
def update_case(case_id: str, body: CaseUpdate, principal: ClinicalWriter, db: DB) -> CaseOut:
    """Store a new version of the case. ``version`` is the version you edited: when someone
    saved a newer one meanwhile, nothing is written and 409 returns the current version."""
    data = case_json(validate_case(body.case, "case")) if body.case is not None else None
    with db.write() as s:
        doc = store.cases.update_case(
            s,
            principal.actor(),
            case_id,
            base_version=body.version,
            data=data,
            comment=body.comment,
            title=body.title,
            status=body.status,
        )
    return CaseOut.model_validate(doc)


@router.get("/cases/{case_id}/versions", response_model=list[CaseVersionOut], tags=["cases"])
def list_versions(case_id: str, _: Reader, db: DB) -> list[CaseVersionOut]:
    with db.read() as s:
        return [CaseVersionOut.model_validate(v) for v in store.cases.list_versions(s, case_id)]


@router.get("/cases/{case_id}/versions/{version}", response_model=CaseVersionOut, tags=["cases"])
def get_version(
    case_id: str, version: Annotated[int, Path(ge=1, le=2_000_000_000)], _: Reader, db: DB
) -> Response:
    with db.read() as s:
        return out(CaseVersionOut.model_validate(store.cases.get_version(s, case_id, version)))


# ----------------------------------------------------------------------------- assessments


@router.post(
    "/cases/{case_id}/assessments",
    response_model=AssessmentRecord,
    status_code=201,
    tags=["assessments"],
)
def assess_case(
    case_id: str, body: AssessStored, request: Request, principal: ClinicalWriter, db: DB
) -> AssessmentRecord:
    """Assess a case version (default: current) and keep the result, linked to that version,
    the guideline version and the engine version. Stored assessments never change."""
    with db.read() as s:
        current = store.cases.get_case(s, case_id)
        version = body.version or current["version"]
        data = store.cases.get_version(s, case_id, version)["data"]
    parsed = validate_case(data, "data")
    result = _assessment(request, parsed, body.as_of or dt.date.today(), body.lang)
    with db.write() as s:
        doc = store.assessments.add_assessment(
            s,
            principal.actor(),
            case_id=case_id,
            case_version=version,
            result=result.model_dump(mode="json"),
        )
    return AssessmentRecord.model_validate(doc)


@router.get(
    "/cases/{case_id}/assessments", response_model=list[AssessmentRecord], tags=["assessments"]
)
def list_assessments(case_id: str, _: Reader, db: DB) -> list[AssessmentRecord]:
    with db.read() as s:
        return [
            AssessmentRecord.model_validate(a)
            for a in store.assessments.list_assessments(s, case_id)
        ]


@router.get("/assessments/{assessment_id}", response_model=AssessmentRecord, tags=["assessments"])
def get_assessment(assessment_id: str, _: Reader, db: DB) -> Response:
    with db.read() as s:
        return out(
            AssessmentRecord.model_validate(store.assessments.get_assessment(s, assessment_id))
        )


# ----------------------------------------------------------------------------- export / import


@router.get("/patients/{patient_id}/export", response_model=PatientRecord, tags=["patients"])
def export_patient(patient_id: str, principal: Exporter, db: DB) -> PatientRecord:
    """The patient's full record as one JSON document: demographics, every case version,
    assessments, MDT agenda items and decisions, follow-up tasks."""
    with db.read() as s:
        doc = store.transfer.export_patient(s, patient_id)
    with db.write() as s:
        store.audit.audit(
            s, principal.actor(), "patient.export", "patient", patient_id, patient_id=patient_id
        )
    return PatientRecord.model_validate(doc)


@router.post("/patients/import", response_model=PatientOut, status_code=201, tags=["patients"])
def import_patient(body: PatientRecord, principal: Importer, db: DB) -> PatientOut:
    """Recreate a record made by export, keeping ids and history. Refused with 409 when the
    patient, one of its cases or its MRN already exists here."""
    with db.write() as s:
        doc = store.transfer.import_patient(s, principal.actor(), body.model_dump(mode="json"))
    return PatientOut.model_validate(doc)
