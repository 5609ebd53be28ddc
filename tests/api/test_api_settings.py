"""Settings come from one place (``Settings.from_env``): every ``NENGUIDE_*`` variable is
parsed there, documented in docs/api.md, and reaches a running server with one worker and with
several (issue 10, defect 5: ``NENGUIDE_COOKIE_SECURE`` and ``NENGUIDE_SESSION_HOURS`` were
ignored with one worker)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from apitest import PASSWORD, _cli, launch, stop_server

from nenguide.api.settings import ENVIRONMENT, SettingError, Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_every_variable_is_read_and_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    env = {
        "NENGUIDE_DATABASE_URL": "sqlite:////tmp/x.db",
        "NENGUIDE_DEMO": "1",
        "NENGUIDE_MIGRATE": "yes",
        "NENGUIDE_SESSION_HOURS": "1.5",
        "NENGUIDE_SESSION_CACHE_SECONDS": "2",
        "NENGUIDE_COOKIE_SECURE": "1",
        "NENGUIDE_DB_POOL_SIZE": "3",
        "NENGUIDE_MAX_BODY_BYTES": "1000",
        "NENGUIDE_MAX_IMPORT_BYTES": "2000",
        "NENGUIDE_LOGIN_FREE_FAILURES": "7",
        "NENGUIDE_LOGIN_BACKOFF_SECONDS": "0.5",
        "NENGUIDE_LOGIN_MAX_BACKOFF_SECONDS": "60",
        "NENGUIDE_MAX_CONCURRENT_HASHES": "2",
        "NENGUIDE_WEB_STATE_DIR": "/tmp/nenguide-web-state",
        "NENGUIDE_REPORT_IDENTIFIERS": "mrn,sex",
        "NENGUIDE_CDS_ISSUERS": "https://ehr.example.org",
        "NENGUIDE_CDS_JWKS_URL": "https://ehr.example.org/jwks.json",
        "NENGUIDE_CDS_JWKS_FILE": "/etc/nenguide/ehr-jwks.json",
        "NENGUIDE_SMART_ISSUERS": "https://ehr.example.org/fhir",
        "NENGUIDE_SMART_CLIENT_ID": "nenguide",
        "NENGUIDE_SMART_ROLE": "auditor",
    }
    assert {var for var, *_ in ENVIRONMENT} == set(env)
    s = Settings.from_env(env)
    default = Settings(database_url="sqlite://")
    for var, name, *_ in ENVIRONMENT:
        assert var in text, f"{var} is not documented in docs/api.md"
        assert getattr(s, name) != getattr(default, name), var
    assert Settings.from_env(s.env()) == s  # what the workers of `serve --workers N` get
    assert Settings.from_env(env, cookie_secure=False).cookie_secure is False


@pytest.mark.parametrize(
    "bad",
    [
        ("NENGUIDE_SESSION_HOURS", "-1"),
        ("NENGUIDE_DEMO", "maybe"),
        ("NENGUIDE_REPORT_IDENTIFIERS", "name,passport"),
        ("NENGUIDE_SMART_ROLE", "admin"),
    ],
)
def test_a_bad_value_names_the_variable(bad: tuple[str, str]) -> None:
    with pytest.raises(SettingError, match=bad[0]):
        Settings.from_env(dict([bad]))


@pytest.mark.parametrize("workers", [1, 2])
def test_environment_reaches_the_server(workers: int, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'settings.db'}"
    r = _cli(
        "user",
        "create",
        "env-admin",
        "--role",
        "admin",
        "--password-stdin",
        "--database-url",
        url,
        stdin=PASSWORD + "\n",
    )
    assert r.returncode == 0, r.stderr
    env = {"NENGUIDE_COOKIE_SECURE": "1", "NENGUIDE_SESSION_HOURS": "2"}
    server = launch(url, tmp_path / "serve.log", "--workers", str(workers), env=env)
    try:
        t0 = dt.datetime.now(dt.UTC)
        resp = httpx.post(
            f"{server.base_url}/api/v1/auth/login",
            json={"username": "env-admin", "password": PASSWORD},
        )
        assert resp.status_code == 200, resp.text
        cookie = resp.headers["set-cookie"].lower()
        assert "secure" in cookie.split(";")[-1] or "; secure" in cookie
        expires = dt.datetime.fromisoformat(resp.json()["expires_at"])
        assert dt.timedelta(hours=1.9) < expires - t0 < dt.timedelta(hours=2.1)
    finally:
        stop_server(server)
