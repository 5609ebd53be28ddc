"""Differential check for engine refactors: the JSON of every assessment must not change.

Assesses every vignette (tests/vignettes, en and zh-CN), every bundled example, the bench's
generated cases (``bench_assess.generate``) and a synthetic cohort (``nenguide.batch.synth``,
with syndromes, labs and history), each with the memo cache cold (emptied before the case) and
warm (assessed again after the whole set), and checks that cold and warm JSON agree. Writes one
sha256 per assessment (``--write FILE``) or compares with a file written before the change
(``--check FILE``) and names the cases that differ. Not a test (the digests change whenever the
clinical content does); run it before and after a refactor that must not change any output::

    python benchmarks/differential.py --write /tmp/before.json
    ... refactor ...
    python benchmarks/differential.py --check /tmp/before.json

``--without-trace`` digests the JSON less its ``trace`` and the package's content hash: for a
change that may only add or rewrite trace entries (a derivation moved into a traced fact table),
both files written with it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from nenguide import assess, load_knowledge
from nenguide.batch.synth import generate as synth
from nenguide.errors import parse_case
from nenguide.model.case import Case

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 23)


def corpus(n_bench: int, n_synth: int) -> list[tuple[str, Case, dt.date, str]]:
    sys.path.insert(0, os.path.dirname(__file__))
    from bench_assess import generate

    out: list[tuple[str, Case, dt.date, str]] = []
    for path in sorted((ROOT / "tests" / "vignettes").glob("*.yaml")):
        v = yaml.safe_load(path.read_text(encoding="utf-8"))
        a = v.get("as_of", AS_OF)
        as_of = a if isinstance(a, dt.date) else dt.date.fromisoformat(str(a))
        case = parse_case(v["case"])
        for lang in ("en", "zh-CN"):
            out.append((f"{path.stem}/{lang}", case, as_of, lang))
    for path in sorted((ROOT / "src" / "nenguide" / "examples").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        case = parse_case(data.get("case", data))
        for lang in ("en", "zh-CN"):
            out.append((f"example/{path.stem}/{lang}", case, AS_OF, lang))
    for i, d in enumerate(generate(n_bench)):
        out.append((f"bench/{i}", Case.model_validate(d), AS_OF, "en" if i % 5 else "zh-CN"))
    for i, s in enumerate(synth(n_synth, seed=11, with_care=True)):
        lang = "en" if i % 5 else "zh-CN"
        out.append((f"synth/{i}", parse_case(s.case), AS_OF, lang))
    return out


def _json(a: Any, without_trace: bool) -> str:
    if not without_trace:
        return str(a.model_dump_json())
    # the package's content hash changes with any edit of its files, clinical or not
    return str(a.model_dump_json(exclude={"trace": True, "guideline": {"content_hash"}}))


def digests(
    kb: Any, cases: list[tuple[str, Case, dt.date, str]], without_trace: bool = False
) -> dict[str, str]:
    cold: dict[str, str] = {}
    for name, case, as_of, lang in cases:
        kb.memo.clear()
        js = _json(assess(case, kb, as_of=as_of, lang=lang), without_trace)
        cold[name] = hashlib.sha256(js.encode()).hexdigest()
    bad = []
    for name, case, as_of, lang in cases:  # warm: the memo filled by the whole set
        js = _json(assess(case, kb, as_of=as_of, lang=lang), without_trace)
        if hashlib.sha256(js.encode()).hexdigest() != cold[name]:
            bad.append(name)
    if bad:
        raise SystemExit(f"warm and cold JSON differ for {len(bad)} cases: {bad[:20]}")
    return cold


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bench-cases", type=int, default=3000)
    ap.add_argument("--synth-cases", type=int, default=2000)
    ap.add_argument(
        "--without-trace",
        action="store_true",
        help="digest the JSON without its trace and the package's content hash (a change that "
        "only adds or rewrites trace entries, e.g. a derivation moved into a traced fact "
        "table, must pass this check)",
    )
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", help="write the digests to this file")
    g.add_argument("--check", help="compare with the digests in this file")
    args = ap.parse_args()
    kb = load_knowledge()
    got = digests(kb, corpus(args.bench_cases, args.synth_cases), args.without_trace)
    if args.write:
        Path(args.write).write_text(json.dumps(got, indent=0, sort_keys=True))
        print(f"{len(got)} assessments, cold == warm; digests written to {args.write}")
        return 0
    want = json.loads(Path(args.check).read_text())
    diff = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
    if diff:
        print(f"{len(diff)} of {len(want)} assessments differ: {diff[:30]}")
        return 1
    print(f"{len(got)} assessments byte-identical to {args.check} (cold and warm)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
