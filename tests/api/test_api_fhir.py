"""``POST /api/v1/fhir/assess`` against the running server (uvicorn): a demo patient's Bundle gives
the same assessment as its case posted to ``/assess``, with the import report and, on request,
the FHIR export; bad Bundles get the error envelope."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from apitest import Server
from fhir.resources.R4B.bundle import Bundle

from nenguide.errors import load_case_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "src" / "nenguide" / "examples"
AS_OF = {"as_of": "2026-11-23"}


def _post(c: httpx.Client, body: bytes, **params: str) -> httpx.Response:
    return c.post(
        "/api/v1/fhir/assess",
        content=body,
        params={**AS_OF, **params},
        headers={"Content-Type": "application/fhir+json"},
    )


def test_demo_bundles_assess_like_their_cases(server: Server) -> None:
    with server.client("auditor") as c:  # stateless: every role may run it
        for path in sorted((EXAMPLES / "fhir").glob("*.json")):
            r = _post(c, path.read_bytes())
            assert r.status_code == 200, r.text
            data = r.json()
            assert data["unmapped"] == [] and data["resources_read"] > 5
            case = load_case_file(EXAMPLES / f"{path.stem}.yaml").model_dump(
                mode="json", exclude_none=True
            )
            direct = c.post("/api/v1/assess", json=case, params=AS_OF).json()
            assert data["assessment"] == direct, path.name
            assert data["fhir"] is None


def test_export_and_import_report(server: Server) -> None:
    bundle = json.loads((EXAMPLES / "fhir" / "pnet-g2-liver.json").read_text(encoding="utf-8"))
    # an observation an EHR might add that nenguide does not read, and a newer Ki-67
    bundle["entry"] += [
        {
            "resource": {
                "resourceType": "Observation",
                "id": "bp",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
            }
        },
    ]
    with server.client("clinician") as c:
        r = _post(c, json.dumps(bundle).encode(), export="true", lang="zh-CN")
    assert r.status_code == 200, r.text
    data = r.json()
    assert [u["resource"] for u in data["unmapped"]] == ["Observation/bp"]
    assert data["assessment"]["language"] == "zh-CN"
    assert data["assessment"]["classification"]["grade"] == "G2"
    assert data["patient"]["identifier"] == "DEMO-pnet-g2-liver"
    Bundle.model_validate(data["fhir"])
    types = [e["resource"]["resourceType"] for e in data["fhir"]["entry"]]
    assert {"Observation", "RequestGroup", "GuidanceResponse"} <= set(types)


def test_bad_bundles_get_the_error_envelope(server: Server) -> None:
    with server.client("clinician") as c:
        r = _post(c, b"not json")
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
        r = _post(c, json.dumps({"resourceType": "Patient"}).encode())
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_bundle"
        nosite = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": {"resourceType": "Patient", "id": "p"}}],
        }
        r = _post(c, json.dumps(nosite).encode())
        assert r.status_code == 422
        err = r.json()["error"]
        assert err["code"] == "unmappable_bundle"
        assert any("PrimaryCancerCondition" in f["message"] for f in err["fields"])
    r = httpx.post(f"{server.base_url}/api/v1/fhir/assess", content=b"{}")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
