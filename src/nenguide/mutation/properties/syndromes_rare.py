"""The rarer functional syndromes (VIPoma, glucagonoma, somatostatinoma, ectopic ACTH, PTHrPoma,
GHRHoma, calcitoninoma) recomputed from clinical-treatment.md §1.5 (hormone, key features and
biochemical diagnosis of each) and its general rule: a functional syndrome is a clinical
syndrome plus an inappropriately raised hormone (ENETS 2023, Hofland et al.), with the
choices recorded in docs/clinical-gaps.md (cut-offs as x ULN where the lab gives its range;
ectopic ACTH never confirmed by biochemistry alone). Framework: :mod:`.syndromes`.
"""

from __future__ import annotations

from collections.abc import Callable

from nenguide.engine.kb import Knowledge
from nenguide.mutation.properties.syndromes import (
    BOOL3,
    INSUFFICIENT,
    Criteria,
    Facts,
    Want,
    agree,
    around,
    check_table,
    grid,
    gt,
    le,
    no_rule,
    want,
)

IMAGING = ("PANCREAS_MULTIPHASIC_CT_MRI", "SSTR_PET_CT")


def _sym(name: str) -> Callable[[Facts], bool | None]:
    return lambda f: f.get(name)


def _xuln(name: str) -> Callable[[Facts], bool | None]:
    return lambda f: gt(f.get(name), 1)


#: each criterion code's test (clinical-treatment.md §1.5, per syndrome below)
RARE_CRITERIA: Criteria = {
    "VIP_WDHA": _sym("sym_watery_diarrhoea_large_volume"),
    "VIP_DIAGNOSTIC": lambda f: gt(f.get("vip_pg_ml"), 200),
    "VIP_ELEVATED": lambda f: agree(gt(f.get("vip_xuln"), 1), gt(f.get("vip_pg_ml"), 75)),
    "GLU_NME": _sym("sym_necrolytic_migratory_erythema"),
    "GLU_DIAGNOSTIC": lambda f: gt(f.get("glucagon_pg_ml"), 500),
    "GLU_ELEVATED": _xuln("glucagon_xuln"),
    "SST_TRIAD": _sym("sym_somatostatinoma_triad"),
    "SST_ELEVATED": _xuln("somatostatin_xuln"),
    "ACTH_HYPERCORTISOLISM": _xuln("cortisol_urine_24h_xuln"),
    "ACTH_NOT_SUPPRESSED": lambda f: agree(
        None if f.get("acth_below_reference_low") is None else not f["acth_below_reference_low"],
        True if gt(f.get("acth_xuln"), 1) else None,
    ),
    "ACTH_CUSHING_DIAGNOSED": _sym("hx_cushing_syndrome"),
    "ACTH_CUSHINGOID": _sym("sym_cushingoid_features"),
    "PTHRP_HYPERCALCAEMIA": _xuln("calcium_xuln"),
    "PTHRP_ELEVATED": _xuln("pthrp_xuln"),
    "PTHRP_PTH_NOT_RAISED": lambda f: le(f.get("pth_xuln"), 1),
    "PTHRP_CLINICAL": _sym("sym_hypercalcaemia_symptoms"),
    "GHRH_IGF1_HIGH": _xuln("igf_1_xuln"),
    "GHRH_ELEVATED": _xuln("ghrh_xuln"),
    "GHRH_ACROMEGALY": _sym("sym_acromegaly_features"),
    "CTN_ELEVATED": _xuln("calcitonin_xuln"),
    "CTN_NO_MTC": lambda f: (
        None
        if f.get("hx_medullary_thyroid_carcinoma") is None
        else not f["hx_medullary_thyroid_carcinoma"]
    ),
    "CTN_DIARRHOEA": _sym("sym_secretory_diarrhoea"),
}
ULN = [*around(1), 3.0, None]  # a hormone as a multiple of the lab's upper limit


