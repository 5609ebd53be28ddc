"""Which mutants a run covers: all, a stratified sample, or the rows changed since a git ref."""

from __future__ import annotations

import random
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from nenguide.mutation.mutants import Mutant


def sample(mutants: list[Mutant], size: int, seed: int = 13) -> list[Mutant]:
    """A deterministic sample of about ``size`` mutants spread over every table and kind."""
    if size >= len(mutants):
        return list(mutants)
    strata: dict[tuple[str, str], list[Mutant]] = defaultdict(list)
    for m in mutants:
        strata[(m.table_id, m.kind)].append(m)
    rng = random.Random(seed)
    for bucket in strata.values():
        rng.shuffle(bucket)
    keys = sorted(strata)
    rng.shuffle(keys)
    picked: list[Mutant] = []
    depth = 0
    while len(picked) < size:
        added = False
        for k in keys:
            if depth < len(strata[k]) and len(picked) < size:
                picked.append(strata[k][depth])
                added = True
        if not added:
            break
        depth += 1
    order = {m.id: i for i, m in enumerate(mutants)}
    return sorted(picked, key=lambda m: order[m.id])


def _rows_at(repo: Path, ref: str, rel: str) -> dict[str, Any]:
    try:
        text = subprocess.run(
            ["git", "-C", str(repo), "show", f"{ref}:{rel}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    except subprocess.CalledProcessError:
        return {}  # the file did not exist at ref: every row is new
    doc = yaml.safe_load(text) or {}
    return {
        str(r.get("id")): r
        for t in doc.get("tables") or []
        for r in t.get("rows") or []
        if isinstance(r, dict)
    }


def changed_rows(package: Path, ref: str) -> set[str]:
    """Ids of the rows of ``package``'s tables that are new or differ from git ``ref``."""
    top = subprocess.run(
        ["git", "-C", str(package), "rev-parse", "--show-toplevel"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    repo = Path(top)
    changed: set[str] = set()
    for path in sorted((package / "tables").glob("*.yaml")):
        rel = path.resolve().relative_to(repo.resolve()).as_posix()
        before = _rows_at(repo, ref, rel)
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for t in doc.get("tables") or []:
            for r in t.get("rows") or []:
                rid = str(r.get("id"))
                if before.get(rid) != r:
                    changed.add(rid)
    return changed
