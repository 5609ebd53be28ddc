"""The JSON Lines reader (nenguide.batch.jsonl): the lines text mode reads, a line that is not
UTF-8 rejected by itself, and the spans a worker process reads itself giving the same rows."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nenguide.batch.io import BadLine, decode_line, read_chunks
from nenguide.batch.jsonl import (
    InputChangedError,
    LineSpan,
    is_blank,
    jsonl_chunks,
    jsonl_spans,
    part_rows,
    part_size,
    span_rows,
    split_evenly,
)
from nenguide.batch.runner import count_rows, read_parts
from nenguide.batch.synth import generate


def _text_mode(data: bytes) -> list[tuple[int, str | None]]:
    """The rows as the batch read them before: the file in text mode (universal newlines),
    blank lines skipped, the others numbered from 1. A line that is not UTF-8 (which stopped
    the batch then) is ``None``: read with its bad bytes escaped, as text mode would split
    and strip it."""
    rows: list[tuple[int, str | None]] = []
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape")
    for line in text:
        if line.strip():
            bad = any("\udc80" <= ch <= "\udcff" for ch in line)
            rows.append((len(rows) + 1, None if bad else line))
    return rows


def _rows(chunk: list[tuple[int, Any]]) -> list[tuple[int, str | None]]:
    return [(row, None if isinstance(item, BadLine) else item) for row, item in chunk]


#: pieces of lines: JSON-ish text, whitespace of every kind str.strip knows, line ends of
#: every kind, and a few letters beyond ASCII
_TEXTS = ['{"a": 1}', "[1]", "x", "é", "\ufeff", "中"]
#: whitespace of every kind str.strip knows, and line separators text mode does not split at
_SPACES = [" ", "\t", "\u00a0", "\u2003", "\u3000", "\x1c", "\x1d", "\x1e", "\x1f", "\x0b",
           "\x0c", "\x85", "\u2028", "\u2029"]  # fmt: skip
_ENDS = ["\n", "\r", "\r\n", "\n\r"]
#: bytes that are not UTF-8 (a lone continuation byte, NEL as a byte, a cut sequence)
_BAD = [b"\xff", b"\x85", b"\xa0", b"\xc2", b"\xe2\x80"]
_PIECES = st.lists(
    st.sampled_from([p.encode() for p in _TEXTS + _SPACES + _ENDS] + _BAD), max_size=40
)


@settings(max_examples=300, deadline=None)
@given(_PIECES, st.integers(1, 4), st.integers(1, 3))
def test_rows_are_those_text_mode_reads(
    tmp_path_factory: Any, pieces: list[bytes], part_rows: int, parts: int
) -> None:
    data = b"".join(pieces)
    path = tmp_path_factory.mktemp("jsonl") / "in.jsonl"
    path.write_bytes(data)
    want = _text_mode(data)
    # read here, in chunks
    got = [r for chunk in jsonl_chunks(str(path), part_rows) for r in _rows(chunk)]
    assert got == want
    # as spans each worker reads itself: the same rows, the chunks split as a chunk read is
    spans = list(jsonl_spans(str(path), part_rows, parts))
    assert [r for chunk in spans for span in chunk for r in _rows(span_rows(span))] == want
    read = list(read_chunks(str(path), "jsonl", part_rows * parts))
    assert [[s.rows for s in chunk] for chunk in spans] == [
        [len(p) for p in split_evenly(c, parts)] for c in read
    ]


def test_a_line_that_is_not_utf8_is_a_rejected_row_not_a_stop(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"a": 1}\n{"case_id": "x\xff"}\n\n{"a": 2}\r\n')
    (chunk,) = list(read_chunks(str(path), "jsonl", 10))
    assert [row for row, _ in chunk] == [1, 2, 3]
    assert chunk[0][1] == '{"a": 1}\n' and chunk[2][1] == '{"a": 2}\n'
    bad = chunk[1][1]
    assert isinstance(bad, BadLine)
    assert "not UTF-8" in bad.message and "byte 15" in bad.message
    (spans,) = list(jsonl_spans(str(path), 10, 2))
    assert [r for s in spans for r in span_rows(s)] == chunk


def test_blank_lines_are_found_without_decoding_the_common_line() -> None:
    assert is_blank(b"   \r\n") and is_blank(b"\xc2\xa0\n")  # no-break space: whitespace
    assert not is_blank(b'{"a": 1}\n') and not is_blank(b"\xff\n")  # not UTF-8: a row
    assert not is_blank(b"\xc2\xa0x\xc2\xa0\n")


@pytest.mark.parametrize("how", ["written", "replaced"])
def test_a_span_of_a_file_that_changed_is_refused(tmp_path: Path, how: str) -> None:
    """A worker reads its span from the file by name: a file written to since the main
    process read it, or replaced by another with as many rows (an editor's save, ``mv``), is
    refused, never read at the old offsets."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2}\n')
    (spans,) = list(jsonl_spans(str(path), 2, 1))
    if how == "written":
        path.write_bytes(b'{"a": 1}\n\n')
    else:
        other = tmp_path / "other.jsonl"
        other.write_bytes(b'{"a": 3}\n{"a": 4}\n')  # the same size and rows
        other.replace(path)
    with pytest.raises(InputChangedError, match="changed or replaced while the batch read it"):
        span_rows(spans[0])


def test_a_pipe_is_read_once_by_the_main_process(tmp_path: Path) -> None:
    """A named pipe (or ``<(...)``) can be read once only: it is not counted for the progress
    bar (that read left the batch nothing: "0 rows read") nor split into spans."""
    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)
    data = b"".join(b'{"i": %d}\n' % i for i in range(5))

    def write() -> None:
        with open(fifo, "wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=write)
    writer.start()  # first: a count that read the pipe would take its lines, not block
    assert count_rows(str(fifo), "jsonl") is None
    parts = list(read_parts(str(fifo), "jsonl", 2, 2))
    writer.join()
    assert not any(isinstance(p, LineSpan) for chunk in parts for p in chunk)
    assert [[[r for r, _ in part_rows(p)] for p in chunk] for chunk in parts] == [
        [[1, 2], [3, 4]],
        [[5]],
    ]


def test_standard_input_with_workers_rejects_a_line_that_is_not_utf8(tmp_path: Path) -> None:
    lines = [json.dumps(s.case).encode() for s in generate(6, seed=5)]
    lines[2] = b'{"case_id": "\xff"}'
    out = tmp_path / "out.parquet"
    cmd = ["batch", "-", str(out), "-p", "2", "--chunk-size", "2", "--as-of", "2026-11-23"]
    done = subprocess.run(
        [sys.executable, "-m", "nenguide", *cmd],
        input=b"\n".join(lines) + b"\n",
        capture_output=True,
        check=True,
    )
    assert b"6 rows read, 5 assessed, 1 rejected" in done.stderr
    rejected = list(csv.DictReader(out.with_name("out.rejected.csv").open()))
    assert [(r["row"], r["stage"]) for r in rejected] == [("3", "parse")]
    assert pl.read_parquet(out)["row"].to_list() == [1, 2, 4, 5, 6]


def test_a_json_error_reads_once_where_it_is() -> None:
    bad = decode_line('{"a": "x\ty"}')
    assert isinstance(bad, BadLine)
    assert bad.message == "not valid JSON: Invalid control character at column 9"


def test_read_parts_gives_spans_for_a_file_and_rows_for_standard_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"".join(b'{"i": %d}\n' % i for i in range(7))
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    from_file = list(read_parts(str(path), "jsonl", 2, 2))
    assert all(isinstance(p, LineSpan) for chunk in from_file for p in chunk)
    assert [[part_size(p) for p in chunk] for chunk in from_file] == [[2, 2], [2, 1]]

    class Stdin:
        buffer = io.BytesIO(data)

    monkeypatch.setattr("sys.stdin", Stdin)
    from_stdin = list(read_parts("-", "jsonl", 2, 2))
    assert not any(isinstance(p, LineSpan) for chunk in from_stdin for p in chunk)
    assert [[[r for r, _ in part_rows(p)] for p in chunk] for chunk in from_stdin] == [
        [[1, 2], [3, 4]],
        [[5, 6], [7]],
    ]
    assert [r for chunk in from_file for p in chunk for r in part_rows(p)] == [
        r for chunk in from_stdin for p in chunk for r in part_rows(p)
    ]
