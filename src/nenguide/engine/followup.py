"""Follow-up schedule with concrete dates.

Four tables decide (the ``follow_up`` roles of the package's ``pathway.yaml``): the tumour
family, the seed's single exemption from lifelong follow-up (appendiceal or rectal NET G1 < 1 cm
after R0 resection), the risk group of a well-differentiated tumour and the schedule. The
schedules (intervals per phase, exams per visit) are data in the schedule table's
``parameters``.

Dates: every visit is counted from the resection date when there is one, else from ``as_of``
(month arithmetic clamps to the month end: 31 Jan + 1 month = 28/29 Feb; each visit is counted
from the anchor, so month-end clamping never drifts). The visits listed are those due in the next
5 years from ``as_of``; follow-up continues after that (lifelong).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal, NamedTuple, cast

from pydantic import BaseModel, ConfigDict, Field

from nenguide.engine.context import (
    CATEGORY_FIELDS,
    GRADE_FIELDS,
    Context,
    fields_of,
    grade_fields,
    grades_left,
)
from nenguide.engine.logic import one_of
from nenguide.engine.pathway import KNOWN_MET_STATUSES
from nenguide.engine.table_eval import outcomes
from nenguide.engine.tables import Row, TableResult
from nenguide.model.assessment import (
    Classification,
    FollowUp,
    FollowUpVisit,
    FunctionalSyndrome,
    Stage,
    Status,
)
from nenguide.model.case import Case
from nenguide.model.frozen import FrozenDict, FrozenList, frozen_dict

STEP = "follow_up"

#: Facts of this step -> the case fields they come from (beyond context.FIELD_OF_FACT).
FIELDS: dict[str, list[str]] = {
    "category": list(CATEGORY_FIELDS),
    "resection_margin": ["clinical.resection.performed", "clinical.resection.margin"],
    "met_status": ["metastases.status"],
    "node_status": ["regional_nodes"],
    "primary_resectability": ["clinical.primary_resectability"],
    "gastric_type": [
        "clinical.history.autoimmune_atrophic_gastritis",
        "clinical.history.zollinger_ellison_syndrome",
    ],
    # the functional status (fact table FUNCTIONAL): the syndromes and the symptoms, as the
    # treatment step names them
    "functional": ["functional_syndromes", "clinical.symptoms"],
}


class Phase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    to_month: int | None = Field(default=None, ge=1, description="Last month of the phase")
    every_months: int = Field(ge=1, le=120)
    range: str
    status: Literal["confirmed", "unconfirmed"]
    exams: list[str] | None = None


class Schedule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal["RECOMMENDED", "NOT_APPLICABLE"] = "RECOMMENDED"
    phases: list[Phase]
    exams: list[str]


class ScheduleParameters(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    horizon_months: int = Field(ge=1, le=240)
    schedules: dict[str, Schedule]


#: the days of each month of a common year
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` plus ``months`` calendar months, clamped to the last day of the target month."""
    y, m0 = divmod(d.month - 1 + months, 12)
    year, day = d.year + y, d.day
    if day > 28:  # the month's last day may come first (29 February in a leap year)
        day = min(day, 29 if m0 == 1 and calendar.isleap(year) else _MONTH_DAYS[m0])
    return dt.date(year, m0 + 1, day)


def schedule_parameters(ctx: Context) -> ScheduleParameters:
    # kept with the table it was read from: an edited copy of the package (a mutant) shares
    # ``package_cache`` and must not read the original's parameters
    key = ("followup_schedule_parameters",)
    table = ctx.kb.tables[ctx.table_id(STEP, "schedule")]
    hit = ctx.kb.package_cache.get(key)
    if hit is None or hit[0] is not table:
        hit = ctx.kb.package_cache[key] = (
            table,
            ScheduleParameters.model_validate(table.spec.parameters),
        )
    params = hit[1]
    assert isinstance(params, ScheduleParameters)
    return params


