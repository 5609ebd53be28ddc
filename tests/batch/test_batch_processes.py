"""``--processes N``: worker processes read, validate and assess their own rows (issue 12).

Real worker processes, both backends: the rows, their order and the rejected-rows file are the
same with two processes as with one, for a rejected row of every stage; the concordance audit
(which reads a few case values the workers send back) is the same too.

The engine has no known input it raises on, so the ``assessment`` stage is exercised with a
bug planted in a subclass of each real backend: the case ``PLANTED`` comes back as the
:class:`Failure` a raising engine gives.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import multiprocessing
import subprocess
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from nenguide.batch.backend import Backend, Failure, PerCaseBackend, Row, Worker, make_backend
from nenguide.batch.columnar import ColumnarBackend
from nenguide.batch.concordance import audit, load_indicators
from nenguide.batch.io import RejectWriter, frame_of, output_schema
from nenguide.batch.mapping import Mapper
from nenguide.batch.rows import FrameRows, Output
from nenguide.batch.runner import Counts, assessed_chunks, output_frames
from nenguide.batch.synth import generate
from nenguide.model.case import Case

AS_OF = dt.date(2026, 11, 23)
PLANTED = "PLANTED-BUG"
CHUNK = 40


def _plant(rows: list[Row | Failure], cases: Sequence[Case]) -> list[Row | Failure]:
    bug = Failure("RuntimeError: planted bug")
    return [bug if c.case_id == PLANTED else r for c, r in zip(cases, rows, strict=True)]


class PlantedPerCase(PerCaseBackend):
    def assess(
        self, cases: Sequence[Case], lines: Sequence[str | None] | None = None
    ) -> list[Row | Failure]:
        return _plant(super().assess(cases, lines), cases)

    def worker(self) -> Worker:
        st = self.settings
        return Worker(partial(PlantedPerCase, st.guideline, st.as_of, st.lang, 1))


class PlantedColumnar(ColumnarBackend):
    def assess(
        self, cases: Sequence[Case], lines: Sequence[str | None] | None = None
    ) -> list[Row | Failure]:
        return _plant(super().assess(cases, lines), cases)

    def assess_frame(
        self, cases: Sequence[Case], lines: Sequence[str | None] | None = None
    ) -> FrameRows:
        """The planted bug in the rows as one frame too (what ``nenguide batch`` writes)."""
        got = super().assess_frame(cases, lines)
        failed = dict(got.failed)
        kept: list[bool] = []  # per row of the frame: not the planted case's
        for i, c in enumerate(cases):
            if i in failed:
                continue
            kept.append(c.case_id != PLANTED)
            if c.case_id == PLANTED:
                failed[i] = Failure("RuntimeError: planted bug")
        return FrameRows(got.frame.filter(pl.Series(kept, dtype=pl.Boolean)), failed)

    def worker(self) -> Worker:
        make = partial(PlantedColumnar, self.guideline, self.as_of, self.lang, self.pathway, 1)
        return Worker(make, "spawn")


BACKENDS: dict[str, type[PlantedPerCase] | type[PlantedColumnar]] = {
    "per-case": PlantedPerCase,
    "columnar": PlantedColumnar,
}


def _lines() -> list[str]:
    """Generated cases with a rejected row of each stage, spread over several chunks."""
    lines = [json.dumps(s.case) for s in generate(150, seed=12)]
    bad_ki67 = next(iter(generate(1, seed=13))).case
    bad_ki67["pathology"] = {**bad_ki67.get("pathology", {}), "ki67_percent": 250}
    bad_ki67["tumour"] = {**bad_ki67["tumour"], "size_cm": -1}  # two errors: two lines
    planted = {**next(iter(generate(1, seed=14))).case, "case_id": PLANTED}
    lines.insert(3, "{not json")  # parse
    lines.insert(45, "[1, 2]")  # mapping: not an object
    lines.insert(90, json.dumps(bad_ki67))  # validation
    lines.insert(121, json.dumps(planted))  # assessment
    lines.insert(122, json.dumps({"tumour": {"primary_site": "mars"}}))  # validation
    return lines


Run = tuple[list[tuple[Any, ...]], Counts, set[int]]


def _run(path: Path, backend: Backend, rejected: Path) -> Run:
    """The assessed rows, the counts, and the worker processes seen while the rows came back."""
    rejects = RejectWriter(str(rejected))
    counts = Counts()
    out: list[tuple[Any, ...]] = []
    workers: set[int] = set()
    try:
        for chunk in assessed_chunks(str(path), "jsonl", Mapper(), backend, rejects, counts, CHUNK):
            out += [(a.row, a.id, a.flat, a.care, a.case_columns) for a in chunk]
            workers |= _children()
    finally:
        backend.close()
        rejects.close()
    return out, counts, workers


def _frames(path: Path, backend: Backend, rejected: Path, output: Output) -> pl.DataFrame:
    """The output table's rows as :func:`output_frames` gives them, one frame a chunk."""
    rejects = RejectWriter(str(rejected))
    counts = Counts()
    try:
        frames = list(
            output_frames(str(path), "jsonl", Mapper(), backend, rejects, counts, output, CHUNK)
        )
    finally:
        backend.close()
        rejects.close()
    # one a chunk read: a part of CHUNK rows for each process
    assert len(frames) == -(-counts.read // (CHUNK * backend.processes))
    assert sum(f.height for f in frames) == counts.assessed
    return pl.concat(frames)


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_the_output_rows_made_by_the_workers_are_the_rows_of_one_process(
    tmp_path: Path, name: str
) -> None:
    """``nenguide batch`` has each worker hand its part back as the output table's rows (one
    frame a part, as Arrow data); the frames, in input order, hold the rows one process makes
    of the assessed rows (the row number, the input's id, the flat assessment), and the
    rejected-rows file is the same."""
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(_lines()) + "\n")
    output = Output(output_schema("registry_id"), "registry_id")
    one, _, _ = _run(src, BACKENDS[name]("csco-2021", AS_OF), tmp_path / "one.csv")
    want = frame_of(
        [{"row": r, "registry_id": i, **flat} for r, i, flat, _, _ in one], output.schema
    )
    for processes in (1, 2):
        backend = BACKENDS[name]("csco-2021", AS_OF, processes=processes)
        got = _frames(src, backend, tmp_path / f"{processes}.csv", output)
        assert got.schema == want.schema
        assert got.equals(want)
        rejects = (tmp_path / f"{processes}.csv").read_text()
        assert rejects == (tmp_path / "one.csv").read_text()


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_two_processes_give_the_rows_and_rejects_of_one(tmp_path: Path, name: str) -> None:
    src = tmp_path / "in.jsonl"
    lines = _lines()
    src.write_text("\n".join(lines) + "\n")
    one, c1, w1 = _run(src, BACKENDS[name]("csco-2021", AS_OF), tmp_path / "one.csv")
    two, c2, w2 = _run(src, BACKENDS[name]("csco-2021", AS_OF, processes=2), tmp_path / "two.csv")
    assert two == one
    # two worker processes did the work (none with one process)
    assert len(w2) == 2 and not w1
    assert (tmp_path / "two.csv").read_text() == (tmp_path / "one.csv").read_text()
    assert (c2.read, c2.assessed, c2.rejected_rows) == (c1.read, c1.assessed, c1.rejected_rows)
    # input order, every row either assessed or rejected
    rejected = list(csv.DictReader((tmp_path / "two.csv").open()))
    bad = {4, 46, 91, 122, 123}
    assert [r[0] for r in two] == [i for i in range(1, len(lines) + 1) if i not in bad]
    assert {int(r["row"]) for r in rejected} == bad == c2.rejected_rows
    assert [(r["row"], r["stage"], r["field"]) for r in rejected] == [
        ("4", "parse", "(line)"),
        ("46", "mapping", "(case)"),
        ("91", "validation", "tumour.size_cm"),
        ("91", "validation", "pathology.ki67_percent"),
        # a chunk's rows are read and validated before it is assessed
        ("123", "validation", "tumour.primary_site"),
        ("122", "assessment", "(case)"),
    ]
    assert rejected[-1]["id"] == PLANTED and rejected[-1]["reason"] == "RuntimeError: planted bug"
    assert c2.read == len(lines) and c2.assessed == len(lines) - len(bad)


