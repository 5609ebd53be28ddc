"""`nenguide synth`, `nenguide batch` and `nenguide concordance`, run as real processes."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from nenguide import assess
from nenguide.batch.flatten import ASSESSMENT_COLUMNS, flatten
from nenguide.engine.kb import Knowledge
from nenguide.errors import parse_case

AS_OF = "2026-11-23"
NENGUIDE = [sys.executable, "-m", "nenguide"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NENGUIDE, *args], capture_output=True, text=True, input=stdin, timeout=300
    )


def test_synth_pipes_into_batch_and_matches_the_engine(tmp_path: Path, kb: Knowledge) -> None:
    out = tmp_path / "out.parquet"
    synth = subprocess.Popen([*NENGUIDE, "synth", "300", "--seed", "4"], stdout=subprocess.PIPE)
    batch = subprocess.run(
        [*NENGUIDE, "batch", "-", str(out), "--as-of", AS_OF, "--chunk-size", "64"],
        stdin=synth.stdout,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert synth.wait(timeout=60) == 0
    assert batch.returncode == 0, batch.stderr
    assert "300 rows read, 300 assessed, 0 rejected" in batch.stderr
    df = pl.read_parquet(out)
    assert df.height == 300
    assert df["row"].to_list() == list(range(1, 301))  # input order kept across chunks
    assert list(df.columns) == ["row", *ASSESSMENT_COLUMNS]
    cases = run("synth", "300", "--seed", "4").stdout.splitlines()
    for i in (0, 1, 63, 64, 150, 299):
        expected = flatten(
            assess(parse_case(json.loads(cases[i])), kb, as_of=dt.date.fromisoformat(AS_OF))
        )
        assert df.row(i, named=True) == {"row": i + 1, **expected}
    assert (tmp_path / "out.rejected.csv").read_text().splitlines() == [
        "row,id,stage,field,column,reason"
    ]


def test_two_processes_give_the_same_rows(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(run("synth", "400", "--seed", "9").stdout)
    one, two = tmp_path / "one.parquet", tmp_path / "two.parquet"
    assert run("batch", str(src), str(one), "--as-of", AS_OF).returncode == 0
    p = run(
        "batch", str(src), str(two), "--as-of", AS_OF, "--processes", "2", "--chunk-size", "150"
    )
    assert p.returncode == 0, p.stderr
    assert pl.read_parquet(one).equals(pl.read_parquet(two))


DATA = Path(__file__).parent / "data"
#: a small registry extract (one bad row per kind) and its column mapping
REGISTRY = (DATA / "registry.csv").read_text(encoding="utf-8")
MAPPING = (DATA / "registry-mapping.yaml").read_text(encoding="utf-8")


def test_csv_with_mapping_reports_every_bad_row_and_keeps_going(tmp_path: Path) -> None:
    (tmp_path / "reg.csv").write_text(REGISTRY)
    (tmp_path / "map.yaml").write_text(MAPPING)
    out = tmp_path / "res.csv"
    p = run(
        "batch",
        str(tmp_path / "reg.csv"),
        str(out),
        "--mapping",
        str(tmp_path / "map.yaml"),
        "--as-of",
        AS_OF,
    )
    assert p.returncode == 0, p.stderr
    assert "6 rows read, 3 assessed, 3 rejected" in p.stderr
    rows = list(csv.DictReader(out.open()))
    assert [r["patient_no"] for r in rows] == ["P1", "P2", "P6"]
    assert [r["row"] for r in rows] == ["1", "2", "6"]
    assert rows[0]["classification_grade"] == "G1"
    # no extent or nodes in the registry: the stage stays open, never defaulted
    assert rows[0]["stage_status"] == "INSUFFICIENT_DATA" and rows[0]["stage_m"] == "M0"
    assert rows[1]["classification_category"] == "NEC"
    assert (
        rows[2]["classification_status"] == "INSUFFICIENT_DATA"
    )  # no Ki-67, no mitoses: not guessed
    assert "GRADE_NEEDS_PROLIFERATION" in rows[2]["issue_codes"].split(";")
    rejected = list(csv.DictReader((tmp_path / "res.rejected.csv").open()))
    by_row = {r["row"]: r for r in rejected}
    assert set(by_row) == {"3", "4", "5"}
    assert (
        by_row["3"]["stage"] == "mapping"
        and by_row["3"]["column"] == "topo"
        and "jejunum or ileum" in by_row["3"]["reason"]
    )
    assert by_row["4"]["stage"] == "validation" and by_row["4"]["field"] == "pathology.ki67_percent"
    assert "250" in by_row["4"]["reason"] and by_row["4"]["id"] == "P4"
    assert (
        by_row["5"]["stage"] == "mapping"
        and "value '7' is not in the mapping" in by_row["5"]["reason"]
    )
    strict = run(
        "batch",
        str(tmp_path / "reg.csv"),
        str(tmp_path / "s.parquet"),
        "-m",
        str(tmp_path / "map.yaml"),
        "--strict",
        "--as-of",
        AS_OF,
    )
    assert strict.returncode == 3


def test_bad_json_lines_are_rejected_not_dropped(tmp_path: Path) -> None:
    good = run("synth", "2", "--seed", "1").stdout.splitlines()
    text = (
        "\n".join([good[0], "{not json", '{"tumour": {"primary_site": "mars"}}', "[1, 2]", good[1]])
        + "\n"
    )
    out = tmp_path / "o.parquet"
    p = run("batch", "-", str(out), "--as-of", AS_OF, stdin=text)
    assert p.returncode == 0, p.stderr
    assert pl.read_parquet(out)["row"].to_list() == [1, 5]
    rejected = list(csv.DictReader((tmp_path / "o.rejected.csv").open()))
    assert [(r["row"], r["stage"]) for r in rejected] == [
        ("2", "parse"),
        ("3", "validation"),
        ("4", "mapping"),
    ]
    assert rejected[1]["field"] == "tumour.primary_site"


def test_a_line_python_cannot_read_is_rejected_and_the_batch_goes_on(tmp_path: Path) -> None:
    """An integer of 4301 digits or a line nested 5000 deep stopped the whole batch with a
    traceback and no output (a probe, session 24): each is a rejected row now."""
    good = run("synth", "2", "--seed", "1").stdout.splitlines()
    long = '{"tumour": {"primary_site": "rectum", "number_of_tumours": 1' + "0" * 4300 + "}}"
    deep = '{"x": ' + "[" * 5000 + "]" * 5000 + "}"
    text = "\n".join([good[0], long, deep, good[1]]) + "\n"
    out = tmp_path / "o.parquet"
    p = run("batch", "-", str(out), "--as-of", AS_OF, stdin=text)
    assert p.returncode == 0, p.stderr
    assert pl.read_parquet(out)["row"].to_list() == [1, 4]
    rejected = list(csv.DictReader((tmp_path / "o.rejected.csv").open()))
    assert [(r["row"], r["stage"]) for r in rejected] == [("2", "parse"), ("3", "parse")]
    assert "4300 digits" in rejected[0]["reason"] and "nested" in rejected[1]["reason"]


def test_parquet_input_and_usage_errors(tmp_path: Path) -> None:
    src = tmp_path / "cases.parquet"
    lines = run("synth", "20", "--seed", "2").stdout.splitlines()
    pl.DataFrame({"case": lines, "mrn": [f"M{i}" for i in range(20)]}).write_parquet(src)
    (tmp_path / "m.yaml").write_text("id_column: mrn\n")
    out = tmp_path / "o.parquet"
    p = run("batch", str(src), str(out), "-m", str(tmp_path / "m.yaml"), "--as-of", AS_OF)
    assert p.returncode == 0, p.stderr
    df = pl.read_parquet(out)
    assert df["mrn"].to_list() == [f"M{i}" for i in range(20)]
    assert run("batch", str(tmp_path / "nope.csv"), str(out)).returncode == 2
    bad = run("batch", str(src), str(tmp_path / "o.xlsx"))
    assert bad.returncode == 2 and ".parquet or .csv" in bad.stderr


def test_concordance_report_is_offline_html_with_plots_and_a_table(tmp_path: Path) -> None:
    src = tmp_path / "care.jsonl"
    src.write_text(run("synth", "1500", "--seed", "3", "--with-care").stdout)
    report = tmp_path / "audit.html"
    p = run("concordance", str(src), "--report", str(report), "--as-of", AS_OF)
    assert p.returncode == 0, p.stderr
    html = report.read_text()
    assert html.count("data:image/png;base64,") >= 2
    assert not re.search(r"(src|href)=\"https?://", html)  # works offline
    assert "NEC_FIRST_LINE_PLATINUM_ETOPOSIDE" in html and "tx-csco-s7-nec" in html
    table = pl.read_csv(tmp_path / "audit.csv")
    overall = table.filter(pl.col("dimension") == "overall")
    assert overall.height == 8
    assert set(table["dimension"]) == {"overall", "site", "grade", "year"}
    nec = overall.filter(pl.col("indicator") == "NEC_FIRST_LINE_PLATINUM_ETOPOSIDE").row(
        0, named=True
    )
    assert nec["eligible"] == nec["concordant"] + nec["not_concordant"] + nec["not_recorded"] > 0
    assert nec["ci_low"] < nec["rate"] < nec["ci_high"]
    # per-year rows add up to the overall row
    years = table.filter(
        (pl.col("indicator") == "NEC_FIRST_LINE_PLATINUM_ETOPOSIDE")
        & (pl.col("dimension") == "year")
    )
    assert years["eligible"].sum() == nec["eligible"]


@pytest.mark.parametrize("n", ["0", "5"])
def test_synth_writes_a_file(tmp_path: Path, n: str) -> None:
    out = tmp_path / "s.jsonl"
    assert run("synth", n, "--out", str(out)).returncode == 0
    assert len(out.read_text().splitlines()) == int(n)


def test_progress_bar_is_shown_when_asked(tmp_path: Path) -> None:
    import os

    src = tmp_path / "in.jsonl"
    src.write_text(run("synth", "30", "--seed", "5").stdout)
    proc = subprocess.run(
        [*NENGUIDE, "batch", str(src), str(tmp_path / "o.csv"), "--as-of", AS_OF],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NENGUIDE_PROGRESS": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Assessing" in proc.stderr and "30/30" in proc.stderr


def test_an_input_whose_every_case_the_engine_fails_on_is_rejected_row_by_row(
    tmp_path: Path,
) -> None:
    """A resection date of 9999-12-31 (a placeholder for "unknown" in some records): the
    engine cannot date the follow-up visits from it. Every case of the input is such a case:
    each is a rejected row and the batch ends normally (found by review: the output table's
    frame path once stopped with a traceback on such a part)."""
    cases = [json.loads(line) for line in run("synth", "40", "--seed", "69").stdout.splitlines()]
    dated = []
    for c in cases:
        clinical = {**c.get("clinical", {})}
        clinical["resection"] = {"performed": True, "margin": "R0", "date": "9999-12-31"}
        dated.append(json.dumps({**c, "clinical": clinical}))
    first = tmp_path / "first.parquet"
    assert run("batch", "-", str(first), "--as-of", AS_OF, stdin="\n".join(dated)).returncode == 0
    failing = {int(r["row"]) for r in csv.DictReader((tmp_path / "first.rejected.csv").open())}
    assert len(failing) >= 5
    text = "\n".join(line for i, line in enumerate(dated, 1) if i in failing) + "\n"
    out = tmp_path / "o.parquet"
    p = run("batch", "-", str(out), "--as-of", AS_OF, stdin=text)
    assert p.returncode == 0, p.stderr
    assert pl.read_parquet(out).height == 0
    rejected = list(csv.DictReader((tmp_path / "o.rejected.csv").open()))
    assert [r["stage"] for r in rejected] == ["assessment"] * len(failing)


def test_table_numbers_are_read_as_numbers(tmp_path: Path) -> None:
    """The model takes numbers only as numbers (session 24): a table's integer column with gaps
    (float64, as pandas stores it) and a CSV's text cells are read as numbers first
    (``mapping.typed_numbers``), so such tables are assessed as before; a fraction in a
    whole-number field is still refused, naming it."""
    frame = pl.DataFrame(
        {
            "tumour.primary_site": ["rectum", "rectum", "rectum"],
            "tumour.size_cm": [0.8, 0.8, 0.8],
            "patient.ecog": [1.0, None, 1.5],
            "pathology.ki67_percent": [2.0, 2.5, 2.0],
        }
    )
    src = tmp_path / "t.parquet"
    frame.write_parquet(src)
    out = tmp_path / "o.csv"
    p = run("batch", str(src), str(out), "--as-of", AS_OF)
    assert p.returncode == 0, p.stderr
    assert "3 rows read, 2 assessed, 1 rejected" in p.stderr
    rejected = list(csv.DictReader((tmp_path / "o.rejected.csv").open()))
    assert [(r["row"], r["field"]) for r in rejected] == [("3", "patient.ecog")]
    from nenguide.batch.mapping import typed_numbers

    assert typed_numbers(
        {"patient": {"ecog": "1", "age_years": 60.0}, "pathology": {"ki67_percent": " 2.5 "}}
    ) == {"patient": {"ecog": 1, "age_years": 60}, "pathology": {"ki67_percent": 2.5}}
    assert typed_numbers({"tumour": {"primary_site": "12", "size_cm": "1 cm"}}) == {
        "tumour": {"primary_site": "12", "size_cm": "1 cm"}
    }
