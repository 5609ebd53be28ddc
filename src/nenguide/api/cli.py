"""Commands of the MDT service, added to the ``nenguide`` command line by :func:`register`:
``serve``, ``db upgrade`` / ``db downgrade`` / ``db grant-app-role``, ``user create`` and
``audit verify``."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db. Default: "
        "NENGUIDE_DATABASE_URL, else a SQLite file in the user data directory.",
        show_default=False,
    ),
]


def _open(url: str | None, *, demo: bool = False) -> Any:
    from sqlalchemy.exc import OperationalError

    from nenguide.store import Database, migrate, resolve_url
    from nenguide.store.db import describe

    resolved = resolve_url(url, demo=demo)
    db = Database(resolved)
    try:
        with db.engine.connect():
            pass
    except OperationalError as exc:
        typer.secho(
            f"Cannot open the database {describe(resolved)}: {exc.orig or exc}".strip(),
            fg="red",
            err=True,
        )
        typer.echo(
            "Check the URL (--database-url or NENGUIDE_DATABASE_URL) and that the "
            "server is running.",
            err=True,
        )
        raise typer.Exit(2) from None
    return db, migrate, describe(resolved)


def _log_config(level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "nenguide": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
        },
    }


def _show_demo_logins(creds: dict[str, str], where: str, url: str) -> None:
    """Demo logins go to the terminal, never to a log: when standard error is not a terminal
    (a service manager, a redirect) they are written to an owner-only file instead."""
    typer.secho("Demo mode: invented patients only.", fg="yellow", err=True)
    lines = [f"  {user:<18} password: {password}" for user, password in creds.items()]
    if sys.stderr.isatty():
        typer.echo("Log in with:", err=True)
        for line in lines:
            typer.echo(line, err=True)
        return
    import platformdirs
    from sqlalchemy.engine import make_url

    u = make_url(url)
    folder = (
        Path(u.database).parent
        if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:")
        else Path(platformdirs.user_data_dir("nenguide", appauthor=False))
    )
    path = folder / "demo-logins.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"nenguide demo logins ({where})\n" + "\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    typer.echo(f"Demo logins are in {path} (not shown here: this is not a terminal)", err=True)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    demo: Annotated[
        bool,
        typer.Option(
            help="Seed demo patients, a meeting, follow-up tasks and demo users "
            "(uses a separate demo database unless --database-url is given)."
        ),
    ] = False,
    database_url: DatabaseUrl = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    migrate_schema: Annotated[
        bool,
        typer.Option(
            "--migrate/--no-migrate",
            help="Upgrade the schema first (as the table owner). --no-migrate only checks it: "
            "use it when the service runs as a PostgreSQL role that does not own the tables.",
        ),
    ] = True,
    cookie_secure: Annotated[
        bool | None,
        typer.Option(
            "--cookie-secure/--no-cookie-secure",
            help="Mark the session cookie Secure (behind HTTPS). Default: "
            "NENGUIDE_COOKIE_SECURE, else off.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the MDT service (HTTP API, OpenAPI at /docs). Upgrades the database schema first."""
    import uvicorn

    from nenguide.api.app import create_app
    from nenguide.api.settings import SettingError, Settings
    from nenguide.store import StoreError
    from nenguide.store.roles import owns_audit_log

    try:
        Settings.from_env()  # every NENGUIDE_* variable is checked before anything starts
    except SettingError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    db, migrate, where = _open(database_url, demo=demo)
    if demo:
        from nenguide.store.instance import NotADemoDatabase, check_demo

        try:
            check_demo(db)
        except NotADemoDatabase as exc:
            typer.secho(f"Demo mode refused: {exc.message}", fg="red", err=True)
            raise typer.Exit(2) from None
    if migrate_schema:
        migrate.upgrade(db)
    else:
        try:
            migrate.check(db)
        except StoreError as exc:
            typer.secho(exc.message, fg="red", err=True)
            raise typer.Exit(2) from None
    typer.echo(f"database: {where} (schema {migrate.current(db)})", err=True)
    if owns_audit_log(db):
        typer.secho(
            "The service connects as the owner of the tables: it could disable the audit "
            "log's trigger. Run it as a role made with 'nenguide db grant-app-role' "
            "(docs/security.md).",
            fg="yellow",
            err=True,
        )
    if demo:
        from nenguide.api.demo import seed

        _show_demo_logins(seed(db), where, db.url)
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.secho(
            f"Listening on {host}: put a TLS-terminating proxy in front and pass "
            "--cookie-secure; sessions and patient data must not cross a network in clear.",
            fg="yellow",
            err=True,
        )
    config = _log_config(log_level)
    settings = Settings.from_env(database_url=db.url, demo=demo, cookie_secure=cookie_secure)
    if workers == 1:
        uvicorn.run(
            create_app(settings, db=db),
            host=host,
            port=port,
            access_log=False,
            log_config=config,
            log_level=log_level,
        )
        return
    db.dispose()
    os.environ.update(settings.env())  # the workers read the same settings
    uvicorn.run(
        "nenguide.api.app:create_app_from_env",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        access_log=False,
        log_config=config,
        log_level=log_level,
    )


