"""CDS Hooks feedback (issue 11) in the concordance audit: the accepted/overridden counts per
card kind, issuer and year as an indicator of the table and the report
(``nenguide concordance --cds-feedback``). The end-to-end path from a running server (feedback
stored, exported with ``GET /api/v1/cds-feedback``) is in tests/api/test_api_cds_jwt.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from nenguide.batch.concordance import (
    CDS_FEEDBACK_ID,
    feedback_indicator,
    feedback_table,
    wilson,
)
from nenguide.batch.store_adapter import feedback_from_files

SVC = "nenguide-patient-view"


def _row(outcome: str, code: str | None = None, iss: str = "https://ehr.a", year: str = "2026"):
    return {
        "service_id": SVC,
        "card_uuid": "0c1f1d0e-4a57-4b8e-9d3c-2f1f0f6f9b11",
        "outcome": outcome,
        "override_code": code,
        "issuer": iss,
        "outcome_timestamp": f"{year}-12-04T10:00:00+00:00",
    }


ROWS: list[dict[str, Any]] = [
    _row("accepted"),
    _row("accepted"),
    _row("accepted", iss="https://ehr.b", year="2025"),
    _row("overridden", "patient_preference"),
    _row("overridden", "patient_preference", iss="https://ehr.b"),
    _row("overridden", None, year="2025"),
]


def test_counts_rates_and_wilson_intervals_per_card_issuer_and_year() -> None:
    t = feedback_table(ROWS)
    assert set(t["indicator"]) == {CDS_FEEDBACK_ID}
    overall = t.filter(pl.col("dimension") == "overall").row(0, named=True)
    assert (overall["eligible"], overall["concordant"], overall["not_concordant"]) == (6, 3, 3)
    assert overall["rate"] == 0.5
    assert (overall["ci_low"], overall["ci_high"]) == wilson(3, 6)
    card = t.filter(pl.col("dimension") == "card").row(0, named=True)
    assert card["level"].startswith("NEN MDT summary card") and card["recorded"] == 6
    by_issuer = {
        r["level"]: (r["concordant"], r["not_concordant"])
        for r in t.filter(pl.col("dimension") == "issuer").iter_rows(named=True)
    }
    assert by_issuer == {"https://ehr.a": (2, 2), "https://ehr.b": (1, 1)}
    by_year = {
        r["level"]: r["eligible"]
        for r in t.filter(pl.col("dimension") == "year").iter_rows(named=True)
    }
    assert by_year == {"2025": 2, "2026": 4}


def test_the_note_counts_overrides_by_reason() -> None:
    note = feedback_indicator(ROWS).note or ""
    assert "patient_preference 2" in note and "(no reason given) 1" in note
    assert "none" in (feedback_indicator([_row("accepted")]).note or "")


def test_bad_feedback_files_are_refused_naming_the_item(tmp_path: Path) -> None:
    good = tmp_path / "fb.json"
    good.write_text(json.dumps({"feedback": ROWS}))
    assert feedback_from_files([good]) == ROWS
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([ROWS[0], {"service_id": SVC, "outcome": "ignored"}]))
    with pytest.raises(ValueError, match="item 1"):
        feedback_from_files([bad])
    # an empty file said "Expecting value: line 1 column 1 (char 0)" without its name
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(ValueError, match=r"empty\.json: not readable as a JSON list of CDS"):
        feedback_from_files([empty])


def test_concordance_command_reports_the_feedback_indicator(tmp_path: Path) -> None:
    nenguide = [sys.executable, "-m", "nenguide"]
    src = tmp_path / "care.jsonl"
    synth = subprocess.run(
        [*nenguide, "synth", "200", "--seed", "3", "--with-care"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    src.write_text(synth.stdout)
    fb = tmp_path / "feedback.json"
    fb.write_text(json.dumps(ROWS))
    report = tmp_path / "audit.html"
    p = subprocess.run(
        [
            *nenguide,
            "concordance",
            str(src),
            "--report",
            str(report),
            "--as-of",
            "2026-11-23",
            "--cds-feedback",
            str(fb),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    table = pl.read_csv(tmp_path / "audit.csv")
    row = table.filter(
        (pl.col("indicator") == CDS_FEEDBACK_ID) & (pl.col("dimension") == "overall")
    ).row(0, named=True)
    assert (row["concordant"], row["not_concordant"]) == (3, 3)
    html = report.read_text()
    assert "CDS Hooks card accepted in the EHR" in html and "patient_preference 2" in html
    bad = tmp_path / "bad.json"
    bad.write_text("[{}]")
    p = subprocess.run(
        [
            *nenguide,
            "concordance",
            str(src),
            "--report",
            str(report),
            "--as-of",
            "2026-11-23",
            "--cds-feedback",
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode != 0 and "item 0" in p.stderr


def test_wilson_bounds_hold_the_rate_at_none_and_all() -> None:
    # 0/3 and 10/10 put a bound past the rate by rounding: the report's plot then failed
    for n in range(1, 200):
        for k in (0, n):
            low, high = wilson(k, n)
            assert low is not None and high is not None
            assert 0.0 <= low <= k / n <= high <= 1.0, (k, n)
