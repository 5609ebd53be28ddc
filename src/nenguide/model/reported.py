"""Values as reports state them: ranges and bounds ("10-15 %", "<2 %", ">90 %", "3-4 cm"), a
size with its unit (mm or cm), a mitotic count per high-power fields, a count in words
("multiple"). Only validation lives here; the fact layer converts them (engine/ranges.py).

A range is written as text (``"10-15"``, ``"10–15"``, ``"<2"``, ``"<=2"``, ``"≤2"``, ``">90"``,
``">=90"``, ``"≥90"``; a trailing ``%`` is allowed) or as an object with the rule language's
keys ``gt`` / ``ge`` (lower bound) and ``lt`` / ``le`` (upper bound).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from nenguide.model.numbers import STRICT

_NUM = r"(\d+(?:[.,]\d+)?)"
_RANGE = re.compile(rf"^{_NUM}\s*(?:-|–|—|~|to)\s*{_NUM}$")
_BOUND = re.compile(rf"^(<=|>=|≤|≥|<|>|=<|=>)\s*{_NUM}$")
_OPS = {"<": "lt", "<=": "le", "=<": "le", "≤": "le", ">": "gt", ">=": "ge", "=>": "ge", "≥": "ge"}
#: words a report uses for a count that it does not give ("multiple" = at least 2)
COUNT_WORDS = {"multiple": 2, "several": 2, "numerous": 2}

BOUNDS_FORMS = "text such as '10-15', '<2', '>90' or an object with gt/ge and lt/le"


def _num(s: str) -> float:
    return float(s.replace(",", "."))


def parse_bounds_text(text: str, *, words: bool = False) -> dict[str, float]:
    """``"10-15"`` -> ``{ge: 10, le: 15}``; ``"<2"`` -> ``{lt: 2}``; with ``words``,
    ``"multiple"`` -> ``{ge: 2}``. Raises a ``bounds_text`` error for anything else."""
    s = text.strip().lower().removesuffix("%").strip()
    if words and s in COUNT_WORDS:
        return {"ge": COUNT_WORDS[s]}
    m = _RANGE.match(s)
    if m:
        return {"ge": _num(m.group(1)), "le": _num(m.group(2))}
    m = _BOUND.match(s)
    if m:
        return {_OPS[m.group(1)]: _num(m.group(2))}
    raise PydanticCustomError(
        "bounds_text",
        "cannot read '{text}' as a range or bound; write {forms}",
        {"text": text, "forms": ("'multiple', " if words else "") + BOUNDS_FORMS},
    )


class Bounds(BaseModel):
    """A value known only to lie in a range: lower bound ``gt`` or ``ge``, upper bound ``lt`` or
    ``le`` (either may be missing: ``<2`` has no lower bound beyond the field's own minimum)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gt: Annotated[float, STRICT] | None = Field(
        default=None, allow_inf_nan=False, description="Above this value"
    )
    ge: Annotated[float, STRICT] | None = Field(
        default=None, allow_inf_nan=False, description="At least this"
    )
    lt: Annotated[float, STRICT] | None = Field(
        default=None, allow_inf_nan=False, description="Below this value"
    )
    le: Annotated[float, STRICT] | None = Field(
        default=None, allow_inf_nan=False, description="At most this"
    )

    @model_validator(mode="before")
    @classmethod
    def _text(cls, data: Any) -> Any:
        if isinstance(data, str):
            return parse_bounds_text(data, words=cls is CountBounds)
        if isinstance(data, int | float) and not isinstance(data, bool):
            raise PydanticCustomError(
                "bounds_text",
                "a single number is not a range: use the field for an exact value, or write "
                "{forms}",
                {"text": str(data), "forms": BOUNDS_FORMS},
            )
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Bounds:
        two_low = self.gt is not None and self.ge is not None
        if two_low or (self.lt is not None and self.le is not None):
            raise PydanticCustomError(
                "bounds_empty", "give one lower bound (gt or ge) and one upper bound (lt or le)"
            )
        lo, hi = self.low, self.high
        if lo is None and hi is None:
            raise PydanticCustomError(
                "bounds_empty", "give one lower bound (gt or ge) and one upper bound (lt or le)"
            )
        if lo is not None and hi is not None:
            closed = self.ge is not None and self.le is not None
            if lo > hi or (lo == hi and not closed):
                raise PydanticCustomError(
                    "bounds_order",
                    "the lower bound ({low}) must be below the upper bound ({high})",
                    {"low": f"{lo:g}", "high": f"{hi:g}"},
                )
        return self

    @property
    def low(self) -> float | None:
        return self.gt if self.gt is not None else self.ge

    @property
    def high(self) -> float | None:
        return self.lt if self.lt is not None else self.le

    def text(self) -> str:
        """The range as a report writes it: ``10–15``, ``<2``, ``≥2``."""
        lo, hi = self.low, self.high
        if lo is not None and hi is not None and self.ge is not None and self.le is not None:
            return f"{lo:g}–{hi:g}"
        parts = []
        if lo is not None:
            parts.append(f"{'>' if self.gt is not None else '≥'}{lo:g}")
        if hi is not None:
            parts.append(f"{'<' if self.lt is not None else '≤'}{hi:g}")
        return " and ".join(parts)

    def check_limits(self, minimum: float, maximum: float, subpath: str | None = None) -> None:
        """Both bounds inside the field's own limits, else a ``bounds_limits`` error (at
        ``subpath`` below the model that checks). A bound that leaves nothing inside the
        limits is refused too: ``>100`` for a percentage, ``<0`` for a size (an open bound at
        a limit; ``≥100`` still holds the limit itself)."""
        empty = (self.gt is not None and self.gt >= maximum) or (
            self.lt is not None and self.lt <= minimum
        )
        for v in (self.low, self.high):
            if v is not None and (empty or not minimum <= v <= maximum):
                ctx: dict[str, Any] = {
                    "text": self.text(),
                    "minimum": f"{minimum:g}",
                    "maximum": f"{maximum:g}",
                }
                if subpath:
                    ctx["subpath"] = subpath
                raise PydanticCustomError(
                    "bounds_limits",
                    "the range {text} goes beyond the allowed {minimum} to {maximum}",
                    ctx,
                )


