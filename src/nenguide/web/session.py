"""Who is looking at a page, in which language, and the CSRF token of its forms.

Pages use the JSON API's session: the HttpOnly, SameSite=Strict cookie set by the API's login
(Secure when the service runs behind TLS, ``cookie_secure``). Every form carries a CSRF token:
after login it is an HMAC of the session token's hash (a page of another site can neither read
nor compute it); on the login form it is a random value matched with a short-lived cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request

from nenguide.api.security import token_hash
from nenguide.report.texts import LANGS, pick_lang
from nenguide.web import data

CSRF_FIELD = "csrf"
CSRF_COOKIE = "nenguide_login_csrf"
LANG_COOKIE = "nenguide_lang"


@dataclass(frozen=True)
class WebUser:
    user_id: int
    username: str
    role: str
    token_hash: str
    request_id: str | None

    def actor(self) -> data.Actor:
        return data.Actor(self.username, self.role, self.request_id)


class LoginRequired(Exception):
    """No valid session: the page answers with the login form (then comes back)."""


class Forbidden(Exception):
    """The user's role may not do this."""

    def __init__(self, role: str):
        super().__init__(role)
        self.role = role


class CsrfFailed(Exception):
    """A form arrived without this site's token."""


def current_user(request: Request) -> WebUser | None:
    token = request.cookies.get(request.app.state.settings.cookie_name)
    if not token:
        return None
    th = token_hash(token)
    cache = request.app.state.session_cache
    found = cache.get(th)
    if found is None:
        found = data.session_user(request.app.state.db, th)
        if found is None:
            return None
        cache.put(th, *found)
    user_id, username, role = found
    return WebUser(user_id, username, role, th, getattr(request.state, "request_id", None))


def require(request: Request, roles: frozenset[str]) -> WebUser:
    user = current_user(request)
    if user is None:
        raise LoginRequired()
    if user.role not in roles:
        raise Forbidden(user.role)
    return user


# ----------------------------------------------------------------------------- CSRF


def csrf_token(request: Request, user: WebUser | None) -> str:
    if user is not None:
        return hmac.new(user.token_hash.encode(), b"nenguide-csrf", hashlib.sha256).hexdigest()
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) == 43:
        return existing
    token = getattr(request.state, "new_login_csrf", None)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.state.new_login_csrf = token
    return token


async def check_csrf(request: Request, user: WebUser | None) -> dict[str, str]:
    """The submitted form as a flat mapping, after checking its CSRF token."""
    form = await request.form()
    sent = str(form.get(CSRF_FIELD) or "")
    if user is not None:
        expected = csrf_token(request, user)
    else:
        expected = request.cookies.get(CSRF_COOKIE) or ""
    if not expected or not hmac.compare_digest(sent, expected):
        raise CsrfFailed()
    return {k: str(v) for k, v in form.multi_items() if isinstance(v, str)}


async def form_lists(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    out: dict[str, list[str]] = {}
    for k, v in form.multi_items():
        if isinstance(v, str):
            out.setdefault(k, []).append(v)
    return out


# ----------------------------------------------------------------------------- language


class Preferences:
    """Per-user page language, in a small JSON file (written atomically)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, str]:
        try:
            raw = json.loads(self.path.read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}

    def language(self, username: str) -> str | None:
        lang = self._read().get(username)
        return lang if lang in LANGS else None

    def set_language(self, username: str, lang: str) -> None:
        with self._lock:
            prefs = self._read()
            prefs[username] = lang
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".prefs-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(prefs, fh, ensure_ascii=False, indent=1, sort_keys=True)
            os.replace(tmp, self.path)


def language(request: Request, user: WebUser | None) -> str:
    """The user's saved choice, else the language cookie, else the browser's, else English."""
    if user is not None:
        saved = request.app.state.web_prefs.language(user.username)
        if saved:
            return str(saved)
    return (
        pick_lang(request.cookies.get(LANG_COOKIE))
        or pick_lang(request.headers.get("accept-language"))
        or "en"
    )
