"""Load benchmark of the MDT service: throughput and p50/p99 latency of ``POST /api/v1/assess``
and of a case read (``GET /api/v1/cases/{id}``) against ``nenguide serve`` on loopback.

    .venv/bin/python benchmarks/load_api.py [--workers 1] [--runs 3] [--duration 10]

Starts the server (the same code path as ``nenguide serve``: ``python -m nenguide.api serve``)
on a throwaway SQLite database, creates a user and a case, then drives it with ``wrk`` when it is
installed (``apt-get install wrk``), otherwise with a bounded number of requests from httpx
threads. Prints one line per run and the median of the runs as Markdown, for
docs/benchmarks.md, with the server's CPU time per request (its process tree, from /proc), a
figure that other load on the machine does not distort. Client and server share the machine, so
the client's CPU use counts against the server's: the throughput is a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

PASSWORD = "benchmark password 1"
CASE: dict[str, Any] = {
    "patient": {"age_years": 58, "sex": "female", "ecog": 1},
    "tumour": {"primary_site": "pancreas", "size_cm": 3.4, "extent": "confined_to_pancreas"},
    "regional_nodes": {"examined": 14, "positive": 2},
    "metastases": {
        "status": "present",
        "liver": {"lesion_count": 5, "extent": "bilobar", "resectability": "unresectable"},
    },
    "pathology": {"differentiation": "well", "ki67_percent": 8, "mitoses_per_2mm2": 3},
    "staging_basis": "pathological",
}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(url: str, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    cmd = [sys.executable, "-m", "nenguide.api"]
    subprocess.run(
        [
            *cmd,
            "user",
            "create",
            "bench",
            "--role",
            "clinician",
            "--password-stdin",
            "--database-url",
            url,
        ],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    port = _port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *cmd,
                "serve",
                "--port",
                str(port),
                "--database-url",
                url,
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/api/v1/health").status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server did not start:\n{log.read_text()}")


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its descendants (Linux)."""
    total = 0.0
    stack = [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while stack:
        p = stack.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total


def _engine_ms() -> float:
    """In-process cost of parse + assess + JSON for the benchmark case (no HTTP)."""
    import datetime as dt

    from nenguide import assess, load_knowledge
    from nenguide.errors import parse_case

    kb = load_knowledge()
    day = dt.date(2026, 11, 23)
    for _ in range(50):
        assess(parse_case(CASE), kb, as_of=day).model_dump_json()
    n = 300
    t = time.perf_counter()
    for _ in range(n):
        assess(parse_case(CASE), kb, as_of=day).model_dump_json()
    return (time.perf_counter() - t) / n * 1000


def _wrk(
    url: str, method: str, token: str, body: str | None, duration: int, conns: int
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(f'wrk.method = "{method}"\n')
        f.write(f'wrk.headers["Authorization"] = "Bearer {token}"\n')
        if body is not None:
            f.write('wrk.headers["Content-Type"] = "application/json"\n')
            f.write(f"wrk.body = {json.dumps(body)}\n")
        f.write("""
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.3f %.3f %d\\n", summary.requests, summary.duration,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
""")
        script = f.name
    try:
        out = subprocess.run(
            ["wrk", "-t", "2", "-c", str(conns), "-d", f"{duration}s", "-s", script, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    m = re.search(r"RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)", out)
    assert m, out
    n, dur_us, bad_status, p50, p99, sock_err = m.groups()
    return {
        "requests": int(n),
        "rps": int(n) / (int(dur_us) / 1e6),
        "p50_ms": float(p50),
        "p99_ms": float(p99),
        "errors": int(bad_status) + int(sock_err),
    }


def _threads(
    url: str, method: str, token: str, body: str | None, total: int, conns: int
) -> dict[str, float]:
    lat: list[float] = []
    errors = 0
    lock = threading.Lock()
    per = total // conns

    def run() -> None:
        nonlocal errors
        with httpx.Client(
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        ) as c:
            mine = []
            bad = 0
            for _ in range(per):
                t = time.perf_counter()
                r = c.request(method, url, content=body)
                mine.append(time.perf_counter() - t)
                bad += r.status_code >= 400
            with lock:
                lat.extend(mine)
                errors += bad

    t0 = time.perf_counter()
    ts = [threading.Thread(target=run) for _ in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()
    return {
        "requests": len(lat),
        "rps": len(lat) / wall,
        "p50_ms": lat[len(lat) // 2] * 1000,
        "p99_ms": lat[int(len(lat) * 0.99)] * 1000,
        "errors": errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--requests", type=int, default=3000, help="per run without wrk")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    ap.add_argument("--no-wrk", action="store_true")
    args = ap.parse_args()
    use_wrk = shutil.which("wrk") is not None and not args.no_wrk
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        proc, base = _serve(url, args.workers, Path(tmp) / "server.log")
        try:
            token = httpx.post(
                f"{base}/api/v1/auth/login", json={"username": "bench", "password": PASSWORD}
            ).json()["token"]
            h = {"Authorization": f"Bearer {token}"}
            p = httpx.post(f"{base}/api/v1/patients", json={"name": "Bench"}, headers=h).json()
            c = httpx.post(
                f"{base}/api/v1/patients/{p['id']}/cases",
                json={"title": "bench", "case": CASE},
                headers=h,
            ).json()
            targets = {
                "POST /api/v1/assess": (
                    "POST",
                    f"{base}/api/v1/assess?as_of=2026-11-23",
                    json.dumps(CASE),
                ),
                "GET /api/v1/cases/{id}": ("GET", f"{base}/api/v1/cases/{c['id']}", None),
            }
            results: dict[str, list[dict[str, float]]] = {k: [] for k in targets}
            for name, (method, target, body) in targets.items():
                # warm-up
                for _ in range(50):
                    httpx.request(
                        method,
                        target,
                        headers={**h, "Content-Type": "application/json"},
                        content=body,
                    )
                for run in range(args.runs):
                    cpu0 = _tree_cpu(proc.pid)
                    if use_wrk:
                        r = _wrk(target, method, token, body, args.duration, args.connections)
                    else:
                        r = _threads(target, method, token, body, args.requests, args.connections)
                    r["cpu_ms"] = (_tree_cpu(proc.pid) - cpu0) / max(r["requests"], 1) * 1000
                    results[name].append(r)
                    print(
                        f"{name} run {run + 1}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, "
                        f"p99 {r['p99_ms']:.1f} ms, server CPU {r['cpu_ms']:.2f} ms/request, "
                        f"{r['requests']} requests, {r['errors']} errors",
                        flush=True,
                    )
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    engine = _engine_ms()
    tool = (
        f"wrk -t2 -c{args.connections} -d{args.duration}s"
        if use_wrk
        else f"httpx, {args.connections} threads"
    )
    print(f"\nengine in-process (parse + assess + JSON): {engine:.2f} ms per case")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n")
    print("| endpoint | workers | client | req/s | p50 ms | p99 ms | server CPU ms/req | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for name, rs in results.items():
        keys = ("rps", "p50_ms", "p99_ms", "cpu_ms")
        med = {k: statistics.median(r[k] for r in rs) for k in keys}
        errs = sum(int(r["errors"]) for r in rs)
        print(
            f"| `{name}` | {args.workers} | {tool} | {med['rps']:.0f} | {med['p50_ms']:.1f} | "
            f"{med['p99_ms']:.1f} | {med['cpu_ms']:.2f} | {errs} |"
        )


if __name__ == "__main__":
    main()