class CountBounds(Bounds):
    """A count known only as a bound or a word: ``"multiple"`` (at least 2), ``">10"``,
    ``"2-5"``."""


class SizeReported(BaseModel):
    """A size with its unit: an exact ``value`` or a ``range``, in ``mm`` or ``cm``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: Annotated[float, STRICT, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None, description="Greatest dimension, in the unit given"
    )
    range: Bounds | None = Field(
        default=None, description="Greatest dimension as a range or bound, e.g. '3-4' or '<1'"
    )
    unit: Literal["mm", "cm"] = Field(description="Unit of value or range: mm or cm")

    @model_validator(mode="after")
    def _one(self) -> SizeReported:
        if (self.value is None) == (self.range is None):
            raise PydanticCustomError(
                "value_or_range", "give either value or range (exactly one of them)"
            )
        factor = 0.1 if self.unit == "mm" else 1.0
        if self.value is not None and self.value * factor > 60:
            raise PydanticCustomError(
                "bounds_limits",
                "the size {text} goes beyond the allowed {minimum} to {maximum}",
                {
                    "text": f"{self.value:g} {self.unit}",
                    "minimum": "0",
                    "maximum": f"{60 / factor:g}",
                },
            )
        if self.range is not None:
            self.range.check_limits(0, 60 / factor, "range")
        return self


class MitoticCount(BaseModel):
    """Mitoses as the report counts them: per high-power fields (``hpf``: 1, 10 or 50) or per an
    area in mm² (``area_mm2``). Converted to per 2 mm² with the field area (``field_area_mm2``
    or ``field_diameter_mm`` of this microscope; else the package's documented default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    count: Annotated[float, STRICT, Field(ge=0, le=5000, allow_inf_nan=False)] | None = Field(
        default=None, description="Mitoses counted (an average may be fractional)"
    )
    range: Bounds | None = Field(default=None, description="The count as a range or bound")
    hpf: Annotated[int, STRICT, Field(ge=1, le=500)] | None = Field(
        default=None, description="Number of high-power fields the count refers to (1, 10, 50)"
    )
    area_mm2: Annotated[float, STRICT, Field(gt=0, le=100, allow_inf_nan=False)] | None = Field(
        default=None, description="Area in mm² the count refers to (instead of hpf)"
    )
    field_area_mm2: Annotated[float, STRICT, Field(ge=0.05, le=1.0, allow_inf_nan=False)] | None = (
        Field(default=None, description="Area of one high-power field of this microscope, mm²")
    )
    field_diameter_mm: (
        Annotated[float, STRICT, Field(ge=0.25, le=1.0, allow_inf_nan=False)] | None
    ) = Field(default=None, description="Diameter of one high-power field of this microscope, mm")

    @model_validator(mode="after")
    def _complete(self) -> MitoticCount:
        if (self.count is None) == (self.range is None):
            raise PydanticCustomError(
                "value_or_range", "give either count or range (exactly one of them)"
            )
        if (self.hpf is None) == (self.area_mm2 is None):
            raise PydanticCustomError(
                "mitoses_basis", "give either hpf (number of fields) or area_mm2 (exactly one)"
            )
        if self.field_area_mm2 is not None and self.field_diameter_mm is not None:
            raise PydanticCustomError(
                "mitoses_field", "give field_area_mm2 or field_diameter_mm, not both"
            )
        if self.area_mm2 is not None and (
            self.field_area_mm2 is not None or self.field_diameter_mm is not None
        ):
            raise PydanticCustomError(
                "mitoses_field", "a field size is used only with hpf, not with area_mm2"
            )
        if self.range is not None:
            self.range.check_limits(0, 5000, "range")
        return self
