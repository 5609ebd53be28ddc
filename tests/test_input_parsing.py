"""Reading a case file (a probe, session 24): YAML 1.1's number forms a clinician never
means, a key given twice, a date that does not exist and an integer too long to read each
gave a wrong value silently or a traceback. Each is now read as written or refused with a
clear error; the API's edge refuses the same JSON bodies."""

from __future__ import annotations

import json

import pytest

from nenguide import bounded_yaml
from nenguide.api.edge import _Reject, check_json
from nenguide.error_texts import localise_error
from nenguide.errors import CaseInputError, parse_case_text

CASE = "tumour: {primary_site: rectum, size_cm: 0.8}\n"


@pytest.mark.parametrize(
    ("text", "value"),
    [("021", 21), ("010", 10), ("-3", -3), ("+7", 7), ("2.5", 2.5), ("1e3", 1000.0),
     ("1:30", "1:30"), ("1_0", "1_0"), ("0x1F", "0x1F"), ("0o17", "0o17")],
)  # fmt: skip
def test_yaml_numbers_are_decimal_as_written(text: str, value: object) -> None:
    got = bounded_yaml.load(f"a: {text}")["a"]
    assert got == value and type(got) is type(value)


def test_a_leading_zero_ki67_is_not_octal() -> None:
    """``ki67_percent: 021`` was read as the octal 17 (G2) instead of 21 (G3)."""
    case = parse_case_text(CASE + "pathology: {differentiation: well, ki67_percent: 021}\n")
    assert case.pathology is not None and case.pathology.ki67_percent == 21


def test_a_sexagesimal_number_is_refused_not_read_as_base_60() -> None:
    with pytest.raises(CaseInputError) as exc:
        parse_case_text(CASE + "pathology: {differentiation: well, ki67_percent: 1:30}\n")
    assert [e.path for e in exc.value.errors] == ["pathology.ki67_percent"]


@pytest.mark.parametrize(
    "text",
    [
        CASE + "pathology: {ki67_percent: 50, ki67_percent: 1}\n",
        CASE + "pathology: {differentiation: well}\npathology: {differentiation: poor}\n",
        '{"tumour": {"primary_site": "rectum"}, "pathology": {"ki67_percent": 50,'
        ' "ki67_percent": 1}}',
    ],
)
def test_a_key_given_twice_is_refused(text: str) -> None:
    with pytest.raises(CaseInputError) as exc:
        parse_case_text(text, "case")
    assert exc.value.key == "duplicate_key"
    assert "twice" in exc.value.summary
    assert "两次" in localise_error(exc.value, "zh-CN").summary


@pytest.mark.parametrize("date", ["2026-02-30", "2026-13-01"])
def test_a_date_that_does_not_exist_is_a_clear_error(date: str) -> None:
    text = CASE + f"clinical: {{resection: {{performed: true, margin: R0, date: {date}}}}}\n"
    with pytest.raises(CaseInputError) as exc:
        parse_case_text(text, "case")
    assert exc.value.key == "yaml" and "not a date" in exc.value.summary


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_an_integer_too_long_to_read_is_a_clear_error(fmt: str) -> None:
    digits = "1" + "0" * 4300
    if fmt == "json":
        text = '{"tumour": {"primary_site": "rectum", "number_of_tumours": ' + digits + "}}"
    else:
        text = f"tumour: {{primary_site: rectum, number_of_tumours: {digits}}}\n"
    with pytest.raises(CaseInputError) as exc:
        parse_case_text(text, "case")
    assert exc.value.key == "long_number"


def _status(body: bytes) -> int:
    try:
        check_json(body)
    except _Reject as rej:
        return rej.response.status_code
    return 200


def test_the_api_edge_refuses_the_same_bodies() -> None:
    """A duplicate key gets 422 naming it, a 4301-digit integer 400 (it was an HTTP 500 on
    every JSON route, the login included)."""
    dup = b'{"pathology": {"ki67_percent": 50, "ki67_percent": 1}}'
    assert _status(dup) == 422
    try:
        check_json(dup)
    except _Reject as rej:
        assert "ki67_percent" in json.loads(rej.response.body)["error"]["message"]
    assert _status(b'{"username": 1' + b"0" * 4300 + b', "password": "x"}') == 400
    assert _status(b'{"pathology": {"ki67_percent": 50}}') == 200


def test_merge_keys_still_work_and_tagged_nonsense_is_a_yaml_error() -> None:
    """A review (session 24): the duplicate-key check refused YAML merge keys (``<<: *base``),
    and ``!!int 0x1`` ended in a traceback. A merge key is no key of its own (an explicit key
    may override a merged one), and a tagged scalar that is no decimal number is a YAML error
    with its position."""
    assert bounded_yaml.load("b: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 3")["d"] == {"x": 3, "y": 2}
    for text in ("a: !!int 0x1", "a: !!float abc"):
        with pytest.raises(CaseInputError) as exc:
            parse_case_text(f"tumour: {{primary_site: rectum}}\n{text}\n", "case")
        assert exc.value.key == "yaml" and "not a decimal number" in exc.value.summary
    assert bounded_yaml.load("a: .inf")["a"] == float("inf")
