"""``nenguide import-fhir``: read a FHIR R4 Bundle into a case, show what was not mapped, and
optionally save the case into the MDT store. Added to the command line by :func:`register`."""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import fhir.resources  # noqa: F401  (the [fhir] extra; without it the command is not added)
import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nenguide.console import console


class Format(StrEnum):
    text = "text"
    json = "json"


_console = console


def _store_case(
    database_url: str | None, case: dict[str, Any], *, name: str, mrn: str | None, source: str
) -> tuple[str, str]:
    """Save the case as a new patient and case in the MDT store; (patient id, case id).

    The only place this command touches the store. Store functions used:
    ``nenguide.store.Database``, ``nenguide.store.resolve_url``, ``nenguide.store.migrate.upgrade``,
    ``nenguide.store.patients.create_patient`` and ``nenguide.store.cases.create_case``.
    """
    from nenguide.store import Actor, Database, cases, migrate, patients, resolve_url

    db = Database(resolve_url(database_url))
    migrate.upgrade(db)
    actor = Actor("cli-import-fhir", "clinician")
    with db.write() as s:
        patient = patients.create_patient(
            s, actor, name=name, mrn=mrn, sex=case.get("patient", {}).get("sex")
        )
        stored = cases.create_case(
            s,
            actor,
            patient_id=patient["id"],
            title=f"Imported from FHIR ({source})",
            data=case,
            comment=f"nenguide import-fhir {source}",
        )
    return str(patient["id"]), str(stored["id"])


def _print_text(result: Any, con: Console) -> None:
    if result.case is not None:
        con.print("[bold]Mapped case[/]")
        data = result.case.model_dump(mode="json", exclude_none=True)
        con.print(escape(yaml.safe_dump(data, sort_keys=False, allow_unicode=True)), end="")
    else:
        con.print("[bold red]No case could be built[/] (see 'Not mapped')")
    if result.notes:
        table = Table("kind", "field", "what was done", title="Choices made", title_justify="left")
        for n in result.notes:
            table.add_row(n.kind, n.field, escape(n.message))
        con.print(table)
    if result.unmapped:
        table = Table(
            "resource",
            "element / field",
            "reason",
            title=f"Not mapped ({len(result.unmapped)})",
            title_justify="left",
        )
        for u in result.unmapped:
            where = " ".join(x for x in (u.element, u.field and f"-> {u.field}", u.code) if x)
            table.add_row(escape(u.resource), escape(where), escape(u.reason))
        con.print(table)
    else:
        con.print(f"Everything mapped ({result.resources_read} resources).")


def import_fhir(
    bundle: Annotated[Path, typer.Argument(help="FHIR R4 Bundle (JSON file, or - for stdin).")],
    fmt: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
    as_of: Annotated[
        str | None, typer.Option(help="Date an age is derived at from birthDate (YYYY-MM-DD).")
    ] = None,
    store: Annotated[
        bool,
        typer.Option("--store", help="Save the case as a new patient and case in the MDT store."),
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Store URL (default: NENGUIDE_DATABASE_URL, else the "
            "SQLite file in the user data directory).",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Patient name for --store (default: Patient.name).")
    ] = None,
    mrn: Annotated[
        str | None, typer.Option(help="MRN for --store (default: the first Patient.identifier).")
    ] = None,
) -> None:
    """Read a FHIR R4 Bundle (mCODE-aligned) into a case; list everything not mapped, and why.

    Exit codes: 0 a case was built; 2 the input is not a Bundle, or no case could be built
    (e.g. no primary cancer condition with a known site).
    """
    from nenguide.interop.fhir import BundleError, import_bundle

    err = _console(stderr=True)
    try:
        text = sys.stdin.read() if str(bundle) == "-" else bundle.read_text(encoding="utf-8")
    except OSError as exc:
        err.print(
            f"[bold red]Cannot read {escape(str(bundle))}:[/] {escape(exc.strerror or str(exc))}"
        )
        raise typer.Exit(2) from None
    except UnicodeDecodeError:
        err.print(f"[bold red]Cannot read {escape(str(bundle))}:[/] it is not UTF-8 text")
        raise typer.Exit(2) from None
    try:
        day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(f"'{as_of}' is not a date; use YYYY-MM-DD") from None
    try:
        result = import_bundle(text, as_of=day)
    except BundleError as exc:
        err.print(f"[bold red]Not a FHIR Bundle:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    payload: dict[str, Any] = json.loads(result.model_dump_json(exclude_none=True))
    if store and result.case is not None:
        who = name or result.patient.name
        if not who:
            err.print(
                "[bold red]--store needs a patient name:[/] the Bundle's Patient has none; "
                "give --name"
            )
            raise typer.Exit(2)
        case_data = result.case.model_dump(mode="json", exclude_none=True)
        try:
            import sqlalchemy  # noqa: F401
        except ImportError:
            err.print("[bold red]--store needs the MDT store:[/] pip install 'nenguide[api]'")
            raise typer.Exit(2) from None
        from nenguide.store import StoreError

        try:
            patient_id, case_id = _store_case(
                database_url,
                case_data,
                name=who,
                mrn=mrn or result.patient.identifier,
                source=bundle.name,
            )
        except StoreError as exc:
            err.print(f"[bold red]Not stored:[/] {escape(exc.message)}")
            raise typer.Exit(1) from None
        payload["stored"] = {"patient_id": patient_id, "case_id": case_id}
    if fmt is Format.json:
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        _print_text(result, _console())
        if "stored" in payload:
            _console().print(
                f"Stored: patient {payload['stored']['patient_id']}, case "
                f"{payload['stored']['case_id']}"
            )
    if result.case is None:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add ``import-fhir`` to the ``nenguide`` command line."""
    app.command("import-fhir")(import_fhir)
