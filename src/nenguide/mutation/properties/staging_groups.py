"""Stage-group tables under partial knowledge: for T, N and M each known, unknown or one of two
values, the candidate groups equal AJCC 8th's and the inputs named as missing are exactly those
whose value could change the group (clinical-pathology-staging.md §3; AJCC 8th ch. 28-34; lung
TNM 8th). Split from :mod:`staging_extra`, whose partial-knowledge helpers it uses."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.tables import evaluate_first
from nenguide.mutation.properties.staging import MAX_REPORTED
from nenguide.mutation.properties.staging_extra import _states


def ajcc8_gep_net_group(t: str, n: str, m: str) -> str | None:
    """AJCC 8th stage groups of the stomach, duodenum/ampulla, jejunum/ileum, appendix and
    pancreas NET chapters (ch. 29-32, 34; clinical-pathology-staging.md §3): I T1 N0 M0, II T2-T3
    N0 M0, III T4 any N M0 or any T N1-N2 M0, IV any M1; T0 N0 M0 (no primary found) has no
    group (UICC 8th rules, docs/staging-decisions.md)."""
    if m != "M0":
        return "IV"
    if t == "T4" or n != "N0":
        return "III"
    return {"T1": "I", "T2": "II", "T3": "II"}.get(t)


def ajcc8_colorectal_net_group(t: str, n: str, m: str) -> str | None:
    """AJCC 8th ch. 33 (colon and rectum NET, clinical-pathology-staging.md §3): I T1 N0, IIA T2
    N0, IIB T3 N0, IIIA T4 N0, IIIB any T N1, IV any M1; T0 N0 M0 has no group."""
    if m != "M0":
        return "IV"
    if n == "N1":
        return "IIIB"
    return {"T1": "I", "T1a": "I", "T1b": "I", "T2": "IIA", "T3": "IIB", "T4": "IIIA"}.get(t)


def _lung_group_or_none(t: str, n: str, m: str) -> str | None:
    from nenguide.mutation.properties.staging import ajcc8_lung_group

    return ajcc8_lung_group(t, n, m)


def _pancreas_exo_group(t: str, n: str, m: str) -> str | None:
    from nenguide.mutation.properties.staging import ajcc8_pancreas_exocrine_group

    return ajcc8_pancreas_exocrine_group(t, n, m)


GROUP_REFERENCES: dict[str, Callable[[str, str, str], str | None]] = {
    "CSCO2021.STAGE.NET.GROUP": ajcc8_gep_net_group,
    "CSCO2021.STAGE.NET.JI.GROUP": ajcc8_gep_net_group,
    "CSCO2021.STAGE.NET.CR.GROUP": ajcc8_colorectal_net_group,
    "CSCO2021.STAGE.PANCREAS_EXO.GROUP": _pancreas_exo_group,
    "CSCO2021.STAGE.LUNG.GROUP": _lung_group_or_none,
}


def _relevant(
    state: Sequence[list[str]], group: Callable[[str, str, str], str | None]
) -> tuple[set[Any], set[int]]:
    """The groups of every completion of a (t, n, m) state, and the inputs (by position) whose
    value changes the group with the other two held (some completion)."""
    groups: set[Any] = set()
    relevant: set[int] = set()
    for combo in itertools.product(*state):
        g = group(*combo)
        groups.add(g)
        for i in range(3):
            if i in relevant or len(state[i]) == 1:
                continue
            for v in state[i]:
                other = list(combo)
                other[i] = v
                if v != combo[i] and group(other[0], other[1], other[2]) != g:
                    relevant.add(i)
                    break
    return groups, relevant


#: Per table: the T states are every value, unknown and a pair of adjacent categories (a size
#: given as a range, a descriptor not reported) for the lung, any pair elsewhere; the M states
#: every value, unknown and M0 or one M1 category (``lung_m`` subcategories are checked known by
#: the TNM 8th group grid), to keep the lung grid small.
_ORDERED_T = frozenset({"CSCO2021.STAGE.LUNG.GROUP"})
_LUNG_M = ("M0", "M1a", "M1c")


def _m_states(values: Sequence[str], every: Sequence[str]) -> list[tuple[Any, list[Any]]]:
    out: list[tuple[Any, list[Any]]] = [(v, [v]) for v in values]
    out.append((None, list(every)))
    out += [(OneOf(frozenset(("M0", v))), ["M0", v]) for v in values if v != "M0"]
    return out


def group_missing_inputs_are_exact(kb: Knowledge, table_id: str) -> list[str]:
    """T, N and M each known, unknown or one of two values (every mix): the stage group is
    decided exactly when every completion has the same AJCC group; otherwise the candidates are
    exactly the completions' groups, every input whose value could change the group is named as
    missing (what the report asks for), and, when T is known, no other (e.g. not N for a T4 NET
    whose M is not known: T4 M0 is stage III whatever N is, AJCC 8th ch. 29-32, 34). With T not
    known, T may also be named for a node-positive case: first-hit rows are read one by one, and
    no row order makes both "T4, any N" and "any T, N1" exact (the row that both reach would
    have to read neither T nor N, and then offers stage III for a T0-or-T1 N0 M0 tumour)."""
    table = kb.tables[table_id]
    group = GROUP_REFERENCES[table_id]
    names = ("t", "n", "m")
    spec = table.spec.inputs
    m_values = _LUNG_M if table_id == "CSCO2021.STAGE.LUNG.GROUP" else spec["m"].values or []
    states = [
        _states(list(spec["t"].values or []), numeric=table_id in _ORDERED_T),
        _states(list(spec["n"].values or []), numeric=False),
        _m_states(list(m_values), list(spec["m"].values or [])),
    ]
    out: list[str] = []
    for state in itertools.product(*states):
        facts = {k: s for k, (s, _) in zip(names, state, strict=True) if s is not None}
        groups, relevant = _relevant([c for _, c in state], group)
        res = evaluate_first(table, facts)
        got = set(res.value.values) if isinstance(res.value, OneOf) else {res.value}
        want_missing = {names[i] for i in relevant}
        decided = len(groups) == 1
        missing = set(res.missing)
        t_known = isinstance(state[0][0], str)
        if (
            res.decided != decided
            or got != groups
            or (not decided and not want_missing <= missing)
            or (not decided and t_known and missing != want_missing)
        ):
            out.append(
                f"{table_id} {facts}: groups {sorted(map(repr, got))} missing "
                f"{sorted(res.missing)} (decided {res.decided}), reference "
                f"{sorted(map(repr, groups))} missing {sorted(want_missing)}"
            )
            if len(out) >= MAX_REPORTED:
                break
    return out


#: One check per stage-group table (each runs only on the mutants of the table it reads).
GROUP_CHECKS: list[tuple[str, Callable[[Knowledge], list[str]]]] = [
    (
        f"stage group {table_id.split('STAGE.')[1]}: the missing inputs named are exactly those "
        "that could change the AJCC 8th group",
        functools.partial(group_missing_inputs_are_exact, table_id=table_id),
    )
    for table_id in GROUP_REFERENCES
]
