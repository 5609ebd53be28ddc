"""Commands ``synth``, ``batch`` and ``concordance``, added to ``nenguide`` by :func:`register`.

``synth`` needs only the core install; ``batch`` and ``concordance`` need the ``[batch]`` extra
(Polars, PyArrow, matplotlib, Jinja2) and say so when it is missing.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from nenguide.batch import CHUNK_ROWS
from nenguide.knowledge import DEFAULT_GUIDELINE

EXIT_INPUT = 2
EXIT_REJECTED = 3


class Population(StrEnum):
    seer = "seer"
    china = "china"
    both = "both"


def _err(message: str, code: int = EXIT_INPUT) -> typer.Exit:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]Error:[/] {escape(message)}"
    )
    return typer.Exit(code)


def _need_batch_extra() -> None:
    try:
        import polars  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        raise _err("this command needs the batch extra: pip install 'nenguide[batch]'") from None


def synth(
    n: Annotated[int, typer.Argument(help="Number of cases.", min=0, metavar="N")],
    seed: Annotated[
        int, typer.Option("--seed", "-s", help="Random seed (same seed, same cohort).")
    ] = 0,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output file (default: standard output).")
    ] = None,
    population: Annotated[
        Population,
        typer.Option(
            "--population",
            help="Case mix: seer (United States), china (Chinese multicentre series) or both "
            "(half each).",
        ),
    ] = Population.both,
    with_care: Annotated[
        bool,
        typer.Option(
            "--with-care",
            help="Write envelopes {id, case, care} with illustrative delivered care, for "
            "'nenguide concordance'.",
        ),
    ] = False,
) -> None:
    """Generate N synthetic, valid cases as JSON Lines (one case per line).

    The site, grade, stage and syndrome mix follows published epidemiology (SEER: Dasari 2017,
    Man 2018; China: Fan 2017 and others), read from a data file that cites each figure; see
    docs/batch.md. Synthetic cases are for demos, tests and benchmarks, not patients.
    """
    from nenguide.batch.synth import generate

    fh = sys.stdout if out is None else open(out, "w", encoding="utf-8")  # noqa: SIM115
    try:
        for s in generate(n, seed, population.value, with_care=with_care):
            if with_care:
                record: dict[str, Any] = {"id": s.case["case_id"], "case": s.case, "care": s.care}
            else:
                record = s.case
            fh.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")
    except BrokenPipeError:  # e.g. piped into head
        pass
    finally:
        if out is not None:
            fh.close()


def _backend(name: str, guideline: str, as_of: dt.date, processes: int) -> Any:
    from nenguide.batch.backend import BACKENDS, make_backend

    if name not in BACKENDS:
        raise _err(f"--backend: {name!r} is not a backend; use one of {', '.join(BACKENDS)}")
    return make_backend(name, guideline, as_of, processes=processes or None)


def _as_of(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD") from None


InputFormat = Annotated[
    str | None,
    typer.Option(
        "--input-format", help="csv, parquet or jsonl (default: from the suffix; '-' is jsonl)."
    ),
]
MappingOpt = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        "-m",
        help="Column mapping (YAML); see docs/batch.md.",
        exists=True,
        dir_okay=False,
    ),
]
AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="Assessment date YYYY-MM-DD (default: today).", metavar="DATE"),
]
Guideline = Annotated[str, typer.Option("--guideline", "-g", help="Guideline knowledge package.")]
Processes = Annotated[
    int,
    typer.Option(
        "--processes",
        "-p",
        help="Worker processes; each reads, validates and assesses its part of every chunk "
        "(0: one per CPU).",
        min=0,
    ),
]
BackendOpt = Annotated[
    str,
    typer.Option(
        "--backend",
        help="columnar (JSON Lines through the fact layer as columns, each step's answer "
        "from the engine once per distinct key; other input with the core steps over whole "
        "chunks; default) or per-case (the reference engine case by case); both give "
        "identical rows.",
    ),
]
ChunkSize = Annotated[
    int,
    typer.Option(
        "--chunk-size",
        help="Rows each process assesses at once (a chunk read holds one such part per "
        "worker process; memory stays flat).",
        min=1,
    ),
]


def _setup(
    in_: str, input_format: str | None, mapping: Path | None, guideline: str
) -> tuple[str, Any]:
    _need_batch_extra()
    from nenguide.batch.io import input_format as fmt_of
    from nenguide.batch.mapping import Mapper, MappingError, load_mapping
    from nenguide.knowledge import KnowledgeError, load

    if in_ != "-" and not Path(in_).exists():
        raise _err(f"no such input file: {in_}")
    try:
        fmt = fmt_of(in_, input_format)
    except ValueError as exc:
        raise _err(str(exc)) from None
    try:
        mapper = Mapper(load_mapping(mapping) if mapping else None)
    except MappingError as exc:
        raise _err(str(exc)) from None
    try:
        load(guideline)
    except KnowledgeError as exc:
        raise _err(f"knowledge package: {exc}", 1) from None
    return fmt, mapper


def batch(
    in_: Annotated[
        str,
        typer.Argument(
            help="Input: CSV, Parquet or JSON Lines; '-' reads JSON Lines from standard input.",
            metavar="IN",
        ),
    ],
    out: Annotated[
        Path,
        typer.Argument(help="Output: .parquet or .csv, one row per assessed case.", metavar="OUT"),
    ],
    mapping: MappingOpt = None,
    rejected: Annotated[
        Path | None,
        typer.Option(
            "--rejected", help="Rejected-rows file (CSV). Default: OUT's name + '.rejected.csv'."
        ),
    ] = None,
    input_format: InputFormat = None,
    output_format: Annotated[
        str | None,
        typer.Option("--output-format", help="parquet or csv (default: from OUT's suffix)."),
    ] = None,
    as_of: AsOf = None,
    guideline: Guideline = DEFAULT_GUIDELINE,
    processes: Processes = 1,
    backend_name: BackendOpt = "columnar",
    chunk_size: ChunkSize = CHUNK_ROWS,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with status 3 when any row was rejected.")
    ] = False,
) -> None:
    """Assess every case of a table and write one flat row per case, in input order.

    Columns: the input row number ('row'), the input's id column (mapping 'id_column'), and the
    assessment's contract keys joined with '_' (classification_grade, stage_t, ...), with list
    columns for treatment options, syndromes, work-up and issues (docs/batch.md). A bad row never
    stops the batch: it is written, with why, to the rejected-rows file.
    """
    from nenguide.batch.io import RejectWriter, TableWriter, id_output_name, output_schema
    from nenguide.batch.io import output_format as out_fmt_of
    from nenguide.batch.jsonl import InputChangedError
    from nenguide.batch.rows import Output
    from nenguide.batch.runner import (
        Counts,
        count_rows,
        default_rejected_path,
        output_frames,
        progress,
    )

    fmt, mapper = _setup(in_, input_format, mapping, guideline)
    try:
        ofmt = out_fmt_of(str(out), output_format)
    except ValueError as exc:
        raise _err(str(exc)) from None
    rejected_path = str(rejected) if rejected else default_rejected_path(str(out))
    id_col = id_output_name(mapper.id_column)
    backend = _backend(backend_name, guideline, _as_of(as_of), processes)
    output = Output(output_schema(id_col), id_col)
    writer = TableWriter(str(out), ofmt, output.schema)
    rejects = RejectWriter(rejected_path)
    counts = Counts()
    total = count_rows(in_, fmt)
    start = time.perf_counter()
    chunks = output_frames(in_, fmt, mapper, backend, rejects, counts, output, chunk_size)
    try:
        with progress(total, "Assessing") as bar:
            task = bar.tasks[0].id
            for frame in chunks:
                writer.write_frame(frame)
                del frame  # written: freed before the next chunk's collection
                rate = counts.read / max(time.perf_counter() - start, 1e-9)
                bar.update(task, completed=counts.read, rate=f"{rate:,.0f}")
    except InputChangedError as exc:
        raise _err(str(exc)) from None
    finally:
        chunks.close()  # stops the worker processes, on an error too
        backend.close()
        writer.close()
        rejects.close()
    elapsed = time.perf_counter() - start
    n_rej = len(counts.rejected_rows)
    typer.echo(
        f"{counts.read} rows read, {counts.assessed} assessed, {n_rej} rejected "
        f"({elapsed:.1f} s, {counts.read / max(elapsed, 1e-9):,.0f} rows/s). "
        f"Output: {out}. Rejected rows: {rejected_path}.",
        err=True,
    )
    if strict and n_rej:
        raise typer.Exit(EXIT_REJECTED)


def concordance(
    in_: Annotated[
        str,
        typer.Argument(
            help="Input with delivered-care columns: CSV, Parquet or JSON Lines "
            "('-': standard input).",
            metavar="IN",
        ),
    ],
    report: Annotated[
        Path, typer.Option("--report", "-r", help="HTML report to write (works offline).")
    ],
    table: Annotated[
        Path | None,
        typer.Option(
            "--table", help="CSV of the concordance table. Default: REPORT's name + '.csv'."
        ),
    ] = None,
    mapping: MappingOpt = None,
    indicators: Annotated[
        Path | None,
        typer.Option(
            "--indicators",
            help="Indicator definitions (YAML). Default: the packaged set.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    rejected: Annotated[
        Path | None, typer.Option("--rejected", help="Rejected-rows file (CSV).")
    ] = None,
    input_format: InputFormat = None,
    as_of: AsOf = None,
    guideline: Guideline = DEFAULT_GUIDELINE,
    processes: Processes = 1,
    backend_name: BackendOpt = "columnar",
    chunk_size: ChunkSize = CHUNK_ROWS,
    cds_feedback: Annotated[
        list[Path] | None,
        typer.Option(
            "--cds-feedback",
            help="CDS Hooks feedback exported by the MDT service (GET /api/v1/cds-feedback): "
            "adds the indicator 'card accepted vs overridden' to the report.",
            exists=True,
        ),
    ] = None,
) -> None:
    """Guideline-concordance audit: for each quality indicator, how many eligible cases received
    the care the guideline recommends, with 95 % Wilson confidence intervals, overall and by site,
    grade and year. Writes an HTML report with plots and a CSV table.

    Delivered care comes from 'care' columns (docs/batch.md); an MDT service export can be turned
    into this input with 'nenguide concordance-from-store'.
    """
    from nenguide.batch.concordance import IndicatorError, audit, load_indicators
    from nenguide.batch.jsonl import InputChangedError
    from nenguide.batch.report import write_report
    from nenguide.batch.runner import default_rejected_path

    fmt, mapper = _setup(in_, input_format, mapping, guideline)
    try:
        inds = load_indicators(indicators)
    except IndicatorError as exc:
        raise _err(str(exc)) from None
    table_path = table or report.with_suffix(".csv")
    rejected_path = str(rejected) if rejected else default_rejected_path(str(report))
    backend = _backend(backend_name, guideline, _as_of(as_of), processes)
    try:
        result = audit(in_, fmt, mapper, backend, inds, rejected_path, chunk_size)
    except InputChangedError as exc:
        raise _err(str(exc)) from None
    finally:
        backend.close()
    if cds_feedback:
        from nenguide.batch.concordance import with_feedback
        from nenguide.batch.store_adapter import feedback_from_files

        try:
            result, inds = with_feedback(result, inds, feedback_from_files(cds_feedback))
        except ValueError as exc:
            raise _err(str(exc)) from None
    result.table.write_csv(table_path)
    write_report(result, inds, report)
    typer.echo(
        f"{result.read} rows read, {result.assessed} assessed, {result.rejected} rejected. "
        f"Report: {report}. Table: {table_path}. Rejected rows: {rejected_path}.",
        err=True,
    )


def concordance_from_store(
    exports: Annotated[
        list[Path],
        typer.Argument(
            help="Patient-record exports of the MDT service (JSON files or folders of them).",
            exists=True,
        ),
    ],
    out: Annotated[Path, typer.Argument(help="JSON Lines for 'nenguide concordance'.")],
) -> None:
    """Turn MDT-service patient exports (GET /api/v1/patients/{id}/export) into concordance input:
    the latest version of each case, with 'mdt_discussed' and the MDT decision (follows the
    guideline or not, and why) as delivered care."""
    from nenguide.batch.store_adapter import records_from_exports

    n = 0
    with open(out, "w", encoding="utf-8") as fh:
        try:
            for rec in records_from_exports(exports):
                fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
                n += 1
        except ValueError as exc:  # a file that is not an export, named
            raise _err(str(exc)) from None
    typer.echo(f"{n} cases written to {out}", err=True)


def register(app: typer.Typer) -> None:
    app.command()(synth)
    app.command()(batch)
    app.command()(concordance)
    app.command("concordance-from-store")(concordance_from_store)
