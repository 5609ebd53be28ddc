"""The work-up, liver, setting and symptom-control properties (issue 13) kill the edits the
sources decide and leave the open ones alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mutation_support import mutated as _mutant
from nenguide.engine.kb import Knowledge
from nenguide.mutation.properties.liver import liver_conflicts_match_enets, liver_type_matches_enets
from nenguide.mutation.properties.setting import (
    setting_matches_csco,
    symptom_control_matches_reference,
)
from nenguide.mutation.properties.workup import workup_items_match_reference


@pytest.mark.parametrize(
    "mid",
    [
        # EUS of the pancreas is for a pancreatic lesion (§5.1), not a duodenal one
        "CSCO2021.WORKUP.EUS.PANCREAS when primary_site: pancreas -> [pancreas, duodenum]",
        # rectal NET 1-2 cm inclusive: EUS and/or pelvic MRI (clinical-treatment.md §2.7)
        "CSCO2021.WORKUP.EUS.RECTUM when size_cm: le 2 -> lt 2",
        "CSCO2021.WORKUP.EUS.RECTUM when size_cm: le 2 -> le 3",
        # NEC is Ki-67 > 20 % by definition: 20 % is discordant (WHO 2019, §1.1)
        "CSCO2021.WORKUP.PATHOLOGY.NEC_LOW_PROLIFERATION when ki67_percent: le 20 -> lt 20",
        # GLP-1R imaging only while the insulinoma is not localised (§5.1)
        "CSCO2021.WORKUP.GLP1R.INSULINOMA_UNLOCALISED when primary_site: unknown_primary -> "
        "[unknown_primary, lung]",
    ],
)
def test_the_property_kills_edits_the_sources_decide(mid: str) -> None:
    assert workup_items_match_reference(_mutant(mid))


@pytest.mark.parametrize(
    "mid",
    [
        # where SSTR imaging of a small appendiceal / rectal NET may be omitted is not in the
        # sources (docs/clinical-gaps.md): the property does not decide it
        "CSCO2021.WORKUP.SSTR.NET_APPENDIX_RECTUM when size_cm: ge 1 -> ge 0.9",
        # the Ki-67 limit of "high G2" is not in the sources either
        "CSCO2021.WORKUP.FDG.NET_G2_HIGH when ki67_percent: gt 10 -> gt 11",
    ],
)
def test_the_property_leaves_open_what_the_sources_leave_open(mid: str) -> None:
    assert workup_items_match_reference(_mutant(mid)) == []


@pytest.mark.parametrize(
    ("mid", "check"),
    [
        # a single lesion is type I whatever the extent; confined disease that standard
        # resection cannot remove fits no type (Frilling 2014, reference README)
        (
            "CSCO2021.LIVER.TYPE_I_CONFINED when liver_resectability: standard_resection -> "
            "[standard_resection, unresectable]",
            liver_type_matches_enets,
        ),
        (
            "CSCO2021.LIVER.TYPE_III_DIFFUSE when liver_diffuse: true -> false",
            liver_type_matches_enets,
        ),
        (
            "CSCO2021.LIVER.CHECK.SINGLE_DIFFUSE when liver_lesion_count: = 1 -> = 2",
            liver_conflicts_match_enets,
        ),
        (
            "CSCO2021.LIVER.CHECK.RESECTABLE_DIFFUSE when liver_resectability: "
            "[standard_resection, resection_with_ablation_or_staged] -> [standard_resection]",
            liver_conflicts_match_enets,
        ),
    ],
)
def test_the_liver_properties_kill_edits_of_the_enets_types(
    mid: str, check: Callable[[Knowledge], list[str]]
) -> None:
    """Each edit is killed by the property that owns its rows (type vs contradiction)."""
    assert check(_mutant(mid))


@pytest.mark.parametrize(
    ("mid", "check"),
    [
        # borderline resectable without metastases is locally advanced (CSCO S2)
        (
            "CSCO2021.TX.SETTING.LOCALISED when resectability: [resectable, not_recorded] -> "
            "[resectable, not_recorded, borderline]",
            setting_matches_csco,
        ),
        # an insulinoma with positive SSTR imaging gets SSA, not the VIPoma fluid regimen (§1.2)
        (
            "CSCO2021.TX.SYMPTOMS.INSULINOMA.SSA then <- CSCO2021.TX.SYMPTOMS.VIPOMA",
            symptom_control_matches_reference,
        ),
        # a somatostatinoma gets SSA, not cortisol-synthesis inhibitors (§1.5)
        (
            "CSCO2021.TX.SYMPTOMS.SOMATOSTATINOMA then <- CSCO2021.TX.SYMPTOMS.ECTOPIC_ACTH",
            symptom_control_matches_reference,
        ),
    ],
)
def test_the_treatment_properties_kill_edits_the_sources_decide(
    mid: str, check: Callable[[Knowledge], list[str]]
) -> None:
    assert check(_mutant(mid))
