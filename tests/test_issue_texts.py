"""Issue texts name missing fields by their label, in the assessment's language (issue 9)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from nenguide.engine.assess import assess
from nenguide.knowledge import Knowledge
from nenguide.model.case import Case

# a case with much still unknown: most "needs data" issues fire
SPARSE = {
    "tumour": {"primary_site": "pancreas"},
    "pathology": {"differentiation": "well", "ki67_percent": 5},
}
GASTRIC = {
    "tumour": {"primary_site": "stomach", "size_cm": 0.8},
    "pathology": {"differentiation": "well", "ki67_percent": 1, "mitoses_per_2mm2": 1},
    "metastases": {"status": "present", "liver": {"lesion_count": 3}},
    "regional_nodes": {"status": "negative"},
}
AS_OF = dt.date(2026, 12, 1)
DOTTED = re.compile(r"\b[a-z_]+\.[a-z_]+")


def _needs(kb: Knowledge, data: dict[str, object], lang: str) -> list[tuple[str, str]]:
    a = assess(Case.model_validate(data), kb, lang=lang, as_of=AS_OF)
    return [(i["code"], i["message"]) for i in a.issues if i["kind"] == "insufficient_data"]


@pytest.mark.parametrize("data", [SPARSE, GASTRIC])
def test_chinese_issue_texts_name_no_field_path(kb: Knowledge, data: dict[str, object]) -> None:
    msgs = _needs(kb, data, "zh-CN")
    assert msgs
    bad = [(c, m) for c, m in msgs if DOTTED.search(m) or re.search(r"[a-z]+_[a-z_]+", m)]
    assert bad == []


def test_named_fields_read_as_labels(kb: Knowledge) -> None:
    zh = dict(_needs(kb, SPARSE, "zh-CN"))
    en = dict(_needs(kb, SPARSE, "en"))
    assert "肿瘤大小（cm）" in zh["FOLLOWUP_NEEDS_DATA"]
    assert (
        "Size (cm)" in en["FOLLOWUP_NEEDS_DATA"]
        and "tumour.size_cm" not in en["FOLLOWUP_NEEDS_DATA"]
    )
    assert "、" in zh["FOLLOWUP_NEEDS_DATA"]
    # the issue still lists the fields by path, for programs
    a = assess(Case.model_validate(SPARSE), kb, lang="zh-CN", as_of=AS_OF)
    fields = {f for i in a.issues for f in i["fields"]}
    assert "metastases.status" in fields


def test_withheld_option_names_the_sstr_imaging_in_chinese(kb: Knowledge) -> None:
    a = assess(
        Case.model_validate(
            {
                "tumour": {"primary_site": "ileum", "size_cm": 2},
                "pathology": {"differentiation": "well", "ki67_percent": 2},
                "metastases": {"status": "present", "liver": {"lesion_count": 5}},
                "clinical": {"symptoms": {"flushing": True, "secretory_diarrhoea": True}},
            }
        ),
        kb,
        lang="zh-CN",
        as_of=AS_OF,
    )
    msgs = [i["message"] for i in a.issues if i["code"] == "TX_NEEDS_DATA"]
    assert msgs and all("clinical." not in m for m in msgs)


def test_chinese_texts_quote_no_case_field_path(kb: Knowledge) -> None:
    """No Chinese text of the package writes a case field as its dotted path."""
    path = re.compile(
        r"(?<![A-Za-z0-9_.])(patient|tumour|pathology|regional_nodes|metastases|clinical)\.[a-z_]+"
    )
    bad = {k: v for k, v in kb.catalog.texts["zh-CN"].items() if path.search(v)}
    assert bad == {}
