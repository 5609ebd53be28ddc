"""The clinical section's reshaping (``engine.case_input.clinical_input``) as Polars
expressions (``nenguide.batch.columnar.case_clinical``, part of step 2 of the columnar fact
layer, ADR 0004): every fact equal to the engine's, on every golden vignette, on generated
cases and on generated cases whose clinical section is redrawn."""

from __future__ import annotations

from case_lines import case_line, read_ready, same, varied_clinical, vignette_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenguide.batch.columnar.case_clinical import clinical_columns
from nenguide.batch.synth import generate
from nenguide.engine.case_input import clinical_input
from nenguide.model.clinical import Symptom

_SYMPTOMS = {f"sym_{s.value}" for s in Symptom}


def _check(lines: list[str]) -> int:
    """Compares the columns with the engine on each line the columns read; how many."""
    ready, frame, padded = read_ready(lines)
    if not ready:
        return 0
    got = clinical_columns(frame)
    n = 0
    for case, row, pad in zip(ready, got.to_dicts(), padded, strict=True):
        if pad:  # a padded text: the per-case path
            continue
        want = clinical_input(case, case.clinical)
        # every fact the engine makes is a column; a symptom not recorded is a null column
        assert set(want) <= set(row) and set(row) - set(want) <= _SYMPTOMS
        diffs = {k: (want.get(k), row[k]) for k in row if not same(want.get(k), row[k])}
        assert not diffs, (case.model_dump_json(), diffs)
        n += 1
    return n


def test_every_vignette_reshapes_as_the_engine() -> None:
    lines = vignette_lines()
    assert _check(lines) >= len(lines) - 20


def test_generated_cases_reshape_as_the_engine() -> None:
    lines = [case_line(g.case) for g in generate(3000, seed=23)]
    assert _check(lines) == len(lines)


_CHECKED: list[tuple[int, int]] = []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(varied_clinical(), min_size=1, max_size=10))
def test_varied_clinical_sections_reshape_as_the_engine(lines: list[str]) -> None:
    _CHECKED.append((_check(lines), len(lines)))


def test_the_varied_clinical_sections_were_mostly_compared() -> None:
    """The varied lines are mostly valid cases the columns read (not all refused)."""
    if not _CHECKED:  # run alone
        test_varied_clinical_sections_reshape_as_the_engine()
    compared, total = map(sum, zip(*_CHECKED, strict=True))
    assert compared >= 0.5 * total, (compared, total)


def test_platinum_courses_as_the_engine() -> None:
    """Months to progression after platinum-etoposide: the longest over the courses that
    progressed, unknown when one of them has none; each way through the columns as the engine
    (the drawn sections seldom give two such courses)."""
    base = next(iter(generate(1, seed=3))).case
    courses = [
        [(True, 3.0), (True, 9.0)],
        [(True, 9.0), (True, 3.0), (False, 20.0)],
        [(True, 3.0), (True, None)],
        [(None, 3.0), (False, 9.0)],
        [(False, 3.0)],
    ]
    lines = [
        case_line(
            {
                **base,
                "clinical": {
                    "prior_therapies": [
                        {
                            "therapy": "platinum_etoposide",
                            "progressed": p,
                            "months_to_progression": m,
                        }
                        for p, m in c
                    ]
                },
            }
        )
        for c in courses
    ]
    assert _check(lines) == len(lines)


def test_the_latest_study_among_equal_dates_is_the_last_listed() -> None:
    """The latest SSTR study and gastrin result where several share the latest date, or none
    is dated: the last listed of them, as the engine takes it (its columns are worked out on
    the items one row each, sorted by date and by the order listed; session 22). Forty
    studies a case, so that an order lost in the sort would show."""
    base = next(iter(generate(1, seed=3))).case
    kinds = ["sstr_pet", "sstr_spect", "ct"]
    lines = []
    for seed, dates in enumerate([[None] * 40, ["2021-03-01"] * 40, [None, "2021-03-01"] * 20]):
        studies = [
            {
                "kind": kinds[(i + seed) % 3],
                **({"date": d} if d else {}),
                **({"positive": i % 2 == 0, "krenning_score": 1 + i % 4} if i % 3 != 2 else {}),
            }
            for i, d in enumerate(dates)
        ]
        gastrin = [
            {
                "analyte": "gastrin",
                "value": 100.0 + i,
                "unit": "pg/mL",
                **({"date": d} if d else {}),
            }
            for i, d in enumerate(dates)
        ]
        clinical = {**base.get("clinical", {}), "investigations": studies, "labs": gastrin}
        lines.append(case_line({**base, "clinical": clinical}))
    assert _check(lines) == len(lines)
