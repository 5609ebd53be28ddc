"""Log in, log out, who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from nenguide import store
from nenguide.api import accounts
from nenguide.api.auth import ANY_ROLE, Principal, Require
from nenguide.api.routes import DB, ERRORS
from nenguide.api.schemas import LoginIn, LoginOut, UserOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=ERRORS)

Authenticated = Annotated[Principal, Depends(Require(ANY_ROLE, "use the API"))]


@router.post(
    "/login",
    response_model=LoginOut,
    openapi_extra={"security": []},
    responses={
        429: {**ERRORS[422], "description": "Too many failed logins: see Retry-After"},
        503: {**ERRORS[422], "description": "Busy checking passwords: see Retry-After"},
    },
)
async def login(body: LoginIn, request: Request, response: Response) -> LoginOut:
    """Exchange a user name and password for a session token (also set as a cookie). Repeated
    failures for an account or from an address are throttled: 429 with ``Retry-After``."""
    settings = request.app.state.settings
    result = await accounts.login(
        request.app.state,
        body.username,
        body.password,
        request.client.host if request.client else None,
        getattr(request.state, "request_id", None),
    )
    response.set_cookie(
        settings.cookie_name,
        result.token,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )
    return LoginOut(
        token=result.token, expires_at=result.expires_at, user=UserOut.model_validate(result.user)
    )


@router.post("/logout", status_code=204)
def logout(principal: Authenticated, request: Request, response: Response, db: DB) -> Response:
    """End this session (the token and cookie stop working at once)."""
    with db.write() as s:
        store.users.revoke_session(s, principal.actor(), principal.token_hash)
    request.app.state.session_cache.drop(principal.token_hash)
    out = Response(status_code=204)
    out.delete_cookie(request.app.state.settings.cookie_name, path="/")
    return out


@router.get("/me", response_model=UserOut)
def me(principal: Authenticated, db: DB) -> UserOut:
    """The logged-in user."""
    with db.read() as s:
        user = store.users.get_user(s, principal.username)
        assert user is not None
        return UserOut.model_validate(user, from_attributes=True)
