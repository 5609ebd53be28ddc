"""What every store module shares: the :class:`Actor` of a write, ids, the clock, field
problems for :class:`~nenguide.store.errors.Invalid` and the flush that turns a clash into a
:class:`~nenguide.store.errors.Conflict`."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nenguide.store.errors import Conflict


@dataclass(frozen=True)
class Actor:
    """Who is writing: recorded in the audit log and in created_by/updated_by columns."""

    username: str
    role: str | None = None
    request_id: str | None = None


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(v: dt.date | dt.datetime | None) -> str | None:
    return None if v is None else v.isoformat()


def field(
    path: str, message: str, received: Any = None, allowed: str | None = None
) -> dict[str, Any]:
    return {"path": path, "message": message, "received": received, "allowed": allowed}


def flush_unique(s: Session, what: str) -> None:
    try:
        s.flush()
    except IntegrityError:
        raise Conflict(
            f"the {what} clashes with an existing record (same id or MRN); nothing was written"
        ) from None


def escape_like(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text)
