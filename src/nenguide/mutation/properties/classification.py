"""Classification properties: the MiNEN 30 % rule, the combined GEP grade and the WHO 2021
thoracic categories, recomputed from shared/reference/clinical-pathology-staging.md (§1.1-1.2
WHO 2019 digestive grading, §1.4 MiNEN, §1.6 WHO 2021 thoracic NENs)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.tables import TableResult, evaluate_collect, evaluate_first
from nenguide.mutation.properties.staging import MAX_REPORTED, reference_pathology_checks

#: component shares (%) at and either side of the 30 % limit, and of the mutated limits
SHARES = (0, 15, 26.9, 27, 29.9, 30, 30.1, 31, 33, 40, 44.9, 45, 50, 70)
_SHARE_COMPLETIONS = (0, 15, 29.9, 30, 45, 70)


def _possible(value: Any, domain: Iterable[Any]) -> list[Any]:
    """The values an input can take: itself if known, its values if partly known, else all."""
    if value is None:
        return list(domain)
    if isinstance(value, OneOf):
        return value.sorted()
    return [value]


def _got(res: TableResult) -> tuple[bool, frozenset[Any]]:
    """(decided, the outcomes the table leaves possible)."""
    values = res.value.values if isinstance(res.value, OneOf) else {res.value}
    return res.decided, frozenset(values)


def reference_minen_mix(diagnosed: bool, ne: float, non_ne: float) -> str | None:
    """WHO 2019 (clinical-pathology-staging.md §1.4): a MiNEN has a neuroendocrine and a
    non-neuroendocrine component each at least 30 % of the tumour (the "> 30 %" reading of some
    sources is surfaced by the MINEN_AT_THRESHOLD caution, not by the class); a component below
    30 % is focal differentiation, not MiNEN, and the tumour is classified by the other
    component. The pathologist's MiNEN diagnosis stands (shares that contradict it are reported
    by the consistency checks). None: both components below 30 % (the dominant one is not
    named by the shares; not asserted)."""
    if diagnosed or (ne >= 30 and non_ne >= 30):
        return "MiNEN"
    if ne < 30 <= non_ne:
        return "not_neuroendocrine"
    if non_ne < 30 <= ne:
        return "neuroendocrine"
    return None


def minen_mix_matches_who(kb: Knowledge) -> list[str]:
    """Every pair of shares around the limits, with and without a MiNEN diagnosis, known or not:
    a known input gives the reference's class; unknown ones leave it open exactly when their
    possible values lead to different classes, between exactly those classes."""
    table = kb.tables["CSCO2021.CLASS.MINEN"]
    out = []
    grid = itertools.product((True, False, None), (None, *SHARES), (None, *SHARES))
    for diagnosed, ne, non_ne in grid:
        wants = {
            reference_minen_mix(d, n, o)
            for d in _possible(diagnosed, (True, False))
            for n in _possible(ne, _SHARE_COMPLETIONS)
            for o in _possible(non_ne, _SHARE_COMPLETIONS)
        }
        if None in wants and len(wants) <= 2:
            continue  # the reference leaves (one of) the completions open
        decided, got = _got(
            evaluate_first(
                table, {"minen_diagnosed": diagnosed, "ne_percent": ne, "non_ne_percent": non_ne}
            )
        )
        unasserted = None in wants  # a completion the reference leaves open: any class there
        wants.discard(None)
        if (len(wants) == 1 and not unasserted) != decided or not (
            got >= wants if unasserted else got == wants
        ):
            out.append(
                f"diagnosed {diagnosed}, NE {ne} %, non-NE {non_ne} %: {sorted(map(str, got))} "
                f"(decided {decided}), reference {sorted(map(str, wants))}"
            )
            if len(out) >= MAX_REPORTED:
                break
    return out


def reference_minen_checks(f: dict[str, Any]) -> set[str]:
    """The consistency checks of a mixed or combined tumour (clinical-pathology-staging.md §1.3,
    §1.4, §1.6): a MiNEN diagnosis with a component given below 30 % contradicts WHO 2019's
    definition (digestive sites: MiNEN is no thoracic category, thoracic mixed tumours are
    reported as combined); small- and large-cell morphology together is NEC morphology, so a
    well-differentiated tumour with it conflicts; the rest as in
    :func:`reference_pathology_checks`. The combined small/large-cell caution itself is
    unconfirmed (clinical-gaps.md) and not asserted."""
    out = reference_pathology_checks(f)
    if f["differentiation"] == "well" and f["morphology"] == "small_and_large_cell":
        out.add("CONFLICT_WELL_DIFFERENTIATED_NEC_MORPHOLOGY")
    shares = (f["ne_percent"], f["non_ne_percent"])
    below = any(s is not None and s < 30 for s in shares)
    if f["rule_family"] == "gep" and f["minen_diagnosed"] is True and below:
        out.add("MINEN_DIAGNOSIS_SHARES_DISAGREE")
    return out


def minen_checks_match_who(kb: Knowledge) -> list[str]:
    """Shares around the 30 % limit with a MiNEN diagnosis recorded, not recorded or unknown, in
    either family; and the combined small/large-cell morphology with each differentiation."""
    table = kb.tables["CSCO2021.CLASS.CONSISTENCY"]
    base = {"differentiation": None, "morphology": None, "ki67_percent": None,
            "mitoses_per_2mm2": None, "ki67_reported": False, "mitoses_reported": False,
            "minen_diagnosed": None, "ne_percent": None, "non_ne_percent": None}  # fmt: skip
    scenarios = [
        {**base, "rule_family": fam, "minen_diagnosed": d, "ne_percent": ne, "non_ne_percent": non}
        for fam, d, ne, non in itertools.product(
            ("gep", "thoracic"), (True, False, None), (None, *SHARES), (None, 29.9, 30, 70)
        )
    ]
    scenarios += [
        {**base, "rule_family": fam, "minen_diagnosed": True, "ne_percent": ne,
         "non_ne_percent": non}
        for fam, ne, non in itertools.product(("gep", "thoracic"), (29.9, 30, 70), SHARES)
    ]  # fmt: skip
    scenarios += [
        {**base, "rule_family": fam, "differentiation": diff, "morphology": "small_and_large_cell"}
        for fam, diff in itertools.product(("gep", "thoracic"), (None, "well", "poor"))
    ]
    out = []
    for f in scenarios:
        got = {r.then.get("code") for r in evaluate_collect(table, f).applies}
        got.discard("COMBINED_SMALL_LARGE_CELL")
        want = reference_minen_checks(f)
        if got != want:
            out.append(f"{f}: {sorted(map(str, got))}, reference {sorted(want)}")
            if len(out) >= MAX_REPORTED:
                break
    return out


_GRADES = ("G1", "G2", "G3", "not_reported")


def reference_gep_grade(ki67: str, mitoses: str) -> str:
    """WHO 2019 (clinical-pathology-staging.md §1.1 item 3, §1.2 pseudo-code): the higher of the
    grades implied by Ki-67 and by the mitotic count; one index not reported: the other's grade;
    neither: GX (grade cannot be assessed)."""
    reported = [g for g in (ki67, mitoses) if g != "not_reported"]
    return max(reported) if reported else "GX"


def gep_grade_combine_higher_wins(kb: Knowledge) -> list[str]:
    """Every pair of index grades, each known, unknown or one of two values: the grade is decided
    exactly when every possible pair gives the same grade, and otherwise left open between
    exactly the grades the possible pairs give. A grade is one of two values when its index is a
    range across a limit; an index not reported is known to be missing, never "one of" (the
    first-hit table cannot tell "G2 or not reported" apart from its rows one by one)."""
    table = kb.tables["CSCO2021.GRADE.GEP.COMBINE"]
    values: list[Any] = [None, *_GRADES]
    values += [OneOf(frozenset(p)) for p in itertools.combinations(_GRADES[:3], 2)]
    out = []
    for ki67, mitoses in itertools.product(values, values):
        wants = frozenset(
            reference_gep_grade(k, m)
            for k in _possible(ki67, _GRADES)
            for m in _possible(mitoses, _GRADES)
        )
        decided, got = _got(evaluate_first(table, {"grade_ki67": ki67, "grade_mitoses": mitoses}))
        if got != wants or decided != (len(wants) == 1):
            out.append(
                f"Ki-67 grade {ki67}, mitotic grade {mitoses}: {sorted(map(str, got))} "
                f"(decided {decided}), WHO 2019 {sorted(wants)}"
            )
    return out


_NECROSIS = ("absent", "focal", "extensive")
#: mitoses per 2 mm² at and either side of the WHO 2021 limits (2 and 10) and of nearby edits
THORACIC_MITOSES = (0, 1, 1.5, 1.8, 1.9, 1.99, 2, 2.01, 2.2, 3, 9.9, 10, 10.01, 11, 12, 30)


def reference_thoracic_carcinoid(mitoses: float, necrosis: str) -> str:
    """WHO 2021 (clinical-pathology-staging.md §1.6): typical carcinoid < 2 mitoses per 2 mm²
    and no necrosis; atypical carcinoid 2-10 mitoses and/or necrosis (either criterion alone
    suffices; 10 = AC); carcinoid morphology with > 10 mitoses: the provisional "carcinoid with
    elevated proliferation"."""
    if mitoses > 10:
        return "carcinoid_elevated_proliferation"
    if mitoses >= 2 or necrosis != "absent":
        return "atypical_carcinoid"
    return "typical_carcinoid"


