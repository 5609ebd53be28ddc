"""docs/api.md is the user's reference: every operation of the API must be described there
(paths compared with parameter names erased), and every role named in the code must be in
its role table."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from nenguide.api import Settings, create_app
from nenguide.api.app import api_routes, route_roles
from nenguide.store.vocab import DEPARTURE_REASONS, ROLES, SPECIALTIES

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.removeprefix("/api/v1"))


def test_every_operation_is_documented(tmp_path: Path) -> None:
    if not DOC.exists():
        pytest.fail(f"{DOC} is missing")
    text = DOC.read_text(encoding="utf-8")
    documented = {_shape(p) for p in re.findall(r"(?:/api/v1)?(/[a-z][\w\-/{}.]*)", text)}
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    missing = sorted(
        f"{m} {r.path}"
        for r in api_routes(app)
        for m in r.methods
        if _shape(r.path) not in documented
    )
    assert missing == []
    for route in api_routes(app):
        for role in route_roles(route) or ():
            assert role in text


def test_vocabularies_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for word in (*ROLES, *SPECIALTIES, *DEPARTURE_REASONS):
        assert word in text, word


def test_example_plan_codes_are_option_codes(kb: object) -> None:
    """The decision example's plan codes are codes of treatment options (``treatment[].code``)
    that the engine proposes for the demo pancreatic NET case."""
    from nenguide import assess
    from nenguide.api.demo import PNET_G2_LIVER
    from nenguide.errors import parse_case

    text = DOC.read_text(encoding="utf-8")
    examples = re.findall(r'"plan_codes": \[([^\]]*)\]', text)
    assert examples
    result = assess(parse_case(PNET_G2_LIVER), kb, as_of=dt.date(2026, 11, 23))  # type: ignore[arg-type]
    codes = {t["code"] for t in result.model_dump(mode="json").get("treatment") or []}
    for example in examples:
        for code in re.findall(r'"([^"]+)"', example):
            assert code in codes, code


def test_security_guide_matches_the_code() -> None:
    """docs/security.md names commands, options and settings that exist."""
    import typer
    from typer.testing import CliRunner

    from nenguide.api.cli import register
    from nenguide.api.settings import ENVIRONMENT

    text = (DOC.parent / "security.md").read_text(encoding="utf-8")
    for section in ("Threat model", "Deployment behind TLS", "Database roles", "Backups",
                    "Audit verification"):  # fmt: skip
        assert f"## {section}" in text, section
    app = typer.Typer()
    app.command("version")(lambda: None)
    register(app)
    run = CliRunner().invoke
    assert "--expect" in run(app, ["audit", "verify", "--help"]).output
    assert "role" in run(app, ["db", "grant-app-role", "--help"]).output.lower()
    serve_help = run(app, ["serve", "--help"]).output
    for opt in ("--no-migrate", "--cookie-secure"):
        assert opt in serve_help and opt in text
    for var in re.findall(r"NENGUIDE_[A-Z_]+", text):
        assert var in {v for v, *_ in ENVIRONMENT}, var
    make = (DOC.parents[1] / "Makefile").read_text(encoding="utf-8")
    for target in re.findall(r"`make (\w+)`", text):
        assert f"\n{target}:" in make, target
    root = DOC.parents[1] / "src" / "nenguide"
    for path in set(re.findall(r"`((?:api|store)/\w+\.py|\w+\.py)`", text)):
        assert (root / path).exists(), path
