"""Benchmark: batch assessment of generated cohorts (issue 12), in one run.

For each size (default 10^4 and 10^5; add 10^6 with ``--sizes 10000 100000 1000000``):

**Full pathway, end to end** (read JSON Lines, validate, assess, write Parquet), each method in
its own process:

* ``per-case``: ``nenguide batch --backend per-case`` (the reference engine, one process);
* ``columnar``: ``nenguide batch --backend columnar`` (the columnar backend over parts of
  ``--chunk-size`` cases, its default: 30 000 since session 21, 20 000 before), in one process
  and with ``--processes 2`` (worker processes that read, validate and assess their own rows);
* ``spark local[2]``: ``nenguide.batch.spark.assess`` (columnar backend in ``mapInArrow``) in a
  local Spark session, written to Parquet (session start-up reported separately).

**Core steps alone** (classification and grade, TNM stage, ENETS liver type), cases generated
and validated beforehand (not timed; at most 10^5 distinct cases, held in memory and evaluated
again in turn for larger sizes): the per-case loop (the engine's fact layer, ``classify``,
``stage``, ``liver_type`` per case, one process) and the columnar core
(``ColumnarBackend(pathway="core").core_frame``: the column reader, the compiled tables, the
engine for the cases it leaves to it) in ``--core-processes`` processes (default 1 and 2), each
holding its share of the cases and evaluating it as one chunk (up to 10^5 / processes cases),
timed from a common start to the last end. The processes are named in the method column. The
CPU time of the evaluation (every process and thread) is reported per case too: on a shared
machine it is steadier than the wall time.

Sizes above ``--max-per-case`` (per-case methods) or ``--max-full`` (columnar and Spark, full
pathway) are not run but extrapolated linearly from the largest size run, and marked so.
Reported: wall time, cases per second, peak memory of the whole process tree (sampled from
/proc every 0.2 s: Python, worker processes and Spark's JVM), ratios to the per-case loop, and
the load average (the machine is shared). Writes a Markdown table, a JSON file and a plot of
time against size. Not a test; run ``python benchmarks/batch.py`` and copy the table into
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))
from machine import interpreter, reference_ms

SPARK_SCRIPT = """
import datetime as dt, os, sys, time
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
t0 = time.perf_counter()
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.memory", "1g")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
t1 = time.perf_counter()
from nenguide.batch import spark as nspark
df = spark.read.text(sys.argv[1]).withColumnRenamed("value", "case")
out = nspark.assess(df, as_of=dt.date(2026, 11, 23), backend=sys.argv[3])
out.write.mode("overwrite").parquet(sys.argv[2])
t2 = time.perf_counter()
spark.stop()
print(f"{t1 - t0:.3f} {t2 - t1:.3f}")
"""


CORE_SCRIPT = """
import datetime as dt, multiprocessing as mp, sys, time
AS_OF = dt.date(2026, 11, 23)
CHUNK = 20000


def cohort(n, share, parts):
    # at most 10^5 distinct cases in all (generated in pieces of 20 000, held in memory), split
    # between the processes and evaluated as one chunk per process; a larger size evaluates
    # that chunk again in turn (nothing is cached between chunks)
    from nenguide.batch.synth import generate
    from nenguide.errors import parse_case
    distinct = min(n, 100000)
    lo, hi = distinct * share // parts, distinct * (share + 1) // parts
    cases = []
    for a in range(lo, hi, CHUNK):
        part = generate(min(CHUNK, hi - a), 1, validate=False, start=a)
        cases += [parse_case(s.case) for s in part]
    return [cases]


def runner(method):
    if method == "columnar":
        from nenguide.batch.columnar import ColumnarBackend
        backend = ColumnarBackend("csco-2021", AS_OF, pathway="core")
        return backend.core_frame, backend
    from nenguide.engine.classify import classify
    from nenguide.engine.context import Context
    from nenguide.engine.fact_layer import case_facts
    from nenguide.engine.liver import liver_type
    from nenguide.engine.stage import stage
    from nenguide.knowledge import load
    kb = load("csco-2021")
    def run(cases):
        for case in cases:
            ctx = Context(kb, "en")
            facts = case_facts(ctx, case)
            cls = classify(ctx, facts, case)
            stage(ctx, facts, case, cls)
            liver_type(ctx, facts, cls)
    return run, None


