"""Shared fixtures. The knowledge package is loaded once per session (it is immutable)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from nenguide import load_knowledge
from nenguide.engine.kb import Knowledge

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return load_knowledge()
