"""Hand-written FHIR R4 resources as an EHR would send them: standard codes only (SNOMED CT,
ICD-O-3, LOINC, UCUM, ATC, HL7 v3 RoleCode), no nenguide codes. Test data, invented patient."""

from __future__ import annotations

from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PAT = {"reference": "Patient/p1"}


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


def patient(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": "p1",
        "gender": "female",
        "name": [{"family": "Invented", "given": ["Ada"]}],
        "identifier": [{"value": "MRN-0001"}],
        **extra,
    }


def primary(
    site: str = "15776009", morphology: str | None = "8240/3", rid: str = "c1"
) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": rid,
        "meta": {"profile": [MCODE + "mcode-primary-cancer-condition"]},
        "code": {"text": "Neuroendocrine tumour of pancreas"},
        "bodySite": [{"coding": [{"system": SNOMED, "code": site}]}],
        "subject": PAT,
    }
    if morphology:
        res["extension"] = [
            {
                "url": MCODE + "mcode-histology-morphology-behavior",
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/icd-o-3",
                            "code": morphology,
                        }
                    ]
                },
            }
        ]
    return res


def secondary(site: str, rid: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "meta": {"profile": [MCODE + "mcode-secondary-cancer-condition"]},
        "code": {"text": "Metastasis"},
        "bodySite": [{"coding": [{"system": SNOMED, "code": site}]}],
        "subject": PAT,
    }


def obs(
    rid: str,
    code: str,
    *,
    system: str = LOINC,
    date: str | None = None,
    status: str = "final",
    **value: Any,
) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid,
        "status": status,
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": PAT,
        **value,
    }
    if date:
        res["effectiveDateTime"] = date
    return res


def qty(value: float, unit: str) -> dict[str, Any]:
    return {"valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}
