"""Lab quantities and conversions (pint), the analyte catalogue, and lab input errors.

Adapters call :func:`check_labs` after parsing a case to reject unknown analytes and units with
the field path (``clinical.labs.N.unit``) and what is allowed; the engine converts with the same
code and reports anything that slipped through as an issue instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nenguide.units.catalogue import (
    Analyte,
    AnalyteCatalogue,
    CatalogueError,
    Converted,
    parse_catalogue,
)
from nenguide.units.quantities import (
    LabAnalyteError,
    LabInputError,
    LabUnitError,
    LabValueError,
    parse_unit,
)

__all__ = [
    "Analyte",
    "AnalyteCatalogue",
    "CatalogueError",
    "Converted",
    "LabAnalyteError",
    "LabInputError",
    "LabUnitError",
    "LabValueError",
    "check_labs",
    "lab_quantity",
    "parse_catalogue",
    "parse_unit",
]


def check_labs(labs: Iterable[Any], catalogue: AnalyteCatalogue) -> list[LabInputError]:
    """Every lab input error of ``labs`` (``clinical.labs`` of a case), in order, against the
    analyte catalogue of the knowledge package (``Knowledge.analytes``)."""
    cat = catalogue
    errors: list[LabInputError] = []
    for i, lab in enumerate(labs):
        try:
            cat.convert(*lab_quantity(lab, cat), f"clinical.labs.{i}")
        except LabInputError as exc:
            errors.append(exc)
    return errors


def lab_quantity(lab: Any, catalogue: AnalyteCatalogue) -> tuple[str, float, str]:
    """(analyte, value, unit) to check a result with: a result without a value (an
    interpretation, a multiple of the ULN) is checked for its analyte, and its unit if given."""
    a = catalogue.get(lab.analyte)
    unit = lab.unit or (a.canonical_unit if a is not None else "1")
    qualitative = a is not None and a.kind == "qualitative"
    value = lab.value if lab.value is not None else (1.0 if qualitative else 0.0)
    return lab.analyte, value, unit
