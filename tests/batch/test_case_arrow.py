"""Cases as Arrow columns (``nenguide.batch.columnar.case_arrow``, the first step of the columnar
fact layer, ADR 0004): for every line the model accepts in strict mode and that is
``arrow_ready``, the columns Arrow's reader makes with the model's schema hold the model's own
values, field by field (``model_dump``), or the row is flagged as padded. Checked on every
golden vignette, on generated cases, and on generated cases varied where a reader and a model
could part: padded texts, integers for decimals, repeated and reordered set items, lists left
out or given empty, decimals of every size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from case_lines import case_line, varied_line, vignette_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_arrow import (
    CaseSchema,
    arrow_ready,
    case_schema,
    flagged_rows,
    list_items,
    read_lines,
    strict_case,
)
from nenguide.batch.synth import generate
from nenguide.model.case import Case


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _norm(arrow: Any, model: Any, path: str, s: CaseSchema) -> tuple[Any, Any]:
    """The column value and the model's value at ``path``, each as the schema says they
    compare (a set as a sorted list, a mapping without its absent keys, a list or mapping the
    line left out as empty where the model makes it so)."""
    if arrow is None and path in s.empty_when_absent:
        arrow = {} if isinstance(model, dict) else []
    if arrow is None and path in s.sub_models:
        arrow = {}  # left out: the sub-model's defaults
    if arrow is None and path in dict(s.defaults):
        arrow = dict(s.defaults)[path]
    if path in s.mappings and isinstance(arrow, dict):
        arrow = {k: v for k, v in arrow.items() if v is not None}
    if path in s.sets and arrow is not None:
        return sorted(set(arrow)), sorted(model)
    if isinstance(arrow, dict) and isinstance(model, dict) and path not in s.mappings:
        a, m = {}, {}
        for k in model.keys() | arrow.keys():
            sub = f"{path}.{k}".lstrip(".")
            if sub in s.per_case or sub in s.unread:
                continue
            a[k], m[k] = _norm(arrow.get(k), model.get(k), sub, s)
        return a, m
    if isinstance(arrow, list) and isinstance(model, list) and len(arrow) == len(model):
        pairs = [_norm(x, y, f"{path}[]", s) for x, y in zip(arrow, model, strict=True)]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    # a leaf: its type too (60 == 60.0 in Python, but an integer column is not a decimal one)
    return (type(arrow).__name__, arrow), (type(model).__name__, model)


def _check(lines: list[str]) -> dict[str, int]:
    """Reads ``lines`` and compares each strict, arrow-ready one with the model; counts."""
    s = case_schema()
    ready: list[tuple[str, Case]] = []
    counts = {"lines": len(lines), "not_strict": 0, "per_case": 0, "padded": 0, "compared": 0}
    for line in lines:
        case = strict_case(line)
        if case is not None:  # the look at the line agrees with the look at the case
            assert arrow_ready(case, s, line) == arrow_ready(case, s), line
        if case is None:
            counts["not_strict"] += 1
        elif not arrow_ready(case, s, line):
            counts["per_case"] += 1
        else:
            ready.append((line, case))
    if not ready:
        return counts
    table = read_lines([x[0] for x in ready], s)
    assert table.num_rows == len(ready)
    padded = flagged_rows(_frame(table), s).to_list()
    for (line, case), row, pad in zip(ready, table.to_pylist(), padded, strict=True):
        got, want = _norm(row, case.model_dump(mode="json"), "", s)
        if pad:
            counts["padded"] += 1
            continue
        assert got == want, line
        counts["compared"] += 1
    return counts


def test_schema_leaves_out_what_a_column_cannot_hold() -> None:
    s = case_schema()
    # texts or bounds: two JSON shapes; IHC markers: free-text keys
    assert set(s.per_case) == {
        "tumour.size.range",
        "tumour.number_of_tumours_range",
        "metastases.liver.lesion_count_range",
        "pathology.ki67_range",
        "pathology.mitoses.range",
    }
    assert s.unread == ("pathology.ihc",)
    assert "tumour.lung_descriptors" in s.sets
    assert {"clinical.symptoms", "clinical.history"} <= set(s.mappings)
    # a list the model defaults to None is not made empty: [] and a missing list differ there
    assert "clinical.family_history" not in s.empty_when_absent
    assert "clinical.labs" in s.empty_when_absent
    assert "case_id" in s.texts and "tumour.primary_site" not in s.texts  # an enum is not stripped


ENGINE = Path(__file__).resolve().parents[2] / "src" / "nenguide" / "engine"


def test_fields_left_unread_are_not_read_by_the_engine() -> None:
    """The columns leave out the fields in ``UNREAD``: no engine module may name them (a
    step that starts reading the IHC markers must take them out of ``UNREAD`` first)."""
    for path in case_schema().unread:
        name = path.rsplit(".", 1)[-1]
        readers = [m.name for m in ENGINE.glob("*.py") if name in m.read_text(encoding="utf-8")]
        assert not readers, (path, readers)


def test_every_vignette_reads_as_the_model_holds_it() -> None:
    counts = _check(vignette_lines())
    # most vignettes are strict JSON already; the rest keep the per-case path
    assert counts["compared"] >= counts["lines"] // 2, counts


def test_generated_cases_read_as_the_model_holds_them() -> None:
    lines = [case_line(g.case) for g in generate(3000, seed=11)]
    counts = _check(lines)
    assert counts["not_strict"] == 0, counts  # the generator writes the model's own types
    assert counts["compared"] >= 0.8 * counts["lines"], counts  # ranges keep the per-case path


def test_a_padded_text_is_flagged() -> None:
    raw = next(iter(generate(1, seed=3))).case
    lines = [case_line({**raw, "case_id": cid}) for cid in ("c-1", " c-1", "c-1\t", "c 1")]
    table = read_lines(lines)
    assert flagged_rows(_frame(table)).to_list() == [False, True, True, False]


def test_a_date_as_unix_time_and_a_gene_beyond_ascii_are_flagged() -> None:
    """Strict mode takes a Unix time as text for a date ("1704412800" is 2024-01-05), which
    the columns would hold as written; a relative's gene beyond ASCII is upper-cased by the
    reshaping. Both rows keep the per-case path."""
    raw = next(iter(generate(1, seed=3))).case
    ct = {"kind": "ct", "date": "2024-01-05"}
    relative = {"relation": "first_degree", "pathogenic_variant_gene": "MEN1"}
    lines = [
        case_line({**raw, "clinical": {"investigations": [ct]}}),
        case_line({**raw, "clinical": {"investigations": [{**ct, "date": "1704412800"}]}}),
        case_line({**raw, "clinical": {"resection": {"performed": True, "date": "-86400"}}}),
        case_line({**raw, "clinical": {"family_history": [relative]}}),
        case_line(
            {**raw, "clinical": {"family_history": [{**relative, "pathogenic_variant_gene": "ç"}]}}
        ),
    ]
    assert all(strict_case(line) is not None for line in lines)
    assert flagged_rows(_frame(read_lines(lines))).to_list() == [False, True, True, False, True]


def test_a_case_with_a_range_keeps_the_per_case_path() -> None:
    raw = next(iter(generate(1, seed=3))).case
    raw = {**raw, "pathology": {**raw.get("pathology", {}), "ki67_range": "10-20"}}
    raw["pathology"].pop("ki67_percent", None)
    case = strict_case(case_line(raw))
    assert case is not None and case.pathology.ki67_range is not None
    assert not arrow_ready(case)


def test_lax_only_lines_are_not_strict() -> None:
    raw = next(iter(generate(1, seed=3))).case
    for flag in ("false", 0):  # a yes/no as text or a number: lax only
        pathology = {**raw.get("pathology", {}), "minen_diagnosed": flag}
        varied = {**raw, "pathology": pathology}
        assert Case.model_validate_json(case_line(varied)) is not None  # valid (lax)
        assert strict_case(case_line(varied)) is None  # but coerced: the per-case path


def test_a_line_that_does_not_fit_the_schema_raises() -> None:
    s = case_schema()
    with pytest.raises(pa.ArrowInvalid):
        read_lines(['{"patient": {"age_years": 1e30}}'], s)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(varied_line(), min_size=1, max_size=8))
def test_varied_lines_read_as_the_model_holds_them_or_are_flagged(lines: list[str]) -> None:
    counts = _check(lines)
    assert counts["compared"] + counts["padded"] + counts["per_case"] + counts["not_strict"] == len(
        lines
    )


def test_list_items_name_each_item_by_row_and_position() -> None:
    """A list column's items a row each, with the case's row and the item's position in its
    list: a null or empty list gives no row, and a null item none either while the items after
    it keep their positions (worked out from the lists' lengths since session 22)."""
    item = pl.Struct({"a": pl.Int64()})
    cases = pl.DataFrame(
        {"x": [None, [], [{"a": 1}, None, {"a": 3}], [{"a": 4}], [], [{"a": 5}, {"a": 6}]]},
        schema={"x": pl.List(item)},
    )
    got = list_items(cases, pl.col("x"))
    assert got.columns == ["_row", "a", "_pos"]
    assert got.rows() == [(2, 1, 0), (2, 3, 2), (3, 4, 0), (5, 5, 0), (5, 6, 1)]
