"""docs/api.md is the user's reference: every operation of the API must be described there
(paths compared with parameter names erased), and every role named in the code must be in
its role table."""

from __future__ import annotations

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
