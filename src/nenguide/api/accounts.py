"""The login and password service, shared by every way in (the JSON API's ``POST /auth/login``
and the web pages' login form): throttling, bounded password hashing, the password policy and
the audit of failed logins.

Throttling (per worker process; see docs/security.md): each account and each client address
counts its failed logins. After ``login_free_failures`` failures of an account (four times as
many from one client address, which may be a ward's shared proxy), every further attempt must
wait ``login_backoff_seconds``, doubling per failure up to ``login_max_backoff_seconds``; an
attempt that comes too early is answered 429 with ``Retry-After`` and no password is checked.
A successful login clears its account's count. Counts are forgotten after the longest wait has
passed without a failure.

Hashing: argon2 uses about 64 MiB and tens of milliseconds per hash; at most
``max_concurrent_hashes`` run at once per worker, the others queue (and get 503 after 10 s).

Audit: failed logins are sampled, not written one by one: the 1st, 2nd, 4th, 8th, ... failure
of an account is written (``auth.login_failed``, with the running count and the client
address), so a flood of guesses adds a few entries, not thousands.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from nenguide import store
from nenguide.api import security
from nenguide.api.errors import ApiError
from nenguide.api.passwords import WEAK_PASSWORD, password_problem
from nenguide.api.settings import Settings
from nenguide.store import Actor, Database

#: Clients may fail this many times the account allowance before they are throttled.
CLIENT_FACTOR = 4
HASH_WAIT_SECONDS = 10.0


def check_password(password: str, username: str | None) -> None:
    """Raise 422 ``weak_password`` unless the password meets the policy."""
    problem = password_problem(password, username)
    if problem:
        raise ApiError(
            422,
            WEAK_PASSWORD,
            problem,
            fields=[{"path": "password", "message": problem, "received": None}],
        )


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0
    blocked_until: float = 0.0


@dataclass
class LoginThrottle:
    free_failures: int = 5
    backoff: float = 1.0
    max_backoff: float = 900.0
    max_keys: int = 100_000
    _counts: dict[str, _Count] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, s: Settings) -> LoginThrottle:
        return cls(s.login_free_failures, s.login_backoff_seconds, s.login_max_backoff_seconds)

    def _free(self, key: str) -> int:
        return self.free_failures * (CLIENT_FACTOR if key.startswith("client:") else 1)

    def retry_after(self, keys: list[str], now: float | None = None) -> float:
        """Seconds until an attempt with these keys may be made (0: now)."""
        t = time.monotonic() if now is None else now
        with self._lock:
            waits = [
                c.blocked_until - t
                for k in keys
                if (c := self._counts.get(k)) is not None and c.blocked_until > t
            ]
        return max(waits, default=0.0)

    def failure(self, keys: list[str], now: float | None = None) -> int:
        """Count a failed login; returns the account's (first key's) failure count."""
        t = time.monotonic() if now is None else now
        counts = []
        with self._lock:
            if len(self._counts) >= self.max_keys:
                self._prune(t)
            for k in keys:
                c = self._counts.get(k)
                if c is None or t - c.last > self.max_backoff + self.backoff:
                    c = self._counts[k] = _Count()
                c.failures += 1
                c.last = t
                over = c.failures - self._free(k)
                if over >= 0:
                    c.blocked_until = t + min(self.max_backoff, self.backoff * 2.0 ** min(over, 60))
                counts.append(c.failures)
        return counts[0]

    def success(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def _prune(self, t: float) -> None:
        stale = [k for k, c in self._counts.items() if t - c.last > self.max_backoff]
        for k in stale:
            del self._counts[k]
        if len(self._counts) >= self.max_keys:  # still full: forget the oldest half
            for k, _ in sorted(self._counts.items(), key=lambda kv: kv[1].last)[
                : self.max_keys // 2
            ]:
                del self._counts[k]


class HashGate:
    """At most ``n`` password hashes at once in this process."""

    def __init__(self, n: int):
        self._sem = threading.BoundedSemaphore(n)

    def run(self, fn: Any, *args: Any) -> Any:
        if not self._sem.acquire(timeout=HASH_WAIT_SECONDS):
            raise ApiError(
                503,
                "busy",
                "the server is busy checking passwords; try again in a few seconds",
                headers={"Retry-After": "5"},
            )
        try:
            return fn(*args)
        finally:
            self._sem.release()


def install(state: Any, settings: Settings) -> None:
    """Give the app (its ``state``) its login throttle and hashing bound."""
    state.login_throttle = LoginThrottle.from_settings(settings)
    state.hash_gate = HashGate(settings.max_concurrent_hashes)


def hash_password(state: Any, password: str) -> str:
    """argon2id hash of a new password, within the process's hashing bound."""
    result: str = state.hash_gate.run(security.hash_password, password)
    return result


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_at: dt.datetime
    user: dict[str, Any]


