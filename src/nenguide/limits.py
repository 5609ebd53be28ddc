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


def datetime_in_range(v: dt.datetime) -> bool:
    """Whether the date-time ``v`` is, in UTC, within the years an assessment may be dated
    (:data:`AS_OF_MIN` to :data:`AS_OF_MAX`): a stored time is kept in UTC, and a time at the
    calendar's edge (9999-12-31T23:59:59-14:00) cannot be converted at all."""
    try:
        utc = v.astimezone(dt.UTC) if v.tzinfo is not None else v
    except (OverflowError, ValueError):
        return False
    return AS_OF_MIN.year <= utc.year <= AS_OF_MAX.year


#: how :func:`datetime_in_range`'s bounds read in an error
DATETIME_RANGE = f"a date-time with its zone, from {AS_OF_MIN.year} to {AS_OF_MAX.year}"


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


class DuplicateKey(ValueError):
    """A JSON or YAML object names the same key twice: which value was meant is unknown (a
    parser would silently keep the last one)."""

    def __init__(self, key: str):
        super().__init__(f"the key {short(key)} is given twice in one object")
        self.key = key


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``' ``object_pairs_hook``: the object, or :class:`DuplicateKey`."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise DuplicateKey(k)
        out[k] = v
    return out


#: what an integer longer than Python's limit on its digits is called in an error
LONG_NUMBER = "a number with more than 4300 digits"
