"""Staging and grading properties: grade and stage-group monotonicity, and the T categories,
stage groups and staging system recomputed from the cited AJCC 8th / TNM 8th definitions."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

from nenguide import assess
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.stage import stage_group
from nenguide.engine.tables import evaluate_collect, evaluate_first
from nenguide.errors import parse_case

MAX_REPORTED = 10  # a grid stops at this many failures (enough to show what is wrong)
AS_OF = dt.date(2026, 11, 23)
GRADE_RANK = {"G1": 1, "G2": 2, "G3": 3}
GEP_T = ["T1", "T2", "T3", "T4"]
#: T, N and M categories of each stage-group table, from least to most advanced.
ORDERS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "CSCO2021.STAGE.NET.GROUP": (GEP_T, ["N0", "N1"], ["M0", "M1a"]),
    "CSCO2021.STAGE.NET.JI.GROUP": (GEP_T, ["N0", "N1", "N2"], ["M0", "M1b"]),
    "CSCO2021.STAGE.NET.CR.GROUP": (["T1a", "T1b", "T2", "T3", "T4"], ["N0", "N1"], ["M0", "M1c"]),
    "CSCO2021.STAGE.LUNG.GROUP": (
        ["T1a", "T1b", "T1c", "T2a", "T2b", "T3", "T4"],
        ["N0", "N1", "N2", "N3"],
        ["M0", "M1a", "M1c"],
    ),
    "CSCO2021.STAGE.PANCREAS_EXO.GROUP": (
        ["T1a", "T1b", "T1c", "T2", "T3", "T4"],
        ["N0", "N1", "N2"],
        ["M0", "M1"],
    ),
}
GROUP_ORDER = [
    "I", "IA", "IA1", "IA2", "IA3", "IB", "II", "IIA", "IIB",
    "III", "IIIA", "IIIB", "IIIC", "IV", "IVA", "IVB",
]  # fmt: skip
#: (Ki-67 %, mitoses per 2 mm², grade) at and around the WHO 2019 GEP-NET grade thresholds
#: (Ki-67 < 3 / 3-20 / > 20 %; mitoses < 2 / 2-20 / > 20 per 2 mm²).
GRADE_BOUNDARIES: list[tuple[float | None, float | None, str]] = [
    (2.9, None, "G1"),
    (3, None, "G2"),
    (3.1, None, "G2"),
    (20, None, "G2"),
    (20.1, None, "G3"),
    (None, 1, "G1"),
    (None, 1.9, "G1"),
    (None, 2, "G2"),
    (None, 20, "G2"),
    (None, 21, "G3"),
    (1, 21, "G3"),
    (25, 1, "G3"),
    (2, 5, "G2"),
]
KI67_GRID = [0.0, 1.0, 2.5, 2.9, 3.0, 3.1, 10.0, 19.9, 20.0, 20.1, 35.0, 55.0, 100.0]
MITOSES_GRID = [0.0, 1.0, 1.9, 2.0, 2.1, 10.0, 19.9, 20.0, 20.1, 21.0, 50.0]


def well_differentiated_grade(
    kb: Knowledge, site: str, ki67: float | None, mitoses: float | None
) -> str | None:
    path: dict[str, Any] = {"differentiation": "well"}
    if ki67 is not None:
        path["ki67_percent"] = ki67
    if mitoses is not None:
        path["mitoses_per_2mm2"] = mitoses
    case = parse_case({"tumour": {"primary_site": site}, "pathology": path})
    return assess(case, kb, as_of=AS_OF).classification.grade


def grade_boundaries(kb: Knowledge) -> list[str]:
    out = []
    for k, m, want in GRADE_BOUNDARIES:
        got = well_differentiated_grade(kb, "pancreas", k, m)
        if got != want:
            out.append(f"Ki-67 {k}, mitoses {m}: grade {got}, expected {want}")
    return out


def grade_monotone(kb: Knowledge) -> list[str]:
    """Raising Ki-67 or mitoses (or both) never lowers the grade; either index alone grades."""
    grades: dict[tuple[float | None, float | None], str | None] = {}
    for k in [None, *KI67_GRID]:
        for m in [None, *MITOSES_GRID]:
            if k is None and m is None:
                continue
            grades[(k, m)] = well_differentiated_grade(kb, "pancreas", k, m)
    out = [f"Ki-67 {k}, mitoses {m}: no grade" for (k, m), g in grades.items() if g is None]
    if out:
        return out
    for (k1, m1), g1 in grades.items():
        for (k2, m2), g2 in grades.items():
            le_k = k1 == k2 or (k1 is not None and k2 is not None and k1 <= k2)
            le_m = m1 == m2 or (m1 is not None and m2 is not None and m1 <= m2)
            if le_k and le_m and GRADE_RANK[str(g1)] > GRADE_RANK[str(g2)]:
                out.append(f"({k1}, {m1}) -> {g1} but ({k2}, {m2}) -> {g2}")
    return out


def stage_monotone(kb: Knowledge, table: str) -> list[str]:
    """Every T/N/M combination has a decided group, and none falls when T, N or M rises."""
    ts, ns, ms = ORDERS[table]
    groups: dict[tuple[int, int, int], str] = {}
    out: list[str] = []
    for ti, ni, mi in itertools.product(range(len(ts)), range(len(ns)), range(len(ms))):
        group, decided = stage_group(kb, table, ts[ti], ns[ni], ms[mi])
        if not decided or not group or group not in GROUP_ORDER:
            out.append(f"{ts[ti]} {ns[ni]} {ms[mi]}: group {group!r} (decided: {decided})")
        else:
            groups[(ti, ni, mi)] = group
    for (ti, ni, mi), g in groups.items():
        for step in ((1, 0, 0), (0, 1, 0), (0, 0, 1)):
            nxt = (ti + step[0], ni + step[1], mi + step[2])
            h = groups.get(nxt)
            if h is not None and GROUP_ORDER.index(h) < GROUP_ORDER.index(g):
                out.append(f"{table}: {ts[ti]} {ns[ni]} {ms[mi]} -> {g} but a step up -> {h}")
    return out


# --- reference grids: whole tables recomputed from the cited staging definitions ---------------

#: Sizes probed for every T table: each AJCC size limit (0.5, 1, 2, 3, 4, 5, 7 cm), just below,
#: at and just above it, and the issue-13 band (1.2-1.5 cm).
SIZES = [0.3, 0.5, 0.6, 0.9, 1.0, 1.1, 1.2, 1.5, 1.9, 2.0, 2.1, 2.9, 3.0, 3.1, 3.9, 4.0, 4.1,
         4.9, 5.0, 5.1, 6.9, 7.0, 7.1, 9.0]  # fmt: skip


def ajcc8_gep_t(site: str, size: float, extent: str) -> str:
    """AJCC 8th ch. 29-34 T category of a well-differentiated GEP-NET (clinical-pathology-staging.md
    §3.1-3.6; 1.0 cm ties resolved as in its §9 item 4 and docs/staging-decisions.md)."""
    if extent in ("serosa", "adjacent_organ", "large_vessel"):
        return "T4"
    if site == "pancreas":  # ch. 34: T1 < 2 cm, T2 2-4 cm, T3 > 4 cm or duodenum/bile duct
        if extent == "duodenum_or_bile_duct" or size > 4:
            return "T3"
        return "T2" if size >= 2 else "T1"
    if site == "appendix":  # ch. 32: T1 <= 2, T2 > 2-4, T3 > 4 cm or subserosa/mesoappendix
        if extent in ("subserosa", "mesoappendix") or size > 4:
            return "T3"
        return "T2" if size > 2 else "T1"
    if extent in ("subserosa", "pancreas_or_peripancreatic_fat"):
        return "T3"
    if site in ("colon", "rectum"):  # ch. 33: T1a < 1, T1b 1-2, T2 muscularis propria or > 2
        if extent == "muscularis_propria" or size > 2:
            return "T2"
        return "T1b" if size >= 1 else "T1a"
    if site == "ampulla":  # ch. 30: T1 <= 1 cm within the sphincter of Oddi
        return "T2" if extent == "duodenal_wall" or size > 1 else "T1"
    # stomach, duodenum, jejunum, ileum (ch. 29-31): T1 <= 1 cm in mucosa/submucosa
    return "T2" if extent == "muscularis_propria" or size > 1 else "T1"


def ajcc8_lung_t(size: float) -> str:
    """Lung TNM 8th T by size alone (clinical-pathology-staging.md §3.9)."""
    for limit, t in ((1, "T1a"), (2, "T1b"), (3, "T1c"), (4, "T2a"), (5, "T2b"), (7, "T3")):
        if size <= limit:
            return t
    return "T4"


def ajcc8_lung_group(t: str, n: str, m: str) -> str:
    """Lung TNM 8th stage groups (clinical-pathology-staging.md §3.9); M1 without its
    subcategory can only be grouped as IV."""
    if m == "M1c":
        return "IVB"
    if m in ("M1a", "M1b"):
        return "IVA"
    if m == "M1":
        return "IV"
    small = t in ("T1a", "T1b", "T1c", "T2a", "T2b")
    if n == "N3":
        return "IIIB" if small else "IIIC"
    if n == "N2":
        return "IIIA" if small else "IIIB"
    if n == "N1":
        return "IIB" if small else "IIIA"
    return {"T1a": "IA1", "T1b": "IA2", "T1c": "IA3", "T2a": "IB", "T2b": "IIA", "T3": "IIB"}.get(
        t, "IIIA"
    )


def ajcc8_pancreas_exocrine_group(t: str, n: str, m: str) -> str | None:
    """AJCC 8th ch. 28 (exocrine pancreas, used for pancreatic NEC/MiNEN) stage groups:
    IA T1 N0, IB T2 N0, IIA T3 N0, IIB T1-T3 N1, III T4 or N2, IV M1; T0 N0-N1 M0 has no group."""
    if m == "M1":
        return "IV"
    if t == "T4" or n == "N2":
        return "III"
    if t == "T0":
        return None
    if n == "N1":
        return "IIB"
    return {"T2": "IB", "T3": "IIA"}.get(t, "IA")


GEP_SITES = ["stomach", "duodenum", "ampulla", "jejunum", "ileum", "appendix", "colon", "rectum",
             "pancreas"]  # fmt: skip


#: The T table of each site (AJCC 8th chapter), evaluated directly on size and depth.
T_TABLE = {
    "stomach": "CSCO2021.STAGE.NET.STOMACH.T",
    "duodenum": "CSCO2021.STAGE.NET.DUODENUM.T",
    "ampulla": "CSCO2021.STAGE.NET.AMPULLA.T",
    "jejunum": "CSCO2021.STAGE.NET.JI.T",
    "ileum": "CSCO2021.STAGE.NET.JI.T",
    "appendix": "CSCO2021.STAGE.NET.APPENDIX.T",
    "colon": "CSCO2021.STAGE.NET.CR.T",
    "rectum": "CSCO2021.STAGE.NET.CR.T",
    "pancreas": "CSCO2021.STAGE.NET.PANCREAS.T",
    "lung": "CSCO2021.STAGE.LUNG.T",
}


def _t_of(kb: Knowledge, site: str, facts: dict[str, Any]) -> Any:
    res = evaluate_first(kb.tables[T_TABLE[site]], facts)
    return res.value if res.decided else f"undecided {res.value}"


def gep_t_matches_ajcc8(kb: Knowledge) -> list[str]:
    """Every size x depth of every GEP site gets the AJCC 8th T category."""
    from nenguide.model.case import EXTENTS_BY_SITE, PrimarySite

    out = []
    for site in GEP_SITES:
        # within_wall (layer not stated) is a set of these layers, not an AJCC depth of its own
        # (its candidates: vignettes V520-V522)
        extents = sorted(
            e.value for e in EXTENTS_BY_SITE[PrimarySite(site)] if e.value != "within_wall"
        )
        for size in SIZES:
            for extent in extents:
                got = _t_of(kb, site, {"size_cm": size, "extent": extent})
                want = ajcc8_gep_t(site, size, extent)
                if got != want:
                    out.append(f"{site} {size} cm {extent}: T {got}, AJCC 8th {want}")
    return out


def lung_t_matches_tnm8(kb: Knowledge) -> list[str]:
    out = []
    for size in SIZES:
        got = _t_of(kb, "lung", {"size_cm": size})
        if got != ajcc8_lung_t(size):
            out.append(f"lung {size} cm: T {got}, TNM 8th {ajcc8_lung_t(size)}")
    return out


def group_grid(
    kb: Knowledge, table: str, reference: Callable[[str, str, str], str | None]
) -> list[str]:
    spec = kb.tables[table].spec
    axes = [list(spec.inputs[k].values or []) for k in ("t", "n", "m")]
    out = []
    for t, n, m in itertools.product(*axes):
        group, decided = stage_group(kb, table, t, n, m)
        want = reference(t, n, m)
        if (group, decided) != (want, True):
            out.append(f"{table}: {t} {n} {m}: {group} (decided {decided}), reference {want}")
    return out


LUNG_CATEGORIES = ("typical_carcinoid", "atypical_carcinoid", "LCNEC", "SCLC")
GEP_GROUPS = ("stomach", "duodenum", "ampulla", "jejunum_ileum", "appendix", "colon_rectum",
              "pancreas")  # fmt: skip
_SITE_OF_GROUP = {"jejunum_ileum": "ileum", "colon_rectum": "rectum"}
_GROUP_OF_SITE = {"jejunum_ileum": "CSCO2021.STAGE.NET.JI.GROUP",
                  "colon_rectum": "CSCO2021.STAGE.NET.CR.GROUP"}  # fmt: skip


def expected_system(site_group: str, category: str) -> dict[str, Any]:
    """Which staging system applies (clinical-pathology-staging.md §3.0-3.9): GEP NETs the AJCC
    8th NET chapter of their site; thoracic NENs lung TNM 8th; pancreatic NEC exocrine-pancreas
    TNM; other GEP NEC/MiNEN the organ's carcinoma TNM, not encoded (docs/clinical-gaps.md);
    pancreatic MiNEN: sources disagree; thymus, other sites and unknown primaries: none."""
    none = {"unknown_primary": "unknown_primary", "thymus": "thymus", "other": "other_site"}
    if site_group in none:
        return {"system": None, "not_staged": none[site_group]}
    if site_group == "lung":
        if category in LUNG_CATEGORIES:
            return {
                "system": "AJCC8_LUNG",
                "t_table": "CSCO2021.STAGE.LUNG.T",
                "n_table": "CSCO2021.STAGE.LUNG.N",
                "m_table": "CSCO2021.STAGE.LUNG.M",
                "group_table": "CSCO2021.STAGE.LUNG.GROUP",
            }
    elif category == "NET":
        return {
            "system": f"AJCC8_NET_{site_group.upper()}",
            "t_table": T_TABLE[_SITE_OF_GROUP.get(site_group, site_group)],
            "n_table": "CSCO2021.STAGE.NET.JI.N"
            if site_group == "jejunum_ileum"
            else "CSCO2021.STAGE.NET.N",
            "m_table": "CSCO2021.STAGE.NET.M",
            "group_table": _GROUP_OF_SITE.get(site_group, "CSCO2021.STAGE.NET.GROUP"),
        }
    elif site_group == "pancreas" and category == "NEC":
        return {
            "system": "AJCC8_PANCREAS_EXOCRINE",
            "t_table": "CSCO2021.STAGE.PANCREAS_EXO.T",
            "n_table": "CSCO2021.STAGE.PANCREAS_EXO.N",
            "m_table": "CSCO2021.STAGE.PANCREAS_EXO.M",
            "group_table": "CSCO2021.STAGE.PANCREAS_EXO.GROUP",
        }
    elif site_group == "pancreas" and category == "MiNEN":
        return {"system": None, "not_staged": "sources_disagree"}
    elif category in ("NEC", "MiNEN"):
        return {"system": None, "not_staged": "carcinoma_system_not_encoded"}
    return {"system": None, "not_staged": "category_site_mismatch"}


def staging_system_by_site_and_category(kb: Knowledge) -> list[str]:
    table = kb.tables["CSCO2021.STAGE.SYSTEM"]
    out = []
    axes = [list(table.spec.inputs[k].values or []) for k in ("site_group", "category")]
    for site_group, category in itertools.product(*axes):
        res = evaluate_first(table, {"site_group": site_group, "category": category})
        want = expected_system(site_group, category)
        got = (
            {k: res.rows[0].then.get(k) for k in want}
            if res.decided and res.rows
            else {"undecided": res.value}
        )
        if got != want:
            out.append(f"{site_group} {category}: {got}, expected {want}")
    return out


PRECISE_TABLES = (
    "CSCO2021.STAGE.NET.GROUP",
    "CSCO2021.STAGE.NET.JI.GROUP",
    "CSCO2021.STAGE.NET.CR.GROUP",
    "CSCO2021.STAGE.LUNG.GROUP",
    "CSCO2021.STAGE.PANCREAS_EXO.GROUP",
)


def _concrete(table_result: Any) -> set[str]:
    value = table_result.value
    vals = value.values if isinstance(value, OneOf) else {value}
    return {repr(v) for v in vals}


def partly_known_input_gives_exactly_its_outcomes(kb: Knowledge, table_id: str) -> list[str]:
    """When one input is known only to be one of two values (e.g. T1c or T2a: a 2.5 cm lung
    tumour whose pleural invasion is not reported), the table offers exactly the outcomes of
    those two values, no other (the three-valued logic of docs/assessment-contract.md: an
    answer that holds for every possible value is given; otherwise the candidates are named)."""
    table = kb.tables[table_id]
    spec = table.spec.inputs
    names = list(spec)
    out: list[str] = []
    for combo in itertools.product(*(spec[n].values or [] for n in names)):
        facts = dict(zip(names, combo, strict=True))
        for i, name in enumerate(names):
            for other in spec[name].values or []:
                if other == combo[i] or repr(other) < repr(combo[i]):
                    continue
                alt = {**facts, name: other}
                want = _concrete(evaluate_first(table, facts)) | _concrete(
                    evaluate_first(table, alt)
                )
                res = evaluate_first(table, {**facts, name: OneOf(frozenset({combo[i], other}))})
                if _concrete(res) != want:
                    out.append(
                        f"{table_id}: {name} {combo[i]} or {other} with {facts}: "
                        f"{sorted(_concrete(res))}, expected {sorted(want)}"
                    )
                    if len(out) >= MAX_REPORTED:
                        return out
    return out


# --- contradictions and cautions in the pathology data ------------------------------------------


def reference_pathology_checks(f: dict[str, Any]) -> set[str]:
    """WHO 2019 digestive / WHO 2021 thoracic classification (clinical-pathology-staging.md §1-2,
    docs/clinical-gaps.md 'Classification and grade'): small/large-cell morphology is a carcinoma
    (NEC) and carcinoid morphology a NET, so either with the opposite differentiation conflicts;
    a poorly differentiated GEP-NEN is a NEC by differentiation; Ki-67 <= 20 % or mitoses <= 20
    is a discordance warning (no index reported: caution); thoracic high-grade NEC needs > 10
    mitoses per 2 mm2 and Ki-67 is no thoracic
    criterion; thoracic components are reported as combined tumours; MiNEN exactly at 30 %."""
    out = set()
    fam, diff, morph = f["rule_family"], f["differentiation"], f["morphology"]
    k, m = f["ki67_percent"], f["mitoses_per_2mm2"]
    if diff == "well" and morph in ("small_cell", "large_cell"):
        out.add("CONFLICT_WELL_DIFFERENTIATED_NEC_MORPHOLOGY")
    if diff == "poor" and morph == "carcinoid":
        out.add("CONFLICT_POORLY_DIFFERENTIATED_CARCINOID_MORPHOLOGY")
    if fam == "gep" and diff == "poor":
        low_k, low_m = k is not None and k <= 20, m is not None and m <= 20
        if (low_k and low_m) or (low_k and m is None) or (k is None and low_m):
            out.add("NEC_LOW_PROLIFERATION_DISCORDANT")
        if k is None and m is None:
            out.add("NEC_PROLIFERATION_NOT_REPORTED")
    if fam == "thoracic":
        if diff == "poor" and m is not None and m <= 10:
            out.add("CONFLICT_THORACIC_HIGH_GRADE_LOW_MITOSES")
        if k is not None:
            out.add("KI67_NOT_A_THORACIC_CRITERION")
        if f["ne_percent"] is not None:
            out.add("COMBINED_THORACIC_COMPONENTS")
    if fam == "gep" and 30 in (f["ne_percent"], f["non_ne_percent"]):
        out.add("MINEN_AT_THRESHOLD")
    return out


def pathology_checks_match_who(kb: Knowledge) -> list[str]:
    table = kb.tables["CSCO2021.CLASS.CONSISTENCY"]
    kis = (None, 10, 18, 19.9, 20, 20.1, 22, 30, 50)
    mitoses = (None, 5, 9, 9.9, 10, 10.1, 11, 18, 19.9, 20, 20.1, 22, 30)
    pcts = (None, 0, 0.05, 15, 27, 29.9, 30, 30.1, 33, 45, 70)
    scenarios = [
        {"rule_family": fam, "differentiation": diff, "morphology": morph, "ki67_percent": k,
         "mitoses_per_2mm2": m, "ne_percent": None, "non_ne_percent": None}
        for fam, diff, morph, k, m in itertools.product(
            ("gep", "thoracic"), (None, "well", "poor"),
            (None, "small_cell", "large_cell", "carcinoid"), kis, mitoses,
        )
    ]  # fmt: skip
    scenarios += [
        {"rule_family": fam, "differentiation": None, "morphology": None, "ki67_percent": None,
         "mitoses_per_2mm2": None, "ne_percent": ne, "non_ne_percent": non}
        for fam, ne, non in itertools.product(("gep", "thoracic"), pcts, pcts)
    ]  # fmt: skip
    out = []
    for f in scenarios:
        facts = {
            **f,
            "ki67_reported": f["ki67_percent"] is not None,
            "mitoses_reported": f["mitoses_per_2mm2"] is not None,
        }
        got = {r.then.get("code") for r in evaluate_collect(table, facts).applies}
        want = reference_pathology_checks(facts)
        if got != want:
            out.append(f"{f}: {sorted(map(str, got))}, reference {sorted(want)}")
            if len(out) >= MAX_REPORTED:
                break
    return out


_STATUS_FIELD = "regional_nodes.status"
NODE_CONFLICT = "CONFLICT_NODE_STATUS"


def reference_staging_conflicts(f: dict[str, Any]) -> set[tuple[str, tuple[str, ...]]]:
    """Contradictions in the nodal and metastatic data are reported, never resolved silently
    (the guide's safety rule 1; docs/clinical-gaps.md 'Staging'): nodes declared negative with
    positive nodes, a mesenteric mass or a lung nodal station; nodes declared positive with none
    of at least one examined node positive; metastases declared absent yet listed. Each issue
    names the two case fields that contradict each other (rule 3: the field path)."""
    out: set[tuple[str, tuple[str, ...]]] = set()
    status, positive = f["declared_node_status"], f["nodes_positive"]
    if status == "negative" and positive is not None and positive >= 1:
        out.add((NODE_CONFLICT, (_STATUS_FIELD, "regional_nodes.positive")))
    if status == "negative" and f["mesenteric_mass_cm"] is not None and f["mesenteric_mass_cm"] > 0:
        out.add((NODE_CONFLICT, (_STATUS_FIELD, "regional_nodes.mesenteric_mass_cm")))
    if status == "negative" and f["lung_node_station"] is not None:
        out.add((NODE_CONFLICT, (_STATUS_FIELD, "regional_nodes.lung_highest_station")))
    examined = f["nodes_examined"]
    if status == "positive" and positive == 0 and examined is not None and examined >= 1:
        out.add((NODE_CONFLICT, (_STATUS_FIELD, "regional_nodes.positive")))
    if f["met_status"] == "none" and f["listed_metastases"] is True:
        fields = ("metastases.status", "metastases.liver", "metastases.extrahepatic")
        out.add(("CONFLICT_METASTASIS_STATUS", fields))
    return out


def staging_conflicts_are_reported(kb: Knowledge) -> list[str]:
    table = kb.tables["CSCO2021.STAGE.CONSISTENCY"]
    spec = table.spec.inputs
    out = []
    nodes = itertools.product(
        [None, *(spec["declared_node_status"].values or [])],
        (None, 0, 1, 2, 3),
        (None, 0, 1, 2),
        (None, 0, 0.05, 0.5, 2.0),
        [None, *(spec["lung_node_station"].values or [])],
    )
    for status, positive, examined, mass, station in nodes:
        for met, listed in itertools.product(
            [None, *(spec["met_status"].values or [])], (None, True, False)
        ):
            f = {
                "declared_node_status": status,
                "nodes_positive": positive,
                "nodes_examined": examined,
                "mesenteric_mass_cm": mass,
                "lung_node_station": station,
                "met_status": met,
                "listed_metastases": listed,
            }
            got = {
                (r.then.get("code"), tuple(r.then.get("fields") or ()))
                for r in evaluate_collect(table, f).applies
            }
            want = reference_staging_conflicts(f)
            if got != want:
                out.append(f"{f}: {sorted(map(str, got))}, reference {sorted(map(str, want))}")
                if len(out) >= MAX_REPORTED:
                    return out
    return out
