"""The JSON Lines reader (nenguide.batch.jsonl): the lines text mode reads, a line that is not
UTF-8 rejected by itself, and the spans a worker process reads itself giving the same rows."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nenguide.batch.io import BadLine, read_chunks
from nenguide.batch.jsonl import (
    LineSpan,
    is_blank,
    jsonl_chunks,
    jsonl_spans,
    span_rows,
    split_evenly,
)
from nenguide.batch.runner import read_parts


def _text_mode(data: bytes) -> list[tuple[int, str]]:
    """The rows as the batch read them before: the file in text mode (universal newlines),
    blank lines skipped, the others numbered from 1."""
    rows = []
    for line in io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"):
        if line.strip():
            rows.append((len(rows) + 1, line))
    return rows


#: pieces of lines: JSON-ish text, whitespace of every kind str.strip knows, line ends of
#: every kind, and a few letters beyond ASCII
_TEXTS = ['{"a": 1}', "[1]", "x", "é", "\ufeff", "中"]
_SPACES = [" ", "\t", "\u00a0", "\u2003", "\x1c", "\x0b", "\x0c"]
_ENDS = ["\n", "\r", "\r\n", "\n\r"]
_PIECES = st.lists(st.sampled_from(_TEXTS + _SPACES + _ENDS), max_size=40)


@settings(max_examples=300, deadline=None)
@given(_PIECES, st.integers(1, 4), st.integers(1, 3))
def test_rows_are_those_text_mode_reads(
    tmp_path_factory: Any, pieces: list[str], part_rows: int, parts: int
) -> None:
    data = "".join(pieces).encode("utf-8")
    path = tmp_path_factory.mktemp("jsonl") / "in.jsonl"
    path.write_bytes(data)
    want = _text_mode(data)
    # read here, in chunks
    got = [r for chunk in jsonl_chunks(str(path), part_rows) for r in chunk]
    assert got == want
    # as spans each worker reads itself: the same rows, the chunks split as a chunk read is
    spans = list(jsonl_spans(str(path), part_rows, parts))
    assert [r for chunk in spans for span in chunk for r in span_rows(span)] == want
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


def test_a_span_of_a_file_that_changed_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2}\n')
    (spans,) = list(jsonl_spans(str(path), 2, 1))
    path.write_bytes(b'{"a": 1}\n\n')
    with pytest.raises(ValueError, match="changed while it was read"):
        span_rows(spans[0])


def test_read_parts_gives_spans_for_a_file_and_rows_for_standard_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"".join(b'{"i": %d}\n' % i for i in range(7))
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    from_file = list(read_parts(str(path), "jsonl", 2, 2))
    assert all(isinstance(p, LineSpan) for chunk in from_file for p in chunk)
    assert [[p.rows for p in chunk] for chunk in from_file] == [[2, 2], [2, 1]]

    class Stdin:
        buffer = io.BytesIO(data)

    monkeypatch.setattr("sys.stdin", Stdin)
    from_stdin = list(read_parts("-", "jsonl", 2, 2))
    assert [[[r for r, _ in p] for p in chunk] for chunk in from_stdin] == [
        [[1, 2], [3, 4]],
        [[5, 6], [7]],
    ]
    assert [r for chunk in from_file for p in chunk for r in span_rows(p)] == [  # type: ignore[arg-type]
        r for chunk in from_stdin for p in chunk for r in p
    ]
