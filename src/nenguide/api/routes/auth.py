"""Log in, log out, who am I."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from nenguide import store
from nenguide.api import security
from nenguide.api.auth import ANY_ROLE, Principal, Require
from nenguide.api.errors import ApiError
from nenguide.api.routes import DB, ERRORS
from nenguide.api.schemas import LoginIn, LoginOut, UserOut
from nenguide.store import Actor

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=ERRORS)

Authenticated = Annotated[Principal, Depends(Require(ANY_ROLE, "use the API"))]


@router.post("/login", response_model=LoginOut, openapi_extra={"security": []})
def login(body: LoginIn, request: Request, response: Response, db: DB) -> LoginOut:
    """Exchange a user name and password for a session token (also set as a cookie)."""
    settings = request.app.state.settings
    rid = getattr(request.state, "request_id", None)
    with db.read() as s:
        user = store.users.get_user(s, body.username)
        stored = user.password_hash if user is not None and user.active else None
    if not security.verify_password(stored, body.password) or user is None:
        with db.write() as s:
            store.audit.audit(
                s, Actor(body.username, None, rid), "auth.login_failed", "user", body.username
            )
        raise ApiError(
            401,
            "invalid_credentials",
            "wrong user name or password (or the account is disabled)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = security.new_token()
    ttl = dt.timedelta(hours=settings.session_hours)
    with db.write() as s:
        fresh = s.merge(user)
        if security.needs_rehash(fresh.password_hash):
            fresh.password_hash = security.hash_password(body.password)
        expires = store.users.create_session(
            s, Actor(user.username, user.role, rid), fresh, security.token_hash(token), ttl
        )
        user_out = UserOut.model_validate(fresh, from_attributes=True)
    response.set_cookie(
        settings.cookie_name,
        token,
        max_age=int(ttl.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )
    return LoginOut(token=token, expires_at=expires, user=user_out)


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
