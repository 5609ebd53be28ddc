"""The assessment JSON contract: fixed key names, published schema, guideline validity."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import jsonschema
import pytest
from pydantic import TypeAdapter

from nenguide import assess
from nenguide.engine.kb import Knowledge
from nenguide.errors import parse_case
from nenguide.model.assessment import Assessment

AS_OF = dt.date(2026, 11, 23)
CASE = {
    "tumour": {"primary_site": "ileum", "size_cm": 1.6, "extent": "muscularis_propria"},
    "regional_nodes": {"examined": 14, "positive": 13},
    "metastases": {"status": "present", "liver": {"lesion_count": 1}, "extrahepatic": []},
    "pathology": {"differentiation": "well", "ki67_percent": 4, "mitoses_per_2mm2": 1},
    "staging_basis": "pathological",
}
FIXED_KEYS = [
    "guideline.id",
    "guideline.version",
    "guideline.valid_until",
    "engine_version",
    "as_of",
    "classification.category",
    "classification.grade",
    "classification.nec_subtype",
    "classification.status",
    "stage.system",
    "stage.prefix",
    "stage.t",
    "stage.n",
    "stage.m",
    "stage.group",
    "stage.status",
    "liver_metastasis_type",
    "issues",
    "trace",
]


def _get(d: dict, path: str) -> object:  # type: ignore[type-arg]
    for p in path.split("."):
        d = d[p]
    return d


@pytest.fixture(scope="module")
def out(kb: Knowledge) -> dict:  # type: ignore[type-arg]
    return json.loads(assess(parse_case(CASE), kb, as_of=AS_OF).model_dump_json())


def test_fixed_keys_and_values(out: dict) -> None:  # type: ignore[type-arg]
    for key in FIXED_KEYS:
        _get(out, key)  # raises KeyError if renamed
    assert out["guideline"]["id"] == "csco-nen-2021"
    assert out["guideline"]["valid_until"] == "2023-10-31"
    assert out["as_of"] == "2026-11-23"
    assert out["classification"] | {} == out["classification"]
    assert (out["classification"]["category"], out["classification"]["grade"]) == ("NET", "G2")
    assert out["stage"]["system"] == "AJCC8_NET_JEJUNUM_ILEUM"
    assert (out["stage"]["prefix"], out["stage"]["t"], out["stage"]["n"], out["stage"]["m"]) == (
        "p",
        "T2",
        "N2",
        "M1a",
    )
    assert out["stage"]["group"] == "IV"
    assert out["liver_metastasis_type"] == "I"
    rules = [t["rule_ids"][0] for t in out["trace"] if t["rule_ids"]]
    assert "CSCO2021.STAGE.NET.JI.N2_COUNT" in rules
    n2 = next(t for t in out["trace"] if t["rule_ids"][:1] == ["CSCO2021.STAGE.NET.JI.N2_COUNT"])
    assert n2["inputs"]["nodes_positive"] == 13  # the input value the rule read
    assert "nodes_positive ≥ 12" in n2["conditions"][0]  # the threshold applied
    assert n2["sources"] == ["ajcc8-net-jejunum-ileum"]


def test_output_validates_against_published_schema(out: dict) -> None:  # type: ignore[type-arg]
    schema = TypeAdapter(Assessment).json_schema(mode="serialization")
    jsonschema.validate(out, schema)


def test_cli_schema_matches_model() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nenguide", "schema", "assessment"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout) == TypeAdapter(Assessment).json_schema(mode="serialization")


def test_expired_guideline_warns_and_current_date_does_not(kb: Knowledge) -> None:
    case = parse_case(CASE)
    late = assess(case, kb, as_of=AS_OF)
    assert late.guideline.past_valid_until
    assert "GUIDELINE_PAST_VALID_UNTIL" in [i["code"] for i in late.issues]
    early = assess(case, kb, as_of=dt.date(2022, 6, 1))
    assert not early.guideline.past_valid_until
    assert "GUIDELINE_PAST_VALID_UNTIL" not in [i["code"] for i in early.issues]
    assert early.classification == late.classification  # the clinical content is the same
