"""Pathological classification and grade (WHO 2019 digestive / WHO 2021 thoracic).

Differentiation is decided before grade: a well-differentiated tumour with Ki-67 > 20 % is a
NET G3, never a NEC, and proliferation alone never makes a NEC. The grade of a GEP-NET is the
higher of the Ki-67 grade and the mitotic grade. All cut-offs are in the knowledge tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from nenguide.engine import ranges
from nenguide.engine.context import Context, fields_of
from nenguide.engine.logic import OneOf
from nenguide.model.assessment import (
    Category,
    Classification,
    ComponentClassification,
    IssueKind,
    Status,
)
from nenguide.model.case import Case, TumourComponent

STEP = "classification"
CATEGORIES = frozenset(get_args(Category))


def classify(ctx: Context, case_facts: Mapping[str, Any], case: Case) -> Classification:
    family = ctx.first(STEP, ctx.table_id(STEP, "family"), case_facts).value
    # a local view: the facts of the case are never changed by a step
    facts = {**case_facts, "rule_family": family}
    system = ctx.kb.pathway.parameter(STEP, "systems")[family]

    conflicts = _consistency(ctx, facts)

    if (case.pathology.components or facts.get("minen_diagnosed")) and family == "gep":
        mix = ctx.first(STEP, ctx.table_id(STEP, "minen"), facts)
        if not mix.decided:  # shares not reported and no MiNEN diagnosis: the category is open
            ctx.issue(
                "MINEN_SHARES_NOT_STATED",
                STEP,
                ["pathology.components.percent", "pathology.minen_diagnosed"],
                possible=mix.value,
            )
            return Classification(status=Status.INSUFFICIENT_DATA, system=system)
        if mix.value == "MiNEN":
            return _minen(ctx, facts, case, system)
        if mix.value == "not_neuroendocrine":
            ctx.issue(
                "MINEN_NE_BELOW_THRESHOLD",
                STEP,
                ["pathology.components"],
                rule_id=mix.row.id if mix.row else None,
                ne_percent=facts["ne_percent"],
            )
            return Classification(status=Status.NOT_APPLICABLE, system=system)
        ctx.issue(
            "MINEN_NON_NE_BELOW_THRESHOLD",
            STEP,
            ["pathology.components"],
            rule_id=mix.row.id if mix.row else None,
            non_ne_percent=facts["non_ne_percent"],
        )

    if conflicts:
        return Classification(status=Status.CONFLICT, system=system)
    if family == "thoracic":
        return _thoracic(ctx, facts, system)
    return _gep(ctx, facts, system)


def _consistency(ctx: Context, facts: dict[str, Any]) -> list[str]:
    res = ctx.collect(STEP, ctx.table_id(STEP, "consistency"), facts)
    conflicts = []
    for row in res.applies:
        code = row.then["code"]
        fields = row.then.get("fields") or fields_of([c.fact for c in row.conditions])
        ctx.issue(code, STEP, list(fields), rule_id=row.id, **_values(row, facts))
        if ctx.issues[-1]["kind"] is IssueKind.conflict:
            conflicts.append(code)
    return conflicts


def _values(row: Any, facts: dict[str, Any]) -> dict[str, Any]:
    return {c.fact: facts.get(c.fact) for c in row.conditions}


def _grade(
    ctx: Context, ki67: float | OneOf | None, mitoses: float | OneOf | None, fields_prefix: str
) -> tuple[Any, Any, Any, bool]:
    """(combined grade or None, grade by Ki-67, grade by mitoses, discordant); an index
    reported as a range is a :class:`OneOf`, and so may be a grade."""
    g_ki = (
        ctx.first(STEP, ctx.table_id(STEP, "grade_ki67"), {"ki67_percent": ki67}).value
        if ki67 is not None
        else None
    )
    g_mi = (
        ctx.first(STEP, ctx.table_id(STEP, "grade_mitoses"), {"mitoses_per_2mm2": mitoses}).value
        if mitoses is not None
        else None
    )
    comb = ctx.first(
        STEP,
        ctx.table_id(STEP, "grade_combine"),
        {"grade_ki67": g_ki or "not_reported", "grade_mitoses": g_mi or "not_reported"},
    )
    grade = comb.value
    rule = comb.row.id if comb.row else None
    if grade == "GX":
        ctx.issue(
            "GRADE_NEEDS_PROLIFERATION",
            STEP,
            [f"{fields_prefix}.ki67_percent", f"{fields_prefix}.mitoses_per_2mm2"],
            rule_id=rule,
        )
        return None, None, None, False
    # an index reported as a range that spans a cut-off (OneOf) is neither concordant nor not
    discordant = (
        g_ki is not None
        and g_mi is not None
        and not isinstance(g_ki, OneOf)
        and not isinstance(g_mi, OneOf)
        and g_ki != g_mi
    )
    if discordant:
        ctx.issue(
            "GRADE_DISCORDANT",
            STEP,
            [f"{fields_prefix}.ki67_percent", f"{fields_prefix}.mitoses_per_2mm2"],
            rule_id=rule,
            grade_ki67=g_ki,
            grade_mitoses=g_mi,
            grade=grade,
        )
    elif g_ki is None or g_mi is None:
        missing = "mitoses_per_2mm2" if g_mi is None else "ki67_percent"
        ctx.issue(
            "GRADE_SINGLE_INDEX",
            STEP,
            [f"{fields_prefix}.{missing}"],
            rule_id=rule,
            grade=grade,
            missing=missing,
        )
    return grade, g_ki, g_mi, discordant


def _gep(ctx: Context, facts: dict[str, Any], system: str) -> Classification:
    res = ctx.first(STEP, ctx.table_id(STEP, "gep"), facts)
    if not res.decided:
        g_ki, g_mi, disc = (None, None, False)
        if facts["ki67_reported"] or facts["mitoses_reported"]:
            _, g_ki, g_mi, disc = _grade_quiet(ctx, facts)
        ctx.issue(
            "CLASSIFICATION_NEEDS_DIFFERENTIATION",
            STEP,
            fields_of(res.missing),
            possible=res.value,
        )
        return Classification(
            status=Status.INSUFFICIENT_DATA,
            system=system,
            grade_by_ki67=ranges.settled(g_ki),
            grade_by_mitoses=ranges.settled(g_mi),
            grade_discordant=disc,
            possible_categories=_candidates(res.value),
        )
    if res.value == "NET":
        grade, g_ki, g_mi, disc = _grade(
            ctx, facts["ki67_percent"], facts["mitoses_per_2mm2"], "pathology"
        )
        # a reported range may leave the grade open between candidates (engine/ranges.py)
        ranges.open_question(ctx, STEP, "grade", grade, facts, ranges.GRADE_INPUTS)
        open_grades = ranges.possible(grade)
        return Classification(
            status=Status.DETERMINED if ranges.settled(grade) else Status.INSUFFICIENT_DATA,
            category="NET",
            grade=ranges.settled(grade),
            system=system,
            grade_by_ki67=ranges.settled(g_ki),
            grade_by_mitoses=ranges.settled(g_mi),
            grade_discordant=disc,
            possible={"grade": open_grades} if open_grades else {},
        )
    subtype = _nec_subtype(ctx, facts["morphology"], "pathology.morphology")
    return Classification(
        status=Status.DETERMINED,
        category="NEC",
        nec_subtype=subtype,
        system=system,
    )


def _candidates(value: Any) -> Any:
    """The categories a table left open (a OneOf of its outputs), as a sorted list; only real
    categories (a 'conflict' output such as carcinoid_elevated_proliferation is not one)."""
    values = value.sorted() if isinstance(value, OneOf) else []
    return [v for v in values if v in CATEGORIES]


def _nec_subtype(ctx: Context, morphology: str | None, field: str) -> Any:
    res = ctx.first(STEP, ctx.table_id(STEP, "nec_subtype"), {"morphology": morphology})
    if not res.decided:
        ctx.issue("NEC_SUBTYPE_NOT_STATED", STEP, [field])
        return None
    return res.value


def _grade_quiet(ctx: Context, facts: dict[str, Any]) -> tuple[Any, Any, Any, bool]:
    """Index grades shown for information when differentiation is unknown (no issues raised)."""
    g_ki = (
        ctx.first(
            STEP, ctx.table_id(STEP, "grade_ki67"), {"ki67_percent": facts["ki67_percent"]}
        ).value
        if facts["ki67_reported"]
        else None
    )
    g_mi = (
        ctx.first(
            STEP,
            ctx.table_id(STEP, "grade_mitoses"),
            {"mitoses_per_2mm2": facts["mitoses_per_2mm2"]},
        ).value
        if facts["mitoses_reported"]
        else None
    )
    disc = g_ki is not None and g_mi is not None and g_ki != g_mi
    return None, g_ki, g_mi, disc and not isinstance(g_ki, OneOf) and not isinstance(g_mi, OneOf)


def _thoracic(ctx: Context, facts: dict[str, Any], system: str) -> Classification:
    diff = facts["differentiation"]
    if diff is None:
        ctx.issue(
            "CLASSIFICATION_NEEDS_DIFFERENTIATION",
            STEP,
            ["pathology.differentiation"],
            possible=["typical_carcinoid", "atypical_carcinoid", "LCNEC", "SCLC"],
        )
        return Classification(
            status=Status.INSUFFICIENT_DATA,
            system=system,
            possible_categories=["typical_carcinoid", "atypical_carcinoid", "LCNEC", "SCLC"],
        )
    table = (
        ctx.table_id(STEP, "thoracic_carcinoid")
        if diff == "well"
        else ctx.table_id(STEP, "thoracic_highgrade")
    )
    res = ctx.first(STEP, table, facts)
    if not res.decided:
        ctx.issue(
            "THORACIC_CLASSIFICATION_NEEDS_DATA",
            STEP,
            fields_of(res.missing),
            possible=res.value,
        )
        return Classification(
            status=Status.INSUFFICIENT_DATA,
            system=system,
            possible_categories=_candidates(res.value),
        )
    category = res.value
    if category == "carcinoid_elevated_proliferation":
        ctx.issue(
            "CONFLICT_CARCINOID_ELEVATED_PROLIFERATION",
            STEP,
            ["pathology.differentiation", "pathology.mitoses_per_2mm2"],
            rule_id=res.row.id if res.row else None,
            mitoses_per_2mm2=facts["mitoses_per_2mm2"],
        )
        return Classification(status=Status.CONFLICT, system=system)
    subtype = res.row.then.get("nec_subtype") if res.row else None
    return Classification(
        status=Status.DETERMINED, category=category, nec_subtype=subtype, system=system
    )


def _minen(ctx: Context, facts: dict[str, Any], case: Case, system: str) -> Classification:
    comps: list[ComponentClassification] = []
    subtype = None
    for i, c in enumerate(case.pathology.components):
        if c.kind.value != "neuroendocrine":
            comps.append(
                ComponentClassification(
                    kind=c.kind.value, percent=c.percent, status=Status.NOT_APPLICABLE
                )
            )
            continue
        cc = _ne_component(ctx, c, f"pathology.components.{i}")
        if cc.nec_subtype is not None:
            subtype = cc.nec_subtype
        comps.append(cc)
    return Classification(
        status=Status.DETERMINED,
        category="MiNEN",
        nec_subtype=subtype,
        system=system,
        components=comps,
    )


def _ne_component(ctx: Context, c: TumourComponent, path: str) -> ComponentClassification:
    cf = {
        "differentiation": c.differentiation.value if c.differentiation else None,
        "morphology": c.morphology.value if c.morphology else None,
    }
    res = ctx.first(STEP, ctx.table_id(STEP, "gep"), cf)
    if not res.decided:
        ctx.issue("MINEN_COMPONENT_NEEDS_DATA", STEP, [f"{path}.differentiation"])
        return ComponentClassification(
            kind=c.kind.value, percent=c.percent, status=Status.INSUFFICIENT_DATA
        )
    if res.value == "NEC":
        return ComponentClassification(
            kind=c.kind.value,
            percent=c.percent,
            category="NEC",
            nec_subtype=_nec_subtype(ctx, cf["morphology"], f"{path}.morphology"),
            status=Status.DETERMINED,
        )
    grade, _, _, _ = _grade(ctx, c.ki67_percent, c.mitoses_per_2mm2, path)
    return ComponentClassification(
        kind=c.kind.value,
        percent=c.percent,
        category="NET",
        grade=grade,
        status=Status.DETERMINED if grade else Status.INSUFFICIENT_DATA,
    )
