"""The flat row's columns of shared parts, made once per part object (``SharedParts``): the
same rows as without it, and no row can change what other rows share."""

from __future__ import annotations

import datetime as dt
import gc
import weakref
from dataclasses import replace
from typing import Any

import pytest

from nenguide import assess, load_knowledge
from nenguide.batch.flatten import (
    ASSESSMENT_COLUMNS,
    SharedParts,
    flatten,
    flatten_parts,
    treatment_columns,
)
from nenguide.batch.io import frame_of, output_schema
from nenguide.batch.synth import generate
from nenguide.model.case import Case
from nenguide.model.frozen import FrozenList

AS_OF = dt.date(2026, 11, 23)


def _parts(a: Any) -> dict[str, Any]:
    return {
        "guideline_id": a.guideline.id,
        "guideline_version": a.guideline.version,
        "engine_version": a.engine_version,
        "as_of": a.as_of,
        "case_id": a.case_id,
        "classification": a.classification,
        "stage": a.stage,
        "liver": a.liver_metastasis,
        "syndromes": a.functional_syndromes,
        "workup": a.workup,
        "treatment": a.treatment,
        "mdt": a.mdt_discussion,
        "follow_up": a.follow_up,
        "hereditary": a.hereditary,
        "issues": a.issues,
    }


def test_rows_through_shared_parts_are_the_rows() -> None:
    kb = replace(load_knowledge(), memo={})  # a memo of its own: no other test empties it
    shared = SharedParts()
    rows = []
    cases = [Case.model_validate(s.case) for s in generate(300, seed=31)]
    for again in (False, True):
        for case in cases:
            a = assess(case, kb, as_of=AS_OF)
            row = flatten_parts(**_parts(a), shared=shared)
            assert row == flatten(a)
            assert list(row) == list(ASSESSMENT_COLUMNS)
            rows.append(row)
        if not again:
            made = len(shared._made)
    # the second time, the engine's memo gives each case the same (frozen) parts: none made
    assert len(shared._made) == made <= 6 * len(cases)
    plain = [{k: list(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows]
    schema = output_schema(None)
    assert frame_of(rows, schema).equals(frame_of(plain, schema))


def test_a_shared_list_cannot_be_changed_by_a_row() -> None:
    shared = SharedParts()
    options = FrozenList([{"code": "X", "category": "c", "available": True,
                           "level_status": "s", "rule_id": "R"}])  # fmt: skip
    first = shared.of(treatment_columns, options)
    again = shared.of(treatment_columns, options)
    assert again is first
    assert type(first["treatment_codes"]) is FrozenList
    with pytest.raises(TypeError):
        first["treatment_codes"].append("Y")
    # an equal part that is another object gets columns of its own, equal to the first's
    other = FrozenList(list(options))
    assert shared.of(treatment_columns, other) == first


def test_a_part_is_kept_while_its_columns_are() -> None:
    """Kept with its columns, a part's ``id`` cannot be given to another object."""
    shared = SharedParts()

    class Part(list[Any]):
        pass

    part = Part()
    ref = weakref.ref(part)
    shared.of(treatment_columns, part)
    del part
    gc.collect()
    assert ref() is not None
