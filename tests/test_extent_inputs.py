"""Extent as reports state it (issue 8 §2): 'within the wall, layer not stated', a reported pT
without its depth, a venous tumour thrombus. Bad input is refused with the field and what is
allowed, in English and Chinese; the engine's answers are in vignettes V520-V529."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

import nenguide
from nenguide.engine.kb import Knowledge
from nenguide.errors import CaseInputError, parse_case
from nenguide.model.case import normalise_reported_t

AS_OF = dt.date(2026, 11, 23)
BASE: dict[str, Any] = {
    "tumour": {"primary_site": "pancreas", "size_cm": 3},
    "regional_nodes": {"status": "negative"},
    "metastases": {"status": "none"},
    "pathology": {"differentiation": "well", "ki67_percent": 1},
    "staging_basis": "pathological",
}


def _case(**tumour: Any) -> dict[str, Any]:
    d = copy.deepcopy(BASE)
    d["tumour"].update(tumour)
    return d


@pytest.mark.parametrize(
    ("tumour", "code", "allowed"),
    [
        ({"reported_pt": "pT5"}, "reported_pt_for_site", "T1, T2, T3, T4"),
        ({"primary_site": "rectum", "reported_pt": "pT1"}, "reported_pt_for_site", "T1a, T1b"),
        ({"primary_site": "lung", "reported_pt": "pT2"}, "reported_pt_not_used", None),
        (
            {"primary_site": "ileum", "venous_tumour_thrombus": True},
            "venous_thrombus_pancreas",
            None,
        ),
        ({"extent": "within_wall"}, "extent_for_site", "large_vessel"),
    ],
)
def test_bad_extent_inputs_are_refused_with_the_field(
    tumour: dict[str, Any], code: str, allowed: str | None
) -> None:
    with pytest.raises(CaseInputError) as exc:
        parse_case(_case(**tumour))
    (fe,) = exc.value.errors
    assert fe.path.startswith("tumour."), fe.as_dict()
    assert fe.code == code, fe.as_dict()
    if allowed is not None:
        assert allowed in fe.message, fe.message
    zh = fe.localised("zh-CN")
    assert zh.message != fe.message and "该值无效" not in zh.message, zh.message


@pytest.mark.parametrize(
    ("text", "t"), [("pT2", "T2"), ("T3", "T3"), ("ypT1b", "T1b"), ("pt1A", "T1a"), ("cT4", "T4")]
)
def test_reported_pt_notation(text: str, t: str) -> None:
    assert normalise_reported_t(text) == t


def test_reported_pt_is_traced_as_taken_from_the_report(kb: Knowledge) -> None:
    out = nenguide.assess(parse_case(_case(reported_pt="pT2")), kb, as_of=AS_OF)
    data = out.model_dump(mode="json")
    assert data["stage"]["t"] == "T2"
    notes = [e for e in data["trace"] if e["step"] == "stage" and e["result"] == "T2"]
    assert any("taken from the report" in " ".join(e["conditions"]) for e in notes), notes


def test_reported_pt_outside_the_size_band_is_a_conflict(kb: Knowledge) -> None:
    # 1.5 cm confined to the pancreas is T1; a report of pT3 contradicts it
    data = nenguide.assess(
        parse_case(_case(size_cm=1.5, extent="confined_to_pancreas", reported_pt="pT3")),
        kb,
        as_of=AS_OF,
    ).model_dump(mode="json")
    assert data["stage"]["t"] is None
    assert data["stage"]["possible"]["t"] == ["T1", "T3"]
    assert "CONFLICT_REPORTED_PT" in {i["code"] for i in data["issues"]}


def test_thrombus_unknown_changes_nothing(kb: Knowledge) -> None:
    base = _case(extent="confined_to_pancreas")
    a = nenguide.assess(parse_case(base), kb, as_of=AS_OF).model_dump(mode="json")
    b = nenguide.assess(
        parse_case(_case(extent="confined_to_pancreas", venous_tumour_thrombus=False)),
        kb,
        as_of=AS_OF,
    ).model_dump(mode="json")
    assert a["stage"] == b["stage"] and a["stage"]["t"] == "T2"
