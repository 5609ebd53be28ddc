"""The command line, run as a real process (as a user or a script would)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

AS_OF = "2026-11-23"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nenguide", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_demo_prints_grade_and_stage_with_reasons(lang: str) -> None:
    proc = run("demo", "pnet-g2-liver", "--lang", lang, "--as-of", AS_OF)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "G2" in out and "pT2 pN1 M1a" in out and "IV" in out
    assert "CSCO2021.GRADE.GEP.KI67.G2" in out  # the reason
    if lang == "en":
        assert "Stage group IV" in out and "Ki-67 from 3 % to 20 % inclusive" in out
        assert "GUIDELINE PAST ITS VALID-UNTIL DATE" in out
    else:
        assert "分期组 IV" in out and "神经内分泌瘤" in out and "指南已超过有效期" in out


def test_assess_json_from_file_and_stdin(tmp_path: Path) -> None:
    case = {
        "tumour": {"primary_site": "rectum", "size_cm": 0.8, "extent": "submucosa"},
        "pathology": {"differentiation": "well", "ki67_percent": 1},
    }
    f = tmp_path / "case.json"
    f.write_text(json.dumps(case))
    a = run("assess", str(f), "--format", "json", "--as-of", AS_OF)
    assert a.returncode == 0, a.stderr
    b = run("assess", "-", "--format", "json", "--as-of", AS_OF, stdin=json.dumps(case))
    assert json.loads(a.stdout) == json.loads(b.stdout)
    out = json.loads(a.stdout)
    assert out["classification"]["grade"] == "G1"
    assert out["stage"]["t"] == "T1a" and out["stage"]["status"] == "INSUFFICIENT_DATA"


def test_invalid_case_exits_2_with_every_error_and_no_traceback(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(
        "tumour: {primary_site: pancreas, size_cm: -1, extent: submucosa}\n"
        "pathology: {ki67_percent: 140, differentiation: moderately}\n"
        "patient: {age: 50}\n"
    )
    proc = run("assess", str(f))
    assert proc.returncode == 2
    err = proc.stderr
    assert "Traceback" not in err and "Traceback" not in proc.stdout
    for path in (
        "tumour.size_cm",
        "pathology.ki67_percent",
        "pathology.differentiation",
        "patient.age",
        "tumour.extent",
    ):
        assert path in err, (path, err)
    assert "received: 140" in err and "less than or equal to 100" in err
    assert "allowed:" in err


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("tumour: [1, 2", "not valid YAML"),
        ('{"tumour": ', "not valid JSON"),
        ("- 1\n- 2\n", "object"),
    ],
)
def test_unreadable_input_exits_2(tmp_path: Path, content: str, needle: str) -> None:
    f = tmp_path / "x.yaml"
    f.write_text(content)
    proc = run("assess", str(f))
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr


def test_missing_file_and_bad_date_exit_2() -> None:
    assert run("assess", "/nonexistent/case.yaml").returncode == 2
    proc = run("demo", "pnet-g2-liver", "--as-of", "23/11/2026")
    assert proc.returncode == 2 and "YYYY-MM-DD" in proc.stderr


def test_assess_help_explains_options() -> None:
    proc = run("assess", "--help")
    assert proc.returncode == 0
    for word in (
        "--format",
        "--lang",
        "--as-of",
        "text",
        "json",
        "zh-CN",
        "status 2",
        "valid-until",
    ):
        assert word in proc.stdout, word


def test_schema_case_and_knowledge_lint() -> None:
    schema = json.loads(run("schema", "case").stdout)
    assert "tumour" in schema["properties"] and "Tumour" in schema["$defs"]
    lint = run("knowledge", "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "; 0 error(s)" in " ".join(lint.stdout.split())


def test_every_demo_case_is_valid_and_assessed() -> None:
    listing = run("demo")
    names = [line.split()[0] for line in listing.stdout.splitlines() if line.strip()]
    assert len(names) >= 5
    for name in names:
        proc = run("demo", name, "--format", "json", "--as-of", AS_OF)
        assert proc.returncode == 0, (name, proc.stderr)
        assert json.loads(proc.stdout)["classification"]["status"] == "DETERMINED", name


def test_unknown_lab_unit_exits_2_with_its_path(tmp_path: Path) -> None:
    f = tmp_path / "lab.yaml"
    f.write_text(
        "tumour: {primary_site: ileum}\n"
        "clinical:\n"
        "  labs:\n"
        "    - {analyte: hiaa_5_urine_24h, value: 40, unit: mg/(24.h)}\n"
        "    - {analyte: gastrin, value: 300, unit: furlongs}\n"
    )
    proc = run("assess", str(f))
    assert proc.returncode == 2, proc.stdout
    assert "clinical.labs.1.unit" in proc.stderr and "furlongs" in proc.stderr
    assert "Traceback" not in proc.stderr
