"""The MDT service's HTTP API (FastAPI). ``create_app(settings)`` builds the application;
``nenguide serve`` runs it (see :mod:`nenguide.api.cli`)."""

from __future__ import annotations

from nenguide.api.app import create_app
from nenguide.api.settings import Settings

__all__ = ["Settings", "create_app"]
