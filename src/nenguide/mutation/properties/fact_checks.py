"""Fact-layer properties: the low-risk rectal NET facts (the rectal part of the CSCO 2021 S8
exemption, read by the work-up) and the size-plausibility warning.

Sources: clinical-treatment.md §0.3 S8 and §5.1 (no long-term follow-up for an appendiceal or
rectal NET G1 < 1 cm after R0 resection, without nodal or distant metastases); clinical-sources-
2026-12.md §10 (encodable rule: rectum, < 10 mm, G1, R0, <= submucosa, no LVI -> no routine
imaging, no CgA, no follow-up; lymphovascular invasion is not in the case model). The
size-plausibility limits have no clinical source: they are nenguide's choice, recorded in
docs/clinical-gaps.md ("Sizes implausible for the site (unit slips)"), and the property pins
that documented rule; a second property checks that a row waits on an unknown depth only where
the site has a depth (model/case.py EXTENTS_BY_SITE) that would raise the warning.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.tables import evaluate_collect, evaluate_first
from nenguide.mutation.properties.staging import MAX_REPORTED

OPEN = "open"


def _expect(
    ref: Callable[[Mapping[str, Any]], Any], f: Mapping[str, Any], domains: Mapping[str, list[Any]]
) -> Any:
    """The reference outcome when every input left unknown (None) is completed over its
    domain: the one outcome they all give, else OPEN."""
    unknown = [n for n, v in f.items() if v is None]
    outs = {
        ref({**f, **dict(zip(unknown, vals, strict=True))})
        for vals in itertools.product(*(domains[n] for n in unknown))
    }
    return outs.pop() if len(outs) == 1 else OPEN


def _first_table_failures(
    kb: Knowledge, table_id: str, cases: Iterable[tuple[Any, dict[str, Any]]]
) -> list[str]:
    table = kb.tables[table_id]
    out: list[str] = []
    for want, facts in cases:
        res = evaluate_first(table, facts)
        got = res.value if res.decided else OPEN
        if got != want:
            out.append(f"{facts}: {res.value} (decided {res.decided}), reference {want}")
            if len(out) >= MAX_REPORTED:
                break
    return out


# --- rectal NET G1 < 1 cm within the submucosa -------------------------------------------------

SITES = ["stomach", "duodenum", "ampulla", "jejunum", "ileum", "appendix", "colon", "rectum",
         "pancreas", "lung", "thymus", "other", "unknown_primary"]  # fmt: skip
CATEGORIES = ["NET", "NEC", "MiNEN", "typical_carcinoid", "atypical_carcinoid", "LCNEC", "SCLC"]
WALL = ["mucosa", "submucosa", "muscularis_propria", "subserosa", "serosa", "adjacent_organ"]


def reference_rectal_small_g1(f: Mapping[str, Any]) -> bool:
    """Rectum, well-differentiated NET, G1, < 1 cm (10 mm), within the mucosa/submucosa."""
    return (
        f["primary_site"] == "rectum"
        and f["category"] == "NET"
        and f["grade"] == "G1"
        and f["size_cm"] < 1
        and f["extent"] in ("mucosa", "submucosa")
    )


#: Each input over its whole domain (sizes at and either side of 1 cm and of the moved bounds a
#: mutant could write), the others at a qualifying rectal NET; completions: one value per band.
SMALL_G1_AXES: dict[str, list[Any]] = {
    "primary_site": SITES,
    "category": CATEGORIES,
    "grade": ["G1", "G2", "G3"],
    "size_cm": [0.3, 0.5, 0.85, 0.95, 1.0, 1.05, 1.5, 3.0],
    "extent": WALL,
}
SMALL_G1_COMPLETIONS: dict[str, list[Any]] = {
    "primary_site": ["rectum", "colon"],
    "category": ["NET", "NEC"],
    "grade": ["G1", "G2", "G3"],
    "size_cm": [0.5, 1.0, 1.5],
    "extent": ["mucosa", "submucosa", "muscularis_propria"],
}
SMALL_G1_BASE = {
    "primary_site": "rectum",
    "category": "NET",
    "grade": "G1",
    "size_cm": 0.5,
    "extent": "submucosa",
}


@cache
def _small_g1_cases() -> tuple[tuple[Any, dict[str, Any]], ...]:
    cases: list[dict[str, Any]] = []
    for name, values in SMALL_G1_AXES.items():
        cases += [{**SMALL_G1_BASE, name: v} for v in [*values, None]]
    # every input known, unknown, or at the other side of its limit, in all combinations
    axes = [[*vals[:2], None] for vals in SMALL_G1_COMPLETIONS.values()]
    for combo in itertools.product(*axes):
        cases.append(dict(zip(SMALL_G1_COMPLETIONS, combo, strict=True)))
    # a site without wall layers (pancreas, thorax...): extent not recorded
    cases += [{**SMALL_G1_BASE, "primary_site": s, "extent": None} for s in SITES]
    return tuple((_expect(reference_rectal_small_g1, f, SMALL_G1_COMPLETIONS), f) for f in cases)


def rectal_small_g1_matches_reference(kb: Knowledge) -> list[str]:
    """CSCO S8 / ESMO 2020 and clinical-sources-2026-12.md §10: each input over its domain
    around a qualifying tumour, and every combination of known, other and unknown values."""
    return _first_table_failures(kb, "CSCO2021.FACT.RECTAL_SMALL_G1", _small_g1_cases())


def reference_rectal_low_risk_r0(f: Mapping[str, Any]) -> bool:
    """The tumour qualifies, R0-resected, not node-positive (nodes not assessed after an
    endoscopic resection do not bar it: docs/clinical-gaps.md "The follow-up exemption"), and
    distant metastases stated absent (an unknown status is not "without distant metastases")."""
    return (
        f["rectal_small_g1"] is True
        and f["resection_margin"] == "R0"
        and f["node_status"] != "positive"
        and f["met_status"] == "none"
    )


LOW_RISK_DOMAINS: dict[str, list[Any]] = {
    "rectal_small_g1": [True, False],
    "resection_margin": ["R0", "R1", "R2", "not_resected"],
    "node_status": ["negative", "positive", "not_assessed"],
    "met_status": ["none", "present", "unknown"],
}


@cache
def _low_risk_cases() -> tuple[tuple[Any, dict[str, Any]], ...]:
    names = list(LOW_RISK_DOMAINS)
    cases = []
    for combo in itertools.product(*([*v, None] for v in LOW_RISK_DOMAINS.values())):
        f = dict(zip(names, combo, strict=True))
        cases.append((_expect(reference_rectal_low_risk_r0, f, LOW_RISK_DOMAINS), f))
    return tuple(cases)


def rectal_low_risk_r0_matches_reference(kb: Knowledge) -> list[str]:
    """Every combination of the four inputs, each also unknown."""
    return _first_table_failures(kb, "CSCO2021.FACT.RECTAL_LOW_RISK_R0", _low_risk_cases())


# --- size plausibility (a documented choice, not a clinical source) ----------------------------

WALL_LIMIT_CM = 5  # docs/clinical-gaps.md: mucosa/submucosa-limited digestive-tract NEN > 5 cm
ANY_SITE_LIMIT_CM = 20  # docs/clinical-gaps.md: any primary > 20 cm
PLAUSIBILITY_SIZES = [2.6, 4.4, 4.6, 4.9, 5.0, 5.1, 5.4, 5.6, 7.0, 10.0, 10.5, 17.9, 18.1,
                      19.9, 20.0, 20.1, 21.9, 22.1, 30.0]  # fmt: skip


def reference_size_warning(extent: str | None, size: float | None) -> bool:
    """docs/clinical-gaps.md ("Sizes implausible for the site (unit slips)"): warn when a
    digestive-tract NEN limited to the mucosa/submucosa is larger than 5 cm, or any primary is
    larger than 20 cm; an unknown size or depth never raises it (a warning is not a guess).
    The digestive-tract sites are those whose wall has a mucosa and submucosa: the depths are
    probed by site from the case model's extents, so only they can be "limited to" them."""
    if size is None:
        return False
    return size > ANY_SITE_LIMIT_CM or (extent in ("mucosa", "submucosa") and size > WALL_LIMIT_CM)


