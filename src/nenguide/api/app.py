"""The FastAPI application: ``create_app(settings)``.

Adapters only: handlers validate input, call the engine's ``assess()`` or the store's
repository and shape the answer. Logging records method, route template, status and time,
never a path with ids filled in, a query string or a body: no patient data in logs.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.requests import Request

from nenguide import __version__, load_knowledge
from nenguide.api import accounts, errors
from nenguide.api.auth import Require, SessionCache
from nenguide.api.cds_auth import CdsVerifier
from nenguide.api.edge import RequestGuard, SecurityHeaders
from nenguide.api.routes import admin, auth, clinical, mdt
from nenguide.api.settings import Settings
from nenguide.model.assessment import Assessment
from nenguide.model.case import Case
from nenguide.store import Database, instance, migrate
from nenguide.web import app as web

log = logging.getLogger("nenguide.api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DESCRIPTION = """\
Clinical decision support for the neuroendocrine-neoplasm MDT (CSCO 2021 guideline).

Log in with `POST /api/v1/auth/login`, then send `Authorization: Bearer <token>`. Every error
has the same shape: `{"error": {"code", "message", "fields": [{"path", "message", "received",
"allowed"}], "details"}}`. Each operation lists the roles allowed in `x-roles`.

The system supports the MDT's decision; it does not make it.
"""

_RID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContext:
    """Request id, timing log line without patient data, and the last-resort 500 envelope."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ""
        for k, v in scope.get("headers", []):
            if k == b"x-request-id":
                rid = v.decode("latin-1")
        if not _RID.match(rid):
            rid = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid
        started = False
        status = 500
        t0 = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            if started:
                raise
            response = errors.internal_error(Request(scope), exc)
            await response(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "(unrouted)"
            log.info(
                "%s %s %s %.1fms rid=%s",
                scope.get("method"),
                path,
                status,
                (time.perf_counter() - t0) * 1000,
                rid,
            )


def route_roles(route: APIRoute) -> frozenset[str] | None:
    """The roles a route requires, or None for a public route."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Require):
            return dep.call.roles
        stack.extend(dep.dependencies)
    return None


def fhir_routers() -> tuple[Any, ...]:
    """The FHIR and CDS Hooks routes when the [fhir] extra is installed."""
    try:
        from nenguide.api.routes import cdshooks, fhir
    except ImportError:
        return ()
    return (fhir.router, cdshooks.router, cdshooks.export_router)


ROUTERS = (auth.router, clinical.router, mdt.router, admin.router, *fhir_routers())


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every API operation of the app (the route test iterates these)."""
    routes: list[APIRoute] = app.state.api_routes
    return routes


def _resolve_placeholders(node: Any) -> Any:
    """Turn ``{"x-nenguide-ref": "Case"}`` (see ``schemas.CaseBody``) into a ``$ref``."""
    if isinstance(node, dict):
        if "x-nenguide-ref" in node:
            name = node.pop("x-nenguide-ref")
            node.clear()
            node["$ref"] = f"#/components/schemas/{name}"
        for v in node.values():
            _resolve_placeholders(v)
    elif isinstance(node, list):
        for v in node:
            _resolve_placeholders(v)
    return node


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title="nenguide MDT service",
            version=__version__,
            description=DESCRIPTION,
            routes=app.routes,
        )
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        # The engine's own models, referenced by the case bodies and assessment results.
        # FastAPI already added Assessment (the /assess response); Case is added here.
        for model in (Case, Assessment):
            if model.__name__ in comps:
                continue
            js = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in {**js.pop("$defs", {}), model.__name__: js}.items():
                if name in comps and comps[name] != sub:
                    raise RuntimeError(f"OpenAPI schema name clash: {name}")
                comps[name] = sub
        _resolve_placeholders(schema)
        for route in api_routes(app):
            roles = route_roles(route)
            for method in route.methods or ():
                op = schema["paths"][route.path_format].get(method.lower())
                if op is None:
                    continue
                if roles is None:
                    op["security"] = []
                    op["x-roles"] = []
                else:
                    op["x-roles"] = sorted(roles)
                    op["description"] = (
                        (op.get("description") or "").rstrip()
                        + f"\n\nRoles: {', '.join(sorted(roles))}."
                    ).lstrip()
        app.openapi_schema = schema
        return schema

    return build


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> FastAPI:
    """Build the application. The schema is upgraded at start-up when ``settings.migrate``;
    otherwise start-up fails with a clear message if the database is not at this version."""
    settings = settings or Settings.from_env()
    database = db or Database(settings.database_url, pool_size=settings.db_pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.demo:  # demo mode runs on a demo database only
            instance.check_demo(database)
        if settings.migrate:
            migrate.upgrade(database)
        else:
            migrate.check(database)
        app.state.schema_revision = migrate.current(database)
        yield
        database.dispose()

    app = FastAPI(
        title="nenguide MDT service",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc: vendored Swagger UI and ReDoc (nenguide.web)
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.db = database
    app.state.kb = load_knowledge(settings.guideline)
    app.state.schema_revision = None
    app.state.session_cache = SessionCache(settings.session_cache_seconds)
    accounts.install(app.state, settings)
    app.state.cds_verifier = CdsVerifier.from_settings(settings)  # CDS Hooks JWT (issue 11)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.state.api_routes = [
        r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)
    ]
    app.state.public_paths = frozenset(
        r.path for r in app.state.api_routes if route_roles(r) is None
    )
    web.install(app)  # pages, static files, report downloads, CSP (issue 9)
    # Outermost last: headers on every answer, then the request id and log line, then the
    # guard (size, authentication before the body, NUL, strict JSON) in front of the routes.
    app.add_middleware(RequestGuard, state=app.state)
    app.add_middleware(RequestContext)
    app.add_middleware(SecurityHeaders)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (several workers): settings from NENGUIDE_* variables."""
    return create_app(Settings.from_env())
