"""Treatment options with CSCO level, evidence, availability and MDT flags. (Being built:
issue 3.)"""

from __future__ import annotations

from typing import Any

from nenguide.engine.context import Context
from nenguide.model.assessment import (
    Classification,
    FunctionalSyndrome,
    LiverMetastasis,
    MdtDiscussion,
    Stage,
    TreatmentOption,
)
from nenguide.model.case import Case
from nenguide.model.site import SiteParameters

STEP = "treatment"


def treatment(
    ctx: Context,
    case: Case,
    facts: dict[str, Any],
    cls: Classification,
    stg: Stage,
    liver: LiverMetastasis,
    syndromes: list[FunctionalSyndrome],
    site: SiteParameters,
) -> tuple[list[TreatmentOption], MdtDiscussion | None]:
    return [], None
