"""One JSON error envelope for every error the API returns, whatever raised it:

    {"error": {"code": "...", "message": "...", "fields": [{"path", "message", "received",
     "allowed"}], "details": {...}}}

FastAPI's and Starlette's own handlers (404, 405, 422, 500) are replaced so a client never has
to parse two shapes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from nenguide.errors import CaseInputError
from nenguide.store.errors import Conflict, Invalid, NotFound, StoreError, VersionConflict

log = logging.getLogger("nenguide.api")


class FieldProblem(BaseModel):
    path: str = Field(description="Dotted path of the offending field, e.g. case.tumour.size_cm")
    message: str
    received: Any = None
    allowed: str | None = Field(default=None, description="What would be accepted")


class ErrorBody(BaseModel):
    code: str = Field(description="Stable, machine-readable error code")
    message: str = Field(description="What went wrong and what to do about it")
    fields: list[FieldProblem] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    lang: str | None = Field(
        default=None, description="Language of the messages (invalid case: from Accept-Language)"
    )


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: list[dict[str, Any]] | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or []
        self.details = details or {}
        self.headers = headers
        #: an invalid case behind this error: worded per Accept-Language when answered
        self.case_error: CaseInputError | None = None
        self.case_prefix = ""


#: Fields whose value is never echoed back in an error (a typo'd password is still a password).
SECRET_FIELDS = frozenset({"password", "new_password", "current_password", "token", "secret"})
#: Longest text echoed back in ``received``; longer values are cut and marked with "…".
MAX_ECHO = 200


def safe_received(path: str, value: Any) -> Any:
    """``value`` as it may be echoed in an error: secrets hidden, long text cut, and always
    encodable as strict JSON (no NaN/Infinity, no lone surrogates)."""
    if path.rsplit(".", 1)[-1] in SECRET_FIELDS and value is not None:
        return "(hidden)"
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else f"{str(value)[:20]}…"
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return "{…}"
    if isinstance(value, list | tuple):
        return "[…]"
    text = value if isinstance(value, str) else repr(value)
    if len(text) > MAX_ECHO:
        text = text[:MAX_ECHO] + "…"
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\u0000")


def envelope(
    status: int,
    code: str,
    message: str,
    *,
    fields: list[dict[str, Any]] | None = None,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    lang: str | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "error": {
            "code": code,
            "message": message,
            "fields": [
                {
                    "path": safe_received("", f.get("path", "")),
                    "message": safe_received("", f.get("message", "")),
                    "received": safe_received(str(f.get("path", "")), f.get("received")),
                    "allowed": f.get("allowed"),
                }
                for f in fields or []
            ],
            "details": details or {},
        }
    }
    if lang:  # the language the messages are worded in (Accept-Language; issue 9)
        body["error"]["lang"] = lang
        headers = {**(headers or {}), "Content-Language": lang}
    return JSONResponse(body, status_code=status, headers=headers)


def request_lang(request: Request) -> str:
    """The language of error messages: from ``Accept-Language`` (en or zh-CN; default en)."""
    from nenguide.report.texts import pick_lang

    return pick_lang(request.headers.get("accept-language")) or "en"


def case_error_response(
    request: Request, err: CaseInputError, prefix: str = "", status: int = 422
) -> JSONResponse:
    """The 422 of an invalid case, worded in the language the client asked for."""
    lang = request_lang(request)
    loc = err.localised(lang)
    return envelope(status, "invalid_case", loc.summary, fields=case_fields(loc, prefix), lang=lang)


def unauthenticated_response(reason: str | None) -> JSONResponse:
    """401 for a request without a session (``reason`` None) or with an ended one."""
    from nenguide.api.auth import NOT_LOGGED_IN, SESSION_ENDED

    return envelope(
        401,
        "unauthenticated",
        NOT_LOGGED_IN if reason is None else SESSION_ENDED,
        headers={"WWW-Authenticate": "Bearer"},
    )


def case_fields(err: CaseInputError, prefix: str = "") -> list[dict[str, Any]]:
    out = []
    for fe in err.errors:
        d = fe.as_dict()
        if prefix:
            d["path"] = prefix if d["path"] == "(case)" else f"{prefix}.{d['path']}"
        out.append(d)
    if not out:
        out.append({"path": prefix or "(case)", "message": err.summary})
    return out


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
}

_ALLOWED = {
    "missing": "this field is required",
    "string_too_short": "text of at least {min_length} characters",
    "string_too_long": "text of at most {max_length} characters",
    "string_pattern_mismatch": "text matching {pattern}",
    "greater_than": "a number greater than {gt}",
    "greater_than_equal": "a number greater than or equal to {ge}",
    "less_than": "a number less than {lt}",
    "less_than_equal": "a number less than or equal to {le}",
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "literal_error": "one of: {expected}",
    "enum": "one of: {expected}",
    "date_parsing": "a date such as 2025-05-31",
    "date_from_datetime_parsing": "a date such as 2025-05-31",
    "datetime_parsing": "a date and time such as 2025-05-31T14:00:00+08:00",
    "datetime_from_date_parsing": "a date and time such as 2025-05-31T14:00:00+08:00",
    "timezone_aware": "a date and time with a UTC offset, e.g. 2025-05-31T14:00:00+08:00",
    "json_invalid": "a valid JSON document",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "list_type": "a list",
    "string_type": "text",
    "extra_forbidden": "no such field",
    "too_short": "at least {min_length} item(s)",
    "too_long": "at most {max_length} item(s)",
}


#: the bounds of :data:`_ALLOWED` for a date
_DATE_BOUNDS = {
    "greater_than": "a date after {gt}",
    "greater_than_equal": "a date on or after {ge}",
    "less_than": "a date before {lt}",
    "less_than_equal": "a date on or before {le}",
}


def _is_date(v: Any) -> bool:
    """A bound that is a date (as the date, or its ISO text)."""
    if isinstance(v, dt.date):
        return True
    try:
        dt.date.fromisoformat(v)
    except (TypeError, ValueError):
        return False
    return True


def _request_fields(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            where = loc[0]
            loc = loc[1:]
            if where != "body" and loc:
                loc = [f"{where}:{loc[0]}", *loc[1:]]
        ctx = e.get("ctx") or {}
        allowed = _ALLOWED.get(e.get("type", ""))
        if allowed and any(_is_date(v) for v in ctx.values()):
            # a bound that is a date: "a date on or after 1900-01-01", not "a number ..."
            allowed = _DATE_BOUNDS.get(e.get("type", ""), allowed)
        if allowed:
            with contextlib.suppress(KeyError, IndexError):
                allowed = allowed.format(**ctx)
        received = None if e.get("type") == "missing" else e.get("input")
        if isinstance(received, bytes | bytearray):  # a body that was not JSON: never echoed
            received = None
            allowed = "a JSON object sent with 'Content-Type: application/json'"
        out.append(
            {
                "path": ".".join(loc) or "(body)",
                "message": str(e.get("msg", "invalid")).removeprefix("Value error, "),
                "received": received,
                "allowed": allowed,
            }
        )
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        if exc.case_error is not None:
            return case_error_response(request, exc.case_error, exc.case_prefix, exc.status)
        return envelope(
            exc.status,
            exc.code,
            exc.message,
            fields=exc.fields,
            details=exc.details,
            headers=exc.headers,
        )

    @app.exception_handler(CaseInputError)
    async def _case_error(request: Request, exc: CaseInputError) -> JSONResponse:
        return case_error_response(request, exc)

    @app.exception_handler(StoreError)
    async def _store_error(_: Request, exc: StoreError) -> JSONResponse:
        if isinstance(exc, NotFound):
            return envelope(404, exc.code, exc.message, details=exc.details)
        if isinstance(exc, VersionConflict | Conflict):
            return envelope(409, exc.code, exc.message, details=exc.details)
        if isinstance(exc, Invalid):
            return envelope(422, exc.code, exc.message, fields=exc.fields, details=exc.details)
        return envelope(503, exc.code, exc.message, details=exc.details)

    @app.exception_handler(DataError)
    async def _data_error(_: Request, exc: DataError) -> JSONResponse:
        # e.g. a value longer than its column on PostgreSQL; the message may quote data: drop it
        return envelope(
            422,
            "invalid_input",
            "a value is too long or out of range for the database; nothing was written",
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        return envelope(
            409,
            "conflict",
            "the change clashes with existing records (a duplicate or a "
            "missing reference); nothing was written",
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return envelope(
                400,
                "bad_request",
                "the request body could not be read: it is not valid JSON. Send UTF-8 JSON "
                "with 'Content-Type: application/json'",
            )
        fields = _request_fields(exc)
        n = len(fields)
        return envelope(
            422,
            "invalid_input",
            f"{n} problem(s) with the request; see 'fields' for where and what is allowed",
            fields=fields,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, f"http_{exc.status_code}")
        if exc.status_code == 404:
            message = (
                f"no such endpoint: {request.method} {request.url.path}; the API is described "
                "at /docs and /openapi.json"
            )
        elif exc.status_code == 405:
            allow = allowed_methods(request)
            headers = {"Allow": allow}
            message = f"{request.method} is not allowed here; allowed: {allow or 'none'}"
            return envelope(405, code, message, headers=headers)
        elif exc.status_code == 400 and "parsing the body" in str(exc.detail):
            message = (
                "the request body could not be read: send UTF-8 JSON with "
                "'Content-Type: application/json'"
            )
        else:
            message = str(exc.detail)
        return envelope(
            exc.status_code, code, message, headers=dict(exc.headers) if exc.headers else None
        )

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
        # e.g. date arithmetic past year 9999; the inputs that reach it are bounded, this is
        # the backstop that keeps any other one a client error rather than a 500.
        return envelope(
            422,
            "invalid_input",
            "a date or number is outside the range the service can compute with; nothing was "
            "written",
        )

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        return internal_error(request, exc)


def allowed_methods(request: Request) -> str:
    """Every method some route accepts at this path (Starlette names only the first route)."""
    methods: set[str] = set()
    path = request.url.path
    routes = [*request.app.router.routes, *getattr(request.app.state, "api_routes", [])]
    for route in routes:
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path) and getattr(route, "methods", None):
            methods |= set(route.methods)
    return ", ".join(sorted(methods))


def internal_error(request: Request, exc: BaseException) -> JSONResponse:
    rid = getattr(request.state, "request_id", None)
    # Only the exception's type and the code locations: its message may quote patient data.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error(
        "internal error %s in %s (request %s)\n%s", type(exc).__name__, _route(request), rid, frames
    )
    return envelope(
        500,
        "internal_error",
        "the server failed to handle this request; nothing was changed. Quote the request id "
        "when reporting it.",
        details={"request_id": rid},
    )


def _route(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", None) or "(unrouted)"
    return f"{request.method} {path}"
