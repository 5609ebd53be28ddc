"""The batch writer's frame and the JSON Lines reader (nenguide.batch.io)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nenguide.batch.io import (
    BadLine,
    columns_frame,
    decode_line,
    frame_of,
    output_schema,
    read_chunks,
)

SCHEMA: dict[str, Any] = {
    "row": pl.Int64,
    "when": pl.Date,
    "flag": pl.Boolean,
    "codes": pl.List(pl.String),
    "available": pl.List(pl.Boolean),
}

_text = st.text(min_size=0, max_size=6)
_row = st.fixed_dictionaries(
    {
        "row": st.integers(min_value=1, max_value=10**9),
        "when": st.none() | st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)),
        "flag": st.none() | st.booleans(),
        "codes": st.none() | st.lists(_text, max_size=5),
        "available": st.none() | st.lists(st.booleans(), max_size=4),
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_row, min_size=1, max_size=30))
def test_frame_of_is_what_polars_builds_from_the_rows(rows: list[dict[str, Any]]) -> None:
    want = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    got = frame_of(rows, SCHEMA)
    assert got.schema == want.schema
    assert got.equals(want)  # null cells, empty lists and values in place


@settings(max_examples=60, deadline=None)
@given(st.lists(_row, min_size=1, max_size=30))
def test_rows_of_the_columns_types_are_built_column_by_column(rows: list[dict[str, Any]]) -> None:
    assert columns_frame(rows, SCHEMA).equals(pl.DataFrame(rows, schema=SCHEMA, orient="row"))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("when", "2020-01-01"),  # a text in a date column: Polars' constructor rejects it
        ("flag", 1),
        ("row", 1.5),
        ("row", True),
        ("codes", "abc"),  # a text is not a list (it would be split into letters)
        ("codes", ("a", "b")),
        ("codes", [1, 2]),
        ("available", [1, 0]),
    ],
)
def test_a_value_of_another_type_is_left_to_polars(column: str, value: Any) -> None:
    row = {k: None for k in SCHEMA} | {"row": 1, column: value}
    with pytest.raises(TypeError):
        columns_frame([row], SCHEMA)
    try:
        want: pl.DataFrame | None = pl.DataFrame([row], schema=SCHEMA, orient="row")
    except Exception:  # Polars rejects it: so does frame_of
        want = None
    if want is None:
        with pytest.raises(pl.exceptions.PolarsError):
            frame_of([row], SCHEMA)
    else:
        assert frame_of([row], SCHEMA).equals(want)


def test_a_missing_key_is_a_null_cell_as_before() -> None:
    with pytest.raises(KeyError):
        columns_frame([{"row": 1}], SCHEMA)
    got = frame_of([{"row": 1}], SCHEMA)
    assert got.equals(pl.DataFrame([{"row": 1}], schema=SCHEMA, orient="row"))


def test_frame_of_has_the_output_schema() -> None:
    schema = output_schema("registry_id")
    row = {k: None for k in schema} | {"row": 1, "issue_codes": ["A", "B"], "treatment_codes": []}
    got = frame_of([row, {**row, "row": 2, "issue_codes": None}], schema)
    assert got.schema == pl.Schema(schema)
    assert got["issue_codes"].to_list() == [["A", "B"], None]
    assert got["treatment_codes"].to_list() == [[], []]


def test_jsonl_lines_are_decoded_by_the_worker_and_a_bad_line_is_named(tmp_path: Any) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1}\n\n{not json\n[1, 2]\n', encoding="utf-8")
    (chunk,) = list(read_chunks(str(path), "jsonl", 10))
    assert [row for row, _ in chunk] == [1, 2, 3]  # blank lines are not rows
    assert decode_line(chunk[0][1]) == {"a": 1}
    bad = decode_line(chunk[1][1])
    assert isinstance(bad, BadLine) and bad.message.startswith("not valid JSON")
    assert decode_line(chunk[2][1]) == [1, 2]  # valid JSON, not an object: the mapping rejects it


@pytest.mark.parametrize("size", [1, 2])
def test_chunks_keep_row_numbers(tmp_path: Any, size: int) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(f'{{"i": {i}}}\n' for i in range(3)), encoding="utf-8")
    rows = [row for chunk in read_chunks(str(path), "jsonl", size) for row, _ in chunk]
    assert rows == [1, 2, 3]


def test_gc_is_paused_for_a_batch_and_its_cycles_freed_at_the_end() -> None:
    import gc
    import weakref

    from nenguide.batch.backend import gc_paused

    class Node:
        other: Any = None

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: still paused when the inner one ends
            pass
        assert not gc.isenabled()
        a, b = Node(), Node()
        a.other, b.other = b, a  # a reference cycle, unreachable once the names go
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None  # not collected while paused
    assert gc.isenabled()
    assert gone() is None  # collected when the batch ends
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a collector the caller paused stays paused
    finally:
        gc.enable()


def test_gc_is_paused_for_a_run_of_chunks_and_each_chunks_cycles_freed_after_it() -> None:
    import gc
    import weakref

    from nenguide.batch.backend import gc_paused_run

    class Node:
        other: Any = None

    def cycle() -> Any:
        a, b = Node(), Node()
        a.other, b.other = b, a  # unreachable once returned as a weak reference only
        return weakref.ref(a)

    assert gc.isenabled()
    with gc_paused_run() as collect:
        assert not gc.isenabled()
        first = cycle()
        assert first() is not None  # not collected while the chunk is worked on
        collect()  # the chunk is done
        assert first() is None
        assert not gc.isenabled()  # still paused for the next chunk
        last = cycle()
    assert gc.isenabled()
    assert last() is None  # the last chunk's, when the run ends
    gc.disable()
    try:
        with gc_paused_run() as collect:
            kept = cycle()
            collect()
            assert kept() is not None  # a collector the caller paused is left alone
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_run_collects_older_generations_every_so_many_chunks() -> None:
    """A cycle among objects that outlived a chunk (promoted past the youngest generation) is
    freed by a deeper collection after GC_EVERY chunks, not left until the run ends."""
    import gc
    import weakref

    from nenguide.batch.backend import GC_EVERY, gc_paused_run

    class Node:
        other: Any = None

    with gc_paused_run() as collect:
        a, b = Node(), Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        collect()  # chunk 1: still referenced, so it survives into an older generation
        del a, b
        for _ in range(GC_EVERY - 2):
            collect()  # youngest generation only: the cycle is older
        assert gone() is not None
        collect()  # chunk GC_EVERY: one generation deeper
        assert gone() is None
    assert gc.isenabled()


def test_a_worker_process_keeps_the_collector_paused_and_collects_after_each_part() -> None:
    """A worker process (init_worker) pauses the collector for its life, as the main process
    does for a run: the pool pickles each part's result with it paused (with it on, that
    pickling set off collections costing 4 s of CPU per 100 000 rows). What the backend
    loaded is frozen, and a reference cycle made while a part is assessed is freed when the
    part is done, before the result goes back."""
    import gc
    import weakref

    from nenguide.batch import rows
    from nenguide.batch.mapping import Mapper

    class Node:
        other: Any = None

    made: list[Any] = []

    class Cyclic:
        """A backend whose assessment leaves a reference cycle behind."""

        name = "cyclic"
        processes = 1

        def assess(self, cases: Any, lines: Any = None) -> list[Any]:
            a, b = Node(), Node()
            a.other, b.other = b, a
            made.append(weakref.ref(a))
            return [{"case": c.case_id} for c in cases]

    saved = rows._WORKER
    frozen_before = gc.get_freeze_count()
    try:
        rows.init_worker(Cyclic, "jsonl", Mapper())  # type: ignore[arg-type]
        assert not gc.isenabled()
        assert gc.get_freeze_count() > frozen_before  # the loaded backend, never examined again
        line = '{"case_id": "A", "tumour": {"primary_site": "rectum"}}'
        for part in (1, 2):
            res = rows.assess_rows_in_worker([(part, line)])
            assert [a.flat for a in res.assessed] == [{"case": "A"}]
            assert made[-1]() is None  # the part's cycle: collected when the part was done
            assert not gc.isenabled()  # still paused while the pool pickles the result
    finally:
        gc.unfreeze()
        gc.enable()
        rows._WORKER = saved


def test_rows_are_read_validated_and_assessed_with_the_collector_paused(tmp_path: Any) -> None:
    import gc

    from nenguide.batch.io import RejectWriter
    from nenguide.batch.mapping import Mapper
    from nenguide.batch.rows import assess_rows
    from nenguide.batch.runner import Counts, assessed_chunks

    seen: list[bool] = []

    class Recording:
        """A backend that records whether the collector runs while it assesses."""

        name = "recording"
        processes = 1

        def assess(self, cases: Any, lines: Any = None) -> list[Any]:
            seen.append(gc.isenabled())
            return [{"case": c.case_id} for c in cases]

    line = '{"case_id": "A", "tumour": {"primary_site": "rectum"}}'
    res = assess_rows([(1, line)], "jsonl", Mapper(), Recording().assess)
    assert [a.flat for a in res.assessed] == [{"case": "A"}] and seen == [False]
    assert gc.isenabled()
    path = tmp_path / "in.jsonl"
    path.write_text(f"{line}\n{line}\n", encoding="utf-8")
    rejects = RejectWriter(str(tmp_path / "rej.csv"))
    backend: Any = Recording()
    chunks = assessed_chunks(str(path), "jsonl", Mapper(), backend, rejects, Counts(), 1)
    while_written = [gc.isenabled() for _ in chunks]  # the caller writes each chunk here
    rejects.close()
    assert while_written == [False, False] and gc.isenabled()


def test_the_backends_rows_take_the_column_path() -> None:
    from nenguide.batch.backend import PerCaseBackend
    from nenguide.batch.synth import generate
    from nenguide.errors import parse_case

    cases = [parse_case(s.case) for s in generate(40, seed=3)]
    rows = PerCaseBackend("csco-2021", dt.date(2026, 11, 23)).assess(cases)
    schema = output_schema("registry_id")
    table = [{"row": i, "registry_id": f"R{i}", **r} for i, r in enumerate(rows, 1)]
    assert columns_frame(table, schema).equals(pl.DataFrame(table, schema=schema, orient="row"))
