"""The per-row work of a batch: map, validate and assess a chunk of input rows.

:func:`assess_rows` is the same whether it runs in the main process (one process) or in a worker
process (``--processes N``, :mod:`nenguide.batch.runner`): a worker is handed the raw records,
not validated cases, because validation is a third of the per-row work, and pickling a
validated :class:`~nenguide.model.case.Case` both ways costs more than the columnar core steps.
What comes back is small and cheap to pickle: for ``nenguide batch`` the assessed rows as rows
of the output table, one frame (:func:`_as_output`); for the concordance audit, per assessed row
its number, id, delivered care, flat row and the few case values the audit reads
(:data:`CASE_COLUMNS`); per rejected row the lines of the rejected-rows file.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, NotRequired, cast, overload

import polars as pl
from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from nenguide.batch.backend import Backend, ChunkCollector, Failure, Row, gc_paused
from nenguide.batch.io import (
    ASSESSMENT_SCHEMA,
    BadLine,
    Chunk,
    decode_line,
    frame_of,
)
from nenguide.batch.jsonl import Part, part_rows
from nenguide.batch.mapping import Mapper, RowError
from nenguide.errors import CaseInputError, labs_checked, parse_case
from nenguide.model.case import Case

#: Columns taken from the case itself (for the concordance audit), and their type.
CASE_COLUMNS: dict[str, str] = {
    "tumour_primary_site": "str",
    "tumour_size_cm": "float",
    "pathology_ki67_recorded": "bool",
    "metastases_status": "str",
}


def case_values(case: Case) -> dict[str, Any]:
    """The :data:`CASE_COLUMNS` of ``case`` (a metastasis status ``unknown`` is null)."""
    met = case.metastases
    known = met is not None and met.status.value != "unknown"
    return {
        "tumour_primary_site": case.tumour.primary_site.value,
        "tumour_size_cm": case.tumour.size_cm,
        "pathology_ki67_recorded": case.pathology.ki67_percent is not None,
        "metastases_status": met.status.value if known and met else None,
    }


def _no_values(case: Case) -> dict[str, Any]:
    """No :data:`CASE_COLUMNS` (for rows that go to the output table, which has none)."""
    return {}


@dataclass(frozen=True)
class Assessed:
    """One assessed input row: what the writers and the audit need, not the case itself."""

    row: int
    id: str | None
    care: dict[str, Any]
    flat: dict[str, Any]
    case_columns: dict[str, Any]  # the :data:`CASE_COLUMNS` of the case (empty: not asked for)


class Reject(NamedTuple):
    """One line of the rejected-rows file (a row with three bad fields has three)."""

    row: int
    id: str | None
    stage: str
    field: str
    column: str | None
    reason: str


@dataclass
class RowsResult:
    """A chunk (or part of one) after the per-row work, in input order.

    ``rejected``: the parse, mapping and validation rejects; ``failed``: the rows the engine
    raised on (stage ``assessment``). The rejected-rows file lists a chunk's ``rejected``
    before its ``failed``, as the rows are read and validated before the chunk is assessed.
    ``frame``: the assessed rows as the output table's rows (:func:`_as_output`), in place of
    ``assessed``, when the caller only writes them.
    """

    assessed: list[Assessed] = field(default_factory=list)
    rejected: list[Reject] = field(default_factory=list)
    failed: list[Reject] = field(default_factory=list)
    frame: pl.DataFrame | None = None

    def extend(self, other: RowsResult) -> None:
        self.assessed.extend(other.assessed)
        self.rejected.extend(other.rejected)
        self.failed.extend(other.failed)
        if other.frame is not None:
            self.frame = other.frame if self.frame is None else pl.concat([self.frame, other.frame])

    @property
    def n_assessed(self) -> int:
        return len(self.assessed) + (0 if self.frame is None else self.frame.height)


@dataclass(frozen=True)
class Output:
    """The output table's columns (:func:`~nenguide.batch.io.output_schema`) and the name of
    its input id column (``None``: none): what :func:`_as_output` turns assessed rows into."""

    schema: dict[str, Any]
    id_column: str | None


#: a backend's ``assess``: the cases, and each case's line where validated strictly
Assess = Callable[[Sequence[Case], Sequence[str | None]], list[Row | Failure]]


@dataclass(frozen=True)
class FrameRows:
    """A backend's rows of a chunk as one frame (:data:`~nenguide.batch.io.
    ASSESSMENT_SCHEMA`): the rows of the cases it assessed, in order, and by position the
    cases it failed on (``failed``; they have no row in ``frame``)."""

    frame: pl.DataFrame
    failed: dict[int, Failure]


#: a backend's ``assess_frame``: ``Assess``, its rows as one frame
AssessFrame = Callable[[Sequence[Case], Sequence[str | None]], FrameRows]


def frame_rows(results: Sequence[Row | Failure]) -> FrameRows:
    """``results`` (a backend's ``assess``) as :class:`FrameRows`."""
    failed = {i: r for i, r in enumerate(results) if isinstance(r, Failure)}
    rows = [r for r in results if not isinstance(r, Failure)]
    return FrameRows(frame_of(rows, ASSESSMENT_SCHEMA), failed)


def reads_lines(backend: Backend) -> bool:
    """Whether ``backend`` reads the cases' lines (then it is handed :class:`LineCases`)."""
    return bool(getattr(backend, "reads_lines", False))


class _WrittenId(TypedDict):
    """The ``case_id`` of a JSON Lines line as written (other keys ignored, not built)."""

    case_id: NotRequired[Any]


_WRITTEN_ID = TypeAdapter(_WrittenId)


class PlainLine(NamedTuple):
    """A JSON Lines line that holds a case as it is (:func:`plain_case_line`)."""

    case: Case
    id: str | None  # the case's id as written
    strict: bool  # the model validated it in strict mode (every value in the type it keeps)


def plain_case_line(line: str, with_id: bool = True) -> PlainLine | None:
    """A JSON Lines line that holds a case as it is (no envelope, no mapping file), validated
    straight from its text, with its id as written; ``None``: the line takes the general path.

    The general path decodes the line (``json.loads``), maps the record and validates the
    Python objects (:func:`~nenguide.errors.parse_case`): 39 µs a generated case, against
    22 for pydantic's own JSON parser validating as it reads (docs/benchmarks.md, session 13).
    The two give the same case: the model is the same, run in JSON mode (tests/batch/
    test_batch_fast_lines.py). A line this path does not accept - bad JSON, an invalid field
    or lab result, an envelope (``case``, ``care``, ``id``: not fields of a case, which the
    model forbids) - goes the general path, which words each reject, so a reject reads as
    before. The id is taken from the line as written, as the general path takes it from the
    record (the model strips the spaces around it): 3 µs, and only when the case has one and
    ``with_id`` (else ``id`` is ``None``: :func:`written_id` gives it when it is wanted)."""
    if '"case"' in line:  # most likely an envelope: spare the model the attempt
        return None
    # strict first: a case validated so can be read by the columnar backend's column reader
    # (:mod:`nenguide.batch.columnar.case_arrow`); a line strict mode refuses (``"60"`` for
    # an integer, say) is validated as the general path validates it, lax
    strict = True
    try:
        model = Case.model_validate_json(line, strict=True)
    except ValidationError:
        strict = False
        try:
            model = Case.model_validate_json(line)
        except ValidationError:
            return None
    try:
        case = labs_checked(model)
    except CaseInputError:
        return None
    if case.case_id is None or not with_id:  # a string is never validated to None
        return PlainLine(case, None, strict)
    return PlainLine(case, written_id(line), strict)


def written_id(line: str) -> str | None:
    """The ``case_id`` of a line :func:`plain_case_line` accepted, as written."""
    got = _WRITTEN_ID.validate_json(line).get("case_id")
    return None if got is None else str(got)


class LineCases(Sequence[Case]):
    """A chunk's validated cases, each one the model validated strictly from its JSON Lines
    line kept as that line: such a case is made again from its line when it is asked for
    (strict validation gives the same case every time), so a backend that reads the lines
    (:attr:`~nenguide.batch.columnar.ColumnarBackend.reads_lines`) holds only the cases it
    asks for - about 7.5 KiB each, 150 MiB for a chunk of 20 000."""

    def __init__(self, items: list[Case | str]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, i: int) -> Case: ...

    @overload
    def __getitem__(self, i: slice) -> list[Case]: ...

    def __getitem__(self, i: int | slice) -> Case | list[Case]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        item = self._items[i]
        return item if isinstance(item, Case) else _strict_case(item)

    def picked(self, at: Sequence[int]) -> LineCases:
        """The cases at positions ``at``, in that order, still made only when asked for."""
        return LineCases([self._items[i] for i in at])


def _strict_case(line: str) -> Case:
    return labs_checked(Case.model_validate_json(line, strict=True))


def assess_rows(
    chunk: Chunk,
    fmt: str,
    mapper: Mapper,
    assess: Assess,
    keep_lines: bool = False,
    case_columns: bool = True,
    ids: bool = True,
    output: Output | None = None,
    assess_frame: AssessFrame | None = None,
) -> RowsResult:
    """Map, validate and assess the rows of ``chunk`` with ``assess`` (a backend's, in this
    process: it is given the cases and, per case, its JSON Lines line where the model
    validated it strictly, else ``None``), with the cyclic garbage collector paused
    throughout (:func:`gc_paused`: reading and validating the rows allocate as many
    containers as assessing them). ``keep_lines``: the backend reads the lines, so a case
    validated strictly from its line is handed over as that line (:class:`LineCases`).
    ``case_columns``: each assessed row holds its case's :data:`CASE_COLUMNS` (the audit
    reads them; the output table does not, and an ``Assessed`` made for it holds none:
    2.3 µs a case saved). ``ids``: each assessed row holds its input id; without (for an
    output table with no id column) a line taken as a case as it is holds none, and its id
    is read from the line only for a rejected-rows line (1.5-2 µs a case saved).
    ``output``: the assessed rows go back as that table's rows, one frame (``frame``; for
    ``nenguide batch``), made by ``assess_frame`` (the backend's own, :func:`framed`) where
    it is given, else from ``assess``'s rows. An output with an id column reads every id."""
    with gc_paused():
        return _assess_rows(
            chunk, fmt, mapper, assess, keep_lines, case_columns, ids, output, assess_frame
        )


def _assess_rows(
    chunk: Chunk,
    fmt: str,
    mapper: Mapper,
    assess: Assess,
    keep_lines: bool = False,
    case_columns: bool = True,
    ids: bool = True,
    output: Output | None = None,
    assess_frame: AssessFrame | None = None,
) -> RowsResult:
    out = RowsResult()
    ids = ids or (output is not None and output.id_column is not None)
    values_of = case_values if case_columns else _no_values
    # per valid case: row, id, the case's CASE_COLUMNS (or none), delivered care
    valid: list[tuple[int, str | None, dict[str, Any], dict[str, Any]]] = []
    unread: dict[int, str] = {}  # by position in valid: a line whose id was not read (ids)
    cases: list[Case | str] = []  # per valid case, the case (or its line: LineCases)
    lines: list[str | None] = []  # per valid case, its line where validated strictly
    jsonl = fmt == "jsonl"
    plain = jsonl and mapper.mapping is None  # a line may be a case as it is (plain_case_line)
    for row, item in chunk:
        if plain and isinstance(item, str) and (fast := plain_case_line(item, ids)) is not None:
            if not ids and fast.case.case_id is not None:
                unread[len(valid)] = item
            valid.append((row, fast.id, values_of(fast.case), {}))
            cases.append(item if keep_lines and fast.strict else fast.case)
            lines.append(item if fast.strict else None)
            continue
        rid: str | None = None
        record = decode_line(item) if jsonl else item
        if isinstance(record, BadLine):
            out.rejected.append(Reject(row, None, "parse", "(line)", None, record.message))
            continue
        try:
            mapped = mapper.map_record(record) if jsonl else mapper.map_row(record)
        except RowError as exc:
            rid = _id_of(record, mapper)
            out.rejected.append(Reject(row, rid, "mapping", exc.field, exc.column, exc.message))
            continue
        rid = mapped.id if mapped.id is not None else _case_id(mapped.case)
        try:
            case = parse_case(mapped.case)
        except CaseInputError as exc:
            if not exc.errors:
                out.rejected.append(Reject(row, rid, "validation", "(case)", None, exc.summary))
            for e in exc.errors:
                allowed = f" (allowed: {e.allowed})" if e.allowed else ""
                got = f"; received {e.received!r}" if e.received is not None else ""
                reason = f"{e.message}{allowed}{got}"
                out.rejected.append(Reject(row, rid, "validation", e.path, None, reason))
            continue
        valid.append((row, rid, values_of(case), mapped.care))
        cases.append(case)
        lines.append(None)
    if output is not None:
        if not valid:
            table = frame_rows([])
        elif assess_frame is not None:
            table = assess_frame(LineCases(cases), lines)
        else:
            table = frame_rows(assess(LineCases(cases), lines))
        return _as_output(out, valid, unread, table, output)
    results = assess(LineCases(cases), lines) if valid else []
    for j, ((row, rid, values, care), res) in enumerate(zip(valid, results, strict=True)):
        if isinstance(res, Failure):
            if j in unread:
                rid = written_id(unread[j])
            out.failed.append(Reject(row, rid, "assessment", "(case)", None, res.error))
            continue
        out.assessed.append(Assessed(row, rid, care, res, values))
    return out


def framed(backend: Backend) -> AssessFrame | None:
    """``backend``'s own ``assess_frame``, where it has one (the columnar backend: its rows
    made as columns, :meth:`~nenguide.batch.columnar.ColumnarBackend.assess_frame`)."""
    return cast(AssessFrame | None, getattr(backend, "assess_frame", None))


def _as_output(
    out: RowsResult,
    valid: Sequence[tuple[int, str | None, dict[str, Any], dict[str, Any]]],
    unread: dict[int, str],
    got: FrameRows,
    output: Output,
) -> RowsResult:
    """``out`` with the valid cases' rows ``got`` as the rows of the table ``output`` (the
    input row number, the input's id where the table has that column, the flat row), one
    frame: a frame is pickled as Arrow data, a few column buffers, where the rows as Python
    objects were pickled object by object and turned into columns again by the main process
    (docs/benchmarks.md, session 12); and the cases the backend failed on as rejects."""
    rows: list[int] = []
    ids: list[str | None] = []
    for j, (row, rid, _, _) in enumerate(valid):
        failure = got.failed.get(j)
        if failure is None:
            rows.append(row)
            ids.append(rid)
            continue
        if j in unread:
            rid = written_id(unread[j])
        out.failed.append(Reject(row, rid, "assessment", "(case)", None, failure.error))
    if len(rows) != got.frame.height:
        raise ValueError(f"{got.frame.height} rows for {len(rows)} cases assessed")
    lead = [pl.Series("row", rows, dtype=pl.Int64)]
    if output.id_column:
        lead.append(pl.Series(output.id_column, ids, dtype=pl.String))
    out.frame = pl.concat([pl.DataFrame(lead), got.frame], how="horizontal")
    return out


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


# ------------------------------------------------------------------ in a worker process

_WORKER: tuple[Backend, str, Mapper, ChunkCollector, Output | None] | None = None


def init_worker(
    make: Callable[[], Backend], fmt: str, mapper: Mapper, output: Output | None = None
) -> None:
    """Once per worker process: the backend (in-process, ``processes=1``), the mapping, and
    ``output``: the output table the assessed rows go back as (:func:`_as_output`; ``None``: as
    :class:`Assessed` rows).

    The cyclic collector is paused for the worker's life, as in the main process for a run
    (:func:`~nenguide.batch.backend.gc_paused_run`), and run after each part by a
    :class:`~nenguide.batch.backend.ChunkCollector` (:func:`assess_rows_in_worker`). With it
    on between parts, pickling a part's result set off collections that examined the part's
    rows and, now and then, all the worker holds: 4 s of the workers' CPU per 100 000 rows
    (docs/benchmarks.md, session 12). What the backend loaded (the knowledge, its compiled
    tables) is frozen (:func:`gc.freeze`), so no later collection examines it."""
    global _WORKER
    gc.disable()
    backend = make()
    gc.collect()
    gc.freeze()
    _WORKER = (backend, fmt, mapper, ChunkCollector(), output)


def assess_rows_in_worker(part: Part) -> RowsResult:
    """One part of a chunk, in a worker process (:func:`init_worker`): its rows (a span of a
    JSON Lines file: read here, :func:`~nenguide.batch.jsonl.span_rows`), with the collector
    paused until the part's objects have been collected; the pool pickles the result while it
    is still paused."""
    assert _WORKER is not None, "worker not initialised"
    backend, fmt, mapper, collect, output = _WORKER
    res = backend_rows(part_rows(part), fmt, mapper, backend, output, paused=False)
    collect()
    return res


def backend_rows(
    chunk: Chunk,
    fmt: str,
    mapper: Mapper,
    backend: Backend,
    output: Output | None,
    paused: bool = True,
) -> RowsResult:
    """:func:`assess_rows` of ``chunk`` by ``backend``, for the table ``output`` (``None``:
    the rows go back as :class:`Assessed` rows, for the audit, with their ids and case
    columns), by the backend's own frame where it has one. ``paused``: pause the collector
    here (a worker keeps it paused for its life)."""
    run = assess_rows if paused else _assess_rows
    audit = output is None
    frame = None if audit else framed(backend)
    return run(chunk, fmt, mapper, backend.assess, reads_lines(backend), audit, audit, output,
               frame)  # fmt: skip
