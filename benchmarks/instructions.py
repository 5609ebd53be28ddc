"""Benchmark: instructions executed per case (engine) and per row (batch), counted by callgrind.

The machines here change speed from second to second (session 14: the reference workload
between 39 and 72 ms within 25 s), so a change of a few per cent cannot be seen in seconds.
``valgrind --tool=callgrind`` counts the instructions a process executes, whatever else the
machine is doing (hash randomisation is fixed with ``PYTHONHASHSEED=0``). The count is nearly,
not exactly, the same from run to run: the same code's whole process differed by ~0.2 % between
two runs in session 14 (start-up, and caches keyed by object identity, follow the memory's
layout), so each measure below is a difference taken over enough work to keep that small. Not
a replacement for the timed benchmarks (instructions are not time: memory stalls do not show),
but a steady measure of a change.

For each source tree given (``--src``, e.g. a worktree of the session's start and ``src``;
default: the installed package), in one run, two processes at a time:

* **engine**: ``--cases`` of ``bench_assess.py``'s generated cases assessed twice (the memo
  filled), then ``--warm-passes`` more times warm, or once more each with an empty memo
  (cold); the instructions of those passes, per case and pass, are the difference with the
  same script without them;
* **batch**: ``nenguide batch --processes 1`` on the first ``--rows`` lines (two sizes) of a
  JSON Lines file of generated cases (``--input``; default: ``nenguide synth`` of the larger
  size, seed 2); a row's instructions are the difference between the two sizes over the rows
  between them (start-up and the first chunk's cold caches cancel out).

About 1 minute a count on a machine of ~50 ms (``machine.py``); ``python
benchmarks/instructions.py --src /tmp/base/src src`` compares two trees in ~5 minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = "2026-11-23"
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def _engine_pass(mode: str, n: int, warm_passes: int) -> None:
    """Run inside callgrind: the setup, then the passes ``mode`` (none, warm or cold)."""
    sys.path.insert(0, str(HERE))
    from bench_assess import generate
    from nenguide import assess, load_knowledge
    from nenguide.model.case import Case

    kb = load_knowledge()
    as_of = dt.date.fromisoformat(AS_OF)
    cases = [Case.model_validate(d) for d in generate(n)]
    for _ in range(2):
        for c in cases:
            assess(c, kb, as_of=as_of)
    if mode == "warm":
        for _ in range(warm_passes):
            for c in cases:
                assess(c, kb, as_of=as_of)
    elif mode == "cold":
        for c in cases:
            kb.memo.clear()
            assess(c, kb, as_of=as_of)


def _count(src: str | None, argv: list[str]) -> int:
    """The instructions callgrind counts for ``python argv`` with ``src`` first on the path."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if src:
        env["PYTHONPATH"] = str(Path(src).resolve())
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, *argv]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count for {argv}:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", nargs="+", default=[""], help="source trees (default: installed)")
    ap.add_argument("--cases", type=int, default=300, help="engine: cases per pass")
    ap.add_argument("--warm-passes", type=int, default=5, help="engine: warm passes")
    ap.add_argument("--rows", type=int, nargs=2, default=[2000, 10000], help="batch: two sizes")
    ap.add_argument("--input", help="batch: JSON Lines of generated cases (default: synth)")
    ap.add_argument("--engine-pass", choices=["none", "warm", "cold"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.engine_pass:  # the child run under callgrind
        _engine_pass(args.engine_pass, args.cases, args.warm_passes)
        return 0

    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    small, large = sorted(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        source = args.input
        if source is None:
            source = f"{tmp}/cases.jsonl"
            subprocess.run(
                [sys.executable, "-m", "nenguide", "synth", str(large), "--seed", "2",
                 "--out", source],
                check=True,
            )  # fmt: skip
        lines = Path(source).read_text(encoding="utf-8").splitlines()
        if len(lines) < large:
            raise SystemExit(f"{source} has {len(lines)} lines; --rows asks for {large}")
        inputs = {}
        for size in (small, large):
            inputs[size] = f"{tmp}/first{size}.jsonl"
            Path(inputs[size]).write_text("\n".join(lines[:size]) + "\n", encoding="utf-8")
        me = str(Path(__file__).resolve())
        jobs = {}
        for src in args.src:
            for mode in ("none", "warm", "cold"):
                jobs[(src, mode)] = [me, "--engine-pass", mode, "--cases", str(args.cases),
                                     "--warm-passes", str(args.warm_passes)]  # fmt: skip
            for size in (small, large):
                out = f"{tmp}/out-{len(jobs)}.parquet"
                jobs[(src, size)] = ["-m", "nenguide", "batch", inputs[size], out,
                                     "--processes", "1", "--as-of", AS_OF]  # fmt: skip
        with ThreadPoolExecutor(max_workers=2) as pool:
            counts = dict(zip(jobs, pool.map(lambda k: _count(k[0], jobs[k]), jobs), strict=True))

    print("| source | warm, a case | cold, a case | batch, a row |\n|---|---:|---:|---:|")
    for src in args.src:
        none = counts[(src, "none")]
        warm = (counts[(src, "warm")] - none) / args.cases / args.warm_passes
        cold = (counts[(src, "cold")] - none) / args.cases
        row = (counts[(src, large)] - counts[(src, small)]) / (large - small)
        print(f"| {src or 'installed'} | {warm:,.0f} | {cold:,.0f} | {row:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
