"""Follow-up in the batch (:class:`nenguide.batch.columnar.followup.FollowUpProgram`) against
the engine's own step, case by case.

The program runs the engine's follow-up decision once per distinct set of answers of the
step's tables (or, where a compiled function cannot read an input or the schedule is open on
the risk group alone, once per distinct view of the case: numbers as their band between the
step's tables' cut-offs) and dates the visits with the engine's own function once per schedule
chosen and anchor. These tests check that each case gets what the
engine's step gives on that case (status, lifelong, rule, schedule text, every visit's date
and exams, sources, issue codes and kinds, unconfirmed content), on the golden vignettes
(each at its own date) and on generated cases, some given resection dates near month ends;
that decisions and datings are shared; and that the bands are the tables' own (a number on a
cut-off, just below and just above it).
"""

from __future__ import annotations

import datetime as dt
import random
from operator import itemgetter
from pathlib import Path
from typing import Any

import pytest
from stepcheck import step_diffs

from nenguide.batch.columnar.followup import FollowUpProgram
from nenguide.batch.columnar.plan import cut_offs
from nenguide.batch.synth import generate
from nenguide.engine.kb import Knowledge
from nenguide.errors import CaseInputError, parse_case
from nenguide.model.case import Case

AS_OF = dt.date(2026, 11, 23)
VIGNETTES = Path(__file__).parent.parent / "vignettes"
_RULE_IDS = itemgetter("rule_ids")


def _resected(n: int, seed: int) -> list[tuple[Case, dt.date]]:
    """Generated cases resected R0 on random dates (month ends among them)."""
    rng = random.Random(seed)
    out = []
    for s in generate(n, seed=seed):
        d: dict[str, Any] = dict(s.case)
        clin = dict(d.get("clinical") or {})
        day = rng.choice([1, 15, 28, 29, 30, 31])
        year, month = rng.choice([2019, 2020, 2024, 2025, 2026]), rng.randint(1, 12)
        try:
            date = dt.date(year, month, day)
        except ValueError:
            date = dt.date(year, month, 28)
        if date >= AS_OF:
            date = dt.date(2025, month, 28)
        clin["resection"] = {"performed": True, "date": date.isoformat(), "margin": "R0"}
        d["clinical"] = clin
        try:
            out.append((parse_case(d), AS_OF))
        except CaseInputError:
            continue
    return out


def _answer(parts: Any) -> Any:
    """The whole follow-up answer: each visit's date and exams, the schedule's text with its
    window, the sources."""
    fu = parts[7]
    return None if fu is None else (
        fu["status"], fu["lifelong"], fu["rule_id"], fu["schedule"],
        [(v["due"], list(v["exams"])) for v in fu["visits"]], list(fu["sources"]),
    )  # fmt: skip


def _compare(prog: FollowUpProgram, cases: list[tuple[Case, dt.date]]) -> list[str]:
    return step_diffs(prog.kb, prog, "followup_step", _answer, cases)


@pytest.fixture()
def prog(kb: Knowledge) -> FollowUpProgram:
    return FollowUpProgram(kb, "en")


@pytest.mark.parametrize("source", ["vignettes", "cohort", "resected"])
def test_every_case_gets_the_engines_answer_on_that_case(
    prog: FollowUpProgram, source: str, vignette_cases: list[tuple[Case, dt.date]]
) -> None:
    cases = {
        "vignettes": lambda: vignette_cases,
        "cohort": lambda: [(parse_case(s.case), AS_OF) for s in generate(2000, seed=41)],
        "resected": lambda: _resected(1500, seed=42),
    }[source]()
    assert len(cases) > 300
    diffs = _compare(prog, cases)
    assert not diffs, diffs[:3]
    if source != "vignettes":  # decisions shared between cases
        assert len(prog._seen) < len(cases) * 0.7
    if source == "cohort":  # cases without a resection date (or on one date) share a dating
        assert len(prog._dates) < len(cases) * 0.6
        # decisions keyed by the tables' answers: 320 here, where the views (the tables'
        # inputs, numbers banded) are 1 168
        assert len(prog._seen) < len(prog._by_view) * 0.5


def test_numbers_count_through_the_tables_answers(prog: FollowUpProgram) -> None:
    """Generated cases given every size on, just below and just above each cut-off the
    follow-up tables compare the size with: each gets the engine's own decision, though the
    program decides once per set of its tables' answers, not per size."""
    cuts = cut_offs(prog.tables)["size_cm"]
    assert cuts, "the follow-up tables compare the size"
    sizes = sorted({round(x, 2) for c in cuts for x in (c - 0.01, c, c + 0.01) if x > 0})
    cases = []
    for i, s in enumerate(generate(300, seed=43)):
        raw: dict[str, Any] = dict(s.case)
        raw["tumour"] = {**raw["tumour"], "size_cm": sizes[i % len(sizes)]}
        raw["tumour"].pop("size", None)
        try:
            cases.append((parse_case(raw), AS_OF))
        except CaseInputError:  # a size the site does not allow with its extent
            continue
    assert len(cases) > 200
    assert not _compare(prog, cases)
    assert len(prog._seen) < len(cases) / 2
