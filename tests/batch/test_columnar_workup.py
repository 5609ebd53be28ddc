"""Work-up in the batch (:class:`nenguide.batch.columnar.workup.WorkupProgram`) against the
engine's own step, case by case.

The program runs the engine's step once per distinct outcome of the work-up table and set of
investigations done, and gives that answer (item codes, issue codes and kinds, unconfirmed
content) to every later case with the same. These tests check that each case gets what the
engine gives on that very case: on the golden vignettes, on generated cases, and on generated
cases given random investigations already done (some of them the ones the table names); that
an input the table's compiled function cannot read goes to the engine; and that the answers are
shared.
"""

from __future__ import annotations

import datetime as dt
import random
from operator import itemgetter
from pathlib import Path
from typing import Any

import pytest
from stepcheck import step_diffs

from nenguide.batch.columnar.workup import WorkupProgram
from nenguide.batch.synth import generate
from nenguide.engine.assess import steps_before_hereditary
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import one_of
from nenguide.engine.workup import workup
from nenguide.errors import CaseInputError, parse_case
from nenguide.model.case import Case
from nenguide.model.clinical import InvestigationKind

AS_OF = dt.date(2026, 11, 23)
VIGNETTES = Path(__file__).parent.parent / "vignettes"
_RULE_IDS = itemgetter("rule_ids")


def _with_investigations(n: int, seed: int) -> list[tuple[Case, dt.date]]:
    rng = random.Random(seed)
    kinds = [k.value for k in InvestigationKind]
    out = []
    for s in generate(n, seed=seed):
        d: dict[str, Any] = dict(s.case)
        clin = dict(d.get("clinical") or {})
        clin["investigations"] = [
            {"kind": k, "date": (AS_OF - dt.timedelta(days=rng.randint(1, 400))).isoformat()}
            for k in rng.sample(kinds, rng.randint(0, 5))
        ]
        d["clinical"] = clin
        try:
            out.append((parse_case(d), AS_OF))
        except CaseInputError:
            continue
    return out


def _compare(prog: WorkupProgram, cases: list[tuple[Case, dt.date]]) -> list[str]:
    """Each case through the program and through the engine's step: the differences."""
    return step_diffs(prog.kb, prog, "workup_step", lambda parts: [w["code"] for w in parts[4]],
                      cases)  # fmt: skip


@pytest.fixture()
def prog(kb: Knowledge) -> WorkupProgram:
    return WorkupProgram(kb, "en")


@pytest.mark.parametrize("source", ["vignettes", "cohort", "investigations"])
def test_every_case_gets_the_engines_answer_on_that_case(
    prog: WorkupProgram, source: str, vignette_cases: list[tuple[Case, dt.date]]
) -> None:
    cases = {
        "vignettes": lambda: vignette_cases,
        "cohort": lambda: [(parse_case(s.case), AS_OF) for s in generate(2000, seed=31)],
        "investigations": lambda: _with_investigations(2000, seed=32),
    }[source]()
    diffs = _compare(prog, cases)
    assert not diffs, diffs[:3]
    if source == "cohort":  # the generated cohort's answers are shared: few engine runs
        assert 0 < len(prog._seen) < len(cases) / 5


def test_an_input_the_table_cannot_read_goes_to_the_engine(kb: Knowledge) -> None:
    """A range of candidates (a size reported as a range): the engine's step on the case,
    not a shared answer."""
    prog = WorkupProgram(kb, "en")
    case = parse_case(
        {"tumour": {"primary_site": "rectum", "size_cm": 1.5}, "pathology": {"ki67_percent": 1}}
    )
    ctx = Context(kb, "en", notes=False)
    *parts, facts = steps_before_hereditary(ctx, case, case_facts(ctx, case), AS_OF, None)
    ranged = facts.with_(size_cm=one_of([0.8, 1.5]))
    cls, stg, liver, syndromes = parts[0], parts[1], parts[2], parts[3]
    got = prog.step(Context(kb, "en", notes=False), case, ranged, cls, stg, liver, syndromes)
    want = workup(Context(kb, "en", notes=False), case, ranged, cls, stg, liver, syndromes)
    assert prog.by_engine == 1 and not prog._seen
    assert got == want
