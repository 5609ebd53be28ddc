"""Column helpers (:mod:`nenguide.batch.columnar.exprs`) held to what they stand for.

``union_sorted`` replaced ``concat_list(...).list.unique().list.sort()`` in phase 1 (the
unconfirmed rules a case read, session 22): on random lists of texts, with repeats across and
within lists, empty lists and rows of nothing but empty lists, it must give what the per-row
list operations give, row for row and in order.
"""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.exprs import concat_lists, union_sorted

WORDS = pl.List(pl.String())
_lists = st.lists(st.sampled_from(["R1", "R2", "R10", "a", "Z", "", None]), max_size=4)


def _reference(frame: pl.DataFrame) -> list[list[str]]:
    out = frame.select(pl.concat_list(pl.all()).list.unique().list.sort()).to_series()
    return out.to_list()


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(_lists, _lists, _lists), min_size=1, max_size=30))
def test_union_sorted_is_the_sorted_distinct_items(
    rows: list[tuple[list[str | None], ...]],
) -> None:
    frame = pl.DataFrame([pl.Series(f"c{j}", [r[j] for r in rows], dtype=WORDS) for j in range(3)])
    got = union_sorted(frame, "unconfirmed")
    assert got.name == "unconfirmed"
    assert got.dtype == WORDS
    assert got.to_list() == _reference(frame)


def test_union_sorted_of_rows_without_items_is_empty_lists() -> None:
    frame = pl.DataFrame(
        [pl.Series("a", [[], []], dtype=WORDS), pl.Series("b", [[], []], dtype=WORDS)]
    )
    assert union_sorted(frame, "u").to_list() == [[], []]


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(_lists, _lists, _lists, _lists), min_size=1, max_size=30))
def test_concat_lists_is_concat_list(rows: list[tuple[list[str | None], ...]]) -> None:
    """``concat_lists`` (phase 2's unconfirmed rules, session 22) gives ``concat_list``'s
    lists: the columns' items in the columns' order, each list's own order and its repeats
    kept."""
    frame = pl.DataFrame([pl.Series(f"c{j}", [r[j] for r in rows], dtype=WORDS) for j in range(4)])
    got = concat_lists(frame, "unconfirmed")
    assert got.name == "unconfirmed"
    assert got.dtype == WORDS
    assert got.to_list() == frame.select(pl.concat_list(pl.all())).to_series().to_list()


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.tuples(_lists, st.one_of(st.none(), _lists)), min_size=1, max_size=30))
def test_concat_lists_leaves_a_missing_list_out(
    rows: list[tuple[list[str | None], list[str | None] | None]],
) -> None:
    """A null list (a case the second part did not reach: the syndromes of a case without a
    trigger) counts as an empty one, as ``concat_list`` after ``fill_null([])``; the output
    may be named as an input column."""
    frame = pl.DataFrame(
        [
            pl.Series("names", [r[0] for r in rows], dtype=WORDS),
            pl.Series("names_s", [r[1] for r in rows], dtype=WORDS),
        ]
    )
    want = frame.select(pl.concat_list("names", pl.col("names_s").fill_null([]))).to_series()
    got = concat_lists(frame, "names")
    assert got.name == "names"
    assert got.to_list() == want.to_list()
