"""What an import of a FHIR Bundle returns: the case, and everything that was not mapped."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nenguide.model.case import Case


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Unmapped(_Out):
    """A resource, element or code of the Bundle that did not become part of the case."""

    resource: str = Field(description="The resource: 'Type/id', its fullUrl, or 'entry N'")
    element: str | None = Field(
        default=None, description="The element, e.g. 'code' or 'valueQuantity.unit'"
    )
    code: str | None = Field(default=None, description="The code(s) as 'system|code'")
    field: str | None = Field(default=None, description="The case field it would have filled")
    reason: str


class Note(_Out):
    """A choice the import made that the MDT should see (duplicates, derived values, conflicts)."""

    kind: Literal["duplicate", "conflict", "derived"]
    field: str
    message: str
    resources: list[str] = Field(default_factory=list)


class PatientInfo(_Out):
    """Who the Bundle is about (administrative data, for the MDT store; not clinical input)."""

    reference: str | None = Field(default=None, description="fullUrl or 'Patient/id'")
    name: str | None = None
    identifier: str | None = Field(default=None, description="First Patient.identifier value")
    birth_date: str | None = None


class ImportResult(_Out):
    patient: PatientInfo = Field(default_factory=PatientInfo)
    case: Case | None = Field(description="The mapped case; null when it cannot be built")
    unmapped: list[Unmapped] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    resources_read: int = Field(description="Resources in the Bundle")
