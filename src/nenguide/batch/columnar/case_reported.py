"""The reported forms of a case, :func:`nenguide.engine.case_reported.reported_input`, as Polars
expressions over the case columns of :mod:`.case_arrow`: part of the second step of the
columnar fact layer (docs/decisions/0004-speed-targets-need-a-decision.md).

The columns hold what needs no range and no text made from a number:

* a reported pT as its T category: each distinct text of the chunk is read once by the
  model's own ``normalise_reported_t``;
* a venous tumour thrombus as given;
* multiple primaries, from the tumour count.

Everything else the engine reshapes into something a column cannot hold sends the case to the
per-case path (:attr:`ReportedColumns.per_case`):

* a size given with its unit, since the engine writes its text with Python's ``:g``;
* a mitotic count per fields or area, for the same reason and its field-area warning;
* an extent "within the wall, layer not stated", which is a set of candidate layers;
* metastases present with a lesion count not given, which is a range of candidates.

(Ranges as text or bounds never get here: :func:`.case_arrow.arrow_ready`.)
tests/batch/test_case_reported.py holds the columns to the engine's function.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from nenguide.batch.columnar.case_derive import extrathoracic_open
from nenguide.model.case import Extent, normalise_reported_t


@dataclass(frozen=True)
class ReportedColumns:
    """``facts``: ``reported_t``, ``reported_t_text``, ``venous_tumour_thrombus`` (null where
    the case gives none: the engine then makes no such fact) and ``multiple_primaries``;
    ``per_case``: per case, whether a reported form needs the per-case path."""

    facts: pl.DataFrame
    per_case: pl.Series


def _t(field: str) -> pl.Expr:
    return pl.col("tumour").struct.field(field)


def reported_columns(cases: pl.DataFrame) -> ReportedColumns:
    """The reported-form columns of the case columns ``cases`` (see :class:`ReportedColumns`)."""
    texts = cases.select(_t("reported_pt").drop_nulls().unique()).to_series().to_list()
    categories = {t: normalise_reported_t(t) for t in texts}
    pt = _t("reported_pt")
    tumours = _t("number_of_tumours")
    facts = cases.select(
        pt.replace_strict(categories, default=None, return_dtype=pl.String).alias("reported_t"),
        pt.alias("reported_t_text"),
        _t("venous_tumour_thrombus").alias("venous_tumour_thrombus"),
        pl.when(tumours.is_not_null()).then(tumours > 1).alias("multiple_primaries"),
    )
    mitoses = pl.col("pathology").struct.field("mitoses")
    per_case = cases.select(
        (
            _t("size").is_not_null()
            | mitoses.is_not_null()
            | (_t("extent") == Extent.within_wall.value).fill_null(False)
            | extrathoracic_open()
        ).alias("per_case")
    ).to_series()
    return ReportedColumns(facts, per_case)
