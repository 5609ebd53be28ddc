"""One assessment as one flat row: the contract's keys joined with ``_`` (``classification_grade``,
``stage_t``, ``follow_up_lifelong``...), with list columns for treatment options, syndromes,
work-up items and issues. The column list and types are fixed here so that every chunk of a batch
(and every Spark partition) has the same schema.

Dtypes are given as plain names (``str``, ``bool``, ``date``, ``list[str]``, ``list[bool]``) so
this module needs neither Polars nor Arrow; the writers turn them into their own types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nenguide.engine.context import MEMO_LIMIT
from nenguide.model.assessment import Assessment, Classification, LiverMetastasis, Stage
from nenguide.model.frozen import FrozenList

#: Output columns of an assessment, in order, with their type.
ASSESSMENT_COLUMNS: dict[str, str] = {
    "guideline_id": "str",
    "guideline_version": "str",
    "engine_version": "str",
    "as_of": "date",
    "case_id": "str",
    "classification_status": "str",
    "classification_category": "str",
    "classification_grade": "str",
    "classification_nec_subtype": "str",
    "classification_system": "str",
    "classification_grade_by_ki67": "str",
    "classification_grade_by_mitoses": "str",
    "classification_grade_discordant": "bool",
    "classification_functional": "bool",
    "stage_status": "str",
    "stage_system": "str",
    "stage_prefix": "str",
    "stage_t": "str",
    "stage_n": "str",
    "stage_m": "str",
    "stage_group": "str",
    "stage_t_suffix": "str",
    "stage_reason": "str",
    "liver_metastasis_type": "str",
    "liver_metastasis_status": "str",
    "functional_syndromes": "list[str]",
    "functional_syndromes_status": "list[str]",
    "workup_codes": "list[str]",
    "treatment_codes": "list[str]",
    "treatment_categories": "list[str]",
    "treatment_available": "list[bool]",
    "treatment_level_status": "list[str]",
    "treatment_rule_ids": "list[str]",
    "treatment_status": "list[str]",
    "mdt_discussion_required": "bool",
    "mdt_discussion_reasons": "list[str]",
    "follow_up_status": "str",
    "follow_up_lifelong": "bool",
    "follow_up_rule_id": "str",
    "follow_up_visits": "int",
    "hereditary_status": "str",
    "hereditary_testing_recommended": "bool",
    "hereditary_syndromes": "list[str]",
    "hereditary_genes": "list[str]",
    "issue_codes": "list[str]",
    "issue_kinds": "list[str]",
}


def flatten(a: Assessment) -> dict[str, Any]:
    """The flat row of one assessment (keys: :data:`ASSESSMENT_COLUMNS`)."""
    return flatten_parts(
        guideline_id=a.guideline.id,
        guideline_version=a.guideline.version,
        engine_version=a.engine_version,
        as_of=a.as_of,
        case_id=a.case_id,
        classification=a.classification,
        stage=a.stage,
        liver=a.liver_metastasis,
        syndromes=a.functional_syndromes,
        workup=a.workup,
        treatment=a.treatment,
        mdt=a.mdt_discussion,
        follow_up=a.follow_up,
        hereditary=a.hereditary,
        issues=a.issues,
    )


def flatten_parts(
    *,
    guideline_id: str,
    guideline_version: str,
    engine_version: str,
    as_of: Any,
    case_id: str | None,
    classification: Classification,
    stage: Stage,
    liver: LiverMetastasis,
    syndromes: Sequence[Mapping[str, Any]],
    workup: Sequence[Mapping[str, Any]],
    treatment: Sequence[Mapping[str, Any]],
    mdt: Mapping[str, Any] | None,
    follow_up: Mapping[str, Any] | None,
    hereditary: Mapping[str, Any] | None,
    issues: Sequence[Mapping[str, Any]],
    shared: SharedParts | None = None,
) -> dict[str, Any]:
    """The flat row from the parts of an assessment (what :func:`flatten` reads; the columnar
    backend builds rows from the parts without an :class:`Assessment`). ``shared``: the parts
    shared between cases (classification, stage, liver type, work-up, treatment, MDT flag) read
    through it, each once per part object (:class:`SharedParts`)."""
    of = shared.of if shared is not None else _made
    return {
        "guideline_id": guideline_id,
        "guideline_version": guideline_version,
        "engine_version": engine_version,
        "as_of": as_of,
        "case_id": case_id,
        **of(classification_columns, classification),
        **of(stage_columns, stage),
        **of(liver_columns, liver),
        **syndrome_columns(syndromes),
        **of(workup_columns, workup),
        **of(treatment_columns, treatment),
        **of(mdt_columns, mdt),
        **follow_up_columns(follow_up),
        **hereditary_columns(hereditary),
        **issue_columns(issues),
    }


def _made(make: Callable[[Any], dict[str, Any]], part: Any) -> dict[str, Any]:
    return make(part)


class SharedParts:
    """The flat row's columns of each part object, made once (:func:`flatten_parts`).

    The columnar backend's step outputs are shared between the cases with the same answer
    (the core steps' models per distinct set of core columns, work-up per outcome of its
    table, treatment and the MDT flag per set of answers of its tables) and frozen, so a chunk
    has a few hundred distinct ones: their columns are made once and the rows that show them
    share them. A shared list column is a :class:`FrozenList`, which no row can change. Kept
    with the part itself (a part's ``id`` is not reused while it is kept), at most
    :data:`~nenguide.engine.context.MEMO_LIMIT` parts."""

    def __init__(self) -> None:
        self._made: dict[int, tuple[Any, dict[str, Any]]] = {}

    def of(self, make: Callable[[Any], dict[str, Any]], part: Any) -> dict[str, Any]:
        hit = self._made.get(id(part))
        if hit is not None and hit[0] is part:
            return hit[1]
        cols = {k: FrozenList(v) if type(v) is list else v for k, v in make(part).items()}
        if len(self._made) > MEMO_LIMIT:
            self._made.clear()
        self._made[id(part)] = (part, cols)
        return cols


def classification_columns(c: Classification) -> dict[str, Any]:
    return {
        "classification_status": c.status.value,
        "classification_category": c.category,
        "classification_grade": c.grade,
        "classification_nec_subtype": c.nec_subtype,
        "classification_system": c.system,
        "classification_grade_by_ki67": c.grade_by_ki67,
        "classification_grade_by_mitoses": c.grade_by_mitoses,
        "classification_grade_discordant": c.grade_discordant,
        "classification_functional": c.functional,
    }


def stage_columns(s: Stage) -> dict[str, Any]:
    return {
        "stage_status": s.status.value,
        "stage_system": s.system,
        "stage_prefix": s.prefix,
        "stage_t": s.t,
        "stage_n": s.n,
        "stage_m": s.m,
        "stage_group": s.group,
        "stage_t_suffix": s.t_suffix,
        "stage_reason": s.reason,
    }


def liver_columns(liver: LiverMetastasis) -> dict[str, Any]:
    return {
        "liver_metastasis_type": liver.type,
        "liver_metastasis_status": liver.status.value,
    }


def syndrome_columns(syndromes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "functional_syndromes": [f["syndrome"] for f in syndromes],
        "functional_syndromes_status": [f["status"] for f in syndromes],
    }


def workup_columns(workup: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"workup_codes": [w["code"] for w in workup]}


def treatment_columns(tx: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "treatment_codes": [t["code"] for t in tx],
        "treatment_categories": [t["category"] for t in tx],
        "treatment_available": [t["available"] for t in tx],
        "treatment_level_status": [t["level_status"] for t in tx],
        "treatment_rule_ids": [t["rule_id"] for t in tx],
        # recommended / conditional (issue 8); null where the engine does not give it
        "treatment_status": [_opt_status(t.get("status")) for t in tx],
    }


def mdt_columns(mdt: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "mdt_discussion_required": mdt["required"] if mdt else None,
        "mdt_discussion_reasons": list(mdt["reasons"]) if mdt else [],
    }


def follow_up_columns(fu: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "follow_up_status": _status(fu["status"]) if fu else None,
        "follow_up_lifelong": fu["lifelong"] if fu else None,
        "follow_up_rule_id": fu["rule_id"] if fu else None,
        "follow_up_visits": len(fu["visits"]) if fu else None,
    }


def hereditary_columns(he: Mapping[str, Any] | None) -> dict[str, Any]:
    """The flat row's columns of the hereditary step's output (it reads :data:`HEREDITARY`)."""
    return {
        "hereditary_status": _status(he["status"]) if he else None,
        "hereditary_testing_recommended": he["testing_recommended"] if he else None,
        "hereditary_syndromes": list(he["syndromes"]) if he else [],
        "hereditary_genes": list(he["genes"]) if he else [],
    }


#: the fields of the hereditary step's output the flat row shows
HEREDITARY = ("status", "testing_recommended", "syndromes", "genes")


def issue_columns(issues: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """The flat row's columns of the issues."""
    return {
        "issue_codes": [i["code"] for i in issues],
        "issue_kinds": [_status(i["kind"]) for i in issues],
    }


def _opt_status(v: Any) -> str | None:
    return None if v is None else _status(v)


def _status(v: Any) -> str:
    return str(getattr(v, "value", v))
