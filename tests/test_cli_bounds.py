"""Hostile case files on the command line (issue 10, defect 9): a YAML alias bomb, deep
nesting, an oversize file, a huge value and ``--as-of 9999-12-31`` each end in a short, clear
error (exit 2) before the document is expanded, never a traceback or megabytes of output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nenguide import bounded_yaml, limits
from nenguide.errors import CaseInputError, parse_case_text

LOL = '["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
BOMB = (
    "a: &a "
    + LOL
    + "\n"
    + "".join(
        f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nenguide", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (BOMB, "aliases are expanded"),
        ("x: &x [1]\n" + "".join(f"k{n}: *x\n" for n in range(150)), "more than 100 YAML aliases"),
        ("[" * 10_000 + "]" * 10_000, "deeper than 64"),
        ('{"a":' * 10_000 + "1" + "}" * 10_000, "nested too deeply"),
        ("tumour: {primary_site: rectum}\n# " + "x" * (limits.MAX_CASE_BYTES + 1), "KiB"),
    ],
    ids=["alias-bomb", "many-aliases", "deep-yaml", "deep-json", "oversize"],
)
def test_hostile_case_text_is_refused_quickly(text: str, why: str) -> None:
    with pytest.raises(CaseInputError, match="too complex") as err:
        parse_case_text(text, "case.yaml")
    assert why in err.value.summary


def test_bounded_loader_reads_ordinary_yaml_with_aliases() -> None:
    doc = bounded_yaml.load("base: &b {size_cm: 1.2}\nother: *b\nlist: [1, 2, {a: b}]\n")
    assert doc["other"] == {"size_cm": 1.2} and doc["list"][2] == {"a": "b"}


def test_alias_bomb_through_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB, encoding="utf-8")
    assert len(BOMB) < 400
    r = _cli("assess", str(path))
    assert r.returncode == 2, r.stderr
    assert "too complex" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr) < 2000


def test_huge_value_is_echoed_cut(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("tumour:\n  primary_site: " + "x" * 500_000 + "\n", encoding="utf-8")
    r = _cli("assess", str(path))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "…" in r.stderr and len(r.stderr) < 5000


def test_as_of_out_of_range_is_a_clear_error() -> None:
    r = _cli("demo", "pnet-g2-liver", "--as-of", "9999-12-31")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "2199-12-31" in r.stderr


def test_unreadable_files_and_folders_are_clear_errors(tmp_path: Path) -> None:
    """Each of these ended in a Python traceback (a probe, session 24)."""
    raw = tmp_path / "bundle.json"
    raw.write_bytes(b"\xff\xfe{")
    r = _cli("import-fhir", str(raw))
    assert r.returncode == 2 and "not UTF-8" in r.stderr and "Traceback" not in r.stderr
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    r = _cli("import-fhir", str(deep))
    assert r.returncode == 2 and "nested" in r.stderr and "Traceback" not in r.stderr
    case = tmp_path / "case.yaml"
    case.write_text("tumour: {primary_site: rectum, size_cm: 0.8}\n")
    for out in (tmp_path / "no" / "such" / "r.html", tmp_path):
        r = _cli("report", str(case), "--format", "html", "--out", str(out))
        assert r.returncode == 2 and "Cannot write" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
    r = _cli("report", str(case), "--format", "html", "--out", str(tmp_path / "r.html"))
    assert r.returncode == 0 and (tmp_path / "r.html").read_text().startswith("<!")
