"""Follow-up schedule with concrete dates from ``as_of``. (Being built: issue 3.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

from nenguide.engine.context import Context
from nenguide.model.assessment import Classification, FollowUp, Stage
from nenguide.model.case import Case

STEP = "follow_up"


def follow_up(
    ctx: Context,
    case: Case,
    facts: dict[str, Any],
    cls: Classification,
    stg: Stage,
    as_of: dt.date,
) -> FollowUp | None:
    return None