def plan_visits(
    sched: Schedule, anchor: dt.date, as_of: dt.date, horizon_months: int
) -> list[tuple[int, dt.date, Phase]]:
    """(months after anchor, due date, phase) of every visit due from ``as_of`` up to
    ``horizon_months`` after it."""
    end = add_months(as_of, horizon_months)
    # a visit fewer months after the anchor than this falls in a month before as_of's: it is
    # past (and before the end), so its date is not needed
    past = (as_of.year - anchor.year) * 12 + as_of.month - anchor.month
    out: list[tuple[int, dt.date, Phase]] = []
    month = 0
    for ph in sched.phases:
        while True:
            nxt = month + ph.every_months
            if ph.to_month is not None and nxt > ph.to_month:
                break
            if nxt < past:
                month = nxt
                continue
            due = add_months(anchor, nxt)
            if due > end:
                return out
            month = nxt
            if due >= as_of:
                out.append((month, due, ph))
    return out


#: The follow-up tables' view of the facts: each input and the fact it is read from (gastric
#: type and functional status are the fact layer's single definitions, the same every step
#: sees; the carcinoid syndrome counts when confirmed)
FOLLOWUP_VIEW: dict[str, str] = {
    "primary_site": "primary_site",
    "category": "category",
    "grade": "grade",
    "ki67_percent": "ki67_percent",
    "size_cm": "size_cm",
    "resection_margin": "resection_margin",
    "node_status": "node_status",
    "met_status": "met_status",
    "primary_resectability": "primary_resectability",
    "gastric_type": "gastric_type",
    "functional": "functional",
    "carcinoid_syndrome": "confirmed_carcinoid_syndrome",
    "carcinoid_heart_disease": "carcinoid_heart_disease",
}


def followup_facts(
    facts: Mapping[str, Any], open_category: Any = None, open_grade: Any = None
) -> dict[str, Any]:
    """The follow-up tables' view of the facts (:data:`FOLLOWUP_VIEW`; the metastatic status
    only when known). ``open_category`` and ``open_grade``: the candidates while the
    classification is open (see ``_open``)."""
    view = {name: facts.get(fact) for name, fact in FOLLOWUP_VIEW.items()}
    view["primary_site"] = facts["primary_site"]
    view["category"] = view["category"] or open_category
    view["grade"] = view["grade"] or open_grade
    if view["met_status"] not in KNOWN_MET_STATUSES:
        view["met_status"] = None
    return view


def _schedule_over_risks(
    ctx: Context, schedule_id: str, ff: dict[str, Any], risk: TableResult
) -> TableResult | None:
    """The schedule table once per risk group the undecided ``risk`` can still give (each
    traced): its result when every group gives the same row (the schedule is settled
    whatever the risk), else ``None``."""
    each = [ctx.first(STEP, schedule_id, {**ff, "risk": r}) for r in risk_candidates(ctx, risk)]
    rows = {e.row.id if e.decided and e.row is not None else None for e in each}
    return each[0] if each and len(rows) == 1 and None not in rows else None


def risk_candidates(ctx: Context, risk: TableResult) -> tuple[Any, ...]:
    """The risk groups an undecided risk table can still give, over every value its unknown
    inputs can take (:func:`outcomes`), so that a schedule that is the same for all of them is
    given (an R1 margin: the higher-risk schedule, whatever the nodes); none when they cannot
    all be listed. Traced as a note."""
    found = outcomes(risk.table, risk.read, sorted(risk.missing))
    if found is None:
        return ()
    value = tuple(sorted(found))
    ctx.note(
        STEP,
        list(value),
        {"table": risk.table.spec.id, "unknown": sorted(risk.missing)},
        [f"{risk.table.spec.id}: the risk groups over every value of "
         f"{', '.join(sorted(risk.missing))}"],
    )  # fmt: skip
    return value


def _open(ctx: Context, cls: Classification) -> tuple[Any, Any]:
    """While the classification is open: its candidate categories, and the grades a NET could
    have given the indices read (the classification's combine table over every value of an
    index not reported), so that a fact that already excludes the exemption (Ki-67 G2: not G1
    whatever the other index and the differentiation) settles lifelong follow-up."""
    category = one_of(cls.possible_categories) if cls.possible_categories else None
    settled = cls.grade is not None and not single_index(cls)
    if settled or (cls.grade_by_ki67 is None and cls.grade_by_mitoses is None):
        return category, None
    left = grades_left(ctx, STEP, cls.grade_by_ki67, cls.grade_by_mitoses)
    return category, one_of(left) if left else None


