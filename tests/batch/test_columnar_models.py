"""The columnar backend makes the core steps' models once per distinct set of core columns and
shares them between the rows of a cohort: the shared models are frozen throughout (a list or
dict field as well as the model), and a row gets the model its own columns describe."""

from __future__ import annotations

import pytest

from nenguide.batch.columnar.models import CLASSIFICATION, STAGE, Models, from_row
from nenguide.model.assessment import Classification, Stage
from nenguide.model.frozen import FrozenDict, FrozenList


def _row(grade: str, t: str) -> dict[str, object]:
    r: dict[str, object] = {f"classification_{k}": None for k in CLASSIFICATION}
    r.update(
        classification_status="DETERMINED",
        classification_category="NET",
        classification_grade=grade,
        classification_grade_discordant=False,
    )
    r.update({f"stage_{k}": None for k in STAGE})
    r.update(stage_status="DETERMINED", stage_t=t)
    return r


def test_equal_columns_share_one_frozen_model_and_others_get_their_own() -> None:
    models = Models()
    a = models.get(Classification, "classification", CLASSIFICATION, _row("G1", "T1"))
    b = models.get(Classification, "classification", CLASSIFICATION, _row("G1", "T2"))
    c = models.get(Classification, "classification", CLASSIFICATION, _row("G2", "T1"))
    assert a is b  # the classification's own columns are equal
    assert c is not a and c.grade == "G2" and a.grade == "G1"
    assert a == from_row(Classification, "classification", CLASSIFICATION, _row("G1", "T1"))
    assert type(a.possible) is FrozenDict and type(a.possible_categories) is FrozenList
    with pytest.raises(TypeError):
        a.possible_categories.append("NEC")
    s1 = models.get(Stage, "stage", STAGE, _row("G1", "T1"))
    s2 = models.get(Stage, "stage", STAGE, _row("G2", "T2"))
    assert (s1.t, s2.t) == ("T1", "T2")


def test_a_row_gets_the_three_models_its_columns_describe() -> None:
    """One look-up a row (:meth:`Models.of_row`), each model still made once per distinct
    set of its own columns."""
    models = Models()

    def vals(grade: str, t: str, liver: str | None) -> tuple[object, ...]:
        r = {
            **_row(grade, t),
            "liver_metastasis_status": "DETERMINED",
            "liver_metastasis_type": liver,
        }
        return tuple(r[c] for c in models.columns)

    a = models.of_row(vals("G1", "T1", None))
    assert models.of_row(vals("G1", "T1", None)) is a
    b = models.of_row(vals("G1", "T2", "I"))
    assert b[0] is a[0]  # the classification's own columns are equal: one model
    assert (b[1].t, b[2].type, a[1].t, a[2].type) == ("T2", "I", "T1", None)
    c = models.of_row(vals("G2", "T1", None))
    assert c[0].grade == "G2" and c[1] is a[1] and c[2] is a[2]
    assert a[0] == from_row(Classification, "classification", CLASSIFICATION, _row("G1", "T1"))
