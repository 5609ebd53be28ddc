"""Settled answers from incomplete data (issue 8 §1), as properties.

A *settled output* of an assessment is, concretely:

* ``classification.category`` when the classification is ``DETERMINED``, and its ``grade``
  when, in addition, both indices were read (a grade from one index carries the warning
  ``GRADE_SINGLE_INDEX``: the other index could raise it, so it is not settled);
* ``stage.t``, ``stage.n``, ``stage.m`` and ``stage.group`` when given (not null);
* ``follow_up.lifelong`` when not null;
* ``hereditary.testing_recommended`` when not null;
* the codes of the ``recommended`` treatment options.

Two properties, over consistent GEP cases with one input removed:

1. **Removing an input never turns a settled output into a different value**: whatever the
   partial case settles, the full case settles to the same value, or (stage) to a finer
   category of it (M1 -> M1a, III -> IIIA, by the tables' ``coarse`` maps); a recommended
   option of the partial case is recommended for the full case.
2. **Removing an input never removes an output that does not depend on it**: for each
   removable input, the outputs listed in ``INDEPENDENT`` stay exactly as they were; and an
   option recommended with ECOG or the prior lines known stays listed (recommended or
   conditional, naming the field) when they are removed.
"""

from __future__ import annotations

import copy
import datetime as dt
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nenguide
from nenguide.engine.kb import Knowledge
from nenguide.errors import parse_case

AS_OF = dt.date(2026, 12, 4)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

SITES = ["pancreas", "ileum", "rectum", "appendix", "colon", "duodenum", "jejunum"]
WALL = ["mucosa", "submucosa", "muscularis_propria", "serosa"]


@cache
def _kb() -> Knowledge:
    return nenguide.load_knowledge()


@st.composite
def cases(draw: Any) -> dict[str, Any]:
    """A consistent GEP case (no contradiction a later input could reveal)."""
    site = draw(st.sampled_from(SITES))
    poor = draw(st.booleans())
    pathology: dict[str, Any] = {"differentiation": "poor" if poor else "well"}
    if poor:
        pathology["morphology"] = draw(st.sampled_from(["small_cell", "large_cell"]))
        pathology["ki67_percent"] = draw(st.sampled_from([15.0, 45.0, 80.0]))
    else:
        pathology["ki67_percent"] = draw(st.sampled_from([1.0, 2.5, 4.0, 12.0, 35.0]))
        pathology["mitoses_per_2mm2"] = draw(st.sampled_from([0.0, 1.0, 3.0, 25.0]))
    extent = (
        draw(st.sampled_from(["confined_to_pancreas", "duodenum_or_bile_duct"]))
        if site == "pancreas"
        else draw(st.sampled_from(WALL))
    )
    tumour = {"primary_site": site, "size_cm": draw(st.sampled_from([0.6, 0.9, 1.5, 2.5, 4.5]))}
    tumour["extent"] = extent
    met = draw(st.sampled_from(["none", "liver", "liver_bone", "bone"]))
    metastases: dict[str, Any] = {"status": "none" if met == "none" else "present"}
    if "liver" in met:
        metastases["liver"] = {"lesion_count": draw(st.sampled_from([1, 3, 12]))}
    if met != "none":
        metastases["extrahepatic"] = [{"site": "bone"}] if "bone" in met else []
    nodes = draw(st.sampled_from(["negative", "positive", "not_assessed"]))
    case: dict[str, Any] = {
        "patient": {"ecog": draw(st.integers(0, 4)), "age_years": draw(st.integers(30, 80))},
        "tumour": tumour,
        "regional_nodes": {"status": nodes},
        "metastases": metastases,
        "pathology": pathology,
        "staging_basis": "pathological",
        "clinical": {"prior_therapies": []},
    }
    if met == "none" and draw(st.booleans()):
        case["clinical"]["resection"] = {
            "performed": True,
            "margin": draw(st.sampled_from(["R0", "R1"])),
            "date": "2026-10-01",
        }
    if met != "none" and draw(st.booleans()):
        # progression on a systemic therapy: advanced disease (an already failed therapy is
        # dropped by the engine after the tables; see docs/clinical-gaps.md, issue 8)
        case["clinical"]["prior_therapies"] = [
            {"therapy": "platinum_etoposide", "progressed": True, "months_to_progression": 8}
            if poor
            else {"therapy": "ssa", "progressed": True}
        ]
    return case


