"""Follow-up properties: the risk group and the schedule (interval, duration and exams of each
follow-up pathway) recomputed from the follow-up sections of the reference.

Sources (../shared/reference/): clinical-treatment.md §5.1 (ESMO 2020 governing rules, CSCO 2021
statement S8) and §5.2 (the encodable schedule by category: its intervals, phases and exams);
clinical-verification.md §1d (ESMO 2020 principles confirmed; CommNETS 2018: node-positive or
Ki-67 > 5 % -> more frequent follow-up; Czech ASD 27: appendix > 2 cm twice in year 1 then
yearly, no end point); clinical-treatment.md §0.3 S2 (unresectable: systemic-therapy-based
treatment). Where the reference gives a range ("every 6-12 months") the dates use the shortest
interval (docs/clinical-gaps.md, "Follow-up intervals given as ranges"); cells the reference
marks UNCONFIRMED, or leaves empty, must be flagged ``unconfirmed`` (docs/clinical-gaps.md,
"intervals not in a source"), and an interval the reference does not give is not asserted.

Each expectation is computed from these texts alone, never from the table it checks. An input
left unknown is expected to settle the outcome exactly when every value it could take gives the
same outcome (docs/assessment-contract.md, three-valued logic), and to leave it open otherwise.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.tables import evaluate_first
from nenguide.mutation.properties.staging import MAX_REPORTED

SKIP = "not asserted"  # the reference is silent on this exact input (listed in the docstrings)

# --- risk group of a resected well-differentiated tumour ----------------------------------------


def reference_risk(f: Mapping[str, Any]) -> str:
    """clinical-treatment.md §5.1-5.2 and clinical-verification.md §1d: G3 keeps short intervals
    (ESMO 2020: not extended after 5 years, "except G3 NEN"); node-positive disease or a G2
    NET with Ki-67 > 5 % (CommNETS 2018, "Ki-67 > 5 %") is followed more often; NET G1 and G2
    with Ki-67 at most 5 %, N0, is the low-risk row (nodes not assessed, as after an endoscopic
    resection, are not positive: the reading docs/clinical-gaps.md records for the exemption, and
    vignette V404). Ki-67 of exactly 5 %: docs/clinical-gaps.md (CommNETS kept). Thoracic
    carcinoids have no follow-up source: docs/clinical-gaps.md ("Thoracic carcinoid follow-up:
    borrowed from GEP-NET by analogy") - the atypical (higher-grade) carcinoid as a higher-risk
    NET, the typical one as low risk unless node-positive."""
    cat, grade, ki67, nodes = f["category"], f["grade"], f["ki67_percent"], f["node_status"]
    if cat == "NET" and grade == "G3":
        return "g3"
    if nodes == "positive" or cat == "atypical_carcinoid":
        return "high"
    if cat == "NET" and grade == "G2" and ki67 > 5:
        return "high"
    return "low"


#: Ki-67 values a NET of each grade can have (WHO 2019: G1 < 3 %; G2 3-20 % by Ki-67, or lower
#: Ki-67 with 2-20 mitoses; G3 > 20 %, or lower Ki-67 with > 20 mitoses), probing 5 % (CommNETS)
#: just below, at and just above, and the moved bounds a mutant could write (2.5, 4.5, 5.5, 7.5).
RISK_KI67 = {
    "G1": [0.5, 2.9],
    "G2": [1.0, 2.8, 3.0, 4.6, 4.9, 5.0, 5.1, 5.4, 5.6, 7.4, 7.6, 10.0, 19.9],
    "G3": [2.0, 25.0, 60.0],
}
NODES = ["negative", "positive", "not_assessed"]


def _risk_cases() -> Iterable[dict[str, Any]]:
    for grade, kis in RISK_KI67.items():
        for ki67, nodes in itertools.product(kis, NODES):
            yield {"category": "NET", "grade": grade, "ki67_percent": ki67, "node_status": nodes}
    for cat, nodes in itertools.product(("typical_carcinoid", "atypical_carcinoid"), NODES):
        yield {"category": cat, "grade": None, "ki67_percent": None, "node_status": nodes}


def _risk_completions(f: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The values an unknown input of a consistent case could take."""
    if name == "node_status":
        return [{**f, name: n} for n in NODES]
    if name == "ki67_percent":
        return [{**f, name: k} for k in RISK_KI67[f["grade"]]]
    # grade unknown: the grades consistent with the Ki-67 read (mitoses unknown)
    ki = f["ki67_percent"]
    return [{**f, "grade": g} for g in RISK_KI67 if g != "G1" or ki < 3]


def followup_risk_matches_reference(kb: Knowledge) -> list[str]:
    """Every grade x Ki-67 x nodal status of a NET (and each thoracic carcinoid), each input
    also unknown in turn."""
    table = kb.tables["CSCO2021.FOLLOWUP.RISK"]
    out: list[str] = []
    for want, facts in _risk_expectations():
        res = evaluate_first(table, facts)
        got = res.value if res.decided else "open"
        if got != want:
            out.append(f"{facts}: risk {res.value} (decided {res.decided}), reference {want}")
            if len(out) >= MAX_REPORTED:
                break
    return out


@cache
def _risk_expectations() -> tuple[tuple[str, dict[str, Any]], ...]:
    cases: list[tuple[str, dict[str, Any]]] = []
    for f in _risk_cases():
        cases.append((reference_risk(f), f))
        if f["category"] != "NET":
            continue
        for name in ("grade", "ki67_percent", "node_status"):
            outs = {reference_risk(c) for c in _risk_completions(f, name)}
            cases.append((outs.pop() if len(outs) == 1 else "open", {**f, name: None}))
    return tuple(cases)


# --- candidate rows: only rows some completion of the case makes decide ---------------------

GRADES = ["G1", "G2", "G3"]
#: The sets a grade left open can be: a run of adjacent grades (a range of one index; the other
#: index, when read, only raises the floor - WHO 2019: the higher grade of the two counts).
GRADE_RUNS = [("G1", "G2"), ("G2", "G3"), ("G1", "G2", "G3")]
CARCINOIDS = ("typical_carcinoid", "atypical_carcinoid")
CARCINOID_KI67 = [1.0, 7.0, 25.0]  # any Ki-67: a thoracic carcinoid's risk does not read it


def _ki67_grade(ki67: float) -> str:
    """WHO 2019 GEP-NEN: Ki-67 < 3 % G1, 3-20 % G2, > 20 % G3."""
    return "G1" if ki67 < 3 else "G2" if ki67 <= 20 else "G3"


def _members(v: Any) -> list[Any]:
    return sorted(v.values) if isinstance(v, OneOf) else [v]


def _risk_partial_cases() -> Iterable[dict[str, Any]]:
    """The cases the risk table can be read with: a NET's grade known, left open as a run of
    adjacent grades, or unknown (no index read: then Ki-67 is unknown too); a Ki-67 read only
    with a grade at least its own (the higher index counts); a thoracic carcinoid (or the open
    typical-or-atypical category) without a G grade (WHO 2021 thoracic: carcinoids are typed by
    mitoses and necrosis, not graded G1-G3); the nodal status each value, a pair, or unknown."""
    nodes = [*NODES, None, OneOf(frozenset({"negative", "positive"}))]
    every_ki67 = sorted({k for ks in RISK_KI67.values() for k in ks})
    grades: list[Any] = [*GRADES, *(OneOf(frozenset(r)) for r in GRADE_RUNS)]
    for grade in grades:
        floor = min(_members(grade))
        kis = [k for k in every_ki67 if _ki67_grade(k) <= floor]
        for ki67, n in itertools.product([*kis, None], nodes):
            yield {"category": "NET", "grade": grade, "ki67_percent": ki67, "node_status": n}
    for n in nodes:
        yield {"category": "NET", "grade": None, "ki67_percent": None, "node_status": n}
    for cat in [*CARCINOIDS, OneOf(frozenset(CARCINOIDS))]:
        for ki67, n in itertools.product([None, *CARCINOID_KI67], nodes):
            yield {"category": cat, "grade": None, "ki67_percent": ki67, "node_status": n}


def _risk_full_completions(f: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    """Every fully known case ``f`` can turn out to be (each unknown or open input at each
    value it could take, consistently with the grade)."""
    nodes = NODES if f["node_status"] is None else _members(f["node_status"])
    for cat in _members(f["category"]):
        if cat != "NET":  # a carcinoid has no G grade, whatever is read later
            kis = CARCINOID_KI67 if f["ki67_percent"] is None else [f["ki67_percent"]]
            for ki67, n in itertools.product(kis, nodes):
                yield {"category": cat, "grade": None, "ki67_percent": ki67, "node_status": n}
            continue
        for g in GRADES if f["grade"] is None else _members(f["grade"]):
            if f["ki67_percent"] is None:
                kis = RISK_KI67[g]
            elif _ki67_grade(f["ki67_percent"]) <= g:
                kis = [f["ki67_percent"]]
            else:
                continue
            for ki67, n in itertools.product(kis, nodes):
                yield {"category": cat, "grade": g, "ki67_percent": ki67, "node_status": n}


def followup_risk_names_only_possible_rows(kb: Knowledge) -> list[str]:
    """A row named in the trace while inputs are unknown or open (a candidate, or one of the
    rows that agree) is the deciding row of some case the partial one can turn out to be: a
    typical carcinoid with no grade never waits on the NET grade rows, a NET never on a
    carcinoid row, a G2-or-G3 NET with Ki-67 above 5 % never on the low-risk row (ESMO 2020 /
    CommNETS 2018 as in :func:`reference_risk`; the completions follow WHO 2019 / 2021
    grading, never the table)."""
    table = kb.tables["CSCO2021.FOLLOWUP.RISK"]
    out: list[str] = []
    for f in _risk_partial_cases():
        res = evaluate_first(table, f)
        named = {r.id for r in res.rows}
        if res.decided and len(named) <= 1:
            continue
        deciding = set()
        for c in _risk_full_completions(f):
            full = evaluate_first(table, c)
            if full.rows:
                deciding.add(full.rows[0].id)
        for rid in sorted(named - deciding):
            out.append(f"{f}: {rid} is named, but decides for no case this can turn out to be")
            if len(out) >= MAX_REPORTED:
                return out
    return out


# --- the schedules of clinical-treatment.md §5.2 ----------------------------------------------

# One phase: (last month or None for "onwards", interval in months or None when the reference
# gives none, the range shown, status). Intervals: the shortest of the reference's range.
Phase = tuple[int | None, int | None, str | None, str]
C, U = "confirmed", "unconfirmed"
_NET_EXAMS = ("clinical_review", "ct_or_mri", "markers_cga")  # "Multiphasic CT/MRI, CgA"

#: name -> (phases, exams of every visit). The names are this module's own.
PLANS: dict[str, tuple[tuple[Phase, ...], tuple[str, ...]]] = {
    # "NEC / MiNEN after curative treatment": 2-3 mo; 3-6 mo (UNCONFIRMED); 6-12 mo (UNCONFIRMED);
    # "History/exam, CT chest-abdomen-pelvis (or MRI), NSE/CgA"
    "nec_curative": (
        ((24, 2, "2-3", C), (60, 3, "3-6", U), (None, 6, "6-12", U)),
        ("clinical_review", "ct_chest_abdomen_pelvis", "markers_nse_cga"),
    ),
    # ESMO 2020: "similar restaging intervals for advanced/inoperable disease" (2-3 mo for NEC)
    "nec_advanced": (
        ((None, 2, "2-3", C),),
        ("clinical_review", "ct_mri_restaging", "markers_nse_cga"),
    ),
    # "Advanced NET on treatment: restaging every 3-6 mo ... CT/MRI (RECIST), markers"
    "net_advanced": (
        ((None, 3, "3-6", C),),
        ("clinical_review", "ct_mri_restaging", "markers_cga"),
    ),
    # G3: the higher-risk intervals for years 0-5 (not in a source), never extended after 5 years
    # (ESMO 2020 "except G3 NEN (keep short intervals)")
    "net_g3": (((24, 3, "3-6", U), (60, 6, "6", U), (None, 6, "6", C)), _NET_EXAMS),
    # "NET G2 (esp. Ki-67 > 5-10 %), N+ or R1": 3-6 mo; 6 mo; 12-24 mo
    "net_high_risk": (((24, 3, "3-6", C), (60, 6, "6", C), (None, 12, "12-24", C)), _NET_EXAMS),
    # "NET G1/low G2, R0, N0": 6-12 mo; 12 mo; 12-24 mo, lifelong
    "net_low_risk": (((24, 6, "6-12", C), (60, 12, "12", C), (None, 12, "12-24", C)), _NET_EXAMS),
    # "Gastric type 1 NET: EGD every 1-2 yr (every 2-3 yr may be safe for <= 10 mm), lifelong;
    # EGD with biopsies, gastrin"
    "gastric_type1": (((None, 12, "12-24", C),), ("clinical_review", "egd_biopsies", "gastrin")),
    "gastric_type1_small": (
        ((None, 24, "24-36", C),),
        ("clinical_review", "egd_biopsies", "gastrin"),
    ),
    # "Pancreatic NF <= 2 cm under surveillance: imaging (MRI/EUS) e.g. at 6 mo then yearly
    # (UNCONFIRMED)"
    "nf_pnet_surveillance": (
        ((6, 6, "6", U), (None, 12, "12", U)),
        ("clinical_review", "mri_or_eus_pancreas"),
    ),
    # "Appendix NET > 2 cm: twice in year 1, then yearly; yearly; > 5 years UNCONFIRMED; CT/MRI"
    # (Czech ASD 27: yearly without an end point)
    "appendix_over_2cm": (
        ((12, 6, "6", C), (60, 12, "12", C), (None, 12, "12", U)),
        ("clinical_review", "ct_or_mri"),
    ),
    # "Rectal NET 1-2 cm after local excision: MRI or EUS at 6-12 mo, then endoscopy/imaging per
    # risk" (the later interval is not given)
    "rectum_1_to_2cm": (
        ((6, 6, "6-12", C), (None, None, None, U)),
        ("clinical_review", "pelvic_mri_or_eus", "endoscopy"),
    ),
    # "Gastric type 3 / duodenal after resection: EGD every 6-12 mo + abdominal imaging" (years
    # 0-2; nothing given afterwards)
    "gastroduodenal": (
        ((24, 6, "6-12", C), (None, None, None, U)),
        ("clinical_review", "egd_biopsies", "ct_or_mri"),
    ),
    # not yet treated: follow-up starts after the treatment (CSCO S1: resection is the treatment)
    "awaiting_treatment": ((), ()),
}
ALL_PLANS = frozenset(PLANS)
GASTRIC_TYPES = ["type1", "type2", "type3"]
MARGINS = ["R0", "R1", "R2", "not_resected"]
RESECTABILITY = ["resectable", "borderline", "unresectable"]
RISKS = ["g3", "high", "low"]


def reference_schedule(f: Mapping[str, Any]) -> frozenset[str] | str:
    """The plans the reference allows for a fully known input (one, or several where it leaves
    the choice open), or SKIP where it is silent: a gastric type 1 NET after R1 resection or
    unresectable (the type 1 row and the R1 / advanced rows overlap, precedence not given); a
    small non-functional pNET recorded as unresectable; an appendiceal NET of 1-2 cm ("optional"
    imaging: only the > 2 cm schedule is excluded); an ampullary NET (neither "duodenal" nor
    excluded: the duodenal endoscopic schedule or the generic one). A low-risk gastric type 1 NET
    keeps its endoscopic schedule whether or not it was resected (the §5.2 row is not tied to a
    resection; §2.2: surveillance is the management below 1 cm)."""
    site, margin, risk, size = f["primary_site"], f["resection_margin"], f["risk"], f["size_cm"]
    if f["family"] == "nec":  # §5.2 NEC after curative treatment; otherwise advanced (§5.1)
        curative = margin in ("R0", "R1") and f["met_status"] == "none"
        return frozenset({"nec_curative" if curative else "nec_advanced"})
    if f["met_status"] == "present" or margin == "R2":  # advanced NET on treatment
        return frozenset({"net_advanced"})
    unresectable = margin == "not_resected" and f["primary_resectability"] == "unresectable"
    if site == "stomach" and f["gastric_type"] == "type1" and risk == "low":
        if margin == "R1" or unresectable:
            return SKIP
        return frozenset({"gastric_type1_small" if size <= 1 else "gastric_type1"})
    if margin == "not_resected":
        nf_small = site == "pancreas" and size <= 2 and f["functional"] is False
        if nf_small and risk == "low":
            return SKIP if unresectable else frozenset({"nf_pnet_surveillance"})
        return frozenset({"net_advanced" if unresectable else "awaiting_treatment"})  # S2 / S1
    if risk == "g3":
        return frozenset({"net_g3"})
    if margin == "R1" or risk == "high":
        return frozenset({"net_high_risk"})
    if site == "appendix":
        return frozenset({"appendix_over_2cm"}) if size > 2 else ALL_PLANS - {"appendix_over_2cm"}
    if site == "rectum" and 1 <= size <= 2:
        return frozenset({"rectum_1_to_2cm"})
    if site in ("stomach", "duodenum"):
        return frozenset({"gastroduodenal"})
    if site == "ampulla":
        return frozenset({"gastroduodenal", "net_low_risk"})
    return frozenset({"net_low_risk"})  # thoracic carcinoids by analogy (docs/clinical-gaps.md)


SITES = ["stomach", "duodenum", "ampulla", "jejunum", "ileum", "appendix", "colon", "rectum",
         "pancreas", "lung", "thymus", "other", "unknown_primary"]  # fmt: skip
#: Sizes probed by site: at and either side of each limit of §5.2 the site has (gastric type 1
#: <= 1 cm; NF-pNET <= 2 cm; appendix > 2 cm; rectum 1-2 cm) and of the moved bounds a mutant
#: could write (0.9, 1.1, 1.5, 1.8, 2.2, 3); elsewhere one size in each band.
OTHER_SIZES = [0.5, 1.5, 2.5]
SIZES_BY_SITE = {
    "stomach": [0.5, 0.95, 1.0, 1.05, 1.5, 2.5],
    "pancreas": [0.5, 1.5, 1.9, 2.0, 2.1, 2.5],
    "appendix": [0.5, 1.2, 1.7, 1.9, 2.0, 2.1, 2.5],
    "rectum": [0.5, 0.95, 1.0, 1.05, 1.2, 1.9, 2.0, 2.1, 2.5],
}
COMPLETION_SIZES = [0.5, 1.0, 1.5, 2.0, 2.5]  # one value in each band of the reference


def _domains(site: str) -> dict[str, list[Any]]:
    return {
        "resection_margin": MARGINS,
        "met_status": ["none", "present"],
        "primary_resectability": RESECTABILITY,
        "gastric_type": GASTRIC_TYPES if site == "stomach" else [None],
        "size_cm": COMPLETION_SIZES,
        "functional": [True, False],
        "risk": RISKS,
    }


def _schedule_cases() -> Iterable[dict[str, Any]]:
    """Fully known inputs as the pathway presents them: the gastric type only for a gastric
    primary (engine/fact_layer.py), the resectability only matters before resection."""
    for site in SITES:
        for margin in MARGINS:
            resect = RESECTABILITY if margin == "not_resected" else ["resectable"]
            for res, met in itertools.product(resect, ("none", "present")):
                base = {"primary_site": site, "resection_margin": margin,
                        "met_status": met, "primary_resectability": res}  # fmt: skip
                yield {**base, "family": "nec", "gastric_type": None, "size_cm": 1.5,
                       "functional": False, "risk": None}  # fmt: skip
                if met == "present":  # advanced whatever the rest: one probe
                    yield {**base, "family": "net", "gastric_type": None, "size_cm": 1.5,
                           "functional": False, "risk": "low"}  # fmt: skip
                    continue
                for gt, size, fn, risk in itertools.product(
                    _domains(site)["gastric_type"],
                    SIZES_BY_SITE.get(site, OTHER_SIZES),
                    [True, False] if site == "pancreas" else [False],
                    RISKS,
                ):
                    yield {**base, "family": "net", "gastric_type": gt, "size_cm": size,
                           "functional": fn, "risk": risk}  # fmt: skip


def _unknown_probes() -> Iterable[tuple[str, dict[str, Any]]]:
    """(input left unknown, the other inputs) on a coarser grid: resected or resectable, low or
    high risk, one size in each band."""
    for site in SITES:
        gts = ["type1", "type3"] if site == "stomach" else [None]
        for margin, res in (("R0", "resectable"), ("not_resected", "resectable")):
            for gt, size, risk in itertools.product(gts, OTHER_SIZES, ("low", "high")):
                f = {"family": "net", "primary_site": site, "resection_margin": margin,
                     "met_status": "none", "primary_resectability": res, "gastric_type": gt,
                     "size_cm": size, "functional": False, "risk": risk}  # fmt: skip
                for name in _domains(site):
                    if name == "gastric_type" and site != "stomach":
                        continue
                    if name == "functional" and site != "pancreas":
                        continue
                    if name == "primary_resectability" and margin != "not_resected":
                        continue
                    yield name, f


def _combine(outs: list[frozenset[str] | str]) -> frozenset[str] | str | None:
    """The expectation for an unknown input from those of its values: one plan when all give
    it, None (open) when no plan suits them all, SKIP otherwise."""
    if any(o == SKIP for o in outs):
        return SKIP
    sets = [o for o in outs if isinstance(o, frozenset)]
    if all(len(s) == 1 for s in sets) and len(set(sets)) == 1:
        return sets[0]
    if not frozenset.intersection(*sets):
        return None
    return SKIP


@cache
def _schedule_expectations() -> tuple[tuple[frozenset[str] | None, dict[str, Any]], ...]:
    cases: list[tuple[frozenset[str] | None, dict[str, Any]]] = []
    for f in _schedule_cases():
        want = reference_schedule(f)
        if want != SKIP:
            assert isinstance(want, frozenset)
            cases.append((want, f))
    for name, f in _unknown_probes():
        values = _domains(f["primary_site"])[name]
        combined = _combine([reference_schedule({**f, name: v}) for v in values])
        if combined != SKIP:
            assert not isinstance(combined, str)
            cases.append((combined, {**f, name: None}))
    return tuple(cases)


#: Plans whose exams change from one phase to the next: the rectal 1-2 cm schedule ("MRI or EUS
#: at 6-12 mo, then endoscopy/imaging per risk"). Every other plan: its exams at every visit.
PHASE_EXAMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "rectum_1_to_2cm": (
        ("clinical_review", "pelvic_mri_or_eus", "endoscopy"),
        ("clinical_review", "endoscopy_or_imaging_per_risk"),
    ),
}
Got = tuple[tuple[Phase, ...], tuple[frozenset[str], ...], bool]


def _plan_of(raw: Mapping[str, Any]) -> Got:
    """A schedule of the table's parameters: its phases, the exams of each phase's visits (as
    engine/followup.py reads them) and whether it is "not applicable"."""
    phases = raw["phases"]
    return (
        tuple((p.get("to_month"), p["every_months"], p["range"], p["status"]) for p in phases),
        tuple(frozenset(p.get("exams") or raw["exams"]) for p in phases),
        raw.get("status") == "NOT_APPLICABLE",
    )


def _plan_matches(got: Got, name: str) -> bool:
    phases, exams = PLANS[name]
    got_phases, got_exams, not_applicable = got
    if not_applicable or name == "awaiting_treatment":
        return not_applicable and name == "awaiting_treatment" and not got_phases
    want_exams = PHASE_EXAMS.get(name) or (exams,) * len(phases)
    if len(got_phases) != len(phases) or got_exams != tuple(map(frozenset, want_exams)):
        return False
    for (to, every, rng, status), (g_to, g_every, g_rng, g_status) in zip(
        phases, got_phases, strict=True
    ):
        if to != g_to or status != g_status:
            return False
        if every is not None and (every, rng) != (g_every, g_rng):
            return False
    return True


def followup_schedule_matches_reference(kb: Knowledge) -> list[str]:
    """The schedule chosen for every site x resection x metastatic status x resectability x
    gastric type x size x functional status x risk group (and each of these unknown in turn):
    its phases (duration), intervals, status and exams equal a plan of clinical-treatment.md
    §5.2 that the reference allows for that input; an unknown input that could change the plan
    leaves the schedule open."""
    table = kb.tables["CSCO2021.FOLLOWUP.SCHEDULE"]
    schedules = table.spec.parameters["schedules"]
    plans = {name: _plan_of(raw) for name, raw in schedules.items()}
    out: list[str] = []
    for want, facts in _schedule_expectations():
        res = evaluate_first(table, facts)
        if want is None:
            ok = not res.decided
        else:
            got = plans.get(str(res.value))
            ok = res.decided and got is not None and any(_plan_matches(got, w) for w in want)
        if not ok:
            wanted = "open" if want is None else sorted(want)
            out.append(f"{facts}: {res.value} (decided {res.decided}), reference {wanted}")
            if len(out) >= MAX_REPORTED:
                break
    return out


CHECKS: list[tuple[str, Callable[[Knowledge], list[str]]]] = [
    (
        "follow-up risk group = ESMO 2020 / CommNETS 2018 (grade x Ki-67 x nodes grid)",
        followup_risk_matches_reference,
    ),
    (
        "follow-up risk names only rows some completion of the case makes decide",
        followup_risk_names_only_possible_rows,
    ),
    (
        "follow-up schedule, intervals and exams = clinical-treatment.md §5.2 (every input)",
        followup_schedule_matches_reference,
    ),
]
