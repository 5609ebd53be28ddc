"""``nenguide explain CASE OPTION_CODE``: why a treatment option is, or is not, offered."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``explain`` command to the CLI."""

    @app.command("explain")
    def explain(
        case: Annotated[
            str,
            typer.Argument(help="Case file (JSON or YAML), or '-' for stdin.", metavar="CASE"),
        ],
        option: Annotated[
            str,
            typer.Argument(
                help="Treatment option code, e.g. PRRT_LU177 (the knowledge package's options).",
                metavar="OPTION_CODE",
            ),
        ],
        lang: Annotated[str, typer.Option("--lang", "-l", help="en or zh-CN.")] = "en",
        as_of: Annotated[
            str | None, typer.Option("--as-of", help="Assessment date YYYY-MM-DD.", metavar="DATE")
        ] = None,
        guideline: Annotated[str, typer.Option("--guideline", help="Knowledge package.")] = (
            "csco-2021"
        ),
    ) -> None:
        """Explain why OPTION is offered for CASE, or why it is not: for every rule that could
        offer it, whether it applied, which condition failed with the value read, which input
        it still needs, or that its table was not consulted - read from the assessment's trace.
        """
        from nenguide.cli import _fail_input, _load_knowledge, _parse_date
        from nenguide.engine.assess import assess
        from nenguide.errors import CaseInputError, load_case_file, parse_case_text
        from nenguide.explain import UnknownOptionError, explain_option

        if lang not in ("en", "zh-CN"):
            raise typer.BadParameter(f"'{lang}': use en or zh-CN", param_hint="--lang")
        date = _parse_date(as_of)
        try:
            if case == "-":
                parsed = parse_case_text(sys.stdin.read(), "standard input")
            else:
                parsed = load_case_file(Path(case))
        except CaseInputError as err:
            _fail_input(err, lang)
            return
        kb = _load_knowledge(guideline)
        a = assess(parsed, kb, as_of=date, lang=lang)
        try:
            ex = explain_option(a, kb, option.strip().upper(), lang)
        except UnknownOptionError as exc:
            sys.stderr.write(f"{exc}\n")
            raise typer.Exit(2) from None
        sys.stdout.write("\n".join(ex.lines) + "\n")
