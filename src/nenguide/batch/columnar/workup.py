"""Work-up in the batch: the engine's own step, once per distinct outcome of its table.

The work-up step (:func:`nenguide.engine.workup.workup`) reads one collect table (role
``items`` of step ``workup``) and turns its rows into items still needed and issues for the
items that wait on a missing input. What the flat row shows of it (the item codes, in order,
and the codes of its issues) and whether it traced unconfirmed content depend on the case only
through

* the table's outcome: the rows that apply and the rows that wait on a missing input (its
  compiled function on the case's inputs, :func:`~nenguide.engine.table_eval.compiled_collect`),
* which of the investigations those rows name (``done_if_any`` / ``done_if_all``) were done
  already.

So the engine's step runs on the first case with a given outcome and set of investigations
done, and every later case with the same gets its item codes, issues and unconfirmed flag
without running the step: nothing of the step's logic is written twice. A case whose inputs
the compiled function cannot read (a range of candidates) is worked up by the engine itself.
The step runs in its place in the engine's order (:func:`~nenguide.engine.assess.
steps_before_hereditary` takes it as ``workup_step``), so its issues come where the
engine's do. tests/batch/test_columnar_workup.py and the batch's differential test compare it
with the engine.
"""

from __future__ import annotations

from itertools import chain
from operator import itemgetter
from typing import Any

from nenguide.engine.context import MEMO_LIMIT, Context
from nenguide.engine.kb import Knowledge
from nenguide.engine.table_eval import compiled_collect
from nenguide.engine.workup import STEP, workup, workup_facts
from nenguide.model.assessment import (
    Classification,
    FunctionalSyndrome,
    LiverMetastasis,
    Stage,
    WorkupItem,
)
from nenguide.model.case import Case
from nenguide.model.frozen import FrozenDict, FrozenList

_RULE_IDS = itemgetter("rule_ids")


class WorkupProgram:
    """The work-up step for the batch (see the module): :meth:`step` has the engine step's
    signature; after each call, :attr:`unconfirmed` says whether the answer it gave traced
    unconfirmed content that the case's own trace does not show."""

    def __init__(self, kb: Knowledge, lang: str) -> None:
        self.kb = kb
        self.lang = lang
        self.table = kb.tables[Context(kb, lang).table_id(STEP, "items")]
        # the investigations each row of the table names as satisfying it
        self.named = [
            [str(d) for key in ("done_if_any", "done_if_all") for d in row.then.get(key) or ()]
            for row in self.table.rows
        ]
        self._named_by_outcome: dict[tuple[int, int], tuple[str, ...]] = {}
        self.unconfirmed = False
        self.by_engine = 0  # cases the engine worked up itself (for the tests and the docs)
        self._seen: dict[tuple[Any, ...], tuple[Any, tuple[Any, ...], bool]] = {}

    def step(
        self,
        ctx: Context,
        case: Case,
        facts: Any,
        cls: Classification,
        stg: Stage,
        liver: LiverMetastasis,
        syndromes: list[FunctionalSyndrome],
    ) -> list[WorkupItem]:
        table = self.table
        vals = tuple(map(workup_facts(facts).get, table.names))
        got = compiled_collect(table, vals)
        self.unconfirmed = False
        if got is None:  # an input the compiled function cannot read: the engine's step here
            self.by_engine += 1
            return workup(ctx, case, facts, cls, stg, liver, syndromes)
        done = getattr(facts, "done", {})
        outcome = (got, 0) if type(got) is int else (got[0], got[1])
        named = self._named_by_outcome.get(outcome)
        if named is None:  # the investigations the rows that apply or wait name
            if len(self._named_by_outcome) > MEMO_LIMIT:
                self._named_by_outcome.clear()
            rows = outcome[0] | outcome[1]
            named = self._named_by_outcome[outcome] = tuple(
                sorted({d for j, ds in enumerate(self.named) if rows >> j & 1 for d in ds})
            )
        key = (outcome, tuple(d in done for d in named))
        hit = self._seen.get(key)
        if hit is None:
            if len(self._seen) > MEMO_LIMIT:
                self._seen.clear()
            hit = self._seen[key] = self._engine(case, facts, cls, stg, liver, syndromes)
        items, issues, unconfirmed = hit
        ctx.issues.extend(issues)
        self.unconfirmed = unconfirmed
        return items  # type: ignore[no-any-return]

    def _engine(
        self,
        case: Case,
        facts: Any,
        cls: Classification,
        stg: Stage,
        liver: LiverMetastasis,
        syndromes: list[FunctionalSyndrome],
    ) -> tuple[Any, tuple[Any, ...], bool]:
        """The engine's step on one case, kept as the flat row needs it: the item codes,
        the issues' codes and kinds, and whether it traced unconfirmed content."""
        ctx = Context(self.kb, self.lang, notes=False)
        out = workup(ctx, case, facts, cls, stg, liver, syndromes)
        traced = chain.from_iterable(map(_RULE_IDS, ctx.trace))
        return (
            FrozenList([FrozenDict(code=w["code"]) for w in out]),
            tuple(FrozenDict(code=i["code"], kind=i["kind"]) for i in ctx.issues),
            not self.kb.unconfirmed_rules.isdisjoint(traced),
        )
