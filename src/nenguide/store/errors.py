"""Errors the store raises. Each names the record and says what to do next; the HTTP API maps
them onto its error envelope (404, 409, 422)."""

from __future__ import annotations

from typing import Any


class StoreError(Exception):
    """Base class: anything the store refuses to do."""

    code = "store_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(StoreError):
    code = "not_found"

    def __init__(self, entity: str, key: object):
        super().__init__(f"no {entity} with id {key!s}", details={"entity": entity, "id": str(key)})


class VersionConflict(StoreError):
    """The record changed since the client read it: nothing was written."""

    code = "version_conflict"

    def __init__(self, entity: str, key: object, *, sent: int, current: int, record: Any = None):
        super().__init__(
            f"{entity} {key!s} was changed by someone else: you edited version {sent}, the "
            f"current version is {current}. Reload it, re-apply your change and send "
            f"version {current}.",
            details={
                "entity": entity,
                "id": str(key),
                "sent_version": sent,
                "current_version": current,
                "current": record,
            },
        )
        self.current_version = current


class Conflict(StoreError):
    """The write would break a uniqueness or state rule (e.g. a duplicate MRN)."""

    code = "conflict"


class Invalid(StoreError):
    """The data is well-formed but not acceptable; ``fields`` name the offending paths."""

    code = "invalid_input"

    def __init__(
        self, message: str, fields: list[dict[str, Any]] | None = None, *, code: str | None = None
    ):
        super().__init__(message)
        self.fields = fields or []
        if code is not None:
            self.code = code


class SchemaOutOfDate(StoreError):
    code = "schema_out_of_date"
