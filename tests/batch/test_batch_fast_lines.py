"""A JSON Lines line validated straight from its text (``plain_case_line``) gives what the
general path gives: the same case and id, or no answer (the general path then words the reject).

The general path is the reference: ``json.loads``, the mapper, :func:`parse_case`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.backend import PerCaseBackend
from nenguide.batch.mapping import Mapper
from nenguide.batch.rows import assess_rows, plain_case_line
from nenguide.batch.synth import generate
from nenguide.errors import CaseInputError, parse_case
from nenguide.model.case import Case

VIGNETTES = Path(__file__).parent.parent / "vignettes"
AS_OF = dt.date(2026, 11, 23)


def general(line: str) -> tuple[Case, str | None] | None:
    """The general path's case and id for ``line``; ``None`` when it rejects the line."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(record, dict):
        return None
    mapped = Mapper().map_record(record)
    try:
        case = parse_case(mapped.case)
    except CaseInputError:
        return None
    if mapped.id is not None:
        return case, mapped.id
    v = mapped.case.get("case_id")
    return case, None if v is None else str(v)


def agree(line: str) -> None:
    """The fast path answers only where the general path accepts the line as a plain case, and
    then with the same case (every field) and the same id."""
    fast = plain_case_line(line)
    ref = general(line)
    if fast is None:
        return  # the general path decides (and words a reject)
    assert ref is not None, f"accepted only by the fast path: {line[:200]}"
    assert fast[0].model_dump() == ref[0].model_dump()
    assert fast[0] == ref[0]
    assert fast[1] == ref[1]


def _cases(n: int, seed: int) -> list[dict[str, Any]]:
    return [s.case for s in generate(n, seed=seed)]


def test_generated_cases_take_the_fast_path_with_the_same_case() -> None:
    lines = [json.dumps(c) for c in _cases(400, seed=13)]
    taken = 0
    for line in lines:
        agree(line)
        taken += plain_case_line(line) is not None
    assert taken == len(lines)  # every generated case is valid and plain


def test_every_vignette_agrees() -> None:
    """Every golden vignette's case (all valid: invalid input is tested below)."""
    n_fast = 0
    for path in sorted(VIGNETTES.glob("*.yaml")):
        v = yaml.safe_load(path.read_text(encoding="utf-8"))
        line = json.dumps(v["case"], default=str)
        agree(line)
        n_fast += plain_case_line(line) is not None
    assert n_fast > 300


def _base() -> dict[str, Any]:
    return _cases(1, seed=5)[0]


def test_lines_the_fast_path_leaves_to_the_general_path() -> None:
    base = _base()
    plain = json.dumps(base)
    for line in (
        json.dumps({"case": base, "care": {"mdt_held": True}, "id": "R1"}),  # an envelope
        json.dumps({"\\u0063ase": base}).replace("\\\\u0063", "\\u0063"),  # "case", escaped
        plain[:-1],  # cut short
        plain + " x",  # trailing text
        plain.replace('"tumour"', '"tumor"'),  # a field the model does not know
        json.dumps({**base, "pathology": {**base["pathology"], "ki67_percent": 101}}),
        json.dumps([base]),
        "null",
        "",
    ):
        assert plain_case_line(line) is None, line[:80]
        agree(line)
    # a lab result with a unit the catalogue does not know: the lab check, as parse_case's
    labs = [{"analyte": "gastrin", "value": 5, "unit": "furlongs"}]
    bad_lab = {**base, "clinical": {**base.get("clinical", {}), "labs": labs}}
    assert general(json.dumps(bad_lab)) is None
    assert plain_case_line(json.dumps(bad_lab)) is None


def test_the_id_is_taken_as_written() -> None:
    base = _base()
    for written in (" R 7 ", "R\\u00e9", "X" * 120, "  "):
        line = json.dumps({**base, "case_id": written})
        agree(line)
        got = plain_case_line(line)
        assert got is not None
        assert got[1] == json.loads(line)["case_id"]  # spaces kept, as the general path does
    # the key twice (the last one counts, spaces and all), or escaped: read from the line
    line = json.dumps({**base, "case_id": "R 7"})[:-1] + ', "case_id": " R 7 "}'
    agree(line)
    assert plain_case_line(line) == (Case.model_validate(json.loads(line)), " R 7 ", True)
    line = json.dumps({**base, "case_id": "R 7"}).replace('"case_id"', '"\\u0063ase_id"')
    assert json.loads(line)["case_id"] == "R 7"
    agree(line)
    assert plain_case_line(line) == (Case.model_validate(json.loads(line)), "R 7", True)


def test_a_line_strict_mode_refuses_is_validated_lax_and_said_so() -> None:
    """The columnar backend reads a line's columns only where the model took it in strict
    mode (every value in the type it keeps): a yes/no written as text is validated as the
    general path validates it, lax, and marked not strict (a number written as text is
    refused by both since session 24: numbers are strict in the model)."""
    base = _base()
    line = json.dumps(base)
    got = plain_case_line(line)
    assert got is not None and got.strict
    pathology = {**base.get("pathology", {}), "minen_diagnosed": "false"}
    lax = json.dumps({**base, "pathology": pathology})
    agree(lax)
    got = plain_case_line(lax)
    assert got is not None and not got.strict
    assert got.case.pathology.minen_diagnosed is False
    text_number = json.dumps({**base, "patient": {**base.get("patient", {}), "age_years": "60"}})
    assert plain_case_line(text_number) is None  # the general path words the reject
    without = dict(base)
    without.pop("case_id", None)
    assert plain_case_line(json.dumps(without)) == (Case.model_validate(without), None, True)


