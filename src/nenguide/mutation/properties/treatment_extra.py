"""Systemic therapy of advanced NET (table CSCO2021.TX.NET.SYSTEMIC) recomputed from
clinical-treatment.md §3.1-3.3 and §7 and clinical-sources-2026-12.md §1 and §9: which options,
each offered by exactly one rule that cites the trial behind it for this population, and which
options stay open (``maybe``) while an input is unknown."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.tables import Row, evaluate_collect
from nenguide.mutation.properties.staging import MAX_REPORTED

GEP_PRIMARIES = ("stomach", "duodenum", "ampulla", "jejunum", "ileum", "appendix", "colon",
                 "rectum", "pancreas", "unknown_primary")  # fmt: skip
SYSTEMIC = "CSCO2021.TX.NET.SYSTEMIC"

#: The evidence each option rests on, by population (bibliography ids of
#: knowledge/csco-2021/bibliography/treatment.yaml; trials of clinical-treatment.md §3.1):
#: PROMID midgut; CLARINET GEP; SPINET lung carcinoid; RADIANT-3 pancreas; RADIANT-4 GI;
#: LUNA lung/thymic carcinoid; A6181111 sunitinib pancreas; SANET-p / SANET-ep; E2211 CAPTEM
#: pancreas; streptozocin series; NETTER-1 midgut (extrapolated to other GEP sites, §3.2);
#: PRRT in pNET after other lines (Clement 2022, clinical-sources-2026-12.md §1); NETTER-2 NET
#: G3 first line; the NET G3 reviews (R32, clinical-sources-2026-12.md §9) for targeted agents
#: in G3; NORDIC NEC for platinum in NET G3; the Krenning uptake gate for PRRT in lung
#: carcinoids (no trial). CAPTEM in atypical carcinoid and NET G3 rests on no trial (§3.3).
Evidence = tuple[str, ...]


def reference_systemic(f: dict[str, Any]) -> list[tuple[str, Evidence]] | None:
    """Systemic options for advanced NET (clinical-treatment.md §3.2 site-specific sequencing,
    §3.3 drug-class gates, §7 performance status; CSCO 2021 S6; clinical-sources-2026-12.md §9
    for NET G3: PRRT with Ki-67 <= 55 % (NETTER-2), platinum-etoposide only above 55 %), each
    with the evidence its rule must cite. None: not asserted (a NET category at a thoracic site
    is not a classification the engine makes)."""
    if f["setting"] == "localised":
        return []
    cat, grade, site, ki67 = f["category"], f["grade"], f["primary_site"], f["ki67_percent"]
    if cat == "NET" and site in ("lung", "thymus"):
        return None
    fit = f["ecog"] <= 2  # ECOG >= 3: best supportive care first (§7)
    sstr, prrt_ok = f["sstr_positive"], f["prrt_uptake_ok"]
    wd = cat == "NET" and grade in ("G1", "G2")
    gep_wd = wd and site in GEP_PRIMARIES
    carcinoid = cat in ("typical_carcinoid", "atypical_carcinoid")
    g3 = cat == "NET" and grade == "G3"
    pancreas = site == "pancreas"
    out: list[tuple[str, Evidence]] = []
    if wd and sstr and site in ("jejunum", "ileum"):
        out.append(("OCTREOTIDE_LAR", ("tx-promid",)))
    if sstr and gep_wd:
        out.append(("LANREOTIDE", ("tx-clarinet",)))
    if sstr and carcinoid:
        out.append(("LANREOTIDE", ("tx-spinet", "tx-luna")))
    if fit and gep_wd:  # RADIANT-3 pancreas, RADIANT-4 other GI and unknown primary
        out.append(("EVEROLIMUS", ("tx-radiant-3",) if pancreas else ("tx-radiant-4",)))
    if fit and carcinoid:
        out.append(("EVEROLIMUS", ("tx-radiant-4", "tx-luna")))
    if fit and wd and pancreas:
        out.append(("SUNITINIB", ("tx-sunitinib-a6181111",)))  # pancreas only
        out.append(("STZ_5FU", ("tx-stz-series",)))
        out.append(("CAPTEM", ("tx-e2211",)))
    if fit and wd and (site in GEP_PRIMARIES or site == "other"):
        out.append(("SURUFATINIB", ("tx-sanet-p",) if pancreas else ("tx-sanet-ep",)))
    if fit and (cat == "atypical_carcinoid" or g3):
        out.append(("CAPTEM", ()))  # lung AC, NET G3 (§3.3): no trial
    # PRRT by line (issue 8 §3): midgut after SSA progression (NETTER-1); pancreas after
    # progression on prior systemic therapy (Clement 2022); other GEP sites the same, NETTER-1
    # extrapolated; lung/thymic carcinoid on the uptake gate alone
    midgut = site in ("jejunum", "ileum")
    later = f["progressed_on_ssa"] if midgut else f["progressed_on_systemic"]
    if fit and sstr and prrt_ok and gep_wd and later:
        evidence = "tx-prrt-clement-2022" if pancreas else "tx-netter-1"
        out.append(("PRRT_LU177", (evidence,)))
    if fit and sstr and prrt_ok and carcinoid:
        out.append(("PRRT_LU177", ("tx-sstr-krenning",)))
    if fit and g3 and site in GEP_PRIMARIES:
        out.append(("EVEROLIMUS", ("tx-net-g3-review-pellat-2020",)))  # selected cases
    if fit and g3 and pancreas:
        out.append(("SUNITINIB", ("tx-net-g3-review-pellat-2020",)))  # pancreas only
    if fit and sstr and prrt_ok and g3 and ki67 <= 55:
        out.append(("PRRT_LU177", ("tx-netter-2",)))  # NETTER-2: Ki-67 <= 55 %
    if fit and g3 and ki67 > 55:
        out.append(("PLATINUM_ETOPOSIDE", ("tx-nordic-nec",)))  # aggressive, Ki-67 > 55 %
    return out


def _option(row: Row) -> str:
    return str(row.then.get("option"))


def compare_offers(rows: tuple[Row, ...], want: list[tuple[str, Evidence]]) -> str | None:
    """None when the rows that apply offer exactly the expected options, each once (an option
    offered by two rules shows the first rule and both sources: the wrong trial for the
    population), and each rule cites the evidence expected for the population."""
    got = Counter(_option(r) for r in rows)
    expected = Counter(option for option, _ in want)
    if got != expected:
        return f"options {sorted(got.elements())}, reference {sorted(expected.elements())}"
    for option, evidence in want:
        row = next(r for r in rows if _option(r) == option)
        missing = [e for e in evidence if e not in row.sources]
        if missing:
            return f"{option} by {row.id} without {missing}"
    return None


#: Ki-67 at and either side of the NET G3 splits (20 %, 55 %) and the reference's Ki-67 limits.
NET_G3_KI67 = (21, 27, 28, 49, 50, 55, 56, 60, 61, 82, 83)


def systemic_options_match_reference(kb: Knowledge) -> list[str]:
    """Every setting x category x grade x site x SSTR x uptake x ECOG x prior line (x Ki-67 for
    NET G3). Off the NET G3 grid, which alone reads Ki-67, Ki-67 is 5 % at ECOG 1 and 60 % at
    ECOG 2: each side of the 55 % split for the rows a mis-scoped condition would widen."""
    table = kb.tables[SYSTEMIC]
    spec = table.spec.inputs
    out = []
    names = ("setting", "category", "grade", "primary_site")
    axes = [list(spec[k].values or []) for k in names]
    # prior lines: none; progression on another systemic therapy; progression on an SSA
    lines = ((False, False), (False, True), (True, True))
    for combo in itertools.product(*axes, (True, False), (True, False), (1, 2, 3), lines):
        *head, (on_ssa, on_systemic) = combo
        base = dict(zip((*names, "sstr_positive", "prrt_uptake_ok", "ecog"), head, strict=True))
        base |= {"progressed_on_ssa": on_ssa, "progressed_on_systemic": on_systemic}
        g3 = base["category"] == "NET" and base["grade"] == "G3"
        ki67s = NET_G3_KI67 if g3 else ((60,) if base["ecog"] == 2 else (5,))
        for ki67 in ki67s:
            facts = {**base, "ki67_percent": ki67}
            want = reference_systemic(facts)
            if want is None:
                continue
            problem = compare_offers(evaluate_collect(table, facts).applies, want)
            if problem:
                out.append(f"{facts}: {problem}")
                if len(out) >= MAX_REPORTED:
                    return out
    return out


# --- local treatment and the gastric NET type under partial knowledge ---------------------------


def gastric_type_by_cause(f: dict[str, Any]) -> str:
    """Gastric NET type from its cause (clinical-pathology-staging.md §7): type 1 autoimmune
    atrophic gastritis, type 2 gastrinoma / Zollinger-Ellison syndrome, type 3 sporadic with a
    normal gastrin; both causes recorded: a contradiction; neither, with a raised or PPI-affected
    gastrin: the type is not established ('request gastrin off PPI, background biopsies')."""
    aag, zes = f["aag"] == "present", f["zes_cause"] == "present"
    if aag and zes:
        return "conflict"
    if zes:
        return "type2"
    if aag:
        return "type1"
    return "type3" if f["gastrin"] == "normal" else "unexplained"


#: Sizes at and around the local-treatment limits (1 and 2 cm) of clinical-treatment.md §2.
LOCAL_SIZES = (0.9, 1.0, 1.1, 1.9, 2.0, 2.1)


def _option_and_mdt(row: Row) -> tuple[Any, Any]:
    return row.then.get("option"), row.then.get("mdt")


def _gastric_with_mdt(f: dict[str, Any], option: str | None) -> tuple[str, str | None] | None:
    """The gastric option with its MDT reason: endoscopic resection of a small low-risk type 3
    tumour goes to the MDT (clinical-treatment.md §2.2: 'emerging', retrospective data; issue 8
    §3); no other gastric option needs it."""
    if option is None:
        return None
    small_type3 = f["gastric_type"] == "type3" and option == "ENDOSCOPIC_RESECTION"
    return option, "GASTRIC_TYPE3_SMALL" if small_type3 else None


def local_treatment_under_partial_knowledge(kb: Knowledge) -> list[str]:
    """The first-listed local treatment of each site (treatment.reference_local_treatment) and
    the gastric type, with every input known, or one unknown or one of two values (the gastric
    type included: its cause not yet established): the options named are exactly those of the
    possible cases (staging_extra.first_hit_matches), e.g. no gastrectomy for a small G1-G2
    confined node-negative gastric NET of unknown type, which no type gives."""
    from nenguide.model.case import EXTENTS_BY_SITE, PrimarySite
    from nenguide.mutation.properties.staging_extra import first_hit_matches
    from nenguide.mutation.properties.treatment import LOCAL_TABLE, reference_local_treatment

    out: list[str] = []
    for site, table_id in LOCAL_TABLE.items():
        grids: dict[str, tuple[Any, ...]] = {"size_cm": LOCAL_SIZES}
        if site == "stomach":
            grids["gastric_type"] = ("type1", "type2", "type3")
        if site == "duodenum":
            grids["functional"] = (True, False)
        grids["grade"] = ("G1", "G2", "G3")
        # in the table's depth order: a layer not stated is one of adjacent layers
        extents = {e.value for e in EXTENTS_BY_SITE[PrimarySite(site)]}
        depth = kb.tables[table_id].spec.inputs["extent"].values or []
        grids["extent"] = tuple(e for e in depth if e in extents)
        if site == "appendix":
            grids["appendix_margin"] = ("not_resected", "R0", "R1", "R2")
        else:
            grids["nodes"] = ("negative", "positive")
        # the gastric type too is known, unknown or one of two types (cause not established)
        out += first_hit_matches(
            kb.tables[table_id],
            grids,
            (lambda f: _gastric_with_mdt(f, reference_local_treatment("stomach", f)))
            if site == "stomach"
            else (lambda f, site=site: reference_local_treatment(site, f)),  # type: ignore[misc]
            out=_option_and_mdt if site == "stomach" else None,
            ordered=("extent",),
            # the gastric rows each state their own case (no catch-all): no candidate beyond
            # the possible cases is tolerated, e.g. no gastrectomy for a type 1 G3 tumour
            # whose size is not known
            fallback=site != "stomach",
        )
    table = kb.tables["CSCO2021.TX.GASTRIC.CAUSE"]
    grids = {k: tuple(table.spec.inputs[k].values or []) for k in ("aag", "zes_cause", "gastrin")}
    out += first_hit_matches(table, grids, gastric_type_by_cause)
    return out
