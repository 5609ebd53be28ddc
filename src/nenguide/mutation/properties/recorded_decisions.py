"""Recorded decisions: checks that pin a choice no clinical source makes (kind ``decision``).

These are NOT clinical evidence. Each check pins one row of docs/clinical-gaps.md, where the
sources leave a limit open and the table encodes a recorded choice: the check asserts exactly
what that row says the table does, at and around the limit, and nothing more. It stops an editor
who slips a digit on the choice; it does not say the choice is right. Changing such a decision
means changing the clinical-gaps row and the check here together (docs/testing.md, "Recorded
decisions"). The clinical properties (workup.py, liver.py, treatment.py, ...) leave these
situations open ("optional", not asserted), so the two never contradict each other.

Each check names, in its docstring, the clinical-gaps.md topic it pins (``GAP_TOPICS``), and the
mutation report lists the rows such a check alone guards.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.tables import Table, evaluate_collect, evaluate_first
from nenguide.mutation.properties.grid import completions, with_unknowns
from nenguide.mutation.properties.grid import values_of as _values
from nenguide.mutation.properties.liver import (
    DOMAINS as LIVER_DOMAINS,
)
from nenguide.mutation.properties.liver import (
    reference_liver_conflicts,
    reference_liver_type,
)
from nenguide.mutation.properties.workup import BASE, PROLIFERATION, SITES

Check = Callable[[Knowledge], list[str]]


def _applying(table: Table, facts: dict[str, Any], key: str) -> list[Any]:
    """The ``key`` output of every row that applies (collect evaluation, any hit policy)."""
    return [r.then.get(key) for r in evaluate_collect(table, facts).applies]


def _applying_rows(table: Table, facts: dict[str, Any]) -> set[str]:
    return {r.id for r in evaluate_collect(table, facts).applies}


# --- work-up (CSCO2021.WORKUP.ITEMS) -------------------------------------------------------------

WORKUP = "CSCO2021.WORKUP.ITEMS"


def _workup_case(**kw: Any) -> dict[str, Any]:
    f = dict(BASE)
    cat = kw.get("category", f["category"])
    f["grade"], f["ki67_percent"], f["mitoses_per_2mm2"] = PROLIFERATION[cat]
    f.update(kw)
    return f


def _reasons(kb: Knowledge, facts: dict[str, Any]) -> list[str]:
    return [str(x) for x in _applying(kb.tables[WORKUP], facts, "reason")]


def _expect_reason(
    kb: Knowledge, cases: Iterable[tuple[dict[str, Any], bool]], reason: str
) -> list[str]:
    out = []
    for facts, wanted in cases:
        got = reason in _reasons(kb, facts)
        if got != wanted:
            where = ", ".join(f"{k}={facts[k]}" for k in ("primary_site", "category", "size_cm"))
            out.append(
                f"{where}, ki67 {facts['ki67_percent']}: {reason} "
                f"{'asked' if got else 'not asked'}, recorded decision: "
                f"{'asked' if wanted else 'not asked'}"
            )
    return out


def eus_gastroduodenal_1_to_2_cm(kb: Knowledge) -> list[str]:
    """clinical-gaps.md, "EUS for gastric/duodenal NET outside 1–2 cm": EUS (reason
    ``eus_gastroduodenal``) is asked for a gastric or duodenal NET of 1.0 to 2.0 cm inclusive and
    not below 1.0 or above 2.0 cm."""
    sizes = {0.5: False, 0.9: False, 0.95: False, 1.0: True, 1.5: True, 2.0: True, 2.05: False,
             2.1: False, 2.5: False, 3.0: False}  # fmt: skip
    cases = [
        (_workup_case(primary_site=site, size_cm=size), wanted)
        for site in ("stomach", "duodenum")
        for size, wanted in sizes.items()
    ]
    return _expect_reason(kb, cases, "eus_gastroduodenal")


def eus_not_for_ampulla(kb: Knowledge) -> list[str]:
    """clinical-gaps.md, "EUS for ampullary NET": the gastroduodenal EUS (reason
    ``eus_gastroduodenal``) is not asked for an ampullary NET, at any size."""
    cases = [(_workup_case(primary_site="ampulla", size_cm=s), False) for s in (0.5, 1.0, 1.5, 2.0)]
    return _expect_reason(kb, cases, "eus_gastroduodenal")


def rectal_eus_from_1_cm(kb: Knowledge) -> list[str]:
    """clinical-gaps.md, "Rectal EUS below 1 cm": EUS and/or pelvic MRI (reason ``eus_rectum``)
    is asked for a rectal NET from 1.0 cm (to 2.0 cm), not below 1.0 cm."""
    sizes = {0.5: False, 0.9: False, 0.95: False, 1.0: True, 1.5: True}
    cases = [(_workup_case(primary_site="rectum", size_cm=s), w) for s, w in sizes.items()]
    return _expect_reason(kb, cases, "eus_rectum")


def fdg_high_g2_above_10(kb: Knowledge) -> list[str]:
    """clinical-gaps.md, "FDG PET for "high G2": the Ki-67 limit": FDG PET (reason
    ``fdg_net_g2_high``) is asked for a NET G2 with Ki-67 above 10 % (the placeholder), not at
    10 % or below."""
    kis = {6.0: False, 9.0: False, 9.9: False, 10.0: False, 10.1: True, 11.0: True, 15.0: True}
    cases = [
        (_workup_case(grade="G2", ki67_percent=k, mitoses_per_2mm2=1.0), w) for k, w in kis.items()
    ]
    return _expect_reason(kb, cases, "fdg_net_g2_high")


def minen_workup(kb: Knowledge) -> list[str]:
    """clinical-gaps.md, "MiNEN work-up: SSTR imaging for an unknown primary, gastric typing,
    CgA": for a MiNEN FDG PET and NSE are asked, and SSTR imaging when the primary is unknown
    (as for a NET); gastric typing of a gastric MiNEN and CgA are not asked."""
    out = []
    for site in ("unknown_primary", "stomach", "pancreas", "ileum"):
        f = _workup_case(primary_site=site, category="MiNEN", size_cm=1.5)
        reasons = set(_reasons(kb, f))
        asked = ["fdg_minen", "nse_baseline"]
        if site == "unknown_primary":
            asked.append("sstr_unknown_primary")
        for wanted in asked:
            if wanted not in reasons:
                out.append(f"MiNEN, {site}: {wanted} not asked, recorded decision: asked")
        for unwanted in ("gastric_type", "cga_baseline"):
            if unwanted in reasons:
                out.append(f"MiNEN, {site}: {unwanted} asked, recorded decision: not asked")
    return out


# --- treatment -----------------------------------------------------------------------------------


def gastrinoma_option_for_stomach_only(kb: Knowledge) -> list[str]:
    """clinical-gaps.md, ""Localise and treat the gastrinoma" outside the stomach": with a
    confirmed gastrinoma the option GASTRINOMA_LOCALISATION_RESECTION is offered for a stomach
    primary and for no other primary site (each site of the case model)."""
    table = kb.tables["CSCO2021.TX.SYMPTOMS"]
    out = []
    for site in SITES:
        facts = {"confirmed_gastrinoma": True, "primary_site": site}
        got = "GASTRINOMA_LOCALISATION_RESECTION" in _applying(table, facts, "option")
        if got != (site == "stomach"):
            out.append(f"confirmed gastrinoma, {site}: localisation option offered {got}")
    return out


NEC_BASE: dict[str, Any] = {
    "setting": "metastatic", "category": "NEC", "primary_site": "pancreas", "resected": False,
    "ecog": 1, "progressed_on_platinum": True, "progressed_on_systemic": True,
}  # fmt: skip


def nec_rechallenge_after_6_months(kb: Knowledge) -> list[str]:
    """clinical-gaps.md, "NEC platinum-etoposide re-challenge at exactly 6 months": the
    re-challenge is offered when progression came more than 6 months after first-line platinum,
    not at exactly 6.0 months or earlier."""
    table = kb.tables["CSCO2021.TX.NEC"]
    out = []
    for months, wanted in {5.0: False, 5.9: False, 6.0: False, 6.1: True, 7.0: True}.items():
        facts = {**NEC_BASE, "platinum_months_to_progression": months}
        got = "PLATINUM_ETOPOSIDE_RECHALLENGE" in _applying(table, facts, "option")
        if got != wanted:
            out.append(f"progression {months} months after platinum: re-challenge {got}")
    return out


# --- staging, syndromes, follow-up ---------------------------------------------------------------

N_ZERO_ROW = "CSCO2021.STAGE.PANCREAS_EXO.N_ZERO_COUNT"


def pancreas_exo_positive_zero_count_is_nx(kb: Knowledge) -> list[str]:
    """clinical-gaps.md, "Exocrine-pancreas N with nodes declared positive but none counted
    positive": NX, decided by the row CSCO2021.STAGE.PANCREAS_EXO.N_ZERO_COUNT, which applies to
    that situation only (the rule the trace names is part of the answer)."""
    table = kb.tables["CSCO2021.STAGE.PANCREAS_EXO.N"]
    out = []
    first = evaluate_first(table, {"node_status": "positive", "nodes_positive": 0})
    if not first.decided or first.value != "NX":
        out.append(f"positive, 0 counted: {first.value!r} (decided {first.decided}), decision NX")
    for status, count in itertools.product(("negative", "positive", "not_assessed"), (0, 1, 4)):
        applies = N_ZERO_ROW in _applying_rows(
            table, {"node_status": status, "nodes_positive": count}
        )
        if applies != (status == "positive" and count == 0):
            out.append(f"{status}, {count} counted: {N_ZERO_ROW} applies {applies}")
    return out


def cga_renal_limit_egfr_60(kb: Knowledge) -> list[str]:
    """clinical-gaps.md, "CgA interference by renal impairment: the eGFR limit": a measured CgA
    is flagged LAB_CGA_RENAL_FAILURE when the eGFR is below 60 mL/min/1.73 m² (renal failure not
    otherwise recorded), not at 60 or above."""
    table = kb.tables["CSCO2021.SYN.INTERFERENCE"]
    out = []
    egfrs = {25.0: True, 45.0: True, 55.0: True, 59.0: True, 59.9: True, 60.0: False,
             60.1: False, 61.0: False, 65.0: False, 70.0: False, 95.0: False}  # fmt: skip
    for egfr, wanted in egfrs.items():
        facts = {"chromogranin_a_measured": True, "renal_failure": False, "egfr_ml_min": egfr}
        got = "LAB_CGA_RENAL_FAILURE" in _applying(table, facts, "code")
        if got != wanted:
            out.append(f"CgA measured, eGFR {egfr}: renal-failure flag {got}")
    return out


def ampulla_follows_generic_schedule(kb: Knowledge) -> list[str]:
    """clinical-gaps.md, "Follow-up precedence: ampullary NET after resection; ...": a resected
    low-risk ampullary NET (R0, no metastases) gets the generic low-risk NET schedule
    ``net_low_risk``, not the gastroduodenal one."""
    table = kb.tables["CSCO2021.FOLLOWUP.SCHEDULE"]
    out = []
    for size in (0.5, 1.0, 1.5, 2.5):
        facts = {
            "family": "net", "primary_site": "ampulla", "resection_margin": "R0",
            "met_status": "none", "primary_resectability": "resectable", "gastric_type": None,
            "size_cm": size, "functional": False, "risk": "low",
        }  # fmt: skip
        res = evaluate_first(table, facts)
        if not res.decided or res.value != "net_low_risk":
            out.append(f"ampulla R0 low risk {size} cm: {res.value!r} (decided {res.decided})")
    return out


# --- liver (CSCO2021.LIVER.ENETS_TYPE) -----------------------------------------------------------


def _liver_decided_type(f: dict[str, Any]) -> str | None:
    """The ENETS type of consistent findings, with the recorded decision where the definitions
    are silent: bilobar, not diffuse, several lesions, standard resection = type II."""
    named = reference_liver_type(f)
    if named is None and not f["liver_diffuse"] and f["liver_extent"] == "bilobar":
        return "II"  # the recorded decision (standard resection)
    return named


def _is_decision(f: dict[str, Any]) -> bool:
    return reference_liver_type(f) is None and _liver_decided_type(f) is not None


def liver_bilobar_standard_resection_is_type_ii(kb: Knowledge) -> list[str]:
    """clinical-gaps.md, "ENETS liver type: bilobar disease resectable by standard resection":
    such disease (several lesions, not diffuse) is type II, every row that applies to it says
    type II, and under partial knowledge the candidate types are those of the definitions plus
    this decision (only situations that can reach the decision are checked here; the others are
    the clinical property's)."""
    table = kb.tables["CSCO2021.LIVER.ENETS_TYPE"]
    out = []
    for count in (2, 6):
        f = {"liver_lesion_count": count, "liver_diffuse": False, "liver_extent": "bilobar",
             "liver_resectability": "standard_resection"}  # fmt: skip
        types = set(_applying(table, f, "type"))
        if types != {"II"}:
            out.append(f"{f}: the rows that apply give {sorted(map(str, types))}, decision II")
    for f in with_unknowns(LIVER_DOMAINS):
        cases = list(completions(f, LIVER_DOMAINS))
        if not any(_is_decision(g) for g in cases):
            continue
        if any(reference_liver_conflicts(g) for g in cases):
            continue  # the consistency table stops typing first
        decided = [_liver_decided_type(g) for g in cases]
        want = {t for t in decided if t is not None}
        if len(want) != len(set(decided)):
            continue  # some completion is still named by no definition nor decision
        res = evaluate_first(table, f)
        got = _values(res.value)
        if got != want or res.decided != (len(want) == 1):
            out.append(f"{f}: {sorted(got)} (decided {res.decided}), recorded {sorted(want)}")
    return out


#: (check name, the clinical-gaps.md topic it pins, the check)
def likely_pathogenic_makes_a_carrier(kb: Knowledge) -> list[str]:
    """clinical-gaps.md, "Who counts as a carrier": a likely pathogenic germline variant makes
    the patient a carrier, like a pathogenic one (ACMG/AMP 2015 defines the class, not what a
    carrier programme does with it)."""
    res = evaluate_first(
        kb.tables["CSCO2021.FACT.GERMLINE_CARRIER"], {"germline_result": "likely_pathogenic"}
    )
    if res.decided and res.value is True:
        return []
    return [f"likely pathogenic: {res.value} (decided {res.decided}), recorded decision: true"]


DECISIONS: list[tuple[str, str, Check]] = [
    (
        "EUS for a gastric/duodenal NET of 1.0-2.0 cm inclusive only",
        "EUS for gastric/duodenal NET outside 1–2 cm",
        eus_gastroduodenal_1_to_2_cm,
    ),
    ("no gastroduodenal EUS for an ampullary NET", "EUS for ampullary NET", eus_not_for_ampulla),
    ("rectal EUS/MRI from 1.0 cm", "Rectal EUS below 1 cm", rectal_eus_from_1_cm),
    (
        "FDG PET for a NET G2 with Ki-67 above 10 %",
        'FDG PET for "high G2": the Ki-67 limit',
        fdg_high_g2_above_10,
    ),
    (
        "MiNEN work-up (FDG PET, NSE, SSTR for an unknown primary; no gastric typing or CgA)",
        "MiNEN work-up: SSTR imaging for an unknown primary, gastric typing, CgA",
        minen_workup,
    ),
    (
        "gastrinoma localisation option for a stomach primary only",
        '"Localise and treat the gastrinoma" outside the stomach',
        gastrinoma_option_for_stomach_only,
    ),
    (
        "bilobar liver disease resectable by standard resection is ENETS type II",
        "ENETS liver type: bilobar disease resectable by standard resection",
        liver_bilobar_standard_resection_is_type_ii,
    ),
    (
        "resected low-risk ampullary NET follows the generic low-risk schedule",
        "Follow-up precedence: ampullary NET after resection",
        ampulla_follows_generic_schedule,
    ),
    (
        "CgA renal-failure flag below eGFR 60 mL/min",
        "CgA interference by renal impairment: the eGFR limit",
        cga_renal_limit_egfr_60,
    ),
    (
        "NEC platinum re-challenge after more than 6 months",
        "NEC platinum-etoposide re-challenge at exactly 6 months",
        nec_rechallenge_after_6_months,
    ),
    (
        "exocrine-pancreas N declared positive with 0 counted is NX",
        "Exocrine-pancreas N with nodes declared positive but none counted positive",
        pancreas_exo_positive_zero_count_is_nx,
    ),
    (
        "a likely pathogenic germline variant makes a carrier",
        "Who counts as a carrier",
        likely_pathogenic_makes_a_carrier,
    ),
]
