"""Fact-layer properties: the fact tables that replaced Python derivations (symptom combinations,
the MEN1 manifestations counted, the precedence between the sources of the node status),
recomputed over every input combination, unknown (None) included, from their sources.

Sources: carcinoid syndrome = flushing, secretory diarrhoea (clinical-treatment.md §1.4;
ENETS 2022, ``enets-2022-carcinoid-syndrome``); somatostatinoma triad = diabetes,
cholelithiasis, steatorrhoea (clinical-treatment.md §1.5 table; ``pnet-syndromes-secondary``);
clinical MEN1 = at least 2 of parathyroid, duodenopancreatic NET, anterior pituitary tumour
(clinical-treatment.md §6.2, clinical-sources-2026-12.md §14 R45; ``thakker-2012-men1``); pN is
decided by the examined nodes, the stated status only without a count (UICC 8th,
``uicc8-net-rules``; an involved lung station is N1 or more, ``ajcc8-lung``).
"""

from __future__ import annotations

import itertools
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.tables import Table, evaluate_collect, evaluate_first
from nenguide.mutation.properties.staging import MAX_REPORTED

_TRI: tuple[bool | None, ...] = (True, False, None)
_DP_SITES = frozenset({"pancreas", "duodenum", "ampulla"})
_SITES = (
    "stomach", "duodenum", "ampulla", "jejunum", "ileum", "appendix", "colon", "rectum",
    "pancreas", "lung", "thymus", "other", "unknown_primary",
)  # fmt: skip


def _kleene_or(*vals: bool | None) -> bool | None:
    if any(v is True for v in vals):
        return True
    return False if all(v is False for v in vals) else None


def _kleene_and(*vals: bool | None) -> bool | None:
    if any(v is False for v in vals):
        return False
    return True if all(v is True for v in vals) else None


def _first(table: Table, f: dict[str, Any]) -> Any:
    res = evaluate_first(table, f)
    return res.value if res.decided else None


def _fact_table(kb: Knowledge, output: str) -> Table | None:
    """The fact table (step ``facts``) that outputs ``output``."""
    for table in kb.tables.values():
        if table.spec.step == "facts" and table.output == output:
            return table
    return None


def _combination(kb: Knowledge, output: str, inputs: tuple[str, ...], reference: Any) -> list[str]:
    table = _fact_table(kb, output)
    if table is None:
        return [f"no fact table outputs {output}"]
    out: list[str] = []
    for vals in itertools.product(_TRI, repeat=len(inputs)):
        f = dict(zip(inputs, vals, strict=True))
        got, want = _first(table, f), reference(*vals)
        if got is not want:
            out.append(f"{table.id} {f}: {got!r}, reference {want!r}")
            if len(out) >= MAX_REPORTED:
                break
    return out


def carcinoid_symptoms_are_flushing_or_diarrhoea(kb: Knowledge) -> list[str]:
    """sym_carcinoid: Kleene OR of flushing and secretory diarrhoea (every combination)."""
    return _combination(
        kb, "sym_carcinoid", ("sym_flushing", "sym_secretory_diarrhoea"), _kleene_or
    )


def somatostatinoma_triad_needs_all_three(kb: Knowledge) -> list[str]:
    """sym_somatostatinoma_triad: Kleene AND of the three symptoms (every combination)."""
    return _combination(
        kb,
        "sym_somatostatinoma_triad",
        ("sym_new_diabetes", "sym_cholelithiasis", "sym_steatorrhoea"),
        _kleene_and,
    )


def _count_range(table: Table, f: dict[str, Any]) -> tuple[int, int, list[str]]:
    res = evaluate_collect(table, f)
    items = [str(r.then[table.output]) for r in res.applies] + [
        str(r.then[table.output]) for r, _ in res.maybe
    ]
    return len(res.applies), len(res.applies) + len(res.maybe), items


def _reference_range(vals: list[bool | None]) -> tuple[int, int]:
    known = sum(1 for v in vals if v is True)
    return known, known + sum(1 for v in vals if v is None)


def men1_manifestations_counted_as_thakker(kb: Knowledge) -> list[str]:
    """men1_major_count: parathyroid, pituitary and a well-differentiated duodenopancreatic NET,
    each counted once (a range while one is unknown), for every site; relative_men1_major_max:
    parathyroid, pituitary and a NEN of the relative (the case model does not record its site)."""
    out: list[str] = []
    patient = kb.tables.get(kb.pathway.steps["facts"].tables.get("men1_major", ""))
    relative = kb.tables.get(kb.pathway.steps["facts"].tables.get("relative_men1_major", ""))
    if patient is None or relative is None:
        return ["the counting tables men1_major / relative_men1_major are not bound"]
    for phpt, pit, well, site in itertools.product(_TRI, _TRI, _TRI, _SITES):
        f = {"hx_primary_hyperparathyroidism": phpt, "hx_pituitary_adenoma": pit,
             "well_differentiated": well, "primary_site": site}  # fmt: skip
        lo, hi, items = _count_range(patient, f)
        want = _reference_range([phpt, pit, well if site in _DP_SITES else False])
        if (lo, hi) != want or len(items) != len(set(items)):
            out.append(f"{patient.id} {f}: {lo}-{hi} {items}, reference {want[0]}-{want[1]}")
    for phpt, pit, nen in itertools.product(_TRI, _TRI, _TRI):
        f = {"rel_primary_hyperparathyroidism": phpt, "rel_pituitary_adenoma": pit,
             "rel_has_nen": nen}  # fmt: skip
        lo, hi, items = _count_range(relative, f)
        want = _reference_range([phpt, pit, nen])
        if (lo, hi) != want or len(items) != len(set(items)):
            out.append(f"{relative.id} {f}: {lo}-{hi} {items}, reference {want[0]}-{want[1]}")
    return out[:MAX_REPORTED]


