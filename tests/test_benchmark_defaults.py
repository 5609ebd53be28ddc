"""`make bench` runs ``benchmarks/bench_assess.py`` with its defaults. Its warm measure needs
the memo entries of all its engine cases to fit the memo's limit: when they did not (2 000
cases at about 12 entries each, against 20 000), the benchmark stopped with "the memo filled
up", and `make bench` failed. This checks the default on the benchmark's own cases, the same
way the benchmark fills the memo."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from nenguide import assess, load_knowledge
from nenguide.engine.context import MEMO_LIMIT
from nenguide.model.case import Case

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_default_engine_cases_fit_the_memo() -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_assess
    finally:
        sys.path.remove(str(BENCHMARKS))
    n = bench_assess.ENGINE_CASES
    # the benchmark's own cases: the first n of its default run (generated with a fixed seed)
    cases = [Case.model_validate(d) for d in bench_assess.generate(n)]
    kb = load_knowledge()
    kb.memo.clear()
    size = 0
    for c in cases:
        assess(c, kb, as_of=dt.date(2026, 11, 23))
        assert len(kb.memo) >= size, "the memo was emptied: the default engine cases overflow it"
        size = len(kb.memo)
    # with room to spare, so that a few more entries a case do not break `make bench`
    assert size <= 0.8 * MEMO_LIMIT, (size, n)
