"""The batch programs' steps against the engine's own, case by case (a helper of the tests of
:mod:`nenguide.batch.columnar.workup`, ``.treatment`` and ``.followup``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

from nenguide.engine.assess import steps_before_hereditary
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts
from nenguide.engine.kb import Knowledge
from nenguide.model.case import Case

_RULE_IDS = itemgetter("rule_ids")


def step_diffs(
    kb: Knowledge,
    prog: Any,
    hook: str,
    view: Callable[[Sequence[Any]], Any],
    cases: list[tuple[Case, dt.date]],
) -> list[str]:
    """Each case through the engine's steps up to hereditary screening twice, with the batch
    program ``prog``'s step in place of the engine's (``hook``: the keyword of
    :func:`steps_before_hereditary`, e.g. ``treatment_step``) and without: the cases whose
    answers differ, as ``view`` shows them (of the steps' parts), with the issues' codes and
    kinds and whether unconfirmed content was read (the program's flag for an answer it gave
    from an earlier case, or the case's own trace)."""
    diffs = []
    for case, as_of in cases:
        ctx = Context(kb, "en", notes=False)
        got = steps_before_hereditary(
            ctx, case, case_facts(ctx, case), as_of, None, **{hook: prog.step}
        )
        flag = prog.unconfirmed
        ref = Context(kb, "en", notes=False)
        want = steps_before_hereditary(ref, case, case_facts(ref, case), as_of, None)
        rows = [
            (
                view(parts),
                [(i["code"], i["kind"]) for i in c.issues],
                read
                or not kb.unconfirmed_rules.isdisjoint(
                    chain.from_iterable(map(_RULE_IDS, c.trace))
                ),
            )
            for parts, c, read in ((got, ctx, flag), (want, ref, False))
        ]
        if rows[0] != rows[1]:
            diffs.append(f"{case.case_id} ({as_of}): {rows[0]} != {rows[1]}")
    return diffs
