"""Recorded decisions in mutation testing: checks of kind "decision" (issue 13).

A decision check pins a choice no clinical source makes, recorded in docs/clinical-gaps.md. These
tests show that each one holds on the package, names an existing clinical-gaps row, kills the
mutants of its row that no clinical check notices, runs after every clinical check and the lint
(so a kill it is credited with is one nothing else makes), and is counted and listed apart in
the mutation report.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from mutation_support import mutants as _mutants
from mutation_support import mutated as _mutated
from mutation_support import package_kb as _kb
from mutation_support import sources as _sources
from nenguide.engine.kb import Knowledge
from nenguide.mutation import report, runner
from nenguide.mutation.properties import Property, properties
from nenguide.mutation.properties import recorded_decisions as rd
from nenguide.mutation.properties.workup import workup_items_match_reference

REPO = Path(__file__).resolve().parent.parent
GAPS = REPO / "docs" / "clinical-gaps.md"

GD = "CSCO2021.WORKUP.EUS.GASTRODUODENAL when "
SYMPTOMS = "CSCO2021.TX.SYMPTOMS.GASTRINOMA_TYPE2 when primary_site: stomach -> [stomach, "
CGA = "CSCO2021.SYN.INTERFERENCE.CGA_EGFR when egfr_ml_min: lt 60 -> "
FDG = "CSCO2021.WORKUP.FDG.NET_G2_HIGH when ki67_percent: gt 10 -> "
N_ZERO = "CSCO2021.STAGE.PANCREAS_EXO.N_ZERO_COUNT "
SITES = ("duodenum", "ampulla", "jejunum", "ileum", "appendix", "colon", "rectum", "pancreas",
         "lung", "thymus", "other", "unknown_primary")  # fmt: skip

#: The 37 survivors of the full run of 2026-12-05 (report full2) on limits no source decides,
#: each with the recorded decision that now kills it (and the carrier row of issue 7).
GUARDED: dict[str, Callable[[Knowledge], list[str]]] = {
    "CSCO2021.FOLLOWUP.SCHEDULE.GASTRODUODENAL when primary_site: [stomach, duodenum] -> "
    "[stomach, duodenum, ampulla]": rd.ampulla_follows_generic_schedule,
    "CSCO2021.LIVER.TYPE_I_CONFINED when liver_extent: confined -> [confined, bilobar]": (
        rd.liver_bilobar_standard_resection_is_type_ii
    ),
    "CSCO2021.LIVER.TYPE_III_UNRESECTABLE when liver_resectability: unresectable -> "
    "[unresectable, standard_resection]": rd.liver_bilobar_standard_resection_is_type_ii,
    "CSCO2021.LIVER.UNCLASSIFIED when liver_extent: confined -> [confined, bilobar]": (
        rd.liver_bilobar_standard_resection_is_type_ii
    ),
    "CSCO2021.LIVER.UNCLASSIFIED when liver_resectability: [resection_with_ablation_or_staged, "
    "unresectable] -> [resection_with_ablation_or_staged, unresectable, standard_resection]": (
        rd.liver_bilobar_standard_resection_is_type_ii
    ),
    N_ZERO + "when node_status: positive -> [positive, negative]": (
        rd.pancreas_exo_positive_zero_count_is_nx
    ),
    N_ZERO + "when node_status: positive -> [positive, not_assessed]": (
        rd.pancreas_exo_positive_zero_count_is_nx
    ),
    N_ZERO + "then <- CSCO2021.STAGE.PANCREAS_EXO.N1": rd.pancreas_exo_positive_zero_count_is_nx,
    **{CGA + new: rd.cga_renal_limit_egfr_60 for new in ("le 60", "lt 54", "lt 66", "lt 30")},
    CGA + "lt 90": rd.cga_renal_limit_egfr_60,
    "CSCO2021.TX.NEC.RECHALLENGE when platinum_months_to_progression: gt 6 -> ge 6": (
        rd.nec_rechallenge_after_6_months
    ),
    **{SYMPTOMS + site + "]": rd.gastrinoma_option_for_stomach_only for site in SITES},
    GD + "primary_site: [stomach, duodenum] -> [stomach, duodenum, ampulla]": (
        rd.eus_not_for_ampulla
    ),
    **{
        GD + change: rd.eus_gastroduodenal_1_to_2_cm
        for change in (
            "size_cm: ge 1 -> ge 0.9",
            "size_cm: le 2 -> le 2.2",
            "size_cm: le 2 -> le 3",
        )
    },
    "CSCO2021.WORKUP.EUS.RECTUM when size_cm: ge 1 -> ge 0.9": rd.rectal_eus_from_1_cm,
    "CSCO2021.WORKUP.SSTR.UNKNOWN_PRIMARY when category: not_in [NEC, LCNEC, SCLC] -> "
    "not_in [NEC, LCNEC, SCLC, MiNEN]": rd.minen_workup,
    **{FDG + new: rd.fdg_high_g2_above_10 for new in ("ge 10", "gt 9", "gt 11")},
    "CSCO2021.WORKUP.GASTRIC.TYPE when category: NET -> [NET, MiNEN]": rd.minen_workup,
    "CSCO2021.WORKUP.MARKERS.CGA when category: [NET, typical_carcinoid, atypical_carcinoid] -> "
    "[NET, typical_carcinoid, atypical_carcinoid, MiNEN]": rd.minen_workup,
    # issue 7: the carrier classes became a table (the likely pathogenic row is a decision)
    "CSCO2021.FACT.GERMLINE_CARRIER.LIKELY_PATHOGENIC then <- CSCO2021.FACT.GERMLINE_CARRIER.VUS": (
        rd.likely_pathogenic_makes_a_carrier
    ),
}


def _decisions() -> list[Property]:
    return [p for p in properties() if p.kind == "decision"]


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_property_kind_defaults_to_clinical() -> None:
    assert Property("x", lambda _kb: []).kind == "clinical"
    kinds = {p.kind for p in properties()}
    assert kinds == {"clinical", "decision"}
    assert len(_decisions()) == len(rd.DECISIONS)


@pytest.mark.parametrize("prop", _decisions(), ids=lambda p: p.name)
def test_decision_names_its_clinical_gaps_row(prop: Property) -> None:
    """The topic is the start of a row of docs/clinical-gaps.md, and the check's docstring
    names it."""
    rows = [line for line in GAPS.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    assert prop.gap and any(line.startswith(f"| {prop.gap}") for line in rows), prop.gap
    assert prop.gap in _flat(prop.check.__doc__ or ""), prop.name
    assert ":" not in prop.name  # the report finds the check by "<name>:" in killed_by


@pytest.mark.parametrize("mutant_id", sorted(GUARDED))
def test_decision_kills_the_survivor_of_its_row(mutant_id: str) -> None:
    check = GUARDED[mutant_id]
    assert not check(_kb())
    assert check(_mutated(mutant_id)), f"{check.__name__} does not notice {mutant_id}"


def test_every_decision_guards_some_survivor() -> None:
    assert {c for _, _, c in rd.DECISIONS} == set(GUARDED.values())


def _state(checks: list[runner.Check]) -> runner._State:
    suite = runner.baseline(_kb(), checks)
    return runner._State(_kb(), suite, _sources(), list(_mutants().values()))


def test_decisions_run_after_the_clinical_checks_and_the_lint() -> None:
    """Even listed first, a decision only gets a mutant that the clinical checks and the lint
    let through: EUS limit 2 -> 1.8 cm is killed by the work-up property (EUS at 1.9 cm is
    clinical), the 2 -> 2.2 cm edit only by the recorded 1-2 cm decision."""
    decision = runner.Check("decision eus", "decision", rd.eus_gastroduodenal_1_to_2_cm)
    clinical = runner.Check("property workup", "property", workup_items_match_reference)
    state = _state([decision, clinical])
    inside = _mutants()[GD + "size_cm: le 2 -> le 1.8"]
    assert rd.eus_gastroduodenal_1_to_2_cm(_mutated(inside.id))  # both would kill it
    assert runner.evaluate(state, inside).killed_by.startswith("property workup:")
    outside = _mutants()[GD + "size_cm: le 2 -> le 2.2"]
    res = runner.evaluate(state, outside)
    assert res.status == "killed" and res.killed_by.startswith("decision eus:")
    built = runner.build_suite(REPO / "tests" / "vignettes", None)
    kinds = [c.kind for c in built]
    assert kinds.count("decision") == len(rd.DECISIONS)
    assert kinds.index("decision") == len(kinds) - len(rd.DECISIONS)  # last


def test_report_counts_and_lists_decisions_apart() -> None:
    name, gap, _ = rd.DECISIONS[0]
    m = _mutants()[GD + "size_cm: le 2 -> le 2.2"]
    other = _mutants()[GD + "size_cm: le 2 -> le 1.8"]
    results = [
        runner.MutantResult(m, "killed", f"decision {name}: 2.1 cm asked"),
        runner.MutantResult(other, "killed", "property work-up items: 1.9 cm not asked"),
    ]
    run = runner.RunResult(results, 1.0, 1, 2, 2, "csco-2021")
    text = report.markdown(run, mode="test", when=dt.datetime(2026, 12, 5, tzinfo=dt.UTC))
    assert f"2 checks ({len(rd.DECISIONS)} of them recorded decisions)" in text
    killed_by = next(line for line in text.splitlines() if line.startswith("- killed by: "))
    assert "property 1" in killed_by
    assert "decision 1 (recorded choices, not clinical evidence)" in killed_by
    section = text.split("## Rows guarded only by a recorded decision", 1)[1].split("##", 1)[0]
    assert f"| `{m.table_id}` | `{m.row_id}` | 1 | {gap} |" in section
    assert other.row_id not in section or other.row_id == m.row_id
    assert report.decision_rows(results) == [(m.table_id, m.row_id, 1, gap)]
    data = report.as_json(run, mode="test")
    assert data["decision_rows"] == [
        {"table": m.table_id, "row": m.row_id, "mutants": 1, "gap": gap}
    ]
    clinical_only = report.markdown(
        runner.RunResult(results[1:], 1.0, 1, 2, 2, "csco-2021"), mode="test"
    )
    assert "## Rows guarded only by a recorded decision" not in clinical_only
    assert "decision 1" not in clinical_only
