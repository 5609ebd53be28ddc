"""What the mutation tests share: the bundled package's table sources, its mutants, the package
loaded without hash verification (as the harness loads it) and one mutant loaded in memory.
Cached: every test module reads the same package once."""

from __future__ import annotations

from functools import cache

from nenguide.engine.kb import Knowledge
from nenguide.knowledge import load_from, package_path
from nenguide.mutation import runner
from nenguide.mutation.mutants import Mutant, TableSource, all_mutants, read_tables


@cache
def sources() -> dict[str, TableSource]:
    return {t.id: t for t in read_tables(package_path())}


@cache
def mutants() -> dict[str, Mutant]:
    return {m.id: m for m in all_mutants(list(sources().values()))}


@cache
def package_kb() -> Knowledge:
    return load_from(package_path(), verify_hash=False)


def mutated(mutant_id: str) -> Knowledge:
    """The package with the mutant ``mutant_id`` swapped in (in memory)."""
    m = mutants()[mutant_id]
    return runner.load_mutant(package_kb(), m, sources()[m.table_id])
