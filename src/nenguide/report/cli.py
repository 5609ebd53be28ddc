"""``nenguide report``: the printable assessment report of a case file, as PDF or HTML."""

# no "from __future__ import annotations": Typer reads these annotations at run time

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape


class ReportFormat(StrEnum):
    pdf = "pdf"
    html = "html"


def register(app: typer.Typer) -> None:
    from nenguide import cli
    from nenguide.engine.assess import assess as run_assess
    from nenguide.errors import CaseInputError, load_case_file, parse_case_text
    from nenguide.knowledge import DEFAULT_GUIDELINE

    @app.command()
    def report(
        case: Annotated[
            str,
            typer.Argument(
                help="Case file (JSON or YAML), or '-' to read it from standard input.",
                metavar="CASE",
            ),
        ],
        out: Annotated[Path, typer.Option("--out", "-o", help="File to write.", metavar="FILE")],
        format: Annotated[
            ReportFormat, typer.Option("--format", "-f", help="pdf or html.")
        ] = ReportFormat.pdf,
        lang: Annotated[cli.Lang, typer.Option("--lang", "-l", help="Language.")] = cli.Lang.en,
        as_of: Annotated[
            str | None,
            typer.Option(
                "--as-of", help="Assessment date YYYY-MM-DD (default: today).", metavar="DATE"
            ),
        ] = None,
        guideline: Annotated[
            str, typer.Option("--guideline", help="Knowledge package to use.")
        ] = DEFAULT_GUIDELINE,
        site: Annotated[
            Path | None, typer.Option("--site", help=cli.SITE_HELP, metavar="FILE")
        ] = None,
    ) -> None:
        """Write the assessment report of a case as PDF or HTML, in English or Chinese.

        The report carries the guideline version and its validity warning, the engine version,
        the date and the disclaimer on every page, and each item's rule and sources. PDF needs
        WeasyPrint (the [report] extra) and, for Chinese, a CJK font such as Debian's
        fonts-noto-cjk.
        """
        from nenguide.report.html import assessment_html

        date = cli._parse_date(as_of)
        try:
            if case == "-":
                parsed = parse_case_text(sys.stdin.read(), "standard input")
            else:
                parsed = load_case_file(Path(case))
        except CaseInputError as err:
            cli._fail_input(err, lang.value)
            return
        kb = cli._load_knowledge(guideline)
        params = cli._site(site)
        cli._check_site(kb, params)
        result = run_assess(parsed, kb, as_of=date, lang=lang.value, site=params)
        doc = assessment_html(result.model_dump(mode="json"), kb, lang=lang.value, today=date)
        try:
            if format is ReportFormat.html:
                out.write_text(doc, encoding="utf-8")
            else:
                from nenguide.report.pdf import html_to_pdf

                out.write_bytes(html_to_pdf(doc))
        except RuntimeError as exc:
            cli._console(stderr=True).print(f"[bold red]{exc}[/]")
            raise typer.Exit(2) from None
        except OSError as exc:  # no such folder, a folder given as the file, no permission
            why = exc.strerror or str(exc)
            cli._console(stderr=True).print(
                f"[bold red]Cannot write {escape(str(out))}:[/] {escape(why)}; --out names the "
                "file to write, in a folder that exists"
            )
            raise typer.Exit(2) from None
        cli._console(stderr=True).print(f"wrote {out}")
