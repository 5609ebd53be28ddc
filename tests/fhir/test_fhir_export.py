"""FHIR export of an assessment: validates with fhir.resources (R4B), and carries the elements
the mCODE profiles (TNM categories and stage group, histologic grade) and CPG-on-FHIR
(RequestGroup, GuidanceResponse) require."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

import nenguide
from nenguide.engine.kb import Knowledge
from nenguide.errors import parse_case
from nenguide.interop.fhir import assessment_to_bundle
from nenguide.model.assessment import Assessment

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((ROOT / "src" / "nenguide" / "examples").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "vignettes").glob("*.yaml")
)
AS_OF = dt.date(2026, 11, 23)
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
LOINC = "http://loinc.org"
TNM_CODES = {
    "c": {"t": "21905-5", "n": "21906-3", "m": "21907-1", "group": "21908-9"},
    "p": {"t": "21899-0", "n": "21900-6", "m": "21901-4", "group": "21902-2"},
}
PROFILE = {
    "t": "mcode-tnm-primary-tumor-category",
    "n": "mcode-tnm-regional-nodes-category",
    "m": "mcode-tnm-distant-metastases-category",
    "group": "mcode-tnm-stage-group",
}


def _assess(path: Path, kb: Knowledge) -> Assessment:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return nenguide.assess(parse_case(raw.get("case", raw)), kb, as_of=AS_OF)


def _by_type(bundle: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for e in bundle["entry"]:
        out.setdefault(e["resource"]["resourceType"], []).append(e["resource"])
    return out


def _loinc(res: dict[str, Any]) -> str | None:
    return next((c["code"] for c in res["code"].get("coding", []) if c["system"] == LOINC), None)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_export_validates_and_has_the_required_elements(path: Path, kb: Knowledge) -> None:
    a = _assess(path, kb)
    bundle = assessment_to_bundle(a, "Patient/p1")
    Bundle.model_validate(bundle)
    urls = {e["fullUrl"] for e in bundle["entry"]}
    for e in bundle["entry"]:  # each resource also validates on its own
        get_fhir_model_class(e["resource"]["resourceType"]).model_validate(e["resource"])
    res = _by_type(bundle)
    obs = res.get("Observation", [])
    for o in obs:  # required by the mCODE/base profiles
        assert o["status"] in ("final", "preliminary")
        assert o["subject"] == {"reference": "Patient/p1"}
        assert o["effectiveDateTime"] == AS_OF.isoformat()
        assert o["valueCodeableConcept"]["coding"][0]["code"]
    st = a.stage
    if st.prefix is not None:
        codes = TNM_CODES["c" if st.prefix == "c" else "p"]
        for part in ("t", "n", "m", "group"):
            value = getattr(st, part)
            found = [o for o in obs if _loinc(o) == codes[part]]
            assert len(found) == (value is not None), (part, value)
            if value is None:
                continue
            (o,) = found
            assert o["meta"]["profile"] == [MCODE + PROFILE[part]]
            assert o["valueCodeableConcept"]["coding"][0]["code"] == value
            if st.system:
                assert o["method"]["text"] == st.system
            else:  # chapter open (issue 8): the values every candidate chapter agrees on
                assert "method" not in o
            assert o["status"] == ("final" if st.status.value == "DETERMINED" else "preliminary")
            if part == "group":
                members = [m["reference"] for m in o.get("hasMember", [])]
                assert len(members) == sum(getattr(st, p) is not None for p in "tnm")
                assert set(members) <= urls
    grades = [o for o in obs if _loinc(o) == "33732-9"]
    assert len(grades) == (a.classification.grade is not None)
    for g in grades:
        assert g["meta"]["profile"] == [MCODE + "mcode-histologic-grade"]
        assert g["valueCodeableConcept"]["coding"][0]["code"] == a.classification.grade

    (rg,) = res["RequestGroup"]
    assert rg["status"] == "draft" and rg["intent"] == "proposal"
    assert rg["subject"] == {"reference": "Patient/p1"}
    groups = {g["title"]: g["action"] for g in rg.get("action", [])}
    options = groups.get("Treatment options (for MDT discussion)", [])
    assert [o["code"][0]["coding"][0]["code"] for o in options] == [t["code"] for t in a.treatment]
    assert len(groups.get("Work-up still needed", [])) == len(a.workup)
    for opt, t in zip(options, a.treatment, strict=True):
        assert [d["label"] for d in opt["documentation"]] == t["sources"]
        assert t["rule_id"] in opt["textEquivalent"]
        exts = {x["url"].rsplit("/", 1)[1] for x in opt.get("extension", [])}
        assert ("cqf-strengthOfRecommendation" in exts) == (t["level"] is not None)
        assert ("cqf-qualityOfEvidence" in exts) == (t["evidence"] is not None)

    (gr,) = res["GuidanceResponse"]
    assert gr["moduleUri"].endswith(f"{a.guideline.id}/{a.guideline.version}")
    assert gr["subject"] == {"reference": "Patient/p1"}
    assert gr["result"]["reference"] in urls
    assert {r["reference"] for r in gr["evaluationMessage"]} <= urls
    missing = {f for i in a.issues if i["kind"].value == "insufficient_data" for f in i["fields"]}
    if missing:
        assert gr["status"] == "data-required"
        assert {f for d in gr["dataRequirement"] for f in d["mustSupport"]} == missing
        for d in gr["dataRequirement"]:
            assert d["type"] in (
                "Observation",
                "Condition",
                "Patient",
                "MedicationStatement",
                "FamilyMemberHistory",
                "Procedure",
            )
    else:
        assert gr["status"] == "success" and "dataRequirement" not in gr
    (oo,) = res["OperationOutcome"]
    assert len(oo["issue"]) == max(1, len(a.issues))


def test_a_case_with_missing_data_is_data_required(kb: Knowledge) -> None:
    case = parse_case({"tumour": {"primary_site": "pancreas"}})
    gr = _by_type(assessment_to_bundle(nenguide.assess(case, kb, as_of=AS_OF), "Patient/x"))[
        "GuidanceResponse"
    ][0]
    assert gr["status"] == "data-required"
    wanted = {f for d in gr["dataRequirement"] for f in d["mustSupport"]}
    assert "pathology.ki67_percent" in wanted
    ki67 = next(d for d in gr["dataRequirement"] if d["mustSupport"] == ["pathology.ki67_percent"])
    assert ki67["type"] == "Observation"
    assert {"system": LOINC, "code": "29593-1"}.items() <= ki67["codeFilter"][0]["code"][0].items()


def test_validation_is_not_a_formality(kb: Knowledge) -> None:
    """fhir.resources rejects a resource that lacks a required element, so the checks above
    mean something."""
    bundle = assessment_to_bundle(_assess(CASES[0], kb), "Patient/p1")
    broken = copy.deepcopy(bundle)
    gr = next(
        e["resource"]
        for e in broken["entry"]
        if e["resource"]["resourceType"] == "GuidanceResponse"
    )
    del gr["moduleUri"]
    with pytest.raises(ValidationError):
        Bundle.model_validate(broken)