def _too_many(wait: float) -> ApiError:
    seconds = max(1, math.ceil(wait))
    return ApiError(
        429,
        "too_many_attempts",
        f"too many failed logins for this account or from this address: wait {seconds} "
        "second(s) before trying again",
        details={"retry_after_seconds": seconds},
        headers={"Retry-After": str(seconds)},
    )


def _check(db: Database, gate: HashGate, username: str, password: str) -> tuple[Any, bool]:
    with db.read() as s:
        user = store.users.get_user(s, username)
        stored = user.password_hash if user is not None and user.active else None
    ok = bool(gate.run(security.verify_password, stored, password)) and user is not None
    return user, ok


def _finish(
    db: Database,
    gate: HashGate,
    user: Any,
    password: str,
    token: str,
    ttl: dt.timedelta,
    actor: Actor,
) -> tuple[dt.datetime, dict[str, Any]]:
    with db.write() as s:
        fresh = s.merge(user)
        if security.needs_rehash(fresh.password_hash):
            fresh.password_hash = gate.run(security.hash_password, password)
        expires = store.users.create_session(s, actor, fresh, security.token_hash(token), ttl)
        return expires, store.users.user_record(fresh)


def _audit_failure(db: Database, actor: Actor, username: str, count: int, client: str) -> None:
    with db.write() as s:
        store.audit.audit(
            s,
            actor,
            "auth.login_failed",
            "user",
            username,
            after={"failures": count, "client": client, "sampled": "1st, 2nd, 4th, 8th, …"},
        )


async def login(
    state: Any, username: str, password: str, client: str | None, request_id: str | None
) -> LoginResult:
    """Check a login; the session on success. Raises 401 ``invalid_credentials`` or 429
    ``too_many_attempts`` (``Retry-After``). ``state`` is the app's ``request.app.state``."""
    settings: Settings = state.settings
    throttle: LoginThrottle = state.login_throttle
    client = client or "unknown"
    keys = [f"user:{username.casefold()}", f"client:{client}"]
    wait = throttle.retry_after(keys)
    if wait > 0:
        raise _too_many(wait)
    gate: HashGate = state.hash_gate
    user, ok = await run_in_threadpool(_check, state.db, gate, username, password)
    if not ok:
        count = throttle.failure(keys)
        if count & (count - 1) == 0:  # 1, 2, 4, 8, ...: a sample, with the running count
            actor = Actor(username[:64], None, request_id)
            await run_in_threadpool(_audit_failure, state.db, actor, username[:64], count, client)
        raise ApiError(
            401,
            "invalid_credentials",
            "wrong user name or password (or the account is disabled)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    throttle.success(keys[0])
    token = security.new_token()
    ttl = dt.timedelta(hours=settings.session_hours)
    actor = Actor(user.username, user.role, request_id)
    expires, doc = await run_in_threadpool(
        _finish, state.db, gate, user, password, token, ttl, actor
    )
    return LoginResult(token, expires, doc)