def single_index(cls: Classification) -> bool:
    """A grade read from one index while the other is not reported (``GRADE_SINGLE_INDEX``):
    the grade is the higher of the two (WHO 2019), so the other could still raise it. The
    exemption from lifelong follow-up, which holds for G1 only, is then not settled by it
    (docs/clinical-gaps.md, "Grade from a single index"); :func:`_open` gives the grades
    left for it."""
    return cls.grade is not None and (cls.grade_by_ki67 is None) != (cls.grade_by_mitoses is None)


def _fields(ctx: Context, names: Iterable[str], cls: Classification | None = None) -> list[str]:
    """The case fields behind the open inputs ``names``; an open grade's are those of
    :func:`~nenguide.engine.context.grade_fields` (a Ki-67 of 6 % with a mitotic range of
    10-30 asks for the mitoses, not for the Ki-67)."""
    out: set[str] = set()
    for n in names:
        out.update(_grade_fields(ctx, cls) if n == "grade" else FIELDS.get(n) or fields_of([n]))
    return sorted(out)


def _grade_fields(ctx: Context, cls: Classification | None) -> tuple[str, ...]:
    """An open grade's case fields: the index not reported for a grade read from the other
    (:func:`single_index`), else :func:`~nenguide.engine.context.grade_fields`'s."""
    if cls is not None and single_index(cls):
        return GRADE_FIELDS[1:] if cls.grade_by_ki67 is not None else GRADE_FIELDS[:1]
    return grade_fields(ctx, STEP, cls)


def _insufficient(
    ctx: Context,
    missing: list[str],
    rule_id: str | None,
    lifelong: bool | None = None,
    sources: Iterable[str] = (),
) -> FollowUp:
    """The schedule cannot be chosen; ``lifelong`` stays what the exemption table settled
    (true when the exemption is excluded by what is known, null while it is still possible)."""
    ctx.issue(
        "FOLLOWUP_NEEDS_DATA",
        STEP,
        missing,
        rule_id=rule_id,
        missing=", ".join(missing),
    )
    return _follow_up(
        status=Status.INSUFFICIENT_DATA,
        lifelong=lifelong,
        visits=_NONE,
        schedule=None,
        rule_id=rule_id if lifelong is not None else None,
        sources=sources if lifelong is not None else (),
    )


_NONE = FrozenList()


def _follow_up(
    status: Status,
    lifelong: bool | None,
    visits: list[FollowUpVisit],
    schedule: str | None,
    rule_id: str | None,
    sources: Iterable[str],
) -> FollowUp:
    """The step's answer, built frozen (its visits are frozen already)."""
    return frozen_dict(
        FollowUp(
            status=status,
            lifelong=lifelong,
            visits=visits if type(visits) is FrozenList else FrozenList(visits),
            schedule=schedule,
            rule_id=rule_id,
            sources=FrozenList(sources),
        )
    )


class Planned(NamedTuple):
    """A schedule chosen by :func:`follow_up_decision`, its visits not yet dated: what
    :func:`dated_schedule` reads (the schedule's name, its row, the sources, the extra exams
    that apply; nothing of the case's dates)."""

    name: str
    row: Row
    sources: tuple[str, ...]
    extra_exams: tuple[Row, ...]


class DecisionInputs(NamedTuple):
    """What :func:`follow_up_decision` reads of the case besides the classification (which it
    reads only for the fields an open grade names): the follow-up tables' view of the facts
    (with the candidates of an open classification), the grades a grade read from one index
    leaves open, and whether the grade was read from one index (:func:`single_index`)."""

    ff: dict[str, Any]
    open_grade: Any
    single: bool


def decision_inputs(ctx: Context, facts: Mapping[str, Any], cls: Classification) -> DecisionInputs:
    """What the follow-up decision reads of the case (see :class:`DecisionInputs`)."""
    category, open_grade = _open(ctx, cls)
    ff = followup_facts(facts, category, open_grade)
    return DecisionInputs(ff, open_grade, open_grade is not None and single_index(cls))


