"""The output table's frame made from the assessed rows' parts (nenguide.batch.rows.output_frame
and nenguide.batch.io.transposed): the frame the output rows made one by one give."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nenguide.batch.io import frame_of, transposed
from nenguide.batch.rows import (
    Assessed,
    Output,
    output_columns_frame,
    output_frame,
    output_rows,
)

FLAT: dict[str, Any] = {
    "when": pl.Date,
    "flag": pl.Boolean,
    "codes": pl.List(pl.String),
    "available": pl.List(pl.Boolean),
    "count": pl.Int64,
}

_text = st.text(min_size=0, max_size=6)
_flat = st.fixed_dictionaries(
    {
        "when": st.none() | st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)),
        "flag": st.none() | st.booleans(),
        "codes": st.none() | st.lists(_text, max_size=5),
        "available": st.none() | st.lists(st.booleans(), max_size=4),
        "count": st.none() | st.integers(min_value=0, max_value=10**6),
    }
)


def _output(id_column: str | None) -> Output:
    schema: dict[str, Any] = {"row": pl.Int64}
    if id_column:
        schema[id_column] = pl.String
    return Output(schema | FLAT, id_column)


def _assessed(flats: list[dict[str, Any]], ids: list[str | None]) -> list[Assessed]:
    return [
        Assessed(row=i, id=ids[i % len(ids)], care={}, flat=f, case_columns={})
        for i, f in enumerate(flats, 1)
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_flat, max_size=25),
    st.lists(st.none() | _text, min_size=1, max_size=3),
    st.sampled_from([None, "patient_no"]),
)
def test_the_output_frame_is_the_frame_of_the_output_rows(
    flats: list[dict[str, Any]], ids: list[str | None], id_column: str | None
) -> None:
    out = _output(id_column)
    assessed = _assessed(flats, ids)
    want = frame_of(output_rows(assessed, id_column), out.schema)
    for got in (output_columns_frame(assessed, out), output_frame(assessed, out)):
        assert got.schema == want.schema
        assert got.equals(want)


@pytest.mark.parametrize(
    "change",
    [
        {"when": "2020-01-01"},  # a text in a date column: Polars' constructor decides
        {"codes": ("a", "b")},  # a tuple is not a list cell
        {"count": 1.5},
    ],
)
def test_a_row_the_columns_do_not_take_is_left_to_polars_as_before(change: dict[str, Any]) -> None:
    out = _output("id")
    flat = dict.fromkeys(FLAT) | change
    assessed = _assessed([dict.fromkeys(FLAT), flat], ["a"])
    try:
        want: pl.DataFrame | None = frame_of(output_rows(assessed, "id"), out.schema)
    except pl.exceptions.PolarsError:
        want = None
    with pytest.raises(TypeError):  # not by the columns
        output_columns_frame(assessed, out)
    if want is None:
        with pytest.raises(pl.exceptions.PolarsError):
            output_frame(assessed, out)
    else:
        assert output_frame(assessed, out).equals(want)


def test_a_flat_row_without_a_column_is_left_to_polars_as_before() -> None:
    out = _output(None)
    partial = {k: v for k, v in dict.fromkeys(FLAT).items() if k != "flag"}
    assessed = _assessed([dict.fromkeys(FLAT) | {"flag": True}, partial], [None])
    want = frame_of(output_rows(assessed, None), out.schema)
    assert want["flag"].to_list() == [True, None]
    assert output_frame(assessed, out).equals(want)
    with pytest.raises(KeyError):  # not by the columns
        output_columns_frame(assessed, out)


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
