"""ENETS type of liver metastases of a NET: I simple, II complex, III diffuse (Frilling 2014)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nenguide.engine.context import Context, fields_of
from nenguide.model.assessment import Classification, LiverMetastasis, Status

STEP = "liver_metastasis"
NOT_FOR = {"NEC", "MiNEN", "LCNEC", "SCLC"}


def liver_type(ctx: Context, facts: Mapping[str, Any], cls: Classification) -> LiverMetastasis:
    if facts["liver_mets"] is not True:
        return LiverMetastasis(status=Status.NOT_APPLICABLE, present=facts["liver_mets"])
    if cls.category in NOT_FOR:
        # the metastases are there; only their ENETS typing is for NET
        ctx.issue("LIVER_TYPE_NOT_FOR_NEC", STEP, ["metastases.liver"], category=cls.category)
        return LiverMetastasis(status=Status.NOT_APPLICABLE, present=True)
    checks = ctx.collect(STEP, ctx.table_id(STEP, "consistency"), facts)
    if checks.applies:
        for row in checks.applies:
            ctx.issue(
                row.then["code"], STEP, fields_of([c.fact for c in row.conditions]), rule_id=row.id
            )
        return LiverMetastasis(status=Status.CONFLICT, present=True)
    res = ctx.first(STEP, ctx.table_id(STEP, "type"), facts)
    if not res.decided:
        ctx.issue("LIVER_TYPE_NEEDS_DATA", STEP, fields_of(res.missing), possible=res.value)
        return LiverMetastasis(status=Status.INSUFFICIENT_DATA, present=True)
    if res.value == "unclassified":
        ctx.issue(
            "LIVER_PATTERN_UNCLASSIFIED",
            STEP,
            ["metastases.liver.extent", "metastases.liver.resectability"],
            rule_id=res.rows[0].id,
        )
        return LiverMetastasis(status=Status.CONFLICT, present=True)
    return LiverMetastasis(status=Status.DETERMINED, type=res.value, present=True)
