"""Authentication and roles, proved route by route against the running server: every route
but login and health answers 401 without a session, and 403 to each role it does not allow."""

from __future__ import annotations

import re

import httpx
import pytest
from apitest import PASSWORD, ROLES, Server
from fastapi.routing import APIRoute

from nenguide.api import Settings, create_app
from nenguide.api.app import api_routes, route_roles

PUBLIC = {("POST", "/api/v1/auth/login"), ("GET", "/api/v1/health")}
# CDS Hooks: the EHR authenticates with a signed JWT, not a session (tests/api/test_api_cds_jwt.py).
PUBLIC |= {
    ("GET", "/cds-services"),
    ("POST", "/cds-services/{service_id}"),
    ("POST", "/cds-services/{service_id}/feedback"),
}
ENVELOPE_KEYS = {"code", "message", "fields", "details"}


def _routes(
    tmp_path_factory: pytest.TempPathFactory,
) -> list[tuple[str, str, frozenset[str] | None]]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('r') / 'x.db'}"))
    out = []
    for route in api_routes(app):
        assert isinstance(route, APIRoute)
        for method in sorted(route.methods):
            out.append((method, route.path, route_roles(route)))
    return out


@pytest.fixture(scope="module")
def routes(
    tmp_path_factory: pytest.TempPathFactory,
) -> list[tuple[str, str, frozenset[str] | None]]:
    return _routes(tmp_path_factory)


def _concrete(path: str) -> str:
    values = {"version": "1", "username": "nobody"}
    return re.sub(
        r"\{(\w+)\}", lambda m: values.get(m.group(1), "00000000-0000-0000-0000-000000000000"), path
    )


def _is_envelope(r: httpx.Response, code: str) -> None:
    body = r.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == ENVELOPE_KEYS
    assert body["error"]["code"] == code, body


def test_only_login_and_health_are_public(
    routes: list[tuple[str, str, frozenset[str] | None]],
) -> None:
    public = {(m, p) for m, p, roles in routes if roles is None}
    assert public == PUBLIC
    assert len(routes) >= 35


def test_every_route_needs_a_session(
    server: Server, routes: list[tuple[str, str, frozenset[str] | None]]
) -> None:
    checked = 0
    with (
        server.client() as anon,
        server.client(token="not-a-token") as bad,
    ):
        for method, path, roles in routes:
            if roles is None:
                continue
            for c in (anon, bad):
                r = c.request(method, _concrete(path), json={})
                assert r.status_code == 401, (method, path, r.text)
                _is_envelope(r, "unauthenticated")
                assert r.headers["www-authenticate"] == "Bearer"
                checked += 1
    assert checked == 2 * (len(routes) - len(PUBLIC))


def test_every_route_refuses_the_roles_it_does_not_allow(
    server: Server, routes: list[tuple[str, str, frozenset[str] | None]]
) -> None:
    refused = 0
    for role in ROLES:
        with server.client(role) as c:
            for method, path, roles in routes:
                if roles is None or role in roles:
                    continue
                r = c.request(method, _concrete(path), json={})
                assert r.status_code == 403, (role, method, path, r.text)
                _is_envelope(r, "forbidden")
                assert role in r.json()["error"]["message"]
                refused += 1
    assert refused == sum(len(ROLES) - len(r) for _, _, r in routes if r is not None)
    assert refused >= 30


def test_allowed_roles_pass_the_gate(
    server: Server, routes: list[tuple[str, str, frozenset[str] | None]]
) -> None:
    for role in ROLES:
        with server.client(role) as c:
            for method, path, roles in routes:
                if roles is None or role not in roles or path.endswith("/logout"):
                    continue
                r = c.request(method, _concrete(path), json={})
                assert r.status_code not in (401, 403), (role, method, path, r.text)


