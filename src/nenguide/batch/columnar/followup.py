"""Follow-up in the batch: the engine's decision once per distinct view of the case, the
visits dated per case.

The follow-up step (:func:`nenguide.engine.followup.follow_up`) is the engine's decision
(:func:`~nenguide.engine.followup.follow_up_decision`: the family, exemption, risk, schedule
and extra-exam tables) and then, when a schedule is chosen, its visits dated from the case's
resection date or the assessment date (:func:`~nenguide.engine.followup.dated_schedule`).
The decision reads the case only through :func:`~nenguide.engine.followup.decision_inputs`:
the tables' view of the facts and whether the grade was read from one index (and the
classification, for the fields an open grade names, which the flat row does not show). The
tables read a number only through its comparisons with their own cut-offs, so each number is
replaced by its band between them (a range of candidates by the set of its bands).

So the decision runs once per distinct view, on the first case that has it (a context of its
own), and later cases with the same view get its answer, issues and unconfirmed content.
The dating is the engine's own function too, run once per schedule chosen and anchor (the
resection date, or none: the visits are then counted from the assessment date, the same for
every case of the batch); its issues are replayed for each case. Nothing of the step's logic
is written twice. tests/batch/test_columnar_followup.py and the batch's differential test compare
it with the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from operator import itemgetter
from typing import Any

import polars as pl

from nenguide.batch.columnar.exprs import fits
from nenguide.batch.columnar.plan import band_of, cut_offs
from nenguide.engine.context import MEMO_LIMIT, Context
from nenguide.engine.followup import (
    STEP,
    Planned,
    dated_schedule,
    decision_inputs,
    follow_up_decision,
)
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.model.assessment import Classification, FollowUp, FunctionalSyndrome, Stage
from nenguide.model.case import Case
from nenguide.model.frozen import FrozenDict

_RULE_IDS = itemgetter("rule_ids")
#: the roles of the follow-up step's tables (every number they compare, per fact)
_ROLES = ("family", "exemption", "risk", "schedule", "extra_exams")


class FollowUpProgram:
    """The follow-up step for the batch (see the module): :meth:`step` has the engine step's
    signature; after each call, :attr:`unconfirmed` says whether the decision it gave traced
    unconfirmed content that the case's own trace does not show."""

    def __init__(self, kb: Knowledge, lang: str) -> None:
        self.kb = kb
        self.lang = lang
        ctx = Context(kb, lang)
        self.cuts = cut_offs(kb.tables[ctx.table_id(STEP, role)] for role in _ROLES)
        self.unconfirmed = False
        self._seen: dict[tuple[Any, ...], tuple[FollowUp | Planned, tuple[Any, ...], bool]] = {}
        self._dated: dict[tuple[Any, ...], tuple[FollowUp, tuple[Any, ...]]] = {}

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
        cuts, band = self.cuts, self._band
        key: tuple[Any, ...] | None = (
            inputs.single,
            cls.grade_by_ki67,
            cls.grade_by_mitoses,
            # a fact the tables compare with no number is read as it is (no call for it)
            *[band(k, v) if k in cuts else v for k, v in inputs.ff.items()],
        )
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
        dkey = (
            planned.name,
            planned.row.id,
            planned.sources,
            tuple([row.id for row in planned.extra_exams]),
            bk.get("resection_date"),
            as_of,
        )
        hit = self._dated.get(dkey)
        if hit is None:
            n = len(ctx.issues)
            dated = dated_schedule(ctx, facts, planned, as_of)
            hit = (dated, tuple(ctx.issues[n:]))
            if len(self._dated) > MEMO_LIMIT:
                self._dated.clear()
            self._dated[dkey] = hit
            return dated
        ctx.issues.extend(hit[1])
        return hit[0]

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


_NUMBER = pl.Float64()
