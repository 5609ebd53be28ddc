"""``python -m nenguide.api serve|db|user``: the service commands without the rest of the CLI."""

from __future__ import annotations

import typer

from nenguide.api.cli import register

app = typer.Typer(help="nenguide MDT service", no_args_is_help=True)
register(app)

if __name__ == "__main__":
    app()
