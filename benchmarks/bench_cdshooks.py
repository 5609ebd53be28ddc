"""Latency of the CDS Hooks ``patient-view`` service with full prefetch (issue 11), on loopback.

    .venv/bin/python benchmarks/bench_cdshooks.py [--requests 300]

Starts ``nenguide serve --demo`` (demo mode asks no JWT of the EHR: the JWT check, PyJWT on one
RS384 signature, is not part of this measure) on a throwaway SQLite database, sends the demo
patient ``pnet-g2-liver`` as prefetch (its FHIR Bundle split by resource type, as an EHR
answers the prefetch templates) one request at a time, and prints p50/p99 with the load
average, plus the in-process split of one call: FHIR import (fhir.resources validation and
mapping), assessment, cards. Markdown rows for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "src" / "nenguide" / "examples" / "fhir" / "pnet-g2-liver.json"
KEYS = {
    "Patient": "patient",
    "Condition": "conditions",
    "Observation": "observations",
    "Procedure": "procedures",
    "MedicationStatement": "medicationStatements",
    "MedicationAdministration": "medicationAdministrations",
    "FamilyMemberHistory": "familyHistory",
    "List": "lists",
}


def prefetch() -> dict[str, Any]:
    bundle = json.loads(BUNDLE.read_text(encoding="utf-8"))
    out: dict[str, Any] = {k: None for k in KEYS.values()}
    for e in bundle["entry"]:
        key = KEYS[e["resource"]["resourceType"]]
        if key == "patient":
            out[key] = e["resource"]
        else:
            out[key] = out[key] or {"resourceType": "Bundle", "type": "searchset", "entry": []}
            out[key]["entry"].append(e)
    return out


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p * (len(values) - 1)))]


def in_process(n: int) -> dict[str, float]:
    import nenguide
    from nenguide.interop import cdshooks
    from nenguide.interop.fhir import import_bundle

    kb = nenguide.load_knowledge()
    pf = prefetch()
    parts: dict[str, list[float]] = {"import": [], "assess": [], "cards": []}
    for _ in range(n):
        t0 = time.perf_counter()
        imported = import_bundle(cdshooks.prefetch_bundle(pf), kb.analytes)
        t1 = time.perf_counter()
        assert imported.case is not None
        a = nenguide.assess(imported.case, kb, as_of=dt.date.today())
        t2 = time.perf_counter()
        cdshooks.cards(
            a,
            imported,
            patient="Patient/p1",
            source_url="http://x/docs",
            override_reasons=("other",),
        )
        t3 = time.perf_counter()
        parts["import"].append(t1 - t0)
        parts["assess"].append(t2 - t1)
        parts["cards"].append(t3 - t2)
    return {k: statistics.median(v) * 1000 for k, v in parts.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nenguide.api",
                "serve",
                "--demo",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--database-url",
                f"sqlite:///{tmp}/demo.db",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            body = {
                "hook": "patient-view",
                "hookInstance": "x",
                "context": {"userId": "Practitioner/1", "patientId": "p1"},
                "prefetch": prefetch(),
            }
            times: list[float] = []
            load0 = os.getloadavg()[0]
            with httpx.Client(base_url=base, timeout=30) as c:
                for i in range(args.requests + 20):
                    t = time.perf_counter()
                    r = c.post("/cds-services/nenguide-patient-view", json=body)
                    elapsed = time.perf_counter() - t
                    assert r.status_code == 200 and r.json()["cards"], r.text
                    if i >= 20:  # warm-up
                        times.append(elapsed * 1000)
            load1 = os.getloadavg()[0]
        finally:
            proc.terminate()
            proc.wait(timeout=15)
            log.close()
    split = in_process(50)
    stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    print(
        "| time (UTC) | requests | p50 ms | p99 ms | load avg | import ms | assess ms | cards ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {stamp} | {len(times)} | {_pct(times, 0.5):.1f} | {_pct(times, 0.99):.1f} | "
        f"{load0:.1f}–{load1:.1f} | {split['import']:.1f} | {split['assess']:.1f} | "
        f"{split['cards']:.2f} |"
    )


if __name__ == "__main__":
    main()