def test_auditor_is_read_only(routes: list[tuple[str, str, frozenset[str] | None]]) -> None:
    # Writes the auditor may make: end their own session and run a stateless assessment.
    harmless = {
        ("POST", "/api/v1/auth/logout"),
        ("POST", "/api/v1/assess"),
        ("POST", "/api/v1/fhir/assess"),
    }
    for method, path, roles in routes:
        if method != "GET" and roles is not None and (method, path) not in harmless:
            assert "auditor" not in roles, (method, path)


def test_audit_log_cannot_be_changed_through_the_api(server: Server) -> None:
    with server.client("admin") as c:
        for method in ("PUT", "PATCH", "DELETE", "POST"):
            r = c.request(method, "/api/v1/audit", json={})
            assert r.status_code == 405
            _is_envelope(r, "method_not_allowed")


def test_openapi_lists_roles(server: Server) -> None:
    doc = httpx.get(f"{server.base_url}/openapi.json").json()
    op = doc["paths"]["/api/v1/cases/{case_id}"]["put"]
    assert op["x-roles"] == ["admin", "clinician"]
    assert "Roles: admin, clinician." in op["description"]
    assert httpx.get(f"{server.base_url}/docs").status_code == 200


def test_wrong_password_and_logout(server: Server) -> None:
    r = httpx.post(
        f"{server.base_url}/api/v1/auth/login",
        json={"username": "test-clinician", "password": "nope"},
    )
    assert r.status_code == 401
    _is_envelope(r, "invalid_credentials")
    r = httpx.post(
        f"{server.base_url}/api/v1/auth/login", json={"username": "nobody", "password": "nope"}
    )
    assert r.status_code == 401
    token = server.login("test-clinician")
    h = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{server.base_url}/api/v1/auth/me", headers=h).json()["role"] == "clinician"
    assert httpx.post(f"{server.base_url}/api/v1/auth/logout", headers=h).status_code == 204
    assert httpx.get(f"{server.base_url}/api/v1/auth/me", headers=h).status_code == 401


def test_cookie_session_and_csrf_header(server: Server) -> None:
    with httpx.Client(base_url=server.base_url) as c:
        r = c.post(
            "/api/v1/auth/login", json={"username": "test-coordinator", "password": PASSWORD}
        )
        assert r.status_code == 200
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert c.get("/api/v1/auth/me").json()["username"] == "test-coordinator"
        body = {"name": "Cookie Patient"}
        r = c.post("/api/v1/patients", json=body)
        assert r.status_code == 403
        _is_envelope(r, "csrf_header_missing")
        r = c.post("/api/v1/patients", json=body, headers={"X-Requested-With": "fetch"})
        assert r.status_code == 201


def test_disabling_a_user_ends_their_sessions(server: Server) -> None:
    with server.client("admin") as admin:
        r = admin.post(
            "/api/v1/users", json={"username": "leaver", "role": "clinician", "password": PASSWORD}
        )
        assert r.status_code == 201
        token = server.login("leaver")
        h = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{server.base_url}/api/v1/auth/me", headers=h).status_code == 200
        assert admin.patch("/api/v1/users/leaver", json={"active": False}).status_code == 200
        assert httpx.get(f"{server.base_url}/api/v1/auth/me", headers=h).status_code == 401
        r = httpx.post(
            f"{server.base_url}/api/v1/auth/login",
            json={"username": "leaver", "password": PASSWORD},
        )
        assert r.status_code == 401
        # weak passwords and duplicate names are refused with the envelope
        r = admin.post(
            "/api/v1/users", json={"username": "leaver", "role": "clinician", "password": PASSWORD}
        )
        assert r.status_code == 409
        r = admin.post("/api/v1/users", json={"username": "x", "role": "root", "password": "short"})
        assert r.status_code == 422
        paths = {f["path"] for f in r.json()["error"]["fields"]}
        assert paths == {"username", "role"}  # the password policy is checked after the shape
        r = admin.post(
            "/api/v1/users", json={"username": "xy", "role": "clinician", "password": "short"}
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "weak_password"
