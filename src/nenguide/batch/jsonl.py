"""JSON Lines input: its lines as Python's text mode reads them, and spans of a file's lines
that a worker process reads itself.

The file is read as bytes. A line ends at ``\\n``, ``\\r\\n`` or ``\\r`` (universal
newlines, as text mode splits it) and is handed out with its end as ``\\n``, as text mode
gives it; a line of whitespace alone is skipped and not counted, and the other lines are the
rows, numbered from 1. Each line is decoded by the process that works on it: a line that is not
UTF-8 becomes a :class:`~nenguide.batch.io.BadLine`, a rejected row, where reading the whole
input as text stopped the batch at that line.

With worker processes and a file (not standard input), the main process hands each worker a
:class:`LineSpan`: where its part of the file starts and ends, its first row number and its
number of rows. The worker reads those lines itself (:func:`span_rows`), so the lines do not
pass through the main process, a pickle and a pipe; the main process only finds where the
parts start (:func:`jsonl_spans`, docs/benchmarks.md, session 21).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, TypeVar

from nenguide.batch.io import BadLine, Chunk

#: printable ASCII, which ``str.strip`` never strips: a line whose first byte after its ASCII
#: whitespace is one of these has content
_PRINTABLE = range(0x21, 0x7F)


class InputChangedError(ValueError):
    """The input file was changed or replaced while the batch read it."""


#: what identifies a file's content as the main process read it: device, inode, size, and
#: the time of its last change in ns (a file replaced by another, or written to, differs)
FileId = tuple[int, int, int, int]


def file_id(fd: int) -> FileId:
    st = os.fstat(fd)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class LineSpan:
    """A part of a JSON Lines file: the bytes ``start`` to ``end``, whose lines are ``rows``
    rows numbered from ``first_row`` (blank lines among them are not rows); ``file``: the
    file as the main process read it (:func:`file_id`)."""

    path: str
    start: int
    end: int
    first_row: int
    rows: int
    file: FileId


def raw_lines(stream: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of ``stream`` (its pieces ending at ``\\n``, as a binary file iterates), each
    split again at a ``\\r`` that ends a line: the lines text mode would read, as bytes with
    their ends."""
    for raw in stream:
        if b"\r" in raw:
            yield from raw.splitlines(keepends=True)
        else:
            yield raw


def is_blank(raw: bytes) -> bool:
    """Whether a line holds whitespace alone, as ``not line.strip()`` on its text says. A line
    that is not UTF-8 is not blank (it is a row, rejected as such)."""
    stripped = raw.strip()
    if not stripped:
        return True
    if stripped[0] in _PRINTABLE:
        return False  # the common case, without decoding the line
    try:
        return not raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False


def line_item(raw: bytes) -> str | BadLine:
    """A line's text as text mode gives it (its end as ``\\n``), or a :class:`BadLine` when
    it is not UTF-8."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadLine(
            f"not UTF-8 text: byte {exc.start + 1} of the line ({raw[exc.start : exc.start + 1]!r})"
            " cannot be decoded; save the file as UTF-8"
        )
    if text.endswith("\r\n"):
        return text[:-2] + "\n"
    if text.endswith("\r"):
        return text[:-1] + "\n"
    return text


def jsonl_chunks(path: str, chunk_size: int) -> Iterator[Chunk]:
    """Chunks of ``(row number, line)`` of a JSON Lines file, or of standard input for
    ``-``: each line as :func:`line_item` gives it."""
    stream: BinaryIO = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    try:
        chunk: Chunk = []
        row = 0
        for raw in raw_lines(stream):
            if is_blank(raw):
                continue
            row += 1
            chunk.append((row, line_item(raw)))
            if len(chunk) >= chunk_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
    finally:
        if path != "-":
            stream.close()


def jsonl_spans(path: str, part_rows: int, parts: int) -> Iterator[list[LineSpan]]:
    """The chunks of a JSON Lines file (``parts`` * ``part_rows`` rows each, the last one
    fewer), each as ``parts`` spans of its rows split evenly, as :func:`split_evenly` splits
    a chunk read."""
    size = part_rows * parts
    with open(path, "rb") as fh:
        ident = file_id(fh.fileno())
        at = 0  # the byte offset of the next line
        first = 1  # the row number of the chunk's first row
        starts: list[int] = []  # where each row of the chunk starts
        for raw in raw_lines(fh):
            if not is_blank(raw):
                if len(starts) == size:
                    yield _spans(path, ident, starts, at, first, parts)
                    first += len(starts)
                    starts = []
                starts.append(at)
            at += len(raw)
        if starts:
            yield _spans(path, ident, starts, at, first, parts)
        if file_id(fh.fileno()) != ident:
            raise InputChangedError(_changed(path))


def _changed(path: str) -> str:
    return (
        f"{path} was changed or replaced while the batch read it; "
        "run the batch again on a file that stays as it is"
    )


def _spans(
    path: str, ident: FileId, starts: list[int], end: int, first: int, parts: int
) -> list[LineSpan]:
    """The spans of a chunk whose rows start at ``starts`` and whose last line ends at
    ``end``: its rows split by :func:`split_evenly`, each part ending where the next begins."""
    groups = split_evenly(starts, parts)
    ends = [g[0] for g in groups[1:]] + [end]
    out = []
    for group, stop in zip(groups, ends, strict=True):
        out.append(LineSpan(path, group[0], stop, first, len(group), ident))
        first += len(group)
    return out


_T = TypeVar("_T")


def split_evenly(items: list[_T], parts: int) -> list[list[_T]]:
    """``items`` as ``parts`` parts in order (fewer for fewer items), of equal length but the
    last: how a chunk is shared among the worker processes."""
    size = -(-len(items) // parts)
    return [items[i : i + size] for i in range(0, len(items), size)]


#: a part of a chunk for a worker process: its rows, or the span of a file they are in
Part = Chunk | LineSpan


def part_rows(part: Part) -> Chunk:
    """The rows of ``part``: read from the file for a span (:func:`span_rows`)."""
    return span_rows(part) if isinstance(part, LineSpan) else part


def part_size(part: Part) -> int:
    """How many rows ``part`` holds, without reading a span."""
    return part.rows if isinstance(part, LineSpan) else len(part)


def span_rows(span: LineSpan) -> Chunk:
    """The rows of ``span``: read from its file, as :func:`jsonl_chunks` gives them.
    :class:`InputChangedError` when the file is not the one the main process read (replaced,
    or written to since) or its lines are not the rows counted there."""
    with open(span.path, "rb") as fh:
        if file_id(fh.fileno()) != span.file:
            raise InputChangedError(_changed(span.path))
        fh.seek(span.start)
        data = fh.read(span.end - span.start)
    lines = [raw for raw in data.splitlines(keepends=True) if not is_blank(raw)]
    if len(lines) != span.rows:
        raise InputChangedError(_changed(span.path))
    return [(span.first_row + i, line_item(raw)) for i, raw in enumerate(lines)]
