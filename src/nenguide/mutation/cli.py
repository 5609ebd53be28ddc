"""``nenguide knowledge mutate``: the mutation run from the command line (registered in
:mod:`nenguide.cli`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from nenguide.knowledge import DEFAULT_GUIDELINE, package_path


def _repo() -> Path:
    """The source checkout the package lives in (editable install), else the working directory."""
    here = package_path().resolve()
    for parent in here.parents:
        if (parent / "tests" / "vignettes").is_dir():
            return parent
    return Path.cwd()


def mutate(
    guideline: Annotated[str, typer.Option("--guideline")] = DEFAULT_GUIDELINE,
    vignettes: Annotated[
        Path | None, typer.Option(help="Golden vignettes folder (default: tests/vignettes)")
    ] = None,
    oracle: Annotated[
        Path | None,
        typer.Option(
            help="SEER staging oracle (stage_cases.jsonl) "
            "(default: ../shared/oracle/stage_cases.jsonl beside the repository)"
        ),
    ] = None,
    allowlist: Annotated[
        Path | None,
        typer.Option(help="Reviewed equivalent mutants (default: tests/mutation/equivalent.yaml)"),
    ] = None,
    sample: Annotated[
        int | None, typer.Option(help="Run a deterministic sample of this many mutants")
    ] = None,
    changed_since: Annotated[
        str | None,
        typer.Option(help="Only mutants of rows new or changed since this git ref (a release)"),
    ] = None,
    table: Annotated[list[str] | None, typer.Option(help="Only these tables (repeatable)")] = None,
    jobs: Annotated[int, typer.Option(help="Worker processes")] = 2,
    report: Annotated[
        Path | None,
        typer.Option(help="Write the Markdown report here (e.g. docs/mutation-report.md)"),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write every result as JSON")
    ] = None,
    merge: Annotated[
        Path | None,
        typer.Option(
            help="JSON of an earlier run (--json): its results stand for the mutants not re-run "
            "here (use with --table after editing some tables)"
        ),
    ] = None,
    update_allowlist: Annotated[
        bool,
        typer.Option(
            help="Write proven-equivalent survivors (table level, or under the declared input "
            "domains of tests/mutation/domains.yaml: proof pathway-domain) and the other "
            "survivors as open gaps into the allow-list; review the diff before committing"
        ),
    ] = False,
    fail_on_survivor: Annotated[
        bool, typer.Option(help="Exit 1 when a non-equivalent mutant survives")
    ] = True,
) -> None:
    """Mutation-test the decision tables: edit each row (bounds, operators, values, outputs) and
    check that a clinical test (vignette, SEER oracle, property, lint) notices every edit."""
    from nenguide.mutation import runner
    from nenguide.mutation import select as sel
    from nenguide.mutation.mutants import Mutant
    from nenguide.mutation.report import dumps, kill_rate, markdown

    con = Console(stderr=True)
    repo = _repo()
    package = package_path(guideline)
    vignettes = vignettes or repo / "tests" / "vignettes"
    if oracle is None:
        oracle = repo.parent / "shared" / "oracle" / "stage_cases.jsonl"
        if not oracle.is_file():
            con.print(f"[yellow]! SEER oracle not found at {escape(str(oracle))}: not run[/]")
            oracle = None
    allowlist = allowlist or repo / "tests" / "mutation" / "equivalent.yaml"
    wanted = set(table or [])
    changed = sel.changed_rows(package, changed_since) if changed_since else None

    def choose(ms: list[Mutant]) -> list[Mutant]:
        if wanted:
            ms = [m for m in ms if m.table_id in wanted]
        if changed is not None:
            ms = [m for m in ms if m.row_id in changed]
        return sel.sample(ms, sample) if sample else ms

    mode = "full"
    if sample or changed_since or wanted:
        parts = [f"sample of {sample}"] if sample else []
        parts += [f"rows changed since {changed_since}"] if changed_since else []
        parts += [f"tables {', '.join(sorted(wanted))}"] if wanted else []
        mode = "; ".join(parts)
    with Progress(
        TextColumn("[bold]mutants[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("killed {task.fields[killed]}, survived {task.fields[survived]}"),
        TimeElapsedColumn(),
        console=con,
        transient=True,
    ) as progress:
        task = progress.add_task("mutate", total=None, killed=0, survived=0)
        counts = {"killed": 0, "survived": 0}

        def started(n: int) -> None:
            progress.update(task, total=n)

        def done(r: runner.MutantResult) -> None:
            if r.status in counts:
                counts[r.status] += 1
            progress.update(task, advance=1, killed=counts["killed"], survived=counts["survived"])

        try:
            result = runner.run(
                package,
                vignettes,
                oracle,
                select=choose,
                equivalent=runner.read_allowlist(allowlist),
                domains=runner.domains_beside(allowlist),
                jobs=jobs,
                on_result=done,
                on_start=started,
            )
        except runner.MutationError as exc:
            con.print(f"[bold red]✖ {escape(str(exc))}[/]")
            raise typer.Exit(1) from None
    if merge:
        import json

        result = runner.merge(result, json.loads(merge.read_text(encoding="utf-8")))
        result = runner.relabel(result, runner.read_allowlist(allowlist))
        mode = f"full: {mode} re-run, every other table from {merge.name}"
    if update_allowlist:
        runner.write_allowlist(
            allowlist,
            result.results,
            keep=runner.read_allowlist(allowlist),
            keep_proofs=runner.read_allowlist_proofs(allowlist),
            domains=runner.domains_beside(allowlist),
        )
        con.print(f"allow-list written: {escape(str(allowlist))}")
        result = runner.relabel(result, runner.read_allowlist(allowlist))
    text = markdown(result, mode=mode)
    if report:
        report.write_text(text, encoding="utf-8")
    if json_out:
        json_out.write_text(dumps(result, mode=mode), encoding="utf-8")
    killed, survived, equivalent, rate = kill_rate(result.results)
    if not report:
        sys.stdout.write(text)
    con.print(
        f"{len(result.results)} mutants in {result.seconds:.0f} s: {killed} killed, "
        f"{survived} survived, {equivalent} equivalent; kill rate {rate:.1f} %"
    )
    if survived and fail_on_survivor:
        raise typer.Exit(1)
