"""Round trip: case -> FHIR Bundle -> case gives the same case and the same assessment, for every
golden vignette, every demo case, and (Hypothesis) any schema-valid case.

What FHIR does not carry by itself is carried with nenguide's local codes (fhir_map.yaml), so
nothing of a vignette is lost. The one difference allowed: the export adds the analyte's LOINC
code to each lab (from the analyte catalogue), so an imported lab has ``loinc`` set where the
original left it out; and an empty ``regional_nodes: {}`` (no value in it) is not written. The
assessment is the same either way (asserted).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

import nenguide
from nenguide.engine.kb import Knowledge
from nenguide.errors import parse_case
from nenguide.interop.fhir import case_to_bundle, import_bundle
from nenguide.model.case import Case
from test_properties import cases

ROOT = Path(__file__).resolve().parents[2]
VIGNETTES = sorted((ROOT / "tests" / "vignettes").glob("*.yaml"))
DEMOS = sorted((ROOT / "src" / "nenguide" / "examples").glob("*.yaml"))
AS_OF = dt.date(2026, 11, 23)


def _case_json(case: Case) -> dict[str, Any]:
    data = case.model_dump(mode="json", exclude_none=True)
    for lab in data.get("clinical", {}).get("labs", []):
        lab.pop("loinc", None)
    if "lung_descriptors" in data["tumour"]:  # a set: its JSON order is arbitrary
        data["tumour"]["lung_descriptors"] = sorted(data["tumour"]["lung_descriptors"])
    if data.get("regional_nodes") == {}:  # an empty object states nothing: not written
        del data["regional_nodes"]
    mets = data.get("metastases") or {}
    if mets.get("extrahepatic") == [] and "liver" not in mets:
        # "no extrahepatic sites" is written on the liver Condition (liver-only disease);
        # without liver metastases an empty list states nothing the Bundle could carry
        del mets["extrahepatic"]
    return data


def _round_trip(case: Case, kb: Knowledge) -> Case:
    bundle = case_to_bundle(case, kb.analytes)
    # through JSON text, as an EHR would send it
    result = import_bundle(json.dumps(bundle), kb.analytes, as_of=AS_OF)
    assert result.unmapped == [], result.unmapped
    assert all(n.kind != "duplicate" for n in result.notes), result.notes
    assert result.case is not None
    return result.case


def test_there_are_vignettes() -> None:
    assert len(VIGNETTES) >= 200 and len(DEMOS) >= 8


@pytest.mark.parametrize("path", VIGNETTES + DEMOS, ids=lambda p: p.stem)
def test_round_trip_gives_the_same_assessment(path: Path, kb: Knowledge) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    as_of = raw.get("as_of", AS_OF) if "case" in raw else AS_OF
    as_of = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
    case = parse_case(raw.get("case", raw))
    back = _round_trip(case, kb)
    assert _case_json(back) == _case_json(case)
    before = nenguide.assess(case, kb, as_of=as_of).model_dump(mode="json")
    after = nenguide.assess(back, kb, as_of=as_of).model_dump(mode="json")
    assert after == before


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=cases())
def test_any_valid_case_survives_the_round_trip(kb: Knowledge, data: dict[str, Any]) -> None:
    case = parse_case(data)
    back = _round_trip(case, kb)
    assert _case_json(back) == _case_json(case)
    before = nenguide.assess(case, kb, as_of=AS_OF).model_dump(mode="json")
    assert nenguide.assess(back, kb, as_of=AS_OF).model_dump(mode="json") == before