def reference_vipoma(f: Facts) -> Want | None:
    """§1.5 VIPoma: profuse secretory diarrhoea persisting with fasting; fasting plasma VIP
    > 75 pg/mL highly suggestive, > 200 pg/mL diagnostic with large-volume diarrhoea (absolute
    values unconfirmed, assay-specific: some labs' normal reaches 190), or above the lab's ULN
    (ENETS definition). Fluids and potassium first; VIP is labile (pre-analytical caveat on a
    normal result). Confirmed: localise (multiphasic CT/MRI, SSTR PET)."""
    dia = f.get("sym_watery_diarrhoea_large_volume")
    pg, x = f.get("vip_pg_ml"), f.get("vip_xuln")
    if dia is True and gt(pg, 200) is True:
        return want("confirmed", ["VIP_WDHA", "VIP_DIAGNOSTIC"], [], IMAGING,
                    ["VIP_FLUID_POTASSIUM"])  # fmt: skip
    if dia is True and gt(x, 1) is True:
        return want("confirmed", ["VIP_WDHA", "VIP_ELEVATED"], [], IMAGING,
                    ["VIP_FLUID_POTASSIUM"])  # fmt: skip
    if dia is True and gt(pg, 75) is True:
        return want("suspected", ["VIP_WDHA", "VIP_ELEVATED"], ["VIP_DIAGNOSTIC"],
                    ["VIP_FASTING_PLASMA"])  # fmt: skip
    if le(x, 1) is True:
        return want("excluded", [], ["VIP_ELEVATED"], [], ["VIP_PREANALYTICAL"])
    if gt(x, 1) is True:  # the hormone without the syndrome: next test not in the source
        return want("suspected", ["VIP_ELEVATED"], [], None)
    if dia is True:
        return want("suspected", ["VIP_WDHA"], [], ["VIP_FASTING_PLASMA"],
                    ["VIP_FLUID_POTASSIUM"])  # fmt: skip
    return no_rule()


def vipoma_matches_reference(kb: Knowledge) -> list[str]:
    vip: list[tuple[float | None, float | None]] = [
        (v, None) for v in [*around(75), *around(200), None]
    ]
    vip += [(None, x) for x in ULN]
    vip += [(v, round(v / 100, 4)) for v in [*around(75), 100, *around(200)]]  # ULN 100 pg/mL
    cases = grid({"sym_watery_diarrhoea_large_volume": BOOL3, "vip": vip})
    for c in cases:
        c["vip_pg_ml"], c["vip_xuln"] = c.pop("vip")
    return check_table(kb, "CSCO2021.SYN.VIPOMA", cases, reference_vipoma, RARE_CRITERIA)


def reference_glucagonoma(f: Facts) -> Want | None:
    """§1.5 glucagonoma: necrolytic migratory erythema (NME); fasting glucagon > 500 pg/mL
    commonly cited as diagnostic in context (unconfirmed). Raised above the ULN: suspected
    (the digest gives no x ULN diagnostic level: with NME and a raised glucagon not above
    500 pg/mL, suspected or confirmed are both allowed); within range: excluded."""
    nme = f.get("sym_necrolytic_migratory_erythema")
    pg, x = f.get("glucagon_pg_ml"), f.get("glucagon_xuln")
    if nme is True and gt(pg, 500) is True:
        return want("confirmed", ["GLU_NME", "GLU_DIAGNOSTIC"], [], IMAGING)
    if le(x, 1) is True:
        return want("excluded", [], ["GLU_ELEVATED"], [])
    if gt(x, 1) is True:
        if nme is True:
            return Want(frozenset(["suspected", "confirmed"]))
        return want("suspected", ["GLU_ELEVATED"], [], None, None)
    if nme is True:
        return want("suspected", ["GLU_NME"], [], ["GLUCAGON_FASTING_PLASMA"])
    return no_rule()


def glucagonoma_matches_reference(kb: Knowledge) -> list[str]:
    glu: list[tuple[float | None, float | None]] = [(v, None) for v in [*around(500), None]]
    glu += [(None, x) for x in ULN]
    glu += [(v, round(v / 150, 4)) for v in around(500)]  # ULN 150 pg/mL
    cases = grid({"sym_necrolytic_migratory_erythema": BOOL3, "glu": glu})
    for c in cases:
        c["glucagon_pg_ml"], c["glucagon_xuln"] = c.pop("glu")
    return check_table(kb, "CSCO2021.SYN.GLUCAGONOMA", cases, reference_glucagonoma, RARE_CRITERIA)


def reference_somatostatinoma(f: Facts) -> Want | None:
    """§1.5 somatostatinoma: triad of diabetes, cholelithiasis, steatorrhoea; elevated fasting
    somatostatin (assay-specific, x ULN)."""
    triad, x = f.get("sym_somatostatinoma_triad"), f.get("somatostatin_xuln")
    if triad is True and gt(x, 1) is True:
        return want("confirmed", ["SST_TRIAD", "SST_ELEVATED"], [], IMAGING)
    if le(x, 1) is True:
        return want("excluded", [], ["SST_ELEVATED"], [])
    if gt(x, 1) is True:
        return want("suspected", ["SST_ELEVATED"], [], None)
    if triad is True:
        return want("suspected", ["SST_TRIAD"], [], ["SOMATOSTATIN_FASTING_PLASMA"])
    return no_rule()


