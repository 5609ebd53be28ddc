"""Carcinoid syndrome, carcinoid heart disease screening, laboratory interferences and the two
laboratory/imaging facts (gastrin status, SSTR positivity), recomputed from clinical-treatment.md
§1.1, §1.3 and §1.4, clinical-sources-2026-12.md §5 and §7, clinical-pathology-staging.md §5.3
(Krenning) and the choices recorded in docs/clinical-gaps.md. Framework: :mod:`.syndromes`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.tables import evaluate_collect, evaluate_first
from nenguide.mutation.properties.staging import MAX_REPORTED
from nenguide.mutation.properties.syndromes import (
    BOOL3,
    INSUFFICIENT,
    Criteria,
    Facts,
    Want,
    around,
    check_table,
    ge,
    grid,
    gt,
    le,
    lt,
    no_rule,
    want,
)

CHD_SCREEN = ("ECHOCARDIOGRAPHY", "NT_PROBNP")


def reference_carcinoid(f: Facts) -> Want | None:
    """§1.4: carcinoid syndrome (CS) = flushing, secretory diarrhoea...; 24-h urinary 5-HIAA is
    the main test: > 25 mg/24 h strongly suggests CS, 9-25 equivocal (above the lab's ULN but not
    above 25 mg/24 h: repeat with the diet restrictions). 2026-12 §5: CS confirmed = a typical
    symptom with urinary or plasma 5-HIAA above the ULN, pre-analytical checklist passed (for
    urine above the ULN with the checklist passed the two digests differ: not asserted). Every
    CS (or high 5-HIAA) is screened for carcinoid heart disease: echocardiography, NT-proBNP
    (§1.4, 2026-12 §7). A normal 5-HIAA collected with the restrictions excludes (recheck
    caveat); a recorded diagnosis confirms (clinical-gaps)."""
    if f.get("hx_carcinoid_syndrome") is True:
        return want("confirmed", ["CS_DIAGNOSED"], [], CHD_SCREEN)
    sym = f.get("sym_carcinoid")
    mg, x = f.get("hiaa_5_urine_24h_mg_24h"), f.get("hiaa_5_urine_24h_xuln")
    diet = f.get("hiaa_5_urine_24h_diet_restricted")
    if sym is True and gt(mg, 25) is True:
        return want("confirmed", ["CS_SYMPTOMS", "CS_HIAA_URINE_HIGH"], [], CHD_SCREEN)
    if sym is True and gt(f.get("hiaa_5_plasma_xuln"), 1) is True:
        return want("confirmed", ["CS_SYMPTOMS", "CS_HIAA_PLASMA_ELEVATED"], [], CHD_SCREEN)
    if le(x, 1) is True and diet is True:
        return want("excluded", [], ["CS_HIAA_URINE_ELEVATED"], [], ["CS_NORMAL_HIAA_RECHECK"])
    if sym is True and gt(x, 1) is True:
        if diet is True and mg is None:
            return None  # above the ULN, checklist passed: digests differ (see docstring)
        if diet is True:
            return Want(frozenset(["suspected", "confirmed"]))
        return want("suspected", ["CS_SYMPTOMS", "CS_HIAA_URINE_ELEVATED"],
                    ["CS_HIAA_URINE_HIGH"], ["CS_REPEAT_HIAA_WITH_DIET"])  # fmt: skip
    if gt(mg, 25) is True:  # high 5-HIAA without symptoms: CHD screening applies (§1.4)
        return want("suspected", ["CS_HIAA_URINE_HIGH"], [], None)
    if sym is True:
        return want("suspected", ["CS_SYMPTOMS"], [], ["CS_URINE_HIAA_24H"])
    if gt(x, 1) is True or gt(f.get("hiaa_5_plasma_xuln"), 1) is True:
        return Want(frozenset(["suspected", INSUFFICIENT]))  # no symptom recorded
    return no_rule()


#: (urine 5-HIAA mg/24 h, x ULN) as one result gives them (ULN 8 mg/24 h: digest normal
#: < 6-9), around each cut-off, and each alone
URINE = [
    *[(round(v * 8, 3), v) for v in around(1)],
    *[(v, round(v / 8, 4)) for v in around(25)],
    *[(v, None) for v in around(25)],
    *[(None, v) for v in around(1)],
    (None, None),
]


CS_CRITERIA: Criteria = {
    "CS_DIAGNOSED": lambda f: f.get("hx_carcinoid_syndrome"),
    "CS_SYMPTOMS": lambda f: f.get("sym_carcinoid"),
    "CS_HIAA_URINE_HIGH": lambda f: gt(f.get("hiaa_5_urine_24h_mg_24h"), 25),
    "CS_HIAA_URINE_ELEVATED": lambda f: gt(f.get("hiaa_5_urine_24h_xuln"), 1),
    "CS_HIAA_PLASMA_ELEVATED": lambda f: gt(f.get("hiaa_5_plasma_xuln"), 1),
}


def carcinoid_matches_reference(kb: Knowledge) -> list[str]:
    cases = grid({"sym_carcinoid": BOOL3, "urine": URINE,
                  "hiaa_5_urine_24h_diet_restricted": BOOL3,
                  "hiaa_5_plasma_xuln": [*around(1), None]})  # fmt: skip
    for c in cases:
        c["hiaa_5_urine_24h_mg_24h"], c["hiaa_5_urine_24h_xuln"] = c.pop("urine")
    cases += grid({"hx_carcinoid_syndrome": [True], "sym_carcinoid": [False, None],
                   "hiaa_5_urine_24h_xuln": [0.5, 2.0, None]})  # fmt: skip
    return check_table(kb, "CSCO2021.SYN.CARCINOID", cases, reference_carcinoid, CS_CRITERIA)


def reference_chd(f: Facts) -> set[str]:
    """§1.4 carcinoid heart disease screening, for a confirmed or suspected CS: echocardiography
    when none is on record; NT-proBNP >= 260 pg/mL is above the screening cut-off, below it does
    not rule CHD out (2023 study: sensitivity 46 %); plasma 5-HIAA >= 752 nmol/L detected CHD
    (2023 Danish study)."""
    if f.get("carcinoid_status") not in ("confirmed", "suspected"):
        return set()
    out = set()
    if f.get("echo_done") is False:
        out.add("CHD_SCREEN_ECHOCARDIOGRAPHY")
    bnp = f.get("nt_probnp_pg_ml")
    if ge(bnp, 260) is True:
        out.add("CHD_NTPROBNP_ABOVE_CUTOFF")
    if lt(bnp, 260) is True:
        out.add("CHD_NTPROBNP_NOT_RULE_OUT")
    if ge(f.get("hiaa_5_plasma_nmol_l"), 752) is True:
        out.add("CHD_PLASMA_HIAA_ABOVE_CUTOFF")
    return out


CHD_TESTS = {"CHD_NTPROBNP_NOT_RULE_OUT": ()}  # the others order an echocardiogram


def chd_matches_reference(kb: Knowledge) -> list[str]:
    table = kb.tables["CSCO2021.SYN.CHD"]
    status = ["confirmed", "suspected", "excluded", INSUFFICIENT, None]
    out = []
    for s, echo, bnp, hiaa in itertools.product(
        status, BOOL3, [*around(260), None], [*around(752), None]
    ):
        f = {"carcinoid_status": s, "echo_done": echo, "nt_probnp_pg_ml": bnp,
             "hiaa_5_plasma_nmol_l": hiaa}  # fmt: skip
        rows = evaluate_collect(table, f).applies
        got = {r.then["caveat"] for r in rows}
        tests = {(r.then["caveat"], tuple(r.then.get("next_tests") or ())) for r in rows}
        want_tests = {(c, CHD_TESTS.get(c, ("ECHOCARDIOGRAPHY",))) for c in reference_chd(f)}
        if got != reference_chd(f) or tests != want_tests:
            out.append(f"CHD {f}: {sorted(tests)}, reference {sorted(want_tests)}")
            if len(out) >= MAX_REPORTED:
                break
    return out


def reference_interference(f: Facts) -> set[tuple[str, tuple[str, ...]]]:
    """(code, syndromes) of each known interference: §1.3 PPIs falsely raise gastrin (and PPI
    withdrawal risks ulcer complications in true ZES: safety caveat), H2 blockers are stopped
    30-48 h before sampling, gastrin is fasting; atrophic gastritis and renal failure raise
    gastrin. §1.1 CgA is falsely raised by PPIs and H2 blockers, atrophic gastritis and renal
    impairment (no eGFR cut-off in the CgA sources: only clearly impaired, eGFR 20, and clearly
    normal, eGFR 100, are asserted). §1.4 5-HIAA: serotonin-rich foods and interfering drugs
    (urine or plasma), renal failure may under-collect the urine."""
    out: set[tuple[str, tuple[str, ...]]] = set()
    g, cs = ("gastrinoma",), ("carcinoid_syndrome",)
    if f.get("gastrin_on_ppi") is True:
        out |= {("LAB_GASTRIN_ON_PPI", g), ("ZES_PPI_WITHDRAWAL_SAFETY", g)}
    if f.get("gastrin_on_h2_blocker") is True:
        out.add(("LAB_GASTRIN_ON_H2_BLOCKER", g))
    gm, renal = f.get("gastrin_measured") is True, f.get("renal_failure") is True
    if gm and f.get("atrophic_gastritis") is True:
        out.add(("LAB_GASTRIN_ATROPHIC_GASTRITIS", g))
    if gm and renal:
        out.add(("LAB_GASTRIN_RENAL_FAILURE", g))
    if f.get("gastrin_fasting") is False:
        out.add(("LAB_GASTRIN_NOT_FASTING", g))
    cga = f.get("chromogranin_a_measured") is True
    if f.get("chromogranin_a_on_ppi") is True or f.get("chromogranin_a_on_h2_blocker") is True:
        out.add(("LAB_CGA_ACID_SUPPRESSION", ()))
    if cga and (renal or f.get("egfr_ml_min") == 20):
        out.add(("LAB_CGA_RENAL_FAILURE", ()))
    if cga and f.get("atrophic_gastritis") is True:
        out.add(("LAB_CGA_ATROPHIC_GASTRITIS", ()))
    if False in (f.get("hiaa_5_urine_24h_diet_restricted"), f.get("hiaa_5_plasma_diet_restricted")):
        out.add(("LAB_HIAA_NOT_RESTRICTED", cs))
    if f.get("hiaa_5_urine_24h_interfering_drugs") is True:
        out.add(("LAB_HIAA_INTERFERING_DRUGS", cs))
    if f.get("hiaa_5_urine_24h_measured") is True and renal:
        out.add(("LAB_HIAA_RENAL_FAILURE", cs))
    return out


def interference_matches_reference(kb: Knowledge) -> list[str]:
    """Each flag alone (true, false), each measured analyte with each condition, eGFR 20 and
    100 (eGFR between the two: no source, not asserted)."""
    table = kb.tables["CSCO2021.SYN.INTERFERENCE"]
    flags = [k for k, d in table.spec.inputs.items() if d.type == "bool"]
    cases: list[Facts] = [{k: v} for k in flags for v in (True, False)]
    measured = ["gastrin_measured", "chromogranin_a_measured", "hiaa_5_urine_24h_measured"]
    conditions: list[dict[str, Any]] = [{"atrophic_gastritis": v} for v in BOOL3]
    conditions += [{"renal_failure": v} for v in BOOL3]
    conditions += [{"egfr_ml_min": v, "renal_failure": False} for v in (20, 100)]
    for m, v, c in itertools.product(measured, BOOL3, conditions):
        cases.append({m: v, **c})
    out = []
    for f in cases:
        got = {(r.then["code"], tuple(r.then.get("syndromes") or ()))
               for r in evaluate_collect(table, f).applies}  # fmt: skip
        if got != reference_interference(f):
            out.append(f"interference {f}: {sorted(got)}, reference "
                       f"{sorted(reference_interference(f))}")  # fmt: skip
    return out[:MAX_REPORTED]


def _possible(res: Any) -> frozenset[Any]:
    """The values a first-hit table leaves possible: its value, or the candidates of a
    ``OneOf`` when an unknown input leaves it open."""
    if res.value is None:
        return frozenset()
    return res.value.values if isinstance(res.value, OneOf) else frozenset([res.value])


def gastrin_status_matches_reference(kb: Knowledge) -> list[str]:
    """The gastrin fact for the gastric NET type (clinical-pathology-staging.md gastric types;
    clinical-treatment.md §1.1/§1.3): on a PPI the result cannot tell the cause; off PPI above
    the lab's upper limit is high, at or below it normal. An unknown input leaves exactly the
    values it could give open (never guessed)."""
    table = kb.tables["CSCO2021.FACT.GASTRIN_STATUS"]
    out = []
    for ppi, x in itertools.product(BOOL3, [0.5, *around(1), 1.5, 3.0, None]):
        f = {"gastrin_latest_on_ppi": ppi, "gastrin_latest_xuln": x}
        off = {"high", "normal"} if x is None else {"high" if x > 1 else "normal"}
        exp = {"on_ppi"} if ppi is True else off if ppi is False else {"on_ppi", *off}
        res = evaluate_first(table, f)
        if _possible(res) != exp or res.decided != (len(exp) == 1):
            out.append(f"gastrin status {f}: {res.value} (decided {res.decided}), expected {exp}")
    return out


def sstr_positive_matches_reference(kb: Knowledge) -> list[str]:
    """SSTR imaging positive (clinical-pathology-staging.md §5.3, Krenning scale 0-4: 0 = no
    uptake): the reader's stated result wins; without one, a Krenning score of 1 or more is
    uptake; an unknown input leaves both answers open (never guessed)."""
    table = kb.tables["CSCO2021.FACT.SSTR_POSITIVE"]
    out = []
    for rep, k in itertools.product(["positive", "negative", "not_stated", None],
                                    [0, 1, 2, 3, 4, None]):  # fmt: skip
        f = {"sstr_reported": rep, "sstr_krenning_score": k}
        exp = {True, False}
        if rep in ("positive", "negative"):
            exp = {rep == "positive"}
        elif rep == "not_stated" and k is not None:
            exp = {k >= 1}
        res = evaluate_first(table, f)
        if _possible(res) != exp or res.decided != (len(exp) == 1):
            out.append(f"SSTR positive {f}: {res.value} (decided {res.decided}), expected {exp}")
    return out


CARCINOID_CHECKS: list[tuple[str, Callable[[Knowledge], list[str]]]] = [
    ("carcinoid syndrome = symptoms with 5-HIAA (clinical-treatment.md §1.4; 2026-12 §5)",
     carcinoid_matches_reference),
    ("carcinoid heart disease screening = §1.4 (echo, NT-proBNP 260, plasma 5-HIAA 752)",
     chd_matches_reference),
    ("laboratory interferences = §1.1, §1.3, §1.4", interference_matches_reference),
    ("gastrin status fact = on PPI / above / within the ULN", gastrin_status_matches_reference),
    ("SSTR positive fact = stated result, else Krenning >= 1", sstr_positive_matches_reference),
]  # fmt: skip
