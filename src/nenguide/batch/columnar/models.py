"""The core steps' models of the columnar backend's rows, made once and shared.

The compiled core program gives each case's classification, stage and liver type as flat
columns; the later steps read them as the engine's models. A cohort has few distinct ones, so
each is made once per distinct set of its columns and shared (frozen throughout:
:func:`~nenguide.engine.assess.frozen_model`), as the engine's memo shares its step outputs, and
a row's three are looked up once by its core columns (:meth:`Models.of_row`).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import Any, TypeVar

from nenguide.engine.assess import frozen_model
from nenguide.engine.context import MEMO_LIMIT
from nenguide.model.assessment import Classification, LiverMetastasis, Stage, Status

_M = TypeVar("_M", Classification, Stage, LiverMetastasis)

#: the core columns each step's model is rebuilt from: ``<prefix>_<field>`` (and its status)
CLASSIFICATION = ("category", "grade", "nec_subtype", "system", "grade_by_ki67",
                   "grade_by_mitoses", "grade_discordant")  # fmt: skip
STAGE = ("system", "prefix", "t", "n", "m", "group", "t_suffix", "reason")
LIVER = ("type",)


def from_row(model: type[_M], prefix: str, fields: tuple[str, ...], r: Mapping[str, Any]) -> _M:
    """The step's model from its flat core columns."""
    return model(status=Status(r[f"{prefix}_status"]), **{k: r[f"{prefix}_{k}"] for k in fields})


class Models:
    """The core steps' models of a row, each made once per distinct set of its columns and
    then shared (frozen throughout: :func:`frozen_model`), as the engine's memo shares its
    step outputs; a cohort has few distinct classifications, stages and liver types."""

    def __init__(self) -> None:
        self._made: dict[tuple[Any, ...], Any] = {}
        self._rows: dict[tuple[Any, ...], tuple[Classification, Stage, LiverMetastasis]] = {}
        self._columns = {
            prefix: tuple(f"{prefix}_{k}" for k in ("status", *fields))
            for prefix, fields in (
                ("classification", CLASSIFICATION),
                ("stage", STAGE),
                ("liver_metastasis", LIVER),
            )
        }
        #: the core columns the three models are made from, in the order :meth:`of_row` reads
        self.columns = tuple(chain.from_iterable(self._columns.values()))

    def of_row(self, vals: tuple[Any, ...]) -> tuple[Classification, Stage, LiverMetastasis]:
        """The three models of a row whose :attr:`columns` hold ``vals``: one look-up a row
        (each model still made once per distinct set of its own columns, :meth:`get`)."""
        hit = self._rows.get(vals)
        if hit is None:
            r = dict(zip(self.columns, vals, strict=True))
            hit = (
                self.get(Classification, "classification", CLASSIFICATION, r),
                self.get(Stage, "stage", STAGE, r),
                self.get(LiverMetastasis, "liver_metastasis", LIVER, r),
            )
            if len(self._rows) > MEMO_LIMIT:
                self._rows.clear()
            self._rows[vals] = hit
        return hit

    def get(
        self, model: type[_M], prefix: str, fields: tuple[str, ...], r: Mapping[str, Any]
    ) -> _M:
        key = (prefix, *map(r.__getitem__, self._columns[prefix]))
        hit = self._made.get(key)
        if hit is None:
            if len(self._made) > MEMO_LIMIT:
                self._made.clear()
            hit = self._made[key] = frozen_model(from_row(model, prefix, fields, r))
        return hit