def test_json_oddities_agree() -> None:
    plain = json.dumps(_base())
    for line in (
        plain.replace('"sex": "male"', '"sex": "male", "sex": "female"'),  # the last one wins
        plain.replace('"size_cm": ', '"size_cm": NaN, "x_": ').replace(', "x_": ', ', "size_cm": '),
        plain.replace(": 1.2", ": Infinity"),
        plain.replace('"ecog": ', '"ecog": "'),  # broken JSON
        plain.replace('"male"', '"ma\\ud800le"'),  # a lone surrogate
        plain.replace('"male"', '"ma\tle"'),  # a raw control character in a string
        plain.replace('"male"', '" male "'),  # spaces the model strips
        "\ufeff" + plain,  # a byte-order mark
    ):
        agree(line)


#: values written in place of a field: the general path and the fast path must agree on each
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "",
            " ",
            "1.5",
            "true",
            "0",
            "yes",
            "2024-02-30",
            "2020-01-01",
            " positive ",
            "G2",
            "present",
            "none",
            "unknown",
            "pancreas",
            "1e3",
            "nan",
        ]
    ),
    st.lists(st.sampled_from(["a", 1, None, "liver", True]), max_size=3),
    st.just({}),
)


def _paths(d: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    items = d.items() if isinstance(d, dict) else enumerate(d) if isinstance(d, list) else ()
    for k, v in items:
        out.append((*prefix, k))
        out += _paths(v, (*prefix, k))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 39), st.data())
def test_any_field_written_any_way_agrees(seed: int, data: st.DataObject) -> None:
    case = _cases(40, seed=21)[seed]
    paths = _paths(case)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        target = case
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = data.draw(_VALUES)
        paths = _paths(case)
    agree(json.dumps(case, allow_nan=True))


def test_a_chunk_reads_as_its_envelopes_read() -> None:
    """The rows of a chunk of plain lines (the fast path) equal those of the same cases in
    envelopes (the general path): assessed rows, ids and rejects alike."""
    cases = _cases(30, seed=8)
    cases[3]["pathology"]["ki67_percent"] = 140  # rejected by both, with the same wording
    cases[5]["case_id"] = " padded "
    plain = [(i, json.dumps(c)) for i, c in enumerate(cases, 1)]
    wrapped = [(i, json.dumps({"case": c})) for i, c in enumerate(cases, 1)]
    backend = PerCaseBackend("csco-2021", AS_OF)
    a = assess_rows(plain, "jsonl", Mapper(), backend.assess)
    b = assess_rows(wrapped, "jsonl", Mapper(), backend.assess)
    assert a.rejected == b.rejected and len(a.rejected) >= 1
    assert a.failed == b.failed
    assert a.assessed == b.assessed and len(a.assessed) == len(cases) - 1
    assert a.assessed[4].id == " padded "


def test_line_cases_make_each_case_again_from_its_line() -> None:
    """A backend that reads the lines is handed the cases validated strictly as their lines
    (``LineCases``): each is made again from its line when asked for, the same case as the
    one validated, and the cases not validated from a line are handed over as they are."""
    from nenguide.batch.rows import LineCases

    lines = [json.dumps(c) for c in _cases(30, seed=8)]
    fast = [plain_case_line(line) for line in lines]
    assert all(f is not None and f.strict for f in fast)
    kept = parse_case(_base())
    items: list[Case | str] = [*lines, kept]
    cases = LineCases(items)
    assert len(cases) == 31
    for f, case in zip(fast, cases[:30], strict=True):
        assert f is not None and case == f.case and case.model_dump() == f.case.model_dump()
    assert cases[30] is kept and cases[-1] is kept
    assert list(cases)[5] == cases[5]
    picked = cases.picked([30, 2])
    assert len(picked) == 2 and picked[0] is kept and picked[1] == cases[2]


def test_an_id_not_read_is_read_for_a_rejected_row() -> None:
    """Without ``ids`` (an output table with no id column) a line taken as a case as it is
    holds no id, but a row the backend fails on names its id as written, as with ``ids``;
    an id written with spaces is named as written (the model strips them)."""
    from nenguide.batch.backend import Failure

    lines = [
        '{"case_id": " A ", "tumour": {"primary_site": "rectum"}}',
        '{"case_id": "B", "tumour": {"primary_site": "rectum"}}',
        '{"tumour": {"primary_site": "rectum"}}',
        '{"case_id": "D", "tumour": {"primary_site": "rectum"}}',
    ]

    def assess(cases: Any, lines: Any = None) -> list[Any]:
        return [Failure("boom") if c.case_id != "B" else {"ok": c.case_id} for c in cases]

    chunk = list(enumerate(lines, 1))
    with_ids = assess_rows(chunk, "jsonl", Mapper(), assess)
    without = assess_rows(chunk, "jsonl", Mapper(), assess, ids=False)
    assert [r.id for r in with_ids.failed] == [" A ", None, "D"]
    assert without.failed == with_ids.failed
    assert [a.id for a in with_ids.assessed] == ["B"]
    assert [a.id for a in without.assessed] == [None]
    assert [a.flat for a in without.assessed] == [{"ok": "B"}]