def test_both_backends_give_the_same_rows_in_two_processes(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(_lines()) + "\n")
    per_case, _, _ = _run(
        src, make_backend("per-case", "csco-2021", AS_OF, processes=2), tmp_path / "p"
    )
    columnar, _, _ = _run(
        src, make_backend("columnar", "csco-2021", AS_OF, processes=2), tmp_path / "c"
    )
    assert columnar == per_case
    assert (tmp_path / "c").read_text() == (tmp_path / "p").read_text()


def test_a_small_input_is_worked_on_without_workers(tmp_path: Path) -> None:
    """Fewer rows than two per process: no worker process is started (nor needed)."""
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(s.case) for s in generate(3, seed=2)) + "\n")
    backend = make_backend("columnar", "csco-2021", AS_OF, processes=2)
    rows, counts, workers = _run(src, backend, tmp_path / "r.csv")
    assert [r[0] for r in rows] == [1, 2, 3] and counts.assessed == 3 and not workers


def test_closing_the_chunks_stops_the_workers(tmp_path: Path) -> None:
    """What the commands do when writing fails half-way: no worker process is left behind."""
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(_lines()) + "\n")
    backend = make_backend("per-case", "csco-2021", AS_OF, processes=2)
    rejects = RejectWriter(str(tmp_path / "r.csv"))
    chunks = assessed_chunks(str(src), "jsonl", Mapper(), backend, rejects, Counts(), CHUNK)
    try:
        assert [a.row for a in next(chunks)][:3] == [1, 2, 3]
        assert len(_children()) == 2
    finally:
        chunks.close()
        rejects.close()
    assert not _children()


