"""Liver-metastasis properties: the ENETS type and the contradictions in the liver findings,
recomputed from the type definitions (never read from the tables they check).

Source: ENETS liver-metastasis types as confirmed in shared/reference/README.md ("Confirmations
added after review": Frilling A, et al. Lancet Oncol 2014;15:e8-e21; ENETS 2016, Pavel M, et al.
Neuroendocrinology 2016;103:172-185) and clinical-pathology-staging.md §4:

* type I "simple": a single metastasis of any size, or metastases confined to one lobe or two
  contiguous segments, resectable by standard resection;
* type II "complex": an isolated bulky metastasis with smaller deposits, contralateral / bilobar,
  still amenable to resection combined with ablation or staged procedures;
* type III "diffuse": disseminated bilobar metastases with little normal parenchyma, essentially
  never resectable.

So a single lesion described as diffuse, and diffuse disease reported resectable, contradict the
definitions (the engine reports them and does not type the liver); confined disease that standard
resection cannot remove fits no type ("unclassified"). Bilobar disease resectable by standard
resection is named by no definition (docs/clinical-gaps.md), nor is diffuse disease confined to
one lobe (type III is "disseminated bilobar"): neither is asserted.
"""

from __future__ import annotations

import functools
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.tables import evaluate_collect, evaluate_first
from nenguide.mutation.properties.grid import completions, with_unknowns
from nenguide.mutation.properties.grid import values_of as _values
from nenguide.mutation.properties.staging import MAX_REPORTED

COUNTS = (1, 2, 6)
DIFFUSE = (False, True)
EXTENTS = ("confined", "bilobar")
RESECTABILITY = ("standard_resection", "resection_with_ablation_or_staged", "unresectable")
DOMAINS: dict[str, tuple[Any, ...]] = {
    "liver_lesion_count": COUNTS,
    "liver_diffuse": DIFFUSE,
    "liver_extent": EXTENTS,
    "liver_resectability": RESECTABILITY,
}


def reference_liver_conflicts(f: dict[str, Any]) -> set[str]:
    """The contradictions of the findings with the type definitions."""
    out = set()
    if f["liver_diffuse"] and f["liver_resectability"] != "unresectable":
        out.add("CONFLICT_LIVER_RESECTABLE_DIFFUSE")  # diffuse: essentially never resectable
    if f["liver_diffuse"] and f["liver_lesion_count"] == 1:
        out.add("CONFLICT_LIVER_SINGLE_DIFFUSE")  # one lesion is not disseminated disease
    return out


def reference_liver_type(f: dict[str, Any]) -> str | None:
    """The ENETS type of consistent findings; None: no definition names the situation."""
    if f["liver_lesion_count"] == 1:
        return "I"  # a single metastasis of any size
    extent, resect = f["liver_extent"], f["liver_resectability"]
    if f["liver_diffuse"]:
        return "III" if extent == "bilobar" else None  # diffuse yet confined: not defined
    if extent == "confined":
        return "I" if resect == "standard_resection" else "unclassified"
    if resect == "resection_with_ablation_or_staged":
        return "II"
    if resect == "unresectable":
        return "III"  # bilobar, never resectable
    return None  # bilobar, standard resection: not in the definitions


def _grid() -> list[dict[str, Any]]:
    """Every combination of the findings, each input also unknown (None)."""
    return list(with_unknowns(DOMAINS))


def _completions(f: dict[str, Any]) -> list[dict[str, Any]]:
    return list(completions(f, DOMAINS))


@functools.cache
def _type_expectations() -> tuple[tuple[dict[str, Any], frozenset[str]], ...]:
    """Situations whose possible findings are all consistent and named by a definition, with the
    types they can have (one: decided; several: the table names the candidates)."""
    out = []
    for f in _grid():
        types: set[str | None] = set()
        for g in _completions(f):
            if reference_liver_conflicts(g):
                types = {None}  # the consistency table stops typing first (pathway)
                break
            types.add(reference_liver_type(g))
        if None not in types:
            out.append((f, frozenset(t for t in types if t is not None)))
    return tuple(out)


def liver_type_matches_enets(kb: Knowledge) -> list[str]:
    """Every consistent combination of lesion count, diffuseness, extent and resectability, each
    also unknown: decided exactly when every possible value gives the same ENETS type."""
    table = kb.tables["CSCO2021.LIVER.ENETS_TYPE"]
    out: list[str] = []
    for f, want in _type_expectations():
        res = evaluate_first(table, f)
        got = _values(res.value)
        if got != want or res.decided != (len(want) == 1):
            out.append(f"{f}: {sorted(got)} (decided {res.decided}), ENETS {sorted(want)}")
            if len(out) >= MAX_REPORTED:
                break
    return out


def liver_conflicts_match_enets(kb: Knowledge) -> list[str]:
    """Every combination, each input also unknown: a contradiction is reported when every
    possible value contradicts the definitions, left open when some do."""
    table = kb.tables["CSCO2021.LIVER.CONSISTENCY"]
    out: list[str] = []
    for f in _grid():
        per = [reference_liver_conflicts(g) for g in _completions(f)]
        sure = set.intersection(*per)
        some = set.union(*per) - sure
        res = evaluate_collect(table, f)
        got = {r.then["code"] for r in res.applies}
        maybe = {r.then["code"] for r, _ in res.maybe} - got
        if got != sure or maybe != some:
            out.append(
                f"{f}: {sorted(got)} open {sorted(maybe)}, ENETS {sorted(sure)} {sorted(some)}"
            )
            if len(out) >= MAX_REPORTED:
                break
    return out
