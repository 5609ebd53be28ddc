"""Shared cases of the batch tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from nenguide.errors import CaseInputError, parse_case
from nenguide.model.case import Case

#: the date the generated cases are assessed on (a vignette may name its own)
AS_OF = dt.date(2026, 11, 23)
VIGNETTES = Path(__file__).parent.parent / "vignettes"


@pytest.fixture(scope="session")
def vignette_cases() -> list[tuple[Case, dt.date]]:
    """Every golden vignette's case (its id as the case id) with its assessment date; the
    vignettes of invalid input are left out (they have no assessment to compare)."""
    out = []
    for path in sorted(VIGNETTES.glob("*.yaml")):
        v = yaml.safe_load(path.read_text(encoding="utf-8"))
        a = v.get("as_of", AS_OF)
        try:
            case = parse_case(v["case"])
        except CaseInputError:
            continue
        as_of = a if isinstance(a, dt.date) else dt.date.fromisoformat(str(a))
        out.append((case.model_copy(update={"case_id": v["id"]}), as_of))
    return out
