"""What an open grade asks for (engine/context.py grade_fields), the same in work-up, treatment
and follow-up: only an index that could still change the grade, never one already given; the
differentiation when no index value could change it (the category is what is open)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nenguide import assess
from nenguide.engine.context import CATEGORY_FIELDS, GRADE_FIELDS, Context, grade_fields
from nenguide.engine.kb import Knowledge
from nenguide.errors import parse_case
from nenguide.model.assessment import Classification, Status

KI67, MITOSES = GRADE_FIELDS


def _cls(**kw: Any) -> Classification:
    return Classification(status=Status.INSUFFICIENT_DATA, **kw)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, GRADE_FIELDS),  # neither index gave a grade: either could settle it
        ({"grade_by_ki67": "G2"}, (MITOSES,)),  # mitoses could still make it G3
        ({"grade_by_mitoses": "G1"}, (KI67,)),  # the Ki-67 could raise it
        ({"grade_by_ki67": "G3"}, CATEGORY_FIELDS),  # G3 whatever the mitoses
        ({"grade_by_mitoses": "G3"}, CATEGORY_FIELDS),
        ({"grade_by_ki67": "G2", "grade_by_mitoses": "G2"}, CATEGORY_FIELDS),
    ],
)
def test_grade_fields(kb: Knowledge, kw: dict[str, Any], expected: tuple[str, ...]) -> None:
    ctx = Context(kb, "en")
    assert grade_fields(ctx, "workup", _cls(**kw)) == expected
    if len(kw) == 1:  # the combine table was read, and traced
        assert any(t["step"] == "workup" for t in ctx.trace)


def test_a_decided_grade_reads_nothing(kb: Knowledge) -> None:
    ctx = Context(kb, "en")
    cls = Classification(status=Status.DETERMINED, grade="G2", grade_by_ki67="G2")
    assert grade_fields(ctx, "workup", cls) == GRADE_FIELDS and ctx.trace == []


def test_steps_never_ask_for_the_index_already_given(kb: Knowledge) -> None:
    """Ki-67 12 % (G2), mitoses reported as 15-30 per 2 mm² (G2 or G3): every issue that waits
    on the grade names the mitoses, none names the Ki-67. Before: both, in work-up and
    treatment."""
    case = parse_case(
        {
            "tumour": {"primary_site": "pancreas", "size_cm": 3, "extent": "confined_to_pancreas"},
            "regional_nodes": {"status": "negative"},
            "metastases": {"status": "present", "liver": {"lesion_count": 3}},
            "pathology": {
                "differentiation": "well",
                "ki67_percent": 12,
                "mitoses": {"range": {"ge": 15, "le": 30}, "area_mm2": 2},
            },
            "patient": {"ecog": 1},
        }
    )
    a = assess(case, kb, as_of=dt.date(2026, 11, 23))
    steps = {i["step"] for i in a.issues if MITOSES in i["fields"]}
    assert {"workup", "treatment"} <= steps
    assert not [i["code"] for i in a.issues if KI67 in i["fields"]]
