"""Settings of the HTTP service, from arguments or ``NENGUIDE_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from nenguide.store.db import resolve_url


def _bool(v: str | None, default: bool) -> bool:
    if v is None or v == "":
        return default
    return v.strip().lower() in ("1", "true", "yes", "on")


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
    #: Web pages (issue 9): directory of the site-parameter file (site-parameters.yaml, used by
    #: every assessment the service makes) and of per-user page preferences (language).
    #: None: the user data directory beside the default SQLite file ("web-demo" in demo mode).
    web_state_dir: str | None = field(
        default_factory=lambda: os.environ.get("NENGUIDE_WEB_STATE_DIR") or None
    )
    #: Reports (issue 9): patient identifiers printed on each page, chosen by the site,
    #: comma-separated from name, mrn, birth_date, sex.
    report_identifiers: str = field(
        default_factory=lambda: (
            os.environ.get("NENGUIDE_REPORT_IDENTIFIERS") or "name,mrn,birth_date"
        )
    )

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "database_url": resolve_url(demo=_bool(env.get("NENGUIDE_DEMO"), False)),
            "session_hours": float(env.get("NENGUIDE_SESSION_HOURS") or 12.0),
            "cookie_secure": _bool(env.get("NENGUIDE_COOKIE_SECURE"), False),
            "demo": _bool(env.get("NENGUIDE_DEMO"), False),
            "migrate": _bool(env.get("NENGUIDE_MIGRATE"), False),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
