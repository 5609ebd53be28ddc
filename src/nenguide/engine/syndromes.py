"""Functional syndromes (insulinoma, gastrinoma, carcinoid syndrome, ...): status, criteria met
and unmet, the next confirmatory test, and interference caveats. (Being built: issue 3.)"""

from __future__ import annotations

from typing import Any

from nenguide.engine.context import Context
from nenguide.model.assessment import Classification, FunctionalSyndrome
from nenguide.model.case import Case

STEP = "functional_syndromes"


def functional_syndromes(
    ctx: Context, case: Case, facts: dict[str, Any], cls: Classification
) -> list[FunctionalSyndrome]:
    return []
