"""The fact layer on a case with an empty clinical section (issue 7, speed): a section equal to
an empty one (not given, or every field given at its default) reads as the facts of an empty
section, worked out once (``case_input._empty_section``), with the patient's and the tumour's
own read per case; a case without germline results makes no carrier without evaluating
anything. These must give what the general path (``case_input._section``) gives, key order
included (the fact layer's trace shows the facts in their order)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from nenguide import assess
from nenguide.engine.case_input import _section, clinical_input
from nenguide.engine.case_items import any_of
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts
from nenguide.engine.kb import Knowledge
from nenguide.errors import parse_case

AS_OF = dt.date(2026, 11, 23)


def _case(ecog: int | None, age: int | None, tumours: int | None, **more: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "tumour": {"primary_site": "rectum", "size_cm": 0.8},
        "pathology": {"differentiation": "well", "ki67_percent": 1.0},
        **more,
    }
    patient = {k: v for k, v in (("ecog", ecog), ("age_years", age)) if v is not None}
    if patient:
        d["patient"] = patient
    if tumours is not None:
        d["tumour"]["number_of_tumours"] = tumours
    return d


_ecog = st.none() | st.integers(min_value=0, max_value=4)
_age = st.none() | st.integers(min_value=18, max_value=99)
_tumours = st.none() | st.integers(min_value=1, max_value=5)


@settings(max_examples=40, deadline=None)
@given(_ecog, _age, _tumours, st.sampled_from([None, {}, {"symptoms": {}, "labs": []}]))
def test_an_empty_section_gives_what_the_general_path_gives(
    ecog: int | None, age: int | None, tumours: int | None, section: dict[str, Any] | None
) -> None:
    more = {} if section is None else {"clinical": section}
    case = parse_case(_case(ecog, age, tumours, **more))
    got = clinical_input(case, case.clinical)
    want = _section(case.clinical, ecog, age, tumours)
    assert list(got.items()) == list(want.items())  # values and order
    assert (got["ecog"], got["age_years"], got["number_of_tumours"]) == (ecog, age, tumours)


def test_a_section_with_a_field_not_at_its_default_takes_the_general_path() -> None:
    case = parse_case(_case(1, 50, None, clinical={"symptoms": {"flushing": True}}))
    got = clinical_input(case, case.clinical)
    assert got["sym_flushing"] is True
    assert list(got.items()) == list(_section(case.clinical, 1, 50, None).items())


def test_the_empty_sections_facts_are_copied_not_shared() -> None:
    a = parse_case(_case(1, 50, None))
    first = clinical_input(a, a.clinical)
    first["ecog"] = "changed"
    assert clinical_input(a, a.clinical)["ecog"] == 1


def test_no_germline_result_makes_no_carrier(kb: Knowledge) -> None:
    c = parse_case(_case(None, None, None))
    facts = case_facts(Context(kb, "en"), c)
    none: list[bool | None] = []
    assert (facts["carrier"], facts["carrier_men1"], facts["carrier_vhl"]) == (any_of(none),) * 3
    assert facts.extra["carriers"] == ()


def test_an_assessment_without_a_section_is_the_one_with_an_empty_section_given(
    kb: Knowledge,
) -> None:
    absent = parse_case(_case(2, 64, 2))
    given_ = parse_case(_case(2, 64, 2, clinical={"symptoms": {}}))
    a = assess(absent, kb, as_of=AS_OF).model_dump(mode="json")
    b = assess(given_, kb, as_of=AS_OF).model_dump(mode="json")
    assert a == b
