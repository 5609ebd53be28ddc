"""The batch pipeline: read a chunk, map and validate each row, assess the valid cases with a
:class:`~nenguide.batch.backend.Backend`, hand the results on, report every rejected row.

A bad row never stops the batch and is never dropped silently: a line that is not JSON, a value
the mapping does not know, a case that fails validation (every field error is listed) and a case
the engine raised on each become lines of the rejected-rows file, with the input row number.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nenguide.batch.backend import Backend, Failure
from nenguide.batch.io import BadLine, RejectWriter, read_chunks
from nenguide.batch.mapping import Mapper, RowError
from nenguide.errors import CaseInputError, parse_case
from nenguide.model.case import Case


@dataclass(frozen=True)
class Assessed:
    row: int
    id: str | None
    case: Case
    care: dict[str, Any]
    flat: dict[str, Any]


@dataclass
class Counts:
    read: int = 0
    assessed: int = 0
    rejected_rows: set[int] = field(default_factory=set)


def count_rows(path: str, fmt: str) -> int | None:
    """Rows in the input, for the progress bar (``None`` for standard input)."""
    if path == "-":
        return None
    if fmt == "jsonl":
        n = 0
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                n += block.count(b"\n")
        return n
    import polars as pl

    lf = pl.scan_csv(path, infer_schema=False) if fmt == "csv" else pl.scan_parquet(path)
    return int(lf.select(pl.len()).collect().item())


def assessed_chunks(
    path: str,
    fmt: str,
    mapper: Mapper,
    backend: Backend,
    rejects: RejectWriter,
    counts: Counts,
    chunk_size: int = 5000,
) -> Iterator[list[Assessed]]:
    """Chunks of assessed rows in input order; rejected rows go to ``rejects``."""
    for chunk in read_chunks(path, fmt, chunk_size):
        valid: list[tuple[int, str | None, Case, dict[str, Any]]] = []
        for row, record in chunk:
            counts.read += 1
            rid: str | None = None
            if isinstance(record, BadLine):
                rejects.add(row, None, "parse", "(line)", None, record.message)
                continue
            try:
                mapped = mapper.map_record(record) if fmt == "jsonl" else mapper.map_row(record)
            except RowError as exc:
                rid = _id_of(record, mapper)
                rejects.add(row, rid, "mapping", exc.field, exc.column, exc.message)
                continue
            rid = mapped.id if mapped.id is not None else _case_id(mapped.case)
            try:
                case = parse_case(mapped.case)
            except CaseInputError as exc:
                if not exc.errors:
                    rejects.add(row, rid, "validation", "(case)", None, exc.summary)
                for e in exc.errors:
                    allowed = f" (allowed: {e.allowed})" if e.allowed else ""
                    got = f"; received {e.received!r}" if e.received is not None else ""
                    rejects.add(row, rid, "validation", e.path, None, f"{e.message}{allowed}{got}")
                continue
            valid.append((row, rid, case, mapped.care))
        results = backend.assess([v[2] for v in valid])
        out: list[Assessed] = []
        for (row, rid, case, care), res in zip(valid, results, strict=True):
            if isinstance(res, Failure):
                rejects.add(row, rid, "assessment", "(case)", None, res.error)
                continue
            out.append(Assessed(row, rid, case, care, res))
        counts.assessed += len(out)
        counts.rejected_rows = rejects.rows
        yield out


def _case_id(case: dict[str, Any]) -> str | None:
    v = case.get("case_id") if isinstance(case, dict) else None
    return None if v is None else str(v)


def _id_of(record: Any, mapper: Mapper) -> str | None:
    if isinstance(record, dict):
        col = mapper.id_column
        if col and record.get(col) is not None:
            return str(record[col])
        if record.get("id") is not None:
            return str(record["id"])
    return None


def progress(total: int | None, label: str) -> Any:
    """A Rich progress bar on standard error (quiet when standard error is not a terminal and
    ``NENGUIDE_PROGRESS`` is not set)."""
    import os

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    disable = not (sys.stderr.isatty() or os.environ.get("NENGUIDE_PROGRESS"))
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} cases/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=disable,
    )
    bar.add_task(label, total=total, rate="-")
    return bar


def default_rejected_path(out: str) -> str:
    p = Path(out)
    return str(p.with_name(p.stem + ".rejected.csv"))
