"""The output table's frame of a chunk (``assess_rows`` with ``output``, for ``nenguide batch``):
the frame the output rows made one by one give (the input row number, the input's id, the flat
row), and the same rejects as the rows' path; and :func:`nenguide.batch.io.transposed`."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nenguide.batch.backend import Failure
from nenguide.batch.io import ASSESSMENT_SCHEMA, frame_of, output_schema, transposed
from nenguide.batch.mapping import Mapper
from nenguide.batch.rows import FrameRows, Output, assess_rows, framed

_text = st.text(min_size=0, max_size=6)


def _value(dtype: Any) -> st.SearchStrategy[Any]:
    if dtype == pl.Date:
        return st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31))
    if dtype == pl.Boolean:
        return st.booleans()
    if dtype == pl.Int64:
        return st.integers(min_value=0, max_value=10**6)
    if dtype == pl.List(pl.Boolean):
        return st.lists(st.booleans(), max_size=4)
    if dtype == pl.List(pl.String):
        return st.lists(_text, max_size=4)
    return _text


#: a flat row: every column of the assessment, each of its type or null (a list column's
#: cell may be null too)
_flat = st.fixed_dictionaries({k: st.none() | _value(v) for k, v in ASSESSMENT_SCHEMA.items()})


class _Given:
    """A backend (a test double of the ``Backend`` protocol, nenguide.batch.backend) that
    gives each case the flat row or failure drawn for it, by the case's id."""

    name = "given"
    processes = 1

    def __init__(self, results: list[dict[str, Any] | Failure]) -> None:
        self.results = results

    def assess(self, cases: Any, lines: Any = None) -> list[Any]:
        return [self.results[int(c.case_id)] for c in cases]


def _chunk(n: int, bad: set[int]) -> list[tuple[int, str]]:
    """``n`` lines of plain cases (ids 0..n-1, written with spaces around them), rows numbered
    from 1, and a line that is not JSON at each position of ``bad`` (a parse reject)."""
    out = []
    for i in range(n):
        line = json.dumps({"case_id": f" {i} ", "tumour": {"primary_site": "rectum"}})
        out.append((i + 1, "{not json" if i in bad else line))
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_flat | st.just(Failure("planted")), max_size=12),
    st.sets(st.integers(min_value=0, max_value=11), max_size=3),
    st.sampled_from([None, "patient_no"]),
)
def test_the_output_frame_is_the_frame_of_the_output_rows(
    results: list[dict[str, Any] | Failure], bad: set[int], id_column: str | None
) -> None:
    backend = _Given(results)
    chunk = _chunk(len(results), bad)
    rows = assess_rows(chunk, "jsonl", Mapper(), backend.assess)
    out = Output(output_schema(id_column), id_column)
    # no ids asked for: an output with an id column reads them all the same
    got = assess_rows(chunk, "jsonl", Mapper(), backend.assess, ids=False, output=out)
    want = frame_of(
        [
            {"row": a.row, **({id_column: a.id} if id_column else {}), **a.flat}
            for a in rows.assessed
        ],
        out.schema,
    )
    assert got.frame is not None and not got.assessed
    assert got.frame.schema == want.schema
    assert got.frame.equals(want)
    # the same rejects, the failed rows named by their ids as written
    assert got.rejected == rows.rejected and got.failed == rows.failed
    assert all(r.id == f" {r.row - 1} " for r in got.failed)


def test_a_backends_own_frame_is_used_where_it_has_one() -> None:
    class Framing(_Given):
        def assess_frame(self, cases: Any, lines: Any = None) -> FrameRows:
            raise AssertionError("reached")

    assert framed(_Given([])) is None
    backend = Framing([dict.fromkeys(ASSESSMENT_SCHEMA)])
    own = framed(backend)
    assert own is not None
    out = Output(output_schema(None), None)
    with pytest.raises(AssertionError, match="reached"):
        assess_rows(_chunk(1, set()), "jsonl", Mapper(), backend.assess, output=out,
                    assess_frame=own)  # fmt: skip


def test_a_frame_of_other_height_than_the_cases_assessed_is_an_error() -> None:
    class Short(_Given):
        def assess_frame(self, cases: Any, lines: Any = None) -> FrameRows:
            return FrameRows(frame_of([], ASSESSMENT_SCHEMA), {})

    flat = dict.fromkeys(ASSESSMENT_SCHEMA)
    out = Output(output_schema(None), None)
    short = Short([flat])
    with pytest.raises(ValueError, match="0 rows for 1 cases"):
        assess_rows(_chunk(1, set()), "jsonl", Mapper(), short.assess, output=out,
                    assess_frame=framed(short))  # fmt: skip


def test_transposed_reads_each_name_of_each_row() -> None:
    rows = [{"a": 1, "b": "x", "c": None}, {"a": 2, "b": "y", "c": [1]}]
    assert [list(c) for c in transposed(rows, ["a", "b", "c"])] == [[1, 2], ["x", "y"], [None, [1]]]
    assert [list(c) for c in transposed(rows, ["b"])] == [["x", "y"]]  # one name
    assert [list(c) for c in transposed([], ["a", "b"])] == [[], []]
    with pytest.raises(KeyError):
        transposed([{"a": 1}], ["a", "b"])
    # absent: a row without a name reads None there (the fact frame's facts)
    got = transposed([{"a": 1}, {"b": 2}], ["a", "b"], absent=True)
    assert [list(c) for c in got] == [[1, None], [None, 2]]
    assert [list(c) for c in transposed([], ["a"], absent=True)] == [[]]