def db_upgrade(
    database_url: DatabaseUrl = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create or upgrade the database schema."""
    db, migrate, where = _open(database_url)
    before = migrate.current(db)
    migrate.upgrade(db, revision)
    typer.echo(f"{where}: schema {before or '(empty)'} -> {migrate.current(db)}")


def db_downgrade(
    database_url: DatabaseUrl = None,
    revision: Annotated[
        str, typer.Option(help="Target revision ('-1' one step, 'base' drops everything).")
    ] = "-1",
) -> None:
    """Downgrade the database schema (data in dropped tables is lost)."""
    db, migrate, where = _open(database_url)
    before = migrate.current(db)
    migrate.downgrade(db, revision)
    typer.echo(f"{where}: schema {before or '(empty)'} -> {migrate.current(db) or '(empty)'}")


def user_create(
    username: Annotated[str, typer.Argument(help="Login name (lower case).")],
    role: Annotated[
        str, typer.Option(help="clinician, coordinator, admin or auditor (read-only).")
    ] = "clinician",
    display_name: Annotated[str, typer.Option(help="Full name shown in the UI.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a user (e.g. the first admin). Prompts for the password unless --password-stdin."""
    from pydantic import TypeAdapter, ValidationError

    from nenguide import store
    from nenguide.api.passwords import WEAK_PASSWORD, password_problem
    from nenguide.api.schemas import Role, Username
    from nenguide.api.security import hash_password
    from nenguide.store import Actor, StoreError

    try:
        TypeAdapter(Username).validate_python(username)
        TypeAdapter(Role).validate_python(role)
    except ValidationError as exc:
        msg = exc.errors()[0]["msg"]
        typer.secho(f"Invalid user name or role: {msg}", fg="red", err=True)
        typer.echo(
            "User names: lower-case letters, digits, '.', '_', '-'. Roles: clinician, "
            "coordinator, admin, auditor.",
            err=True,
        )
        raise typer.Exit(2) from None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, username)
    if problem:
        typer.secho(f"Password refused ({WEAK_PASSWORD}): {problem}.", fg="red", err=True)
        raise typer.Exit(2)
    db, migrate, where = _open(database_url)
    migrate.upgrade(db)
    try:
        with db.write() as s:
            store.users.create_user(
                s,
                Actor("cli", "admin"),
                username=username,
                role=role,
                password_hash=hash_password(password),
                display_name=display_name,
            )
    except StoreError as exc:
        typer.secho(exc.message, fg="red", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created {role} '{username}' in {where}")


def db_grant_app_role(
    role: Annotated[str, typer.Argument(help="The PostgreSQL role the service logs in as.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Grant a PostgreSQL role what the service needs (run as the tables' owner): read and
    write the records, only read and append to the audit log, own nothing."""
    from nenguide.store import StoreError
    from nenguide.store.roles import grant_app_role

    db, _migrate, where = _open(database_url)
    try:
        statements = grant_app_role(db, role)
    except StoreError as exc:
        typer.secho(exc.message, fg="red", err=True)
        raise typer.Exit(2) from None
    for stmt in statements:
        typer.echo(stmt)
    typer.echo(f"{where}: {role} may now run the service (serve --no-migrate)")


def audit_verify(
    database_url: DatabaseUrl = None,
    expect: Annotated[
        str | None,
        typer.Option(
            "--expect",
            metavar="ID:HASH",
            help="An anchor printed by an earlier verify: it must still be in the chain.",
        ),
    ] = None,
) -> None:
    """Check the audit log's hash chain; print its head (ID:HASH) to note down as an anchor.
    Exit status 0: intact; 1: tampering found; 2: cannot check."""
    from nenguide.store.chain import verify

    db, _migrate, where = _open(database_url)
    if expect is not None and not re.fullmatch(r"\d+:[0-9a-fA-F]{64}", expect):
        typer.secho("--expect takes ID:HASH as printed by 'audit verify'", fg="red", err=True)
        raise typer.Exit(2)
    with db.read() as s:
        result = verify(s, expect)
    if not result.ok:
        typer.secho(f"AUDIT LOG TAMPERED ({where}): {result.problem}", fg="red", err=True)
        typer.echo(f"{result.entries} entries verified before entry {result.first_bad_id}")
        raise typer.Exit(1)
    typer.echo(f"audit log intact: {result.entries} entries ({where})")
    typer.echo(f"head: {result.anchor}")


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``db``, ``user`` and ``audit`` to the ``nenguide`` command line."""
    app.command("serve")(serve)
    db_app = typer.Typer(help="Database schema: upgrade or downgrade.", no_args_is_help=True)
    db_app.command("upgrade")(db_upgrade)
    db_app.command("downgrade")(db_downgrade)
    db_app.command("grant-app-role")(db_grant_app_role)
    audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
    audit_app.command("verify")(audit_verify)
    app.add_typer(audit_app, name="audit")
    app.add_typer(db_app, name="db")
    user_app = typer.Typer(help="Users of the MDT service.", no_args_is_help=True)
    user_app.command("create")(user_create)
    app.add_typer(user_app, name="user")
