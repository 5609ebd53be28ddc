"""The reviewed allow-list of equivalent mutants (``tests/mutation/equivalent.yaml``): reading
it, and rewriting it from a run (``nenguide knowledge mutate --update-allowlist``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from nenguide.mutation.domains import Domain, read_domains

if TYPE_CHECKING:
    from nenguide.mutation.runner import MutantResult


class MutationError(RuntimeError):
    """The harness cannot run (e.g. the clinical checks fail on the unmutated package)."""


#: a survivor's proof verdict when its table's declared domain proves it (table level failed)
PATHWAY_VERDICT = "pathway-equivalent"
#: the ``proof`` of an allow-list entry proven under its table's declared domain
PATHWAY_PROOF = "pathway-domain"


def read_open_gaps(path: Path) -> set[str]:
    """Survivors known and not yet killed (the ``open`` list): reported as survivors all the
    same; the fast mode only fails on survivors not listed here."""
    if not path.is_file():
        return set()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(x) for x in data.get("open") or []}


PATHWAY_REASON = (
    "Pathway-level proof: for all {n} input combinations the pathway can present to the table "
    "(its declared domain in tests/mutation/domains.yaml: {domain}) the same rows apply with "
    "the same outputs; at table level it is {table}."
)

EQUIVALENT_REASON = (
    "Table-level proof: for all {n} input combinations (every threshold of both tables, a step "
    "below and above it, each input unknown, every value and pair of values of each "
    "enumeration) the same rows apply with the same outputs, so no case can tell it apart."
)


def write_allowlist(
    path: Path,
    results: list[MutantResult],
    *,
    keep: dict[str, str],
    keep_proofs: dict[str, str] | None = None,
    domains: dict[str, Domain] | None = None,
) -> None:
    """Rewrite the allow-list: proven-equivalent survivors (with the proof as reason, or the
    reviewed reason already recorded) and every other survivor as an open gap. Survivors proven
    only under their table's declared domain are written with ``proof: pathway-domain``."""
    proofs = {k: v for k, v in (keep_proofs or {}).items() if k in keep}
    status = {r.mutant.id: r.status for r in results}
    # reviewed entries stay unless the mutant is now killed (or gone, in a complete run)
    equivalent = {
        k: v for k, v in keep.items() if status.get(k, "equivalent") in ("equivalent", "survived")
    }
    open_gaps: list[str] = []
    for r in results:
        if r.status == "equivalent":
            continue
        if r.status == "survived" and r.proof.startswith("equivalent"):
            n = r.proof.split("(", 1)[1].split(" ", 1)[0]
            equivalent[r.mutant.id] = EQUIVALENT_REASON.format(n=n)
            proofs.pop(r.mutant.id, None)
        elif r.status == "survived" and r.proof.startswith(PATHWAY_VERDICT):
            n = r.proof.split("(", 1)[1].split(" ", 1)[0]
            table = r.proof.split("table level: ", 1)[1].rstrip(")")
            dom = (domains or {}).get(r.mutant.table_id)
            equivalent[r.mutant.id] = PATHWAY_REASON.format(
                n=n, domain=dom.proof_text() if dom else "see the file", table=table
            )
            proofs[r.mutant.id] = PATHWAY_PROOF
        elif r.status == "survived":
            open_gaps.append(r.mutant.id)
    header = (
        "# Mutants of the knowledge tables that no clinical check kills (issue 13).\n"
        "# equivalent: reviewed; no input can tell the mutant from the original (each entry is\n"
        "#   re-proved by tests/test_mutation.py). open: real gaps, reported as survivors in\n"
        "#   docs/mutation-report.md until a vignette or property with its source kills them.\n"
        "# Written by `nenguide knowledge mutate --update-allowlist`; review every change.\n"
    )
    body = {
        "equivalent": [_entry(k, v, proofs.get(k)) for k, v in sorted(equivalent.items())],
        "open": sorted(open_gaps),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(header + text, encoding="utf-8")


def _entry(mid: str, reason: str, proof: str | None) -> dict[str, str]:
    return {"id": mid, "reason": reason, **({"proof": proof} if proof else {})}


def read_allowlist_proofs(path: Path) -> dict[str, str]:
    """How each allow-list entry is proven: ``table`` (no input tells it apart) or
    ``pathway-domain`` (no input in its table's declared domain does)."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, str] = {}
    for entry in data.get("equivalent") or []:
        proof = str(entry.get("proof") or "table").strip()
        if proof not in ("table", PATHWAY_PROOF):
            raise MutationError(f"{path}: unknown proof {proof!r} (table or {PATHWAY_PROOF})")
        out[str(entry.get("id", "")).strip()] = proof
    return out


def domains_beside(allowlist: Path) -> dict[str, Domain]:
    """The declared input domains kept beside the allow-list (``domains.yaml``)."""
    return read_domains(allowlist.parent / "domains.yaml")


def read_allowlist(path: Path) -> dict[str, str]:
    """Reviewed equivalent mutants: mutant id -> why no input can tell it from the original."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, str] = {}
    for entry in data.get("equivalent") or []:
        mid, reason = str(entry.get("id", "")).strip(), str(entry.get("reason", "")).strip()
        if not mid or not reason:
            raise MutationError(f"{path}: every allow-list entry needs an 'id' and a 'reason'")
        out[mid] = reason
    return out
