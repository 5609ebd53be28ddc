"""Follow-up in the batch: the engine's decision once per distinct set of answers of its
tables, the visits dated per case.

The follow-up step (:func:`nenguide.engine.followup.follow_up`) is the engine's decision
(:func:`~nenguide.engine.followup.follow_up_decision`: the family, exemption, risk, schedule
and extra-exam tables) and then, when a schedule is chosen, its visits dated from the case's
resection date or the assessment date (:func:`~nenguide.engine.followup.dated_schedule`).
The decision reads the case only through :func:`~nenguide.engine.followup.decision_inputs`:
the tables' view of the facts and whether the grade was read from one index (and the
classification, for the fields an open grade names, which the flat row does not show). The
tables read a number only through its comparisons with their own cut-offs, so each number is
replaced by its band between them (a range of candidates by the set of its bands).

Finer than needed, though: the decision depends on the view only through its tables' answers
(the rows that decide or wait, and the inputs they wait on), in its order, with the family
and the risk group it decides added to the view (:meth:`FollowUpProgram._answers`). So the
decision runs once per distinct set of answers, on the first case that has it (a context of
its own), and later cases with the same answers get its answer, issues and unconfirmed
content: 320 decisions for 2 000 generated cases, where there are 1 168 views (session 19).
The view is still worked out, and looked up first: a view seen before gives its answers
without evaluating the tables again. So the step costs a case about what it did by the view
alone (session 19, 10 000 generated cases: 8.2 µs of CPU a case, against 7.3 by the view
alone and 13.6 by the answers alone), and 20 000 cases need 555 decisions instead of 5 125.
The dating is the engine's own function too, run once per schedule chosen and anchor (the
resection date, or none: the visits are then counted from the assessment date, the same for
every case of the batch); its issues are replayed for each case. Nothing of the step's logic
is written twice. tests/batch/test_columnar_followup.py and the batch's differential test compare
it with the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple

import polars as pl

from nenguide.batch.columnar.exprs import fits
from nenguide.batch.columnar.plan import band_of, cut_offs
from nenguide.engine.context import MEMO_LIMIT, Context
from nenguide.engine.fact_layer import Facts
from nenguide.engine.followup import (
    STEP,
    DecisionInputs,
    Planned,
    dated_schedule,
    decision_inputs,
    follow_up_decision,
    risk_candidates,
)
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.table_eval import (
    TableResult,
    collect_of,
    compiled_collect,
    compiled_first,
    first_from,
    first_parts,
)
from nenguide.engine.tables import Table
from nenguide.model.assessment import Classification, FollowUp, FunctionalSyndrome, Stage
from nenguide.model.case import Case
from nenguide.model.frozen import FrozenDict

_RULE_IDS = itemgetter("rule_ids")
#: the roles of the follow-up step's tables (every number they compare, per fact)
_ROLES = ("family", "exemption", "risk", "schedule", "extra_exams")


class FollowUpProgram:
    """The follow-up step for the batch (see the module): :meth:`step` has the engine step's
    signature; after each call, :attr:`unconfirmed` says whether the decision it gave (or the
    dating of its visits) traced unconfirmed content that the case's own trace does not show,
    and :attr:`decided`, :attr:`decision_issues` and :attr:`decision_unconfirmed` give the
    decision alone, before its visits are dated."""

    def __init__(self, kb: Knowledge, lang: str) -> None:
        self.kb = kb
        self.lang = lang
        ctx = Context(kb, lang)
        self.tables = [kb.tables[ctx.table_id(STEP, role)] for role in _ROLES]
        self._scratch = Context(kb, lang, notes=False)  # for risk_candidates (no notes)
        self.cuts = cut_offs(self.tables)
        self._by_view: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.unconfirmed = False
        self._seen: dict[tuple[Any, ...], tuple[FollowUp | Planned, tuple[Any, ...], bool]] = {}
        self.decided: FollowUp | Planned | None = None
        self.decision_issues: tuple[Any, ...] = ()
        self.decision_unconfirmed = False
        self._dates: dict[tuple[Any, ...], tuple[FollowUp, tuple[Any, ...], bool]] = {}

    def step(
        self,
        ctx: Context,
        case: Case,
        facts: Mapping[str, Any],
        cls: Classification,
        stg: Stage,
        as_of: Any,
        syndromes: list[FunctionalSyndrome] | None = None,
    ) -> FollowUp | None:
        inputs = decision_inputs(ctx, facts, cls)
        # the indices' own grades: the fields an open grade names are worked out from them
        # (their look-ups traced, so they count for unconfirmed content)
        grades = (inputs.single, cls.grade_by_ki67, cls.grade_by_mitoses)
        # the view (numbers as their bands) first: a view seen before gives its tables'
        # answers without evaluating them again
        cuts, band = self.cuts, self._band
        view = (
            *grades,
            # a fact the tables compare with no number is read as it is (no call for it)
            *[band(k, v) if k in cuts else v for k, v in inputs.ff.items()],
        )
        key: tuple[Any, ...] | None
        try:
            key = self._by_view.get(view)
            hashable = True
        except TypeError:  # a value that cannot be part of a key
            key, hashable = None, False
        if key is None:
            key = (*self._answers(inputs), *grades)
            if hashable:
                if len(self._by_view) > MEMO_LIMIT:
                    self._by_view.clear()
                self._by_view[view] = key
        try:
            hit = self._seen.get(key) if key is not None else None
        except TypeError:  # a value that cannot be part of a key: the engine's decision here
            hit = key = None
        if hit is None:
            sub = Context(self.kb, self.lang, notes=False)
            decided = follow_up_decision(sub, cls, inputs)
            traced = chain.from_iterable(map(_RULE_IDS, sub.trace))
            hit = (
                decided,
                tuple(FrozenDict(code=i["code"], kind=i["kind"]) for i in sub.issues),
                not self.kb.unconfirmed_rules.isdisjoint(traced),
            )
            if key is not None:
                if len(self._seen) > MEMO_LIMIT:
                    self._seen.clear()
                self._seen[key] = hit
        decided, issues, self.unconfirmed = hit
        # the decision of this call, before its visits are dated (the column path dates them
        # per resection date: :meth:`dated`)
        self.decided, self.decision_issues = decided, issues
        self.decision_unconfirmed = self.unconfirmed
        ctx.issues.extend(issues)
        if isinstance(decided, Planned):
            return self._dated_schedule(ctx, facts, decided, as_of, key)
        return decided

    def _dated_schedule(
        self,
        ctx: Context,
        facts: Mapping[str, Any],
        planned: Planned,
        as_of: Any,
        key: tuple[Any, ...] | None,
    ) -> FollowUp:
        """The engine's :func:`dated_schedule` of ``planned`` (the decision of view ``key``),
        once per schedule chosen and anchor: what it reads is the decision's :class:`Planned`
        (the schedule's name, its row, the sources and the extra exams' rows; rows known by
        their ids, unique in a package), the resection date and the assessment date (and the
        context's package and language, the same for the whole batch; the batch's contexts
        make no notes). Views that differ but choose the same schedule share it: 5 580
        datings instead of 8 566 for 20 000 generated cases (session 14)."""
        if key is None or ctx.notes:
            return dated_schedule(ctx, facts, planned, as_of)
        bk: Mapping[str, Any] = getattr(facts, "extra", {})
        dated, issues, unconfirmed = self.dated(planned, bk.get("resection_date"), as_of)
        ctx.issues.extend(issues)
        self.unconfirmed = self.unconfirmed or unconfirmed
        return dated

    def dated(
        self, planned: Planned, resection_date: dt.date | None, as_of: dt.date
    ) -> tuple[FollowUp, tuple[Any, ...], bool]:
        """The engine's :func:`dated_schedule` of ``planned`` for a case resected on
        ``resection_date`` (``None``: not resected, or no date), with the issues it raised and
        whether it traced unconfirmed content: what the step gives such a case, its decision
        aside (:meth:`step`, and the column path, :mod:`.lines`). ``dated_schedule`` reads of
        the facts the resection date alone (``extra``); made once per schedule chosen and
        date, on a context of its own."""
        key = (planned.name, planned.row.id, planned.sources,
               tuple([row.id for row in planned.extra_exams]), resection_date, as_of)  # fmt: skip
        hit = self._dates.get(key)
        if hit is None:
            ctx = Context(self.kb, self.lang, notes=False)
            facts = Facts({})
            facts.lab_index, facts.done = FrozenDict(), FrozenDict()
            facts.extra = FrozenDict({"resection_date": resection_date})
            out = dated_schedule(ctx, facts, planned, as_of)
            traced = chain.from_iterable(map(_RULE_IDS, ctx.trace))
            issues = tuple(FrozenDict(code=i["code"], kind=i["kind"]) for i in ctx.issues)
            hit = (out, issues, not self.kb.unconfirmed_rules.isdisjoint(traced))
            if len(self._dates) > MEMO_LIMIT:
                self._dates.clear()
            self._dates[key] = hit
        return hit

    def _band(self, fact: str, v: Any) -> Any:
        """``v`` as the decision's tables see it: a number as its band between their cut-offs
        for ``fact`` (a range of candidates as the set of its bands); any other value as is."""
        cuts = self.cuts.get(fact)
        if cuts is None or v is None:
            return v
        if type(v) is OneOf:
            if all(fits(x, _NUMBER) for x in v.values):
                return ("bands", frozenset(band_of(cuts, x) for x in v.values))
            return v
        return ("band", band_of(cuts, v)) if fits(v, _NUMBER) else v

    def _answers(self, inputs: DecisionInputs) -> tuple[Any, ...]:
        """The decision's key by its tables' answers (see :func:`follow_up_decision`), in
        its order: the family and exemption tables' compiled answers on their views and the
        inputs each candidate row waits on; with the family decided and the exemption
        excluded, the risk group's (a NET), the schedule's on the view with the family and
        the risk group, and the extra exams' rows that apply. The answer a decision gives,
        what it traces and the issues it raises depend on the case only through these (and
        the grades :meth:`step` adds). A schedule open on the risk group alone is chosen over
        every group the risk table's known inputs still allow (the engine's
        :func:`~nenguide.engine.followup.risk_candidates`): those groups and the schedule's
        answer for each are in the key too. A table's answer is what the decision reads of
        its result (:func:`_first`), a range of candidates read as the engine reads it."""
        family, exemption, risk_t, schedule, extra_t = self.tables
        ff = inputs.ff
        fam = _first(family, ff)
        ex = _first(exemption, {**ff, "grade": inputs.open_grade} if inputs.single else ff)
        head = ("answers", fam.sig, ex.sig)
        if not fam.decided or not ex.decided or ex.value is True:
            return head
        view = {**ff, "family": fam.value, "risk": None}
        risk: _Answer | None = None
        if view["family"] == "net":
            risk = _first(risk_t, view)
            if risk.decided:
                view["risk"] = risk.value
        sched = _first(schedule, view)
        over: tuple[Any, ...] = ()
        if (risk is not None and not risk.decided and not sched.decided
                and set(sched.result().missing) <= {"risk"}):  # fmt: skip
            # open on the risk group alone: the schedule once per group the risk table's
            # known inputs still allow (the engine's own candidates), each in the key
            groups = risk_candidates(self._scratch, risk.result())
            over = (groups, tuple(_first(schedule, {**view, "risk": r}).sig for r in groups))
        extra = compiled_collect(extra_t, vals := tuple(map(view.get, extra_t.names)))
        applies = extra if type(extra) is int else (
            extra[0] if extra is not None
            else tuple([r.id for r in collect_of(extra_t, vals).applies])
        )  # fmt: skip
        return (*head, None if risk is None else risk.sig, sched.sig, over, applies)


_NUMBER = pl.Float64()


class _Answer(NamedTuple):
    """What the decision reads of a first table's result: ``sig`` (the compiled answer, with
    which inputs are unknown; or, for a range of candidates, the rows that decide or could,
    whether decided and the inputs it waits on), ``decided`` and ``value``; ``table``,
    ``vals`` and ``got`` to make the whole result when it is needed (:meth:`result`)."""

    sig: Any
    decided: bool
    value: Any
    table: Table
    vals: tuple[Any, ...]
    got: Any

    def result(self) -> TableResult:
        return first_from(self.table, self.vals, self.got)


def _first(table: Table, view: Mapping[str, Any]) -> _Answer:
    """A first table's :class:`_Answer` on ``view``: by its compiled function (the answer is
    the rows that decide or wait; which inputs are unknown says what they wait on), or for a
    range of candidates by the engine's generic evaluation."""
    vals = tuple(map(view.get, table.names))
    got = compiled_first(table, vals)
    if got is None:  # a range of candidates: the generic evaluation
        res = first_from(table, vals, None)
        sig: Any = ("generic", tuple([r.id for r in res.rows]), res.decided, res.missing)
        return _Answer(sig, res.decided, res.value, table, vals, None)
    if type(got) is int:
        if got < 0:
            return _Answer(got, False, None, table, vals, got)
        return _Answer(got, True, table.values[got], table, vals, got)
    parts = table.parts.get(got) or first_parts(table, got)
    sig = (got, tuple([v is None for v in vals]))
    return _Answer(sig, parts[1], parts[2], table, vals, got)
