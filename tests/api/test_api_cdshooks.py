"""CDS Hooks 2.0 ``patient-view`` against a running demo server (uvicorn): discovery, a call with
full prefetch built from a demo patient's Bundle, partial or no prefetch fetched from a FHIR
server the test starts on loopback (``fhirserver.py``), the 412 paths, and cards that carry the
spec's required fields. Outside demo mode the EHR's JWT is checked: test_api_cds_jwt."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apitest import free_port
from fhirserver import as_patients, fhir_server

FHIR_EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "nenguide" / "examples" / "fhir"
KEYS_BY_TYPE = {
    "Patient": "patient",
    "Condition": "conditions",
    "Observation": "observations",
    "Procedure": "procedures",
    "MedicationStatement": "medicationStatements",
    "MedicationAdministration": "medicationAdministrations",
    "FamilyMemberHistory": "familyHistory",
    "List": "lists",
}


_WORK: dict[str, Path] = {}


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("cds")
    _WORK["dir"] = work
    port = free_port()
    log = (work / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nenguide.api",
            "serve",
            "--demo",
            "--port",
            str(port),
            "--database-url",
            f"sqlite:///{work / 'demo.db'}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={
            **os.environ,
            # SMART launch configured: cards carry a 'smart' link back to nenguide
            "NENGUIDE_SMART_ISSUERS": "https://ehr.example.org/fhir",
            "NENGUIDE_SMART_CLIENT_ID": "nenguide",
        },
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (work / "server.log").read_text()
            assert time.monotonic() < deadline, "demo server did not start"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def _prefetch(name: str) -> dict[str, Any]:
    """The demo patient's Bundle split the way an EHR answers the prefetch templates."""
    bundle = json.loads((FHIR_EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    out: dict[str, Any] = {k: None for k in KEYS_BY_TYPE.values()}
    for e in bundle["entry"]:
        e = {**e, "resource": as_patients(e["resource"], "p1")}  # as the EHR's own records
        key = KEYS_BY_TYPE[e["resource"]["resourceType"]]
        if key == "patient":
            out[key] = e["resource"]
        else:
            out[key] = out[key] or {"resourceType": "Bundle", "type": "searchset", "entry": []}
            out[key]["entry"].append(e)
    return out


def _call(base: str, prefetch: dict[str, Any] | None) -> httpx.Response:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/1", "patientId": "p1"},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return httpx.post(f"{base}/cds-services/nenguide-patient-view", json=body, timeout=30)


def _check_card(card: dict[str, Any]) -> None:
    """The CDS Hooks 2.0 card's required fields and their rules."""
    assert isinstance(card["summary"], str) and 0 < len(card["summary"]) < 140
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"] and card["source"]["url"].startswith("http")
    assert card["detail"].strip()
    uuid.UUID(card["uuid"])
    for reason in card["overrideReasons"]:
        assert reason["code"] and reason["display"]
    if card.get("suggestions"):
        assert card["selectionBehavior"] in ("at-most-one", "any")
        for s in card["suggestions"]:
            uuid.UUID(s["uuid"])
            assert s["label"]
            for action in s["actions"]:
                assert action["type"] in ("create", "update", "delete") and action["description"]
                assert action["resource"]["resourceType"] == "ServiceRequest"
    for link in card.get("links", []):
        assert link["label"] and link["url"].startswith("http")
        assert link["type"] in ("absolute", "smart")
    empty = [k for k, v in card.items() if v in (None, "", [], {})]
    assert empty == [], empty  # the spec forbids empty values


def test_discovery(demo_url: str) -> None:
    r = httpx.get(f"{demo_url}/cds-services")
    assert r.status_code == 200
    (svc,) = r.json()["services"]
    assert svc["hook"] == "patient-view" and svc["id"] == "nenguide-patient-view"
    assert svc["description"] and svc["title"]
    assert svc["prefetch"]["patient"] == "Patient/{{context.patientId}}"


def test_full_prefetch_gives_cited_cards(demo_url: str) -> None:
    r = _call(demo_url, _prefetch("pnet-g2-liver"))
    assert r.status_code == 200, r.text
    (card,) = r.json()["cards"]
    _check_card(card)
    assert "NET G2, stage IV (pT2 N1 M1a)" in card["summary"]
    assert "CSCO2021.TX.ADVANCED.LIVER_TYPE_II" in card["detail"]
    assert "tx-csco-s4-metastatic" in card["detail"]  # sources named
    assert {o["code"] for o in card["overrideReasons"]} >= {"patient_preference", "other"}


def test_cards_link_back_to_the_case_page(demo_url: str) -> None:
    # a patient not in nenguide: the SMART link only (the launch opens the case page)
    (card,) = _call(demo_url, _prefetch("pnet-g2-liver")).json()["cards"]
    assert card["links"] == [
        {
            "label": "Open in nenguide (case page, patient from the chart)",
            "url": f"{demo_url}/smart/launch",
            "type": "smart",
        }
    ]
    # a patient nenguide knows (same MRN as demo patient DEMO-0001): also its case page
    prefetch = _prefetch("pnet-g2-liver")
    prefetch["patient"]["identifier"] = [{"value": "DEMO-0001"}]
    (card,) = _call(demo_url, prefetch).json()["cards"]
    _check_card(card)
    smart_link, case_link = card["links"]
    assert smart_link["type"] == "smart" and case_link["type"] == "absolute"
    assert case_link["url"].startswith(f"{demo_url}/cases/")
    page = httpx.get(case_link["url"], headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=/cases/")
    with sqlite3.connect(_WORK["dir"] / "demo.db") as db:
        (mrn,) = db.execute(
            "SELECT p.mrn FROM cases c JOIN patients p ON p.id = c.patient_id WHERE c.id = ?",
            (case_link["url"].rsplit("/", 1)[1],),
        ).fetchone()
    assert mrn == "DEMO-0001"


def test_nec_without_therapy_is_critical_and_missing_data_warns(demo_url: str) -> None:
    nec = _call(demo_url, _prefetch("pancreatic-nec-metastatic")).json()["cards"][0]
    _check_card(nec)
    assert nec["indicator"] == "critical"
    sparse = _prefetch("rectal-net-g1-small")
    sparse["observations"] = None  # no pathology at all
    card = _call(demo_url, sparse).json()["cards"][0]
    _check_card(card)
    assert card["indicator"] == "warning" and "Missing or conflicting data" in card["detail"]


def test_suggestions_where_an_order_fits(demo_url: str) -> None:
    cards = [
        _call(demo_url, _prefetch(p.stem)).json()["cards"][0]
        for p in sorted(FHIR_EXAMPLES.glob("*.json"))
    ]
    labels = [s["label"] for c in cards for s in c.get("suggestions", [])]
    assert any(label.startswith("Refer: Genetic counselling") for label in labels), labels
    for c in cards:
        _check_card(c)


def test_missing_prefetch_is_412(demo_url: str) -> None:
    assert _call(demo_url, None).status_code == 412
    partial = _prefetch("insulinoma")
    del partial["observations"]
    r = _call(demo_url, partial)
    assert r.status_code == 412 and "observations" in r.json()["error"]["message"]


def test_no_nen_no_cards(demo_url: str) -> None:
    empty = {k: None for k in KEYS_BY_TYPE.values()}
    r = _call(demo_url, empty)
    assert r.status_code == 200 and r.json() == {"cards": []}


def _call_with_server(
    base: str, prefetch: dict[str, Any] | None, server: str, token: str
) -> httpx.Response:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": server,
        "fhirAuthorization": {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "nenguide",
        },
        "context": {"userId": "Practitioner/1", "patientId": "p1"},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return httpx.post(f"{base}/cds-services/nenguide-patient-view", json=body, timeout=30)


def test_partial_prefetch_is_fetched_from_the_fhir_server(demo_url: str) -> None:
    full = _call(demo_url, _prefetch("pnet-g2-liver")).json()["cards"][0]
    partial = {
        k: v for k, v in _prefetch("pnet-g2-liver").items() if k in ("patient", "conditions")
    }
    with fhir_server(FHIR_EXAMPLES / "pnet-g2-liver.json", "p1", "tok") as (url, seen):
        r = _call_with_server(demo_url, partial, url, "tok")
        none = _call_with_server(demo_url, None, url, "tok")
    assert r.status_code == 200, r.text
    (card,) = r.json()["cards"]
    _check_card(card)
    assert card["summary"] == full["summary"] and card["detail"] == full["detail"]
    assert none.json()["cards"][0]["summary"] == full["summary"]
    assert "/Observation?patient=p1" in seen and "/Patient/p1" in seen
    assert not any(p.startswith("/Condition") for p in seen[:6])  # prefetched: not fetched


def test_fhir_server_refusal_or_absence_is_412(demo_url: str) -> None:
    with fhir_server(FHIR_EXAMPLES / "pnet-g2-liver.json", "p1", "tok") as (url, _):
        r = _call_with_server(demo_url, None, url, "wrong-token")
    assert r.status_code == 412 and "HTTP 401" in r.json()["error"]["message"]
    r = _call_with_server(demo_url, None, f"http://127.0.0.1:{free_port()}", "tok")
    assert r.status_code == 412 and "failed" in r.json()["error"]["message"]
    # a URL httpx cannot read was an HTTP 500 (probe, session 24)
    r = _call_with_server(demo_url, None, "http://[::1", "tok")
    assert r.status_code == 412 and "failed" in r.json()["error"]["message"]


def test_another_patients_record_is_refused(demo_url: str) -> None:
    """A card built from another patient's record would be shown under this one (a probe,
    session 24): a prefetched Patient or resource of another patient, or a reference that
    names none, is a 412 naming it; the patient's own records still give their card."""
    assert _call(demo_url, _prefetch("pnet-g2-liver")).status_code == 200
    other = _prefetch("pnet-g2-liver")
    other["patient"] = {**other["patient"], "id": "p2"}
    r = _call(demo_url, other)
    assert r.status_code == 412 and "Patient/p2" in r.json()["error"]["message"]
    mixed = _prefetch("pnet-g2-liver")
    entry = mixed["observations"]["entry"][0]
    entry["resource"] = {**entry["resource"], "subject": {"reference": "urn:uuid:abc"}}
    r = _call(demo_url, mixed)
    assert r.status_code == 412 and "urn:uuid:abc" in r.json()["error"]["message"]
    absolute = _prefetch("pnet-g2-liver")
    entry = absolute["observations"]["entry"][0]
    ref = {"reference": "https://ehr.example/fhir/Patient/p1"}
    entry["resource"] = {**entry["resource"], "subject": ref}
    assert _call(demo_url, absolute).status_code == 200
