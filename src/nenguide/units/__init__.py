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
            cat.convert(lab.analyte, lab.value, lab.unit, f"clinical.labs.{i}")
        except LabInputError as exc:
            errors.append(exc)
    return errors
