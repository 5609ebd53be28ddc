"""Run the clinical checks against every mutant of the knowledge tables, in-process.

The baseline package is loaded once with the package loader (hash verification off). A mutant is
one table re-validated against the table schema and compiled from its edited file data, swapped
into a copy of the loaded knowledge base (fresh memo); :func:`load_mutant_from_folder` does the
same through a copied package folder and :func:`nenguide.knowledge.load_from`, and the tests check
that both agree. Clinical checks: the golden vignettes, the SEER staging oracle, the table
properties (:mod:`nenguide.mutation.properties`) and the knowledge lint of the mutated table.
Change detectors (generated docs, report snapshots) are not run: they fail on any change at all.

A check is run on a mutant only when the baseline run of that check read the mutated table (the
tables the engine looks up are recorded); a check that never reads a table cannot see its edits.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nenguide.engine.kb import Knowledge
from nenguide.engine.lint import lint
from nenguide.engine.tables import Table, TableError, TableSpec, compile_table
from nenguide.knowledge import load_from
from nenguide.mutation import equivalence
from nenguide.mutation.allowlist import EQUIVALENT_REASON as EQUIVALENT_REASON
from nenguide.mutation.allowlist import PATHWAY_PROOF as PATHWAY_PROOF
from nenguide.mutation.allowlist import PATHWAY_REASON as PATHWAY_REASON
from nenguide.mutation.allowlist import PATHWAY_VERDICT as PATHWAY_VERDICT
from nenguide.mutation.allowlist import MutationError as MutationError
from nenguide.mutation.allowlist import domains_beside as domains_beside
from nenguide.mutation.allowlist import read_allowlist as read_allowlist
from nenguide.mutation.allowlist import read_allowlist_proofs as read_allowlist_proofs
from nenguide.mutation.allowlist import read_open_gaps as read_open_gaps
from nenguide.mutation.allowlist import write_allowlist as write_allowlist
from nenguide.mutation.domains import Domain
from nenguide.mutation.mutants import Mutant, TableSource, all_mutants, read_tables
from nenguide.mutation.oracle import (
    GROUP_TABLE,
    read_oracle,
    staged_disagreements,
    unknown_row_departures,
)
from nenguide.mutation.properties import properties
from nenguide.mutation.vignettes import (
    assess_vignette,
    load_vignette,
    vignette_failures,
    vignette_files,
)

#: Tables whose lint samples more input combinations than this are not linted per mutant (the
#: clinical checks still run); CI lints the package itself on every run.
LINT_POINTS = 50_000


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    kind: str  # vignette | oracle | property | decision (pins a recorded choice, not a source)
    run: Callable[[Knowledge], list[str]]
    expect_pass: bool = True  # False: a strict-xfail vignette (known deviation)


@dataclass(frozen=True, slots=True)
class MutantResult:
    mutant: Mutant
    status: str  # killed | survived | equivalent
    killed_by: str = ""  # the check that noticed the edit; for an equivalent one, the reason
    checks_run: int = 0
    proof: str = ""  # survivors: the table-level equivalence check's verdict


@dataclass
class Suite:
    checks: list[Check]
    deps: list[frozenset[str] | None] = field(default_factory=list)  # None: reads every table


class _RecordingTables(dict[str, Table]):
    """The tables of a knowledge base, noting which the engine looks up."""

    def __init__(self, tables: dict[str, Table]) -> None:
        super().__init__(tables)
        self.read: set[str] = set()
        self.all = False

    def __getitem__(self, key: str) -> Table:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self.all = True
        return super().__iter__()

    def values(self) -> Any:
        self.all = True
        return super().values()

    def items(self) -> Any:
        self.all = True
        return super().items()

    def keys(self) -> Any:
        self.all = True
        return super().keys()


def with_tables(kb: Knowledge, tables: dict[str, Table]) -> Knowledge:
    """A copy of ``kb`` with ``tables`` and fresh per-instance caches."""
    names = {f.name for f in dataclasses.fields(kb)}
    fresh: dict[str, Any] = {n: {} for n in ("memo", "rule_status") if n in names}
    fresh["tables"] = tables
    return dataclasses.replace(kb, **fresh)


def compile_mutant(mutant: Mutant, source: TableSource) -> Table:
    """The mutated table, validated against the table schema and compiled (TableError if not)."""
    raw = mutant.apply(source.data)
    try:
        spec = TableSpec.model_validate(raw)
    except ValueError as exc:
        raise TableError(str(exc)) from exc
    return compile_table(spec)


def load_mutant(kb: Knowledge, mutant: Mutant, source: TableSource) -> Knowledge:
    tables = dict(kb.tables)
    tables[mutant.table_id] = compile_mutant(mutant, source)
    return with_tables(kb, tables)


def load_mutant_from_folder(package: Path, mutant: Mutant, workdir: Path) -> Knowledge:
    """The mutant loaded the slow, literal way: the whole package folder copied, the table's file
    rewritten with the edit, and the copy loaded with the package loader (hash check off)."""
    target = workdir / package.name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(package, target)
    path = target / mutant.file
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["tables"] = [
        mutant.apply(t) if t.get("id") == mutant.table_id else t for t in doc["tables"]
    ]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_from(target, verify_hash=False)


def build_suite(vignettes: Path, oracle: Path | None) -> list[Check]:
    """The clinical checks, cheapest first (a mutant stops at the first check it fails): the
    properties that read single tables, the SEER oracle, the vignettes, then the properties
    that run whole assessments; last the recorded decisions (docs/clinical-gaps.md), so that a
    mutant they kill is one no clinical check notices."""
    every = properties()
    props = [p for p in every if p.kind != "decision"]
    decisions = [p for p in every if p.kind == "decision"]
    checks = [Check(f"property {p.name}", "property", p.check) for p in props if not p.whole_engine]
    if oracle is not None:
        rows = read_oracle(oracle)
        for site in sorted(GROUP_TABLE):

            def run_site(kb: Knowledge, site: str = site) -> list[str]:
                return staged_disagreements(kb, rows, site)

            checks.append(Check(f"oracle SEER {site}", "oracle", run_site))
        checks.append(
            Check(
                "oracle SEER unknown rows",
                "oracle",
                lambda kb: unknown_row_departures(kb, rows),
            )
        )
    for path in vignette_files(vignettes):
        v = load_vignette(path)

        def run_vignette(kb: Knowledge, v: dict[str, Any] = v) -> list[str]:
            return vignette_failures(v, assess_vignette(v, kb))

        checks.append(
            Check(
                f"vignette {v.get('id')}",
                "vignette",
                run_vignette,
                expect_pass=not v.get("known_deviation"),
            )
        )
    checks += [Check(f"property {p.name}", "property", p.check) for p in props if p.whole_engine]
    checks += [Check(f"decision {p.name}", "decision", p.check) for p in decisions]
    return checks


def baseline(kb: Knowledge, checks: list[Check]) -> Suite:
    """Run every check on the unmutated package, recording the tables each one reads."""
    suite = Suite(checks)
    broken = []
    for check in checks:
        rec = _RecordingTables(kb.tables)
        probe = with_tables(kb, rec)
        rec.read.clear()
        rec.all = False
        failures = check.run(probe)
        if bool(failures) == check.expect_pass:
            broken.append(f"{check.name}: {failures[:3] if failures else 'passes unexpectedly'}")
        suite.deps.append(None if rec.all else frozenset(rec.read))
    if broken:
        raise MutationError(
            "the clinical checks do not pass on the unmutated package; fix them first:\n"
            + "\n".join(broken)
        )
    return suite


def _lint_errors(kb: Knowledge, table: Table) -> set[str]:
    return set(lint(with_tables(kb, {table.id: table})).errors)


@dataclass
class _State:
    kb: Knowledge
    suite: Suite
    sources: dict[str, TableSource]
    mutants: list[Mutant]
    # lint errors of each unmutated table; None: too many input combinations to lint per mutant
    lint_baseline: dict[str, set[str] | None] = field(default_factory=dict)
    # declared input domains (tests/mutation/domains.yaml): table id -> domain
    domains: dict[str, Domain] = field(default_factory=dict)


_STATE: _State | None = None


def _run_checks(
    state: _State, kb: Knowledge, mutant: Mutant, *, decisions: bool
) -> tuple[str | None, int]:
    """(what killed the mutant, or None; checks run) over the clinical checks, or over the
    recorded decisions (``decisions``) only."""
    ran = 0
    for check, deps in zip(state.suite.checks, state.suite.deps, strict=True):
        if (check.kind == "decision") != decisions:
            continue
        if deps is not None and mutant.table_id not in deps:
            continue
        ran += 1
        try:
            failures = check.run(kb)
        except Exception as exc:  # a crash fails the test suite too
            return f"{check.name}: crash {exc!r}"[:300], ran
        if bool(failures) == check.expect_pass:
            why = failures[0] if failures else "known deviation now passes (strict xfail)"
            return f"{check.name}: {why}"[:300], ran
    return None, ran


def evaluate(state: _State, mutant: Mutant) -> MutantResult:
    source = state.sources[mutant.table_id]
    try:
        table = compile_mutant(mutant, source)
    except TableError as exc:
        return MutantResult(mutant, "killed", f"load: {str(exc).splitlines()[0]}")
    tables = dict(state.kb.tables)
    tables[mutant.table_id] = table
    kb = with_tables(state.kb, tables)
    killed, ran = _run_checks(state, kb, mutant, decisions=False)
    if killed:
        return MutantResult(mutant, "killed", killed, ran)
    # then, as it is the slowest: the knowledge lint of the mutated table (totality, overlap)
    if mutant.table_id not in state.lint_baseline:
        rep = lint(with_tables(state.kb, {table.id: state.kb.tables[table.id]}))
        small = rep.checked_points <= LINT_POINTS
        state.lint_baseline[mutant.table_id] = set(rep.errors) if small else None
    before = state.lint_baseline[mutant.table_id]
    if before is not None:
        ran += 1
        new_errors = _lint_errors(state.kb, table) - before
        if new_errors:
            return MutantResult(mutant, "killed", f"lint: {sorted(new_errors)[0]}", ran)
    # last: the recorded decisions (docs/clinical-gaps.md), so that a mutant killed here is one
    # that no clinical check and no lint notices (the report lists the rows so guarded)
    killed, more = _run_checks(state, kb, mutant, decisions=True)
    if killed:
        return MutantResult(mutant, "killed", killed, ran + more)
    return MutantResult(mutant, "survived", "", ran + more, prove(state, mutant, table))


def prove(state: _State, mutant: Mutant, table: Table) -> str:
    """The equivalence verdict of a survivor: table level, else under its table's declared
    input domain (``pathway-equivalent``) when there is one."""
    original = state.kb.tables[table.id]
    proved, n = equivalence.equivalent(original, table, mutant.row_id)
    verdict = {True: "equivalent", False: "distinguishable", None: "unproven"}[proved]
    text = f"{verdict} ({n} input combinations)"
    domain = state.domains.get(table.id)
    if proved is True or domain is None:
        return text
    by_domain, m = equivalence.equivalent(original, table, mutant.row_id, domain=domain)
    if by_domain is True:
        where = f"{m} input combinations in the declared domain; table level: {text}"
        return f"{PATHWAY_VERDICT} ({where})"
    other = "unproven" if by_domain is None else "distinguishable"
    return f"{text}; in the declared domain: {other}"


def _evaluate_index(i: int) -> MutantResult:
    assert _STATE is not None
    return evaluate(_STATE, _STATE.mutants[i])


@dataclass
class RunResult:
    results: list[MutantResult]
    seconds: float
    jobs: int
    checks: int
    total_mutants: int  # before selection
    package: str


def run(
    package: Path,
    vignettes: Path,
    oracle: Path | None,
    *,
    select: Callable[[list[Mutant]], list[Mutant]] | None = None,
    equivalent: dict[str, str] | None = None,
    domains: dict[str, Domain] | None = None,
    jobs: int = 1,
    on_result: Callable[[MutantResult], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> RunResult:
    """Mutate every table of ``package`` and run the clinical checks on each mutant."""
    global _STATE
    started = time.perf_counter()
    kb = load_from(package, verify_hash=False)
    sources = {t.id: t for t in read_tables(package)}
    suite = baseline(kb, build_suite(vignettes, oracle))
    everything = all_mutants(list(sources.values()))
    mutants = select(everything) if select else everything
    if on_start:
        on_start(len(mutants))
    _STATE = _State(kb, suite, sources, mutants, domains=dict(domains or {}))
    results: list[MutantResult] = []
    equivalent = equivalent or {}

    def record(r: MutantResult) -> None:
        if r.status == "survived" and r.mutant.id in equivalent:
            r = dataclasses.replace(r, status="equivalent", killed_by=equivalent[r.mutant.id])
        results.append(r)
        if on_result:
            on_result(r)

    try:
        if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("fork")  # workers inherit the loaded state
            with ctx.Pool(jobs) as pool:
                for r in pool.imap_unordered(_evaluate_index, range(len(mutants)), chunksize=4):
                    record(r)
        else:
            jobs = 1
            for i in range(len(mutants)):
                record(_evaluate_index(i))
    finally:
        _STATE = None
    order = {m.id: i for i, m in enumerate(mutants)}
    results.sort(key=lambda r: order[r.mutant.id])
    return RunResult(
        results,
        time.perf_counter() - started,
        jobs,
        len(suite.checks),
        len(everything),
        package.name,
    )


def merge(run: RunResult, previous: dict[str, Any]) -> RunResult:
    """``run`` (some tables re-run) completed with the results of a previous full run (its JSON)
    for every other mutant that still exists; the times add up."""
    done = {r.mutant.id for r in run.results}
    by_id = {m.id: m for m in all_mutants(read_tables(package_dir(run.package)))}
    results = list(run.results)
    for entry in previous.get("mutants", []):
        m = by_id.get(entry["id"])
        if m is None or m.id in done:
            continue
        status, by, proof = entry["status"], entry.get("by", ""), entry.get("proof", "")
        if status == "equivalent":  # re-judged against the allow-list by the caller
            status, by = "survived", ""
        results.append(MutantResult(m, status, by, 0, proof))
    order = {mid: i for i, mid in enumerate(by_id)}
    results.sort(key=lambda r: order.get(r.mutant.id, len(order)))
    return dataclasses.replace(
        run,
        results=results,
        seconds=run.seconds + float(previous.get("seconds", 0)),
        total_mutants=len(by_id),
    )


def package_dir(name: str) -> Path:
    from nenguide.knowledge import package_path

    return package_path(name)


def relabel(run: RunResult, equivalent: dict[str, str]) -> RunResult:
    """The run with survivors that the allow-list names marked equivalent (with its reason)."""
    results = [
        dataclasses.replace(r, status="equivalent", killed_by=equivalent[r.mutant.id])
        if r.status == "survived" and r.mutant.id in equivalent
        else r
        for r in run.results
    ]
    return dataclasses.replace(run, results=results)
