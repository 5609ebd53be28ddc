"""Site parameters: what a hospital has (drugs, tracers, PRRT) and its local settings. Declared
with defaults in the knowledge package and overridable per hospital; recorded in the trace.
(Being built: issue 3.)"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SiteParameters(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="default", description="Name of this parameter set")
    unavailable: frozenset[str] = Field(
        default=frozenset(), description="Option or tracer codes not available at this site"
    )
