"""The follow-up and fact-layer properties (mutation/properties/followup.py, fact_checks.py):
each edit that survived the last full mutation run is now caught by the property citing its
source, and the reference encodings read the reference, not the table."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mutation_support import mutants as _mutants
from mutation_support import sources as _sources
from nenguide.engine.kb import Knowledge
from nenguide.mutation import runner
from nenguide.mutation.properties import fact_checks, followup

RISK = followup.followup_risk_matches_reference
SCHEDULE = followup.followup_schedule_matches_reference
SMALL_G1 = fact_checks.rectal_small_g1_matches_reference
LOW_RISK = fact_checks.rectal_low_risk_r0_matches_reference
SIZE = fact_checks.size_plausibility_matches_documented_limits

#: Survivors of the last full run (docs/mutation-report.md) and the property that kills each.
KILLED_BY: dict[str, Callable[[Knowledge], list[str]]] = {
    "CSCO2021.FOLLOWUP.RISK.G2_KI67_ABOVE_5 when ki67_percent: gt 5 -> ge 5": RISK,
    "CSCO2021.FOLLOWUP.RISK.G2_KI67_ABOVE_5 when ki67_percent: gt 5 -> gt 2.5": RISK,
    "CSCO2021.FOLLOWUP.RISK.G2_KI67_ABOVE_5 when grade: G2 -> [G2, G1]": RISK,
    "CSCO2021.FOLLOWUP.SCHEDULE.NEC_CURATIVE when resection_margin: [R0, R1] -> [R0]": SCHEDULE,
    "CSCO2021.FOLLOWUP.SCHEDULE.NEC_CURATIVE then <- CSCO2021.FOLLOWUP.SCHEDULE.NEC_ADVANCED": (
        SCHEDULE
    ),
    "CSCO2021.FOLLOWUP.SCHEDULE.NET_G3 then <- CSCO2021.FOLLOWUP.SCHEDULE.NET_R1": SCHEDULE,
    "CSCO2021.FOLLOWUP.SCHEDULE.NET_LOW_RISK then <- CSCO2021.FOLLOWUP.SCHEDULE.GASTRODUODENAL": (
        SCHEDULE
    ),
    "CSCO2021.FOLLOWUP.SCHEDULE.GASTRIC_TYPE1_SMALL when size_cm: le 1 -> lt 1": SCHEDULE,
    "CSCO2021.FOLLOWUP.SCHEDULE.GASTRIC_TYPE1 when primary_site: stomach -> [stomach, ampulla]": (
        SCHEDULE
    ),
    "CSCO2021.FOLLOWUP.SCHEDULE.NF_PNET_SURVEILLANCE when size_cm: le 2 -> lt 2": SCHEDULE,
    "CSCO2021.FOLLOWUP.SCHEDULE.APPENDIX_OVER_2CM when size_cm: gt 2 -> ge 2": SCHEDULE,
    "CSCO2021.FOLLOWUP.SCHEDULE.RECTUM_1_TO_2CM when size_cm: ge 1 -> gt 1": SCHEDULE,
    "CSCO2021.FOLLOWUP.SCHEDULE.LOCALLY_ADVANCED when primary_resectability: unresectable -> "
    "[unresectable, borderline]": SCHEDULE,
    "CSCO2021.FACT.RECTAL_SMALL_G1.SIZE when size_cm: ge 1 -> ge 0.9": SMALL_G1,
    "CSCO2021.FACT.RECTAL_SMALL_G1.DEPTH when extent: not_in [mucosa, submucosa] -> "
    "not_in [submucosa]": SMALL_G1,
    "CSCO2021.FACT.RECTAL_SMALL_G1.OTHER_SITE when primary_site: not_in [rectum] -> "
    "not_in [rectum, colon]": SMALL_G1,
    "CSCO2021.FACT.RECTAL_LOW_RISK_R0.NODES when node_status: positive -> [positive, negative]": (
        LOW_RISK
    ),
    "CSCO2021.FACT.RECTAL_LOW_RISK_R0.NOT_R0 when resection_margin: [R1, R2, not_resected] -> "
    "[R1, R2]": LOW_RISK,
    "CSCO2021.FACT.SIZE_PLAUSIBILITY.WALL_LIMITED_LARGE when size_cm: gt 5 -> ge 5": SIZE,
    "CSCO2021.FACT.SIZE_PLAUSIBILITY.VERY_LARGE when size_cm: gt 20 -> gt 22": SIZE,
    "CSCO2021.FACT.SIZE_PLAUSIBILITY.WALL_LIMITED_LARGE when extent: [mucosa, submucosa] -> "
    "[mucosa, submucosa, muscularis_propria]": SIZE,
}


@pytest.mark.parametrize("mutant_id", sorted(KILLED_BY))
def test_former_survivor_is_killed_by_its_property(kb: Knowledge, mutant_id: str) -> None:
    check = KILLED_BY[mutant_id]
    assert not check(kb)  # holds on the package
    m = _mutants()[mutant_id]
    assert check(runner.load_mutant(kb, m, _sources()[m.table_id]))


def test_schedule_plans_are_the_reference_rows() -> None:
    """Spot checks of the encoding against clinical-treatment.md §5.2, written out by hand."""
    low = followup.PLANS["net_low_risk"][0]
    assert [(p[0], p[1]) for p in low] == [(24, 6), (60, 12), (None, 12)]  # 6-12 / 12 / 12-24
    g3 = followup.PLANS["net_g3"][0]
    assert g3[-1][1] == g3[-2][1]  # G3: not extended after 5 years (ESMO 2020)
    base = {"family": "net", "primary_site": "rectum", "resection_margin": "R0",
            "met_status": "none", "primary_resectability": None, "gastric_type": None,
            "functional": None, "risk": "low"}  # fmt: skip
    ref = followup.reference_schedule
    assert ref({**base, "size_cm": 1.0}) == frozenset({"rectum_1_to_2cm"})
    assert ref({**base, "size_cm": 2.1}) == frozenset({"net_low_risk"})
    assert ref({**base, "resection_margin": "R1", "size_cm": 1.5}) == frozenset({"net_high_risk"})


def test_an_unknown_input_is_open_only_when_it_could_change_the_plan() -> None:
    a, b = frozenset({"net_low_risk"}), frozenset({"net_high_risk"})
    assert followup._combine([a, a]) == a
    assert followup._combine([a, b]) is None
    assert followup._combine([a, followup.SKIP]) == followup.SKIP
    assert followup._combine([a, a | b]) == followup.SKIP  # one plan allowed, another possible