def reference_node_status(count: int | None, station: bool, declared: str | None) -> str | None:
    """A count of positive nodes decides; else an involved lung station is node-positive; else
    the stated status; nothing stated: unknown."""
    if count is not None:
        return "positive" if count >= 1 else "negative"
    if station:
        return "positive"
    return declared


def node_status_precedence(kb: Knowledge) -> list[str]:
    """node_status for every count (none, 0, 1, 12), station and stated status."""
    table = _fact_table(kb, "node_status")
    if table is None:
        return ["no fact table outputs node_status"]
    out: list[str] = []
    declared = (None, "negative", "positive", "not_assessed")
    for count, station, stated in itertools.product((None, 0, 1, 12), (False, True), declared):
        f = {"nodes_positive": count, "node_count_reported": count is not None,
             "lung_node_station_reported": station, "declared_node_status": stated}  # fmt: skip
        got, want = _first(table, f), reference_node_status(count, station, stated)
        if got != want:
            out.append(f"{table.id} {f}: {got!r}, reference {want!r}")
    return out[:MAX_REPORTED]


# --- the gastrinoma from the history and the syndrome step ------------------------------------

_HISTORY = ("present", "absent", "not_recorded")
_STATUS = ("confirmed", "suspected", "excluded", "insufficient_data", "not_evaluated")


def reference_gastrinoma_facts(history: str, status: str) -> dict[str, Any]:
    """The four gastrinoma facts (CSCO2021.FACT.ZES, .ZES_CAUSE, .HEREDITARY_GASTRINOMA,
    .CONFIRMED_GASTRINOMA): a recorded ZES or a confirmed gastrinoma is established; a history
    without ZES outranks a suspected gastrinoma for symptom control (acid control while it is
    confirmed: clinical-treatment.md §1.3); the gastric type needs the cause established
    (tx-gastric-types-review); any gastrinoma, suspected too, prompts MEN1 testing unless the
    history records none (clinical-treatment.md §6.2, thakker-2012-men1)."""
    established = history == "present" or status == "confirmed"
    if established:
        zes: bool | None = True
    elif history == "absent":
        zes = False
    else:
        zes = {"suspected": True, "insufficient_data": None}.get(status, False)
    if established:
        cause = "present"
    elif history == "absent" or status == "excluded":
        cause = "absent"
    else:
        cause = "not_recorded"
    if history == "present" or status in ("confirmed", "suspected"):
        hered: bool | None = True
    elif history == "absent" or status == "excluded":
        hered = False
    else:
        hered = None
    return {"zes": zes, "zes_cause": cause, "hered_gastrinoma": hered,
            "confirmed_gastrinoma": established}  # fmt: skip


def gastrinoma_facts_match_reference(kb: Knowledge) -> list[str]:
    """The four gastrinoma fact tables for every history x syndrome-status combination."""
    out: list[str] = []
    for history, status in itertools.product(_HISTORY, _STATUS):
        want = reference_gastrinoma_facts(history, status)
        for fact, value in want.items():
            table = _fact_table(kb, fact)
            if table is None:
                out.append(f"no fact table outputs {fact}")
                continue
            got = _first(table, {"zes_history": history, "gastrinoma_status": status})
            if got != value:
                out.append(f"{table.id} history={history} status={status}: {got!r}, "
                           f"reference {value!r}")  # fmt: skip
    return out[:MAX_REPORTED]


def syndrome_active_for_treatment(kb: Knowledge) -> list[str]:
    """A confirmed or suspected syndrome is active for treatment (functioning = clinical
    syndrome with raised hormone, ENETS 2023; suspected while confirmed: the FUNCTIONAL
    table); open: unknown; excluded or not evaluated: not active."""
    table = _fact_table(kb, "syndrome_active")
    if table is None:
        return ["no fact table outputs syndrome_active"]
    want = {"confirmed": True, "suspected": True, "insufficient_data": None,
            "excluded": False, "not_evaluated": False}  # fmt: skip
    out = []
    for status, value in want.items():
        got = _first(table, {"syndrome_status": status})
        if got is not value:
            out.append(f"{table.id} {status}: {got!r}, reference {value!r}")
    return out


_WELL = ("NET", "typical_carcinoid", "atypical_carcinoid")


def well_differentiated_by_category_then_stated(kb: Knowledge) -> list[str]:
    """WHO 2019/2021: NET and carcinoids are well differentiated, NEC, LCNEC, SCLC (and the
    MiNEN, whose neuroendocrine part is a NEC in practice) are not; without a category the
    stated differentiation decides; neither: unknown."""
    table = _fact_table(kb, "well_differentiated")
    if table is None:
        return ["no fact table outputs well_differentiated"]
    out = []
    cats = (None, "NET", "NEC", "MiNEN", "typical_carcinoid", "atypical_carcinoid", "LCNEC", "SCLC")
    for category, stated in itertools.product(cats, (None, "well", "poor")):
        f = {"classified": category is not None, "category": category,
             "differentiation": stated}  # fmt: skip
        want = (category in _WELL) if category is not None else (
            None if stated is None else stated == "well")  # fmt: skip
        got = _first(table, f)
        if got is not want:
            out.append(f"{table.id} {f}: {got!r}, reference {want!r}")
    return out[:MAX_REPORTED]