#: removable input -> path in the case dict
REMOVABLE: dict[str, tuple[str, ...]] = {
    "patient.ecog": ("patient", "ecog"),
    "clinical.prior_therapies": ("clinical", "prior_therapies"),
    "pathology.differentiation": ("pathology", "differentiation"),
    "pathology.morphology": ("pathology", "morphology"),
    "pathology.ki67_percent": ("pathology", "ki67_percent"),
    "pathology.mitoses_per_2mm2": ("pathology", "mitoses_per_2mm2"),
    "tumour.size_cm": ("tumour", "size_cm"),
    "tumour.extent": ("tumour", "extent"),
    "regional_nodes": ("regional_nodes",),
    "metastases.extrahepatic": ("metastases", "extrahepatic"),
    "clinical.resection.margin": ("clinical", "resection", "margin"),
}

#: settled outputs that do not depend on the removed input (must stay exactly as they are)
INDEPENDENT: dict[str, tuple[str, ...]] = {
    "patient.ecog": ("classification", "stage", "lifelong", "hereditary"),
    "clinical.prior_therapies": ("classification", "stage", "lifelong", "hereditary"),
    "pathology.ki67_percent": ("classification.category", "stage"),
    "pathology.mitoses_per_2mm2": ("classification.category", "stage"),
    "tumour.size_cm": ("classification", "stage.n", "stage.m", "hereditary"),
    "tumour.extent": ("classification", "stage.n", "stage.m", "lifelong", "hereditary"),
    "regional_nodes": ("classification", "stage.t", "stage.m", "hereditary"),
    "metastases.extrahepatic": (
        "classification", "stage.t", "stage.n", "stage.group", "lifelong", "hereditary",
    ),
    "clinical.resection.margin": ("classification", "stage", "hereditary"),
}  # fmt: skip


