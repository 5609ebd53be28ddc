"""The ``nenguide`` command line: assess a case, print schemas, check the knowledge package.

Exit codes: 0 success; 1 the knowledge package failed its checks; 2 invalid input or usage.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter
from rich.markup import escape

from nenguide._version import __version__
from nenguide.batch.cli import register as _register_batch
from nenguide.console import console
from nenguide.engine.assess import assess as run_assess
from nenguide.errors import CaseInputError, load_case_file, parse_case_text
from nenguide.knowledge import DEFAULT_GUIDELINE, KnowledgeError, available, load
from nenguide.limits import AS_OF_MAX, AS_OF_MIN, short
from nenguide.model.assessment import Assessment
from nenguide.model.case import Case
from nenguide.mutation import cli as mutation_cli

app = typer.Typer(
    name="nenguide",
    help=(
        "Decision support for the neuroendocrine-neoplasm MDT (CSCO 2021 NEN guideline).\n\n"
        "It classifies, grades and stages a case; reads functional syndromes from symptoms and "
        "labs; lists the work-up still needed, the treatment options with their sources, the "
        "follow-up schedule and hereditary screening; and says which data are missing or in "
        "conflict. It supports the multidisciplinary team; it does not replace it."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # markdown: a docstring's lines join into paragraphs, so --help never breaks mid-sentence
    rich_markup_mode="markdown",
)
schema_app = typer.Typer(help="Print the JSON Schema of the case input or the assessment output.")
knowledge_app = typer.Typer(help="Inspect and check the guideline knowledge packages.")
app.add_typer(schema_app, name="schema")
app.add_typer(knowledge_app, name="knowledge")

EXAMPLES = Path(__file__).parent / "examples"


class Format(StrEnum):
    text = "text"
    json = "json"


class Lang(StrEnum):
    en = "en"
    zh_CN = "zh-CN"


_console = console


def _fail_input(err: CaseInputError, lang: str = "en") -> None:
    from nenguide.error_texts import err_text

    def t(key: str, default: str) -> str:
        return default if lang == "en" else err_text(lang, key) or default

    err = err.localised(lang)
    con = _console(stderr=True)
    con.print(f"[bold red]{escape(t('cli.invalid', 'Invalid case:'))}[/] {escape(err.summary)}")
    for e in err.errors:
        con.print(f"  [bold]{escape(e.path)}[/]: {escape(e.message)}")
        if e.received is not None:
            con.print(f"      {escape(t('cli.received', 'received:'))} {escape(short(e.received))}")
        if e.allowed:
            con.print(f"      {escape(t('cli.allowed', 'allowed: '))} {escape(e.allowed)}")
    if err.errors:
        con.print(
            escape(
                t(
                    "cli.schema_hint",
                    "Run 'nenguide schema case' to see every field and its allowed values.",
                )
            )
        )
    raise typer.Exit(2)


def _load_knowledge(guideline: str) -> Any:
    try:
        return load(guideline)
    except KnowledgeError as exc:
        _console(stderr=True).print(f"[bold red]Knowledge package error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None


def _site(path: Path | None) -> Any:
    if path is None:
        return None
    from nenguide.model.site import SiteFileError, load_site_file

    try:
        return load_site_file(path)
    except SiteFileError as exc:
        _console(stderr=True).print(f"[bold red]Invalid site parameters:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None


def _check_site(kb: Any, site: Any) -> None:
    """Refuse site parameters that name codes the package does not know (exit 2)."""
    from nenguide.engine.treatment_data import site_code_problems

    problems = site_code_problems(kb, site)
    if problems:
        lines = "\n".join(f"  {escape(p)}" for p in problems)
        _console(stderr=True).print(f"[bold red]Invalid site parameters:[/]\n{lines}")
        raise typer.Exit(2)


SITE_HELP = (
    "Hospital site-parameter file (YAML/JSON): drug, tracer and PRRT availability and local "
    "settings, laid over the guideline package's defaults and recorded in the trace."
)


def _assess_and_print(
    case: Case, fmt: Format, lang: Lang, as_of: dt.date, guideline: str, site: Any = None
) -> None:
    kb = _load_knowledge(guideline)
    _check_site(kb, site)
    result = run_assess(case, kb, as_of=as_of, lang=lang.value, site=site)
    if fmt is Format.json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    from nenguide.report.text import render_text

    render_text(result, kb.catalog, _console())


def _parse_date(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"'{short(value)}' is not a date; use YYYY-MM-DD") from None
    if not AS_OF_MIN <= day <= AS_OF_MAX:
        raise typer.BadParameter(
            f"{day} is out of range: use a date from {AS_OF_MIN} to {AS_OF_MAX}"
        )
    return day


@app.command()
def assess(
    case: Annotated[
        str,
        typer.Argument(
            help="Case file (JSON or YAML), or '-' to read it from standard input.",
            metavar="CASE",
        ),
    ],
    format: Annotated[
        Format, typer.Option("--format", "-f", help="text: report for people; json: the contract.")
    ] = Format.text,
    lang: Annotated[Lang, typer.Option("--lang", "-l", help="Language of texts.")] = Lang.en,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Assessment date YYYY-MM-DD (default: today).", metavar="DATE"
        ),
    ] = None,
    guideline: Annotated[
        str, typer.Option("--guideline", help="Knowledge package to use.")
    ] = DEFAULT_GUIDELINE,
    site: Annotated[Path | None, typer.Option("--site", help=SITE_HELP, metavar="FILE")] = None,
) -> None:
    """Assess one case: classification, grade, stage and ENETS liver type; functional syndromes,
    work-up still needed, treatment options with CSCO levels and MDT flags, follow-up schedule
    and hereditary screening — each with the rules, values and sources behind it.

    The JSON output follows the published contract ('nenguide schema assessment'). Missing or
    conflicting data appear as explicit items, never as defaults. An invalid case exits with
    status 2 and lists every error with its field path, the value received and what is allowed.
    Using the guideline after its valid-until date (CSCO 2021: October 2023) prints a warning.
    """
    date = _parse_date(as_of)
    try:
        if case == "-":
            parsed = parse_case_text(sys.stdin.read(), "standard input")
        else:
            parsed = load_case_file(Path(case))
    except CaseInputError as err:
        _fail_input(err, lang.value)
        return
    _assess_and_print(parsed, format, lang, date, guideline, _site(site))


def demo_cases() -> dict[str, Path]:
    return {p.stem: p for p in sorted(EXAMPLES.glob("*.yaml"))}


@app.command()
def demo(
    name: Annotated[str | None, typer.Argument(help="Demo case name (omit to list them).")] = None,
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.text,
    lang: Annotated[Lang, typer.Option("--lang", "-l")] = Lang.en,
    as_of: Annotated[str | None, typer.Option("--as-of", metavar="DATE")] = None,
    site: Annotated[Path | None, typer.Option("--site", help=SITE_HELP, metavar="FILE")] = None,
) -> None:
    """Assess one of the bundled demo cases (or list them)."""
    cases = demo_cases()
    if name is None:
        con = _console()
        for n, p in cases.items():
            title = p.read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
            con.print(f"[bold]{n}[/]  {escape(title)}", soft_wrap=True)
        return
    if name not in cases:
        _console(stderr=True).print(
            f"[bold red]No demo case '{escape(name)}'.[/] Available: {', '.join(cases)}"
        )
        raise typer.Exit(2)
    try:
        parsed = load_case_file(cases[name])
    except CaseInputError as err:  # pragma: no cover - bundled cases are tested
        _fail_input(err, lang.value)
        return
    _assess_and_print(parsed, format, lang, _parse_date(as_of), DEFAULT_GUIDELINE, _site(site))


@schema_app.command("case")
def schema_case() -> None:
    """JSON Schema of the case input."""
    sys.stdout.write(json.dumps(Case.model_json_schema(), indent=2, ensure_ascii=False) + "\n")


@schema_app.command("assessment")
def schema_assessment() -> None:
    """JSON Schema of the assessment output (the integration contract)."""
    schema = TypeAdapter(Assessment).json_schema(mode="serialization")
    sys.stdout.write(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")


@knowledge_app.command("lint")
def knowledge_lint(
    guideline: Annotated[str, typer.Option("--guideline")] = DEFAULT_GUIDELINE,
    update_hash: Annotated[
        bool,
        typer.Option(
            "--update-hash",
            help="Write the recomputed content hash into manifest.yaml (after reviewing changes).",
        ),
    ] = False,
) -> None:
    """Check a knowledge package: schema, ids, citations, totality/overlap, texts, content hash."""
    from nenguide.engine.lint import lint
    from nenguide.knowledge import _root, compute_hash, load_from, package_path

    con = _console()
    folder = _root() / guideline
    if not (folder / "manifest.yaml").is_file():
        con.print(
            f"[bold red]No knowledge package '{escape(guideline)}'[/]; available: "
            f"{', '.join(available())}"
        )
        raise typer.Exit(2)
    try:
        kb = load_from(folder, verify_hash=False)
    except KnowledgeError as exc:
        con.print(f"[bold red]✖ {escape(str(exc))}[/]")
        raise typer.Exit(1) from None
    report = lint(kb)
    actual = compute_hash(folder)
    if actual != kb.manifest.content_hash:
        if update_hash:
            manifest = package_path(guideline) / "manifest.yaml"
            text = manifest.read_text(encoding="utf-8")
            manifest.write_text(text.replace(kb.manifest.content_hash, actual), encoding="utf-8")
            con.print(f"content hash updated to {actual}")
        else:
            report.errors.append(
                f"content hash {actual} differs from manifest.yaml ({kb.manifest.content_hash}); "
                "review the change, note it in CHANGES.md, then run with --update-hash"
            )
    for w in report.warnings:
        con.print(f"[yellow]! {escape(w)}[/]")
    for e in report.errors:
        con.print(f"[bold red]✖ {escape(e)}[/]")
    rows = sum(len(t.rows) for t in kb.tables.values())
    con.print(
        f"{kb.manifest.id} {kb.manifest.version}: {len(kb.tables)} tables, {rows} rules, "
        f"{len(kb.bibliography)} sources, {report.checked_points} input combinations checked; "
        f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
    )
    if not report.ok:
        raise typer.Exit(1)


@knowledge_app.command("rules")
def knowledge_rules(
    guideline: Annotated[str, typer.Option("--guideline")] = DEFAULT_GUIDELINE,
) -> None:
    """Print the rule catalogue (Markdown): every table and rule with its condition and sources."""
    kb = _load_knowledge(guideline)
    m = kb.manifest
    out = [
        f"# Rule catalogue: {m.title} ({m.version})",
        "",
        "Generated by `nenguide knowledge rules` from the knowledge package; do not edit by hand.",
        f"Content hash `{m.content_hash}`.",
        "",
    ]
    for table in kb.tables.values():
        spec = table.spec
        out += [f"## {spec.title}", "", f"Table `{spec.id}`, hit policy `{spec.hit_policy}`.", ""]
        out += [
            "| rule | when | condition | then | sources | status |",
            "|---|---|---|---|---|---|",
        ]
        for r in table.rows:
            then = ", ".join(f"{k}: {v}" for k, v in r.then.items() if not k.endswith("_table"))
            cond = r.trace_text.split(": ", 1)[1].replace("|", "\\|")
            out.append(
                f"| `{r.id}` | {r.when_text.replace('|', '/')} | {cond} | {then} | "
                f"{', '.join(r.sources)} | {r.status} |"
            )
        out.append("")
    out += ["## Sources", ""]
    for c in kb.bibliography.values():
        out.append(f"- `{c.id}`: {c.citation}" + (f" {c.url}" if c.url else ""))
    sys.stdout.write("\n".join(out) + "\n")


@knowledge_app.command("list")
def knowledge_list() -> None:
    """List the bundled knowledge packages with their validity."""
    con = _console()
    for name in available():
        kb = _load_knowledge(name)
        m = kb.manifest
        con.print(
            f"[bold]{name}[/]  {m.title} {m.version}  valid {m.valid_from} – "
            f"{m.valid_until}  ({m.status})"
        )


knowledge_app.command("mutate")(mutation_cli.mutate)


@app.command()
def version() -> None:
    """Print the engine version."""
    sys.stdout.write(f"nenguide {__version__}\n")


def _register_adapters() -> None:
    """Add the HTTP service commands (serve, db, user) when the [api] extra is installed."""
    import importlib

    for name in ("nenguide.api.cli", "nenguide.interop.cli"):
        try:
            module = importlib.import_module(name)
        except ImportError:  # the [api] / [fhir] extra is not installed
            continue
        module.register(app)


_register_adapters()
__import__("nenguide.explain_cli").explain_cli.register(app)  # nenguide explain (issue 7)


def _register_report() -> None:
    """Add ``report`` (PDF/HTML) when Jinja2 is installed (the [report] or [api] extra)."""
    try:
        from nenguide.report.cli import register
    except ImportError:
        return
    register(app)


_register_report()
_register_batch(app)  # synth, batch, concordance (nenguide.batch.cli)


def main() -> None:
    app()
