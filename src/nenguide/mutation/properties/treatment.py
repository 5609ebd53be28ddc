"""Treatment and follow-up properties: local treatment, systemic and NEC options, caveats and the
follow-up exemption recomputed from clinical-treatment.md (CSCO 2021 statements, trials, gates)."""

from __future__ import annotations

import itertools
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.tables import evaluate_collect, evaluate_first
from nenguide.mutation.properties.staging import MAX_REPORTED, SIZES
from nenguide.mutation.properties.treatment_extra import (
    GEP_PRIMARIES as GEP_PRIMARIES,
)
from nenguide.mutation.properties.treatment_extra import (
    reference_systemic as reference_systemic,
)
from nenguide.mutation.properties.treatment_extra import (
    systemic_options_match_reference as systemic_options_match_reference,
)

# --- local treatment of the primary, recomputed from clinical-treatment.md §2.2-2.7 -------------

_CONFINED = ("mucosa", "submucosa")


def reference_local_treatment(site: str, f: dict[str, Any]) -> str | None:
    """The first-listed local treatment of a localised GEP-NET (CSCO 2021 / ENETS as digested in
    clinical-treatment.md §2.2 stomach, §2.3 duodenum, §2.5 appendix, §2.6 colon, §2.7 rectum).
    None: the sources leave this exact input open (not asserted)."""
    size = f["size_cm"]
    if site == "stomach":  # types 1/2: < 1 cm surveillance, 1-2 cm ER, >= 2 cm resection
        if f["gastric_type"] == "type3":  # small, G1/G2, confined, N0: ER (ENETS/ESGE; issue 8)
            small_low_risk = (
                size <= 1
                and f["grade"] in ("G1", "G2")
                and f["extent"] in _CONFINED
                and f["nodes"] == "negative"
            )
            return "ENDOSCOPIC_RESECTION" if small_low_risk else "GASTRECTOMY_LYMPHADENECTOMY"
        if size in (1.0, 2.0):
            return None  # '< 1 cm' / '1-2 cm' / '>= 2 cm' overlap at the limits (clinical-gaps)
        if size < 1:
            return "ENDOSCOPIC_SURVEILLANCE"
        return "ENDOSCOPIC_RESECTION" if size < 2 else "GASTRIC_RESECTION_ENDOSCOPIC_OR_SURGICAL"
    low_risk = f.get("nodes") == "negative" and f.get("extent") in _CONFINED
    if site == "duodenum":  # <= 10 mm G1 confined N0: ER; 10-20 mm: local excision; else surgery
        if f["functional"]:  # ER only for non-functioning tumours (ENETS; issue 8 §3)
            return "SURGICAL_RESECTION_LYMPHADENECTOMY"
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
        if site == "duodenum":
            axes["functional"] = [True, False]
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
    # prior platinum or systemic therapy recorded, disease now localised: no line for advanced NEC
    for cat, after in itertools.product(cats, (None, 3.0, 9.0)):
        scenarios.append(
            {"setting": "localised", "category": cat, "primary_site": "pancreas",
             "resected": False, "ecog": 1, "progressed_on_platinum": True,
             "progressed_on_systemic": True, "platinum_months_to_progression": after}
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


# --- locally advanced and metastatic disease (S2, S4, S5) ----------------------------------------

_WELL = ("NET", "typical_carcinoid", "atypical_carcinoid")


def reference_advanced(f: dict[str, Any]) -> set[str]:
    """CSCO 2021 S2 (locally unresectable: systemic-based treatment under MDT), S4 (liver-only
    metastases by ENETS type: I resection of primary and metastases, II resection with ablation
    or staged, III TAE/TACE; extrahepatic: systemic-based), S5 (debulking for functional
    tumours); clinical-treatment.md §2.4 (metastatic small-bowel NET: resection of the primary
    considered) and §7 (ECOG >= 3: best supportive care)."""
    out: set[str] = set()
    setting, well = f["setting"], f["category"] in _WELL
    if setting == "locally_advanced":
        out.add("SYSTEMIC_COMPREHENSIVE_MDT")
    if setting in ("locally_advanced", "metastatic") and f["ecog"] >= 3:
        out.add("BEST_SUPPORTIVE_CARE")
    if setting != "metastatic" or not well:
        return out
    liver_type = f["liver_type"]
    if f["liver_only"] and liver_type == "I":
        out.add("RESECTION_PRIMARY_AND_LIVER_METASTASES")
    if f["liver_only"] and liver_type == "II":
        out.add("LIVER_RESECTION_WITH_ABLATION_OR_STAGED")
    if f["liver_mets"] and liver_type == "III":
        out.add("TAE_TACE")
    if f["extrahepatic"]:
        out.add("SYSTEMIC_COMPREHENSIVE_MDT")
    if f["functional"]:
        out.add("DEBULKING_FUNCTIONAL")
    if f["category"] == "NET" and f["primary_site"] in ("jejunum", "ileum") and not f["resected"]:
        out.add("SI_PRIMARY_RESECTION_METASTATIC")
    return out


def advanced_options_match_reference(kb: Knowledge) -> list[str]:
    table = kb.tables["CSCO2021.TX.ADVANCED"]
    spec = table.spec.inputs
    enums = {k: list(spec[k].values or []) for k in ("setting", "category", "liver_type")}
    out = []
    bools = ("liver_only", "liver_mets", "extrahepatic", "functional", "resected")
    for site, ecog, flags in itertools.product(
        spec["primary_site"].values or [], (2, 3), itertools.product((True, False), repeat=5)
    ):
        for combo in itertools.product(*enums.values()):
            facts = {**dict(zip(enums, combo, strict=True)), **dict(zip(bools, flags, strict=True))}
            facts |= {"primary_site": site, "ecog": ecog}
            want = reference_advanced(facts)
            offered = [r.then.get("option") for r in evaluate_collect(table, facts).applies]
            got = set(offered)
            # each option from one rule: a second rule would add its MDT reason to the first
            if got != want or len(offered) != len(got):
                out.append(f"{facts}: {sorted(map(str, offered))}, reference {sorted(want)}")
                if len(out) >= MAX_REPORTED:
                    return out
    return out


def resected_options_match_reference(kb: Knowledge) -> list[str]:
    """CSCO 2021 S3: no routine adjuvant therapy after resection of a non-metastatic NET (no
    high-level evidence); a positive margin (R1/R2): re-resection or surveillance decided by the
    MDT (clinical-treatment.md §2.7), except the appendix, whose own table weighs the margin."""
    table = kb.tables["CSCO2021.TX.RESECTED"]
    spec = table.spec.inputs
    names = ("setting", "category", "margin", "primary_site")
    out = []
    for combo in itertools.product(*(spec[n].values or [] for n in names), (True, False)):
        f = {**dict(zip(names, combo[:-1], strict=True)), "resected": combo[-1]}
        want: set[str] = set()
        if f["setting"] == "localised" and f["category"] in _WELL and f["resected"]:
            want.add("NO_ROUTINE_ADJUVANT_NET")
            if f["margin"] in ("R1", "R2") and f["primary_site"] != "appendix":
                want.add("RE_RESECTION_OR_SURVEILLANCE")
        got = {r.then.get("option") for r in evaluate_collect(table, f).applies}
        if got != want:
            out.append(f"{f}: {sorted(map(str, got))}, reference {sorted(want)}")
            if len(out) >= MAX_REPORTED:
                break
    return out