def _remove(case: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    out = copy.deepcopy(case)
    cur: Any = out
    for p in path[:-1]:
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    if not isinstance(cur, dict) or path[-1] not in cur:
        return None
    del cur[path[-1]]
    return out


def _assess(case: dict[str, Any]) -> dict[str, Any]:
    a = nenguide.assess(parse_case(case), _kb(), as_of=AS_OF)
    return a.model_dump(mode="json")


def settled(a: dict[str, Any]) -> dict[str, Any]:
    """The settled outputs of an assessment (see the module docstring)."""
    out: dict[str, Any] = {}
    c = a["classification"]
    if c["status"] == "DETERMINED":
        out["classification.category"] = c["category"]
        if not any(i["code"] == "GRADE_SINGLE_INDEX" for i in a["issues"]):
            out["classification.grade"] = c["grade"]
    for k in ("t", "n", "m", "group"):
        if a["stage"][k] is not None:
            out[f"stage.{k}"] = a["stage"][k]
    if a["follow_up"] and a["follow_up"]["lifelong"] is not None:
        out["lifelong"] = a["follow_up"]["lifelong"]
    if a["hereditary"] and a["hereditary"]["testing_recommended"] is not None:
        out["hereditary"] = a["hereditary"]["testing_recommended"]
    return out


def recommended(a: dict[str, Any]) -> set[str]:
    return {o["code"] for o in a["treatment"] if o["status"] == "recommended"}


def _coarse_chain(value: str) -> set[str]:
    """``value`` and every coarser category of it (the stage tables' ``coarse`` maps)."""
    parents: dict[str, str] = {}
    for t in _kb().tables.values():
        if t.spec.step == "stage":
            parents.update(t.spec.coarse)
    out = {value}
    while value in parents and parents[value] not in out:
        value = parents[value]
        out.add(value)
    return out


def _consistent(key: str, partial: Any, full: Any) -> bool:
    if partial == full:
        return True
    return key.startswith("stage.") and isinstance(full, str) and partial in _coarse_chain(full)


@SETTINGS
@given(case=cases(), name=st.sampled_from(sorted(REMOVABLE)))
def test_removing_an_input_never_changes_a_settled_output(case: dict[str, Any], name: str) -> None:
    partial_case = _remove(case, REMOVABLE[name])
    if partial_case is None:
        return
    full, partial = _assess(case), _assess(partial_case)
    s_full, s_partial = settled(full), settled(partial)
    for key, value in s_partial.items():
        assert key in s_full, f"without {name}: {key}={value!r}, with it: not settled"
        assert _consistent(key, value, s_full[key]), (
            f"without {name}: {key}={value!r}, with it: {s_full[key]!r}"
        )
    if any(i["code"] == "GRADE_SINGLE_INDEX" for i in partial["issues"]):
        # known gap (docs/clinical-gaps.md, issue 8): options are still chosen on a grade read
        # from one index; the other index can raise it and change them
        return
    more = recommended(partial) - recommended(full)
    assert not more, f"without {name} {sorted(more)} recommended, with it not"


def _selected(s: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in s.items() if any(k == sel or k.startswith(sel + ".") for sel in keys)}


@SETTINGS
@given(case=cases(), name=st.sampled_from(sorted(INDEPENDENT)))
def test_removing_an_input_keeps_the_outputs_that_do_not_depend_on_it(
    case: dict[str, Any], name: str
) -> None:
    partial_case = _remove(case, REMOVABLE[name])
    if partial_case is None:
        return
    full, partial = _assess(case), _assess(partial_case)
    keys = INDEPENDENT[name]
    assert _selected(settled(partial), keys) == _selected(settled(full), keys), name


@SETTINGS
@given(case=cases(), name=st.sampled_from(["patient.ecog", "clinical.prior_therapies"]))
def test_an_option_waiting_on_a_conditional_input_stays_listed(
    case: dict[str, Any], name: str
) -> None:
    """ECOG and the prior lines are conditional inputs of the package: an option recommended
    with them known is still listed without them - recommended, or conditional naming the
    field that settles it."""
    partial_case = _remove(case, REMOVABLE[name])
    assert partial_case is not None
    full, partial = _assess(case), _assess(partial_case)
    listed = {o["code"]: o for o in partial["treatment"]}
    for code in recommended(full):
        assert code in listed, f"without {name}: {code} disappeared"
        o = listed[code]
        if o["status"] == "conditional":
            fields = [r["field"] for r in o["requires"]]
            assert any(f.startswith(name) for f in fields), (code, fields)


def _with_metastases(case: dict[str, Any], status: str) -> dict[str, Any]:
    out = copy.deepcopy(case)
    out["metastases"] = {"status": status}
    return out


@SETTINGS
@given(case=cases())
def test_an_open_setting_shows_each_settings_options_conditional_on_the_metastasis_status(
    case: dict[str, Any],
) -> None:
    """Issue 8 §1, the treatment setting open only because ``metastases.status`` is unknown.

    With U = the case with ``metastases: {status: unknown}``, N = with ``{status: none}`` and
    M = with ``{status: present}`` (no further metastasis details in any of them):

    * U always carries TX_SETTING_NEEDS_DATA naming ``metastases.status``;
    * an option RECOMMENDED in U is recommended in both N and M;
    * an option CONDITIONAL in U names ``metastases.status`` in its ``requires``, or is
      conditional (on the same requirements) in both N and M;
    * nothing is lost: every option recommended in both N and M is recommended in U, and every
      option listed (recommended or conditional) in N or M is listed in U;
    * nothing is invented: every option of U is listed in N or M.
    """
    u = _assess(_with_metastases(case, "unknown"))
    n = _assess(_with_metastases(case, "none"))
    m = _assess(_with_metastases(case, "present"))
    assert any(
        i["code"] == "TX_SETTING_NEEDS_DATA" and "metastases.status" in i["fields"]
        for i in u["issues"]
    ), "no TX_SETTING_NEEDS_DATA naming metastases.status"
    if u["classification"]["category"] is None:
        return
    lu = {o["code"]: o for o in u["treatment"]}
    ln = {o["code"]: o for o in n["treatment"]}
    lm = {o["code"]: o for o in m["treatment"]}
    for code, o in lu.items():
        assert code in ln or code in lm, f"{code} invented with the metastasis status unknown"
        if o["status"] == "recommended":
            assert code in recommended(n) and code in recommended(m), code
            continue
        fields = [r["field"] for r in o["requires"]]
        if "metastases.status" not in fields:
            for other in (ln, lm):
                assert other[code]["status"] == "conditional", (code, fields)
                assert other[code]["requires"] == o["requires"], (code, fields)
    assert recommended(n) & recommended(m) <= recommended(u)
    assert set(ln) | set(lm) <= set(lu), sorted((set(ln) | set(lm)) - set(lu))


def test_lifelong_is_null_only_while_the_exemption_is_possible() -> None:
    """Exhaustive over the exemption's own inputs: lifelong is null exactly when some value of
    the unknown inputs would make the patient exempt (the table, not a Python threshold)."""
    base = {
        "tumour": {"primary_site": "rectum", "size_cm": 0.8, "extent": "submucosa"},
        "regional_nodes": {"status": "negative"},
        "metastases": {"status": "none"},
        "pathology": {"differentiation": "well", "ki67_percent": 1.0, "mitoses_per_2mm2": 0.0},
        "clinical": {"resection": {"performed": True, "margin": "R0", "date": "2026-10-01"}},
    }
    assert _assess(base)["follow_up"]["lifelong"] is False
    excluders = {
        ("tumour", "primary_site"): "ileum",
        ("tumour", "size_cm"): 1.2,
        ("pathology", "ki67_percent"): 5.0,
        ("regional_nodes", "status"): "positive",
        ("clinical", "resection", "margin"): "R1",
    }
    unknowns = [("clinical", "resection", "margin"), ("pathology", "differentiation")]
    for path, value in excluders.items():
        for unknown in unknowns:
            if unknown == path:
                continue
            case = copy.deepcopy(base)
            cur: Any = case
            for p in path[:-1]:
                cur = cur[p]
            cur[path[-1]] = value
            removed = _remove(case, unknown)
            assert removed is not None
            # one fact excludes the exemption: lifelong whatever the unknown input is
            assert _assess(removed)["follow_up"]["lifelong"] is True, (path, unknown)
        # the exemption still possible: null
    for unknown in unknowns:
        removed = _remove(base, unknown)
        assert removed is not None
        assert _assess(removed)["follow_up"]["lifelong"] is None, unknown


def test_low_risk_schedule_never_claims_n0_for_nodes_not_assessed() -> None:
    case = {
        "tumour": {"primary_site": "ileum", "size_cm": 1.2, "extent": "muscularis_propria"},
        "regional_nodes": {"status": "not_assessed"},
        "metastases": {"status": "none"},
        "pathology": {"differentiation": "well", "ki67_percent": 1.0, "mitoses_per_2mm2": 0.0},
        "clinical": {"resection": {"performed": True, "margin": "R0", "date": "2026-10-01"}},
    }
    for lang in ("en", "zh-CN"):
        a = nenguide.assess(parse_case(case), _kb(), as_of=AS_OF, lang=lang)
        assert a.follow_up is not None and a.follow_up["schedule"]
        text = a.follow_up["schedule"]
        assert "N0" not in text or ("not assessed" in text or "未评估" in text), text


def test_text_report_shows_conditional_options_in_a_group_of_their_own() -> None:
    import io

    from rich.console import Console

    from nenguide.report.text import render_text

    case = {
        "tumour": {"primary_site": "pancreas", "size_cm": 4.0},
        "regional_nodes": {"status": "positive"},
        "metastases": {"status": "present", "liver": {"lesion_count": 6}, "extrahepatic": []},
        "pathology": {"differentiation": "poor", "morphology": "small_cell", "ki67_percent": 80},
        "staging_basis": "clinical",
        "clinical": {"prior_therapies": []},
    }
    for lang, heading, cond, field in (
        ("en", "Conditional options", "if ECOG performance status: ≤ 2", "ECOG performance status"),
        ("zh-CN", "有条件的方案", "若ECOG体能状态：≤ 2", "ECOG体能状态评分"),
    ):
        a = nenguide.assess(parse_case(case), _kb(), as_of=AS_OF, lang=lang)
        console = Console(
            file=io.StringIO(), width=200, record=True, color_system=None, force_terminal=False
        )
        render_text(a, _kb().catalog, console)
        text = console.export_text()
        assert heading in text
        start = text.index(heading)
        assert cond in text[start:]
        # the field that settles it, by its label in the report's language (issue 9)
        assert f"({field})" in text[start:]
        assert "(patient.ecog)" not in text


def test_conditional_options_and_open_chapter_validate_against_the_published_schema() -> None:
    import json

    import jsonschema

    from nenguide.model.assessment import Assessment

    schema = Assessment.model_json_schema()
    for case in (
        {  # metastatic NEC without ECOG: conditional options with requires[]
            "tumour": {"primary_site": "pancreas", "size_cm": 4.0},
            "metastases": {"status": "present", "liver": {"lesion_count": 6}},
            "pathology": {"differentiation": "poor", "ki67_percent": 80},
            "clinical": {"prior_therapies": []},
        },
        {  # differentiation open: stage from the candidate chapters, possible.system
            "tumour": {"primary_site": "pancreas", "size_cm": 2.5},
            "regional_nodes": {"status": "negative"},
            "metastases": {"status": "present", "liver": {"lesion_count": 2}},
            "pathology": {"ki67_percent": 5},
        },
    ):
        out = json.loads(nenguide.assess(parse_case(case), _kb(), as_of=AS_OF).model_dump_json())
        jsonschema.validate(out, schema)
    assert any(o["status"] == "conditional" and o["requires"] for o in _assess_any())


def _assess_any() -> list[dict[str, Any]]:
    case = {
        "tumour": {"primary_site": "pancreas", "size_cm": 4.0},
        "metastases": {"status": "present", "liver": {"lesion_count": 6}, "extrahepatic": []},
        "pathology": {"differentiation": "poor", "ki67_percent": 80},
        "clinical": {"prior_therapies": []},
    }
    return list(_assess(case)["treatment"])
