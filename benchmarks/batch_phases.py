"""Benchmark: where a batch row's time goes, phase by phase, in one process (issue 12).

Runs the batch's own per-row work (``nenguide.batch.rows.assess_rows`` with the columnar
backend, full pathway, chunks of ``--chunk`` rows as a worker process gets them with
``--processes 2``) on generated cases, with a timer around each phase's function: reading the
line, validating the case, the fact layer, the fact frame and the compiled core, the core
models, each later step of the engine, the flat row, and the collector's pass at the chunk's
end. Nothing is re-implemented here: the timers wrap the functions the batch calls, so the
phases add up to the batch's own work (the rest, ``other``, is the glue between them).

Reports µs per row per phase, with CPU and wall time of the whole run and the load average
(the machine is shared: compare phases within one run). Not a test; run
``python benchmarks/batch_phases.py --cases 20000`` and copy the table into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))
from machine import interpreter, reference_ms

AS_OF = dt.date(2026, 11, 23)


class Timers:
    """Wall time per phase, for phases that do not nest (a phase inside another is not
    counted twice: the outer one pauses while an inner one runs)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list[Any]] = []  # [phase, start, inner time]

    def wrap(self, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            frame = [phase, time.perf_counter(), 0.0]
            self._stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                self._stack.pop()
                took = time.perf_counter() - frame[1]
                own = took - frame[2]
                self.spent[phase] = self.spent.get(phase, 0.0) + own
                self.calls[phase] = self.calls.get(phase, 0) + 1
                if self._stack:
                    self._stack[-1][2] += took

        return timed


def patch(t: Timers) -> None:
    """Put a timer around each phase's function where the batch looks it up."""
    import nenguide.batch.columnar.backend as cb
    import nenguide.batch.rows as rows
    import nenguide.engine.assess as assess_mod
    from nenguide.batch.columnar.core import CoreProgram

    # a plain case line is read and validated in one go (pydantic's JSON parser); other lines
    # (envelopes, rejects) are decoded, then validated
    rows.plain_case_line = t.wrap("read and validate a plain line", rows.plain_case_line)
    rows.decode_line = t.wrap("read the line (JSON)", rows.decode_line)
    rows.parse_case = t.wrap("validate the case", rows.parse_case)
    cb.case_facts = t.wrap("fact layer", cb.case_facts)
    cb.fact_frame = t.wrap("fact frame", cb.fact_frame)
    CoreProgram.run = t.wrap("core steps (compiled, Polars)", CoreProgram.run)
    from nenguide.batch.columnar.models import Models

    Models.of_row = t.wrap("core models", Models.of_row)
    for name, phase in (
        ("functional_syndromes", "syndromes"),
        ("pathway_facts", "phase-2 facts"),
        ("classify", "core by the engine (fallback)"),
        ("stage", "core by the engine (fallback)"),
        ("liver_type", "core by the engine (fallback)"),
    ):
        setattr(assess_mod, name, t.wrap(phase, getattr(assess_mod, name)))
    from nenguide.batch.columnar.followup import FollowUpProgram
    from nenguide.batch.columnar.hereditary import HereditaryProgram
    from nenguide.batch.columnar.treatment import TreatmentProgram
    from nenguide.batch.columnar.workup import WorkupProgram

    # work-up, treatment and follow-up: the batch's steps (the engine's, once per distinct
    # outcome of the work-up table, per distinct set of answers of the treatment tables and
    # per distinct view of the follow-up decision and its anchor)
    WorkupProgram.step = t.wrap("work-up", WorkupProgram.step)
    TreatmentProgram.step = t.wrap("treatment", TreatmentProgram.step)
    FollowUpProgram.step = t.wrap("follow-up", FollowUpProgram.step)

    # hereditary screening: what it reads of each case, then the chunk at once (the engine's
    # step inside it, once per distinct outcome, is timed on its own)
    HereditaryProgram.read = t.wrap("hereditary: read per case", HereditaryProgram.read)
    HereditaryProgram.run = t.wrap("hereditary: the chunk (Polars)", HereditaryProgram.run)
    HereditaryProgram.engine = t.wrap("hereditary: the engine's step", HereditaryProgram.engine)
    cb.flatten_parts = t.wrap("flat row", cb.flatten_parts)
    cb.ColumnarBackend._context = t.wrap("context and expiry notice", cb.ColumnarBackend._context)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--chunk", type=int, default=2_500, help="rows per chunk (a worker's part)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="also write the results as JSON to this file")
    args = ap.parse_args()

    from nenguide.batch.backend import gc_paused
    from nenguide.batch.columnar.backend import ColumnarBackend
    from nenguide.batch.mapping import Mapper
    from nenguide.batch.rows import assess_rows
    from nenguide.batch.synth import generate

    lines = [json.dumps(s.case) for s in generate(args.cases, seed=args.seed)]
    backend = ColumnarBackend("csco-2021", AS_OF)
    mapper = Mapper()
    t = Timers()
    patch(t)
    collect = t.wrap("collector at the chunk's end", gc.collect)
    warm = [(i, line) for i, line in enumerate(lines[: args.chunk], 1)]
    assess_rows(warm, "jsonl", mapper, backend.assess)  # compile the core, fill the memo
    t.spent.clear()
    t.calls.clear()

    cpu0, wall0 = time.process_time(), time.perf_counter()
    for start in range(0, len(lines), args.chunk):
        chunk = [(i, line) for i, line in enumerate(lines[start : start + args.chunk], start + 1)]
        gc.disable()  # as assess_rows' own pause does; its collection timed here
        try:
            with gc_paused():  # nested: assess_rows' pause leaves the collection to this one
                assess_rows(chunk, "jsonl", mapper, backend.assess)
        finally:
            gc.enable()
            collect(0)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    n = len(lines)
    phases = dict(sorted(t.spent.items(), key=lambda kv: -kv[1]))
    other = wall - sum(phases.values())
    out: dict[str, Any] = {
        "cases": n,
        "chunk": args.chunk,
        "wall_us_per_row": round(wall / n * 1e6, 1),
        "cpu_us_per_row": round(cpu / n * 1e6, 1),
        "load_average_1min": os.getloadavg()[0],
        "phases_us_per_row": {k: round(v / n * 1e6, 1) for k, v in phases.items()},
        "other_us_per_row": round(other / n * 1e6, 1),
    }
    print("| phase | µs per row | share |\n|---|---:|---:|")
    for k, v in phases.items():
        print(f"| {k} | {v / n * 1e6:.1f} | {v / wall:.0%} |")
    print(f"| other (glue between the phases) | {other / n * 1e6:.1f} | {other / wall:.0%} |")
    print(f"| **all** (wall; CPU {cpu / n * 1e6:.0f}) | **{wall / n * 1e6:.1f}** | |")
    out["machine_reference_ms"] = reference_ms()
    out["interpreter"] = interpreter()
    print(
        f"\n{n} cases, chunks of {args.chunk}, load average {out['load_average_1min']:.2f}, "
        f"machine reference workload {out['machine_reference_ms']} ms (benchmarks/machine.py), "
        f"interpreter {out['interpreter']}"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
