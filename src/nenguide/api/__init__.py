"""The MDT service's HTTP API (FastAPI). ``create_app(settings)`` builds the application;
``nenguide serve`` runs it (see :mod:`nenguide.api.cli`).

Imports are lazy so that adding the service commands to the ``nenguide`` command line costs
nothing until one of them runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nenguide.api.app import create_app
    from nenguide.api.settings import Settings

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from nenguide.api.app import create_app

        return create_app
    if name == "Settings":
        from nenguide.api.settings import Settings

        return Settings
    raise AttributeError(name)