def somatostatinoma_matches_reference(kb: Knowledge) -> list[str]:
    cases = grid({"sym_somatostatinoma_triad": BOOL3, "somatostatin_xuln": ULN})
    return check_table(
        kb, "CSCO2021.SYN.SOMATOSTATINOMA", cases, reference_somatostatinoma, RARE_CRITERIA
    )


def reference_ectopic_acth(f: Facts) -> Want | None:
    """§1.5 ACTHoma / ectopic Cushing: ACTH-dependent hypercortisolism (24-h urinary free
    cortisol among the screening tests; ACTH not suppressed, i.e. not below its range), then the
    source (pituitary vs ectopic: CRH/desmopressin, BIPSS, SSTR PET). ACTH below its range:
    ACTH-independent (adrenal). Never confirmed by biochemistry alone (clinical-gaps); a
    recorded Cushing's syndrome is established hypercortisolism; cushingoid features:
    screening tests."""
    low = f.get("acth_below_reference_low")
    dependent = True if (low is False or gt(f.get("acth_xuln"), 1)) else None
    acth_known = low is not None or f.get("acth_xuln") is not None
    localise = ["CUSHING_SOURCE_LOCALISATION", "SSTR_PET_CT"]
    for basis, tests in (
        ("ACTH_HYPERCORTISOLISM", ["ACTH_PLASMA", "CUSHING_SCREENING_TESTS"]),
        ("ACTH_CUSHING_DIAGNOSED", ["ACTH_PLASMA", "CUSHING_SOURCE_LOCALISATION"]),
    ):
        if basis == "ACTH_HYPERCORTISOLISM":
            established = gt(f.get("cortisol_urine_24h_xuln"), 1) is True
        else:
            established = f.get("hx_cushing_syndrome") is True
        if not established:
            continue
        if low is True:
            return want("excluded", [basis], ["ACTH_NOT_SUPPRESSED"], [],
                        ["ACTH_INDEPENDENT_CAUSE"])  # fmt: skip
        if dependent:
            return want("suspected", [basis, "ACTH_NOT_SUPPRESSED"], [], localise,
                        ["ACTH_NOT_CONFIRMED_BY_BIOCHEMISTRY"])  # fmt: skip
        unmet = ["ACTH_NOT_SUPPRESSED"] if basis == "ACTH_CUSHING_DIAGNOSED" else []
        return want("suspected", [basis], unmet, None if acth_known else tests)
    if f.get("sym_cushingoid_features") is True:
        return want("suspected", ["ACTH_CUSHINGOID"], [], ["CUSHING_SCREENING_TESTS"])
    return no_rule()


def ectopic_acth_matches_reference(kb: Knowledge) -> list[str]:
    cases = grid({"cortisol_urine_24h_xuln": ULN, "acth_xuln": ULN,
                  "acth_below_reference_low": BOOL3, "hx_cushing_syndrome": [True, None]},
                 {"sym_cushingoid_features": BOOL3, "hx_cushing_syndrome": BOOL3})  # fmt: skip
    return check_table(
        kb, "CSCO2021.SYN.ECTOPIC_ACTH", cases, reference_ectopic_acth, RARE_CRITERIA
    )


def reference_pthrpoma(f: Facts) -> Want | None:
    """§1.5 PTHrPoma: hypercalcaemia with high PTHrP and PTH suppressed (not raised); a raised
    PTH makes it PTH-dependent (not PTHrP); PTHrP within range excludes. Hypercalcaemia with
    PTH not raised: PTHrP next; symptoms of hypercalcaemia: calcium and PTH."""
    ca, pth = gt(f.get("calcium_xuln"), 1), gt(f.get("pth_xuln"), 1)
    pthrp = gt(f.get("pthrp_xuln"), 1)
    if ca is True and pth is True:
        return want("excluded", ["PTHRP_HYPERCALCAEMIA"], ["PTHRP_PTH_NOT_RAISED"], [],
                    ["PTHRP_PTH_DEPENDENT_HYPERCALCAEMIA"])  # fmt: skip
    if ca is True and pthrp is True and pth is False:
        return want("confirmed", ["PTHRP_HYPERCALCAEMIA", "PTHRP_ELEVATED",
                                  "PTHRP_PTH_NOT_RAISED"], [], IMAGING)  # fmt: skip
    if pthrp is False:
        return want("excluded", [], ["PTHRP_ELEVATED"], [])
    if ca is True and pth is False:
        return want("suspected", ["PTHRP_HYPERCALCAEMIA", "PTHRP_PTH_NOT_RAISED"], [],
                    ["PTHRP_PLASMA"])  # fmt: skip
    if f.get("sym_hypercalcaemia_symptoms") is True:
        return want("suspected", ["PTHRP_CLINICAL"], [], ["CALCIUM_PTH"])
    return no_rule()


