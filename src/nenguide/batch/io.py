"""Chunked reading and writing of tables with Polars (the ``[batch]`` extra).

Readers yield chunks of ``(row_number, record)`` pairs, row numbers counted from 1 in input
order, so memory holds one chunk at a time whatever the input size. Formats: CSV (every cell read
as text, so registry codes keep their leading zeros), Parquet, and JSON Lines (a file or standard
input; one JSON object per line, handed out as the line's text: :func:`decode_line` gives its
value, or a :class:`BadLine` for a line that is not JSON).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

import polars as pl

from nenguide.batch.flatten import ASSESSMENT_COLUMNS
from nenguide.errors import json_message
from nenguide.limits import LONG_NUMBER
from nenguide.model.frozen import FrozenList

FORMATS = ("csv", "parquet", "jsonl")


@dataclass(frozen=True)
class BadLine:
    """A JSON Lines line that is not JSON (or not UTF-8 text): rejected with this message."""

    message: str


Chunk = list[tuple[int, Any]]


def input_format(path: str, given: str | None = None) -> str:
    if given:
        return given
    if path == "-":
        return "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise ValueError(
        f"cannot tell the format of '{path}' from its suffix; use --input-format csv|parquet|jsonl"
    )


def output_format(path: str, given: str | None = None) -> str:
    if given:
        return given
    suffix = Path(path).suffix.lower()
    if suffix in (".csv",):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise ValueError(
        f"cannot tell the output format of '{path}' from its suffix (.parquet or .csv); "
        "use --output-format"
    )


def read_chunks(path: str, fmt: str, chunk_size: int) -> Iterator[Chunk]:
    """Chunks of ``(row number, record)``: a CSV or Parquet row as a dict of its cells, a JSON
    Lines line as its text (:func:`decode_line`; a line that is not UTF-8: a :class:`BadLine`,
    :mod:`nenguide.batch.jsonl`)."""
    if fmt == "jsonl":
        from nenguide.batch.jsonl import jsonl_chunks

        yield from jsonl_chunks(path, chunk_size)
        return
    if fmt == "csv":
        sep = "\t" if path.lower().endswith(".tsv") else ","
        lf = pl.scan_csv(path, infer_schema=False, separator=sep)
    elif fmt == "parquet":
        lf = pl.scan_parquet(path)
    else:
        raise ValueError(f"unknown input format {fmt!r}")
    row = 0
    for df in _batches(lf, chunk_size):
        chunk: Chunk = []
        for rec in df.iter_rows(named=True):
            row += 1
            chunk.append((row, rec))
        if chunk:
            yield chunk


def _batches(lf: pl.LazyFrame, chunk_size: int) -> Iterator[pl.DataFrame]:
    if hasattr(lf, "collect_batches"):
        yield from lf.collect_batches(chunk_size=chunk_size)
        return
    offset = 0  # older Polars: slices of the lazy scan
    while True:
        df = lf.slice(offset, chunk_size).collect()
        if df.height == 0:
            return
        yield df
        offset += df.height


_DTYPES: dict[str, Any] = {
    "str": pl.String,
    "bool": pl.Boolean,
    "int": pl.Int64,
    "date": pl.Date,
    "list[str]": pl.List(pl.String),
    "list[bool]": pl.List(pl.Boolean),
}


#: the flat row's columns (:data:`~nenguide.batch.flatten.ASSESSMENT_COLUMNS`), in order,
#: with their Polars types
ASSESSMENT_SCHEMA: dict[str, Any] = {k: _DTYPES[v] for k, v in ASSESSMENT_COLUMNS.items()}


def output_schema(id_column: str | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"row": pl.Int64}
    if id_column:
        schema[id_column] = pl.String
    schema.update(ASSESSMENT_SCHEMA)
    return schema


def id_output_name(id_column: str | None) -> str | None:
    """The output name of the input's id column (prefixed when it clashes with a contract key)."""
    if id_column is None:
        return None
    if id_column in ASSESSMENT_COLUMNS or id_column == "row":
        return f"input_{id_column}"
    return id_column


