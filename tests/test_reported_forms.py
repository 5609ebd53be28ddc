"""Values as reports state them (issue 8 §2): ranges and bounds, sizes with a unit, mitoses per
HPF, counts in words, censored and qualitative lab results. Validation errors name the field in
en and zh-CN; a range is evaluated over all of it (engine/ranges.py)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

import nenguide
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.ranges import Interval, cuts, holds, representatives
from nenguide.errors import CaseInputError, parse_case

AS_OF = dt.date(2026, 11, 23)
BASE: dict[str, Any] = {
    "tumour": {"primary_site": "pancreas", "extent": "confined_to_pancreas", "size_cm": 1.5},
    "regional_nodes": {"status": "negative"},
    "metastases": {"status": "none"},
    "pathology": {"differentiation": "well"},
    "staging_basis": "pathological",
}


def _case(**parts: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(BASE)
    for k, v in parts.items():
        d.setdefault(k, {})
        d[k].update(v)
    return d


def _assess(kb: Knowledge, data: dict[str, Any]) -> dict[str, Any]:
    return nenguide.assess(parse_case(data), kb, as_of=AS_OF).model_dump(mode="json")


def _error(data: dict[str, Any]) -> CaseInputError:
    with pytest.raises(CaseInputError) as exc:
        parse_case(data)
    return exc.value


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "path", "code"),
    [
        ({"pathology": {"ki67_range": "about ten"}}, "pathology.ki67_range", "bounds_text"),
        ({"pathology": {"ki67_range": "<200"}}, "pathology.ki67_range", "bounds_limits"),
        ({"pathology": {"ki67_range": {"gt": 5, "lt": 3}}}, "pathology.ki67_range", "bounds_order"),
        ({"pathology": {"ki67_range": {"gt": 5, "ge": 3}}}, "pathology.ki67_range", "bounds_empty"),
        ({"pathology": {"ki67_range": 12}}, "pathology.ki67_range", "bounds_text"),
        (
            {"pathology": {"ki67_percent": 5, "ki67_range": "<2"}},
            "pathology.ki67_range",
            "invalid_combination",
        ),
        (
            {"tumour": {"size": {"value": 3, "range": "1-2", "unit": "cm"}}},
            "tumour.size",
            "value_or_range",
        ),
        ({"tumour": {"size": {"value": 3, "unit": "m"}}}, "tumour.size.unit", "literal_error"),
        ({"tumour": {"size": {"value": 700, "unit": "mm"}}}, "tumour.size", "bounds_limits"),
        ({"pathology": {"mitoses": {"count": 3}}}, "pathology.mitoses", "mitoses_basis"),
        (
            {"pathology": {"mitoses": {"count": 3, "area_mm2": 2, "field_diameter_mm": 0.5}}},
            "pathology.mitoses",
            "mitoses_field",
        ),
        (
            {"tumour": {"number_of_tumours_range": "a few"}},
            "tumour.number_of_tumours_range",
            "bounds_text",
        ),
        (
            {
                "clinical": {
                    "labs": [{"analyte": "gastrin", "value": 3, "interpretation": "elevated"}]
                }
            },
            "clinical.labs.0",
            "lab_form",
        ),
        (
            {"clinical": {"labs": [{"analyte": "gastrin", "value": 300}]}},
            "clinical.labs.0.unit",
            "invalid_combination",
        ),
        (
            {"clinical": {"labs": [{"analyte": "gastrin", "comparator": ">", "times_uln": 3}]}},
            "clinical.labs.0.comparator",
            "invalid_combination",
        ),
    ],
)
def test_bad_reported_forms_are_rejected_with_the_field(
    parts: dict[str, Any], path: str, code: str
) -> None:
    err = _error(_case(**parts))
    (fe,) = err.errors
    assert (fe.path, fe.code) == (path, code), fe.as_dict()
    zh = fe.localised("zh-CN")
    assert zh.message != fe.message and "该值无效" not in zh.message, zh.message


def test_range_text_forms() -> None:
    for text, low, high in [
        ("10-15", 10, 15),
        ("10–15 %", 10, 15),
        ("<2", None, 2),
        ("≤2", None, 2),
        (">90", 90, None),
        (">= 90%", 90, None),
    ]:
        c = parse_case(_case(pathology={"ki67_range": text}))
        r = c.pathology.ki67_range
        assert r is not None and (r.low, r.high) == (low, high), text


# --- the engine: ranges over the package's cut-offs -----------------------------------------


def test_representatives_one_value_per_band() -> None:
    iv = Interval(2, True, 5, True)
    v = representatives(iv, (3.0, 20.0))
    assert isinstance(v, OneOf) and set(v.values) == {2, 2.5, 3, 4, 5}
    assert representatives(Interval(10, True, 15, True), (3.0, 20.0)) == OneOf(
        frozenset({10, 12.5, 15})
    )
    ints = representatives(Interval(1, False, 100, True), (1.0,), integer=True)
    assert isinstance(ints, OneOf) and all(isinstance(x, int) and x > 1 for x in ints.values)


def test_comparison_over_an_interval() -> None:
    facts = {"size_cm": OneOf(frozenset({1.5, 2})), "size_cm_interval": "[1, 2]"}
    assert holds(facts, "size_cm", "le", 2) is True
    assert holds(facts, "size_cm", "lt", 2) is None
    assert holds(facts, "size_cm", "gt", 2) is False
    assert holds({"size_cm": 3.0}, "size_cm", "gt", 2) is True
    assert holds({}, "size_cm", "gt", 2) is None


def test_cut_offs_come_from_the_tables(kb: Knowledge) -> None:
    assert {3.0, 20.0} <= set(cuts(kb, "ki67_percent"))
    assert {2.0, 20.0} <= set(cuts(kb, "mitoses_per_2mm2"))


@pytest.mark.parametrize(
    ("text", "grade", "possible"),
    [("0-2.9", "G1", []), ("3-20", "G2", []), ("2-3", None, ["G1", "G2"]), (">20", "G3", [])],
)
def test_grade_over_a_ki67_range(kb: Knowledge, text: str, grade: str, possible: list[str]) -> None:
    a = _assess(kb, _case(pathology={"ki67_range": text}))
    assert a["classification"]["grade"] == grade
    assert a["classification"]["possible"] == ({"grade": possible} if possible else {})
    codes = [i["code"] for i in a["issues"]]
    assert ("RANGE_SPANS_CUTOFF" in codes) == bool(possible)


def test_mitoses_per_area_need_no_assumption(kb: Knowledge) -> None:
    a = _assess(kb, _case(pathology={"ki67_percent": 1, "mitoses": {"count": 10, "area_mm2": 10}}))
    assert a["classification"]["grade_by_mitoses"] == "G2"  # 10 per 10 mm² = 2 per 2 mm²
    assert "MITOSES_FIELD_AREA_ASSUMED" not in [i["code"] for i in a["issues"]]
    note = next(t for t in a["trace"] if t["inputs"].get("field") == "pathology.mitoses")
    assert note["result"] == 2.0 and note["inputs"]["area_counted_mm2"] == 10


def test_the_assumed_field_area_is_in_the_trace(kb: Knowledge) -> None:
    a = _assess(kb, _case(pathology={"ki67_percent": 1, "mitoses": {"count": 1, "hpf": 1}}))
    note = next(t for t in a["trace"] if t["inputs"].get("field") == "pathology.mitoses")
    assert note["inputs"]["field_area_mm2"] == kb.parameters["hpf_area_mm2"]
    assert "assumed" in note["inputs"]["field_area_source"]
    assert a["classification"]["grade_by_mitoses"] == "G2"  # 1 per 0.2 mm² = 10 per 2 mm²


def test_size_range_in_mm_gives_t_when_settled(kb: Knowledge) -> None:
    data = _case(tumour={"size_cm": None, "size": {"range": "5-9", "unit": "mm"}})
    del data["tumour"]["size_cm"]
    a = _assess(kb, data)
    assert a["stage"]["t"] == "T1" and a["stage"]["group"] == "I"


@pytest.mark.parametrize(
    ("lab", "status"),
    [
        ({"analyte": "glucagon", "interpretation": "elevated"}, "suspected"),
        ({"analyte": "glucagon", "interpretation": "normal"}, "excluded"),
        ({"analyte": "glucagon", "times_uln": 4}, "suspected"),
        (
            {
                "analyte": "glucagon",
                "value": 100,
                "comparator": "<",
                "unit": "pg/mL",
                "reference_high": 150,
            },
            "excluded",
        ),
    ],
)
def test_lab_results_without_an_exact_value(
    kb: Knowledge, lab: dict[str, Any], status: str
) -> None:
    a = _assess(
        kb,
        _case(
            clinical={"symptoms": {"necrolytic_migratory_erythema": False}, "labs": [lab]},
        ),
    )
    glu = next(s for s in a["functional_syndromes"] if s["syndrome"] == "glucagonoma")
    assert glu["status"] == status


@pytest.mark.parametrize("analyte", ["potassium", "cortisol", "cortisol_after_dst", "cea"])
def test_new_analytes_convert(kb: Knowledge, analyte: str) -> None:
    unit = kb.analytes.analytes[analyte].examples[-1]
    a = _assess(kb, _case(clinical={"labs": [{"analyte": analyte, "value": 1.2, "unit": unit}]}))
    assert not [i for i in a["issues"] if i["code"].startswith("LAB_") and i["kind"] == "conflict"]


def test_no_reported_form_crashes_the_engine(kb: Knowledge) -> None:
    forms = [
        {"tumour": {"number_of_tumours_range": ">10"}},
        {"metastases": {"status": "present", "liver": {"lesion_count_range": "2-5"}}},
        {"pathology": {"mitoses": {"range": "<2", "hpf": 50, "field_area_mm2": 0.24}}},
        {"pathology": {"ki67_range": ">90", "differentiation": "poor"}},
        {"tumour": {"size": {"range": ">4", "unit": "cm"}}},
    ]
    for parts in forms:
        data = _case(**parts)
        if "size" in data["tumour"]:
            del data["tumour"]["size_cm"]
        for lang in ("en", "zh-CN"):
            nenguide.assess(parse_case(data), kb, as_of=AS_OF, lang=lang).model_dump_json()