@cache
def _plausibility_cases() -> tuple[tuple[bool, dict[str, Any]], ...]:
    from nenguide.engine.facts import SITE_GROUP
    from nenguide.model.case import EXTENTS_BY_SITE

    cases = []
    for site, group in SITE_GROUP.items():
        extents = sorted(e.value for e in EXTENTS_BY_SITE.get(site, ()))
        for extent, size in itertools.product([*extents, None], [*PLAUSIBILITY_SIZES, None]):
            want = reference_size_warning(extent, size)
            cases.append((want, {"site_group": group, "extent": extent, "size_cm": size}))
    return tuple(cases)


def size_plausibility_matches_documented_limits(kb: Knowledge) -> list[str]:
    """Every site with each depth its wall can have (or none recorded), at and either side of
    both limits (and of the moved bounds a mutant could write)."""
    table = kb.tables["CSCO2021.FACT.SIZE_PLAUSIBILITY"]
    out: list[str] = []
    for want, facts in _plausibility_cases():
        got = bool(evaluate_collect(table, facts).applies)
        if got != want:
            out.append(f"{facts}: warning {got}, docs/clinical-gaps.md {want}")
            if len(out) >= MAX_REPORTED:
                break
    return out


@cache
def _site_extents() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each site group with the extents the case model allows at its sites (model/case.py
    EXTENTS_BY_SITE, AJCC 8 ch. 29-34; "within_wall" reaches the tables as its wall layers)."""
    from nenguide.engine.facts import SITE_GROUP
    from nenguide.model.case import EXTENTS_BY_SITE

    groups: dict[str, set[str]] = {}
    for site, group in SITE_GROUP.items():
        ext = {e.value for e in EXTENTS_BY_SITE.get(site, ())} - {"within_wall"}
        groups.setdefault(group, set()).update(ext)
    return tuple((g, tuple(sorted(e))) for g, e in groups.items())


def size_plausibility_waits_only_on_possible_warnings(kb: Knowledge) -> list[str]:
    """A row waiting on an unknown depth or size (a candidate, named in the trace) is one that
    some value those inputs can take at the site turns into a warning, per the documented
    limits: a site whose wall has no mucosa or submucosa (ampulla, pancreas, thoracic, other,
    unknown primary) never waits on its depth for the wall-limited limit."""
    table = kb.tables["CSCO2021.FACT.SIZE_PLAUSIBILITY"]
    out: list[str] = []
    for group, extents in _site_extents():
        for extent, size in itertools.product([*extents, None], [*PLAUSIBILITY_SIZES, None]):
            f = {"site_group": group, "extent": extent, "size_cm": size}
            for row, unknown in evaluate_collect(table, f).maybe:
                exts = extents if "extent" in unknown else (extent,)
                sizes = PLAUSIBILITY_SIZES if "size_cm" in unknown else [size]
                if not any(reference_size_warning(e, z) for e in exts for z in sizes):
                    out.append(
                        f"{f}: {row.id} waits on {sorted(unknown)}, which no value at "
                        "the site turns into a warning (docs/clinical-gaps.md)"
                    )
                    if len(out) >= MAX_REPORTED:
                        return out
    return out


CHECKS: list[tuple[str, Callable[[Knowledge], list[str]]]] = [
    (
        "rectal NET G1 < 1 cm within the submucosa = CSCO S8 / ESMO 2020 (every input)",
        rectal_small_g1_matches_reference,
    ),
    (
        "R0-resected low-risk rectal NET = CSCO S8 / ESMO 2020 (every input combination)",
        rectal_low_risk_r0_matches_reference,
    ),
    (
        "size-plausibility warning = the limits documented in docs/clinical-gaps.md",
        size_plausibility_matches_documented_limits,
    ),
    (
        "size-plausibility rows wait only on depths/sizes the site can have that would warn",
        size_plausibility_waits_only_on_possible_warnings,
    ),
]