def pthrpoma_matches_reference(kb: Knowledge) -> list[str]:
    cases = grid({"calcium_xuln": ULN, "pthrp_xuln": ULN, "pth_xuln": ULN,
                  "sym_hypercalcaemia_symptoms": [True, None]})  # fmt: skip
    return check_table(kb, "CSCO2021.SYN.PTHRPOMA", cases, reference_pthrpoma, RARE_CRITERIA)


def reference_ghrhoma(f: Facts) -> Want | None:
    """§1.5 GHRHoma: acromegaly; raised IGF-1/GH with high plasma GHRH (x ULN). GHRH within
    range excludes; features of acromegaly: GHRH and IGF-1 next."""
    igf, ghrh = gt(f.get("igf_1_xuln"), 1), gt(f.get("ghrh_xuln"), 1)
    if igf is True and ghrh is True:
        return want("confirmed", ["GHRH_IGF1_HIGH", "GHRH_ELEVATED"], [],
                    ["SSTR_PET_CT", "PITUITARY_MRI"])  # fmt: skip
    if ghrh is False:
        return want("excluded", [], ["GHRH_ELEVATED"], [])
    if f.get("sym_acromegaly_features") is True:
        return want("suspected", ["GHRH_ACROMEGALY"], [], ["GHRH_PLASMA_IGF1"])
    if ghrh is True:
        return Want(frozenset([INSUFFICIENT]))  # GHRH alone: IGF-1 not known
    return no_rule()


def ghrhoma_matches_reference(kb: Knowledge) -> list[str]:
    cases = grid({"igf_1_xuln": ULN, "ghrh_xuln": ULN, "sym_acromegaly_features": BOOL3})
    return check_table(kb, "CSCO2021.SYN.GHRHOMA", cases, reference_ghrhoma, RARE_CRITERIA)


def reference_calcitoninoma(f: Facts) -> Want | None:
    """§1.5 calcitoninoma: diarrhoea; high calcitonin without medullary thyroid carcinoma
    (MTC is the usual source: thyroid ultrasound while it is not excluded)."""
    ctn, mtc = gt(f.get("calcitonin_xuln"), 1), f.get("hx_medullary_thyroid_carcinoma")
    if ctn is True and mtc is True:
        return want("excluded", ["CTN_ELEVATED"], ["CTN_NO_MTC"], [], ["CTN_MTC_SOURCE"])
    if ctn is True and mtc is False and f.get("sym_secretory_diarrhoea") is True:
        return want("confirmed", ["CTN_ELEVATED", "CTN_NO_MTC", "CTN_DIARRHOEA"], [],
                    ["SSTR_PET_CT"])  # fmt: skip
    if ctn is False:
        return want("excluded", [], ["CTN_ELEVATED"], [])
    if ctn is True:
        return want("suspected", ["CTN_ELEVATED"], [], ["THYROID_ULTRASOUND"])
    return no_rule()


def calcitoninoma_matches_reference(kb: Knowledge) -> list[str]:
    cases = grid({"calcitonin_xuln": ULN, "hx_medullary_thyroid_carcinoma": BOOL3,
                  "sym_secretory_diarrhoea": BOOL3})  # fmt: skip
    return check_table(
        kb, "CSCO2021.SYN.CALCITONINOMA", cases, reference_calcitoninoma, RARE_CRITERIA
    )


RARE_CHECKS: list[tuple[str, Callable[[Knowledge], list[str]]]] = [
    ("VIPoma = WDHA with fasting VIP (clinical-treatment.md §1.5)", vipoma_matches_reference),
    ("glucagonoma = NME with fasting glucagon (§1.5)", glucagonoma_matches_reference),
    ("somatostatinoma = triad with fasting somatostatin (§1.5)",
     somatostatinoma_matches_reference),
    ("ectopic ACTH = ACTH-dependent hypercortisolism, never confirmed (§1.5)",
     ectopic_acth_matches_reference),
    ("PTHrPoma = hypercalcaemia, PTHrP raised, PTH not raised (§1.5)",
     pthrpoma_matches_reference),
    ("GHRHoma = raised IGF-1 with raised GHRH (§1.5)", ghrhoma_matches_reference),
    ("calcitoninoma = raised calcitonin without MTC (§1.5)", calcitoninoma_matches_reference),
]  # fmt: skip