def frame_of(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    """``rows`` (dicts with the keys of ``schema``) as a data frame of that schema: what
    ``pl.DataFrame(rows, schema=schema, orient="row")`` gives.

    Rows as :func:`~nenguide.batch.flatten.flatten_parts` makes them (every key, each value of
    its column's type) are built column by column, a list column from its values flattened into
    one array and each row's offset into it: Polars builds a list column from Python lists cell
    by cell, about 4 µs a cell, most of the time of writing a chunk with the batch's 15 list
    columns. Any other row (a missing key, a value of another type) is left to Polars' own
    constructor, which coerces or rejects it as before."""
    try:
        return columns_frame(rows, schema)
    except (KeyError, TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        return pl.DataFrame(rows, schema=schema, orient="row")


def columns_frame(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    """:func:`frame_of` column by column, for rows with every key and each value of its
    column's type; ``KeyError`` or ``TypeError`` for any other row."""
    return frame_from_columns(transposed(rows, list(schema)), schema)


def transposed(
    rows: Sequence[Mapping[str, Any]], names: list[str], *, absent: bool = False
) -> list[Sequence[Any]]:
    """The values of each of ``names`` in ``rows``, a sequence per name; ``KeyError`` for a
    row without one of them, or ``None`` there with ``absent``. Read row by row, all of a
    row's values at once (a pass over the rows per column touched every row once per column:
    4.8 against 1.8 µs a row for the batch's output, measured in session 14)."""
    if not rows:
        return [() for _ in names]
    if absent:
        return list(zip(*[tuple(map(r.get, names)) for r in rows], strict=True))
    if len(names) == 1:  # itemgetter of one name gives the value, not a tuple
        return [[r[names[0]] for r in rows]]
    return list(zip(*map(itemgetter(*names), rows), strict=True))


def frame_from_columns(columns: Sequence[Sequence[Any]], schema: dict[str, Any]) -> pl.DataFrame:
    """A data frame of ``schema`` from the values of each of its columns, in its order, each
    value of its column's type (else ``TypeError``)."""
    out: list[pl.Series] = []
    for (name, dtype), values in zip(schema.items(), columns, strict=True):
        if isinstance(dtype, pl.List):
            out.append(_list_column(name, values, dtype))
        else:
            _of_type(name, values, dtype)
            out.append(pl.Series(name, values, dtype=dtype, strict=True))
    return pl.DataFrame(out)


#: the Python types of each output column's values (``None`` as well: a null cell)
_PY_TYPES: dict[Any, frozenset[type]] = {
    pl.String: frozenset({str, type(None)}),
    pl.Boolean: frozenset({bool, type(None)}),
    pl.Int64: frozenset({int, type(None)}),
    pl.Date: frozenset({dt.date, type(None)}),
}


def _of_type(name: str, values: Sequence[Any], dtype: Any) -> None:
    """``TypeError`` unless every value is of the column's Python type (or ``None``)."""
    allowed = _PY_TYPES.get(dtype)
    if allowed is None or not allowed.issuperset(map(type, values)):
        raise TypeError(f"{name}: a value not of the column's type")


def _list_column(name: str, cells: Sequence[Any], dtype: pl.List) -> pl.Series:
    """A list column from its cells (lists, or ``None`` for a null cell), converted by Arrow
    in one call (about 0.07 µs a cell, against 1.8 for a Python pass over the cells, measured
    in session 12); ``TypeError`` for any other cell (a text would be split into letters) or
    an item not of the column's inner type (Arrow accepts no other)."""
    import pyarrow as pa

    inner = _ARROW_INNER.get(dtype.inner)
    if inner is None or not _LIST_CELL.issuperset(map(type, cells)):
        raise TypeError(f"{name}: a list cell that is not a list")
    try:
        arr = pa.array(cells, type=pa.large_list(getattr(pa, inner)()))
    except pa.ArrowException as exc:
        raise TypeError(f"{name}: an item not of the column's type ({exc})") from None
    out = pl.Series(name, arr)
    return out if out.dtype == dtype else out.cast(dtype)


#: the Python types of a list column's cells (``None``: a null cell; a :class:`FrozenList`: a
#: list of columns shared between rows, :class:`~nenguide.batch.flatten.SharedParts`)
_LIST_CELL = frozenset({list, FrozenList, type(None)})


#: the Arrow type of a list column's items (a ``pyarrow`` function's name), per inner Polars
#: type of the output schema
_ARROW_INNER: dict[Any, str] = {pl.String: "large_string", pl.Boolean: "bool_"}


def decode_line(line: str | BadLine) -> Any:
    """A JSON Lines line as read (:func:`read_chunks` hands them out undecoded, so that the
    worker processes decode their own rows): its value, or a :class:`BadLine` (``line``
    itself when it is one: not UTF-8)."""
    if isinstance(line, BadLine):
        return line
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        return BadLine(f"not valid JSON: {json_message(exc)} at column {exc.colno}")
    except RecursionError:  # a bad row never stops the batch
        return BadLine("not readable: nested too deeply")
    except ValueError:  # Python's bound on an integer's digits
        return BadLine(f"not readable: it holds {LONG_NUMBER}")


class TableWriter:
    """Writes chunks of rows to Parquet (one row group per chunk) or CSV (list cells joined
    with ``;``), with one fixed schema."""

    def __init__(self, path: str, fmt: str, schema: dict[str, Any]) -> None:
        self.path = path
        self.fmt = fmt
        self.schema = schema
        self._pq: Any = None
        self._csv: IO[bytes] | None = None
        self.rows = 0

    def write_frame(self, frame: pl.DataFrame | None) -> None:
        """Write the rows of ``frame`` (of this writer's schema; ``None`` or empty: none)."""
        df = frame if frame is not None and frame.height else None
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            table = (df if df is not None else pl.DataFrame(schema=self.schema)).to_arrow()
            if self._pq is None:
                self._pq = pq.ParquetWriter(self.path, table.schema)
            if df is not None:
                self._pq.write_table(table)
        else:
            if self._csv is None:
                self._csv = open(self.path, "wb")  # noqa: SIM115 - closed in close()
                header = True
            else:
                header = False
            out = df if df is not None else pl.DataFrame(schema=self.schema)
            lists = [c for c, t in self.schema.items() if isinstance(t, pl.List)]
            out = out.with_columns(pl.col(c).cast(pl.List(pl.String)).list.join(";") for c in lists)
            if df is not None or header:
                out.write_csv(self._csv, include_header=header)
        self.rows += 0 if df is None else df.height

    def close(self) -> None:
        if self._pq is None and self._csv is None:  # nothing written: the header alone
            self.write_frame(None)
        if self._pq is not None:
            self._pq.close()
        if self._csv is not None:
            self._csv.close()


REJECT_COLUMNS = ("row", "id", "stage", "field", "column", "reason")


class RejectWriter:
    """The rejected-rows file (CSV): one line per reason; a row with three bad fields has three."""

    def __init__(self, path: str) -> None:
        import csv

        self._fh = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._w = csv.writer(self._fh)
        self._w.writerow(REJECT_COLUMNS)
        self.rows: set[int] = set()

    def add(
        self, row: int, id_: str | None, stage: str, field: str, column: str | None, reason: str
    ) -> None:
        self.rows.add(row)
        self._w.writerow([row, id_ or "", stage, field, column or "", reason])

    def close(self) -> None:
        self._fh.close()
