"""Report downloads through the JSON API (Bearer token or cookie): the assessment report of a
case and the minutes of a meeting, as PDF or HTML, in en or zh-CN."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from nenguide.api.auth import READ, Principal, Require
from nenguide.api.errors import ApiError
from nenguide.api.routes import ERRORS
from nenguide.web.pages_mdt import minutes_response
from nenguide.web.pages_patients import PageNotFound, report_bytes

router = APIRouter(prefix="/api/v1", tags=["reports"], responses=ERRORS)
Reader = Annotated[Principal, Depends(Require(READ, "download reports"))]
Format = Annotated[Literal["pdf", "html"], Query(description="pdf (default) or html")]
Lang = Annotated[Literal["en", "zh-CN"], Query(description="Report language")]

_PDF: dict[str, dict[str, str]] = {"application/pdf": {}, "text/html": {}}


@router.get(
    "/cases/{case_id}/report",
    response_class=Response,
    responses={200: {"content": _PDF, "description": "The report of the latest assessment"}},
)
def case_report(
    case_id: str, request: Request, _: Reader, format: Format = "pdf", lang: Lang = "en"
) -> Response:
    """The assessment report of the case's latest stored assessment."""
    try:
        return report_bytes(request, case_id, format, lang)
    except PageNotFound:
        raise ApiError(404, "not_found", "no such case, or it has no stored assessment") from None


@router.get(
    "/meetings/{meeting_id}/minutes",
    response_class=Response,
    responses={200: {"content": _PDF, "description": "The meeting minutes"}},
)
def meeting_minutes(
    meeting_id: str, request: Request, _: Reader, format: Format = "pdf", lang: Lang = "en"
) -> Response:
    """The minutes of an MDT meeting: agenda items, guideline summaries and decisions."""
    try:
        return minutes_response(request, meeting_id, format, lang)
    except PageNotFound:
        raise ApiError(404, "not_found", "no such meeting") from None