def follow_up(
    ctx: Context,
    case: Case,
    facts: Mapping[str, Any],
    cls: Classification,
    stg: Stage,
    as_of: dt.date,
    syndromes: list[FunctionalSyndrome] | None = None,
) -> FollowUp | None:
    """The follow-up step: the decision (:func:`follow_up_decision`), then, when a schedule
    was chosen, its visits dated from the resection or ``as_of`` (:func:`dated_schedule`)."""
    got = follow_up_decision(ctx, cls, decision_inputs(ctx, facts, cls))
    if isinstance(got, Planned):
        return dated_schedule(ctx, facts, got, as_of)
    return got


def follow_up_decision(
    ctx: Context, cls: Classification, inputs: DecisionInputs
) -> FollowUp | Planned:
    """The follow-up answer from the step's tables, or the schedule chosen (:class:`Planned`)
    when it is to be dated. Reads the case only through ``inputs`` (and ``cls`` for the fields
    an open grade names in an issue)."""
    ff = dict(inputs.ff)  # the family and the risk group are added below
    open_grade, single = inputs.open_grade, inputs.single

    fam = ctx.first(STEP, ctx.table_id(STEP, "family"), ff)
    # the exemption from lifelong follow-up is read first: it is settled (excluded) by any
    # known fact outside it (another site, size >= 1 cm, G2+, N+, M1, NEC...), even when the
    # tumour family or the schedule is still open. Ending follow-up is never decided on a
    # grade read from one index: the exemption reads the grades the other still allows (the
    # schedule, like the treatment options, is chosen on the grade reported)
    ex = ctx.first(
        STEP, ctx.table_id(STEP, "exemption"), {**ff, "grade": open_grade} if single else ff
    )
    lifelong = None if not ex.decided else ex.value is not True
    ex_rule = ex.row.id if ex.decided and ex.row else None
    if not fam.decided:
        missing = (
            _fields(ctx, ["category"]) if ex.decided else _fields(ctx, {"category", *ex.missing})
        )
        return _insufficient(ctx, missing, ex_rule, lifelong, ex.row.sources if ex.row else ())
    ff["family"] = fam.value
    if not ex.decided:
        return _insufficient(ctx, _fields(ctx, ex.missing, cls), None)
    assert ex.row is not None
    if ex.value is True:
        return _follow_up(
            status=Status.RECOMMENDED,
            lifelong=False,
            visits=_NONE,
            schedule=ctx.text("followup.exempt"),
            rule_id=ex.row.id,
            sources=ex.row.sources,
        )

    risk: TableResult | None = None
    risk_missing: set[str] = set()
    ff["risk"] = None
    if ff["family"] == "net":
        risk = ctx.first(STEP, ctx.table_id(STEP, "risk"), ff)
        if risk.decided:
            ff["risk"] = risk.value
        else:
            risk_missing = set(risk.missing)

    schedule_id = ctx.table_id(STEP, "schedule")
    res = ctx.first(STEP, schedule_id, ff)
    if not res.decided and risk is not None and not risk.decided and set(res.missing) <= {"risk"}:
        # only the risk group is open: the schedule once per group it can still be
        res = _schedule_over_risks(ctx, schedule_id, ff, risk) or res
    if not res.decided:
        open_inputs = set(res.missing)
        if "risk" in open_inputs:
            open_inputs = (open_inputs - {"risk"}) | risk_missing
        fields = _fields(ctx, open_inputs, cls)
        return _insufficient(ctx, fields, ex.row.id, lifelong, ex.row.sources)
    assert res.row is not None
    name = str(res.value)
    sched = schedule_parameters(ctx).schedules[name]
    sources = list(res.row.sources)
    sources += [s for s in ex.row.sources if s not in sources]

    if sched.status == "NOT_APPLICABLE":
        ctx.issue(
            "FOLLOWUP_AFTER_TREATMENT",
            STEP,
            ["clinical.resection"],
            rule_id=res.row.id,
        )
        return _follow_up(
            status=Status.NOT_APPLICABLE,
            lifelong=True,
            visits=_NONE,
            schedule=ctx.text(f"followup.schedule.{name}"),
            rule_id=res.row.id,
            sources=sources,
        )
    extra = ctx.collect(STEP, ctx.table_id(STEP, "extra_exams"), ff)
    return Planned(name, res.row, tuple(sources), extra.applies)


