"""Properties of the fact tables over the lists of a case: which prior therapies count as
systemic, which germline results make a carrier, which lab results count as a work-up test
done.

Sources: clinical-treatment.md §3 (CSCO S6: the systemic options for advanced NET are SSA,
targeted drugs, chemotherapy and PRRT; liver-directed therapy is regional, §2), ACMG/AMP 2015
(Richards et al.: a pathogenic variant is disease-causing, a variant of uncertain significance
is not used in clinical decision-making; whether a likely pathogenic one makes a carrier is a
recorded decision, recorded_decisions.py), clinical-treatment.md §1.3 and §2.2 (PPIs falsely
raise gastrin; the gastric NET type needs a fasting gastrin drawn off PPIs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.tables import evaluate_collect, evaluate_first
from nenguide.mutation.properties.staging import MAX_REPORTED

SYSTEMIC = "CSCO2021.FACT.PROGRESSED_ON_SYSTEMIC"
CARRIER = "CSCO2021.FACT.GERMLINE_CARRIER"
LAB_DONE = "CSCO2021.FACT.LAB_DONE"

#: CSCO S6 and the later-line options: every drug treatment is a systemic line
SYSTEMIC_THERAPIES = ("ssa", "everolimus", "sunitinib", "surufatinib",
                      "capecitabine_temozolomide", "temozolomide", "streptozocin_based", "prrt",
                      "platinum_etoposide", "irinotecan_fluoropyrimidine",
                      "oxaliplatin_fluoropyrimidine", "immune_checkpoint_inhibitor",
                      "interferon_alpha")  # fmt: skip
#: not systemic: regional (TAE/TACE/TARE/ablation), or not known to be a drug
NOT_SYSTEMIC = ("liver_directed", "other")
OPEN = "open"


def _progressed(**by_therapy: bool | None) -> dict[str, Any]:
    """Progression facts: each systemic therapy false unless given."""
    f: dict[str, Any] = {f"progressed_on_{t}": False for t in (*SYSTEMIC_THERAPIES, *NOT_SYSTEMIC)}
    f.update({f"progressed_on_{t}": v for t, v in by_therapy.items()})
    return f


def _systemic_cases() -> list[tuple[Any, dict[str, Any]]]:
    cases: list[tuple[Any, dict[str, Any]]] = [(False, _progressed())]
    for t in SYSTEMIC_THERAPIES:
        cases.append((True, _progressed(**{t: True})))  # progression on it alone
        cases.append((OPEN, _progressed(**{t: None})))  # its outcome not recorded
        other = SYSTEMIC_THERAPIES[(SYSTEMIC_THERAPIES.index(t) + 1) % len(SYSTEMIC_THERAPIES)]
        cases.append((True, _progressed(**{t: None, other: True})))  # another one decides
    for t in NOT_SYSTEMIC:
        cases.append((False, _progressed(**{t: True})))
    cases.append((OPEN, dict.fromkeys(_progressed())))  # no list recorded
    return cases


def _first_failures(kb: Knowledge, table_id: str, cases: list[tuple[Any, dict[str, Any]]],
                    ) -> list[str]:  # fmt: skip
    out: list[str] = []
    for want, facts in cases:
        res = evaluate_first(kb.tables[table_id], facts)
        got = res.value if res.decided else OPEN
        if got != want:
            shown = {k: v for k, v in facts.items() if v is not False}
            out.append(f"{table_id} {shown}: {got}, reference {want}")
            if len(out) >= MAX_REPORTED:
                break
    return out


def systemic_therapies_match_csco_s6(kb: Knowledge) -> list[str]:
    """Progression on any drug treatment (CSCO S6's systemic options, PRRT, immunotherapy,
    interferon) is progression on a systemic therapy; liver-directed therapy and 'other' are
    not; an unrecorded outcome leaves it open unless another systemic line progressed."""
    return _first_failures(kb, SYSTEMIC, _systemic_cases())


def carrier_classes_match_acmg(kb: Knowledge) -> list[str]:
    """ACMG/AMP 2015: a pathogenic variant makes a carrier; a variant of uncertain significance
    or no variant does not (likely pathogenic: a recorded decision)."""
    want = {"pathogenic": True, "vus": False, "negative": False}
    return _first_failures(kb, CARRIER, [(v, {"germline_result": r}) for r, v in want.items()])


def gastrin_off_ppi_types_the_gastric_net(kb: Knowledge) -> list[str]:
    """Only a gastrin drawn off PPIs counts as the fasting gastrin of the gastric NET type
    (clinical-treatment.md §1.3, §2.2); on a PPI, or the PPI not recorded, it does not."""
    table = kb.tables[LAB_DONE]
    out: list[str] = []
    for on_ppi in (False, True, None):
        facts = {"lab_analyte": "gastrin", "lab_on_ppi": on_ppi}
        got = sorted(str(r.then[table.output]) for r in evaluate_collect(table, facts).applies)
        want = ["lab:gastrin_off_ppi"] if on_ppi is False else []
        if got != want:
            out.append(f"{LAB_DONE} gastrin on_ppi={on_ppi}: {got}, reference {want}")
    return out


CHECKS: list[tuple[str, Callable[[Knowledge], list[str]]]] = [
    (
        "progression on any drug treatment is on a systemic therapy (CSCO S6; not liver-directed)",
        systemic_therapies_match_csco_s6,
    ),
    (
        "pathogenic makes a carrier, a VUS or no variant does not (ACMG/AMP 2015)",
        carrier_classes_match_acmg,
    ),
    (
        "only a gastrin drawn off PPIs types a gastric NET (clinical-treatment.md §1.3, §2.2)",
        gastrin_off_ppi_types_the_gastric_net,
    ),
]
