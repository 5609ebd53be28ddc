"""The hereditary trigger table's masks over a chunk's columns: what
:meth:`.hereditary.HereditaryProgram.masks_of` works out from each case's values of the
table's inputs (the view :data:`nenguide.engine.hereditary.SOURCES`), made from phase 1 and
phase 2's columns instead - per case, the rows that apply and the rows that wait on a missing
input, and whether the engine must read the case (a value no column holds).

A number is read as the mask of the band it falls in between the table's own cut-offs, and a
count left open (phase 2's ``<fact>_mask``, the MEN1 count while the history is incomplete) as
the mask of the bands of its candidates, as the program reads a range of candidates.

tests/batch/test_case_hereditary.py holds it to the program's own masks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from nenguide.batch.columnar.hereditary import HereditaryProgram
from nenguide.batch.columnar.plan import ENGINE, band_of
from nenguide.engine.hereditary import SOURCES

_ZERO = pl.lit(0, pl.Int64())


def _band_mask(col: pl.Expr, cuts: list[float]) -> pl.Expr:
    """``1 << band_of(cuts, v)`` of each number (null: unknown): the band is twice the cuts
    below the value, plus one on a cut."""
    below = pl.sum_horizontal([(col > c).cast(pl.Int64()) for c in cuts]) if cuts else _ZERO
    band = below * 2 + (col.is_in(cuts).cast(pl.Int64()) if cuts else _ZERO)
    return pl.when(col.is_null()).then(None).otherwise(pl.lit(2, pl.Int64()).pow(band))


def trigger_masks(
    facts: pl.DataFrame, masks: Mapping[str, Mapping[Any, int]], prog: HereditaryProgram
) -> pl.DataFrame:
    """``applies``, ``waiting`` and ``fallback`` of each case of ``facts`` (phase 1 and phase
    2's columns); ``masks``: phase 2's bits of the facts it can leave open
    (:attr:`.case_pathway.PathwayColumns.masks`)."""
    n = facts.height
    if not prog.usable:  # more rows than a mask holds: the engine reads every case
        return pl.DataFrame({"applies": [0] * n, "waiting": [0] * n, "fallback": [True] * n})
    source = dict(SOURCES)
    schema = facts.schema  # made once: each call builds it anew (a few hundred columns)
    cols: list[pl.Expr] = []
    misfit: list[pl.Expr] = []
    for name, dtype in prog.dtypes:
        fact = source.get(name, name)
        col = pl.col(fact) if fact in schema else pl.lit(None, dtype)
        if name in prog.bands:
            cuts = prog.bands[name]
            number = col.cast(pl.Float64(), strict=False)
            # a value that is no finite number: the engine reads the case (``fits``)
            misfit.append(col.is_not_null() & ~number.is_finite().fill_null(False))
            value = _band_mask(number, cuts)
            bits = masks.get(fact)
            if bits is not None and f"{fact}_mask" in schema:
                # a count left open: the bands of its candidates
                open_ = pl.col(f"{fact}_mask")
                candidates = [
                    pl.when((open_ & pl.lit(1 << b, pl.Int64())) != 0)
                    .then(pl.lit(1 << band_of(cuts, float(v)), pl.Int64()))
                    .otherwise(_ZERO)
                    for v, b in bits.items()
                ]
                either = candidates[0]
                for c in candidates[1:]:
                    either = either | c
                value = pl.when(col.is_null() & open_.is_not_null()).then(either).otherwise(value)
            cols.append(value.alias(name))
            continue
        cast = col.cast(dtype, strict=False)
        if fact in schema and schema[fact] != dtype:
            misfit.append((col.is_not_null() & cast.is_null()).fill_null(False))
        cols.append(cast.alias(name))
    fallback = pl.any_horizontal(misfit) if misfit else pl.lit(False)
    return (
        facts.lazy()
        .select(*cols, fallback.alias("fallback"))
        .select(*prog.masks, "fallback")
        .collect(engine=ENGINE)
    )
