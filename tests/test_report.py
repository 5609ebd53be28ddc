"""The text report: every section renders, in both languages, with stable output (snapshots).

Snapshots live in tests/snapshots/; after an intended change, regenerate them with
``UPDATE_SNAPSHOTS=1 pytest tests/test_report.py`` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from nenguide import assess, load_knowledge
from nenguide.cli import demo_cases
from nenguide.engine.kb import Knowledge
from nenguide.errors import load_case_file
from nenguide.model.assessment import Assessment
from nenguide.report.text import render_text

SNAPSHOTS = Path(__file__).parent / "snapshots"
AS_OF = dt.date(2026, 11, 23)


def render(a: Assessment, kb: Knowledge) -> str:
    console = Console(
        file=io.StringIO(), width=100, record=True, color_system=None, force_terminal=False
    )
    render_text(a, kb.catalog, console)
    return console.export_text()


def test_every_pathway_section_renders(kb: Knowledge) -> None:
    case = load_case_file(demo_cases()["pnet-g2-liver"])
    base = assess(case, kb, as_of=AS_OF).model_dump()
    base.update(
        functional_syndromes=[
            {
                "syndrome": "insulinoma", "status": "suspected", "criteria_met": ["whipple"],
                "criteria_unmet": ["fast"], "next_tests": ["supervised_fast"],
                "caveats": ["on_ppi"], "rule_ids": ["R.1"],
            }
        ],
        workup=[{"code": "WU.X", "text": "SSTR PET/CT", "reason": "staging", "sources": ["s"],
                 "rule_id": "R.2"}],
        treatment=[
            {
                "code": "TX.SURUFATINIB", "text": "Surufatinib", "category": "targeted",
                "intent": "disease_control", "level": None, "level_status": "unconfirmed",
                "evidence": None, "available": False, "alternative": "TX.SUNITINIB",
                "sources": ["sanet-p"], "rule_id": "R.3", "because": ["pancreatic NET G2"],
                "caveats": ["ECOG 0-1 in trials"],
            }
        ],
        mdt_discussion={"required": True, "reasons": ["metastatic local treatment"]},
        follow_up={"status": "DETERMINED", "lifelong": True, "visits": [
            {"due": dt.date(2027, 2, 23), "exams": ["ct"]}], "schedule": "every 3 months",
            "rule_id": "R.4", "sources": ["esmo"]},
        hereditary={"status": "DETERMINED", "testing_recommended": True, "syndromes": ["MEN1"],
                    "genes": ["MEN1"], "because": ["age 35"], "surveillance": [],
                    "rule_ids": ["R.5"]},
    )  # fmt: skip
    a = Assessment.model_validate(base)
    for lang, words in (
        ("en", ["Functional syndromes", "level not confirmed", "not available", "MDT discussion "
                "required", "Lifelong follow-up", "2027-02-23", "Genetic counselling"]),
        ("zh-CN", ["功能性综合征", "推荐级别未确认", "本院不可及", "需要MDT讨论", "终身随访",
                   "建议遗传咨询"]),
    ):  # fmt: skip
        text = render(a.model_copy(update={"language": lang}), kb)
        for w in words:
            assert w in " ".join(text.split()), (lang, w)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize("name", sorted(demo_cases()))
def test_demo_report_snapshot(name: str, lang: str) -> None:
    kb = load_knowledge()
    a = assess(load_case_file(demo_cases()[name]), kb, as_of=AS_OF, lang=lang)
    text = render(a, kb)
    snap = SNAPSHOTS / f"{name}.{lang}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") or not snap.exists():
        snap.parent.mkdir(exist_ok=True)
        snap.write_text(text, encoding="utf-8")
    assert text == snap.read_text(encoding="utf-8"), f"report changed: {snap}"
