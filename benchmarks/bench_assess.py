"""Benchmark: assess N generated cases one by one, in-process.

Reports the median (and p90/p99) microseconds per case for ``assess()`` alone and for
validation + ``assess()``, the throughput, and peak memory; full ``assess()`` with the memo cache
cold (emptied before each case) and warm; and the Ki-67 grade table alone against pyDMNrules
running a DMN generated from the same table (``benchmarks/dmn_export.py``), with the ratio.
Not a test: run it with
``make bench`` (or ``python benchmarks/bench_assess.py --cases 100000``) and copy the table
into docs/benchmarks.md. The machine is shared: compare medians within one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))
from machine import interpreter, reference_ms
from nenguide import __version__, assess, load_knowledge
from nenguide.engine.classify import classify
from nenguide.engine.context import MEMO_LIMIT, Context
from nenguide.engine.facts import derive
from nenguide.engine.liver import liver_type
from nenguide.engine.stage import stage
from nenguide.model.case import Case

#: cases of the cold/warm measures by default: their memo entries (about 12 a case in session
#: 18, 8.5 in session 3) must fit the memo's limit (``MEMO_LIMIT``), or the warm pass would time
#: some of them cold (:func:`_unless_cleared` stops the run then);
#: tests/test_benchmark_defaults.py checks that they fit
ENGINE_CASES = 1_000

SITES = [
    "stomach",
    "duodenum",
    "ampulla",
    "jejunum",
    "ileum",
    "appendix",
    "colon",
    "rectum",
    "pancreas",
    "lung",
    "thymus",
    "other",
    "unknown_primary",
]
EXTENTS = {
    "stomach": ["mucosa", "submucosa", "muscularis_propria", "subserosa", "serosa"],
    "jejunum": ["submucosa", "muscularis_propria", "subserosa", "serosa"],
    "ileum": ["submucosa", "muscularis_propria", "subserosa", "serosa", "adjacent_organ"],
    "colon": ["mucosa", "submucosa", "muscularis_propria", "subserosa"],
    "rectum": ["mucosa", "submucosa", "muscularis_propria"],
    "duodenum": ["mucosa", "submucosa", "muscularis_propria", "pancreas_or_peripancreatic_fat"],
    "ampulla": ["sphincter_of_oddi", "duodenal_wall", "pancreas_or_peripancreatic_fat"],
    "appendix": ["submucosa", "muscularis_propria", "subserosa", "mesoappendix"],
    "pancreas": ["confined_to_pancreas", "duodenum_or_bile_duct", "large_vessel"],
}


def generate(n: int, seed: int = 20261123) -> list[dict[str, Any]]:
    """Realistic mix: mostly complete GEP cases, some lung, some with missing data."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        site = rnd.choice(SITES)
        tumour: dict[str, Any] = {"primary_site": site, "size_cm": round(rnd.uniform(0.2, 8), 1)}
        if site in EXTENTS and rnd.random() < 0.9:
            tumour["extent"] = rnd.choice(EXTENTS[site])
        if site == "lung":
            tumour["lung_descriptors"] = rnd.sample(
                ["visceral_pleura", "chest_wall"], rnd.randint(0, 1)
            )
        examined = rnd.randint(0, 20)
        nodes: dict[str, Any] = {"examined": examined, "positive": rnd.randint(0, examined)}
        if site == "lung":
            nodes = (
                {"status": "negative"}
                if rnd.random() < 0.5
                else {
                    "lung_highest_station": rnd.choice(
                        ["hilar_or_intrapulmonary", "mediastinal_or_subcarinal"]
                    )
                }
            )
        status = rnd.choice(["none", "none", "present", "unknown"])
        mets: dict[str, Any] = {"status": status}
        if status == "present":
            mets["liver"] = {
                "lesion_count": rnd.randint(1, 12),
                "extent": rnd.choice(["confined", "bilobar"]),
                "resectability": rnd.choice(
                    ["standard_resection", "unresectable", "resection_with_ablation_or_staged"]
                ),
            }
            if rnd.random() < 0.4:
                mets["extrahepatic"] = [{"site": "bone", "lesion_count": rnd.randint(1, 3)}]
        diff = rnd.choice(["well", "well", "well", "poor"])
        path: dict[str, Any] = {
            "differentiation": diff,
            "ki67_percent": round(rnd.uniform(0, 90 if diff == "poor" else 40), 1),
            "mitoses_per_2mm2": rnd.randint(0, 60 if diff == "poor" else 15),
        }
        if diff == "poor":
            path["morphology"] = rnd.choice(["small_cell", "large_cell"])
            path["ki67_percent"] = max(path["ki67_percent"], 25.0)
            path["mitoses_per_2mm2"] = max(path["mitoses_per_2mm2"], 25)
        if site in ("lung", "thymus"):
            path["necrosis"] = rnd.choice(["absent", "focal"])
        out.append(
            {
                "case_id": f"bench-{i}",
                "tumour": tumour,
                "regional_nodes": nodes,
                "metastases": mets,
                "pathology": path,
                "staging_basis": rnd.choice(["clinical", "pathological"]),
            }
        )
    return out


