"""The batch pipeline: read a chunk, map and validate each row, assess the valid cases with a
:class:`~nenguide.batch.backend.Backend`, hand the results on, report every rejected row.

A bad row never stops the batch and is never dropped silently: a line that is not JSON, a value
the mapping does not know, a case that fails validation (every field error is listed) and a case
the engine raised on each become lines of the rejected-rows file, with the input row number.

With one process the per-row work (:func:`nenguide.batch.rows.assess_rows`) runs here. With
``backend.processes`` > 1 this process only splits the input into chunks of one part per worker
process and hands the parts out in order: for a JSON Lines file, where each part's lines are in
the file (:class:`~nenguide.batch.jsonl.LineSpan`: the worker reads them itself), for any other
input the part's rows as read here. The workers map, validate and assess their part
and send back the rows (for ``nenguide batch``, as the output table's rows: one frame a part,
:func:`output_frames`) and the rejects; this process writes them in input order. Two chunks
are in flight, so the workers have the next chunk while this process collects and writes the
last one.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from nenguide.batch import CHUNK_ROWS
from nenguide.batch.backend import Backend, gc_paused_run
from nenguide.batch.io import Chunk, RejectWriter, frame_of, read_chunks
from nenguide.batch.jsonl import Part, jsonl_spans, part_rows, part_size, split_evenly
from nenguide.batch.mapping import Mapper
from nenguide.batch.rows import (
    Assessed,
    Output,
    RowsResult,
    assess_rows_in_worker,
    backend_rows,
    init_worker,
)

__all__ = [
    "Assessed",
    "Counts",
    "assessed_chunks",
    "count_rows",
    "default_rejected_path",
    "output_frames",
    "progress",
]


@dataclass
class Counts:
    read: int = 0
    assessed: int = 0
    rejected_rows: set[int] = field(default_factory=set)


def is_regular_file(path: str) -> bool:
    """Whether ``path`` is a file that can be read again (not ``-``, a pipe or a device)."""
    return path != "-" and Path(path).is_file()


def count_rows(path: str, fmt: str) -> int | None:
    """Rows in the input, for the progress bar (``None`` for standard input or a pipe such as
    ``<(...)``: reading it to count would leave nothing for the batch)."""
    if not is_regular_file(path):  # standard input or a pipe: it can be read once only
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
    chunk_size: int = CHUNK_ROWS,
) -> Generator[list[Assessed], None, None]:
    """Chunks of assessed rows in input order; rejected rows go to ``rejects``.

    Run it to the end or close it (``contextlib.closing``): closing stops the worker processes
    and turns the garbage collector back on (it is paused from the first chunk to the end, the
    caller's work on each chunk included: :func:`~nenguide.batch.backend.gc_paused_run`).
    """
    results = _results(path, fmt, mapper, backend, rejects, counts, chunk_size, None)
    try:
        for res in results:
            yield res.assessed
    finally:
        results.close()


def output_frames(
    path: str,
    fmt: str,
    mapper: Mapper,
    backend: Backend,
    rejects: RejectWriter,
    counts: Counts,
    output: Output,
    chunk_size: int = CHUNK_ROWS,
) -> Generator[pl.DataFrame, None, None]:
    """:func:`assessed_chunks`, each chunk's assessed rows as the rows of the output table
    ``output`` (one frame a chunk, in input order): made by the worker processes themselves,
    with ``processes`` > 1 (:func:`~nenguide.batch.rows.assess_rows`)."""
    results = _results(path, fmt, mapper, backend, rejects, counts, chunk_size, output)
    try:
        for res in results:
            frame = res.frame
            del res  # the caller's frame is the chunk's only part left
            yield frame if frame is not None else frame_of([], output.schema)
    finally:
        results.close()


def _results(
    path: str,
    fmt: str,
    mapper: Mapper,
    backend: Backend,
    rejects: RejectWriter,
    counts: Counts,
    chunk_size: int,
    output: Output | None,
) -> Generator[RowsResult, None, None]:
    """Each chunk's result, its rejects written and counted first. ``chunk_size``: the rows
    each process assesses at once, so with worker processes a chunk read holds one part of
    that size for each (the columnar backend's cost per row falls as its chunk grows: fixed
    costs per query and per distinct answer, docs/benchmarks.md)."""
    results: Generator[tuple[int, RowsResult], None, None]
    if backend.processes > 1:
        parts = read_parts(path, fmt, chunk_size, backend.processes)
        results = _in_workers(parts, fmt, mapper, backend, output)
    else:
        chunks = read_chunks(path, fmt, chunk_size)
        results = ((len(c), _here(c, fmt, mapper, backend, output)) for c in chunks)
    try:
        with gc_paused_run() as collect:
            for n, res in results:
                counts.read += n
                # as one process would: the rows as read and validated, then the chunk assessed
                for rej in (*res.rejected, *res.failed):
                    rejects.add(*rej)
                counts.assessed += res.n_assessed
                counts.rejected_rows = rejects.rows
                yield res
                # the chunk is written; its rows, dropped by the caller too, are freed before
                # the collector examines what is left of it
                del res
                collect()
    finally:
        results.close()


def _here(
    chunk: Chunk, fmt: str, mapper: Mapper, backend: Backend, output: Output | None
) -> RowsResult:
    """A chunk worked on in this process."""
    return backend_rows(chunk, fmt, mapper, backend, output)


#: a chunk handed out: its number of rows, and its parts' futures (or its result, worked here)
_InFlight = tuple[int, list[Future[RowsResult]] | RowsResult]


def read_parts(path: str, fmt: str, part_rows: int, parts: int) -> Iterator[Sequence[Part]]:
    """The input's chunks, each as ``parts`` parts of ``part_rows`` rows (the last chunk's
    fewer): a JSON Lines file as spans its worker reads itself (:func:`~nenguide.batch.jsonl.
    jsonl_spans`), any other input as its rows read here."""
    if fmt == "jsonl" and is_regular_file(path):
        yield from jsonl_spans(path, part_rows, parts)
        return
    for chunk in read_chunks(path, fmt, part_rows * parts):
        yield split_evenly(chunk, parts)


def _in_workers(
    chunks: Iterable[Sequence[Part]],
    fmt: str,
    mapper: Mapper,
    backend: Backend,
    output: Output | None,
) -> Generator[tuple[int, RowsResult], None, None]:
    """``(rows read, result)`` per chunk (given as its parts), in input order, the rows worked
    on by ``backend.processes`` worker processes. They are started at the first chunk large
    enough to share, so a small input is worked on here, without their start-up cost."""
    n = backend.processes
    pool: ProcessPoolExecutor | None = None
    pending: deque[_InFlight] = deque()
    try:
        for parts in chunks:
            rows = sum(map(part_size, parts))
            if pool is None and rows < 2 * n:
                chunk = [r for p in parts for r in part_rows(p)]
                pending.append((rows, _here(chunk, fmt, mapper, backend, output)))
            else:
                if pool is None:
                    worker = backend.worker()
                    pool = ProcessPoolExecutor(
                        n,
                        mp_context=multiprocessing.get_context(worker.start_method),
                        initializer=init_worker,
                        initargs=(worker.make, fmt, mapper, output),
                    )
                pending.append((rows, [pool.submit(assess_rows_in_worker, p) for p in parts]))
            while len(pending) > 1:
                yield _collect(pending.popleft())
        while pending:
            yield _collect(pending.popleft())
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _collect(item: _InFlight) -> tuple[int, RowsResult]:
    n, work = item
    if isinstance(work, RowsResult):
        return n, work
    res = RowsResult()
    for f in work:
        res.extend(f.result())
    return n, res


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
