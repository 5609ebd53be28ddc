"""Hereditary-syndrome properties: who is referred for germline testing (and for which syndromes
and genes), the carrier surveillance programme, and the "relative with MEN1" fact, each
recomputed from shared/reference/clinical-treatment.md §6 (MEN1, MEN4, MEN2, VHL, NF1, TSC) and
clinical-sources-2026-12.md §14, with the project's recorded decisions of docs/clinical-gaps.md
("Hereditary syndromes")."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.tables import evaluate_collect, evaluate_first
from nenguide.mutation.properties.grid import completions
from nenguide.mutation.properties.staging import MAX_REPORTED

Outcome = tuple[str, frozenset[str], frozenset[str]]  # (test, syndromes, genes)

_GDP = ("stomach", "duodenum", "ampulla", "pancreas")
_DP = ("duodenum", "ampulla", "pancreas")
_SITES = ("stomach", "duodenum", "ampulla", "jejunum_ileum", "appendix", "colon_rectum",
          "pancreas", "lung", "thymus", "other", "unknown_primary")  # fmt: skip
_MEN1 = ("diagnostic", frozenset({"MEN1"}), frozenset({"MEN1", "CDKN1B"}))
_MEN1_VHL_PANEL = ("diagnostic", frozenset({"MEN1"}), frozenset({"MEN1", "CDKN1B", "VHL"}))


def _o(test: str, syndromes: Iterable[str], genes: Iterable[str]) -> Outcome:
    return (test, frozenset(syndromes), frozenset(genes))


def reference_triggers(f: Mapping[str, Any]) -> tuple[dict[str, Outcome], dict[str, Outcome]]:
    """The referral triggers a fully known case meets (clinical-treatment.md §6.4, §6.2), with
    the test, the syndromes suspected and the genes; and the triggers the sources leave open for
    this case (allowed, not required).

    MEN1 (and CDKN1B/MEN4 "if MEN1 is negative"): clinical MEN1 = at least 2 of the 3 primary
    tumours; familial MEN1 = one of them with a first-degree relative with MEN1 (§6.2);
    gastrinoma at any age; multifocal gastro-duodeno-pancreatic NET at any age (panel with VHL
    and CDKN1B); GDP-NET before 40; bronchial or thymic NET at any age; PHPT before 40 or
    familial PHPT (§6.4). A type 1 gastric NET (atrophic gastritis) is no MEN1 trigger
    (clinical-gaps.md); the VHL gene in the panel of multifocal *gastric* NETs is left open
    (§6.4 names VHL for multifocal GDP-NET; VHL causes no gastric NET). A variant known in a
    relative: targeted test; a carrier: cascade counselling. Type 2 gastric NET (MEN1),
    duodenal/periampullary NET with NF1 stigmata (NF1), pNET with haemangioblastoma, clear-cell
    RCC or phaeochromocytoma (VHL), pNET with TSC features (TSC), medullary thyroid carcinoma
    (RET/MEN2), phaeochromocytoma/paraganglioma (RET, VHL, NF1, and SDHx). Clinical VHL from the
    history (clinical-sources-2026-12.md §14, classic criteria: two haemangioblastomas, or one and
    a visceral tumour). General red flags (counselling, no gene): NET before 40, multiple
    primaries outside the GDP tract (inside it the specific triggers apply), an affected
    relative. Where a trigger names a NET, a poorly differentiated tumour meets it only if the
    source does not require a NET: type 2 gastric and NF1 duodenal tumours are left open then.
    """
    req: dict[str, Outcome] = {}
    opt: dict[str, Outcome] = {}
    site, wd, age, n = (
        f["site_group"],
        f["well_differentiated"],
        f["age_years"],
        f["number_of_tumours"],
    )
    young = age < 40
    count = f["men1_major_count"]
    if count >= 2:
        req["CLINICAL_MEN1"] = _MEN1
    if count >= 1 and f["relative_men1"]:
        req["FAMILIAL_MEN1"] = _MEN1
    if f["gastrinoma"]:
        req["GASTRINOMA"] = _MEN1
        if site == "stomach":
            (req if wd else opt)["GASTRIC_TYPE2"] = _MEN1
    not_type1 = not f["atrophic_gastritis"]
    if wd and n > 1 and site in _DP:
        req["MULTIFOCAL_DP_NET"] = _MEN1_VHL_PANEL
    if wd and n > 1 and site == "stomach" and not_type1:
        req["MULTIFOCAL_GASTRIC_NET"] = _MEN1
        opt["MULTIFOCAL_GASTRIC_NET"] = _MEN1_VHL_PANEL
    if wd and young and site in _DP:
        req["DP_NET_UNDER_40"] = _MEN1
    if wd and young and site == "stomach" and not_type1:
        req["GASTRIC_NET_UNDER_40"] = _MEN1
    if wd and site in ("lung", "thymus"):
        req["THORACIC_NET"] = _MEN1
    if f["phpt"] and young:
        req["PHPT_UNDER_40"] = _MEN1
    if f["phpt"] and f["relative_phpt"]:
        req["FAMILIAL_PHPT"] = _MEN1
    if f["relative_variant"]:
        req["RELATIVE_VARIANT"] = _o("targeted", (), ())
    if f["carrier"]:
        req["KNOWN_CARRIER"] = _o("cascade", (), ())
    if f["nf1_stigmata"] and site in ("duodenum", "ampulla"):
        (req if wd else opt)["NF1_DUODENAL_NET"] = _o("diagnostic", ["NF1"], ["NF1"])
    if wd and site == "pancreas" and f["vhl_feature"]:
        req["VHL_PNET"] = _o("diagnostic", ["VHL"], ["VHL"])
    cns, ret, rcc = (f["hx_cns_haemangioblastoma"], f["hx_retinal_haemangioblastoma"],
                     f["hx_clear_cell_renal_cell_carcinoma"])  # fmt: skip
    if (cns and ret) or ((cns or ret) and rcc):
        req["CLINICAL_VHL"] = _o("diagnostic", ["VHL"], ["VHL"])
    if f["mtc"]:
        req["MTC"] = _o("diagnostic", ["MEN2"], ["RET"])
    if f["pheo"]:
        req["PHEO"] = _o("diagnostic", ["MEN2", "VHL", "NF1"], ["RET", "VHL", "NF1"])
        req["PHEO_SDHX"] = _o("diagnostic", ["SDHx"], ["SDHA", "SDHB", "SDHC", "SDHD"])
    if wd and site == "pancreas" and f["tsc_feature"]:
        req["TSC_PNET"] = _o("diagnostic", ["TSC"], ["TSC1", "TSC2"])
    counselling = _o("counselling", (), ())
    if young:
        (req if wd else opt)["RED_FLAG_EARLY_AGE"] = counselling
    if wd and n > 1 and site not in _GDP:
        req["RED_FLAG_MULTIPLE_PRIMARIES"] = counselling
    if f["relative_nen"]:
        req["RED_FLAG_FAMILY"] = counselling
    return req, opt


#: every input of the trigger table, and the values a completion of an unknown one takes
_DOMAINS: dict[str, tuple[Any, ...]] = {
    "site_group": _SITES,
    "well_differentiated": (True, False),
    "age_years": (20, 39, 40, 60),
    "number_of_tumours": (1, 2, 3),
    "men1_major_count": (0, 1, 2, 3),
    **{
        name: (True, False)
        for name in (
            "gastrinoma",
            "atrophic_gastritis",
            "phpt",
            "relative_men1",
            "relative_phpt",
            "relative_variant",
            "relative_nen",
            "vhl_feature",
            "nf1_stigmata",
            "tsc_feature",
            "mtc",
            "pheo",
            "carrier",
            "hx_cns_haemangioblastoma",
            "hx_retinal_haemangioblastoma",
            "hx_clear_cell_renal_cell_carcinoma",
        )
    },
}
_BASE: dict[str, Any] = {
    **{name: False for name, dom in _DOMAINS.items() if dom == (True, False)},
    "site_group": "other",
    "well_differentiated": True,
    "age_years": 60,
    "number_of_tumours": 1,
    "men1_major_count": 0,
}


def _completions(f: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    """Every fully known case ``f`` can be (its unknown or partly known inputs completed)."""
    return completions(f, _DOMAINS)


def _trigger_scenarios() -> list[dict[str, Any]]:
    """Known inputs at and either side of every limit, every site with every site-bound
    finding, each other trigger's findings alone; then each input of the site scenarios unknown
    in turn, and partly known MEN1 counts."""
    out: list[dict[str, Any]] = []
    for site, wd, ag in itertools.product(_SITES, (True, False), (True, False)):
        known = {**_BASE, "site_group": site, "well_differentiated": wd, "atrophic_gastritis": ag}
        out += [{**known, "age_years": age} for age in (38, 39, 40, 41)]
        out += [{**known, "number_of_tumours": n} for n in (1, 2, 3)]
    for site, wd, flag in itertools.product(
        _SITES, (True, False), ("gastrinoma", "nf1_stigmata", "vhl_feature", "tsc_feature")
    ):
        out.append({**_BASE, "site_group": site, "well_differentiated": wd, flag: True})
    for count, rel in itertools.product((0, 1, 2, 3), (True, False)):
        out.append({**_BASE, "men1_major_count": count, "relative_men1": rel})
    for phpt, age, rel in itertools.product((True, False), (38, 39, 40, 41, 60), (True, False)):
        out.append({**_BASE, "phpt": phpt, "age_years": age, "relative_phpt": rel})
    for flag in ("relative_variant", "carrier", "mtc", "pheo", "relative_nen"):
        out.append({**_BASE, flag: True})
    hx = ("hx_cns_haemangioblastoma", "hx_retinal_haemangioblastoma",
          "hx_clear_cell_renal_cell_carcinoma")  # fmt: skip
    for values in itertools.product((True, False), repeat=3):
        out.append({**_BASE, **dict(zip(hx, values, strict=True))})
    # unknown inputs (never assumed absent) and partly known MEN1 counts
    for site, (age, n) in itertools.product(_SITES, ((30, 2), (60, 1))):
        known = {**_BASE, "site_group": site, "age_years": age, "number_of_tumours": n}
        for name in ("site_group", "well_differentiated", "age_years", "number_of_tumours",
                     "atrophic_gastritis", "gastrinoma", "nf1_stigmata"):  # fmt: skip
            out.append({**known, name: None})
    counts: tuple[Any, ...] = (
        OneOf(frozenset({0, 1})),
        OneOf(frozenset({1, 2})),
        OneOf(frozenset({2, 3})),
        1,
        None,
    )
    for count, relative in itertools.product(counts, (True, False, None)):
        out.append({**_BASE, "men1_major_count": count, "relative_men1": relative})
    for name in ("phpt", "relative_phpt", "relative_variant", "carrier", "mtc", "pheo",
                 "relative_nen", "hx_cns_haemangioblastoma"):  # fmt: skip
        out.append({**_BASE, "age_years": 30, "relative_phpt": True,
                    "hx_retinal_haemangioblastoma": True, name: None})  # fmt: skip
    return out


_SCENARIOS = _trigger_scenarios()


def _outcome(then: Mapping[str, Any]) -> Outcome:
    return (str(then.get("test")), frozenset(then.get("syndromes") or ()),
            frozenset(then.get("genes") or ()))  # fmt: skip


def triggers_match_reference(kb: Knowledge) -> list[str]:
    """Known inputs: exactly the reference's triggers apply, each with its test, syndromes and
    genes. Unknown inputs: a trigger applies only when it holds whatever the unknowns are, and
    every trigger that some completion meets is still open (never concluded absent)."""
    table = kb.tables["CSCO2021.HER.TRIGGERS"]
    out: list[str] = []
    for f in _SCENARIOS:
        res = evaluate_collect(table, f)
        applies: dict[str, set[Outcome]] = {}
        for r in res.applies:
            applies.setdefault(r.then["trigger"], set()).add(_outcome(r.then))
        maybe = {r.then["trigger"] for r, _ in res.maybe}
        always: set[str] | None = None  # the triggers every completion meets
        some: set[str] = set()
        open_: set[str] = set()
        for c in _completions(f):
            req, opt = reference_triggers(c)
            open_ |= set(opt) - set(req)
            for name, outcome in req.items():
                allowed = {outcome, opt.get(name, outcome)}
                if name in applies and not applies[name] <= allowed:
                    out.append(f"{f}: {name} gives {applies[name]}, reference {outcome}")
            some |= set(req)
            always = set(req) if always is None else always & set(req)
        always = always or set()
        got = set(applies) - open_
        if got - always or (always - open_) - got - maybe:
            out.append(f"{f}: triggers {sorted(got)}, reference {sorted(always - open_)}")
        missed = (some - open_) - set(applies) - maybe
        if missed:
            out.append(f"{f}: {sorted(missed)} neither applies nor stays open (unknown inputs)")
        spurious = maybe - some - open_
        if spurious:
            out.append(f"{f}: {sorted(spurious)} left open, but no completion meets it")
        if len(out) >= MAX_REPORTED:
            break
    return out


#: MEN1 carrier surveillance (Thakker 2012 table in clinical-treatment.md §6.2: start age of each
#: tumour's screening; "< 10" read as 10) and VHL (§6.3: abdominal imaging from adolescence,
#: age 15 in the Japanese proposal).
MEN1_SURVEILLANCE = {
    "MEN1_PARATHYROID": 8,
    "MEN1_GASTRINOMA": 20,
    "MEN1_INSULINOMA": 5,
    "MEN1_OTHER_PNET": 10,
    "MEN1_PITUITARY": 5,
    "MEN1_ADRENAL": 10,
    "MEN1_THORACIC": 15,
}
VHL_SURVEILLANCE = {"VHL_PANCREAS": 15}


def surveillance_matches_reference(kb: Knowledge) -> list[str]:
    """A MEN1 carrier gets one item per tumour of the Thakker 2012 programme, each once, with its
    start age; a VHL carrier the pancreatic imaging; an unknown carrier status keeps them open."""
    table = kb.tables["CSCO2021.HER.SURVEILLANCE"]
    out = []
    for men1, vhl in itertools.product((True, False, None), repeat=2):
        res = evaluate_collect(table, {"carrier_men1": men1, "carrier_vhl": vhl})
        got = sorted((r.then["item"], r.then["syndrome"], r.then["start_age"]) for r in res.applies)
        maybe = sorted(
            (r.then["item"], r.then["syndrome"], r.then["start_age"]) for r, _ in res.maybe
        )
        want: dict[bool | None, list[tuple[str, str, int]]] = {True: [], None: []}
        for flag, syndrome, items in ((men1, "MEN1", MEN1_SURVEILLANCE),
                                      (vhl, "VHL", VHL_SURVEILLANCE)):  # fmt: skip
            if flag is not False:
                want[flag] += [(item, syndrome, age) for item, age in items.items()]
        if got != sorted(want[True]) or maybe != sorted(want[None]):
            out.append(
                f"MEN1 carrier {men1}, VHL carrier {vhl}: {got} (open {maybe}), "
                f"reference {sorted(want[True])} (open {sorted(want[None])})"
            )
    return out


def relative_men1_matches_thakker(kb: Knowledge) -> list[str]:
    """A first-degree relative "with MEN1" (familial MEN1, clinical-treatment.md §6.2; Thakker
    2012): MEN1 named in the family history, a MEN1 variant, or clinical MEN1 - at least 2 of the
    3 primary MEN1 tumours. False only when all three are known to be absent; otherwise
    unknown (the family history never assumed negative)."""
    table = kb.tables["CSCO2021.FACT.RELATIVE_MEN1"]
    out = []
    for named, variant, most in itertools.product(
        (True, False, None), (True, False, None),
        (0, 1, 2, 3, None, OneOf(frozenset({1, 2})), OneOf(frozenset({0, 1}))),
    ):  # fmt: skip
        counts = (
            most.sorted() if isinstance(most, OneOf) else [0, 1, 2, 3] if most is None else [most]
        )
        known_true = named is True or variant is True or all(c >= 2 for c in counts)
        known_false = named is False and variant is False and all(c < 2 for c in counts)
        want = True if known_true else False if known_false else None
        res = evaluate_first(table, {"relative_men1_named": named,
                                     "relative_men1_variant": variant,
                                     "relative_men1_major_max": most})  # fmt: skip
        got = res.value if res.decided else None
        if got is not want:
            out.append(f"named {named}, variant {variant}, most {most}: {res.value} "
                       f"(decided {res.decided}), reference {want}")  # fmt: skip
    return out
