"""Reported forms of the case as facts: a size in mm or as a range, Ki-67 as a range, a mitotic
count per high-power fields, counts in words or bounds (also a lesion count known only as a lower
bound). Bookkeeping only (unit conversion, ranges as the candidate values of
:mod:`nenguide.engine.ranges`); called once per case by the fact layer. A value not given stays
unknown; an exact value given in the original field wins nothing here (the model allows only one
of the two forms).
"""

from __future__ import annotations

import math
from typing import Any

from nenguide.engine.context import Context
from nenguide.engine.facts import SITE_GROUP, extrathoracic_lesions_at_least
from nenguide.engine.logic import one_of
from nenguide.engine.ranges import Interval, cuts, interval, representatives
from nenguide.model.case import Case, Extent, normalise_reported_t
from nenguide.model.reported import Bounds, MitoticCount

STEP = "facts"
PARAM_HPF_AREA = "hpf_area_mm2"
PARAM_WALL_LAYERS = "wall_layers_not_stated"


def _iv(b: Bounds, minimum: float, maximum: float, minimum_incl: bool = True) -> Interval:
    return interval(
        b.gt, b.ge, b.lt, b.le, minimum=minimum, maximum=maximum, minimum_incl=minimum_incl
    )


def _ranged(
    ctx: Context, f: dict[str, Any], fact: str, iv: Interval, text: str, *, integer: bool = False
) -> None:
    """``fact`` as the candidate values of ``iv``, with its interval and the reported text."""
    f[fact] = representatives(iv, cuts(ctx.kb, fact), integer=integer)
    f[f"{fact}_interval"] = iv.notation()
    f[f"{fact}_text"] = text


def reported_input(ctx: Context, case: Case) -> dict[str, Any]:
    """The facts of the reported forms (only those the case gives)."""
    f: dict[str, Any] = {}
    t, p = case.tumour, case.pathology
    if t.size is not None:
        factor = 0.1 if t.size.unit == "mm" else 1.0
        if t.size.value is not None:
            f["size_cm"] = round(t.size.value * factor, 6)
            f["size_cm_text"] = f"{t.size.value:g} {t.size.unit}"
        elif t.size.range is not None:
            iv = _iv(t.size.range, 0, 60 / factor, minimum_incl=False).scaled(factor)
            _ranged(ctx, f, "size_cm", iv, f"{t.size.range.text()} {t.size.unit}")
    _extent(ctx, case, f)
    if p.ki67_range is not None:
        _ranged(ctx, f, "ki67_percent", _iv(p.ki67_range, 0, 100), f"{p.ki67_range.text()} %")
        f["ki67_reported"] = True
    if p.mitoses is not None:
        _mitoses(ctx, f, p.mitoses)
    if t.number_of_tumours_range is not None:
        b = t.number_of_tumours_range
        _ranged(ctx, f, "number_of_tumours", _iv(b, 1, 100), b.text(), integer=True)
    n = f.get("number_of_tumours", t.number_of_tumours)
    if n is None:
        f["multiple_primaries"] = None
    elif isinstance(n, int):
        f["multiple_primaries"] = n > 1
    else:
        lows = {v > 1 for v in n.values}
        f["multiple_primaries"] = lows.pop() if len(lows) == 1 else None
    liver = case.metastases.liver if case.metastases is not None else None
    if liver is not None and liver.lesion_count_range is not None:
        b = liver.lesion_count_range
        _ranged(ctx, f, "liver_lesion_count", _iv(b, 1, 1000), b.text(), integer=True)
    low = extrathoracic_lesions_at_least(case)
    if low is not None:  # some count not given: at least the lesions counted so far
        iv = Interval(low, True, 1000, True)
        _ranged(ctx, f, "extrathoracic_lesions", iv, f"≥{low}", integer=True)
    if f:
        ctx.note(STEP, None, f, ["reported forms: unit converted, ranges as candidate values"])
    return f


def _extent(ctx: Context, case: Case, f: dict[str, Any]) -> None:
    """Extent as reported: 'within the wall, layer not stated' as the candidate layers of the
    site (parameter wall_layers_not_stated), a reported pT as its T category, a venous tumour
    thrombus as given."""
    t = case.tumour
    if t.extent is Extent.within_wall:
        layers: dict[str, list[str]] = ctx.kb.parameters[PARAM_WALL_LAYERS]
        group = SITE_GROUP[t.primary_site]
        f["extent"] = one_of(layers.get(group, layers["default"]))
        f["extent_text"] = Extent.within_wall.value
    if t.reported_pt is not None:
        f["reported_t"] = normalise_reported_t(t.reported_pt)
        f["reported_t_text"] = t.reported_pt
    if t.venous_tumour_thrombus is not None:
        f["venous_tumour_thrombus"] = t.venous_tumour_thrombus


def _mitoses(ctx: Context, f: dict[str, Any], m: MitoticCount) -> None:
    """Mitoses per 2 mm² from a count per fields or per area (count x 2 / area counted)."""
    assumed = False
    if m.area_mm2 is not None:
        area = m.area_mm2
        field_area = None
    else:
        if m.field_area_mm2 is not None:
            field_area = m.field_area_mm2
        elif m.field_diameter_mm is not None:
            field_area = math.pi * (m.field_diameter_mm / 2) ** 2
        else:
            field_area = float(ctx.kb.parameters[PARAM_HPF_AREA])
            assumed = True
        area = (m.hpf or 1) * field_area
    factor = 2.0 / area
    per = f"{m.hpf} HPF" if m.hpf is not None else f"{m.area_mm2:g} mm²"
    if m.count is not None:
        value = round(m.count * factor, 4)
        f["mitoses_per_2mm2"] = value
        text = f"{m.count:g}/{per}"  # the pathologists' notation, in any language
    else:
        assert m.range is not None
        iv = _iv(m.range, 0, 5000).scaled(factor)
        text = f"{m.range.text()}/{per}"
        _ranged(ctx, f, "mitoses_per_2mm2", iv, text)
        value = None
    f["mitoses_per_2mm2_text"] = text
    f["mitoses_reported"] = True
    ctx.note(
        STEP,
        f["mitoses_per_2mm2"],
        {
            "field": "pathology.mitoses",
            "reported": text,
            "hpf": m.hpf,
            "area_mm2": m.area_mm2,
            "field_area_mm2": None if field_area is None else round(field_area, 4),
            "field_area_source": (
                f"parameter {PARAM_HPF_AREA} (assumed)"
                if assumed
                else "pathology.mitoses.field_diameter_mm"
                if m.field_diameter_mm is not None
                else "pathology.mitoses.field_area_mm2"
                if m.field_area_mm2 is not None
                else None
            ),
            "area_counted_mm2": round(area, 4),
        },
        ["mitoses per 2 mm² = count x 2 / area counted (fields x field area)"],
    )
    if assumed:
        ctx.issue(
            "MITOSES_FIELD_AREA_ASSUMED",
            STEP,
            ["pathology.mitoses.field_area_mm2", "pathology.mitoses.field_diameter_mm"],
            reported=text,
            per_2mm2=value if value is not None else f.get("mitoses_per_2mm2_interval"),
            field_area_mm2=field_area,
        )