def evaluate(n, chunks, method):
    run, backend = runner(method)
    busy, cpu, done, i = 0.0, 0.0, 0, 0
    while done < n:
        cases = chunks[i % len(chunks)][: n - done]
        t0, c0 = time.perf_counter(), time.process_time()
        run(cases)
        busy += time.perf_counter() - t0
        cpu += time.process_time() - c0
        done += len(cases)
        i += 1
    return busy, getattr(backend, "fallback_count", 0), cpu


def worker(n, share, parts, method, barrier, out):
    chunks = cohort(n, share, parts)
    runner(method)  # imports and the knowledge package, not timed (as in one process)
    barrier.wait()
    out.put(evaluate(n * (share + 1) // parts - n * share // parts, chunks, method))


if __name__ == "__main__":
    n, method, parts = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    if parts == 1:
        busy, fallback, cpu = evaluate(n, cohort(n, 0, 1), method)
    else:  # each process holds its share of the cohort; timed from the start to the last end
        ctx = mp.get_context("spawn")
        barrier, out = ctx.Barrier(parts + 1), ctx.Queue()
        procs = [ctx.Process(target=worker, args=(n, k, parts, method, barrier, out))
                 for k in range(parts)]
        for p in procs:
            p.start()
        barrier.wait()
        t0 = time.perf_counter()
        results = [out.get() for _ in procs]
        busy = time.perf_counter() - t0
        fallback = sum(r[1] for r in results)
        cpu = sum(r[2] for r in results)
        for p in procs:
            p.join()
    print(f"{busy:.3f} {fallback} {cpu:.3f}")
"""


def _tree_rss_kib(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, in KiB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            with open(f"/proc/{entry}/statm") as fh:
                pages = int(fh.read().split()[1])
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * (os.sysconf("SC_PAGE_SIZE") // 1024)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_measured(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak tree RSS (MiB) and standard output of ``cmd``."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kib(proc.pid))
            done.wait(0.2)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    t.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    return elapsed, peak // 1024, out


def _row(
    n: int, method: str, secs: float, mib: int | None, load: str, **extra: Any
) -> dict[str, Any]:
    return {
        "size": n,
        "method": method,
        "seconds": round(secs, 2),
        "cases_per_s": round(n / secs),
        "peak_mib": mib,
        "load": load,
        **extra,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--max-per-case", type=int, default=100_000)
    ap.add_argument("--max-full", type=int, default=10**6)
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--no-full", action="store_true", help="only the core steps")
    ap.add_argument(
        "--core-processes",
        type=int,
        nargs="+",
        default=[1, 2],
        help="process counts for the columnar core (each process holds its share of the cases)",
    )
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    nen = [sys.executable, "-m", "nenguide"]
    results: list[dict[str, Any]] = []

    def measure(n: int, method: str, cmd: list[str]) -> dict[str, Any]:
        load_before = os.getloadavg()[0]
        secs, mib, out = run_measured(cmd)
        load = f"{load_before:.1f}-{os.getloadavg()[0]:.1f}"
        row = _row(n, method, secs, mib, load)
        if "spark" in method:
            startup, work = (float(v) for v in out.split()[-2:])
            row["spark_startup_s"] = round(startup, 1)
            row["cases_per_s_excl_startup"] = round(n / work)
        if method.startswith("core"):
            busy, fallback, cpu = out.split()[-3:]
            row = _row(n, method, float(busy), mib, load, wall_s=round(secs, 1))
            row["engine_fallback"] = int(fallback)
            # CPU time of the evaluation (all its processes and threads): steadier than wall
            # time on a shared machine
            row["cpu_us_per_case"] = round(float(cpu) / n * 1e6, 1)
        return row

    def extrapolate(n: int, method: str) -> dict[str, Any] | None:
        done = [r for r in results if r["method"] == method and not r.get("extrapolated")]
        if not done:
            return None
        last = max(done, key=lambda r: r["size"])
        secs = last["seconds"] * n / last["size"]
        return _row(n, method, secs, None, "-", extrapolated=f"from {last['size']:,}")

    with tempfile.TemporaryDirectory() as tmp:
        core = Path(tmp) / "core_run.py"
        core.write_text(CORE_SCRIPT)
        script = Path(tmp) / "spark_run.py"
        script.write_text(SPARK_SCRIPT)
        for n in args.sizes:
            runs: list[tuple[str, list[str] | None]] = []
            per_case_ok = n <= args.max_per_case
            full_ok = n <= args.max_full
            runs.append(
                (
                    "core per-case",
                    [sys.executable, str(core), str(n), "per-case", "1"] if per_case_ok else None,
                )
            )
            for procs in args.core_processes:
                name = f"core columnar ({procs} process{'es' if procs > 1 else ''})"
                runs.append((name, [sys.executable, str(core), str(n), "columnar", str(procs)]))
            if not args.no_full:
                src = Path(tmp) / f"cohort-{n}.jsonl"
                if per_case_ok or full_ok:
                    with open(src, "w") as fh:
                        subprocess.run(
                            [*nen, "synth", str(n), "--seed", "1"], stdout=fh, check=True
                        )
                batch = [*nen, "batch", str(src), f"{tmp}/o.parquet", "--as-of", "2026-11-23"]
                runs.append(
                    ("full per-case", [*batch, "--backend", "per-case"] if per_case_ok else None)
                )
                runs.append(
                    ("full columnar", [*batch, "--backend", "columnar"] if full_ok else None)
                )
                # two worker processes that read, validate and assess their own rows
                two = [*batch, "--backend", "columnar", "--processes", "2"]
                runs.append(("full columnar (2 processes)", two if full_ok else None))
                if not args.no_spark:
                    spark = [sys.executable, str(script), str(src), f"{tmp}/o3", "columnar"]
                    runs.append(("full spark local[2]", spark if full_ok else None))
            for name, cmd in runs:
                row = measure(n, name, cmd) if cmd else extrapolate(n, name)
                if row is not None:
                    results.append(row)
                    print(json.dumps(row), flush=True)
            src = Path(tmp) / f"cohort-{n}.jsonl"
            src.unlink(missing_ok=True)
    for r in results:
        kind = r["method"].split()[0]
        base = next(
            (b for b in results if b["size"] == r["size"] and b["method"] == f"{kind} per-case"),
            None,
        )
        r["ratio_vs_per_case"] = round(base["seconds"] / r["seconds"], 2) if base else None
    (args.out / "batch.json").write_text(json.dumps(results, indent=1))
    lines = [
        "| cases | pathway | method | seconds | cases/s | cases/min | × per-case "
        "| CPU µs/case | peak memory (MiB) | load avg |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        kind, method = r["method"].split(" ", 1)
        extra = ""
        if "spark_startup_s" in r:
            rate, start = r["cases_per_s_excl_startup"], r["spark_startup_s"]
            extra = f" ({rate:,} without the {start} s start-up)"
        if r.get("extrapolated"):
            extra += f" (extrapolated {r['extrapolated']})"
        if "engine_fallback" in r and method.startswith("columnar"):
            extra += f" ({r['engine_fallback'] / r['size']:.1%} by the engine)"
        mem = "-" if r["peak_mib"] is None else str(r["peak_mib"])
        lines.append(
            f"| {r['size']:,} | {kind} | {method} | {r['seconds']} | {r['cases_per_s']:,}{extra} "
            f"| {r['cases_per_s'] * 60:,} | {r['ratio_vs_per_case']} "
            f"| {r.get('cpu_us_per_case', '-')} | {mem} | {r['load']} |"
        )
    ref = reference_ms()
    lines.append(f"\nMachine reference workload (benchmarks/machine.py): {ref} ms")
    lines.append(f"\nInterpreter: {interpreter()}")
    table = "\n".join(lines)
    (args.out / "batch.md").write_text(table + "\n")
    print(table)
    _plot(results, args.out / "batch.png")


def _plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method in dict.fromkeys(r["method"] for r in results):
        pts = sorted((r["size"], r["seconds"]) for r in results if r["method"] == method)
        real = [p for p in pts if not _extrapolated(results, method, p[0])]
        line = ax.plot([p[0] for p in real], [p[1] for p in real], marker="o", label=method)
        extra = [p for p in pts if _extrapolated(results, method, p[0])]
        if extra and real:
            ax.plot(
                [real[-1][0], *[p[0] for p in extra]],
                [real[-1][1], *[p[1] for p in extra]],
                linestyle=":",
                marker="x",
                color=line[0].get_color(),
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("cases")
    ax.set_ylabel("seconds (full: read, assess, write; core: evaluation)")
    ax.set_title("nenguide batch: time against size (dotted: extrapolated)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _extrapolated(results: list[dict[str, Any]], method: str, size: int) -> bool:
    return any(
        r["method"] == method and r["size"] == size and r.get("extrapolated") for r in results
    )


if __name__ == "__main__":
    main()
