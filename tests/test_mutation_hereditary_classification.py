"""The hereditary and classification properties (src/nenguide/mutation/properties/hereditary.py,
classification.py) notice the table edits that survived every other check before them (issue 13):
each named property holds on the package and fails on the mutant."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mutation_support import mutants as _mutants
from mutation_support import package_kb as _kb
from mutation_support import sources as _sources
from nenguide.engine.kb import Knowledge
from nenguide.mutation import runner
from nenguide.mutation.properties import classification as cls
from nenguide.mutation.properties import hereditary as her

#: former survivors (docs/mutation-report.md) and the property that now kills each one
KILLERS: dict[str, Callable[[Knowledge], list[str]]] = {
    "CSCO2021.HER.GASTRIC_TYPE2 when site_group: stomach -> [stomach, duodenum]": (
        her.triggers_match_reference
    ),
    "CSCO2021.HER.MULTIFOCAL_DP_NET when site_group: [pancreas, duodenum, ampulla] -> "
    "[pancreas, duodenum, ampulla, appendix]": her.triggers_match_reference,
    "CSCO2021.HER.GASTRIC_NET_UNDER_40 when age_years: lt 40 -> le 40": (
        her.triggers_match_reference
    ),
    "CSCO2021.HER.PHPT_UNDER_40 when age_years: lt 40 -> lt 36": her.triggers_match_reference,
    "CSCO2021.HER.RED_FLAG_MULTIPLE_PRIMARIES when number_of_tumours: gt 1 -> gt 2": (
        her.triggers_match_reference
    ),
    "CSCO2021.HER.FAMILIAL_MEN1 when men1_major_count: ge 1 -> ge 0": (
        her.triggers_match_reference
    ),
    "CSCO2021.FACT.RELATIVE_MEN1.NO when relative_men1_major_max: lt 2 -> le 2": (
        her.relative_men1_matches_thakker
    ),
    "CSCO2021.CLASS.MINEN.YES when ne_percent: ge 30 -> ge 27": cls.minen_mix_matches_who,
    "CSCO2021.CLASS.MINEN.NE_MINOR when ne_percent: lt 30 -> le 30": cls.minen_mix_matches_who,
    "CSCO2021.CLASS.CHECK.MINEN_DIAGNOSED_NE_BELOW_30 when ne_percent: lt 30 -> lt 27": (
        cls.minen_checks_match_who
    ),
    "CSCO2021.CLASS.THORACIC.AC_MITOSES when mitoses_per_2mm2: ge 2 -> ge 1.8": (
        cls.thoracic_carcinoid_matches_who2021
    ),
}


@pytest.mark.parametrize("mutant_id", sorted(KILLERS))
def test_property_kills_former_survivor(mutant_id: str) -> None:
    check = KILLERS[mutant_id]
    m = _mutants()[mutant_id]
    assert check(_kb()) == []
    assert check(runner.load_mutant(_kb(), m, _sources()[m.table_id])), mutant_id


def test_surveillance_then_swaps_are_noticed() -> None:
    """Every output swap between two surveillance rows loses an item or its start age."""
    swaps = [m for m in _mutants().values() if m.table_id == "CSCO2021.HER.SURVEILLANCE"]
    swaps = [m for m in swaps if m.path == ("then",)]
    assert swaps
    for m in swaps:
        kb = runner.load_mutant(_kb(), m, _sources()[m.table_id])
        assert her.surveillance_matches_reference(kb), m.id


def test_thoracic_high_grade_never_guesses_a_category_for_carcinoid_morphology() -> None:
    m = _mutants()[
        "CSCO2021.CLASS.THORACIC.HIGHGRADE_CARCINOID then <- CSCO2021.CLASS.THORACIC.COMBINED_SCLC"
    ]
    assert cls.thoracic_high_grade_matches_who2021(_kb()) == []
    kb = runner.load_mutant(_kb(), m, _sources()[m.table_id])
    assert cls.thoracic_high_grade_matches_who2021(kb)
