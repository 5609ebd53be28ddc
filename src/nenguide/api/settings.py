"""Settings of the HTTP service: read in this one place, from ``NENGUIDE_*`` environment
variables, with command-line options of ``nenguide serve`` as overrides.

Every setting is listed in :data:`ENVIRONMENT` (variable, field, meaning) and documented in
docs/api.md ("Settings"); a test checks that each variable set in the environment reaches the
running server, with one worker and with several.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from nenguide.store.db import resolve_url


class SettingError(ValueError):
    """A ``NENGUIDE_*`` variable holds a value that cannot be used."""


def _bool(v: str) -> bool:
    s = v.strip().lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected 1/0, true/false, yes/no or on/off")


_IDENTIFIERS = ("name", "mrn", "birth_date", "sex")


def _identifiers(v: str) -> str:
    items = [x.strip() for x in v.split(",") if x.strip()]
    bad = [x for x in items if x not in _IDENTIFIERS]
    if bad or not items:
        raise ValueError(f"expected a comma-separated list from {', '.join(_IDENTIFIERS)}")
    return ",".join(items)


#: Roles a SMART-launched session may have: never admin (an EHR launch must not administer
#: nenguide); docs/security.md ("SMART App Launch").
SMART_ROLES = ("clinician", "coordinator", "auditor")


def _smart_role(v: str) -> str:
    x = v.strip()
    if x not in SMART_ROLES:
        raise ValueError(f"expected one of {', '.join(SMART_ROLES)} (never admin)")
    return x


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(v: str) -> Any:
        x = kind(v)
        if not x > 0 or x != x or x == float("inf"):
            raise ValueError("expected a positive number")
        return x

    return parse


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=resolve_url)
    #: Upgrade the schema when the app starts (``serve`` does it once before starting workers).
    migrate: bool = False
    session_hours: float = 12.0
    #: How long a validated session is trusted without asking the database again.
    session_cache_seconds: float = 5.0
    #: Mark the session cookie Secure (set when served behind HTTPS).
    cookie_secure: bool = False
    cookie_name: str = "nenguide_session"
    guideline: str = "csco-2021"
    demo: bool = False
    db_pool_size: int = 10
    #: Largest request body accepted (bytes); larger ones get 413 before they are read.
    max_body_bytes: int = 2 * 1024 * 1024
    #: Largest body of ``POST /api/v1/patients/import`` (a whole patient record).
    max_import_bytes: int = 32 * 1024 * 1024
    #: Failed logins of one account (or from one client address) before it is throttled.
    login_free_failures: int = 5
    #: First wait after the free failures (seconds); doubles with each further failure.
    login_backoff_seconds: float = 1.0
    #: Longest wait a throttled account or client is asked for (seconds).
    login_max_backoff_seconds: float = 900.0
    #: Password hashes (argon2, ~50 MB each) computed at the same time in one process.
    max_concurrent_hashes: int = 4
    #: Web pages (issue 9): directory of the site-parameter file (site-parameters.yaml, used by
    #: every assessment the service makes) and of per-user page preferences (language).
    #: None: the user data directory beside the default SQLite file ("web-demo" in demo mode).
    web_state_dir: str | None = None
    #: Reports (issue 9): patient identifiers printed on each page, chosen by the site,
    #: comma-separated from name, mrn, birth_date, sex.
    report_identifiers: str = "name,mrn,birth_date"
    #: CDS Hooks (issue 11): issuers (JWT ``iss``) of the EHRs trusted, comma-separated.
    cds_issuers: str = ""
    #: CDS Hooks: URL of the EHR's JWK Set (fetched, cached 5 minutes).
    cds_jwks_url: str | None = None
    #: CDS Hooks: a local JWK Set file instead of (or besides: the file wins) the URL.
    cds_jwks_file: str | None = None
    #: SMART App Launch (issue 11): FHIR base URLs (``iss``) of the EHRs allowed to launch the
    #: pages, comma-separated; empty = SMART launch off.
    smart_issuers: str = ""
    #: SMART App Launch: the client id nenguide is registered under at the EHR (public client).
    smart_client_id: str | None = None
    #: SMART App Launch: the nenguide role of a launched session (clinician, coordinator or
    #: auditor; never admin).
    smart_role: str = "clinician"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``env`` (default: ``os.environ``); ``overrides`` (e.g. command-line
        options that were given) win. A bad value raises :class:`SettingError` naming it."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for var, name, parse, _doc in ENVIRONMENT:
            raw = env.get(var)
            if raw is None or (raw == "" and name != "database_url"):
                continue
            try:
                values[name] = parse(raw)
            except ValueError as exc:
                raise SettingError(f"{var}={raw!r} is not usable: {exc}") from None
        demo = bool(overrides.get("demo", values.get("demo", False)))
        if "database_url" not in overrides:
            values["database_url"] = resolve_url(
                str(values["database_url"]) if values.get("database_url") else None, demo=demo
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        return cls(**values)  # type: ignore[arg-type]

    def env(self) -> dict[str, str]:
        """These settings as ``NENGUIDE_*`` variables (handed to worker processes)."""
        out = {}
        for var, name, _parse, _doc in ENVIRONMENT:
            v = getattr(self, name)
            if v is None:
                continue
            out[var] = ("1" if v else "0") if isinstance(v, bool) else str(v)
        return out


#: (variable, Settings field, parser, meaning): the one list of what can be set.
ENVIRONMENT: tuple[tuple[str, str, Callable[[str], Any], str], ...] = (
    ("NENGUIDE_DATABASE_URL", "database_url", str, "SQLAlchemy URL of the database"),
    ("NENGUIDE_DEMO", "demo", _bool, "demo mode (its own demo database only)"),
    ("NENGUIDE_MIGRATE", "migrate", _bool, "upgrade the schema when the app starts"),
    ("NENGUIDE_SESSION_HOURS", "session_hours", _positive(float), "session lifetime (hours)"),
    (
        "NENGUIDE_SESSION_CACHE_SECONDS",
        "session_cache_seconds",
        _positive(float),
        "how long a worker trusts a validated session",
    ),
    ("NENGUIDE_COOKIE_SECURE", "cookie_secure", _bool, "mark the session cookie Secure"),
    ("NENGUIDE_DB_POOL_SIZE", "db_pool_size", _positive(int), "database connections per worker"),
    ("NENGUIDE_MAX_BODY_BYTES", "max_body_bytes", _positive(int), "largest request body"),
    (
        "NENGUIDE_MAX_IMPORT_BYTES",
        "max_import_bytes",
        _positive(int),
        "largest patient record import",
    ),
    (
        "NENGUIDE_LOGIN_FREE_FAILURES",
        "login_free_failures",
        _positive(int),
        "failed logins before throttling",
    ),
    (
        "NENGUIDE_LOGIN_BACKOFF_SECONDS",
        "login_backoff_seconds",
        _positive(float),
        "first throttling wait (doubles per failure)",
    ),
    (
        "NENGUIDE_LOGIN_MAX_BACKOFF_SECONDS",
        "login_max_backoff_seconds",
        _positive(float),
        "longest throttling wait",
    ),
    (
        "NENGUIDE_MAX_CONCURRENT_HASHES",
        "max_concurrent_hashes",
        _positive(int),
        "password hashes computed at once per worker",
    ),
    (
        "NENGUIDE_WEB_STATE_DIR",
        "web_state_dir",
        str,
        "folder of the site-parameter file and per-user page preferences",
    ),
    (
        "NENGUIDE_REPORT_IDENTIFIERS",
        "report_identifiers",
        _identifiers,
        "patient identifiers printed on reports (from name, mrn, birth_date, sex)",
    ),
    ("NENGUIDE_CDS_ISSUERS", "cds_issuers", str, "trusted EHR JWT issuers for CDS Hooks"),
    ("NENGUIDE_CDS_JWKS_URL", "cds_jwks_url", str, "URL of the EHR's JWK Set (CDS Hooks)"),
    ("NENGUIDE_CDS_JWKS_FILE", "cds_jwks_file", str, "local JWK Set file (CDS Hooks)"),
    (
        "NENGUIDE_SMART_ISSUERS",
        "smart_issuers",
        str,
        "FHIR base URLs (iss) of the EHRs allowed to SMART-launch the pages",
    ),
    ("NENGUIDE_SMART_CLIENT_ID", "smart_client_id", str, "nenguide's client id at the EHR (SMART)"),
    (
        "NENGUIDE_SMART_ROLE",
        "smart_role",
        _smart_role,
        "role of SMART-launched sessions (clinician, coordinator, auditor; never admin)",
    ),
)
