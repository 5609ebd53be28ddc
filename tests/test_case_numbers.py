"""A number of the case is never a yes/no (a probe, session 24): pydantic's lax mode read
``true`` as 1 and ``false`` as 0, and YAML 1.1 reads ``yes``/``on``/``off`` as booleans, so a
Ki-67 index of ``true`` was graded G1 and a size of ``true`` staged T1b, silently. Every
number field refuses a boolean, naming the field and what is allowed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from nenguide.errors import CaseInputError, parse_case, parse_case_text

BASE: dict[str, Any] = {
    "patient": {"age_years": 60, "ecog": 1},
    "tumour": {"primary_site": "ileum", "size_cm": 2.0, "number_of_tumours": 1},
    "regional_nodes": {"examined": 12, "positive": 1, "mesenteric_mass_cm": 1.0},
    "metastases": {"status": "present", "liver": {"lesion_count": 3}},
    "pathology": {"differentiation": "well", "ki67_percent": 5, "mitoses_per_2mm2": 1},
    "clinical": {
        "labs": [{"analyte": "chromogranin_a", "value": 100, "unit": "ng/mL"}],
        "investigations": [{"kind": "sstr_pet", "positive": True, "krenning_score": 3}],
    },
}

#: every kind of number the case holds: floats, integers, and the bounds of a reported range
PATHS = [
    ("patient", "age_years"),
    ("patient", "ecog"),
    ("tumour", "size_cm"),
    ("tumour", "number_of_tumours"),
    ("regional_nodes", "examined"),
    ("regional_nodes", "positive"),
    ("regional_nodes", "mesenteric_mass_cm"),
    ("metastases", "liver", "lesion_count"),
    ("pathology", "ki67_percent"),
    ("pathology", "mitoses_per_2mm2"),
    ("clinical", "labs", 0, "value"),
    ("clinical", "investigations", 0, "krenning_score"),
]


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node: Any = out
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return out


def test_the_base_case_is_valid() -> None:
    parse_case(BASE)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: ".".join(map(str, p)))
@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_number_is_refused_with_its_field(path: tuple[Any, ...], value: bool) -> None:
    with pytest.raises(CaseInputError) as exc:
        parse_case(_set(BASE, path, value))
    where = ".".join(map(str, path))
    errors = {e.path: e for e in exc.value.errors}
    assert where in errors, list(errors)
    assert errors[where].allowed in ("a number", "a whole number")


def test_yaml_yes_and_on_are_not_numbers() -> None:
    text = "tumour: {primary_site: rectum, size_cm: 0.8}\npathology: {ki67_percent: yes}\n"
    with pytest.raises(CaseInputError) as exc:
        parse_case_text(text, "case.yaml")
    assert [e.path for e in exc.value.errors] == ["pathology.ki67_percent"]


@pytest.mark.parametrize("bound", ["gt", "ge", "lt", "le"])
def test_a_boolean_bound_of_a_range_is_refused(bound: str) -> None:
    data = _set(BASE, ("pathology",), {"differentiation": "well", "ki67_range": {bound: True}})
    with pytest.raises(CaseInputError) as exc:
        parse_case(data)
    assert f"pathology.ki67_range.{bound}" in {e.path for e in exc.value.errors}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("pathology", "ki67_range"), ">100"),
        (("pathology", "ki67_range"), {"lt": 0}),
        (("tumour", "size"), {"range": "<0", "unit": "cm"}),
        (("tumour", "size"), {"range": ">600", "unit": "mm"}),
        (("tumour", "number_of_tumours_range"), "<1"),
        (("pathology", "mitoses"), {"range": ">5000", "hpf": 10}),
    ],
)
def test_a_range_with_nothing_inside_the_limits_is_refused(
    path: tuple[str, ...], value: Any
) -> None:
    """A bound open at a field's limit leaves no value inside it: ``>100`` for Ki-67 was graded
    G3 and ``<0`` for a size staged T1a (a probe, session 24)."""
    data = copy.deepcopy(BASE)
    data["pathology"] = {"differentiation": "well", "ki67_percent": 5}
    data["tumour"] = {"primary_site": "ileum", "size_cm": 2.0}
    section = data[path[0]]
    for key in ("size_cm", "ki67_percent", "number_of_tumours"):
        if path[1].startswith(key.split("_")[0]) and key in section:
            del section[key]
    section[path[1]] = value
    with pytest.raises(CaseInputError) as exc:
        parse_case(data)
    assert any(e.code == "bounds_limits" for e in exc.value.errors), exc.value.errors


@pytest.mark.parametrize("text", [">=100", ">99", "<=1", "<1"])
def test_a_range_that_holds_a_value_inside_the_limits_is_kept(text: str) -> None:
    data = _set(BASE, ("pathology",), {"differentiation": "well", "ki67_range": text})
    parse_case(data)
