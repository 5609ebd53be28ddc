"""Bounds on untrusted input, shared by the command line and the HTTP API: what a case file
may hold before it is parsed, how far in time an assessment may be dated, and how much of a
bad value an error message repeats back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

#: Dates an assessment can be made "as of": follow-up schedules run decades past it, so later
#: dates would overflow the calendar (year 9999) instead of meaning anything clinically.
AS_OF_MIN = dt.date(1900, 1, 1)
AS_OF_MAX = dt.date(2199, 12, 31)

#: A case file (YAML or JSON): largest size, deepest nesting, most aliases, most values once
#: every alias is expanded (a 300-byte "billion laughs" file expands to billions).
MAX_CASE_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_ALIASES = 100
MAX_EXPANDED_NODES = 100_000

#: Most rows a list of the case form may have (labs, investigations, prior therapies...): a
#: form's row index is a number the browser sends, and the form is built row by row up to it.
MAX_FORM_ROWS = 200

#: Longest echo of a received value in an error message.
MAX_ECHO = 200


def short(value: Any) -> str:
    """``value`` as JSON for an error message, cut to :data:`MAX_ECHO` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (RecursionError, ValueError):
        text = "{…}" if isinstance(value, dict) else "[…]" if isinstance(value, list) else "…"
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "…"
