"""The case form: every field of the case model is on it, a case survives the round trip
through the form, and validation speaks the page language with "did you mean"."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from nenguide import load_knowledge
from nenguide.cli import demo_cases
from nenguide.engine.kb import Knowledge
from nenguide.model.case import Case
from nenguide.report import svg
from nenguide.report.texts import Texts
from nenguide.web import caseform


@pytest.fixture(scope="module")
def kb() -> Knowledge:
    return load_knowledge("csco-2021")


def _leaf_paths(node: dict[str, Any], prefix: str = "") -> set[str]:
    n = caseform._resolve(node)
    props = n.get("properties")
    if not props:
        return {prefix}
    out: set[str] = set()
    for k, sub in props.items():
        if k == "schema_version":
            continue
        s = caseform._resolve(sub)
        path = f"{prefix}.{k}" if prefix else k
        if s.get("type") == "array" and caseform._resolve(s.get("items", {})).get("properties"):
            out |= _leaf_paths(s["items"], path)
        else:
            out |= _leaf_paths(sub, path)
    return out


def _form_paths(fields: list[caseform.Field]) -> set[str]:
    out: set[str] = set()
    for f in fields:
        if f.kind in ("object",):
            out |= _form_paths(f.children)
        elif f.kind in ("rows",):
            out |= {re.sub(r"\.\d+", "", c.path) for row in f.rows for c in row} | {
                re.sub(r"\.\d+", "", p) for row in f.rows for p in _form_paths(row)
            }
        else:
            out.add(re.sub(r"\.\d+", "", f.path))
    return out


def test_every_case_field_is_on_the_form(kb: Knowledge) -> None:
    secs = caseform.sections(Texts("en", kb.catalog), {}, kb.analytes)
    on_form = _form_paths([f for s in secs for f in s.fields])
    missing = sorted(p for p in _leaf_paths(Case.model_json_schema()) if p not in on_form)
    assert missing == []


@pytest.mark.parametrize("name", sorted(demo_cases()))
@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_demo_cases_survive_the_form(kb: Knowledge, name: str, lang: str) -> None:
    data = yaml.safe_load(demo_cases()[name].read_text("utf-8"))
    tx = Texts(lang, kb.catalog)
    back = caseform.unflatten(caseform.flatten(data), tx, kb.analytes)
    assert Case.model_validate(back) == Case.model_validate(data)
    # and the form shows every value (nothing typed is lost on re-display)
    secs = caseform.sections(tx, caseform.flatten(data), kb.analytes)
    assert secs[1].fields[0].children  # pathology


def test_not_recorded_is_not_no(kb: Knowledge) -> None:
    tx = Texts("en", kb.catalog)
    data = caseform.unflatten(
        {
            "tumour.primary_site": ["rectum"],
            "clinical.symptoms.flushing": [""],
            "clinical.symptoms.weight_loss": ["no"],
        },
        tx,
        kb.analytes,
    )
    assert data["clinical"]["symptoms"] == {"weight_loss": False}
    assert "prior_therapies" not in data["clinical"]  # unknown, not "none"
    none = caseform.unflatten(
        {"tumour.primary_site": ["rectum"], "_none.clinical.prior_therapies": ["yes"]},
        tx,
        kb.analytes,
    )
    assert none["clinical"]["prior_therapies"] == []


@pytest.mark.parametrize(
    ("lang", "number", "suggestion"),
    [
        ("en", "Enter a number.", "Did you mean “Pancreas (pancreas)”?"),
        ("zh-CN", "请输入数字。", "您是否要输入“胰腺 (pancreas)”？"),
    ],
)
def test_errors_in_the_page_language(
    kb: Knowledge, lang: str, number: str, suggestion: str
) -> None:
    tx = Texts(lang, kb.catalog)
    values = {
        "tumour.primary_site": ["pancraes"],
        "pathology.ki67_percent": ["abc"],
        "patient.age_years": ["58"],
    }
    checked = caseform.validate(caseform.unflatten(values, tx, kb.analytes), tx, kb.analytes)
    assert checked.case is None
    assert checked.errors["pathology.ki67_percent"].text == number
    assert checked.errors["pathology.ki67_percent"].received == "abc"
    msg = checked.errors["tumour.primary_site"]
    assert tx.t("case.did_you_mean", suggestion=msg.suggestion) == suggestion
    secs = caseform.sections(tx, values, kb.analytes)
    assert caseform.attach_errors(secs, checked.errors) == 2
    assert {s.id: s.errors for s in secs if s.errors} == {"pathology": 1, "tumour": 1}


def test_labels_typed_in_either_language_are_read(kb: Knowledge) -> None:
    tx = Texts("zh-CN", kb.catalog)
    data = caseform.unflatten(
        {"tumour.primary_site": ["胰腺"], "pathology.ki67_percent": ["８,５"]}, tx, kb.analytes
    )
    assert data["tumour"]["primary_site"] == "pancreas"
    assert data["pathology"]["ki67_percent"] == 8.5


def test_lab_analyte_typo_gets_a_suggestion(kb: Knowledge) -> None:
    tx = Texts("en", kb.catalog)
    values = {
        "tumour.primary_site": ["duodenum"],
        "clinical.labs.0.analyte": ["gastrn"],
        "clinical.labs.0.value": ["300"],
        "clinical.labs.0.unit": ["pg/mL"],
    }
    checked = caseform.validate(caseform.unflatten(values, tx, kb.analytes), tx, kb.analytes)
    err = checked.errors["clinical.labs.0.analyte"]
    assert err.suggestion is not None and "gastrin" in err.suggestion


def test_lab_errors_in_chinese(kb: Knowledge) -> None:
    """Lab-catalogue errors read in the page language, with what is allowed (issue 9)."""
    tx = Texts("zh-CN", kb.catalog)
    values = {
        "tumour.primary_site": ["duodenum"],
        "clinical.labs.0.analyte": ["gastrin"],
        "clinical.labs.0.value": ["300"],
        "clinical.labs.0.unit": ["kg"],
    }
    checked = caseform.validate(caseform.unflatten(values, tx, kb.analytes), tx, kb.analytes)
    err = checked.errors["clinical.labs.0.unit"]
    assert err.text == "“kg”不是空腹血清胃泌素的单位。"
    assert err.allowed and err.allowed.startswith("可换算为pg/mL的UCUM单位")
    assert err.received == "kg"


def test_timeline_coordinates() -> None:
    visits = [
        {"due": f"{2027 + i // 2}-{'01' if i % 2 == 0 else '07'}-01", "exams": ["ct"]}
        for i in range(12)
    ]
    tl = svg.timeline(visits, "2026-12-04", "2027-03-01", lifelong=True)
    xs = [m.x for m in tl["marks"]]
    assert xs == sorted(xs) and all(svg.LEFT <= x <= svg.RIGHT for x in xs)
    assert len(tl["marks"]) == 10  # the visits within five years
    assert [m.kind for m in tl["marks"][:2]] == ["overdue", "open"]
    assert [label for _, label in tl["ticks"]] == [str(y) for y in range(2026, 2032)]
    assert tl["today"] is not None and tl["lifelong"]


def test_a_value_is_shown_for_editing_as_written() -> None:
    """The form wrote floats with six significant digits, so editing a case rounded them
    (1234567 -> 1.23457e+06; a review, session 24): they read back as written."""
    flat = caseform.flatten(
        {"tumour": {"size_cm": 3.0}, "clinical": {"labs": [{"value": 1234567.0}]},
         "pathology": {"ki67_percent": 2.25}}
    )  # fmt: skip
    assert flat["tumour.size_cm"] == ["3"]
    assert flat["clinical.labs.0.value"] == ["1234567"]
    assert flat["pathology.ki67_percent"] == ["2.25"]
