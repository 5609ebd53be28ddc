"""Work-up still needed: imaging, endoscopy, markers, biopsy, echocardiography. (Being built:
issue 3.)"""

from __future__ import annotations

from typing import Any

from nenguide.engine.context import Context
from nenguide.model.assessment import (
    Classification,
    FunctionalSyndrome,
    LiverMetastasis,
    Stage,
    WorkupItem,
)
from nenguide.model.case import Case

STEP = "workup"


def workup(
    ctx: Context,
    case: Case,
    facts: dict[str, Any],
    cls: Classification,
    stg: Stage,
    liver: LiverMetastasis,
    syndromes: list[FunctionalSyndrome],
) -> list[WorkupItem]:
    return []
