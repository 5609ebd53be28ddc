"""The API's edge: what every request goes through before a route sees it, and the headers every
response leaves with.

:class:`RequestGuard`, in this order:

1. a body larger than the limit (``Content-Length`` or counted while reading) gets 413 before it
   is read;
2. a request to a route that needs a login is authenticated first: without a valid session it
   gets 401 before its body is read or parsed;
3. a NUL character in the path or query gets 422 (PostgreSQL cannot store one; SQLite would);
4. a JSON body of an API write is parsed once, strictly: malformed JSON, ``NaN``/``Infinity``,
   nesting deeper than :data:`MAX_DEPTH` -> 400 ``bad_request``; a number too large for a
   float (``1e309``), a lone UTF-16 surrogate or a NUL in a string -> 422 ``invalid_input``
   naming the field.

:class:`SecurityHeaders` adds ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
``Referrer-Policy: no-referrer`` and ``Cache-Control: no-store`` (unless the response set its
own). It sets no Content-Security-Policy: the web pages own theirs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from nenguide.api import errors
from nenguide.limits import LONG_NUMBER, DuplicateKey, unique_keys

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Deepest JSON nesting accepted (a patient record export is about 8 levels deep).
MAX_DEPTH = 64
API_PREFIX = "/api/"
#: CDS Hooks services take JSON from the EHR: the same strict JSON checks apply to them.
CDS_PREFIX = "/cds-services"
IMPORT_PATH = "/api/v1/patients/import"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


class BodyTooLarge(Exception):
    pass


class _Reject(Exception):
    def __init__(self, response: JSONResponse):
        self.response = response


def _bad_json(message: str) -> _Reject:
    return _Reject(
        errors.envelope(
            400,
            "bad_request",
            f"the request body could not be read: {message}. Send UTF-8 JSON with "
            "'Content-Type: application/json'",
        )
    )


def _invalid(path: str, message: str, allowed: str) -> _Reject:
    return _Reject(
        errors.envelope(
            422,
            "invalid_input",
            f"1 problem(s) with the request; {message}",
            fields=[{"path": path or "(body)", "message": message, "allowed": allowed}],
        )
    )


def _no_constant(name: str) -> Any:
    raise _bad_json(f"{name} is not a JSON number")


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "text must not contain the NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text contains a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape)"
    return None


def check_json(body: bytes) -> Any:
    """Parse ``body`` strictly (see the module docstring); raise ``_Reject`` with the answer."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad_json("it is not UTF-8") from None
    try:
        data = json.loads(text, parse_constant=_no_constant, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as exc:
        where = f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise _bad_json(f"not valid JSON ({where})") from None
    except DuplicateKey as exc:
        raise _invalid(exc.key, str(exc), "each key once per object") from None
    except ValueError:  # Python's bound on an integer's digits
        raise _bad_json(f"it holds {LONG_NUMBER}") from None
    except RecursionError:
        raise _bad_json(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _bad_json(f"JSON nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            for k, v in node.items():
                sub = f"{path}.{k}" if path else str(k)
                problem = _text_problem(k)
                if problem:
                    raise _invalid(path or "(body)", f"a field name: {problem}", "plain text")
                stack.append((v, sub, depth + 1))
        elif isinstance(node, list):
            stack.extend(
                (v, f"{path}.{n}" if path else str(n), depth + 1) for n, v in enumerate(node)
            )
        elif isinstance(node, str):
            problem = _text_problem(node)
            if problem:
                raise _invalid(path, problem, "text without NUL characters or lone surrogates")
        elif isinstance(node, float) and not math.isfinite(node):
            raise _invalid(path, "the number is too large", "a number within ±1.7e308")
    return data


def _query_problem(scope: Scope) -> _Reject | None:
    if "\x00" in scope.get("path", ""):
        return _invalid("(path)", _text_problem("\x00") or "", "a path without NUL characters")
    raw = scope.get("query_string", b"").decode("latin-1")
    if "%00" in raw or "\x00" in raw:
        for k, v in parse_qsl(raw, keep_blank_values=True):
            if "\x00" in k or "\x00" in v:
                return _invalid(
                    f"query:{k.replace(chr(0), '')}",
                    _text_problem("\x00") or "",
                    "text without NUL characters",
                )
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", []):
        if k == name:
            return str(v.decode("latin-1"))
    return None


class RequestGuard:
    """Body size limit, authentication before the body, NUL and strict JSON (see above)."""

    def __init__(self, app: ASGIApp, *, state: Any):
        self.app = app
        self.state = state

    def _limit(self, path: str) -> int:
        s = self.state.settings
        return int(s.max_import_bytes if path == IMPORT_PATH else s.max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        limit = self._limit(path)
        try:
            length = _header(scope, b"content-length")
            if length is not None and length.isdigit() and int(length) > limit:
                raise _Reject(_too_large(limit))
            api = path.startswith(API_PREFIX)
            strict = api or path.startswith(CDS_PREFIX)
            if api and path not in self.state.public_paths:
                await self._authenticate(scope)
            problem = _query_problem(scope)
            if problem is not None:
                raise problem
            if strict and method in WRITE_METHODS:
                body = await _read(receive, limit)
                if len(body) > 65536:  # a big import: parse it off the event loop
                    await run_in_threadpool(check_json, body)
                elif body.strip():
                    check_json(body)
                receive = _replay(body, receive)
            else:
                receive = _counting(receive, limit)
        except _Reject as rej:
            await _answer(rej.response, scope, receive, send)
            return
        except BodyTooLarge:
            await _answer(_too_large(limit), scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except BodyTooLarge:
            if started:
                raise
            await _answer(_too_large(limit), scope, receive, send)

    async def _authenticate(self, scope: Scope) -> None:
        from nenguide.api.auth import bearer_or_cookie_token, resolve_session

        token = bearer_or_cookie_token(
            _header(scope, b"authorization"),
            _header(scope, b"cookie"),
            self.state.settings.cookie_name,
        )
        if not token:
            raise _Reject(errors.unauthenticated_response(None))
        if await resolve_session(self.state, token) is None:
            raise _Reject(errors.unauthenticated_response("expired"))


def _too_large(limit: int) -> JSONResponse:
    return errors.envelope(
        413,
        "payload_too_large",
        f"the request body is larger than {limit} bytes; nothing was read or changed",
        details={"limit_bytes": limit},
    )


async def _read(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, original: Receive) -> Receive:
    """The body already read, then whatever the client sends next (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive


def _counting(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge
        return message

    return counted


async def _answer(response: JSONResponse, scope: Scope, receive: Receive, send: Send) -> None:
    await response(scope, receive, send)
