"""The shipped demo Bundles are current, import cleanly, and ``nenguide import-fhir`` prints the
mapped case and everything not mapped, and saves it into the MDT store with --store."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from ehr import bundle, obs, patient, primary, qty

import nenguide
from nenguide.engine.kb import Knowledge
from nenguide.errors import load_case_file
from nenguide.interop.fhir import import_bundle
from nenguide.interop.fhir.demo import EXAMPLES, FHIR_EXAMPLES, render_examples

AS_OF = dt.date(2026, 11, 23)
CLI = [sys.executable, "-m", "nenguide"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def test_shipped_bundles_are_current(kb: Knowledge) -> None:
    expected = render_examples(kb.analytes)
    shipped = {p.name: p.read_text(encoding="utf-8") for p in FHIR_EXAMPLES.glob("*.json")}
    assert set(shipped) == set(expected), "run scripts/gen_fhir_examples.py"
    for name, text in expected.items():
        assert shipped[name] == text, f"{name} is stale: run scripts/gen_fhir_examples.py"
    assert len(expected) == len(list(EXAMPLES.glob("*.yaml")))


@pytest.mark.parametrize("path", sorted(FHIR_EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_demo_bundle_gives_the_demo_assessment(path: Path, kb: Knowledge) -> None:
    result = import_bundle(path.read_text(encoding="utf-8"), kb.analytes, as_of=AS_OF)
    assert result.unmapped == [] and result.notes == []
    assert result.case is not None
    assert result.patient.name and result.patient.identifier == f"DEMO-{path.stem}"
    demo = load_case_file(EXAMPLES / f"{path.stem}.yaml")
    got = nenguide.assess(result.case, kb, as_of=AS_OF).model_dump(mode="json")
    assert got == nenguide.assess(demo, kb, as_of=AS_OF).model_dump(mode="json")


def test_import_fhir_text_and_json() -> None:
    demo = FHIR_EXAMPLES / "pnet-g2-liver.json"
    text = run("import-fhir", str(demo))
    assert text.returncode == 0, text.stderr
    assert "Mapped case" in text.stdout and "primary_site: pancreas" in text.stdout
    assert "Everything mapped" in text.stdout
    js = run("import-fhir", "-", "--format", "json", stdin=demo.read_text(encoding="utf-8"))
    assert js.returncode == 0, js.stderr
    data = json.loads(js.stdout)
    assert data["case"]["tumour"]["primary_site"] == "pancreas" and data["unmapped"] == []


def test_import_fhir_lists_what_is_not_mapped(tmp_path: Path) -> None:
    f = tmp_path / "b.json"
    f.write_text(
        json.dumps(
            bundle(
                patient(),
                primary(),
                obs("k", "29593-1", **qty(8, "mg")),
                obs("k2", "99999-9", **qty(1, "%")),
            )
        )
    )
    r = run("import-fhir", str(f))
    assert r.returncode == 0, r.stderr
    assert "Not mapped (2)" in r.stdout
    assert "Observation/k" in r.stdout and "mg" in r.stdout and "99999-9" in r.stdout
    data = json.loads(run("import-fhir", str(f), "--format", "json").stdout)
    assert {u["resource"] for u in data["unmapped"]} == {"Observation/k", "Observation/k2"}


def test_import_fhir_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceType": "Patient"}')
    r = run("import-fhir", str(bad))
    assert r.returncode == 2 and "Not a FHIR Bundle" in r.stderr
    r = run("import-fhir", str(tmp_path / "missing.json"))
    assert r.returncode == 2 and "Cannot read" in r.stderr
    nosite = tmp_path / "nosite.json"
    nosite.write_text(json.dumps(bundle(patient())))
    r = run("import-fhir", str(nosite))
    assert r.returncode == 2 and "No case could be built" in r.stdout
    assert "PrimaryCancerCondition" in r.stdout


def test_import_fhir_store(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    from nenguide.store import Database, cases, patients

    url = f"sqlite:///{tmp_path / 'store.db'}"
    demo = FHIR_EXAMPLES / "insulinoma.json"
    r = run("import-fhir", str(demo), "--store", "--database-url", url, "--format", "json")
    assert r.returncode == 0, r.stderr
    stored = json.loads(r.stdout)["stored"]
    db = Database(url)
    with db.read() as s:
        case = cases.get_case(s, stored["case_id"])
        pat = patients.get_patient(s, stored["patient_id"])
    db.dispose()
    assert case["data"]["tumour"]["primary_site"] == "pancreas"
    assert case["data"]["clinical"]["symptoms"]["hypoglycaemia_symptoms"] is True
    assert pat["mrn"] == "DEMO-insulinoma" and "insulinoma" in pat["name"]
    # the same MRN twice is refused by the store, with its message
    again = run("import-fhir", str(demo), "--store", "--database-url", url)
    assert again.returncode == 1 and "already registered" in again.stderr
