"""Rendering a page: the Jinja environment, the common context and the error pages."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader
from starlette.requests import Request
from starlette.responses import HTMLResponse

from nenguide import __version__
from nenguide.api.auth import (
    AUDIT,
    CLINICAL_WRITE,
    FOLLOWUP_WRITE,
    MEETING_WRITE,
    PATIENT_WRITE,
)
from nenguide.report.html import assessment_css, environment
from nenguide.report.texts import LANGS, Texts
from nenguide.store.vocab import ADMIN
from nenguide.web import session
from nenguide.web.session import WebUser


@lru_cache(maxsize=1)
def env() -> Environment:
    e = environment(PackageLoader("nenguide.web", "templates"))
    e.globals["LANGS"] = LANGS
    return e


def texts(request: Request, user: WebUser | None) -> Texts:
    return Texts(session.language(request, user), request.app.state.kb.catalog)


def can(user: WebUser | None) -> dict[str, bool]:
    role = user.role if user else ""
    return {
        "patient_write": role in PATIENT_WRITE,
        "clinical_write": role in CLINICAL_WRITE,
        "meeting_write": role in MEETING_WRITE,
        "followup_write": role in FOLLOWUP_WRITE,
        "audit": role in AUDIT,
        "admin": role == ADMIN,
        "read_only": role == "auditor",
    }


def page(
    request: Request,
    template: str,
    user: WebUser | None,
    *,
    status: int = 200,
    tx: Texts | None = None,
    **ctx: Any,
) -> HTMLResponse:
    tx = tx or texts(request, user)
    settings = request.app.state.settings
    html = (
        env()
        .get_template(template)
        .render(
            request=request,
            user=user,
            tx=tx,
            can=can(user),
            csrf=session.csrf_token(request, user),
            demo=settings.demo,
            version=__version__,
            disclaimer=tx.kb("disclaimer"),
            path=request.url.path,
            **ctx,
        )
    )
    resp = HTMLResponse(html, status_code=status)
    new = getattr(request.state, "new_login_csrf", None)
    if new:
        resp.set_cookie(
            session.CSRF_COOKIE,
            new,
            max_age=3600,
            httponly=True,
            samesite="strict",
            secure=settings.cookie_secure,
            path="/",
        )
    resp.headers["cache-control"] = "no-store"
    return resp


def css() -> str:
    return assessment_css()
