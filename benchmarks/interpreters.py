"""Benchmark: the same engine on two or more Python interpreters, alternated.

The machines here are shared and change speed from second to second, so two interpreters
measured one after the other can differ by the machine's moment rather than by themselves.
This script alternates them: in each round, each interpreter runs a fresh child process that
assesses the same bench cases (``bench_assess.generate``), cold (the memo emptied before each
case) and warm (each case assessed once before), timing each ``assess()`` by the CPU time of
its thread (steadier than the wall time under other load), and runs the reference workload
(``machine.py``). The medians of the rounds are reported per interpreter, with the ratios to
the first. Each interpreter needs nenguide installed (``make PYTHON=... VENV=...``).

    python benchmarks/interpreters.py .venv/bin/python /path/to/other/venv/bin/python

Not a test; docs/benchmarks.md quotes its results (session 17).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def child(cases: int) -> dict[str, float | str]:
    """One round in this interpreter: the cold and warm medians (µs of thread CPU time per
    ``assess()``) of ``cases`` bench cases, and the reference workload (ms)."""
    sys.path.insert(0, HERE)
    import datetime as dt

    from bench_assess import cold_warm, generate
    from machine import interpreter, reference_ms
    from nenguide import assess, load_knowledge
    from nenguide.model.case import Case

    kb = load_knowledge()
    as_of = dt.date(2026, 11, 23)
    batch = [Case.model_validate(d) for d in generate(cases)]
    for c in batch[:200]:  # warm-up of the interpreter's own caches
        assess(c, kb, as_of=as_of)
    timed = cold_warm(kb, batch, as_of, clock=time.thread_time_ns)
    return {
        "interpreter": interpreter(),
        "cold_median_us": timed["assess_cold_median_us"],
        "warm_median_us": timed["assess_warm_median_us"],
        "reference_ms": reference_ms(repeat=21),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pythons", nargs="*", help="interpreters (each with nenguide installed)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--cases", type=int, default=1000, help="bench cases per round")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.cases)))
        return 0
    if len(set(args.pythons)) < 2 or len(set(args.pythons)) < len(args.pythons):
        ap.error("give two or more different interpreters")
    runs: dict[str, list[dict[str, float | str]]] = {p: [] for p in args.pythons}
    load = [os.getloadavg()[0]]
    for r in range(args.rounds):
        order = args.pythons if r % 2 == 0 else args.pythons[::-1]  # who goes first alternates
        for p in order:
            cmd = [p, os.path.abspath(__file__), "--child", "--cases", str(args.cases)]
            done = subprocess.run(cmd, check=False, capture_output=True, text=True)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
                print(
                    f"{p} could not run the benchmark: {last}\n"
                    "Is nenguide installed for it? (make PYTHON=... VENV=...)",
                    file=sys.stderr,
                )
                return 1
            runs[p].append(json.loads(done.stdout.strip().splitlines()[-1]))
        load.append(os.getloadavg()[0])
    first = args.pythons[0]
    measures = ("cold_median_us", "warm_median_us", "reference_ms")

    def med(p: str, m: str) -> float:
        return statistics.median(float(x[m]) for x in runs[p])

    print(f"{args.rounds} rounds of {args.cases} bench cases, load {min(load):.1f}-{max(load):.1f}")
    print("| interpreter | " + " | ".join(measures) + " | ratio (cold, warm, reference) |")
    print("|---|" + "---:|" * (len(measures) + 1))
    for p in args.pythons:
        ratios = ", ".join(f"{med(first, m) / med(p, m):.2f}x" for m in measures)
        values = " | ".join(f"{med(p, m):.1f}" for m in measures)
        print(f"| {runs[p][0]['interpreter']} | {values} | {ratios} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
