"""Follow-up schedule (issue 3 item 5): the lifelong exemption exactly, schedule choice, concrete
dates (month ends, leap years), missing data named."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nenguide import assess
from nenguide.engine.classify import classify
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts, pathway_facts
from nenguide.engine.followup import (
    Phase,
    Schedule,
    add_months,
    follow_up,
    plan_visits,
    schedule_parameters,
)
from nenguide.engine.kb import Knowledge
from nenguide.engine.stage import stage
from nenguide.errors import parse_case
from nenguide.model.assessment import FollowUp, FunctionalSyndrome, Status

AS_OF = dt.date(2026, 11, 23)
EXEMPT = "CSCO2021.FOLLOWUP.EXEMPT.APPENDIX_RECTUM_G1_SUB1CM_R0"


def _case(
    site: str = "rectum",
    size: float | None = 0.8,
    ki67: float | None = 1.0,
    margin: str | None = "R0",
    nodes: str | None = "not_assessed",
    mets: str | None = "none",
    resection_date: str | None = "2026-09-20",
    **clinical: Any,
) -> dict[str, Any]:
    tumour: dict[str, Any] = {"primary_site": site}
    if size is not None:
        tumour["size_cm"] = size
    path: dict[str, Any] = {"differentiation": "well", "mitoses_per_2mm2": 0}
    if ki67 is not None:
        path["ki67_percent"] = ki67
    c: dict[str, Any] = {"tumour": tumour, "pathology": path}
    if nodes is not None:
        c["regional_nodes"] = {"status": nodes}
    if mets is not None:
        c["metastases"] = {"status": mets}
    cl: dict[str, Any] = dict(clinical)
    if margin is not None:
        res: dict[str, Any] = {"performed": margin != "none"}
        if margin != "none":
            res["margin"] = margin
            if resection_date:
                res["date"] = resection_date
        cl["resection"] = res
    if cl:
        c["clinical"] = cl
    return c


def _fu(
    kb: Knowledge,
    raw: dict[str, Any],
    as_of: dt.date = AS_OF,
    syndromes: list[FunctionalSyndrome] | None = None,
) -> tuple[FollowUp, Context]:
    case = parse_case(raw)
    ctx = Context(kb, "en")
    facts = case_facts(ctx, case)
    cls = classify(ctx, facts, case)
    stg = stage(ctx, facts, case, cls)
    facts = pathway_facts(ctx, facts, cls, syndromes or [])
    fu = follow_up(ctx, case, facts, cls, stg, as_of, syndromes)
    assert fu is not None
    return fu, ctx


def _issue_fields(ctx: Context) -> list[str]:
    return [f for i in ctx.issues if i["code"] == "FOLLOWUP_NEEDS_DATA" for f in i["fields"]]


# --- date arithmetic --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2025-01-31", 1, "2025-02-28"),
        ("2024-01-31", 1, "2024-02-29"),  # leap year
        ("2024-02-29", 12, "2025-02-28"),
        ("2024-02-29", 48, "2028-02-29"),
        ("2025-08-31", 1, "2025-09-30"),
        ("2025-12-15", 1, "2026-01-15"),
        ("2025-11-30", 3, "2026-02-28"),
        ("2025-03-31", 0, "2025-03-31"),
        ("2023-05-31", 60, "2028-05-31"),
    ],
)
def test_add_months(start: str, months: int, expected: str) -> None:
    assert add_months(dt.date.fromisoformat(start), months) == dt.date.fromisoformat(expected)


_dates = st.dates(dt.date(1890, 1, 1), dt.date(2110, 12, 31))


@settings(max_examples=400, deadline=None)
@given(_dates, st.integers(min_value=0, max_value=600))
@example(dt.date(2099, 12, 31), 2)  # February 2100: not a leap year (divisible by 100)
@example(dt.date(2000, 1, 30), 1)  # February 2000: a leap year (divisible by 400)
def test_add_months_is_the_calendar_month_clamped(d: dt.date, months: int) -> None:
    y, m0 = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m0 + 1
    last = calendar.monthrange(year, month)[1]
    assert add_months(d, months) == dt.date(year, month, min(d.day, last))


def _visits_by_definition(
    sched: Schedule, anchor: dt.date, as_of: dt.date, horizon: int
) -> list[tuple[int, dt.date, Phase]]:
    """Every visit date worked out from the anchor, those from as_of to the horizon kept."""
    end = add_months(as_of, horizon)
    out, month = [], 0
    for ph in sched.phases:
        while ph.to_month is None or month + ph.every_months <= ph.to_month:
            month += ph.every_months
            due = add_months(anchor, month)
            if due > end:
                return out
            if due >= as_of:
                out.append((month, due, ph))
    return out


@settings(max_examples=300, deadline=None)
@given(
    _dates,
    st.integers(min_value=-30, max_value=400),
    st.integers(min_value=1, max_value=120),
    st.lists(st.tuples(st.integers(1, 24), st.integers(1, 60)), min_size=1, max_size=3),
)
def test_plan_visits_skips_the_past_without_changing_a_visit(
    anchor: dt.date, days_later: int, horizon: int, phases: list[tuple[int, int]]
) -> None:
    month, built = 0, []
    for every, span in phases[:-1]:
        month += span
        built.append(Phase(to_month=month, every_months=every, range="x", status="confirmed"))
    built.append(Phase(every_months=phases[-1][0], range="x", status="confirmed"))
    sched = Schedule(phases=built, exams=["clinical_review"])
    as_of = anchor + dt.timedelta(days=days_later * 9)  # up to ten years on (or a little before)
    assert plan_visits(sched, anchor, as_of, horizon) == _visits_by_definition(
        sched, anchor, as_of, horizon
    )


def test_month_end_clamping_does_not_drift() -> None:
    sched = Schedule(
        phases=[Phase(every_months=1, range="1", status="confirmed")], exams=["clinical_review"]
    )
    anchor = dt.date(2024, 1, 31)
    dues = [d for _, d, _ in plan_visits(sched, anchor, anchor, 4)]
    assert dues == [dt.date(2024, 2, 29), dt.date(2024, 3, 31), dt.date(2024, 4, 30),
                    dt.date(2024, 5, 31)]  # fmt: skip


def test_phases_and_window() -> None:
    sched = Schedule(
        phases=[
            Phase(to_month=24, every_months=6, range="6-12", status="confirmed"),
            Phase(to_month=60, every_months=12, range="12", status="confirmed"),
            Phase(every_months=12, range="12-24", status="confirmed"),
        ],
        exams=["clinical_review"],
    )
    anchor = dt.date(2020, 2, 29)
    months = [m for m, _, _ in plan_visits(sched, anchor, anchor, 60)]
    assert months == [6, 12, 18, 24, 36, 48, 60]
    # three years after the resection: only visits from as_of on, for the next 5 years
    later = [(m, d) for m, d, _ in plan_visits(sched, anchor, dt.date(2023, 3, 1), 60)]
    assert later[0] == (48, dt.date(2024, 2, 29))
    assert [m for m, _ in later] == [48, 60, 72, 84, 96]
    assert later[-1][1] == dt.date(2028, 2, 29)  # within 2023-03-01 + 5 years


# --- the exemption, exactly -------------------------------------------------------------------


@pytest.mark.parametrize("site", ["appendix", "rectum"])
@pytest.mark.parametrize("size", [0.5, 0.99])
def test_exempt_appendix_rectum_g1_below_1cm_r0(kb: Knowledge, site: str, size: float) -> None:
    fu, _ = _fu(kb, _case(site=site, size=size))
    assert fu["lifelong"] is False
    assert fu["visits"] == []
    assert fu["rule_id"] == EXEMPT
    assert fu["status"] == Status.RECOMMENDED
    assert "csco-nen-2021-summary" in fu["sources"]


@pytest.mark.parametrize(
    "change",
    [
        {"size": 1.0},
        {"margin": "R1"},
        {"ki67": 4.0},  # G2
        {"site": "colon"},
        {"nodes": "positive"},
        {"mets": "present"},
    ],
    ids=["1.0cm", "R1", "G2", "colon", "N+", "M1"],
)
def test_not_exempt(kb: Knowledge, change: dict[str, Any]) -> None:
    raw = _case(**change)
    if change.get("mets") == "present":
        raw["metastases"]["liver"] = {"lesion_count": 1}
    fu, _ = _fu(kb, raw)
    assert fu["lifelong"] is True
    assert fu["rule_id"] != EXEMPT
    assert fu["visits"]


def test_exemption_needs_the_margin(kb: Knowledge) -> None:
    fu, ctx = _fu(kb, _case(margin=None))
    assert fu["status"] == Status.INSUFFICIENT_DATA
    assert fu["lifelong"] is None and fu["visits"] == []
    assert "clinical.resection.margin" in _issue_fields(ctx)


def test_exemption_needs_metastasis_status(kb: Knowledge) -> None:
    fu, ctx = _fu(kb, _case(mets=None))
    assert fu["status"] == Status.INSUFFICIENT_DATA
    assert "metastases.status" in _issue_fields(ctx)


# --- schedule choice and dates ----------------------------------------------------------------


def test_low_risk_dates_from_resection(kb: Knowledge) -> None:
    raw = _case(site="ileum", size=1.5, nodes="negative", resection_date="2026-08-31")
    fu, _ = _fu(kb, raw)
    assert fu["rule_id"] == "CSCO2021.FOLLOWUP.SCHEDULE.NET_LOW_RISK"
    dues = [v["due"] for v in fu["visits"]]
    assert dues[:5] == [dt.date(2027, 2, 28), dt.date(2027, 8, 31), dt.date(2028, 2, 29),
                        dt.date(2028, 8, 31), dt.date(2029, 8, 31)]  # fmt: skip
    assert dues[-1] <= add_months(AS_OF, 60)
    assert "clinical_review" in fu["visits"][0]["exams"]
    assert "2026-08-31" in (fu["schedule"] or "") and "5 years" in (fu["schedule"] or "")


def test_dates_from_as_of_without_resection_date(kb: Knowledge) -> None:
    raw = _case(site="ileum", size=1.5, nodes="negative", resection_date=None)
    fu, _ = _fu(kb, raw)
    assert fu["visits"][0]["due"] == add_months(AS_OF, 6)


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"site": "ileum", "nodes": "positive"}, "NET_HIGH_RISK"),
        ({"site": "ileum", "nodes": "negative", "ki67": 8.0}, "NET_HIGH_RISK"),
        ({"site": "ileum", "nodes": "negative", "ki67": 5.0}, "NET_LOW_RISK"),
        ({"site": "ileum", "nodes": "negative", "ki67": 30.0}, "NET_G3"),
        ({"site": "ileum", "margin": "R1"}, "NET_R1"),
        ({"site": "ileum", "margin": "R2"}, "NET_R2"),
        ({"site": "appendix", "size": 2.5}, "APPENDIX_OVER_2CM"),
        ({"site": "appendix", "size": 2.0}, "NET_LOW_RISK"),
        ({"site": "rectum", "size": 1.0}, "RECTUM_1_TO_2CM"),
        ({"site": "rectum", "size": 2.0}, "RECTUM_1_TO_2CM"),
        ({"site": "duodenum", "size": 1.2}, "GASTRODUODENAL"),
    ],
)
def test_schedule_choice(kb: Knowledge, change: dict[str, Any], rule: str) -> None:
    fu, _ = _fu(kb, _case(**change))
    assert fu["rule_id"] == f"CSCO2021.FOLLOWUP.SCHEDULE.{rule}"
    assert fu["lifelong"] is True


def test_unconfirmed_intervals_are_flagged(kb: Knowledge) -> None:
    fu, ctx = _fu(kb, _case(site="rectum", size=1.5))
    assert fu["rule_id"] == "CSCO2021.FOLLOWUP.SCHEDULE.RECTUM_1_TO_2CM"
    assert any(i["code"] == "FOLLOWUP_INTERVAL_UNCONFIRMED" for i in ctx.issues)
    first, second = fu["visits"][0], fu["visits"][1]
    assert "pelvic_mri_or_eus" in first["exams"]
    assert "endoscopy_or_imaging_per_risk" in second["exams"]


def test_gastric_type_1_small_every_two_years(kb: Knowledge) -> None:
    raw = _case(
        site="stomach", size=0.6, margin="none", nodes="negative",
        history={"autoimmune_atrophic_gastritis": True},
    )  # fmt: skip
    fu, _ = _fu(kb, raw)
    assert fu["rule_id"] == "CSCO2021.FOLLOWUP.SCHEDULE.GASTRIC_TYPE1_SMALL"
    assert [v["due"] for v in fu["visits"]] == [add_months(AS_OF, 24), add_months(AS_OF, 48)]
    assert "egd_biopsies" in fu["visits"][0]["exams"]


def test_gastric_net_without_its_cause_is_insufficient(kb: Knowledge) -> None:
    fu, ctx = _fu(kb, _case(site="stomach", size=0.6, nodes="negative"))
    assert fu["status"] == Status.INSUFFICIENT_DATA
    assert "clinical.history.autoimmune_atrophic_gastritis" in _issue_fields(ctx)


def test_metastatic_net_and_nec(kb: Knowledge) -> None:
    raw = _case(site="pancreas", size=3, margin="none", mets="present")
    raw["metastases"]["liver"] = {"lesion_count": 5}
    fu, _ = _fu(kb, raw)
    assert fu["rule_id"] == "CSCO2021.FOLLOWUP.SCHEDULE.NET_METASTATIC"
    assert fu["visits"][0]["due"] == add_months(AS_OF, 3)
    nec = _case(site="colon", size=3, nodes="positive")
    nec["pathology"] = {"differentiation": "poor", "morphology": "large_cell", "ki67_percent": 60}
    fu, _ = _fu(kb, nec)
    assert fu["rule_id"] == "CSCO2021.FOLLOWUP.SCHEDULE.NEC_CURATIVE"
    assert kb.rule_status[fu["rule_id"]] == "unconfirmed"


def test_unresected_net_needs_resectability(kb: Knowledge) -> None:
    raw = _case(site="ileum", size=3, margin="none", nodes="positive")
    fu, ctx = _fu(kb, raw)
    assert fu["status"] == Status.INSUFFICIENT_DATA
    assert _issue_fields(ctx) == ["clinical.primary_resectability"]
    fu, ctx = _fu(
        kb, {**raw, "clinical": {**raw["clinical"], "primary_resectability": "resectable"}}
    )
    assert fu["status"] == Status.NOT_APPLICABLE
    assert fu["rule_id"] == "CSCO2021.FOLLOWUP.SCHEDULE.AWAITING_TREATMENT"
    assert any(i["code"] == "FOLLOWUP_AFTER_TREATMENT" for i in ctx.issues)


def test_grade_or_nodes_missing_for_risk(kb: Knowledge) -> None:
    fu, ctx = _fu(kb, _case(site="ileum", size=1.5, nodes=None))
    assert fu["status"] == Status.INSUFFICIENT_DATA
    assert _issue_fields(ctx) == ["regional_nodes"]


def test_a_schedule_the_same_for_every_risk_left_is_given(kb: Knowledge) -> None:
    """Nodes not recorded leave the risk group open (low or higher, never G3 for a G1
    tumour); after an R1 resection the schedule is the higher-risk one either way, so it is
    given (safety rule 1), with the candidates traced. Before: insufficient data."""
    fu, ctx = _fu(kb, _case(site="ileum", size=1.5, margin="R1", nodes=None))
    assert fu["status"] == Status.RECOMMENDED
    assert fu["rule_id"] == "CSCO2021.FOLLOWUP.SCHEDULE.NET_R1"
    assert fu["visits"]
    assert _issue_fields(ctx) == []
    note = [t for t in ctx.trace if t["table"] is None and t["step"] == "follow_up"]
    assert note and note[0]["result"] == ["high", "low"]
    # the schedule table: once with the risk unknown (open), then once per risk group left
    sched = [t for t in ctx.trace if t["table"] == "CSCO2021.FOLLOWUP.SCHEDULE"]
    assert [t["inputs"]["risk"] for t in sched] == [None, "high", "low"]
    assert not sched[0]["decided"]
    assert [list(t["rule_ids"]) for t in sched[1:]] == [["CSCO2021.FOLLOWUP.SCHEDULE.NET_R1"]] * 2


def test_risk_candidates_that_cannot_all_be_listed_stay_unknown(kb: Knowledge) -> None:
    """Ki-67 not given for a G2 (by mitoses) tumour: the risk depends on a number (no finite
    domain to go through), so the risk stays unknown and the schedule waits on it."""
    raw = _case(site="ileum", size=1.5, ki67=None, margin="R0")
    raw["pathology"]["mitoses_per_2mm2"] = 5
    fu, ctx = _fu(kb, raw)
    assert fu["status"] == Status.INSUFFICIENT_DATA
    assert "pathology.ki67_percent" in _issue_fields(ctx)


def test_carcinoid_syndrome_adds_yearly_echo(kb: Knowledge) -> None:
    syn = FunctionalSyndrome(
        syndrome="carcinoid_syndrome", status="confirmed", criteria_met=[], criteria_unmet=[],
        next_tests=[], caveats=[], rule_ids=[],
    )  # fmt: skip
    raw = _case(site="ileum", size=2.5, nodes="positive", resection_date="2026-11-23")
    fu, _ = _fu(kb, raw, syndromes=[syn])
    with_echo = [v["due"] for v in fu["visits"] if "echo_ntprobnp" in v["exams"]]
    assert with_echo == [add_months(AS_OF, m) for m in (12, 24, 36, 48, 60)]
    fu, _ = _fu(kb, raw)
    assert not any("echo_ntprobnp" in v["exams"] for v in fu["visits"])


def test_through_assess_and_exam_texts(kb: Knowledge) -> None:
    a = assess(parse_case(_case(site="ileum", size=1.5, nodes="negative")), kb, as_of=AS_OF)
    assert a.follow_up is not None and a.follow_up["visits"]
    params = schedule_parameters(Context(kb, "en"))
    exams = {e for s in params.schedules.values() for e in s.exams}
    exams |= {e for s in params.schedules.values() for p in s.phases for e in p.exams or []}
    exams |= {str(r.then["exam"]) for r in kb.tables["CSCO2021.FOLLOWUP.EXTRA_EXAMS"].rows}
    for lang in ("en", "zh-CN"):
        texts = kb.catalog.texts[lang]
        for e in exams:
            assert texts.get(f"exam.{e}"), (lang, e)
        for name in params.schedules:
            assert texts.get(f"followup.schedule.{name}"), (lang, name)
    outputs = {
        str(r.then["schedule"]) for r in kb.tables[kb.pathway.table("follow_up", "schedule")].rows
    }
    assert outputs == set(params.schedules) - set()  # every schedule is used and defined


# --- property: dates ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    anchor=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31)),
    lag=st.integers(min_value=0, max_value=3000),
    every=st.integers(min_value=1, max_value=24),
)
def test_visits_are_ordered_and_inside_the_window(anchor: dt.date, lag: int, every: int) -> None:
    as_of = anchor + dt.timedelta(days=lag)
    sched = Schedule(
        phases=[Phase(to_month=24, every_months=every, range="x", status="confirmed"),
                Phase(every_months=12, range="y", status="confirmed")],
        exams=["clinical_review"],
    )  # fmt: skip
    planned = plan_visits(sched, anchor, as_of, 60)
    dues = [d for _, d, _ in planned]
    assert dues == sorted(dues) and len(set(dues)) == len(dues)
    assert all(as_of <= d <= add_months(as_of, 60) for d in dues)
    assert all(d == add_months(anchor, m) for m, d, _ in planned)
    assert dues, "a lifelong schedule always has a visit in the next 5 years"


def test_an_open_grade_asks_only_for_the_index_that_leaves_it_open(kb: Knowledge) -> None:
    """Ki-67 6 % (G2) with a mitotic count reported as 10-30 per 2 mm² (G2 or G3): the grade,
    so the follow-up risk, is open because of the mitoses alone, and the issue asks for them,
    not for the Ki-67 that was given (V960's case; WHO 2019: the higher index grades)."""
    case = parse_case(
        {
            "tumour": {"primary_site": "ileum", "size_cm": 1.8, "extent": "muscularis_propria"},
            "regional_nodes": {"examined": 14, "positive": 0},
            "metastases": {"status": "none"},
            "pathology": {
                "differentiation": "well",
                "ki67_percent": 6,
                "mitoses": {"range": {"ge": 10, "le": 30}, "area_mm2": 2},
            },
            "clinical": {"resection": {"performed": True, "margin": "R0", "date": "2026-10-05"}},
        }
    )
    a = assess(case, kb, as_of=dt.date(2026, 11, 23))
    needs = [i for i in a.issues if i["code"] == "FOLLOWUP_NEEDS_DATA"]
    assert [i["fields"] for i in needs] == [["pathology.mitoses_per_2mm2"]]


@pytest.mark.parametrize(
    ("ki67", "lifelong"),
    [(1.0, None), (5.0, True)],  # Ki-67 G1: the mitoses could make it G2; Ki-67 G2: G2 or more
)
def test_a_grade_from_the_ki67_alone_does_not_exempt_from_lifelong_follow_up(
    kb: Knowledge, ki67: float, lifelong: bool | None
) -> None:
    """WHO 2019: the grade is the higher of the Ki-67 and the mitotic grade. The exemption
    (appendiceal or rectal NET G1 < 1 cm after R0, the seed) holds for G1 only, so a G1 read
    from the Ki-67 with no mitotic count leaves it open (the count is asked for), and a G2
    read from the Ki-67 settles lifelong follow-up whatever the count (docs/clinical-gaps.md,
    "Grade from a single index"; found by tests/test_settled_properties.py)."""
    case = parse_case(
        {
            "tumour": {"primary_site": "rectum", "size_cm": 0.6, "extent": "mucosa"},
            "regional_nodes": {"status": "negative"},
            "metastases": {"status": "none"},
            "pathology": {"differentiation": "well", "ki67_percent": ki67},
            "clinical": {"resection": {"performed": True, "margin": "R0", "endoscopic": True}},
        }
    )
    a = assess(case, kb, as_of=AS_OF)
    assert "GRADE_SINGLE_INDEX" in {i["code"] for i in a.issues}
    assert a.follow_up is not None and a.follow_up["lifelong"] is lifelong
    if lifelong is None:
        needs = [i for i in a.issues if i["code"] == "FOLLOWUP_NEEDS_DATA"]
        assert needs and needs[0]["fields"] == ["pathology.mitoses_per_2mm2"]
