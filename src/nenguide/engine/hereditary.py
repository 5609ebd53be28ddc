"""Hereditary syndromes: who needs genetic counselling and testing. (Being built: issue 3.)"""

from __future__ import annotations

from typing import Any

from nenguide.engine.context import Context
from nenguide.model.assessment import Classification, FunctionalSyndrome, Hereditary
from nenguide.model.case import Case

STEP = "hereditary"


def hereditary(
    ctx: Context,
    case: Case,
    facts: dict[str, Any],
    cls: Classification,
    syndromes: list[FunctionalSyndrome],
) -> Hereditary | None:
    return None