def thoracic_carcinoid_matches_who2021(kb: Knowledge) -> list[str]:
    table = kb.tables["CSCO2021.CLASS.THORACIC.CARCINOID"]
    out = []
    for mitoses, necrosis in itertools.product((None, *THORACIC_MITOSES), (None, *_NECROSIS)):
        wants = frozenset(
            reference_thoracic_carcinoid(m, n)
            for m in _possible(mitoses, (0, 1.9, 2, 10, 10.01, 30))
            for n in _possible(necrosis, _NECROSIS)
        )
        facts = {"mitoses_per_2mm2": mitoses, "necrosis": necrosis}
        decided, got = _got(evaluate_first(table, facts))
        if decided != (len(wants) == 1) or got != wants:
            out.append(
                f"{facts}: {sorted(map(str, got))} (decided {decided}), WHO 2021 {sorted(wants)}"
            )
    return out


#: WHO 2021 thoracic high-grade NEC by morphology (clinical-pathology-staging.md §1.6): small-cell
#: SCLC, large-cell LCNEC, small-cell with a large-cell component combined SCLC (the SCLC
#: category: "combined SCLC = SCLC + any NSCLC component"); carcinoid morphology in a poorly
#: differentiated tumour is a contradiction (reported by the consistency checks): no category
#: is guessed.
THORACIC_HIGH_GRADE: dict[str, dict[str, Any]] = {
    "small_cell": {"category": "SCLC", "nec_subtype": "small_cell"},
    "large_cell": {"category": "LCNEC", "nec_subtype": "large_cell"},
    "small_and_large_cell": {"category": "SCLC", "nec_subtype": "small_cell"},
    "carcinoid": {"category": None, "nec_subtype": None},
}


def thoracic_high_grade_matches_who2021(kb: Knowledge) -> list[str]:
    table = kb.tables["CSCO2021.CLASS.THORACIC.HIGHGRADE"]
    out = []
    for morphology, want in THORACIC_HIGH_GRADE.items():
        res = evaluate_first(table, {"morphology": morphology})
        got = {k: res.rows[0].then.get(k) for k in want} if res.decided and res.rows else None
        if got != want:
            out.append(f"{morphology}: {got} (decided {res.decided}), WHO 2021 {want}")
    res = evaluate_first(table, {"morphology": None})
    if res.decided:
        out.append(f"morphology unknown: decided {res.value}, WHO 2021 needs the morphology")
    return out
