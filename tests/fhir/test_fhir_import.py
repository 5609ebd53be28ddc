"""Import of FHIR Bundles as an EHR sends them: standard codes, and the faults real data has
(unknown codes, wrong units, duplicates, missing elements, invalid resources). Every fault gives
a clear entry in ``unmapped`` or ``notes`` and never a crash or an invented value."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from ehr import LOINC, SNOMED, bundle, obs, patient, primary, qty, secondary

from nenguide.engine.kb import Knowledge
from nenguide.interop.fhir import BundleError, ImportResult, import_bundle

AS_OF = dt.date(2026, 11, 23)


def _import(kb: Knowledge, *resources: dict[str, Any]) -> ImportResult:
    return import_bundle(bundle(*resources), kb.analytes, as_of=AS_OF)


def _reasons(result: ImportResult) -> str:
    return " | ".join(f"{u.resource}: {u.reason}" for u in result.unmapped)


def test_standard_codes_map_to_the_case(kb: Knowledge) -> None:
    atc = "http://www.whocc.no/atc"
    r = _import(
        kb,
        patient(birthDate="1970-06-01"),
        primary(),
        secondary("10200004", "m1"),
        secondary("272673000", "m2"),
        obs("ki67", "29593-1", **qty(8, "%")),
        obs("size", "21889-1", **qty(34, "mm")),
        obs("ecog", "89247-1", valueInteger=1),
        obs("nodes-ex", "21894-1", valueInteger=14),
        obs("nodes-pos", "21893-3", valueInteger=2),
        obs("cga", "9811-1", date="2026-10-12", **qty(310, "ug/L")),
        {
            "resourceType": "MedicationStatement",
            "id": "ms1",
            "status": "completed",
            "medicationCodeableConcept": {"coding": [{"system": atc, "code": "H01CB02"}]},
            "subject": {"reference": "Patient/p1"},
            "effectivePeriod": {"start": "2025-01-01", "end": "2025-12-01"},
        },
        {
            "resourceType": "FamilyMemberHistory",
            "id": "f1",
            "status": "completed",
            "patient": {"reference": "Patient/p1"},
            "relationship": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "MTH"}
                ]
            },
        },
        obs(
            "gv",
            "69548-6",
            valueCodeableConcept={"coding": [{"system": LOINC, "code": "LA9633-4"}]},
            component=[
                {
                    "code": {"coding": [{"system": LOINC, "code": "48018-6"}]},
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": "http://www.genenames.org",
                                "code": "HGNC:7010",
                                "display": "MEN1",
                            }
                        ]
                    },
                },
                {
                    "code": {"coding": [{"system": LOINC, "code": "53037-8"}]},
                    "valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA6668-3"}]},
                },
            ],
        ),
    )
    assert r.unmapped == [], _reasons(r)
    c = r.case
    assert c is not None
    assert c.tumour.primary_site.value == "pancreas" and c.tumour.size_cm == 3.4
    assert c.pathology.ki67_percent == 8 and c.pathology.differentiation is not None
    assert c.pathology.differentiation.value == "well"
    assert c.patient.age_years == 56 and c.patient.sex is not None and c.patient.ecog == 1
    assert c.regional_nodes is not None and c.regional_nodes.positive == 2
    assert c.metastases is not None and c.metastases.status.value == "present"
    assert c.metastases.liver is not None
    assert [e.site.value for e in c.metastases.extrahepatic] == ["bone"]
    assert c.clinical.labs[0].analyte == "chromogranin_a" and c.clinical.labs[0].loinc == "9811-1"
    assert c.clinical.prior_therapies is not None
    assert c.clinical.prior_therapies[0].therapy.value == "ssa"
    assert c.clinical.family_history is not None
    assert c.clinical.family_history[0].relation.value == "first_degree"
    assert [(g.gene.value, g.result) for g in c.clinical.germline] == [("MEN1", "pathogenic")]
    assert r.patient.name == "Ada Invented" and r.patient.identifier == "MRN-0001"
    kinds = {(n.kind, n.field) for n in r.notes}
    assert ("derived", "patient.age_years") in kinds  # said, not silent
    assert ("derived", "metastases.status") in kinds
    # nothing is defaulted: what the Bundle does not give stays unknown
    assert c.pathology.mitoses_per_2mm2 is None and c.tumour.extent is None
    assert c.clinical.resection is None and c.clinical.symptoms == {}


def test_unknown_codes_and_resources_are_listed(kb: Knowledge) -> None:
    r = _import(
        kb,
        patient(),
        primary(),
        obs("x1", "12345-6", **qty(1, "mg")),
        obs("stage", "21902-2", valueCodeableConcept={"text": "IV"}),
        obs("grade", "33732-9", valueCodeableConcept={"text": "G2"}),
        {"resourceType": "AllergyIntolerance", "id": "a1", "patient": {"reference": "Patient/p1"}},
        {
            "resourceType": "Condition",
            "id": "dm",
            "code": {"coding": [{"system": SNOMED, "code": "44054006"}]},
            "subject": {"reference": "Patient/p1"},
        },
        {
            "resourceType": "MedicationStatement",
            "id": "ms",
            "status": "completed",
            "medicationCodeableConcept": {
                "coding": [{"system": "http://www.whocc.no/atc", "code": "L01XA01"}]
            },
            "subject": {"reference": "Patient/p1"},
        },
        {"resourceType": "NotAResource", "id": "z"},
    )
    assert r.case is not None
    by = {u.resource: u.reason for u in r.unmapped}
    assert "observation code not mapped: http://loinc.org|12345-6" in by["Observation/x1"]
    assert "re-derives the stage" in by["Observation/stage"]
    assert "grades from Ki-67" in by["Observation/grade"]
    assert "AllergyIntolerance is not read" in by["AllergyIntolerance/a1"]
    assert "neither an mCODE PrimaryCancerCondition" in by["Condition/dm"]
    assert "regimens need nenguide's therapy code" in by["MedicationStatement/ms"]
    assert "unknown FHIR R4 resource type 'NotAResource'" in by["NotAResource/z"]
    assert len(r.unmapped) == 7


@pytest.mark.parametrize(
    ("resource", "reason"),
    [
        (
            obs("k", "29593-1", **qty(8, "mg/L")),
            "unit 'mg/L' is not accepted for pathology.ki67_percent",
        ),
        (
            obs("s", "21889-1", **qty(3, "[in_i]")),
            "unit '[in_i]' is not accepted for tumour.size_cm",
        ),
        (obs("g", "2333-3", **qty(150, "mmol/h")), "gastrin:"),
        (obs("g2", "2333-3", valueQuantity={"value": 150}), "gastrin: the result has no unit"),
        (
            obs("c", "9811-1", valueQuantity={"value": 90, "comparator": "~", "unit": "ug/L"}),
            "comparator",
        ),
        # the human unit and the UCUM code disagree by a factor of ten: the size was read by
        # the code alone, 0.34 cm instead of 3.4 (T1 for T2), with no note (probe, session 24)
        (
            obs(
                "s2",
                "21889-1",
                valueQuantity={
                    "value": 3.4,
                    "unit": "cm",
                    "code": "mm",
                    "system": "http://unitsofmeasure.org",
                },
            ),
            "the unit 'cm' and the UCUM code 'mm' disagree",
        ),
        (
            obs(
                "g3",
                "2333-3",
                valueQuantity={
                    "value": 150,
                    "unit": "ng/L",
                    "code": "ug/L",
                    "system": "http://unitsofmeasure.org",
                },
            ),
            "gastrin: the unit 'ng/L' and the UCUM code 'ug/L' disagree",
        ),
    ],
)
def test_wrong_units_are_refused_with_what_is_allowed(
    kb: Knowledge, resource: dict[str, Any], reason: str
) -> None:
    r = _import(kb, patient(), primary(), resource)
    assert r.case is not None
    assert len(r.unmapped) == 1 and reason in r.unmapped[0].reason, _reasons(r)
    assert r.case.pathology.ki67_percent is None and r.case.tumour.size_cm is None
    assert r.case.clinical.labs == ()


def test_mitoses_per_hpf_are_not_converted(kb: Knowledge) -> None:
    local = "https://nenguide.example/fhir/CodeSystem/case-field"
    r = _import(
        kb,
        patient(),
        primary(),
        obs("m", "pathology.mitoses_per_2mm2", system=local, **qty(3, "/(10.[HPF])")),
    )
    assert r.case is not None and r.case.pathology.mitoses_per_2mm2 is None
    assert "allowed UCUM units: /(2.mm2)" in r.unmapped[0].reason


def test_duplicates_latest_wins_and_is_reported(kb: Knowledge) -> None:
    r = _import(
        kb,
        patient(),
        primary(),
        obs("k-old", "29593-1", date="2026-01-10", **qty(2, "%")),
        obs("k-new", "29593-1", date="2026-03-01", **qty(12, "%")),
        obs("k-mid", "29593-1", date="2026-02-01", **qty(5, "%")),
    )
    assert r.case is not None and r.case.pathology.ki67_percent == 12
    (note,) = [n for n in r.notes if n.field == "pathology.ki67_percent"]
    assert (
        note.kind == "duplicate" and "latest wins: Observation/k-new (2026-03-01)" in note.message
    )
    assert set(note.resources) == {"Observation/k-old", "Observation/k-new", "Observation/k-mid"}


def test_undated_disagreeing_duplicates_stay_unknown(kb: Knowledge) -> None:
    r = _import(
        kb,
        patient(),
        primary(),
        obs("a", "29593-1", **qty(2, "%")),
        obs("b", "29593-1", **qty(30, "%")),
    )
    assert r.case is not None and r.case.pathology.ki67_percent is None
    (note,) = r.notes
    assert note.kind == "conflict" and "stays unknown" in note.message


def test_same_day_disagreement_stays_unknown_and_agreement_is_read_once(kb: Knowledge) -> None:
    r = _import(
        kb,
        patient(),
        primary(),
        obs("a", "29593-1", date="2026-03-01", **qty(2, "%")),
        obs("b", "29593-1", date="2026-03-01", **qty(30, "%")),
        obs("e1", "89247-1", valueInteger=1),
        obs("e2", "89247-1", valueInteger=1),
    )
    assert r.case is not None and r.case.pathology.ki67_percent is None and r.case.patient.ecog == 1
    assert {(n.kind, n.field) for n in r.notes} == {
        ("conflict", "pathology.ki67_percent"),
        ("duplicate", "patient.ecog"),
    }


def test_missing_elements(kb: Knowledge) -> None:
    no_site = primary()
    del no_site["bodySite"]
    r = _import(
        kb,
        patient(),
        no_site,
        obs("k", "29593-1"),
        obs("e", "89247-1", dataAbsentReason={"text": "not asked"}),
    )
    assert r.case is None  # a case needs the primary site: nothing is guessed
    reasons = _reasons(r)
    assert "body site not mapped" in reasons
    assert "no usable value" in reasons and "dataAbsentReason" in reasons
    assert "case cannot be built" in reasons and "tumour" in reasons


def test_impossible_values_are_refused_with_their_path(kb: Knowledge) -> None:
    r = _import(
        kb,
        patient(),
        primary(),
        obs("k", "29593-1", **qty(140, "%")),
        obs("e", "89247-1", valueInteger=7),
    )
    assert r.case is not None
    assert r.case.pathology.ki67_percent is None and r.case.patient.ecog is None
    fields = {u.field: u.reason for u in r.unmapped}
    assert "less than or equal to 100" in fields["pathology.ki67_percent"]
    assert "invalid value, left unknown" in fields["patient.ecog"]


def test_invalid_and_withdrawn_resources(kb: Knowledge) -> None:
    r = _import(
        kb,
        patient(),
        primary(),
        obs("err", "29593-1", status="entered-in-error", **qty(50, "%")),
        {"resourceType": "Observation", "id": "bad", "status": "final", "code": 5},
        {
            **secondary("10200004", "gone"),
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "resolved",
                    }
                ]
            },
        },
    )
    assert r.case is not None and r.case.pathology.ki67_percent is None
    assert r.case.metastases is None
    by = {u.resource: u.reason for u in r.unmapped}
    assert "status 'entered-in-error'" in by["Observation/err"]
    assert by["Observation/bad"].startswith("not valid FHIR R4")
    assert "resolved" in by["Condition/gone"]


@pytest.mark.parametrize("payload", ["not json", "[]", '{"resourceType": "Patient"}', b"\xff"])
def test_not_a_bundle(kb: Knowledge, payload: Any) -> None:
    with pytest.raises(BundleError):
        import_bundle(payload, kb.analytes)


def test_empty_bundle(kb: Knowledge) -> None:
    r = import_bundle({"resourceType": "Bundle", "type": "collection"}, kb.analytes)
    assert r.case is None and r.resources_read == 0
    assert any("case cannot be built" in u.reason for u in r.unmapped)
