"""Concordance arithmetic: Wilson intervals against hand-computed values, three-valued counting,
indicator files, and the MDT-service export adapter."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from nenguide.batch.concordance import (
    CareError,
    Indicator,
    IndicatorError,
    audit_columns,
    coerce_care,
    concordance_table,
    load_indicators,
    wilson,
)
from nenguide.batch.store_adapter import records_from_export, records_from_exports


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [
        # Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of
        # seven methods. Stat Med 1998;17:857-72, Table I, method 3 (Wilson score, no
        # continuity correction), to 4 decimals:
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # By hand, z = 1.96: 8/10 -> p = .8, d = 1 + z^2/n = 1.3841, centre = (p + z^2/2n)/d
        # = .7167, half = z*sqrt(p(1-p)/n + z^2/4n^2)/d = .2266 -> .4902 to .9433
        (8, 10, 0.4902, 0.9433),
        # 10/10 mirrors 0/10: centre = half = .1388 -> 0 to .2775, so .7225 to 1
        (10, 10, 0.7225, 1.0000),
    ],
)
def test_wilson_matches_hand_computed_values(x: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson(x, n)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


def test_wilson_without_cases_is_undefined() -> None:
    assert wilson(0, 0) == (None, None)


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    types = {
        "str": pl.String,
        "int": pl.Int64,
        "float": pl.Float64,
        "bool": pl.Boolean,
        "date": pl.Date,
        "list[str]": pl.List(pl.String),
        "list[bool]": pl.List(pl.Boolean),
    }
    schema = {k: types[v] for k, v in audit_columns().items()}
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema, orient="row")


def test_counts_keep_unknown_apart_from_false() -> None:
    ind = Indicator(
        id="T",
        title="t",
        sources=["s"],
        denominator={"column": "hereditary_testing_recommended", "is": True},
        numerator={"column": "care_genetic_testing_offered", "is": True},
    )
    rows = (
        [
            {
                "hereditary_testing_recommended": True,
                "care_genetic_testing_offered": True,
                "tumour_primary_site": "pancreas",
                "care_year": 2020,
            }
        ]
        * 3
        + [
            {
                "hereditary_testing_recommended": True,
                "care_genetic_testing_offered": False,
                "tumour_primary_site": "pancreas",
                "care_year": 2021,
            }
        ]
        * 2
        + [
            {
                "hereditary_testing_recommended": True,
                "tumour_primary_site": "rectum",
                "care_year": 2021,
            }
        ]  # care not recorded
        + [
            {"hereditary_testing_recommended": None, "care_genetic_testing_offered": True}
        ]  # eligibility unknown
        + [{"hereditary_testing_recommended": False, "care_genetic_testing_offered": False}] * 4
    )
    t = concordance_table(_frame(rows), [ind])
    overall = t.filter(pl.col("dimension") == "overall").row(0, named=True)
    assert (overall["eligible"], overall["concordant"], overall["not_concordant"]) == (6, 3, 2)
    assert (overall["not_recorded"], overall["eligibility_unknown"], overall["recorded"]) == (
        1,
        1,
        5,
    )
    assert overall["rate"] == pytest.approx(0.6)
    assert (overall["ci_low"], overall["ci_high"]) == pytest.approx(wilson(3, 5))
    by_site = {r["level"]: r for r in t.filter(pl.col("dimension") == "site").iter_rows(named=True)}
    assert by_site["pancreas"]["rate"] == pytest.approx(0.6) and by_site["rectum"]["recorded"] == 0
    assert by_site["unknown"]["eligibility_unknown"] == 1
    by_year = {
        r["level"]: r["eligible"]
        for r in t.filter(pl.col("dimension") == "year").iter_rows(named=True)
    }
    assert by_year == {"2020": 3, "2021": 3, "unknown": 0}


def test_dates_and_lists_in_conditions() -> None:
    inds = {i.id: i for i in load_indicators()}
    d = dt.date
    rows = [
        # imaging before SSA: concordant
        {
            "care_ssa_start": d(2020, 3, 1),
            "care_sstr_imaging_done": True,
            "care_sstr_imaging_date": d(2020, 2, 1),
        },
        # imaging after SSA: not concordant
        {
            "care_ssa_start": d(2020, 3, 1),
            "care_sstr_imaging_done": True,
            "care_sstr_imaging_date": d(2020, 4, 1),
        },
        # no imaging: not concordant
        {"care_prrt_start": d(2020, 3, 1), "care_sstr_imaging_done": False},
        # imaging done but its date not recorded: not recorded
        {"care_ssa_start": d(2020, 3, 1), "care_sstr_imaging_done": True},
        # neither SSA nor PRRT: not eligible
        {"care_sstr_imaging_done": True},
    ]
    t = concordance_table(_frame(rows), [inds["SSTR_IMAGING_BEFORE_SSA_PRRT"]])
    o = t.filter(pl.col("dimension") == "overall").row(0, named=True)
    assert (o["eligible"], o["concordant"], o["not_concordant"], o["not_recorded"]) == (4, 1, 2, 1)

    rectal = dict(
        tumour_primary_site="rectum",
        classification_category="NET",
        classification_grade="G1",
        metastases_status="none",
    )
    rows = [
        {**rectal, "tumour_size_cm": 0.8, "care_procedures": ["endoscopic_resection"]},
        {**rectal, "tumour_size_cm": 0.6, "care_procedures": ["surgical_resection"]},
        {
            **rectal,
            "tumour_size_cm": 1.0,
            "care_procedures": ["surgical_resection"],
        },  # 1 cm: not < 1
        {**rectal, "tumour_size_cm": 0.5, "care_procedures": []},  # not resected: not eligible
        {**rectal, "care_procedures": ["endoscopic_resection"]},  # size unknown
    ]
    t = concordance_table(_frame(rows), [inds["RECTAL_G1_SMALL_ENDOSCOPIC_RESECTION"]])
    o = t.filter(pl.col("dimension") == "overall").row(0, named=True)
    assert (o["eligible"], o["concordant"], o["not_concordant"], o["eligibility_unknown"]) == (
        2,
        1,
        1,
        1,
    )


def test_indicator_files_are_checked(tmp_path: Path) -> None:
    inds = load_indicators()
    assert len(inds) == 8 and all(i.sources for i in inds)
    bad = tmp_path / "i.yaml"
    head = "version: 1\nindicators:\n- {id: X, title: x, sources: [s], "
    bad.write_text(
        head + "denominator: {column: nope, eq: 1}, numerator: {column: stage_t, eq: T1}}"
    )
    with pytest.raises(IndicatorError, match=r"X\.denominator: unknown column 'nope'"):
        load_indicators(bad)
    bad.write_text(
        head + "denominator: {column: stage_t, like: T}, numerator: {column: stage_t, eq: T1}}"
    )
    with pytest.raises(IndicatorError, match="exactly one operator"):
        load_indicators(bad)


def test_care_values_are_typed_or_rejected() -> None:
    care = coerce_care(
        {
            "year": "2021",
            "mdt_discussed": "yes",
            "procedures": "endoscopic_resection; surgical_resection",
            "ssa_start": "2021-02-03",
            "follow_up_done": "",
        }
    )
    assert care == {
        "care_year": 2021,
        "care_mdt_discussed": True,
        "care_procedures": ["endoscopic_resection", "surgical_resection"],
        "care_ssa_start": dt.date(2021, 2, 3),
    }
    with pytest.raises(CareError, match="not true or false"):
        coerce_care({"mdt_discussed": "maybe"})
    with pytest.raises(CareError, match="unknown care column 'mdt'"):
        coerce_care({"mdt": True})
    # a typo or an impossible year counted as "not concordant", or as a year of its own
    # (a probe, session 24)
    assert coerce_care({"first_line_systemic": "platinum_etoposide", "year": 2199}) == {
        "care_first_line_systemic": "platinum_etoposide",
        "care_year": 2199,
    }
    assert coerce_care({"first_line_systemic": "none"}) == {"care_first_line_systemic": "none"}
    for bad in ("platinum_etopside", "Platinum_Etoposide"):
        with pytest.raises(CareError, match="not a therapy code"):
            coerce_care({"first_line_systemic": bad})
    for year in (-5, 99999, 1899):
        with pytest.raises(CareError, match="not a year from 1900 to 2199"):
            coerce_care({"year": year})


def _export() -> dict[str, Any]:
    case_v1 = {"tumour": {"primary_site": "pancreas"}}
    case_v2 = {
        "tumour": {"primary_site": "pancreas", "size_cm": 2},
        "pathology": {"differentiation": "well", "ki67_percent": 4},
    }

    def decision(at: str, follows: bool, reason: str | None) -> dict[str, Any]:
        return {"decided_at": at, "follows_guideline": follows, "departure_reason": reason}

    return {
        "format": "nenguide-patient-record",
        "format_version": 1,
        "exported_at": "2026-11-30T10:00:00Z",
        "patient": {"id": "p1"},
        "cases": [
            {
                "id": "c1",
                "created_at": "2025-05-02T08:00:00Z",
                "versions": [{"version": 1, "data": case_v1}, {"version": 2, "data": case_v2}],
            },
            {
                "id": "c2",
                "created_at": "2024-01-10T08:00:00Z",
                "versions": [{"version": 1, "data": case_v1}],
            },
        ],
        "follow_up_tasks": [
            {"case_id": "c1", "due": "2026-01-01", "status": "done"},
            {"case_id": "c1", "due": "2026-06-01", "status": "open"},
            {"case_id": "c1", "due": "2027-06-01", "status": "open"},  # not yet due
            {"case_id": "c2", "due": "2026-01-01", "status": "cancelled"},
        ],
        "meetings": [
            {
                "agenda": [
                    {"case_id": "c1", "decision": decision("2025-06-01T10:00:00Z", True, None)}
                ]
            },
            {
                "agenda": [
                    {
                        "case_id": "c1",
                        "decision": decision("2025-07-01T10:00:00Z", False, "patient_preference"),
                    },
                    {"case_id": "c2", "decision": None},
                ]
            },
        ],
    }


def test_store_export_feeds_the_audit(tmp_path: Path) -> None:
    recs = list(records_from_export(_export()))
    assert [r["id"] for r in recs] == ["c1", "c2"]
    c1, c2 = recs
    assert c1["case"]["tumour"]["size_cm"] == 2  # the latest version
    assert c1["care"] == {
        "year": 2025,
        "mdt_discussed": True,
        "mdt_follows_guideline": False,
        "mdt_departure_reason": "patient_preference",
        "follow_up_done": False,
    }
    assert c2["care"] == {"year": 2024}  # on an agenda without a decision: not recorded
    (tmp_path / "a.json").write_text(json.dumps(_export()))
    assert len(list(records_from_exports([tmp_path]))) == 2
