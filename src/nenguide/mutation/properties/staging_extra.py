"""Staging tables under partial knowledge: the T, N and M categories and the staging system,
recomputed from AJCC 8th / TNM 8th, for every input known, unknown or known to be one of two
values (a wall layer not stated, a size given as a range: docs/assessment-contract.md).

For each table a small reference says what the sources give for a concrete, consistent input
(``None``: the sources are silent or the input contradicts itself). The check then requires, for
every mix of known, unknown and two-valued inputs, that the table offers every outcome some
completion of the input has in the reference, and nothing else: an extra outcome is allowed only
where it is the table's own answer to a completion the reference does not assert (a
contradiction the consistency checks report, a choice the sources leave open).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf, Tri
from nenguide.engine.tables import Row, Table, _row_truth, evaluate_collect, evaluate_first
from nenguide.mutation.properties.staging import (
    GEP_SITES,
    MAX_REPORTED,
    T_TABLE,
    ajcc8_gep_t,
    ajcc8_lung_t,
    expected_system,
)

#: A reference answer: one outcome, a set of outcomes (the input itself leaves them open, e.g. a
#: positive lung node without its station), or None (not asserted).
Answer = Any
Reference = Callable[[dict[str, Any]], Answer]

#: A grid value meaning "not given" (e.g. no lung node station): the reference reads it as None;
#: the table cannot tell it from unknown, so it counts as the one partly known input.
ABSENT = "<not given>"


def _states(values: Sequence[Any], *, numeric: bool) -> list[tuple[Any, list[Any]]]:
    """The states an input can be in, each with its completions: every value; unknown; a pair
    of values (adjacent for numbers)."""
    out: list[tuple[Any, list[Any]]] = [(v, [v]) for v in values]
    out.append((None, list(values)))
    concrete = [v for v in values if v is not ABSENT]
    pairs = itertools.pairwise(concrete) if numeric else itertools.combinations(concrete, 2)
    out += [(OneOf(frozenset(p)), list(p)) for p in pairs]
    return out


def _one_partial_at_a_time(
    states: list[list[tuple[Any, list[Any]]]],
) -> Iterator[tuple[tuple[Any, list[Any]], ...]]:
    """Every input known, then each input in turn unknown or one of two values (or not given),
    the others known."""

    def partial(s: tuple[Any, list[Any]]) -> bool:
        return len(s[1]) > 1 or s[0] is ABSENT

    known = [[s for s in ss if not partial(s)] for ss in states]
    yield from itertools.product(*known)
    for i, ss in enumerate(states):
        for p in (s for s in ss if partial(s)):
            yield from itertools.product(*known[:i], [p], *known[i + 1 :])


def _outcomes(answer: Answer) -> set[Any]:
    return set(answer) if isinstance(answer, frozenset) else {answer}


def first_hit_matches(
    table: Table,
    grids: Mapping[str, Sequence[Any]],
    reference: Reference,
    out: Callable[[Row], Any] | None = None,
    fixed: tuple[str, ...] = (),
    ordered: tuple[str, ...] = (),
    fallback: bool = True,
) -> list[str]:
    """Every input known, or one of them unknown or one of two values: the table's candidate
    outcomes = the reference's outcomes over the completions (plus the table's own answers on
    completions the reference does not assert, and its fallback row). With more than one input
    partly known, first-hit rows read one by one name candidates that no completion reaches
    (a size-only row after depth rows), so the exact claim is made one input at a time.
    ``fallback=False``: no such row is tolerated either (a table with no catch-all row, whose
    every row states its own case)."""
    output = out or (lambda r: r.then[table.spec.output])
    names = list(grids)
    states = [
        [(v, [v]) for v in grids[n]]
        if n in fixed  # known in every case checked (see the caller)
        else _states(grids[n], numeric=n in ordered or table.spec.inputs[n].type == "number")
        for n in names
    ]
    memo: dict[tuple[Any, ...], tuple[set[Any], bool]] = {}

    def completion(combo: tuple[Any, ...]) -> tuple[set[Any], bool]:
        hit = memo.get(combo)
        if hit is None:
            facts = {n: None if v is ABSENT else v for n, v in zip(names, combo, strict=True)}
            want = reference(facts)
            # not asserted: the table's own answer is allowed
            hit = (_got(table, facts, output), False) if want is None else (_outcomes(want), True)
            memo[combo] = hit
        return hit

    failures: list[str] = []
    for state in _one_partial_at_a_time(states):
        facts = {n: s for n, (s, _) in zip(names, state, strict=True) if s not in (None, ABSENT)}
        required: set[Any] = set()
        allowed: set[Any] = set()
        for combo in itertools.product(*(c for _, c in state)):
            got_c, asserted = completion(combo)
            (required if asserted else allowed).update(got_c)
        got = _got(table, facts, output)
        # the first row true for every completion is the engine's fallback candidate even where
        # the unknown rows before it cover every completion (first-hit rows are read one by one)
        extra = _fallback(table, facts, output) if fallback else set()
        if not required <= got or not got <= required | allowed | extra:
            failures.append(
                f"{table.id} {facts}: {sorted(map(repr, got))}, reference "
                f"{sorted(map(repr, required))} (allowed also {sorted(map(repr, allowed))})"
            )
            if len(failures) >= MAX_REPORTED:
                break
    return failures


def _fallback(table: Table, facts: dict[str, Any], output: Callable[[Row], Any]) -> set[Any]:
    for row in table.rows:
        if _row_truth(row, facts)[0] is Tri.TRUE:
            return {output(row)}
    return set()


def _got(table: Table, facts: dict[str, Any], output: Callable[[Row], Any]) -> set[Any]:
    res = evaluate_first(table, facts)
    return {output(r) for r in res.rows} if res.rows else {None}


# --- references ----------------------------------------------------------------------------------


def ajcc8_pancreas_exocrine_t(size: float, extent: str) -> str:
    """AJCC 8th ch. 28 (exocrine pancreas, used for pancreatic NEC: docs/staging-decisions.md
    'NEC and MiNEN', docs/research/carcinoma-staging-sources.md): T4 coeliac axis, SMA or common
    hepatic artery whatever the size; otherwise by size alone (T1a <= 0.5, T1b > 0.5-1, T1c
    > 1-2, T2 > 2-4, T3 > 4 cm; extension to duodenum, bile duct or other organs does not change
    T; exactly 1.0 cm is T1b as in SEER/EGEUS, flagged)."""
    if extent == "large_vessel":
        return "T4"
    for limit, t in ((0.5, "T1a"), (1, "T1b"), (2, "T1c"), (4, "T2")):
        if size <= limit:
            return t
    return "T3"


def gep_net_n(f: dict[str, Any]) -> Answer:
    """AJCC 8th ch. 29, 30, 32-34: N0 none, N1 regional node metastasis, NX not assessed."""
    return {"negative": "N0", "positive": "N1", "not_assessed": "NX"}[f["node_status"]]


def jejunum_ileum_n(f: dict[str, Any]) -> Answer:
    """AJCC 8th ch. 31 (clinical-pathology-staging.md §3.3): N1 fewer than 12 positive nodes
    without a mesenteric mass > 2 cm, N2 12 or more or a mass > 2 cm. Not asserted: positive nodes
    or a mass with nodes declared negative or not assessed, and a declared positive status with
    no positive node (contradictions the consistency checks report)."""
    status, count, mass = f["node_status"], f["nodes_positive"], f["mesenteric_mass_cm"]
    evidence = count >= 1 or mass > 0
    if status == "negative":
        return None if evidence else "N0"
    if status == "not_assessed":
        return None if evidence else "NX"
    if count == 0:
        return None
    return "N2" if count >= 12 or mass > 2 else "N1"


def pancreas_exocrine_n(f: dict[str, Any]) -> Answer:
    """AJCC 8th ch. 28: N1 1-3 positive nodes, N2 4 or more (docs/staging-decisions.md)."""
    status, count = f["node_status"], f["nodes_positive"]
    if status != "positive":
        return None if count >= 1 else {"negative": "N0", "not_assessed": "NX"}[status]
    if count == 0:
        return None
    return "N2" if count >= 4 else "N1"


_LUNG_N = {
    "hilar_or_intrapulmonary": "N1",
    "mediastinal_or_subcarinal": "N2",
    "contralateral_or_supraclavicular": "N3",
}


def lung_n(f: dict[str, Any]) -> Answer:
    """TNM 8th lung (clinical-pathology-staging.md §3.9): N by the highest involved station;
    positive nodes without the station: N1, N2 or N3. A station with nodes declared negative or
    not assessed: not asserted (reported as a contradiction)."""
    status, station = f["node_status"], f["lung_node_station"]
    if status != "positive":
        return None if station is not None else {"negative": "N0", "not_assessed": "NX"}[status]
    return _LUNG_N[station] if station is not None else frozenset(_LUNG_N.values())


def gep_net_m(f: dict[str, Any]) -> Answer:
    """AJCC 8th ch. 29-34 (shared/reference/README.md): M1a hepatic only, M1b extrahepatic only,
    M1c both; M1 when the sites are not given; MX when the status is unknown (no M0 assumed:
    docs/staging-decisions.md). Sites listed with the status none or unknown: not asserted."""
    status, liver, extra = f["met_status"], f["liver_mets"], f["extrahepatic_mets"]
    if status != "present":
        return None if liver or extra else {"none": "M0", "unknown": "MX"}[status]
    return {(True, True): "M1c", (True, False): "M1a", (False, True): "M1b"}.get(
        (liver, extra), "M1"
    )


def lung_m(f: dict[str, Any]) -> Answer:
    """TNM 8th lung (clinical-pathology-staging.md §3.9): M1a intrathoracic (contralateral lung,
    pleural or pericardial), M1b a single extrathoracic metastasis in one organ, M1c multiple
    extrathoracic metastases; M1 when present without sites. Lesions fewer than organs, or sites
    listed with the status none or unknown: not asserted."""
    status, m1a = f["met_status"], f["lung_m1a"]
    organs, lesions = f["extrathoracic_organs"], f["extrathoracic_lesions"]
    if status != "present":
        listed = m1a or organs or lesions
        return None if listed else {"none": "M0", "unknown": "MX"}[status]
    if lesions < organs or (organs == 0 and lesions > 0):
        return None
    if organs >= 2 or lesions >= 2:
        return "M1c"
    if organs == 1:
        return "M1b"
    return "M1a" if m1a else "M1"


_LUNG_DESCRIPTOR_T = {
    "T2a": ("main_bronchus", "visceral_pleura", "atelectasis_to_hilum"),
    "T3": ("chest_wall", "phrenic_nerve", "parietal_pericardium", "separate_nodule_same_lobe"),
    "T4": ("mediastinum", "diaphragm", "heart", "great_vessels", "recurrent_laryngeal_nerve",
           "carina", "trachea", "oesophagus", "vertebral_body",
           "separate_nodule_other_ipsilateral_lobe"),
}  # fmt: skip


def lung_descriptor_t(f: dict[str, Any]) -> Answer:
    """TNM 8th lung (clinical-pathology-staging.md §3.9): the lowest T a descriptor other than
    size sets - T2 (T2a unless the size says more) for main bronchus, visceral pleura or
    atelectasis to the hilum; T3 for chest wall, phrenic nerve, parietal pericardium or a nodule
    in the same lobe; T4 for mediastinum, diaphragm, heart, great vessels, recurrent laryngeal
    nerve, carina, trachea, oesophagus, vertebral body or a nodule in another ipsilateral lobe."""
    return next(t for t, names in _LUNG_DESCRIPTOR_T.items() if f["lung_descriptor"] in names)


def pancreas_exocrine_m(f: dict[str, Any]) -> Answer:
    """AJCC 8th ch. 28: M0 / M1; MX when unknown (never M0 assumed)."""
    return {"none": "M0", "present": "M1", "unknown": "MX"}[f["met_status"]]


# --- properties ----------------------------------------------------------------------------------

#: Sizes at and around every T limit of the GEP-NET, exocrine-pancreas and lung chapters (a
#: shorter grid than staging.SIZES: every state of two inputs is combined here).
T_SIZES = (0.4, 0.5, 0.6, 0.9, 1.0, 1.1, 1.9, 2.0, 2.1, 3.9, 4.0, 4.1, 5.0, 5.1, 7.0, 7.1)


def t_tables_under_partial_knowledge(kb: Knowledge) -> list[str]:
    """GEP-NET (AJCC 8th ch. 29-34), exocrine pancreas (ch. 28) and lung (TNM 8th: size and
    descriptors) T tables."""
    from nenguide.model.case import EXTENTS_BY_SITE, PrimarySite

    out: list[str] = []
    done: set[str] = set()
    for site in GEP_SITES:
        if T_TABLE[site] in done:
            continue
        done.add(T_TABLE[site])
        extents = sorted(
            e.value for e in EXTENTS_BY_SITE[PrimarySite(site)] if e.value != "within_wall"
        )
        out += first_hit_matches(
            kb.tables[T_TABLE[site]],
            {"size_cm": T_SIZES, "extent": extents},
            lambda f, site=site: ajcc8_gep_t(site, f["size_cm"], f["extent"]),  # type: ignore[misc]
        )
    exo = kb.tables["CSCO2021.STAGE.PANCREAS_EXO.T"]
    out += first_hit_matches(
        exo,
        {"size_cm": T_SIZES, "extent": list(exo.spec.inputs["extent"].values or [])},
        lambda f: ajcc8_pancreas_exocrine_t(f["size_cm"], f["extent"]),
    )
    out += first_hit_matches(
        kb.tables["CSCO2021.STAGE.LUNG.T"],
        {"size_cm": T_SIZES},
        lambda f: ajcc8_lung_t(f["size_cm"]),
    )
    descriptors = [d for names in _LUNG_DESCRIPTOR_T.values() for d in names]
    out += first_hit_matches(
        kb.tables["CSCO2021.STAGE.LUNG.T_DESCRIPTOR"],
        {"lung_descriptor": descriptors},
        lung_descriptor_t,
    )
    return out


_STATUS = ("negative", "positive", "not_assessed")
_MET = ("none", "present", "unknown")


def n_and_m_tables_under_partial_knowledge(kb: Knowledge) -> list[str]:
    """N and M tables of the GEP-NET chapters, the exocrine pancreas and lung TNM 8th."""
    t = kb.tables
    checks: list[tuple[str, Mapping[str, Sequence[Any]], Reference]] = [
        ("CSCO2021.STAGE.NET.N", {"node_status": _STATUS}, gep_net_n),
        (
            "CSCO2021.STAGE.NET.JI.N",
            {
                "node_status": _STATUS,
                "nodes_positive": (0, 1, 5, 11, 12, 13),
                "mesenteric_mass_cm": (0, 1.0, 2.0, 2.01, 2.2, 3.0),
            },
            jejunum_ileum_n,
        ),
        (
            "CSCO2021.STAGE.PANCREAS_EXO.N",
            {"node_status": _STATUS, "nodes_positive": (0, 1, 2, 3, 4, 5)},
            pancreas_exocrine_n,
        ),
        (
            "CSCO2021.STAGE.LUNG.N",
            {"node_status": _STATUS, "lung_node_station": (ABSENT, *_LUNG_N)},
            lung_n,
        ),
        (
            "CSCO2021.STAGE.NET.M",
            {"met_status": _MET, "liver_mets": (True, False), "extrahepatic_mets": (True, False)},
            gep_net_m,
        ),
        (
            "CSCO2021.STAGE.LUNG.M",
            {
                "met_status": _MET,
                "lung_m1a": (True, False),
                "extrathoracic_organs": (0, 1, 2, 3),
                "extrathoracic_lesions": (0, 1, 2, 3),
            },
            lung_m,
        ),
        ("CSCO2021.STAGE.PANCREAS_EXO.M", {"met_status": _MET}, pancreas_exocrine_m),
    ]
    out: list[str] = []
    for table_id, grids, reference in checks:
        out += first_hit_matches(t[table_id], grids, reference)
    return out


def _system_of(row: Row) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, v) for k, v in row.then.items() if v is not None))


def full_expected_system(f: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """staging.expected_system, with the lung T-descriptor table (TNM 8th: T by invasion of a
    structure, clinical-pathology-staging.md §3.9)."""
    want = dict(expected_system(f["site_group"], f["category"]))
    if want.get("system") == "AJCC8_LUNG":
        want["t_descriptor_table"] = "CSCO2021.STAGE.LUNG.T_DESCRIPTOR"
    return tuple(sorted((k, v) for k, v in want.items() if v is not None))


def staging_system_under_partial_knowledge(kb: Knowledge) -> list[str]:
    """Site group and category each known, unknown or one of two values: the candidate systems
    (with their tables) are exactly those of the possible site x category pairs."""
    table = kb.tables["CSCO2021.STAGE.SYSTEM"]
    grids = {k: list(table.spec.inputs[k].values or []) for k in ("site_group", "category")}
    return first_hit_matches(table, grids, full_expected_system, out=_system_of)


def boundary_flags_match_sources(kb: Knowledge) -> list[str]:
    """Size values on a boundary the sources word differently, and the venous thrombus:
    T_BOUNDARY_WORDING for a duodenal or ampullary NET of exactly 1.0 cm (AJCC T1 '1 cm or less'
    against '1 cm or more' for T2) and a pancreatic NEC of exactly 1.0 cm (T1b in SEER/EGEUS, T1c
    in '1-2 cm'), docs/staging-decisions.md; STAGE_VENOUS_THROMBUS for a pancreatic primary (NET
    or NEC) with a venous tumour thrombus, which no T definition names (docs/clinical-gaps.md).
    Each flag is raised exactly then, and named as possible exactly when an unknown input could
    raise it (sure only if sure for every completion)."""
    table = kb.tables["CSCO2021.STAGE.FLAGS"]
    systems = list(table.spec.inputs["system"].values or [])
    sizes = (0.5, 0.9, 0.99, 1.0, 1.01, 1.1, 1.5, 2.0)

    def flags(f: dict[str, Any]) -> set[str]:
        out = set()
        system, size = f["system"], f["size_cm"]
        if (
            system in ("AJCC8_NET_PANCREAS", "AJCC8_PANCREAS_EXOCRINE")
            and f["venous_tumour_thrombus"]
        ):
            out.add("STAGE_VENOUS_THROMBUS")
        wording = ("AJCC8_NET_DUODENUM", "AJCC8_NET_AMPULLA", "AJCC8_PANCREAS_EXOCRINE")
        if system in wording and size == 1.0:
            out.add("T_BOUNDARY_WORDING")
        return out

    grids = {"system": systems, "size_cm": sizes, "venous_tumour_thrombus": (True, False)}
    names = list(grids)
    failures: list[str] = []
    states = [_states(grids[n], numeric=n == "size_cm") for n in names]
    for state in itertools.product(*states):
        facts = {n: s for n, (s, _) in zip(names, state, strict=True) if s is not None}
        each = [
            flags(dict(zip(names, c, strict=True)))
            for c in itertools.product(*(c for _, c in state))
        ]
        sure = set.intersection(*each)
        possible = set.union(*each) - sure
        res = evaluate_collect(table, facts)
        codes = [r.then.get("code") for r in res.applies]
        if len(codes) != len(set(codes)):  # one rule (and its source) per flag
            failures.append(f"{facts}: {[r.id for r in res.applies]} raise the same flag")
            continue
        got_sure = set(codes)
        got_possible = {r.then.get("code") for r, _ in res.maybe} - got_sure
        # rows are read one by one: two rows that together cover every completion leave the
        # flag possible, not sure
        if not got_sure <= sure or got_sure | got_possible != sure | possible:
            failures.append(
                f"{facts}: flags {sorted(map(str, got_sure))} possible "
                f"{sorted(map(str, got_possible))}, reference {sorted(sure)} {sorted(possible)}"
            )
            if len(failures) >= MAX_REPORTED:
                break
    return failures
