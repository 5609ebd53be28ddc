"""Benchmark: batch assessment of generated cohorts (issue 12), in one run.

For each size (default 10^4 and 10^5; add 10^6 with ``--sizes 10000 100000 1000000``) it
generates a cohort with ``nenguide synth`` and assesses it end to end (read, map, validate,
assess, write Parquet) with:

* ``per-case``: ``nenguide batch`` with the per-case engine in one process;
* ``per-case x2``: the same with two worker processes (``--processes 2``);
* ``spark local[2]``: ``nenguide.batch.spark.assess`` in a local Spark session, written to
  Parquet (session start-up reported separately);
* ``columnar``: not built yet (it needs the engine's fact layer); the column is left for it.

Reported: wall time, cases per second, peak memory of the whole process tree (sampled from
/proc every 0.2 s: Python, worker processes and Spark's JVM), ratios to the per-case loop, and
the load average (the machine is shared). Writes a Markdown table, a JSON file and a plot of time
against size. Not a test; run ``python benchmarks/batch.py`` and copy the table into
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
nspark.assess(df, as_of=dt.date(2026, 11, 23)).write.mode("overwrite").parquet(sys.argv[2])
t2 = time.perf_counter()
spark.stop()
print(f"{t1 - t0:.3f} {t2 - t1:.3f}")
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


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    nen = [sys.executable, "-m", "nenguide"]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            src = Path(tmp) / f"cohort-{n}.jsonl"
            with open(src, "w") as fh:
                subprocess.run([*nen, "synth", str(n), "--seed", "1"], stdout=fh, check=True)
            runs: list[tuple[str, list[str]]] = [
                (
                    "per-case",
                    [*nen, "batch", str(src), f"{tmp}/o1.parquet", "--as-of", "2026-11-23"],
                ),
                (
                    "per-case x2",
                    [
                        *nen,
                        "batch",
                        str(src),
                        f"{tmp}/o2.parquet",
                        "--as-of",
                        "2026-11-23",
                        "-p",
                        "2",
                    ],
                ),
            ]
            if not args.no_spark:
                script = Path(tmp) / "spark_run.py"
                script.write_text(SPARK_SCRIPT)
                runs.append(
                    ("spark local[2]", [sys.executable, str(script), str(src), f"{tmp}/o3"])
                )
            for name, cmd in runs:
                load_before = os.getloadavg()[0]
                secs, mib, out = run_measured(cmd)
                load_after = os.getloadavg()[0]
                row: dict[str, Any] = {
                    "size": n,
                    "method": name,
                    "seconds": round(secs, 2),
                    "cases_per_s": round(n / secs),
                    "peak_mib": mib,
                    "load": f"{load_before:.1f}-{load_after:.1f}",
                }
                if name.startswith("spark"):
                    startup, work = (float(v) for v in out.split()[-2:])
                    row["spark_startup_s"] = round(startup, 1)
                    row["cases_per_s_excl_startup"] = round(n / work)
                results.append(row)
                print(json.dumps(row), flush=True)
    base = {r["size"]: r["seconds"] for r in results if r["method"] == "per-case"}
    for r in results:
        r["ratio_vs_per_case"] = round(base[r["size"]] / r["seconds"], 2)
    (args.out / "batch.json").write_text(json.dumps(results, indent=1))
    lines = [
        "| cases | method | seconds | cases/s | speed vs per-case | peak memory (MiB) | load avg |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        extra = ""
        if "spark_startup_s" in r:
            rate, start = r["cases_per_s_excl_startup"], r["spark_startup_s"]
            extra = f" ({rate:,} without the {start} s start-up)"
        lines.append(
            f"| {r['size']:,} | {r['method']} | {r['seconds']} | {r['cases_per_s']:,}{extra} | "
            f"{r['ratio_vs_per_case']} | {r['peak_mib']} | {r['load']} |"
        )
    table = "\n".join(lines)
    (args.out / "batch.md").write_text(table + "\n")
    print(table)
    _plot(results, args.out / "batch.png")


def _plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for method in dict.fromkeys(r["method"] for r in results):
        pts = sorted((r["size"], r["seconds"]) for r in results if r["method"] == method)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=method)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("cases")
    ax.set_ylabel("wall time, s (read, assess, write)")
    ax.set_title("nenguide batch: time against size")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
