"""Property-based tests (Hypothesis) for the tables and the input validation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nenguide import assess
from nenguide.engine.kb import Knowledge
from nenguide.engine.stage import stage_group
from nenguide.errors import CaseInputError, parse_case
from nenguide.model.assessment import Assessment
from nenguide.model.case import EXTENTS_BY_SITE, LungDescriptor, MetastasisSite, PrimarySite
from nenguide.mutation.properties import GRADE_BOUNDARIES, GRADE_RANK, GROUP_ORDER, ORDERS

AS_OF = dt.date(2026, 11, 23)
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# --- strategies -------------------------------------------------------------------------------

ki67 = st.floats(min_value=0, max_value=100, allow_nan=False)
mitoses = st.floats(min_value=0, max_value=500, allow_nan=False)
size = st.floats(min_value=0.01, max_value=60, allow_nan=False)


def _opt(s: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), s)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    """Schema-valid cases over the whole input space (including missing data)."""
    site = draw(st.sampled_from(list(PrimarySite)))
    tumour: dict[str, Any] = {"primary_site": site.value}
    if draw(st.booleans()):
        tumour["size_cm"] = draw(size)
    extents = sorted(e.value for e in EXTENTS_BY_SITE.get(site, ()))
    if extents and draw(st.booleans()):
        tumour["extent"] = draw(st.sampled_from(extents))
    if site is PrimarySite.lung and draw(st.booleans()):
        tumour["lung_descriptors"] = draw(
            st.lists(st.sampled_from([d.value for d in LungDescriptor]), unique=True, max_size=3)
        )
    if draw(st.booleans()):
        tumour["number_of_tumours"] = draw(st.integers(1, 5))
    case: dict[str, Any] = {"tumour": tumour}

    if draw(st.booleans()):
        nodes: dict[str, Any] = {}
        if draw(st.booleans()):
            nodes["status"] = draw(st.sampled_from(["negative", "positive", "not_assessed"]))
        if draw(st.booleans()):
            examined = draw(st.integers(0, 40))
            nodes["examined"] = examined
            nodes["positive"] = draw(st.integers(0, examined))
        if site in (PrimarySite.jejunum, PrimarySite.ileum) and draw(st.booleans()):
            nodes["mesenteric_mass_cm"] = draw(st.floats(0, 10, allow_nan=False))
        if site is PrimarySite.lung and draw(st.booleans()):
            nodes["lung_highest_station"] = draw(
                st.sampled_from(
                    [
                        "hilar_or_intrapulmonary",
                        "mediastinal_or_subcarinal",
                        "contralateral_or_supraclavicular",
                    ]
                )
            )
        case["regional_nodes"] = nodes

    if draw(st.booleans()):
        status = draw(st.sampled_from(["none", "present", "unknown"]))
        mets: dict[str, Any] = {"status": status}
        if status == "present" or draw(st.integers(0, 9)) == 0:  # sometimes contradictory
            if draw(st.booleans()):
                mets["liver"] = {
                    k: v
                    for k, v in {
                        "lesion_count": draw(_opt(st.integers(1, 30))),
                        "extent": draw(_opt(st.sampled_from(["confined", "bilobar"]))),
                        "resectability": draw(
                            _opt(
                                st.sampled_from(
                                    [
                                        "standard_resection",
                                        "resection_with_ablation_or_staged",
                                        "unresectable",
                                    ]
                                )
                            )
                        ),
                        "diffuse": draw(_opt(st.booleans())),
                    }.items()
                    if v is not None
                }
            allowed = [
                m.value
                for m in MetastasisSite
                if not (site is PrimarySite.lung and m is MetastasisSite.lung)
                and not (site is not PrimarySite.lung and m is MetastasisSite.contralateral_lung)
            ]
            extra = draw(st.lists(st.sampled_from(allowed), unique=True, max_size=3))
            mets["extrahepatic"] = [
                {"site": s, **({"lesion_count": c} if (c := draw(_opt(st.integers(1, 5)))) else {})}
                for s in extra
            ]
        case["metastases"] = mets

    path: dict[str, Any] = {}
    for key, strat in (
        ("differentiation", st.sampled_from(["well", "poor"])),
        ("morphology", st.sampled_from(["small_cell", "large_cell", "carcinoid"])),
        ("ki67_percent", ki67),
        ("mitoses_per_2mm2", mitoses),
        ("necrosis", st.sampled_from(["absent", "focal", "extensive"])),
    ):
        if draw(st.booleans()):
            path[key] = draw(strat)
    if draw(st.integers(0, 7)) == 0:
        ne = draw(st.floats(0, 100, allow_nan=False))
        path["components"] = [
            {
                "kind": "neuroendocrine",
                "percent": ne,
                **(
                    {"differentiation": d}
                    if (d := draw(_opt(st.sampled_from(["well", "poor"]))))
                    else {}
                ),
                **({"ki67_percent": k} if (k := draw(_opt(ki67))) is not None else {}),
            },
            {"kind": "adenocarcinoma", "percent": draw(st.floats(0, 100 - ne, allow_nan=False))},
        ]
    case["pathology"] = path
    if draw(st.booleans()):
        case["staging_basis"] = draw(st.sampled_from(["clinical", "pathological", "post_therapy"]))
    return case


# --- every valid case is assessed ------------------------------------------------------------


@SETTINGS
@given(data=cases(), lang=st.sampled_from(["en", "zh-CN"]))
def test_every_valid_case_gets_an_assessment(
    kb: Knowledge, data: dict[str, Any], lang: str
) -> None:
    case = parse_case(data)
    result = assess(case, kb, as_of=AS_OF, lang=lang)
    again = Assessment.model_validate_json(result.model_dump_json())
    assert again == result
    assert result.guideline.version == kb.manifest.version
    # an undetermined outcome always says what would settle it
    for part in (result.classification, result.stage, result.liver_metastasis):
        if part.status.value in ("INSUFFICIENT_DATA", "CONFLICT"):
            kinds = {i["kind"].value for i in result.issues}
            assert kinds & {"insufficient_data", "conflict"}, result.issues
    for issue in result.issues:
        assert "{" not in issue["message"], issue  # every placeholder was filled


# --- grade never falls when Ki-67 or mitoses rise -------------------------------------------


def _grade(kb: Knowledge, site: str, k: float | None, m: float | None) -> str | None:
    path: dict[str, Any] = {"differentiation": "well"}
    if k is not None:
        path["ki67_percent"] = k
    if m is not None:
        path["mitoses_per_2mm2"] = m
    a = assess(parse_case({"tumour": {"primary_site": site}, "pathology": path}), kb, as_of=AS_OF)
    return a.classification.grade


@SETTINGS
@given(
    site=st.sampled_from(["stomach", "pancreas", "ileum", "rectum", "unknown_primary"]),
    k=st.tuples(ki67, ki67).map(sorted),
    m=st.tuples(mitoses, mitoses).map(sorted),
    drop=st.sampled_from(["none", "ki67", "mitoses"]),
)
def test_grade_is_monotone(
    kb: Knowledge, site: str, k: list[float], m: list[float], drop: str
) -> None:
    lo_k, hi_k = (None, None) if drop == "ki67" else k
    lo_m, hi_m = (None, None) if drop == "mitoses" else m
    lo = _grade(kb, site, lo_k, lo_m)
    hi = _grade(kb, site, hi_k, hi_m)
    assert lo is not None and hi is not None
    assert GRADE_RANK[lo] <= GRADE_RANK[hi], (k, m, lo, hi)
    # raising one index alone never lowers the grade either
    assert GRADE_RANK[_grade(kb, site, hi_k, lo_m) or "G1"] >= GRADE_RANK[lo]


@pytest.mark.parametrize(("k", "m", "grade"), GRADE_BOUNDARIES)
def test_grade_boundaries(kb: Knowledge, k: float | None, m: float | None, grade: str) -> None:
    assert _grade(kb, "pancreas", k, m) == grade


# --- stage never falls when T, N or M rise --------------------------------------------------


@SETTINGS
@given(
    table=st.sampled_from(sorted(ORDERS)),
    ti=st.tuples(st.integers(0, 6), st.integers(0, 6)).map(sorted),
    ni=st.tuples(st.integers(0, 3), st.integers(0, 3)).map(sorted),
    mi=st.tuples(st.integers(0, 2), st.integers(0, 2)).map(sorted),
)
def test_stage_is_monotone(
    kb: Knowledge, table: str, ti: list[int], ni: list[int], mi: list[int]
) -> None:
    ts, ns, ms = ORDERS[table]
    assume(ti[1] < len(ts) and ni[1] < len(ns) and mi[1] < len(ms))
    lo, lo_ok = stage_group(kb, table, ts[ti[0]], ns[ni[0]], ms[mi[0]])
    hi, hi_ok = stage_group(kb, table, ts[ti[1]], ns[ni[1]], ms[mi[1]])
    assert lo_ok and hi_ok and lo and hi
    assert GROUP_ORDER.index(lo) <= GROUP_ORDER.index(hi), (table, lo, hi)


# --- invalid values are rejected with their path --------------------------------------------

BASE: dict[str, Any] = {
    "patient": {"age_years": 50, "sex": "female", "ecog": 1},
    "tumour": {"primary_site": "pancreas", "size_cm": 2.5, "extent": "confined_to_pancreas"},
    "regional_nodes": {"examined": 10, "positive": 1},
    "metastases": {"status": "present", "liver": {"lesion_count": 2}},
    "pathology": {"differentiation": "well", "ki67_percent": 5, "mitoses_per_2mm2": 2},
    "staging_basis": "pathological",
}

INVALID = {
    "pathology.ki67_percent": st.one_of(
        st.floats(min_value=100.0001, max_value=1e9),
        st.floats(max_value=-0.0001, min_value=-1e9),
        st.just("high"),
        st.just([5]),
    ),
    "pathology.mitoses_per_2mm2": st.one_of(
        st.floats(max_value=-0.001, min_value=-1e6), st.just("x")
    ),
    "tumour.size_cm": st.one_of(
        st.floats(max_value=0, min_value=-100), st.floats(min_value=60.01, max_value=1e6)
    ),
    "patient.age_years": st.one_of(
        st.integers(min_value=121, max_value=10**6),
        st.integers(max_value=-1, min_value=-(10**6)),
        st.just(50.5),
    ),
    "patient.ecog": st.integers(min_value=5, max_value=100),
    "tumour.primary_site": st.text(min_size=1, max_size=12).filter(
        lambda s: s.strip() not in {p.value for p in PrimarySite}
    ),
    "pathology.differentiation": st.sampled_from(["moderate", "WELL", "", "G2"]),
    "tumour.extent": st.sampled_from(["sphincter_of_oddi", "mucosa", "deep"]),
    "regional_nodes.positive": st.integers(min_value=11, max_value=300),
    "metastases.status": st.sampled_from(["yes", "maybe", True]),
    "staging_basis": st.sampled_from(["surgical", "p", 1]),
}


def _set(d: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for p in parents:
        d = d[p]
    d[leaf] = value


@SETTINGS
@given(data=st.data(), path=st.sampled_from(sorted(INVALID)))
def test_invalid_value_is_rejected_with_its_path(data: st.DataObject, path: str) -> None:
    import copy

    value = data.draw(INVALID[path])
    case = copy.deepcopy(BASE)
    _set(case, path, value)
    with pytest.raises(CaseInputError) as err:
        parse_case(case)
    paths = [e.path for e in err.value.errors]
    assert path in paths, (value, paths)
    for e in err.value.errors:
        assert e.message
        if e.path == path and e.code != "invalid_combination":
            assert e.allowed, e


def test_unknown_field_is_rejected_with_its_path() -> None:
    import copy

    case = copy.deepcopy(BASE)
    case["pathology"]["ki67"] = 5
    with pytest.raises(CaseInputError) as err:
        parse_case(case)
    assert [e.path for e in err.value.errors] == ["pathology.ki67"]
