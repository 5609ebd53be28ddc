"""Authentication (session token as Bearer header or cookie) and role checks.

Every route that touches patient data declares the roles allowed with ``Depends(Require(...))``;
the roles also appear in the OpenAPI document (``x-roles``) and the route test iterates them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from nenguide import store
from nenguide.api.errors import ApiError
from nenguide.api.security import token_hash
from nenguide.store import Actor, Database
from nenguide.store.vocab import ADMIN, AUDITOR, CLINICIAN, COORDINATOR, ROLES

# Who may do what. The admin is the superuser of a site; the auditor only reads.
ANY_ROLE = frozenset(ROLES)
READ = ANY_ROLE
PATIENT_WRITE = frozenset({CLINICIAN, COORDINATOR, ADMIN})
CLINICAL_WRITE = frozenset({CLINICIAN, ADMIN})
MEETING_WRITE = frozenset({CLINICIAN, COORDINATOR, ADMIN})
FOLLOWUP_WRITE = frozenset({CLINICIAN, COORDINATOR, ADMIN})
EXPORT = frozenset({CLINICIAN, ADMIN, AUDITOR})
IMPORT = frozenset({CLINICIAN, ADMIN})
USERS = frozenset({ADMIN})
AUDIT = frozenset({AUDITOR, ADMIN})

COOKIE_NAME = "nenguide_session"
#: Header a browser client must send with cookie-authenticated writes (CSRF defence: a
#: cross-site form cannot set it, and the API enables no CORS).
CSRF_HEADER = "X-Requested-With"

bearer = HTTPBearer(auto_error=False, description="Session token from POST /api/v1/auth/login")
cookie = APIKeyCookie(name=COOKIE_NAME, auto_error=False, description="Session cookie set at login")


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: str
    token_hash: str
    request_id: str | None

    def actor(self) -> Actor:
        return Actor(self.username, self.role, self.request_id)


NOT_LOGGED_IN = "log in first: POST /api/v1/auth/login, then send 'Authorization: Bearer <token>'"
SESSION_ENDED = "the session has expired or was ended: log in again"


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, "unauthenticated", message, headers={"WWW-Authenticate": "Bearer"})


class SessionCache:
    """Recently validated sessions, so a request costs no database round trip to authenticate.

    Entries live ``ttl`` seconds. Logout and changes to a user drop their entries in this
    process at once; with several worker processes another worker may accept a revoked token
    for at most ``ttl`` seconds (documented in docs/api.md)."""

    def __init__(self, ttl: float = 5.0, max_entries: int = 10_000):
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, int, str, str]] = {}
        self._lock = threading.Lock()

    def get(self, th: str) -> tuple[int, str, str] | None:
        hit = self._entries.get(th)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1], hit[2], hit[3]

    def put(self, th: str, user_id: int, username: str, role: str) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[th] = (time.monotonic() + self.ttl, user_id, username, role)

    def drop(self, th: str) -> None:
        with self._lock:
            self._entries.pop(th, None)

    def drop_user(self, username: str) -> None:
        with self._lock:
            for k in [k for k, v in self._entries.items() if v[2] == username]:
                del self._entries[k]


def _lookup(db: Database, th: str) -> tuple[int, str, str] | None:
    with db.read() as s:
        user = store.users.session_user(s, th)
        return None if user is None else (user.id, user.username, user.role)


def bearer_or_cookie_token(
    authorization: str | None, cookie_header: str | None, cookie_name: str
) -> str | None:
    """The session token of a request: the Bearer credentials, else the session cookie."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    if cookie_header:
        jar = SimpleCookie()
        try:
            jar.load(cookie_header)
        except CookieError:
            return None
        morsel = jar.get(cookie_name)
        if morsel is not None and morsel.value:
            return morsel.value
    return None


async def resolve_session(state: Any, token: str) -> tuple[int, str, str] | None:
    """(user id, user name, role) of a live session token, from the cache or the database."""
    th = token_hash(token)
    cache: SessionCache = state.session_cache
    found = cache.get(th)
    if found is None:
        found = await run_in_threadpool(_lookup, state.db, th)
        if found is not None:
            cache.put(th, *found)
    return found


async def authenticate(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    cookie_token: Annotated[str | None, Depends(cookie)],
) -> Principal:
    token = creds.credentials if creds is not None else cookie_token
    if not token:
        raise _unauthenticated(NOT_LOGGED_IN)
    th = token_hash(token)
    found = await resolve_session(request.app.state, token)
    if found is None:
        raise _unauthenticated(SESSION_ENDED)
    user_id, username, role = found
    p = Principal(user_id, username, role, th, getattr(request.state, "request_id", None))
    cookie_write = creds is None and request.method not in ("GET", "HEAD", "OPTIONS")
    if cookie_write and not request.headers.get(CSRF_HEADER):
        raise ApiError(
            403,
            "csrf_header_missing",
            f"requests authenticated by the session cookie must send the {CSRF_HEADER} "
            "header when they change data",
        )
    request.state.username = p.username
    return p


class Require:
    """Dependency: an authenticated user whose role is one of ``roles``."""

    def __init__(self, roles: frozenset[str], what: str):
        self.roles = roles
        self.what = what

    async def __call__(self, principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in self.roles:
            raise ApiError(
                403,
                "forbidden",
                f"your role '{principal.role}' may not {self.what}; this needs one of: "
                f"{', '.join(sorted(self.roles))}",
                details={"role": principal.role, "allowed_roles": sorted(self.roles)},
            )
        return principal

    def __repr__(self) -> str:
        return f"Require({sorted(self.roles)})"
