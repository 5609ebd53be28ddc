"""The service commands (``serve``, ``db upgrade|downgrade``, ``user create``) as an operator
uses them, through a Typer app that registers them the way ``nenguide`` does."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from nenguide import store
from nenguide.api.cli import register
from nenguide.store import Database, migrate

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def version() -> None:  # a second command, so Typer keeps sub-command names
        typer.echo("x")

    register(app)
    return app


def test_commands_are_registered(app: typer.Typer) -> None:
    out = runner.invoke(app, ["--help"]).output
    for name in ("serve", "db", "user"):
        assert name in out
    serve_help = runner.invoke(app, ["serve", "--help"]).output
    for opt in ("--host", "--port", "--demo", "--database-url", "--workers"):
        assert opt in serve_help


def test_db_upgrade_and_downgrade(app: typer.Typer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    r = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert r.exit_code == 0, r.output
    assert f"(empty) -> {migrate.head()}" in r.output
    r = runner.invoke(app, ["db", "downgrade", "--database-url", url, "--revision", "base"])
    assert r.exit_code == 0 and "-> (empty)" in r.output
    assert migrate.current(Database(url)) is None


def test_user_create(app: typer.Typer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = [
        "user",
        "create",
        "first-admin",
        "--role",
        "admin",
        "--password-stdin",
        "--database-url",
        url,
    ]
    r = runner.invoke(app, args, input="a long enough password\n")
    assert r.exit_code == 0, r.output
    assert "created admin 'first-admin'" in r.output
    db = Database(url)
    with db.read() as s:
        user = store.users.get_user(s, "first-admin")
        assert user is not None and user.role == "admin"
        assert user.password_hash.startswith("$argon2id$")
        assert [e["action"] for e in store.audit.list_audit(s)] == ["user.create"]
    r = runner.invoke(app, args, input="a long enough password\n")
    assert r.exit_code == 1 and "already exists" in r.output
    r = runner.invoke(
        app, [*args[:2], "second", "--password-stdin", "--database-url", url], input="short\n"
    )
    assert r.exit_code == 2 and "at least 10 characters" in r.output
    r = runner.invoke(
        app,
        ["user", "create", "third", "--role", "root", "--password-stdin", "--database-url", url],
        input="a long enough password\n",
    )
    assert r.exit_code == 2 and "Roles: clinician, coordinator, admin, auditor" in r.output


def test_prompted_password_must_match(app: typer.Typer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    r = runner.invoke(
        app,
        ["user", "create", "nurse", "--role", "coordinator", "--database-url", url],
        input="a long enough password\na long enough password\n",
    )
    assert r.exit_code == 0, r.output


def test_unreachable_database_reads_like_help(app: typer.Typer) -> None:
    r = runner.invoke(
        app,
        ["db", "upgrade", "--database-url", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"],
    )
    assert r.exit_code == 2
    assert "Cannot open the database" in r.output and "NENGUIDE_DATABASE_URL" in r.output
    assert "secret" not in r.output  # the password is hidden
