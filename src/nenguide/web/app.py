"""Mounting the web pages on the MDT service: ``install(app)``.

Adds the page routes, the vendored static files (CSS, JS, fonts, Swagger UI, ReDoc), the
report downloads of the API, the Content-Security-Policy header and the page error handlers.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from nenguide.api.site_params import SiteParameterFile
from nenguide.limits import MAX_FORM_ROWS, short
from nenguide.store.db import default_sqlite_path
from nenguide.web import api_reports, pages_mdt, pages_patients, pages_site, render, session

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("nenguide.web")

#: Pages load only this site's own scripts, styles, images and fonts, and no site may frame them.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
#: Swagger UI and ReDoc set inline styles and ReDoc runs a worker from a blob: URL.
CSP_DOCS = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: A downloaded HTML report: its styles are inline and it runs no script at all.
CSP_REPORT = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


class ContentSecurityPolicy:
    """Sets the CSP header on every response that has none of its own; a page (not the API)
    that fails answers with an HTML page naming the request id, nothing having changed."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        policy = CSP_DOCS if path in ("/docs", "/redoc") else CSP

        started = False

        async def with_csp(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                    headers.append((b"content-security-policy", policy.encode()))
                message["headers"] = headers
            await send(message)

        accept = dict(scope.get("headers") or []).get(b"accept", b"")
        if path.startswith("/api/") or b"text/html" not in accept:
            await self.app(scope, receive, with_csp)
            return
        try:
            await self.app(scope, receive, with_csp)
        except Exception as exc:
            if started:
                raise
            rid = scope.get("state", {}).get("request_id", "")
            # no message or traceback: either could quote patient data
            route = getattr(scope.get("route"), "path", "(unrouted)")
            log.error("page %s failed: %s (rid=%s)", route, type(exc).__name__, rid)
            body = (
                '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error</title>'
                '<link rel="stylesheet" href="/static/css/app.css"></head><body><main>'
                "<h1>Error · 出错</h1><p>Something went wrong on the server; nothing was "
                "changed. 服务器出错，未作任何更改。</p><p>Request id · 请求编号: <code>"
                f'{html.escape(str(rid))}</code></p><p><a href="/patients">nenguide</a></p>'
                "</main></body></html>"
            )
            await HTMLResponse(body, status_code=500)(scope, receive, with_csp)


def _state_dir(app: FastAPI) -> Path:
    settings = app.state.settings
    if settings.web_state_dir:
        return Path(settings.web_state_dir)
    return default_sqlite_path("web-demo" if settings.demo else "web")


def _docs_page(title: str, body: str, css: str | None = None) -> HTMLResponse:
    link = f'<link rel="stylesheet" href="{css}">' if css else ""
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{link}</head>'
        f"<body>{body}</body></html>"
    )


def _install_smart_launch(app: FastAPI) -> None:
    """SMART App Launch (issue 11), when the [fhir] extra it reads the EHR's data with is there."""
    try:
        from nenguide.web import smart
    except ImportError:
        return
    smart.install(app)


def install(app: FastAPI) -> None:
    """Add the pages to the MDT service ``app`` (called by ``create_app``)."""
    state = _state_dir(app)
    app.state.site_params = SiteParameterFile(state / "site-parameters.yaml")
    app.state.web_prefs = session.Preferences(state / "user-preferences.json")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages_patients.router)
    app.include_router(pages_mdt.router)
    app.include_router(pages_site.router)
    app.include_router(api_reports.router)
    _install_smart_launch(app)
    app.state.api_routes = [
        *app.state.api_routes,
        *(r for r in api_reports.router.routes if isinstance(r, APIRoute)),
    ]
    app.add_middleware(ContentSecurityPolicy)

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return _docs_page(
            "nenguide MDT service - Swagger UI",
            '<div id="swagger-ui"></div>'
            '<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>'
            '<script src="/static/js/swagger-init.js"></script>',
            "/static/vendor/swagger-ui/swagger-ui.css",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _docs_page(
            "nenguide MDT service - ReDoc",
            '<redoc spec-url="/openapi.json"></redoc>'
            '<script src="/static/vendor/redoc/redoc.standalone.js"></script>',
        )

    @app.get("/static/assessment.css", include_in_schema=False)
    def assessment_css() -> Response:
        return Response(render.css(), media_type="text/css")

    @app.exception_handler(session.LoginRequired)
    async def login_required(request: Request, exc: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(session.Forbidden)
    async def forbidden(request: Request, exc: Exception) -> Response:
        user = session.current_user(request)
        tx = render.texts(request, user)
        role = exc.role if isinstance(exc, session.Forbidden) else ""
        return render.page(
            request,
            "error.html",
            user,
            status=403,
            message=tx.t("error.forbidden", role=tx.t(f"role.{role}")),
        )

    @app.exception_handler(session.CsrfFailed)
    async def csrf_failed(request: Request, exc: Exception) -> Response:
        user = session.current_user(request)
        tx = render.texts(request, user)
        return render.page(request, "error.html", user, status=403, message=tx.t("error.csrf"))

    @app.exception_handler(pages_patients.FormTooLarge)
    async def form_too_large(request: Request, exc: Exception) -> Response:
        user = session.current_user(request)
        tx = render.texts(request, user)
        field = exc.field if isinstance(exc, pages_patients.FormTooLarge) else ""
        message = tx.t("error.form_rows", field=short(field), limit=MAX_FORM_ROWS)
        return render.page(request, "error.html", user, status=413, message=message)

    @app.exception_handler(pages_patients.PageNotFound)
    async def not_found(request: Request, exc: Exception) -> Response:
        user = session.current_user(request)
        tx = render.texts(request, user)
        return render.page(request, "error.html", user, status=404, message=tx.t("error.not_found"))
