"""The fact layer's phase 1 as columns: the reshaping of :mod:`.case_derive`,
:mod:`.case_clinical`, :mod:`.case_germline`, :mod:`.case_reported`, :mod:`.case_labs`,
:mod:`.case_relatives` and :mod:`.case_done` put together in the order
:func:`nenguide.engine.fact_layer.case_facts` applies them (a later part's fact replaces an
earlier one's of the same name), then the fact tables over those columns (:mod:`.case_tables`:
precedence, consistency, the ``case`` list), with one per-case flag for every reason a case
needs the per-case path (docs/decisions/0004-speed-targets-need-a-decision.md).

tests/batch/test_phase1.py holds the columns to ``case_facts`` on every case the columns read.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from nenguide.batch.columnar.case_arrow import flagged_rows
from nenguide.batch.columnar.case_clinical import clinical_columns
from nenguide.batch.columnar.case_derive import derived
from nenguide.batch.columnar.case_done import done_columns
from nenguide.batch.columnar.case_germline import germline_columns
from nenguide.batch.columnar.case_labs import lab_columns
from nenguide.batch.columnar.case_relatives import relative_columns
from nenguide.batch.columnar.case_reported import reported_columns
from nenguide.batch.columnar.case_tables import case_tables
from nenguide.batch.columnar.exprs import union_sorted
from nenguide.engine.kb import Knowledge


@dataclass(frozen=True)
class Phase1:
    """Phase 1 of a chunk, one row per case in order:

    ``facts`` (a column per fact; null where the engine makes none), ``lab_index`` (per
    analyte, the position of the result its facts came from), ``done`` (what was done, with
    dates), ``extra`` (what the steps read beside the facts), ``issues`` (the codes of the
    issues phase 1 raises, in the engine's order: the plausibility warnings of lab results,
    then the consistency tables'), ``unconfirmed`` (the unconfirmed rules the item, counting
    and fact tables read) and ``per_case`` (whether the case needs the per-case path, for any
    reason a part gives)."""

    facts: pl.DataFrame
    lab_index: pl.DataFrame
    done: pl.Series
    extra: pl.DataFrame
    issues: pl.Series
    unconfirmed: pl.Series
    per_case: pl.Series


def _merged(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The columns of ``frames`` side by side; a name given twice keeps the later column."""
    out: dict[str, pl.Series] = {}
    for frame in frames:
        for column in frame.get_columns():
            out.pop(column.name, None)
            out[column.name] = column
    return pl.DataFrame(list(out.values()))


def phase1(table: pa.Table, kb: Knowledge) -> Phase1:
    """Phase 1 of the cases of ``table``, read by
    :func:`.case_arrow.read_lines` from lines each :func:`.case_arrow.arrow_ready`."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    germline = germline_columns(frame, kb)
    reported = reported_columns(frame)
    labs = lab_columns(frame, kb.analytes)
    relatives = relative_columns(frame, kb)
    done = done_columns(frame, kb)
    facts = _merged(
        [
            derived(frame),
            clinical_columns(frame),
            germline.facts,
            reported.facts,
            labs.facts,
            relatives.facts,
        ]
    )
    tables = case_tables(facts, kb)
    issues = pl.DataFrame([labs.issues.alias("labs"), tables.issues.alias("tables")]).select(
        pl.concat_list(pl.all()).alias("issues")
    )
    unconfirmed = union_sorted(
        pl.DataFrame(
            [
                germline.unconfirmed.alias("germline"),
                relatives.unconfirmed.alias("relatives"),
                done.unconfirmed.alias("done"),
                tables.unconfirmed.alias("tables"),
            ]
        ),
        "unconfirmed",
    )
    per_case = (flagged_rows(frame) | reported.per_case | labs.per_case | relatives.per_case).alias(
        "per_case"
    )
    return Phase1(
        tables.facts,
        labs.index,
        done.done,
        germline.extra,
        issues.to_series(),
        unconfirmed,
        per_case,
    )