def pct(xs: list[float], q: float) -> float:
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def cold_warm(
    kb: Any,
    cases: list[Case],
    as_of: dt.date,
    others: list[Case] | None = None,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> dict[str, float]:
    """Full ``assess()`` with the memo cache cold (emptied before each case), warm (every case
    assessed once before timing: table results, trace entries, issues and the steps' output per
    set of facts are all memoised) and, with ``others``, warm for unseen cases (the memo filled
    by ``others``, other generated cases: what a running service sees for a new patient), in
    one run. The warm measure stops the benchmark if the memo fills up (and is emptied) while
    its cases are memoised or timed: some of them would then be timed cold. ``clock``: in ns
    (default the wall clock; ``time.thread_time_ns`` counts this thread's CPU time only)."""
    cold: list[float] = []
    for c in cases:
        kb.memo.clear()
        t0 = clock()
        assess(c, kb, as_of=as_of)
        cold.append((clock() - t0) / 1000)
    unseen: list[float] = []
    if others:
        kb.memo.clear()
        for c in others:  # fill the memo with other cases
            assess(c, kb, as_of=as_of)
        for c in cases:
            t0 = clock()
            assess(c, kb, as_of=as_of)
            unseen.append((clock() - t0) / 1000)
    kb.memo.clear()  # from empty: what the unseen pass left must not overflow it mid-fill
    size = 0
    for c in cases:  # fill the memo
        assess(c, kb, as_of=as_of)
        size = _unless_cleared(kb, size, len(cases))
    warm: list[float] = []
    for c in cases:
        t0 = clock()
        assess(c, kb, as_of=as_of)
        warm.append((clock() - t0) / 1000)
        size = _unless_cleared(kb, size, len(cases))
    cold.sort()
    warm.sort()
    unseen.sort()
    out = {
        "assess_cold_median_us": round(statistics.median(cold), 1),
        "assess_cold_p99_us": round(pct(cold, 0.99), 1),
        "assess_warm_median_us": round(statistics.median(warm), 1),
        "assess_warm_p99_us": round(pct(warm, 0.99), 1),
    }
    if unseen:
        out["assess_warm_unseen_median_us"] = round(statistics.median(unseen), 1)
        out["assess_warm_unseen_p99_us"] = round(pct(unseen, 0.99), 1)
    out["assess_warm_memo_entries"] = size
    return out


def _unless_cleared(kb: Any, before: int, n: int) -> int:
    """The memo's size now; stops the benchmark if the memo was emptied since (it was full):
    the cases of the warm measure would then not all be memoised, and it would time some of
    them cold."""
    now = len(kb.memo)
    if now < before:
        raise SystemExit(
            f"the memo filled up ({MEMO_LIMIT} entries) while {n} cases were memoised for the "
            "warm measure: use fewer --engine-cases"
        )
    return now


def grade_vs_dmn(kb: Any, n: int, seed: int = 7) -> dict[str, Any]:
    """The Ki-67 grade table alone, nenguide vs pyDMNrules on the same DMN (generated from the
    package's own table), same inputs, same run; the outputs must agree."""
    from nenguide.engine.tables import evaluate_first

    table = kb.tables[kb.pathway.table("classification", "grade_ki67")]
    rnd = random.Random(seed)
    values = [round(rnd.uniform(0, 100), 1) for _ in range(n)]
    ours: list[float] = []
    answers = []
    for v in values:
        t0 = time.perf_counter_ns()
        res = evaluate_first(table, {"ki67_percent": v})
        ours.append((time.perf_counter_ns() - t0) / 1000)
        answers.append(res.value)
    out: dict[str, Any] = {"grade_table_nenguide_median_us": round(statistics.median(ours), 2)}
    try:
        import pyDMNrules
    except ImportError:
        out["grade_table_pydmnrules"] = "not installed (pip install -e '.[bench]')"
        return out
    sys.path.insert(0, os.path.dirname(__file__))
    from dmn_export import to_dmn

    dmn = pyDMNrules.DMN()
    status = dmn.useXML(to_dmn(table, {"ki67_percent": "Ki67", "grade": "Grade"}))
    if status.get("errors"):
        raise SystemExit(f"pyDMNrules could not load the generated DMN: {status['errors']}")
    theirs: list[float] = []
    for v, mine in zip(values, answers, strict=True):
        t0 = time.perf_counter_ns()
        _, result = dmn.decide({"Ki67": v})
        theirs.append((time.perf_counter_ns() - t0) / 1000)
        if result["Result"]["Grade"] != mine:
            raise SystemExit(f"disagreement at Ki-67 {v}: {result['Result']['Grade']} vs {mine}")
    med = statistics.median(theirs)
    out["grade_table_pydmnrules_median_us"] = round(med, 1)
    out["grade_table_speedup_x"] = round(med / statistics.median(ours), 1)
    out["grade_table_inputs_agreeing"] = n
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--engine-cases", type=int, default=ENGINE_CASES,
                    help="cases for the cold/warm measures")  # fmt: skip
    ap.add_argument("--grade-values", type=int, default=2_000,
                    help="Ki-67 values for the grade table against pyDMNrules")  # fmt: skip
    ap.add_argument("--json", help="also write the results as JSON to this file")
    args = ap.parse_args()

    kb = load_knowledge()
    as_of = dt.date(2026, 11, 23)
    raw = generate(args.cases)
    # warm-up
    for d in raw[:500]:
        assess(Case.model_validate(d), kb, as_of=as_of)

    gc.collect()
    validate_us: list[float] = []
    cases: list[Case] = []
    for d in raw:
        t0 = time.perf_counter_ns()
        cases.append(Case.model_validate(d))
        validate_us.append((time.perf_counter_ns() - t0) / 1000)

    # the issue-2 core on its own: classification and grade, stage, ENETS liver type
    core_us: list[float] = []
    for c in cases:
        t0 = time.perf_counter_ns()
        ctx = Context(kb, "en")
        facts = derive(c)
        cls = classify(ctx, facts, c)
        stage(ctx, facts, c, cls)
        liver_type(ctx, facts, cls)
        core_us.append((time.perf_counter_ns() - t0) / 1000)

    assess_us: list[float] = []
    start = time.perf_counter()
    for c in cases:
        t0 = time.perf_counter_ns()
        assess(c, kb, as_of=as_of)
        assess_us.append((time.perf_counter_ns() - t0) / 1000)
    wall = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # peak memory of assessing alone (traced allocations; slower, so on a sample)
    tracemalloc.start()
    for c in cases[:5000]:
        assess(c, kb, as_of=as_of)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    n = min(args.engine_cases, len(cases) // 2)
    engine = cold_warm(kb, cases[:n], as_of, cases[n : 2 * n])
    engine.update(grade_vs_dmn(kb, args.grade_values))

    assess_us.sort()
    validate_us.sort()
    core_us.sort()
    both = sorted(a + v for a, v in zip(assess_us, validate_us, strict=True))
    result = {
        "cases": args.cases,
        "engine_version": __version__,
        "python": interpreter(),
        "machine": platform.machine(),
        "core_median_us (classify+stage+liver)": round(statistics.median(core_us), 1),
        "core_p99_us": round(pct(core_us, 0.99), 1),
        "assess_median_us (full pathway)": round(statistics.median(assess_us), 1),
        "assess_p90_us": round(pct(assess_us, 0.90), 1),
        "assess_p99_us": round(pct(assess_us, 0.99), 1),
        "validate_median_us": round(statistics.median(validate_us), 1),
        "validate_plus_assess_median_us": round(statistics.median(both), 1),
        "throughput_cases_per_s": round(args.cases / wall),
        "peak_rss_mb": round(rss_mb, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "machine_reference_ms (benchmarks/machine.py)": reference_ms(),
        "peak_traced_kib_per_assessment_loop": round(peak / 1024, 1),
        **engine,
    }
    print("| measure | value |\n|---|---|")
    for k, v in result.items():
        print(f"| {k} | {v} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
