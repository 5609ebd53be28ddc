"""Lab quantities: UCUM unit spellings read with pint, and conversion of one analyte's value to its
canonical unit (mass <-> substance through the molar mass, insulin units <-> substance through
the conventional factor).

The registry understands the UCUM spellings labs send (``pg/mL``, ``mg/(24.h)``, ``umol/(24.h)``,
``u[IU]/mL`` or ``uU/mL`` for insulin, ``mEq/h``, ``[pH]``). ``U`` is read as the international
unit of hormone activity, never as the enzyme unit: no analyte of the catalogue is an enzyme
activity, and labs write insulin as µU/mL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import pint

__all__ = ["LabInputError", "LabUnitError", "LabValueError", "parse_unit", "registry"]


class LabInputError(ValueError):
    """A lab result that cannot be read: names the field path, what was received and what is
    allowed (the same three things every input error of nenguide carries)."""

    code = "lab_input"

    def __init__(self, path: str, received: Any, allowed: str, message: str | None = None):
        self.path = path
        self.received = received
        self.allowed = allowed
        self.message = message or f"{path}: {received!r} is not allowed; allowed: {allowed}"
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        """The shape of ``nenguide.errors.FieldError.as_dict()``, for the adapters."""
        return {
            "path": self.path,
            "message": self.message,
            "received": self.received,
            "allowed": self.allowed,
            "code": self.code,
        }


class LabUnitError(LabInputError):
    """Unknown unit, or a unit that cannot express this analyte."""

    code = "lab_unit"


class LabAnalyteError(LabInputError):
    """An analyte code that is not in the analyte catalogue."""

    code = "lab_analyte"


class LabValueError(LabInputError):
    """A value outside what the analyte allows (e.g. a qualitative result other than 0/1)."""

    code = "lab_value"


@cache
def registry() -> pint.UnitRegistry:  # type: ignore[type-arg]
    """The unit registry (built once; pint registries are expensive to build)."""
    ureg: pint.UnitRegistry = pint.UnitRegistry()  # type: ignore[type-arg]
    # International unit of hormone activity (insulin µIU/mL): its own dimension, convertible to
    # substance only through an analyte's declared factor.
    ureg.define("international_unit = [hormone_activity] = IU")
    # Equivalents of a univalent ion (H+ in basal acid output): 1 Eq = 1 mol.
    ureg.define("equivalent = mole = Eq")
    # pH is a logarithmic scale, not a ratio: its own dimension, never converted.
    ureg.define("pH_unit = [acidity] = pH")
    return ureg


_MICRO = re.compile("[µμ]")
_BRACKETS = {"[IU]": "IU", "[iU]": "IU", "[pH]": "pH"}
# UCUM 'U' (with an optional prefix) stands alone between operators: uU, mU, U
_U = re.compile(r"(?<![A-Za-z\]])([munpk]?)U(?![A-Za-z\[])")
# UCUM multiplication dot: '24.h' -> '24*h' (never a decimal point: a letter or '(' follows)
_DOT = re.compile(r"(?<=[\w\])])\.(?=[A-Za-z(\[])")
_ALLOWED_CHARS = re.compile(r"^[A-Za-z0-9/*().^\[\] ]+$")


@dataclass(frozen=True, slots=True)
class ParsedUnit:
    spelling: str  # as received
    expression: str  # pint expression
    quantity: Any  # pint Quantity of magnitude "one of this unit" (e.g. 1/24 mg/h)
    kind: str  # "quantity", "ph" or "dimensionless"


def _normalise(unit: str) -> str:
    s = _MICRO.sub("u", unit.strip())
    for k, v in _BRACKETS.items():
        s = s.replace(k, v)
    s = _U.sub(lambda m: f"{m.group(1)}IU", s)
    s = _DOT.sub("*", s)
    return s


@cache
def _parse(unit: str) -> ParsedUnit | None:
    s = _normalise(unit)
    if not s or not _ALLOWED_CHARS.match(s) or "{" in unit:
        return None
    if s == "1":
        return ParsedUnit(unit, s, None, "dimensionless")
    if s == "pH":
        return ParsedUnit(unit, s, None, "ph")
    ureg = registry()
    try:
        q = ureg.parse_expression(s)
    except Exception:  # pint raises many kinds for text that is no unit
        return None
    if not isinstance(q, ureg.Quantity):  # a bare number such as "24"
        return None
    try:  # an offset unit (degC, degF) has no place in a lab result: it cannot be scaled
        q * ureg.Quantity(1.0, "m")
    except pint.errors.OffsetUnitCalculusError:
        return None
    if q.dimensionless:
        return ParsedUnit(unit, s, q, "dimensionless")
    return ParsedUnit(unit, s, q, "quantity")


def parse_unit(unit: str) -> ParsedUnit | None:
    """The parsed unit, or ``None`` when the spelling is not a unit we can read."""
    return _parse(unit)