def _children() -> set[int]:
    return {p.pid or 0 for p in multiprocessing.active_children()}


def test_concordance_is_the_same_with_two_processes(tmp_path: Path) -> None:
    src = tmp_path / "care.jsonl"
    records = [
        {"id": s.case["case_id"], "case": s.case, "care": s.care}
        for s in generate(160, seed=3, with_care=True)
    ]
    records[7]["care"] = {**records[7]["care"], "year": "last year"}  # a care reject (main)
    src.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    inds = load_indicators()
    results = []
    for processes in (1, 2):
        backend = make_backend("columnar", "csco-2021", AS_OF, processes=processes)
        rejected = tmp_path / f"rej{processes}.csv"
        try:
            results.append(audit(str(src), "jsonl", Mapper(), backend, inds, str(rejected), CHUNK))
        finally:
            backend.close()
    one, two = results
    assert two.frame.equals(one.frame) and two.table.equals(one.table)
    assert (one.read, one.assessed, one.rejected) == (two.read, two.assessed, two.rejected)
    assert (tmp_path / "rej2.csv").read_text() == (tmp_path / "rej1.csv").read_text()
    assert one.rejected == 1 and one.frame.height == 159
    # the case columns came back from the workers
    assert two.frame["tumour_primary_site"].null_count() == 0


DATA = Path(__file__).parent / "data"
#: the registry extract of test_batch_cli.py with two more rows, and its mapping
REGISTRY = (DATA / "registry.csv").read_text(encoding="utf-8") + (
    "P7,C25.1,8240/3,12,18,1\nP8,C18.7,8240/3,3,9,0\n"
)
MAPPING = (DATA / "registry-mapping.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("backend", ["columnar", "per-case"])
def test_cli_with_a_mapping_in_two_processes(tmp_path: Path, backend: str) -> None:
    """The mapping reaches the workers (a spawned worker unpickles it); the CSV output and the
    rejected rows equal one process's."""
    (tmp_path / "reg.csv").write_text(REGISTRY)
    (tmp_path / "map.yaml").write_text(MAPPING)
    outs = {}
    for p in ("1", "2"):
        out = tmp_path / f"res{p}.csv"
        run = subprocess.run(
            [sys.executable, "-m", "nenguide", "batch", str(tmp_path / "reg.csv"), str(out),
             "-m", str(tmp_path / "map.yaml"), "--as-of", AS_OF.isoformat(),
             "--backend", backend, "--processes", p, "--chunk-size", "4"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert "8 rows read, 5 assessed, 3 rejected" in run.stderr
        outs[p] = (out.read_text(), (tmp_path / f"res{p}.rejected.csv").read_text())
    assert outs["2"] == outs["1"]
    assert [r["patient_no"] for r in csv.DictReader(outs["2"][0].splitlines())] == [
        "P1", "P2", "P6", "P7", "P8"
    ]  # fmt: skip
    stages = [(r["row"], r["stage"]) for r in csv.DictReader(outs["2"][1].splitlines())]
    assert stages == [("3", "mapping"), ("4", "validation"), ("5", "mapping")]
    assert pl.read_csv(tmp_path / "res2.csv")["row"].to_list() == [1, 2, 6, 7, 8]


def test_workers_read_their_own_lines_as_one_process_reads_them(tmp_path: Path) -> None:
    """With a file, each worker reads its part of the lines itself (a span of the file,
    nenguide.batch.jsonl): blank lines, CRLF and CR line ends and a line that is not UTF-8
    (a rejected row, where reading the input as text stopped the batch) give the rows and
    rejects of one process, for any chunk size."""
    lines = [json.dumps(s.case).encode() for s in generate(60, seed=21)]
    lines[7] = lines[7].replace(b'"', b'"\xff', 1)  # not UTF-8
    ends = [b"\n", b"\r\n", b"\r", b"\n  \t\n", b"\n\n"]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n" + b"".join(line + ends[i % len(ends)] for i, line in enumerate(lines)))
    one, c1, _ = _run(src, make_backend("columnar", "csco-2021", AS_OF), tmp_path / "one.csv")
    rejected = list(csv.DictReader((tmp_path / "one.csv").open()))
    assert [(r["row"], r["stage"]) for r in rejected] == [("8", "parse")]
    assert "not UTF-8" in rejected[0]["reason"]
    assert c1.read == 60 and [r[0] for r in one] == [i for i in range(1, 61) if i != 8]
    for chunk in (7, CHUNK):
        backend = make_backend("columnar", "csco-2021", AS_OF, processes=2)
        rejects = RejectWriter(str(tmp_path / "two.csv"))
        counts = Counts()
        two: list[tuple[Any, ...]] = []
        try:
            for part in assessed_chunks(
                str(src), "jsonl", Mapper(), backend, rejects, counts, chunk
            ):
                two += [(a.row, a.id, a.flat, a.care, a.case_columns) for a in part]
        finally:
            backend.close()
            rejects.close()
        assert two == one
        assert (tmp_path / "two.csv").read_text() == (tmp_path / "one.csv").read_text()
