"""TNM stage: AJCC 8th NET chapters for GEP-NETs, lung TNM 8th for thoracic NENs, the organ's
carcinoma system for NEC/MiNEN where it is encoded, otherwise an explicit "not staged".

The staging system is chosen by a table from site and classification; each system names its T,
N, M and stage-group tables. Unknown inputs propagate as sets of possible categories, so a stage
group is reported whenever every completion of the data agrees (e.g. T4 NX M0 is stage III).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from nenguide.engine import ranges
from nenguide.engine.context import Context, fields_of
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf, one_of
from nenguide.engine.tables import Table, TableResult, evaluate_first
from nenguide.model.assessment import Classification, Stage, Status
from nenguide.model.case import Case, StagingBasis

STEP = "stage"

PREFIX = {
    StagingBasis.clinical: "c",
    StagingBasis.pathological: "p",
    StagingBasis.post_therapy: "yp",
}
UNKNOWN_CATEGORIES = {"TX", "NX", "MX"}


def _category(cls: Classification) -> Any:
    """The category the staging system is chosen by: the classified one, else the set the
    classification still allows (a chapter every candidate shares is settled)."""
    if cls.category is not None:
        return cls.category
    return one_of(cls.possible_categories) if cls.possible_categories else None


def stage(ctx: Context, case_facts: Mapping[str, Any], case: Case, cls: Classification) -> Stage:
    # a local view: the facts of the case are never changed by a step
    facts = {**case_facts, "category": _category(cls)}
    sysres = ctx.first(STEP, ctx.table_id(STEP, "system"), facts)
    if not sysres.decided:
        return _open_system(ctx, facts, case, sysres)
    if sysres.rows[0].then["system"] is None and not sysres.rows[0].then.get("not_staged"):
        ctx.issue("STAGE_NEEDS_CLASSIFICATION", STEP, ["pathology.differentiation"])
        return Stage(status=Status.INSUFFICIENT_DATA)
    spec = sysres.rows[0].then
    if spec.get("not_staged"):
        reason = spec["not_staged"]
        ctx.issue(
            "STAGE_NOT_STAGED",
            STEP,
            ["tumour.primary_site"],
            rule_id=sysres.rows[0].id,
            reason=ctx.text(f"not_staged.{reason}"),
        )
        return Stage(status=Status.NOT_APPLICABLE, reason=reason)
    system: str = spec["system"]

    prefix = _prefix(ctx, case)

    # contradictions in the nodal/metastatic data were reported once by the fact layer, which
    # made the contradicted facts unknown for every step
    conflicted = list(facts.get("conflicted") or ())

    flags = ctx.collect(STEP, ctx.table_id(STEP, "flags"), {**facts, "system": system})
    t_open: list[str] = []
    for row in flags.applies:
        t_open += row.then.get("t_candidates") or []
        ctx.issue(
            row.then["code"],
            STEP,
            list(row.then.get("fields") or ["tumour.size_cm"]),
            rule_id=row.id,
            size_cm=facts["size_cm"],
            system=system,
            candidates=row.then.get("t_candidates") or [],
        )
    facts["t_open_candidates"] = t_open

    cats, g, group_table = _tnm(ctx, facts, spec)

    possible: dict[str, list[str]] = {}
    open_fields: set[str] = set()
    open_cats: list[str] = []
    for k, (v, missing) in cats.items():
        if isinstance(v, OneOf):
            possible[k] = [str(x) for x in v.sorted() if x not in UNKNOWN_CATEGORIES]
            open_fields |= missing
            open_cats.append(k.upper())
        elif v is None or v in UNKNOWN_CATEGORIES:
            open_fields |= missing or _fields_for_unknown(k)
            open_cats.append(k.upper())

    # a size reported as a range may leave T open between candidates (engine/ranges.py)
    ranges.open_question(ctx, STEP, "t", cats["t"][0], facts, ranges.T_INPUTS)
    common = dict(
        system=system,
        prefix=prefix,
        t=_show(cats["t"][0], ctx.kb, spec.get("t_table")),
        n=_show(cats["n"][0], ctx.kb, spec.get("n_table")),
        m=_show(cats["m"][0], ctx.kb, spec.get("m_table")),
        t_suffix=_suffix(facts),
        possible=possible,
    )
    if g.decided:
        if g.value is None:
            ctx.issue("STAGE_NO_TUMOUR_EVIDENCE", STEP, ["tumour"], rule_id=g.rows[0].id)
            return Stage(status=Status.NOT_APPLICABLE, group=None, **common)
        if open_fields:
            ctx.issue(
                "STAGE_NEEDS_DATA",
                STEP,
                fields_of(open_fields),
                categories=open_cats,
                group=g.value,
                complete=False,
            )
        return Stage(status=Status.DETERMINED, group=g.value, **common)
    coarse = _common_ancestor(group_table, g.value)
    possible["group"] = [str(x) for x in g.value.sorted()] if isinstance(g.value, OneOf) else []
    ctx.issue(
        "STAGE_NEEDS_DATA",
        STEP,
        fields_of(open_fields or g.missing),
        categories=open_cats or ["T", "N", "M"],
        group=coarse or "?",
        complete=True,
    )
    status = Status.CONFLICT if conflicted or facts.get("t_conflict") else Status.INSUFFICIENT_DATA
    return Stage(status=status, group=coarse, **common)


def _prefix(ctx: Context, case: Case) -> Any:
    if case.staging_basis is None:
        ctx.issue("STAGING_BASIS_MISSING", STEP, ["staging_basis"])
        return None
    return PREFIX[case.staging_basis]


def _suffix(facts: Mapping[str, Any]) -> str | None:
    """'(m)' for multiple primary tumours (a count, or words and bounds such as 'multiple')."""
    return "(m)" if facts.get("multiple_primaries") is True else None


def _tnm(
    ctx: Context, facts: dict[str, Any], spec: Mapping[str, Any]
) -> tuple[dict[str, tuple[Any, AbstractSet[str]]], TableResult, Table]:
    """T, N and M (value or candidates, with the inputs they need) and the stage group."""
    t_res = _t(ctx, facts, dict(spec))
    n_res = ctx.first(STEP, spec["n_table"], facts)
    m_res = ctx.first(STEP, spec["m_table"], facts)
    cats: dict[str, tuple[Any, AbstractSet[str]]] = {
        "t": t_res,
        "n": (n_res.value, n_res.missing),
        "m": (m_res.value, m_res.missing),
    }
    gfacts = {k: _known(v) for k, (v, _) in cats.items()}
    g = ctx.first(STEP, spec["group_table"], gfacts)
    return cats, g, ctx.kb.table(spec["group_table"])


def _open_system(ctx: Context, facts: dict[str, Any], case: Case, sysres: TableResult) -> Stage:
    """The staging chapter is open (the classification is): every candidate chapter is
    evaluated, and each of T, N, M and the group that all of them agree on is given (M1 is
    stage IV, N0 is N0 under every GEP chapter), with the open part named. A candidate that is
    not staged (or not encoded) leaves everything open."""
    # one completion per category the classification still allows (a row that is only a
    # fallback, e.g. a site/category mismatch, is a candidate of no completion)
    cands = facts["category"].sorted() if isinstance(facts["category"], OneOf) else []
    specs: list[Mapping[str, Any]] = []
    for c in cands:
        res = ctx.first(STEP, ctx.table_id(STEP, "system"), {**facts, "category": c})
        if not res.decided or not res.rows:
            specs = []
            break
        if res.rows[0].then not in specs:
            specs.append(res.rows[0].then)
    if not specs or any(sp.get("system") is None for sp in specs):
        ctx.issue("STAGE_NEEDS_CLASSIFICATION", STEP, ["pathology.differentiation"])
        return Stage(status=Status.INSUFFICIENT_DATA)
    shown: dict[str, set[Any]] = {"t": set(), "n": set(), "m": set(), "group": set()}
    values: dict[str, set[str]] = {"t": set(), "n": set(), "m": set(), "group": set()}
    for sp in specs:
        cats, g, group_table = _tnm(ctx, facts, sp)
        for k in ("t", "n", "m"):
            shown[k].add(_show(cats[k][0], ctx.kb, sp.get(f"{k}_table")))
            values[k].update(_candidate_values(cats[k][0]))
        shown["group"].add(g.value if g.decided else _common_ancestor(group_table, g.value))
        values["group"].update(_candidate_values(g.value))
    agreed = {k: _agree(ctx.kb, specs, k, v) for k, v in shown.items()}
    systems = sorted(str(sp["system"]) for sp in specs)
    possible = {"system": systems}
    for k in ("t", "n", "m", "group"):
        if agreed[k] is None or len(values[k]) > 1:
            possible[k] = sorted(values[k])
    open_keys = [k.upper() for k in ("t", "n", "m", "group") if agreed[k] is None]
    ctx.issue(
        "STAGE_CHAPTER_OPEN",
        STEP,
        ["pathology.differentiation", "pathology.morphology"],
        systems=systems,
        categories=open_keys or ["-"],
    )
    return Stage(
        status=Status.INSUFFICIENT_DATA,
        prefix=_prefix(ctx, case),
        t=agreed["t"],
        n=agreed["n"],
        m=agreed["m"],
        group=agreed["group"],
        t_suffix=_suffix(facts),
        possible=possible,
    )


def stage_group(kb: Knowledge, group_table: str, t: Any, n: Any, m: Any) -> tuple[str | None, bool]:
    """Stage group for T/N/M categories ('TX'/'NX' = unknown): (group or coarser group, decided).

    Used by the oracle tests and by adapters that already hold T, N and M.
    """
    table = kb.table(group_table)
    res = evaluate_first(table, {"t": _known(t), "n": _known(n), "m": _known(m)})
    if res.decided:
        return res.value, True
    return _common_ancestor(table, res.value), False


def _t(ctx: Context, facts: dict[str, Any], spec: dict[str, Any]) -> tuple[Any, AbstractSet[str]]:
    res = ctx.first(STEP, spec["t_table"], facts)
    desc_table = spec.get("t_descriptor_table")
    if not desc_table:
        return _t_reported(ctx, facts, spec["t_table"], res.value, set(res.missing))
    # Lung: T is the higher of the size category and the highest descriptor category.
    order: list[str] = ctx.kb.parameters["lung_t_order"]
    rank = {t: i for i, t in enumerate(order)}
    sizes = _values(res, order)
    descriptors = facts.get("lung_descriptors")
    missing = set(res.missing)
    if descriptors is None:
        dmin: set[str | None] = {None, *ctx.kb.parameters["lung_descriptor_levels"]}
        missing.add("lung_descriptors")
    else:
        levels: list[str] = []
        for d in sorted(descriptors):
            dres = ctx.first(STEP, desc_table, {"lung_descriptor": d})
            levels.append(dres.value)
        dmin = {max(levels, key=rank.__getitem__)} if levels else {None}
    combined = {s if d is None else (s if rank[s] >= rank[d] else d) for s in sizes for d in dmin}
    value = one_of(combined)
    ctx.note(
        STEP,
        value,
        {
            "t_by_size": res.value,
            "t_by_descriptors": sorted((x for x in dmin if x), key=rank.__getitem__),
        },
        ["T = higher of size and descriptor T"],
    )
    return value, (missing if isinstance(value, OneOf) else set())


def _t_reported(
    ctx: Context, facts: dict[str, Any], t_table: str, value: Any, missing: set[str]
) -> tuple[Any, AbstractSet[str]]:
    """T with what the report adds: a reported pT is the T when the depth and size leave it
    among the candidates (traced as taken from the report), a conflict when they exclude it;
    a finding the sources give no T category (flags' t_candidates) keeps T open."""
    reported = facts.get("reported_t")
    extra = list(facts.get("t_open_candidates") or ())
    if reported is None and not extra:
        return value, missing
    table_ts = [str(r.then["t"]) for r in ctx.kb.table(t_table).rows if r.then.get("t")]
    if isinstance(value, OneOf):
        cands = {str(x) for x in value.values if x is not None}
    elif value is None or value in UNKNOWN_CATEGORIES:
        cands = set(table_ts)
    else:
        cands = {str(value)}
    out: Any = value
    if reported is not None:
        if reported not in table_ts:
            ctx.issue(
                "REPORTED_PT_OTHER_CHAPTER",
                STEP,
                ["tumour.reported_pt"],
                reported=facts.get("reported_t_text") or reported,
                values=sorted(set(table_ts)),
            )
        elif reported in cands:
            out = reported
            missing = set()
            ctx.note(
                STEP,
                reported,
                {"reported_pt": facts.get("reported_t_text"), "t_by_depth_and_size": value},
                ["T taken from the report's pT (the depth and size given allow it)"],
            )
        else:
            ctx.issue(
                "CONFLICT_REPORTED_PT",
                STEP,
                ["tumour.reported_pt", "tumour.extent", "tumour.size_cm"],
                reported=facts.get("reported_t_text") or reported,
                derived=sorted(cands),
            )
            out = one_of(cands | {reported})
            facts["t_conflict"] = True
            missing = {"reported_pt", "extent", "size_cm"}
    if extra:
        base = (
            {str(x) for x in out.values}
            if isinstance(out, OneOf)
            else (set(table_ts) if out is None else {str(out)})
        )
        out = one_of(base | set(extra))
        if isinstance(out, OneOf):
            missing = missing | {"venous_tumour_thrombus", "extent"}
    return out, missing


def _values(res: TableResult, order: list[str]) -> list[str]:
    v = res.value
    if isinstance(v, OneOf):
        return list(v.values)
    if v is None:
        return list(order)
    return [v]


def _agree(kb: Knowledge, specs: list[Mapping[str, Any]], key: str, shown: set[Any]) -> Any:
    """The value every candidate chapter gives for ``key``, or the most specific coarser
    value they share (M1a in one chapter, M1 in another: M1); None when they differ."""
    if None in shown:
        return None
    if len(shown) == 1:
        return next(iter(shown))
    parents: dict[str, str] = {}
    for sp in specs:
        parents.update(kb.table(sp[f"{key}_table"]).spec.coarse)

    def chain(v: str) -> list[str]:
        out = [v]
        while out[-1] in parents and parents[out[-1]] not in out:
            out.append(parents[out[-1]])
        return out

    chains = [chain(str(v)) for v in sorted(shown)]
    for candidate in chains[0]:
        if all(candidate in c for c in chains[1:]):
            return candidate
    return None


def _candidate_values(v: Any) -> set[str]:
    vals = v.sorted() if isinstance(v, OneOf) else [v]
    return {str(x) for x in vals if x is not None and x not in UNKNOWN_CATEGORIES}


def _known(v: Any) -> Any:
    if isinstance(v, str) and v in UNKNOWN_CATEGORIES:
        return None
    return v


def _show(v: Any, kb: Knowledge | None = None, table_id: str | None = None) -> str | None:
    """A category as shown: candidates that share a coarser category (the table's ``coarse``
    map, e.g. M1a or M1c -> M1) show it; MX is not an AJCC 8th category: an unknown M is
    shown as null with the issue saying why."""
    if isinstance(v, OneOf):
        if kb is None or table_id is None:
            return None
        return _common_ancestor(kb.table(table_id), v)
    if v is None or v == "MX":
        return None
    return str(v)


def _fields_for_unknown(category: str) -> set[str]:
    return {
        "t": {"extent", "size_cm"},
        "n": {"node_status"},
        "m": {"met_status"},
    }[category]


def _common_ancestor(table: Table, value: Any) -> str | None:
    """The most specific group every candidate shares, following the table's ``coarse`` map."""
    if not isinstance(value, OneOf):
        return None if value is None else str(value)
    parents = table.spec.coarse

    def chain(v: str) -> list[str]:
        out = [v]
        while out[-1] in parents:
            out.append(parents[out[-1]])
        return out

    chains = [chain(str(v)) for v in value.values if v is not None]
    if len(chains) != len(value.values):
        return None
    for candidate in chains[0]:
        if all(candidate in c for c in chains[1:]):
            return candidate
    return None
