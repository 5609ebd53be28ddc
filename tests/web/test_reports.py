"""Printable reports (HTML and PDF, en and zh-CN) and the text report's layout fixes."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from rich.console import Console

from nenguide import assess, load_knowledge
from nenguide.cli import demo_cases
from nenguide.engine.kb import Knowledge
from nenguide.errors import load_case_file
from nenguide.report.html import assessment_html, minutes_html
from nenguide.report.pdf import html_to_pdf
from nenguide.report.svg import describe_runs, group_visits
from nenguide.report.text import render_text

AS_OF = dt.date(2026, 12, 4)
PATIENT = {
    "name": "王芳 <b>Wang</b>",
    "mrn": "MRN-0012",
    "birth_date": "1968-03-12",
    "sex": "female",
}


@pytest.fixture(scope="module")
def kb() -> Knowledge:
    return load_knowledge("csco-2021")


def _assessment(kb: Knowledge, name: str, lang: str) -> dict:
    case = load_case_file(demo_cases()[name])
    return assess(case, kb, as_of=AS_OF, lang=lang).model_dump(mode="json")


def _pdf_text(blob: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(blob))
    return "\n".join(p.extract_text() for p in reader.pages), len(reader.pages)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            [
                "Assessment report",
                "Classification and grade",
                "Stage IV",
                "type II (complex)",
                "Past valid date 31-Oct-2023",
                "engine 0.1.0",
                "MRN-0012",
                "12-Mar-1968",
                "It does not replace the MDT",
            ],
        ),
        (
            "zh-CN",
            [
                "评估报告",
                "分类与分级",
                "神经内分泌瘤",
                "IV期",
                "II型（复杂型）",
                "指南已超期",
                "设定适用期至2023-10-31",
                "引擎 0.1.0",
                "病历号 MRN-0012",
                "不能替代MDT的判断",
            ],
        ),
    ],
)
def test_pdf_text_layer_holds_the_report(kb: Knowledge, lang: str, expected: list[str]) -> None:
    a = _assessment(kb, "pnet-g2-liver", lang)
    html = assessment_html(
        a,
        kb,
        lang=lang,
        patient=PATIENT,
        case_version=2,
        assessment_id="0123456789abcdef",
        today=AS_OF,
    )
    text, pages = _pdf_text(html_to_pdf(html))
    flat = re.sub(r"\s+", " ", text)
    for s in expected:
        assert s in flat, s
    assert "王芳 <b>Wang</b>" in flat  # a name with markup is printed as text
    assert 2 <= pages <= 12
    # the patient and the stamp head every page (running header)
    assert text.count("MRN-0012") >= pages


def test_html_report_escapes_and_carries_no_script(kb: Knowledge) -> None:
    a = _assessment(kb, "insulinoma", "en")
    patient = {**PATIENT, "name": "<script>alert(1)</script>"}
    html = assessment_html(a, kb, lang="en", patient=patient, today=AS_OF)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # the CSS running header writes the name as a CSS string with escapes
    assert '"\\3c script\\3e alert\\28 1\\29 ' not in html or "</style>" in html


def test_identifiers_chosen_by_the_site(kb: Knowledge) -> None:
    a = _assessment(kb, "rectal-net-g1-small", "en")
    html = assessment_html(a, kb, lang="en", patient=PATIENT, identifiers=("mrn",), today=AS_OF)
    assert "MRN-0012" in html and "Wang" not in html and "1968" not in html


def test_minutes_pdf_in_chinese(kb: Knowledge) -> None:
    meeting = {
        "title": "NEN MDT",
        "scheduled_at": "2026-12-09T14:00:00+00:00",
        "location": "3楼会议室",
        "attendees": [],
    }
    items = [
        {
            "patient": PATIENT,
            "question": "肝转移是否切除？",
            "summary": "神经内分泌瘤 G2 · IV期",
            "stamp": "",
            "plan": ["肝切除联合消融"],
            "decision": {
                "plan_codes": ["X"],
                "plan_text": "先全身治疗",
                "follows_guideline": False,
                "departure_reason": "patient_preference",
                "departure_comment": "患者意愿",
                "recorded_by": "dr-li",
                "decided_at": "2026-12-09T14:20:00+00:00",
            },
        }
    ]
    text, pages = _pdf_text(
        html_to_pdf(minutes_html(meeting, items, kb, lang="zh-CN", today=AS_OF))
    )
    flat = re.sub(r"\s+", " ", text)
    for s in (
        "MDT会议纪要",
        "2026年12月9日 星期三",
        "肝转移是否切除？",
        "偏离指南理由",
        "患者意愿",
        "记录人：dr-li",
    ):
        assert s in flat, s
    assert pages == 1


def test_cli_report_writes_pdf_and_html(tmp_path: Path) -> None:
    case = demo_cases()["men1-young-multifocal-pnet"]
    for fmt in ("pdf", "html"):
        out = tmp_path / f"r.{fmt}"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "nenguide",
                "report",
                str(case),
                "--format",
                fmt,
                "--lang",
                "zh-CN",
                "--as-of",
                "2026-12-04",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        if fmt == "pdf":
            assert "评估报告" in _pdf_text(out.read_bytes())[0]
        else:
            assert '<html lang="zh-CN">' in out.read_text("utf-8")


def _text_report(kb: Knowledge, name: str, lang: str, width: int) -> str:
    case = load_case_file(demo_cases()[name])
    a = assess(case, kb, as_of=AS_OF, lang=lang)
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    render_text(a, kb.catalog, console)
    return console.export_text()


@pytest.mark.parametrize("name", sorted(demo_cases()))
def test_text_report_never_cuts_chinese_lines(kb: Knowledge, name: str) -> None:
    text = _text_report(kb, name, "zh-CN", 80)
    assert "…" not in text
    assert "使用前请核查是否有更新版本" in re.sub(r"\s+", "", text)
    assert not re.search(r"\(\+\d+\)", text)  # no unexplained "(+N)" marks


def test_follow_up_visits_are_grouped() -> None:
    visits = [
        {"due": d, "exams": ["ct"]}
        for d in (
            "2027-01-01",
            "2027-04-01",
            "2027-07-01",
            "2027-10-01",
            "2028-04-01",
            "2028-10-01",
        )
    ]
    runs = group_visits(visits)
    assert [(r.months, r.count) for r in runs] == [(3, 4), (6, 2)]
    assert describe_runs(runs, "en") == [
        "every 3 months, 4 visits (2027-01-01 to 2027-10-01)",
        "every 6 months, 2 visits (2028-04-01 to 2028-10-01)",
    ]
    assert describe_runs(runs, "zh-CN")[1] == "每6个月一次，共2次（2028-04-01至2028-10-01）"


def test_help_does_not_break_mid_sentence() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nenguide", "assess", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"COLUMNS": "400", "PATH": ""},
    )
    lines = [ln.strip() for ln in done.stdout.splitlines() if ln.strip()]
    # with room enough, each paragraph of the docstring is one line
    assert any(ln.startswith("Assess one case:") and ln.endswith("behind it.") for ln in lines)


def test_conditional_options_are_marked(kb: Knowledge) -> None:
    """An option with ``status: conditional`` (contract extension) is tagged with its
    condition; the others are not."""
    a = _assessment(kb, "pnet-g2-liver", "en")
    a["treatment"][0] = {
        **a["treatment"][0],
        "status": "conditional",
        "conditional_on": "liver resectability confirmed by surgery",
    }
    html = assessment_html(a, kb, lang="en", today=AS_OF)
    assert html.count('class="conditional"') == 1
    assert "Conditional: If: liver resectability confirmed by surgery" in html