def dated_schedule(
    ctx: Context, facts: Mapping[str, Any], planned: Planned, as_of: dt.date
) -> FollowUp:
    """The schedule chosen, its visits due from ``as_of`` over the horizon, counted from the
    resection date when there is one (else from ``as_of``), with the extra exams added."""
    params = schedule_parameters(ctx)
    name, row = planned.name, planned.row
    sched = params.schedules[name]
    bk: Mapping[str, Any] = getattr(facts, "extra", {})
    resected_on: dt.date | None = bk.get("resection_date")
    from_resection = resected_on is not None
    anchor = resected_on or as_of
    planned_visits = plan_visits(sched, anchor, as_of, params.horizon_months)
    if resected_on is not None and resected_on > as_of:
        # a resection after the date of the assessment: the date or the assessment's date is
        # wrong; no visit is dated from either (the schedule itself stands)
        ctx.issue(
            "FOLLOWUP_RESECTION_AFTER_AS_OF",
            STEP,
            ["clinical.resection.date"],
            resection_date=resected_on.isoformat(),
            as_of=as_of.isoformat(),
        )
        planned_visits = []

    # an extra exam every ``every`` months: for each visit, the first multiple of ``every`` on
    # or after its month; the exam goes to the first visit on or after that multiple (one pass:
    # the visits' months ascend)
    months = [m for m, _, _ in planned_visits]
    extra_at: dict[int, list[str]] = {}
    for extra_row in planned.extra_exams:
        every = int(extra_row.then["every_months"])  # required with the exam (rule language)
        j = 0
        for k in sorted({(m + every - 1) // every for m in months}):
            while j < len(months) and months[j] < k * every:
                j += 1
            if j < len(months):
                extra_at.setdefault(months[j], []).append(str(extra_row.then["exam"]))

    visits: list[FollowUpVisit] = []
    base: dict[int, FrozenList] = {}  # a phase's exams, shared by its visits (immutable)
    for m, due, ph in planned_visits:
        exams = base.get(id(ph))
        if exams is None:
            exams = base[id(ph)] = FrozenList(ph.exams or sched.exams)
        added = extra_at.get(m)
        if added:
            exams = FrozenList([*exams, *[e for e in added if e not in exams]])
        # built frozen in one go (the TypedDict's own call would make a dict to copy)
        visits.append(cast(FollowUpVisit, FrozenDict(due=due, exams=exams)))

    unconfirmed = sorted({ph.range for _, _, ph in planned_visits if ph.status == "unconfirmed"})
    if unconfirmed:
        ctx.issue(
            "FOLLOWUP_INTERVAL_UNCONFIRMED",
            STEP,
            [],
            rule_id=row.id,
            intervals=", ".join(unconfirmed),
        )
    window = ctx.text(
        "followup.window_resection" if from_resection else "followup.window_as_of",
        start=as_of.isoformat(),
        end=add_months(as_of, params.horizon_months).isoformat(),
        anchor=anchor.isoformat(),
        years=params.horizon_months // 12,
    )
    if ctx.notes:  # the note's texts (a line per visit) are not made for a context without notes
        since = anchor.isoformat()
        ctx.note(
            STEP,
            [v["due"].isoformat() for v in visits],
            {"schedule": name, "anchor": since, "as_of": as_of.isoformat()},
            [
                f"{m} months after {since}: {ph.range}-monthly ({ph.status})"
                for m, _, ph in planned_visits
            ],
        )
    return _follow_up(
        status=Status.RECOMMENDED,
        lifelong=True,
        visits=visits,
        schedule=f"{ctx.text(f'followup.schedule.{name}')} {window}",
        rule_id=row.id,
        sources=planned.sources,
    )
