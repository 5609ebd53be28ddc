"""Treatment setting and hormone symptom control, recomputed from clinical-treatment.md (never read
from the tables they check).

* Setting (CSCO 2021 statements S1, S2, S4, clinical-treatment.md §0.3 and the §2 table "Locally
  advanced / borderline"): distant metastases -> metastatic (S4); none, with the primary judged
  unresectable or borderline resectable -> locally advanced (S2: MDT, systemic-therapy-based,
  surgery after conversion); none otherwise -> non-metastatic (S1: surgery or endoscopic
  resection); metastatic status unknown -> the setting is unknown (never assumed).
* Symptom control (clinical-treatment.md §1.2-1.5; clinical-sources-2026-12.md §3, §7):
  carcinoid syndrome -> long-acting SSA first, telotristat added for diarrhoea refractory on
  SSA, cardiology / valve-surgery referral for carcinoid heart disease; gastrinoma -> high-dose
  PPI always first, and for a type 2 gastric NET the gastrinoma itself is treated (§2.2);
  insulinoma -> diazoxide, SSA only with positive SSTR imaging; VIPoma -> fluids and electrolytes
  plus SSA; glucagonoma -> SSA; somatostatinoma -> SSA ("may paradoxically help"); ectopic ACTH
  -> steroidogenesis inhibitors plus SSA; other syndromes (PTHrP, GHRH, calcitonin) -> SSA.
  Whether to localise a gastrinoma for a confirmed gastrinoma at other sites is not asserted:
  §1.3 treats every sporadic localised gastrinoma surgically, which the site's own local
  treatment (duodenum, pancreas) or an unfound gastrinoma (other sites) may cover.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.tables import evaluate_collect, evaluate_first
from nenguide.mutation.properties.staging import MAX_REPORTED
from nenguide.mutation.properties.workup import SITES

MET = ("none", "present", "unknown")
RESECTABILITY = ("resectable", "borderline", "unresectable", "not_recorded")


def reference_setting(met: str, resectability: str) -> str:
    if met == "present":
        return "metastatic"  # S4
    if met == "unknown":
        return "unknown"
    if resectability in ("unresectable", "borderline"):
        return "locally_advanced"  # S2
    return "localised"  # S1


def _partial(values: tuple[str, ...]) -> list[tuple[Any, tuple[str, ...]]]:
    """Each value, each pair of values (known to be one of two) and unknown, with the values
    each stands for."""
    out: list[tuple[Any, tuple[str, ...]]] = [(v, (v,)) for v in values]
    out += [(OneOf(frozenset(p)), p) for p in itertools.combinations(values, 2)]
    out.append((None, values))
    return out


def setting_matches_csco(kb: Knowledge) -> list[str]:
    """Every metastatic status x resectability, each also known only as one of two values or
    unknown: the setting is decided exactly when every possible value gives the same one, and
    the candidates are exactly those of the possible values."""
    table = kb.tables["CSCO2021.TX.SETTING"]
    out = []
    for (met, mets), (res, ress) in itertools.product(_partial(MET), _partial(RESECTABILITY)):
        want = {reference_setting(m, r) for m in mets for r in ress}
        got = evaluate_first(table, {"met_status": met, "resectability": res})
        vals = got.value.values if isinstance(got.value, OneOf) else {got.value}
        if vals != want or got.decided != (len(want) == 1):
            out.append(
                f"met {mets}, resectability {ress}: {sorted(map(str, vals))}, S1/S2/S4 "
                f"{sorted(want)}"
            )
            if len(out) >= MAX_REPORTED:
                break
    return out


SSA = "SSA_SYMPTOM_CONTROL"
Option = tuple[str, tuple[str, ...], str | None]  # option, also offered, MDT


def _o(option: str, also: tuple[str, ...] = (), mdt: str | None = None) -> Option:
    return (option, also, mdt)


SYNDROMES = ("confirmed_carcinoid_syndrome", "confirmed_gastrinoma", "insulinoma", "vipoma",
             "glucagonoma", "somatostatinoma", "ectopic_acth", "other_syndrome")  # fmt: skip
MODIFIERS = ("sym_diarrhoea_refractory_on_ssa", "carcinoid_heart_disease", "sstr_positive")


def reference_symptom_control(f: dict[str, Any]) -> tuple[Counter[Option], set[Option]]:
    """(options, one per indication; options the sources leave open) for known inputs."""
    need: list[Option] = []
    optional: set[Option] = set()
    if f["confirmed_carcinoid_syndrome"]:
        need.append(_o(SSA))  # §1.4 ladder step 1
        if f["sym_diarrhoea_refractory_on_ssa"]:
            need.append(_o("TELOTRISTAT"))  # step 3, added to the SSA (TELESTAR)
        if f["carcinoid_heart_disease"]:
            need.append(_o("CHD_VALVE_SURGERY_REFERRAL", mdt="CARCINOID_HEART_DISEASE"))
    if f["confirmed_gastrinoma"]:
        need.append(_o("HIGH_DOSE_PPI"))  # §1.3: acid control always first
        localise = _o("GASTRINOMA_LOCALISATION_RESECTION")
        if f["primary_site"] == "stomach":  # type 2 gastric NET: treat the gastrinoma (§2.2)
            need.append(localise)
        else:
            optional.add(localise)
    if f["insulinoma"]:
        need.append(_o("DIAZOXIDE"))  # §1.2 medical first line
        if f["sstr_positive"]:
            need.append(_o(SSA))  # only with positive SSTR imaging (caveat elsewhere)
    if f["vipoma"]:
        need.append(_o("VIPOMA_FLUID_ELECTROLYTES", (SSA,)))
    if f["glucagonoma"]:
        need.append(_o(SSA))
    if f["somatostatinoma"]:
        need.append(_o(SSA))
    if f["ectopic_acth"]:
        need.append(_o("CORTISOL_SYNTHESIS_INHIBITORS", (SSA,)))
    if f["other_syndrome"]:
        need.append(_o(SSA))
    return Counter(need), optional


@functools.cache
def _symptom_grid() -> tuple[tuple[dict[str, Any], Counter[Option], frozenset[Option]], ...]:
    """Each syndrome alone with every modifier, at every site; and every pair of syndromes."""
    base: dict[str, Any] = dict.fromkeys((*SYNDROMES, *MODIFIERS), False)
    base["primary_site"] = "pancreas"
    cases: list[dict[str, Any]] = []
    for syndrome, mods in itertools.product(SYNDROMES, itertools.product((False, True), repeat=3)):
        sites = SITES if syndrome == "confirmed_gastrinoma" else ("pancreas",)
        for site in sites:
            on = {syndrome: True, "primary_site": site}
            cases.append(base | on | dict(zip(MODIFIERS, mods, strict=True)))
    for pair in itertools.combinations(SYNDROMES, 2):
        cases.append(base | dict.fromkeys(pair, True) | {"sstr_positive": True})
    cases += [base | dict.fromkeys(MODIFIERS, True)]
    out = []
    for f in cases:
        need, optional = reference_symptom_control(f)
        out.append((f, need, frozenset(optional)))
    return tuple(out)


def symptom_control_matches_reference(kb: Knowledge) -> list[str]:
    """Every situation of the grid: exactly the symptom-control options of the reference, each
    once per indication, with what is offered alongside it."""
    table = kb.tables["CSCO2021.TX.SYMPTOMS"]
    out = []
    for f, need, optional in _symptom_grid():
        got = Counter(
            _o(r.then["option"], tuple(r.then.get("also") or ()), r.then.get("mdt"))
            for r in evaluate_collect(table, f).applies
        )
        for o in optional:
            got.pop(o, None)
        if got != need:
            on = sorted(k for k, v in f.items() if v is True)
            out.append(
                f"{f['primary_site']} {on}: extra {sorted(got - need)}, "
                f"missing {sorted(need - got)}"
            )
            if len(out) >= MAX_REPORTED:
                break
    return out
