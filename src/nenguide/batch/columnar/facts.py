"""The core facts of a chunk of cases, read column by column (the core-only mode).

:func:`core_fact_frame` reads the fields the compiled core tables need straight from the
validated cases into one list per column, without a dict of facts per case: the same values as
the engine's reshaping (:func:`nenguide.engine.facts.derive` and
:func:`nenguide.engine.case_reported.reported_input`), which stay the reference. A case with a
reported form (a size in mm or as a range, a Ki-67 range, a mitotic count per fields, a count in
words, a layer not stated, a reported pT, a venous tumour thrombus) or with tumour components is
reshaped by those engine functions themselves and its values copied into the columns; the
differential test (tests/batch/test_columnar.py) checks both paths against the engine.

The fact tables of the ``precedence`` role (the node status) are evaluated by the compiled
program, over the frame (:meth:`nenguide.batch.columnar.core.CoreProgram.run`); the
``consistency`` tables too (a case they flag goes to the engine).

When the core tables read a fact this module does not read (a new input in a package), it
returns ``None`` and the caller reshapes every case with the engine
(:func:`nenguide.batch.columnar.backend.fact_frame`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from nenguide.batch.columnar.exprs import fits
from nenguide.engine import ranges
from nenguide.engine.case_reported import reported_input
from nenguide.engine.context import Context
from nenguide.engine.facts import (
    SITE_GROUP,
    THORACIC_REGIONAL,
    derive,
    extrathoracic_lesions_at_least,
)
from nenguide.model.case import Case, Extent, MetastasisStatus

if TYPE_CHECKING:
    from nenguide.batch.columnar.core import CoreProgram

_NONE, _PRESENT = MetastasisStatus.none, MetastasisStatus.present
_SITE_GROUP = {k.value: v for k, v in SITE_GROUP.items()}

#: the facts read here, in the order of the row tuple built per case
READ = (
    "primary_site", "site_group", "size_cm", "extent", "differentiation", "morphology",
    "ki67_percent", "mitoses_per_2mm2", "ki67_reported", "mitoses_reported", "necrosis",
    "minen_diagnosed", "ne_percent", "non_ne_percent",
    "declared_node_status", "nodes_positive", "nodes_examined", "mesenteric_mass_cm",
    "lung_node_station", "node_count_reported", "lung_node_station_reported",
    "met_status", "liver_mets", "extrahepatic_mets", "lung_m1a", "extrathoracic_organs",
    "extrathoracic_lesions", "liver_lesion_count", "liver_extent", "liver_resectability",
    "liver_diffuse", "listed_metastases", "venous_tumour_thrombus",
    "has_components", "staging_basis", "multiple_tumours", "lung_descriptor_rank",
    "has_conflicted", "_fallback",
)  # fmt: skip
_FLOAT = pl.Float64()
# (the enums are StrEnums: ``._value_`` is their text, read without the ``.value`` property)


def supported(prog: CoreProgram) -> bool:
    """Whether every fact the compiled core reads (besides what its precedence tables set) is
    read here."""
    return set(prog.inputs) - set(prog.precedence_outputs) <= set(READ)


def core_fact_frame(prog: CoreProgram, ctx: Context, cases: Sequence[Case]) -> pl.DataFrame | None:
    """One row per case, a column per fact the core reads (see the module docstring), and
    ``_fallback`` where a value does not fit its column; ``None`` if not :func:`supported`."""
    if not supported(prog):
        return None
    ranks = prog.descriptor_rank
    rows: list[tuple[Any, ...]] = []
    add = rows.append
    for c in cases:
        t, p = c.tumour, c.pathology
        if (
            t.size is not None
            or t.extent is Extent.within_wall
            or t.reported_pt is not None
            or t.venous_tumour_thrombus is not None
            or t.number_of_tumours_range is not None
            or p.ki67_range is not None
            or p.mitoses is not None
            or p.components
            or (
                c.metastases is not None
                and c.metastases.liver is not None
                and c.metastases.liver.lesion_count_range is not None
            )
            # some extrathoracic lesion count not given: a range of candidates (the engine's
            # reshaping; where it crosses the lung M table's cut-off, the engine decides)
            or extrathoracic_lesions_at_least(c) is not None
        ):
            add(_from_engine(prog, ctx, c))
            continue
        site = t.primary_site._value_
        ki, mi = p.ki67_percent, p.mitoses_per_2mm2
        dif, mor, nec = p.differentiation, p.morphology, p.necrosis
        nt = t.number_of_tumours
        ds = t.lung_descriptors
        fb = False
        if ds is None:
            drank = None
        else:
            vals = [d._value_ for d in ds]
            if all(v in ranks for v in vals):
                drank = max((ranks[v] for v in vals), default=-1)
            else:  # a descriptor the table does not decide: the engine says what is missing
                drank, fb = None, True
        row = (
            site, _SITE_GROUP[site], t.size_cm, t.extent._value_ if t.extent else None,
            dif._value_ if dif else None, mor._value_ if mor else None,
            ki, mi, ki is not None, mi is not None, nec._value_ if nec else None,
            p.minen_diagnosed is True, None, None,
            *_nodes(c), *_metastases(c), None,
            False, c.staging_basis._value_ if c.staging_basis else None,
            nt is not None and nt > 1, drank, False, fb,
        )  # fmt: skip
        add(row)
    schema = _schema(prog)
    columns = zip(*rows, strict=True) if rows else ([] for _ in schema)
    frame = pl.DataFrame(
        [pl.Series(k, col, dtype=d) for (k, d), col in zip(schema.items(), columns, strict=True)]
    )
    floats = [k for k, v in frame.schema.items() if v == _FLOAT and k in prog.inputs]
    bad = pl.any_horizontal([~pl.col(k).is_finite().fill_null(True) for k in floats])
    return frame.with_columns(
        _fallback=pl.col("_fallback") | bad,
        **{k: pl.when(pl.col(k).is_finite()).then(pl.col(k)) for k in floats},
    )


def _schema(prog: CoreProgram) -> dict[str, pl.DataType]:
    out: dict[str, pl.DataType] = {}
    for k in READ:
        if k in prog.inputs:
            out[k] = prog.inputs[k]
        elif k == "_fallback":
            out[k] = pl.Boolean()
        else:  # read for a precedence table: typed by that table's domain
            out[k] = prog.precedence_inputs.get(k, pl.Float64())
    return out


def _nodes(c: Case) -> tuple[Any, ...]:
    """As :func:`nenguide.engine.facts._nodes`."""
    n = c.regional_nodes
    if n is None:
        return (None, None, None, None, None, False, False)
    # "0 positive of 0 examined" says nothing about the nodes
    pos = None if n.positive == 0 and n.examined == 0 else n.positive
    st = n.lung_highest_station
    return (
        n.status._value_ if n.status else None, pos, n.examined, n.mesenteric_mass_cm,
        st._value_ if st else None, pos is not None, st is not None,
    )  # fmt: skip


def _metastases(c: Case) -> tuple[Any, ...]:
    """As :func:`nenguide.engine.facts._metastases`: met_status, liver_mets, extrahepatic_mets,
    lung_m1a, extrathoracic_organs, extrathoracic_lesions, the liver's lesion count, extent,
    resectability and diffuse, listed_metastases."""
    m = c.metastases
    if m is None:
        return (None, None, None, None, None, None, None, None, None, None, False)
    lv = m.liver
    extra = m.extrahepatic or ()
    listed = lv is not None or bool(extra)
    liver: tuple[Any, ...] = (None, None, None, None)
    if lv is not None:
        liver = (
            lv.lesion_count, lv.extent._value_ if lv.extent else None,
            lv.resectability._value_ if lv.resectability else None, lv.diffuse,
        )  # fmt: skip
    if m.status is _NONE:
        return (m.status._value_, False, False, False, 0, 0, *liver, listed)
    if m.status is not _PRESENT:
        return (m.status._value_, None, None, None, None, None, *liver, listed)
    # only an explicit [] means no extrahepatic disease (the liver listed, the rest not given:
    # unknown, M1 with the substage open)
    unknown_extra = m.extrahepatic is None and lv is not None
    organs = {e.site._value_ for e in extra if e.site not in THORACIC_REGIONAL}
    counts = [e.lesion_count for e in extra if e.site not in THORACIC_REGIONAL]
    at_least = 0
    if lv is not None:
        organs.add("liver")
        counts.append(lv.lesion_count)
        rng = lv.lesion_count_range
        if rng is not None and rng.low is not None:
            at_least = int(rng.low) + (1 if rng.gt is not None else 0)
    # every count given here (a case with a count not given reads the engine's reshaping)
    lesions = None if unknown_extra else sum(n for n in counts if n is not None) + at_least
    return (
        m.status._value_, lv is not None, None if unknown_extra else bool(extra),
        None if unknown_extra else any(e.site in THORACIC_REGIONAL for e in extra),
        None if unknown_extra else len(organs), lesions, *liver, listed,
    )  # fmt: skip


def _from_engine(prog: CoreProgram, ctx: Context, c: Case) -> tuple[Any, ...]:
    """The row of a case with reported forms or components, from the engine's reshaping."""
    f = {**derive(c), **reported_input(ctx, c)}
    fb = False
    ds = f.get("lung_descriptors")
    ranks = prog.descriptor_rank
    drank = None
    if ds is not None:
        if all(d in ranks for d in ds):
            drank = max((ranks[d] for d in ds), default=-1)
        else:
            fb = True
    # the report's T, a venous thrombus, a T input reported as a range: the engine's glue
    ranged = [f"{fact}_interval" for fact in ranges.T_INPUTS.values()]
    if f.get("reported_t") is not None or f.get("venous_tumour_thrombus") is not None:
        fb = True
    if any(f.get(r) for r in ranged):
        fb = True
    f.update(
        has_components=bool(c.pathology.components),
        staging_basis=c.staging_basis.value if c.staging_basis else None,
        multiple_tumours=f.get("multiple_primaries") is True,
        lung_descriptor_rank=drank,
        has_conflicted=False,
    )
    schema = _schema(prog)
    out: list[Any] = []
    for k in READ[:-1]:
        v = f.get(k)
        if v is not None and not fits(v, schema[k]):
            v, fb = None, True  # a set or range of candidates: the engine decides
        out.append(v)
    out.append(fb)
    return tuple(out)
