"""Clinical properties of the knowledge tables, as deterministic checks over whole input grids.

Each check takes a knowledge base and returns its failures (empty: the property holds). The test
suite runs them on the bundled package (``tests/test_mutation.py``) and the Hypothesis tests in
``tests/test_properties.py`` draw from the same orders; the mutation harness runs them on every
mutant. Grids are exhaustive where the domain is finite (T/N/M categories) and cover every
threshold of the tables, just below, at and just above it, where it is numeric.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nenguide.engine.kb import Knowledge
from nenguide.mutation.properties.classification import (
    gep_grade_combine_higher_wins,
    minen_checks_match_who,
    minen_mix_matches_who,
    thoracic_carcinoid_matches_who2021,
    thoracic_high_grade_matches_who2021,
)
from nenguide.mutation.properties.fact_checks import CHECKS as FACT_CHECKS
from nenguide.mutation.properties.fact_lists import CHECKS as FACT_LIST_CHECKS
from nenguide.mutation.properties.facts import (
    carcinoid_symptoms_are_flushing_or_diarrhoea,
    gastrinoma_facts_match_reference,
    men1_manifestations_counted_as_thakker,
    node_status_precedence,
    somatostatinoma_triad_needs_all_three,
    syndrome_active_for_treatment,
    well_differentiated_by_category_then_stated,
)
from nenguide.mutation.properties.followup import CHECKS as FOLLOWUP_CHECKS
from nenguide.mutation.properties.hereditary import (
    relative_men1_matches_thakker,
    surveillance_matches_reference,
    triggers_match_reference,
)
from nenguide.mutation.properties.liver import liver_conflicts_match_enets, liver_type_matches_enets
from nenguide.mutation.properties.recorded_decisions import DECISIONS
from nenguide.mutation.properties.setting import (
    setting_matches_csco,
    symptom_control_matches_reference,
)
from nenguide.mutation.properties.staging import (
    GRADE_BOUNDARIES,
    GRADE_RANK,
    GROUP_ORDER,
    ORDERS,
    PRECISE_TABLES,
    ajcc8_lung_group,
    ajcc8_pancreas_exocrine_group,
    gep_t_matches_ajcc8,
    grade_boundaries,
    grade_monotone,
    group_grid,
    lung_t_matches_tnm8,
    partly_known_input_gives_exactly_its_outcomes,
    pathology_checks_match_who,
    stage_monotone,
    staging_conflicts_are_reported,
    staging_system_by_site_and_category,
)
from nenguide.mutation.properties.staging_extra import (
    boundary_flags_match_sources,
    n_and_m_tables_under_partial_knowledge,
    staging_system_under_partial_knowledge,
    t_tables_under_partial_knowledge,
)
from nenguide.mutation.properties.staging_groups import GROUP_CHECKS
from nenguide.mutation.properties.syndromes import SYNDROME_CHECKS
from nenguide.mutation.properties.syndromes_carcinoid import CARCINOID_CHECKS
from nenguide.mutation.properties.syndromes_rare import RARE_CHECKS
from nenguide.mutation.properties.treatment import (
    advanced_options_match_reference,
    followup_exemption_matches_csco_s8,
    local_treatment_matches_reference,
    nec_options_match_reference,
    resected_options_match_reference,
    systemic_options_match_reference,
    treatment_caveats_match_reference,
)
from nenguide.mutation.properties.treatment_extra import (
    local_treatment_under_partial_knowledge,
)
from nenguide.mutation.properties.workup import workup_items_match_reference

__all__ = [
    "GRADE_BOUNDARIES",
    "GRADE_RANK",
    "GROUP_ORDER",
    "ORDERS",
    "Property",
    "properties",
]


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    check: Callable[[Knowledge], list[str]]
    whole_engine: bool = False  # runs whole assessments (slow) rather than reading one table
    #: "clinical": the expectation comes from a cited source; "decision": it pins a choice no
    #: source makes, recorded in docs/clinical-gaps.md (``gap``: that row's topic)
    kind: str = "clinical"
    gap: str = ""


def properties() -> list[Property]:
    out = [
        Property("grade boundaries (WHO 2019)", grade_boundaries, whole_engine=True),
        Property("grade monotone in Ki-67 and mitoses", grade_monotone, whole_engine=True),
    ]
    out += [
        Property("GEP-NET T category = AJCC 8th (size x depth grid)", gep_t_matches_ajcc8),
        Property("lung T category by size = TNM 8th", lung_t_matches_tnm8),
        Property(
            "lung stage groups = TNM 8th (every T, N, M)",
            lambda kb: group_grid(kb, "CSCO2021.STAGE.LUNG.GROUP", ajcc8_lung_group),
        ),
        Property(
            "exocrine-pancreas stage groups = AJCC 8th ch. 28 (every T, N, M)",
            lambda kb: group_grid(
                kb, "CSCO2021.STAGE.PANCREAS_EXO.GROUP", ajcc8_pancreas_exocrine_group
            ),
        ),
    ]
    out += [
        Property("staging system by site and category", staging_system_by_site_and_category),
        Property(
            "nodal and metastatic contradictions are reported (every input combination)",
            staging_conflicts_are_reported,
        ),
        Property(
            "pathology contradictions and cautions = WHO 2019/2021 (index x morphology grid)",
            pathology_checks_match_who,
        ),
        Property(
            "systemic options for advanced NET = clinical-treatment.md §3.2-3.3, §7",
            systemic_options_match_reference,
        ),
        Property(
            "NEC, MiNEN and lung NEC options = CSCO S3, S7 (clinical-treatment.md §4)",
            nec_options_match_reference,
        ),
        Property(
            "locally advanced and metastatic options = CSCO S2, S4, S5 (every input combination)",
            advanced_options_match_reference,
        ),
        Property(
            "options after resection of a NET = CSCO S3 (every input combination)",
            resected_options_match_reference,
        ),
        Property(
            "treatment caveats = trial populations and gates (clinical-treatment.md §3, §7)",
            treatment_caveats_match_reference,
        ),
        Property(
            "exemption from follow-up = CSCO 2021 S8 (every input combination)",
            followup_exemption_matches_csco_s8,
        ),
        Property(
            "local treatment of the primary = clinical-treatment.md §2 (size x grade x depth grid)",
            local_treatment_matches_reference,
        ),
    ]
    out += [
        Property(
            "germline-testing triggers = clinical-treatment.md §6.4 (site x age x count grid)",
            triggers_match_reference,
        ),
        Property(
            "carrier surveillance = Thakker 2012 (clinical-treatment.md §6.2-6.3)",
            surveillance_matches_reference,
        ),
        Property(
            "relative with MEN1 = clinical or genetic MEN1 (Thakker 2012, §6.2)",
            relative_men1_matches_thakker,
        ),
    ]
    out += [
        Property("MiNEN = each component at least 30 % (WHO 2019)", minen_mix_matches_who),
        Property(
            "MiNEN diagnosis vs shares, combined morphology (WHO 2019/2021 checks)",
            minen_checks_match_who,
        ),
        Property(
            "GEP grade = the higher of the Ki-67 and mitotic grades (WHO 2019)",
            gep_grade_combine_higher_wins,
        ),
        Property(
            "lung/thymic carcinoid TC/AC/elevated = WHO 2021 (mitoses x necrosis)",
            thoracic_carcinoid_matches_who2021,
        ),
        Property(
            "lung/thymic high-grade NEC by morphology = WHO 2021",
            thoracic_high_grade_matches_who2021,
        ),
        Property(
            "work-up items = imaging, endoscopy and markers of the reference (situation grid)",
            workup_items_match_reference,
        ),
        Property(
            "ENETS liver-metastasis type (Frilling 2014; every finding known or not)",
            liver_type_matches_enets,
        ),
        Property(
            "liver findings contradicting the ENETS types are reported", liver_conflicts_match_enets
        ),
        Property(
            "treatment setting = CSCO S1, S2, S4 (every input known, one of two, or unknown)",
            setting_matches_csco,
        ),
        Property(
            "hormone symptom control = clinical-treatment.md §1.2-1.5 (every syndrome)",
            symptom_control_matches_reference,
        ),
    ]
    out += [Property(name, check) for name, check in SYNDROME_CHECKS]
    out += [Property(name, check) for name, check in RARE_CHECKS]
    out += [Property(name, check) for name, check in CARCINOID_CHECKS]
    for table in PRECISE_TABLES:
        out.append(
            Property(
                f"partly known input gives exactly its outcomes ({table})",
                lambda kb, table=table: partly_known_input_gives_exactly_its_outcomes(  # type: ignore[misc]
                    kb, table
                ),
            )
        )
    for table in ORDERS:
        out.append(
            Property(
                f"stage group monotone in T, N, M ({table})",
                lambda kb, table=table: stage_monotone(kb, table),  # type: ignore[misc]
            )
        )
    out += [Property(name, check) for name, check in FOLLOWUP_CHECKS]
    out += [Property(name, check) for name, check in FACT_CHECKS]
    out += [Property(name, check) for name, check in FACT_LIST_CHECKS]
    out += [
        Property(
            "T categories under partial knowledge = AJCC 8th / TNM 8th (every known, unknown "
            "or two-valued size and depth)",
            t_tables_under_partial_knowledge,
        ),
        Property(
            "N and M categories under partial knowledge = AJCC 8th / TNM 8th",
            n_and_m_tables_under_partial_knowledge,
        ),
        Property(
            "staging system under partial knowledge (site group x category)",
            staging_system_under_partial_knowledge,
        ),
        Property(
            "boundary-wording and venous-thrombus flags = docs/staging-decisions.md",
            boundary_flags_match_sources,
        ),
        Property(
            "local treatment and gastric type under partial knowledge = clinical-treatment.md "
            "§2, clinical-pathology-staging.md §7",
            local_treatment_under_partial_knowledge,
        ),
    ]
    out += [
        Property(
            "carcinoid symptoms = flushing or secretory diarrhoea (ENETS 2022; every combination)",
            carcinoid_symptoms_are_flushing_or_diarrhoea,
        ),
        Property(
            "somatostatinoma triad = all three symptoms (clinical-treatment.md §1.5)",
            somatostatinoma_triad_needs_all_three,
        ),
        Property(
            "MEN1 major manifestations counted as Thakker 2012 (patient and relatives)",
            men1_manifestations_counted_as_thakker,
        ),
        Property(
            "node status: count, then lung station, then the stated status (UICC 8th)",
            node_status_precedence,
        ),
        Property(
            "gastrinoma facts from the history and the syndrome step (every combination)",
            gastrinoma_facts_match_reference,
        ),
        Property(
            "a confirmed or suspected syndrome is active for treatment (ENETS 2023)",
            syndrome_active_for_treatment,
        ),
        Property(
            "well differentiated: the category, else the stated differentiation (WHO)",
            well_differentiated_by_category_then_stated,
        ),
    ]
    out += [Property(name, check) for name, check in GROUP_CHECKS]
    out += [Property(n, check, kind="decision", gap=gap) for n, gap, check in DECISIONS]
    return out
