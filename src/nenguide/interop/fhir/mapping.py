"""The FHIR mapping tables (``interop/fhir_map.yaml``), checked against a schema at load.

Every code-to-field mapping of the FHIR adapter is data in that file, with its source; the Python
modules only walk the tables.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Code(_Strict):
    system: str  # a key of Mapping.systems
    code: str
    display: str | None = None


class SiteCode(_Strict):
    snomed: str | None
    display: str


class Morphology(_Strict):
    differentiation: Literal["well", "poor"]
    morphology: Literal["small_cell", "large_cell"] | None = None
    display: str


class MorphologyExport(_Strict):
    differentiation: Literal["well", "poor"]
    morphology: str | None = None
    code: str


class Scalar(_Strict):
    field: str
    code: Code | None = None
    also: list[str] = Field(default_factory=list, description="Other codes of the same system")
    value: Literal["quantity", "integer", "code", "boolean"]
    integer: bool = False
    units: dict[str, float] = Field(default_factory=dict)
    profile: str | None = None
    component: Code | None = None
    source: str


class ComponentMap(_Strict):
    field: str
    value: Literal["boolean", "code", "set"]
    keys: Literal["enum", "free"] = "enum"
    source: str


class ObjectMap(_Strict):
    field: str
    many: bool
    units: dict[str, str]
    source: str


class TherapyCode(_Strict):
    resource: Literal["MedicationStatement", "Procedure"]
    atc: list[str]
    display: str


class Significance(_Strict):
    code: str
    display: str


class Germline(_Strict):
    code: Code
    gene_component: Code
    significance_component: Code
    present: Code
    absent: Code
    significance: dict[str, Significance]
    genes: dict[str, str]


class Derived(_Strict):
    system: str
    codes: list[str]
    reason: str


class Mapping(_Strict):
    version: int
    systems: dict[str, str]
    extension_base: str
    profiles: dict[str, str]
    primary_sites: dict[str, SiteCode]
    metastasis_sites: dict[str, SiteCode]
    morphology_icdo3: dict[str, Morphology]
    morphology_export: list[MorphologyExport]
    scalars: list[Scalar]
    component_maps: list[ComponentMap]
    objects: list[ObjectMap]
    lab_context_lists: list[str]
    therapies: dict[str, TherapyCode]
    germline: Germline
    family_relations: dict[str, list[str]]
    derived_elsewhere: list[Derived]
    assessment_codes: dict[str, dict[str, str]]
    data_requirement_types: dict[str, str]
    issue_severity: dict[str, Literal["error", "warning", "information"]]

    def url(self, key: str) -> str:
        """The canonical URL of a code system named in ``systems``."""
        return self.systems[key]

    def ext(self, name: str) -> str:
        return self.extension_base + name


@cache
def load_mapping() -> Mapping:
    """The packaged mapping tables (validated; cached)."""
    text = files("nenguide.interop").joinpath("fhir_map.yaml").read_text(encoding="utf-8")
    raw: Any = yaml.safe_load(text)
    return Mapping.model_validate(raw)
