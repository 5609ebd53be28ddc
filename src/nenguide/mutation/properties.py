"""Clinical properties of the knowledge tables, as deterministic checks over whole input grids.

Each check takes a knowledge base and returns its failures (empty: the property holds). The test
suite runs them on the bundled package (``tests/test_mutation.py``) and the Hypothesis tests in
``tests/test_properties.py`` draw from the same orders; the mutation harness runs them on every
mutant. Grids are exhaustive where the domain is finite (T/N/M categories) and cover every
threshold of the tables, just below, at and just above it, where it is numeric.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nenguide import assess
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.stage import stage_group
from nenguide.engine.tables import evaluate_collect, evaluate_first
from nenguide.errors import parse_case

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
        extents = sorted(e.value for e in EXTENTS_BY_SITE[PrimarySite(site)])
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


# --- local treatment of the primary, recomputed from clinical-treatment.md §2.2-2.7 -------------

_CONFINED = ("mucosa", "submucosa")


def reference_local_treatment(site: str, f: dict[str, Any]) -> str | None:
    """The first-listed local treatment of a localised GEP-NET (CSCO 2021 / ENETS as digested in
    clinical-treatment.md §2.2 stomach, §2.3 duodenum, §2.5 appendix, §2.6 colon, §2.7 rectum).
    None: the sources leave this exact input open (not asserted)."""
    size = f["size_cm"]
    if site == "stomach":  # types 1/2: < 1 cm surveillance, 1-2 cm ER, >= 2 cm resection
        if f["gastric_type"] == "type3":
            return "GASTRECTOMY_LYMPHADENECTOMY"
        if size in (1.0, 2.0):
            return None  # '< 1 cm' / '1-2 cm' / '>= 2 cm' overlap at the limits (clinical-gaps)
        if size < 1:
            return "ENDOSCOPIC_SURVEILLANCE"
        return "ENDOSCOPIC_RESECTION" if size < 2 else "GASTRIC_RESECTION_ENDOSCOPIC_OR_SURGICAL"
    low_risk = f.get("nodes") == "negative" and f.get("extent") in _CONFINED
    if site == "duodenum":  # <= 10 mm G1 confined N0: ER; 10-20 mm: local excision; else surgery
        if low_risk and f["grade"] == "G1" and size <= 1:
            return "ENDOSCOPIC_RESECTION"
        if low_risk and f["grade"] == "G1" and size <= 2:
            return "DUODENAL_LOCAL_EXCISION_INDIVIDUALISED"
        return "SURGICAL_RESECTION_LYMPHADENECTOMY"
    if site == "colon":  # incidental <= 1 cm G1 polyp: ER may suffice; otherwise colectomy
        if low_risk and f["grade"] == "G1" and size <= 1:
            return "ENDOSCOPIC_RESECTION"
        return "COLECTOMY_LYMPHADENECTOMY"
    if site == "rectum":  # < 1 cm G1-G2: ER; 1-2 cm G1: local excision; else radical (TME)
        if low_risk and f["grade"] in ("G1", "G2") and size < 1:
            return "ENDOSCOPIC_RESECTION"
        if low_risk and f["grade"] == "G1" and size <= 2:
            return "RECTAL_LOCAL_EXCISION"
        return "RECTAL_RADICAL_RESECTION_TME"
    if site == "appendix":  # > 2 cm or G3: hemicolectomy; risk factors 1-2 cm: consider it
        if size > 2 or f["grade"] == "G3":
            return "RIGHT_HEMICOLECTOMY"
        if (
            f["extent"] in ("mesoappendix", "serosa", "adjacent_organ")
            or f["appendix_margin"] in ("R1", "R2")
            or (size >= 1 and f["grade"] == "G2")
        ):
            return "RIGHT_HEMICOLECTOMY_CONSIDER"
        return "APPENDECTOMY_SUFFICIENT"
    raise ValueError(site)


LOCAL_TABLE = {
    "stomach": "CSCO2021.TX.STOMACH",
    "duodenum": "CSCO2021.TX.DUODENUM",
    "colon": "CSCO2021.TX.COLON",
    "rectum": "CSCO2021.TX.RECTUM",
    "appendix": "CSCO2021.TX.APPENDIX",
}


def local_treatment_matches_reference(kb: Knowledge) -> list[str]:
    """Every size x grade x depth x node status (x margin, x gastric type) of each site."""
    from nenguide.model.case import EXTENTS_BY_SITE, PrimarySite

    out = []
    for site, table_id in LOCAL_TABLE.items():
        table = kb.tables[table_id]
        axes: dict[str, list[Any]] = {"size_cm": SIZES}
        if site == "stomach":
            axes["gastric_type"] = ["type1", "type2", "type3"]
        else:
            axes["grade"] = ["G1", "G2", "G3"]
            axes["extent"] = sorted(e.value for e in EXTENTS_BY_SITE[PrimarySite(site)])
            if site == "appendix":
                axes["appendix_margin"] = ["not_resected", "R0", "R1", "R2"]
            else:
                axes["nodes"] = ["negative", "positive"]
        for combo in itertools.product(*axes.values()):
            facts = dict(zip(axes, combo, strict=True))
            want = reference_local_treatment(site, facts)
            if want is None:
                continue
            res = evaluate_first(table, facts)
            got = res.value if res.decided else f"undecided {res.value}"
            if got != want:
                out.append(f"{site} {facts}: {got}, reference {want}")
    return out


def followup_exemption_matches_csco_s8(kb: Knowledge) -> list[str]:
    """CSCO 2021 statement S8 (clinical-treatment.md §1 S8, §2.5, §2.7): follow-up is lifelong
    except for appendiceal or rectal NET G1 < 1 cm after R0 resection, with no nodal or distant
    metastases (nodes not assessed, as after endoscopic resection, do not bar the exemption)."""
    table = kb.tables["CSCO2021.FOLLOWUP.EXEMPTION"]
    axes = {k: list(d.values or []) for k, d in table.spec.inputs.items() if d.type == "enum"}
    axes["size_cm"] = [0.5, 0.9, 1.0, 1.1, 2.0]
    out = []
    for combo in itertools.product(*axes.values()):
        f = dict(zip(axes, combo, strict=True))
        want = (
            f["primary_site"] in ("appendix", "rectum")
            and f["category"] == "NET"
            and f["grade"] == "G1"
            and f["size_cm"] < 1
            and f["resection_margin"] == "R0"
            and f["node_status"] != "positive"
            and f["met_status"] == "none"
        )
        res = evaluate_first(table, f)
        if not res.decided or res.value is not want:
            out.append(f"{f}: exempt {res.value} (decided {res.decided}), CSCO S8 {want}")
    return out


def reference_caveats(f: dict[str, Any]) -> set[str]:
    """Caveats on the offered options (clinical-treatment.md §3 trials and §7 gates): ECOG 2 is
    outside most pivotal trials (§7); antiproliferative SSA evidence is for Ki-67 < 10 %
    (CLARINET); carboplatin rather than cisplatin with eGFR < 60 mL/min, renal failure or ECOG 2
    (§4, S7); streptozocin is nephrotoxic (eGFR < 60); carcinoid syndrome: crisis prophylaxis,
    and RADIANT-4 excluded it (everolimus); NETTER-1 enrolled midgut NET only (PRRT elsewhere
    extrapolated); SSA can worsen an insulinoma's hypoglycaemia (§1.2); SSTR-negative: SSA for the
    syndrome only; resectability not recorded (localised); NET G3 and MiNEN platinum caveats."""
    out = set()
    egfr, ecog, ki67 = f.get("egfr"), f.get("ecog"), f.get("ki67_percent")
    if ecog == 2:
        out.add("ECOG_2_OUTSIDE_TRIALS")
    if ki67 is not None and ki67 >= 10:
        out.add("SSA_KI67_10")
    if (egfr is not None and egfr < 60) or f.get("renal_failure") is True or ecog == 2:
        out.add("CARBOPLATIN_PREFERRED")
    if egfr is not None and egfr < 60:
        out.add("STZ_RENAL_IMPAIRED")
    if f.get("carcinoid_syndrome") is True:
        out |= {"CARCINOID_CRISIS_PROPHYLAXIS", "EVEROLIMUS_CS_EXCLUDED"}
    if f.get("primary_site") is not None and f["primary_site"] not in ("jejunum", "ileum"):
        out.add("PRRT_EXTRAPOLATED")
    if f.get("insulinoma") is True:
        out.add("SSA_HYPOGLYCAEMIA")
    if f.get("sstr_positive") is False:
        out.add("SSTR_NEGATIVE")
    if f.get("resectability") == "not_recorded" and f.get("setting") == "localised":
        out.add("RESECTABILITY_NOT_RECORDED")
    if f.get("category") == "NET" and f.get("grade") == "G3":
        out.add("NET_G3_PLATINUM")
    if f.get("category") == "MiNEN":
        out.add("MINEN_ADENO_COMPONENT")
    return out


def treatment_caveats_match_reference(kb: Knowledge) -> list[str]:
    """Each caveat applies exactly when its condition holds, probed input by input (the other
    inputs unknown) at and around every limit."""
    table = kb.tables["CSCO2021.TX.CAVEATS"]
    spec = table.spec.inputs
    scenarios: list[dict[str, Any]] = []
    scenarios += [{"ecog": e} for e in range(5)]
    scenarios += [{"ki67_percent": k} for k in (0, 5, 9, 9.5, 10, 10.5, 11, 15, 30)]
    scenarios += [{"egfr": g} for g in (0, 20, 30, 54, 57, 59.9, 60, 63, 66, 90, 120)]
    for name in ("renal_failure", "carcinoid_syndrome", "insulinoma", "sstr_positive"):
        scenarios += [{name: True}, {name: False}]
    scenarios += [{"primary_site": v} for v in spec["primary_site"].values or []]
    axes = [spec[k].values or [] for k in ("resectability", "setting")]
    scenarios += [{"resectability": r, "setting": s} for r, s in itertools.product(*axes)]
    axes = [spec[k].values or [] for k in ("category", "grade")]
    scenarios += [{"category": c, "grade": g} for c, g in itertools.product(*axes)]
    out = []
    for facts in scenarios:
        got = {r.then.get("caveat") for r in evaluate_collect(table, facts).applies}
        want = reference_caveats(facts)
        if got != want:
            out.append(f"{facts}: caveats {sorted(map(str, got))}, reference {sorted(want)}")
    return out


MAX_REPORTED = 10  # a grid stops at this many failures (enough to show what is wrong)
GEP_PRIMARIES = ("stomach", "duodenum", "ampulla", "jejunum", "ileum", "appendix", "colon",
                 "rectum", "pancreas", "unknown_primary")  # fmt: skip


def reference_systemic(f: dict[str, Any]) -> set[str] | None:
    """Systemic options for advanced NET (clinical-treatment.md §3.2 site-specific sequencing,
    §3.3 drug-class gates, §7 performance status; CSCO 2021 S6). None: not asserted (a NET
    category at a thoracic site is not a classification the engine makes; Ki-67 exactly 55 %
    for NET G3 platinum: '>= 55 %' in §3.2 against NETTER-2's '<= 55 %' for PRRT)."""
    if f["setting"] == "localised":
        return set()
    cat, grade, site, ki67 = f["category"], f["grade"], f["primary_site"], f["ki67_percent"]
    if cat == "NET" and site in ("lung", "thymus"):
        return None
    fit = f["ecog"] <= 2  # ECOG >= 3: best supportive care first (§7)
    sstr, prrt_ok = f["sstr_positive"], f["prrt_uptake_ok"]
    wd = cat == "NET" and grade in ("G1", "G2")
    carcinoid = cat in ("typical_carcinoid", "atypical_carcinoid")
    g3 = cat == "NET" and grade == "G3"
    out = set()
    if wd and sstr and site in ("jejunum", "ileum"):
        out.add("OCTREOTIDE_LAR")  # PROMID (midgut)
    if sstr and ((wd and site in GEP_PRIMARIES) or carcinoid):
        out.add("LANREOTIDE")  # CLARINET; SPINET/LUNA for lung carcinoids
    if fit and ((wd and site in GEP_PRIMARIES) or carcinoid):
        out.add("EVEROLIMUS")  # RADIANT-3 (pancreas), RADIANT-4 (GI, lung)
    if fit and wd and site == "pancreas":
        out |= {"SUNITINIB", "STZ_5FU"}  # sunitinib pancreas only; STZ-based pNET chemotherapy
    if fit and wd and (site in GEP_PRIMARIES or site == "other"):
        out.add("SURUFATINIB")  # SANET-p (pancreatic), SANET-ep (extrapancreatic)
    if fit and ((wd and site == "pancreas") or cat == "atypical_carcinoid" or g3):
        out.add("CAPTEM")  # pNET (E2211), lung AC, NET G3 (§3.3)
    if fit and sstr and prrt_ok and ((wd and site in GEP_PRIMARIES) or carcinoid):
        out.add("PRRT_LU177")  # NETTER-1 (midgut; extrapolated to GEP and lung, §3.2)
    if fit and sstr and prrt_ok and g3 and ki67 <= 55:
        out.add("PRRT_LU177")  # NETTER-2: Ki-67 <= 55 %
    if fit and g3 and ki67 > 55:
        out.add("PLATINUM_ETOPOSIDE")  # aggressive, high-Ki-67 NET G3
    elif fit and g3 and ki67 == 55:
        return None
    return out


def systemic_options_match_reference(kb: Knowledge) -> list[str]:
    """Every setting x category x grade x site x SSTR x uptake x ECOG (x Ki-67 for NET G3)."""
    table = kb.tables["CSCO2021.TX.NET.SYSTEMIC"]
    spec = table.spec.inputs
    out = []
    names = ("setting", "category", "grade", "primary_site")
    axes = [list(spec[k].values or []) for k in names]
    for combo in itertools.product(*axes, (True, False), (True, False), (1, 2, 3)):
        base = dict(zip((*names, "sstr_positive", "prrt_uptake_ok", "ecog"), combo, strict=True))
        g3 = base["category"] == "NET" and base["grade"] == "G3"
        ki67s = (21, 27, 28, 49, 50, 55, 56, 60, 61, 82, 83) if g3 else (5,)
        for ki67 in ki67s:
            facts = {**base, "ki67_percent": ki67}
            want = reference_systemic(facts)
            if want is None:
                continue
            got = {r.then.get("option") for r in evaluate_collect(table, facts).applies}
            if got != want:
                out.append(f"{facts}: {sorted(map(str, got))}, reference {sorted(want)}")
                if len(out) >= MAX_REPORTED:
                    return out
    return out


DIGESTIVE = ("stomach", "duodenum", "ampulla", "jejunum", "ileum", "appendix", "colon", "rectum",
             "pancreas")  # fmt: skip


def reference_nec(f: dict[str, Any]) -> set[str] | None:
    """NEC, MiNEN and lung NEC (CSCO 2021 S3, S7; clinical-treatment.md §4.1-4.3, §7): surgery
    for localised NEC, adjuvant platinum-etoposide after resection of digestive NEC, platinum-
    etoposide first line, FOLFIRI (FOLFOX, CAPTEM) after platinum for digestive NEC/MiNEN,
    re-challenge when progression came > 6 months after platinum, checkpoint inhibitors after
    systemic therapy for metastatic NEC, lung NEC on the lung-cancer pathway, MiNEN by its most
    aggressive component (resected as adenocarcinoma when localised); chemotherapy needs ECOG
    <= 2. None: 6 months exactly ('> 6 months' and '>= 6 mo' both appear in §4.2)."""
    setting, cat, resected = f["setting"], f["category"], f["resected"]
    fit = f["ecog"] <= 2
    advanced = setting in ("locally_advanced", "metastatic")
    nec_like = cat in ("NEC", "MiNEN", "LCNEC", "SCLC")
    pop, months = f["progressed_on_platinum"], f["platinum_months_to_progression"]
    out = set()
    if setting == "localised" and cat == "NEC" and not resected:
        out.add("NEC_RADICAL_SURGERY")
    digestive = f["primary_site"] in DIGESTIVE
    if setting == "localised" and cat == "NEC" and resected and digestive and fit:
        out.add("NEC_ADJUVANT_CHEMOTHERAPY")
    if advanced and nec_like and fit and pop is False:
        out.add("PLATINUM_ETOPOSIDE")
    if advanced and cat in ("NEC", "MiNEN") and fit and pop is True:
        out.add("FOLFIRI")
    if advanced and nec_like and fit and pop is True and months is not None:
        if months == 6:
            return None
        if months > 6:
            out.add("PLATINUM_ETOPOSIDE_RECHALLENGE")
    if setting == "metastatic" and nec_like and fit and f["progressed_on_systemic"]:
        out.add("IMMUNE_CHECKPOINT_INHIBITOR")
    if cat in ("LCNEC", "SCLC"):
        out.add("LUNG_NEC_PER_LUNG_CANCER_GUIDELINE")
    if cat == "MiNEN":
        out.add("MINEN_TREAT_AGGRESSIVE_COMPONENT")
        if setting == "localised" and not resected:
            out.add("MINEN_ONCOLOGICAL_RESECTION")
    return out


def nec_options_match_reference(kb: Knowledge) -> list[str]:
    table = kb.tables["CSCO2021.TX.NEC"]
    spec = table.spec.inputs
    cats, sites = spec["category"].values or [], spec["primary_site"].values or []
    scenarios: list[dict[str, Any]] = []
    for cat, site, resected, ecog in itertools.product(cats, sites, (True, False), (1, 2, 3)):
        localised = {"setting": "localised", "category": cat, "primary_site": site}
        scenarios.append(
            {**localised, "resected": resected, "ecog": ecog, "progressed_on_platinum": False,
             "progressed_on_systemic": False, "platinum_months_to_progression": None}
        )  # fmt: skip
    for setting, cat, site, resected, ecog, systemic in itertools.product(
        ("locally_advanced", "metastatic"), cats, ("pancreas", "lung"), (True, False),
        (1, 2, 3), (True, False),
    ):  # fmt: skip
        base = {"setting": setting, "category": cat, "primary_site": site, "resected": resected,
                "ecog": ecog, "progressed_on_systemic": systemic}  # fmt: skip
        scenarios.append(
            {**base, "progressed_on_platinum": False, "platinum_months_to_progression": None}
        )
        for months in (None, 2.9, 3, 3.1, 5.3, 5.5, 6, 6.5, 6.7, 9, 9.1):
            scenarios.append(
                {**base, "progressed_on_platinum": True, "platinum_months_to_progression": months}
            )
    out = []
    for facts in scenarios:
        want = reference_nec(facts)
        if want is None:
            continue
        got = {r.then.get("option") for r in evaluate_collect(table, facts).applies}
        if got != want:
            out.append(f"{facts}: {sorted(map(str, got))}, reference {sorted(want)}")
            if len(out) >= MAX_REPORTED:
                break
    return out


#: All-enumeration first-hit tables whose answer under a partly known input is checked.
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


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    check: Callable[[Knowledge], list[str]]
    whole_engine: bool = False  # runs whole assessments (slow) rather than reading one table


def properties() -> list[Property]:
    out = [
        Property("grade boundaries (WHO 2019)", grade_boundaries, whole_engine=True),
        Property("grade monotone in Ki-67 and mitoses", grade_monotone, whole_engine=True),
    ]
    out += [
        Property("GEP-NET T category = AJCC 8th (size x depth grid)", gep_t_matches_ajcc8),
        Property("lung T category by size = TNM 8th", lung_t_matches_tnm8),
        Property(
            "lung stage groups = TNM 8th (every T, N, M)",
            lambda kb: group_grid(kb, "CSCO2021.STAGE.LUNG.GROUP", ajcc8_lung_group),
        ),
        Property(
            "exocrine-pancreas stage groups = AJCC 8th ch. 28 (every T, N, M)",
            lambda kb: group_grid(
                kb, "CSCO2021.STAGE.PANCREAS_EXO.GROUP", ajcc8_pancreas_exocrine_group
            ),
        ),
    ]
    out += [
        Property("staging system by site and category", staging_system_by_site_and_category),
        Property(
            "systemic options for advanced NET = clinical-treatment.md §3.2-3.3, §7",
            systemic_options_match_reference,
        ),
        Property(
            "NEC, MiNEN and lung NEC options = CSCO S3, S7 (clinical-treatment.md §4)",
            nec_options_match_reference,
        ),
        Property(
            "treatment caveats = trial populations and gates (clinical-treatment.md §3, §7)",
            treatment_caveats_match_reference,
        ),
        Property(
            "exemption from follow-up = CSCO 2021 S8 (every input combination)",
            followup_exemption_matches_csco_s8,
        ),
        Property(
            "local treatment of the primary = clinical-treatment.md §2 (size x grade x depth grid)",
            local_treatment_matches_reference,
        ),
    ]
    for table in PRECISE_TABLES:
        out.append(
            Property(
                f"partly known input gives exactly its outcomes ({table})",
                lambda kb, table=table: partly_known_input_gives_exactly_its_outcomes(  # type: ignore[misc]
                    kb, table
                ),
            )
        )
    for table in ORDERS:
        out.append(
            Property(
                f"stage group monotone in T, N, M ({table})",
                lambda kb, table=table: stage_monotone(kb, table),  # type: ignore[misc]
            )
        )
    return out
