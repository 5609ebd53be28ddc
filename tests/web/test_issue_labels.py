"""Issue messages read as text in the chosen language: no internal fact or field name, no
dotted case path, no option code, no untranslated choice code (issue 9).

Every vignette is assessed in English and Simplified Chinese; the engine's messages and the
messages the pages, the text report and the PDF show (``Texts.issue_message``) are scanned."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from nenguide.engine.assess import assess
from nenguide.engine.kb import Knowledge
from nenguide.errors import parse_case
from nenguide.report.texts import Texts

VIGNETTES = sorted((Path(__file__).parents[1] / "vignettes").glob("*.yaml"))
AS_OF = dt.date(2026, 11, 23)
#: a snake_case name (a fact, a field, a choice code), not part of a rule id
SNAKE = re.compile(r"(?<![A-Za-z0-9_.\-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_\-])")
#: a case field written as its dotted path
PATH = re.compile(
    r"(?<![A-Za-z0-9_.])(patient|tumour|pathology|regional_nodes|metastases|clinical|"
    r"functional_syndromes|staging_basis)\.[a-z_]+"
)
#: a lower-case Latin word inside Chinese text: only units may be Latin there
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9_\-/.])[a-z]{3,}(?![A-Za-z0-9_\-])")
UNITS = {"mmol", "pmol", "nmol", "min"}


@cache
def _cases() -> list[tuple[str, Any]]:
    out = []
    for p in VIGNETTES:
        v = yaml.safe_load(p.read_text(encoding="utf-8"))
        out.append((p.name, parse_case(v["case"])))
    return out


def _option_codes(kb: Knowledge) -> set[str]:
    return {str(o["code"]) for o in (kb.documents.get("options.yaml") or {}).get("options", [])}


def _raw_names(text: str, lang: str, options: set[str]) -> list[str]:
    bad = SNAKE.findall(text) + [m.group(0) for m in PATH.finditer(text)]
    bad += [w for w in re.findall(r"\b[A-Z][A-Z0-9_]+\b", text) if w in options and "_" in w]
    if lang == "zh-CN":
        bad += [w for w in LATIN_WORD.findall(text) if w not in UNITS]
    return bad


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_issue_messages_name_no_internal_names(kb: Knowledge, lang: str) -> None:
    assert len(_cases()) >= 250
    tx = Texts(lang, kb.catalog)
    options = _option_codes(kb)
    engine_bad: dict[tuple[str, str], list[str]] = {}
    shown_bad: dict[tuple[str, str], list[str]] = {}
    n = 0
    for name, case in _cases():
        a = assess(case, kb, lang=lang, as_of=AS_OF)
        for i in a.issues:
            n += 1
            # the engine's own message: no fact name, field path or option code
            raw = [x for x in SNAKE.findall(i["message"]) + PATH.findall(i["message"]) if x]
            if raw:
                engine_bad.setdefault((name, i["code"]), raw)
            # what pages and reports show: also no choice code left untranslated
            shown = tx.issue_message(i)
            bad = _raw_names(shown, lang, options)
            if bad:
                shown_bad.setdefault((name, i["code"]), bad)
    assert n > 1000
    assert engine_bad == {}
    assert shown_bad == {}


def test_issue_message_labels_choice_codes(kb: Knowledge) -> None:
    """A code in an issue's details reads as its text; the stored message is the fallback."""
    zh = Texts("zh-CN", kb.catalog)
    issue = {
        "code": "SYNDROME_NEEDS_DATA",
        "message": "stored",
        "details": {"syndrome": "insulinoma", "missing": ["glucose_mg_dl", "c_peptide_ng_ml"]},
    }
    expected = "功能性综合征胰岛素瘤：需要更多数据（血浆葡萄糖（mg/dL）、C肽（ng/mL））"
    assert zh.issue_message(issue) == expected
    en = Texts("en", kb.catalog)
    assert en.issue_message({**issue, "details": {"syndrome": "insulinoma"}}) == "stored"
    assert en.issue_message({"code": "NO_SUCH_CODE", "message": "kept"}) == "kept"
    site = {"code": "TX_NO_SITE_RULE", "message": "", "details": {"site": "thymus"}}
    assert "胸腺" in zh.issue_message(site) and "thymus" not in zh.issue_message(site)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_reports_show_no_internal_names(kb: Knowledge, lang: str) -> None:
    """The demo cases' text report (CLI) and HTML/PDF report: issues, treatment, hereditary
    advice and the rule trace name no fact or field by its internal name; in Chinese no choice
    code is left in English ("原发部位=stomach" was the text report's trace)."""
    import html as html_lib

    import yaml as yaml_lib
    from rich.console import Console

    from nenguide.cli import demo_cases
    from nenguide.report.html import assessment_html
    from nenguide.report.text import Report

    options = _option_codes(kb)
    bad: dict[str, list[str]] = {}
    for name, path in demo_cases().items():
        case = parse_case(yaml_lib.safe_load(path.read_text(encoding="utf-8")))
        a = assess(case, kb, lang=lang, as_of=AS_OF)
        console = Console(record=True, width=100, color_system=None)
        console.print(Report(a, kb.catalog).render())
        text = console.export_text()
        page = assessment_html(a.model_dump(mode="json"), kb, lang=lang)
        body = page[page.index("<body") :]
        body = re.sub(r"<(code|style|script)[^>]*>.*?</\1>", " ", body, flags=re.S)
        body = html_lib.unescape(re.sub(r"<[^>]+>", " ", body))
        for where, shown in (("text", text), ("html", body)):
            found = _raw_names(shown, lang, options)
            found = [w for w in found if w != "nenguide"]
            if found:
                bad[f"{name} {where}"] = sorted(set(found))
    assert bad == {}
