"""The analyte catalogue (``knowledge/<guideline>/analytes.yaml``) and conversion of a lab result to
its analyte's canonical unit.

Each analyte names its canonical unit (the unit the decision tables' thresholds are written in),
its molar mass where it is a single molecule (mass <-> substance conversions need it; ``null``
allows only conversions within one dimension), and, for hormones measured in international units,
the substance per unit. A result is converted by finding the one factor among 1, the molar mass
and the unit factor that makes ``value x unit / canonical`` dimensionless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nenguide.units.quantities import (
    LabAnalyteError,
    LabUnitError,
    LabValueError,
    parse_unit,
    registry,
)

__all__ = [
    "Analyte",
    "AnalyteCatalogue",
    "Converted",
]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Names(_Strict):
    en: str
    zh_CN: str = Field(alias="zh-CN")


class Analyte(_Strict):
    code: str = Field(pattern=r"^[a-z0-9_]+$")
    loinc: str | None = Field(default=None, pattern=r"^\d{1,7}-\d$")
    loinc_note: str | None = None
    names: Names
    kind: Literal["quantity", "ph", "qualitative"] = "quantity"
    canonical_unit: str
    molar_mass_g_per_mol: float | None = Field(default=None, gt=0)
    molar_mass_source: str | None = None
    mol_per_iu: float | None = Field(
        default=None, gt=0, description="Substance per international unit (insulin)"
    )
    mol_per_iu_source: str | None = None
    specimen: str
    examples: list[str] = Field(min_length=1, description="Units shown in error messages")
    note: str | None = None
    plausible_min: float | None = Field(
        default=None, ge=0, description="Lowest value any assay reports, in the canonical unit"
    )
    plausible_max: float | None = Field(
        default=None, gt=0, description="Highest value any assay reports, in the canonical unit"
    )
    plausible_source: str | None = Field(
        default=None, description="Where the plausible limits come from (or that they are a choice)"
    )


class _CatalogueFile(_Strict):
    analytes: list[Analyte]


@dataclass(frozen=True, slots=True)
class Converted:
    """A result in its analyte's canonical unit (``factor``: canonical per received unit)."""

    analyte: str
    value: float
    unit: str
    canonical_value: float
    canonical_unit: str
    factor: float
    via: str  # "same dimension", "molar mass", "international unit", "none"

    def canonical(self, v: float) -> float:
        return v * self.factor


@dataclass(frozen=True)
class AnalyteCatalogue:
    analytes: dict[str, Analyte]
    _factors: dict[tuple[str, str], tuple[float, str] | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    def get(self, code: str) -> Analyte | None:
        return self.analytes.get(code)

    def allowed_units(self, code: str) -> str:
        a = self.analytes[code]
        if a.kind == "ph":
            return "[pH] (or 1)"
        if a.kind == "qualitative":
            return "1 (value 0 = negative, 1 = positive)"
        dims = "mass or substance" if a.molar_mass_g_per_mol or a.mol_per_iu else "the same"
        return f"a UCUM unit of {dims} dimension as {a.canonical_unit}, e.g. " + ", ".join(
            a.examples
        )

    def convert(self, code: str, value: float, unit: str, path: str) -> Converted:
        """``value unit`` of analyte ``code`` in the canonical unit.

        ``path`` is the field path of the result (``clinical.labs.N``); errors name
        ``<path>.analyte``, ``<path>.unit`` or ``<path>.value``.
        """
        a = self.analytes.get(code)
        if a is None:
            raise LabAnalyteError(
                f"{path}.analyte",
                code,
                "an analyte code from the catalogue: " + ", ".join(sorted(self.analytes)),
            )
        key = (code, unit)
        if key not in self._factors:
            self._factors[key] = _factor_for(a, unit)
        return _convert(a, self._factors[key], value, unit, path, self.allowed_units(code))


def _factor_for(a: Analyte, unit: str) -> tuple[float, str] | None:
    p = parse_unit(unit)
    if p is None:
        return None
    if a.kind == "ph":
        return (1.0, "none") if p.kind in ("ph", "dimensionless") and p.quantity is None else None
    if a.kind == "qualitative":
        return (1.0, "none") if p.expression == "1" else None
    if p.kind != "quantity":
        return None
    target = parse_unit(a.canonical_unit)
    if target is None or target.kind != "quantity":  # a catalogue error, caught by the tests
        raise ValueError(f"analyte {a.code}: canonical unit {a.canonical_unit!r} is not a unit")
    ureg = registry()
    one = ureg.Quantity(1.0, "dimensionless")
    candidates: list[tuple[Any, str]] = [(one, "same dimension")]
    if a.molar_mass_g_per_mol:
        m = ureg.Quantity(a.molar_mass_g_per_mol, "g/mol")
        candidates += [(1 / m, "molar mass"), (m, "molar mass")]
    if a.mol_per_iu:
        f = ureg.Quantity(a.mol_per_iu, "mol/IU")
        candidates += [(f, "international unit"), (1 / f, "international unit")]
        if a.molar_mass_g_per_mol:
            m = ureg.Quantity(a.molar_mass_g_per_mol, "g/mol")
            candidates += [(f * m, "international unit"), (1 / (f * m), "international unit")]
    for c, via in candidates:
        ratio = p.quantity * c / target.quantity
        if ratio.dimensionless:
            return float(ratio.to("dimensionless").magnitude), via
    return None


def _convert(
    a: Analyte, found: tuple[float, str] | None, value: float, unit: str, path: str, allowed: str
) -> Converted:
    if found is None:
        raise LabUnitError(
            f"{path}.unit",
            unit,
            allowed,
            message=(
                f"{path}.unit: '{unit}' is not a unit for {a.names.en} ({a.code}); "
                f"allowed: {allowed}"
            ),
        )
    factor, via = found
    if a.kind == "qualitative" and value not in (0, 1):
        raise LabValueError(f"{path}.value", value, "0 (negative) or 1 (positive)")
    if a.kind == "ph" and not 0 <= value <= 14:
        raise LabValueError(f"{path}.value", value, "a pH from 0 to 14")
    return Converted(a.code, value, unit, value * factor, a.canonical_unit, factor, via)


class CatalogueError(Exception):
    """The analyte catalogue file is malformed (a configuration error)."""


def parse_catalogue(raw: Any, label: str = "analytes.yaml") -> AnalyteCatalogue:
    try:
        f = _CatalogueFile.model_validate(raw)
    except ValidationError as exc:
        raise CatalogueError(f"{label}: does not match its schema: {exc}") from exc
    out: dict[str, Analyte] = {}
    for a in f.analytes:
        if a.code in out:
            raise CatalogueError(f"{label}: analyte '{a.code}' is defined twice")
        if a.kind == "quantity":
            p = parse_unit(a.canonical_unit)
            if p is None or p.kind != "quantity":
                raise CatalogueError(f"{label}: {a.code}: canonical unit is not a unit")
            for ex in a.examples:
                if _factor_for(a, ex) is None:
                    raise CatalogueError(f"{label}: {a.code}: example unit {ex!r} not accepted")
        out[a.code] = a
    return AnalyteCatalogue(out)
