"""Work-up property: the investigations a situation calls for, recomputed from the reference.

The expectation is written here from the work-up and diagnosis sections of the reference digests
(never read from the table it checks):

* clinical-pathology-staging.md §5.1 "Modality by clinical situation" (Sundin, ENETS imaging
  2017; SNMMI appropriate-use criteria 2018): baseline contrast multiphase CT (or MRI) for any
  NEN; EUS for a pancreatic lesion and for small functional tumours; upper endoscopy for gastric
  and duodenal NET, EUS for depth and size of 1-2 cm lesions; colonoscopy for colonic and rectal
  NET; SSTR PET (SPECT where PET is unavailable) for well-differentiated NET staging, unknown
  primary and PRRT selection; FDG PET for NET G3, "high G2" NET and NEC; SSTR PET for thoracic
  carcinoids and FDG PET for LCNEC/SCLC (thoracic text UNCONFIRMED); GLP-1R PET for an
  insulinoma that conventional imaging did not localise.
* §4 (liver metastases): liver MRI with hepatobiliary contrast maps them.
* §6 (markers): CgA is the marker of well-differentiated NET; NSE of poorly differentiated
  NEN/NEC (its NEC use is UNCONFIRMED, clinical-verification.md 1e).
* §7 (gastric NET types): fasting gastrin off PPI and gastric pH type a gastric NET; a poorly
  differentiated gastric tumour is a gastric NEC, not typed.
* §1.1 (WHO 2019): NEC are high grade by definition (Ki-67 > 20 %, mitoses > 20 per 2 mm²), so
  an NEC whose reported indices are all at or below 20 needs the discordance reviewed; §1.2:
  grading needs the indices (an unclassifiable tumour goes back to pathology).
* clinical-treatment.md §1.2 (insulinoma: EUS localisation after biochemical proof), §1.3
  (gastrinoma / ZES: calcium, PTH, prolactin for MEN1 in every patient; EGD; SSTR PET; EUS),
  §2.7 (rectal NET 1-2 cm: stage with EUS and/or pelvic MRI; the > 2 cm row goes to radical
  resection without it).
* clinical-sources-2026-12.md §7 (carcinoid syndrome: NT-proBNP and echocardiography) and §10
  (rectal NET < 1 cm G1 after R0 resection without risk features: no routine imaging, no CgA).
* clinical-chinese-guidance.md W-CN-1 (integrated diagnosis: biomarkers, endoscopy, CT/MRI and
  functional imaging) and W-CN-12/§3.3 (SSTR SPECT accepted where 68Ga kits are unavailable).

Where the reference is silent the expectation is "optional" (not asserted either way) and the
row is listed in docs/clinical-gaps.md: SSTR imaging of appendiceal/rectal NET < 1 cm, EUS of
gastroduodenal NET outside 1-2 cm ("especially 1-2 cm") and of ampullary NET, rectal EUS below
1 cm, the Ki-67 limit of "high G2" between 5 and 20 %, and MiNEN's imaging and markers. Each
reason is asserted never to appear outside its own indication.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Iterator
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.tables import evaluate_collect
from nenguide.mutation.properties.staging import MAX_REPORTED

TABLE = "CSCO2021.WORKUP.ITEMS"
Item = tuple[str, str, tuple[str, ...], tuple[str, ...]]  # item, reason, done if any, done if all

SITES = ("stomach", "duodenum", "ampulla", "jejunum", "ileum", "appendix", "colon", "rectum",
         "pancreas", "lung", "thymus", "other", "unknown_primary")  # fmt: skip
CATEGORIES = ("NET", "NEC", "MiNEN", "typical_carcinoid", "atypical_carcinoid", "LCNEC", "SCLC")
STATUSES = ("DETERMINED", "INSUFFICIENT_DATA", "CONFLICT", "NOT_APPLICABLE")
WELL = ("NET", "typical_carcinoid", "atypical_carcinoid")
CARCINOID = ("typical_carcinoid", "atypical_carcinoid")
POOR = ("NEC", "LCNEC", "SCLC")
SSTR = ("sstr_pet", "sstr_spect")  # SPECT where no PET tracer (clinical-chinese-guidance 3.3)


def _i(item: str, reason: str, any_of: tuple[str, ...] = (), all_of: tuple[str, ...] = ()) -> Item:
    return (item, reason, tuple(sorted(any_of)), tuple(sorted(all_of)))


CT_MRI = _i("WU.CT_MRI", "ct_mri_baseline", ("ct", "mri"))
LIVER_MRI = _i("WU.LIVER_MRI", "liver_mri_mapping", ("mri",))
EUS_PANCREAS = _i("WU.EUS", "eus_pancreas", ("eus",))
EUS_GD = _i("WU.EUS", "eus_gastroduodenal", ("eus",))
EUS_RECTUM = _i("WU.EUS", "eus_rectum", ("eus", "mri"))  # "EUS and/or pelvic MRI" (§2.7)
EUS_FUNCTIONAL = _i("WU.EUS", "eus_functional", ("eus",))
EGD_SITE = _i("WU.UPPER_ENDOSCOPY", "egd_site", ("egd",))
EGD_GASTRINOMA = _i("WU.UPPER_ENDOSCOPY", "egd_gastrinoma", ("egd",))
COLONOSCOPY = _i("WU.COLONOSCOPY", "colonoscopy_site", ("colonoscopy",))
SSTR_NET = _i("WU.SSTR_IMAGING", "sstr_net_staging", SSTR)
SSTR_METASTATIC = _i("WU.SSTR_IMAGING", "sstr_metastatic", SSTR)
SSTR_CARCINOID = _i("WU.SSTR_IMAGING", "sstr_carcinoid", SSTR)
SSTR_UNKNOWN_PRIMARY = _i("WU.SSTR_IMAGING", "sstr_unknown_primary", SSTR)
SSTR_GASTRINOMA = _i("WU.SSTR_IMAGING", "sstr_gastrinoma", SSTR)
FDG_NEC = _i("WU.FDG_PET", "fdg_nec", ("fdg_pet",))
FDG_NET_G3 = _i("WU.FDG_PET", "fdg_net_g3", ("fdg_pet",))
FDG_NET_G2_HIGH = _i("WU.FDG_PET", "fdg_net_g2_high", ("fdg_pet",))
FDG_MINEN = _i("WU.FDG_PET", "fdg_minen", ("fdg_pet",))
ECHO = _i("WU.ECHO_NTPROBNP", "echo_carcinoid_syndrome", ("echocardiography",))
GLP1R = _i("WU.GLP1R_IMAGING", "glp1r_insulinoma", ("glp1r_imaging",))
MEN1 = _i("WU.MEN1_BIOCHEMISTRY", "men1_gastrinoma", (), ("lab:calcium", "lab:pth"))
GASTRIC_TYPE = _i("WU.GASTRIC_TYPE", "gastric_type", (), ("lab:gastrin_off_ppi", "lab:gastric_ph"))
PATHOLOGY = _i("WU.PATHOLOGY_REVIEW", "pathology_review")
PATHOLOGY_NEC = _i("WU.PATHOLOGY_REVIEW", "pathology_review_nec_discordant")
CGA = _i("WU.CGA", "cga_baseline", ("lab:chromogranin_a",))
NSE = _i("WU.NSE", "nse_baseline", ("lab:nse",))


def reference_workup(f: dict[str, Any]) -> tuple[Counter[Item], set[Item], set[Item]]:
    """(items asked for, each once per indication; items the sources leave open; items that
    depend on an unknown proliferation index) for one situation whose other inputs are known."""
    need: list[Item] = []
    optional: set[Item] = set()
    maybe: set[Item] = set()
    site, cat, size = f["primary_site"], f["category"], f["size_cm"]
    # §5.1: baseline CT/MRI for any NEN; none after R0 resection of a small low-risk rectal NET
    if f["classification_status"] != "NOT_APPLICABLE" and not f["rectal_low_risk_r0"]:
        need.append(CT_MRI)
    if f["liver_mets"]:  # §4: liver MRI (hepatobiliary contrast) maps liver metastases
        need.append(LIVER_MRI)
    # §5.1 EUS: pancreatic lesion; gastric/duodenal NET "especially 1-2 cm"; rectal 1-2 cm
    # (§2.7: EUS and/or pelvic MRI; not in the > 2 cm row); small functional tumours (§1.2-1.3)
    if site == "pancreas":
        need.append(EUS_PANCREAS)
    if site in ("stomach", "duodenum") and 1 <= size <= 2:
        need.append(EUS_GD)
    elif site in ("stomach", "duodenum", "ampulla"):
        optional.add(EUS_GD)
    if site == "rectum" and 1 <= size <= 2:
        need.append(EUS_RECTUM)
    elif site == "rectum" and size < 1:
        optional.add(EUS_RECTUM)
    if f["insulinoma"]:
        need.append(EUS_FUNCTIONAL)
    if f["gastrinoma"]:
        need += [EUS_FUNCTIONAL, EGD_GASTRINOMA, SSTR_GASTRINOMA, MEN1]  # clinical-treatment §1.3
    # §5.1 endoscopy: upper endoscopy for gastric and duodenal (incl. ampullary, AJCC ch. 30) NET;
    # colonoscopy for colonic and rectal NET
    if site in ("stomach", "duodenum", "ampulla"):
        need.append(EGD_SITE)
    if site in ("colon", "rectum"):
        need.append(COLONOSCOPY)
    # §5.1 SSTR imaging: well-differentiated NET staging (SNMMI: initial staging), metastatic
    # well-differentiated disease (PRRT selection), thoracic carcinoids, unknown primary (not NEC)
    if cat == "NET":
        if site not in ("appendix", "rectum") or size >= 1:
            need.append(SSTR_NET)
        else:
            optional.add(SSTR_NET)  # < 1 cm appendix / rectum: the sources do not say
    if cat in WELL and f["met_status"] == "present":
        need.append(SSTR_METASTATIC)
    if cat in CARCINOID:
        need.append(SSTR_CARCINOID)
    if site == "unknown_primary" and cat not in POOR:
        if cat == "MiNEN":
            optional.add(SSTR_UNKNOWN_PRIMARY)  # MiNEN imaging: not named in the sources
        else:
            need.append(SSTR_UNKNOWN_PRIMARY)
    # §5.1 FDG PET: NEC (and LCNEC/SCLC), NET G3, "high G2" NET (limit not in the sources; at
    # most Ki-67 5 % is not high, the top of G2 is); MiNEN: not named (optional)
    if cat in POOR:
        need.append(FDG_NEC)
    if cat == "NET" and f["grade"] == "G3":
        need.append(FDG_NET_G3)
    if cat == "NET" and f["grade"] == "G2":
        ki67 = f["ki67_percent"]
        if ki67 is not None and ki67 >= 20:
            need.append(FDG_NET_G2_HIGH)
        elif ki67 is None or ki67 > 5:
            optional.add(FDG_NET_G2_HIGH)
    if cat == "MiNEN":
        optional.add(FDG_MINEN)
    if f["carcinoid_syndrome"]:  # clinical-sources §7: NT-proBNP and echocardiography
        need.append(ECHO)
    if f["insulinoma"] and site == "unknown_primary":  # §5.1: localisation negative -> GLP-1R
        need.append(GLP1R)
    if site == "stomach" and cat == "NET":  # §7: type a gastric NET (a gastric NEC is not typed)
        need.append(GASTRIC_TYPE)
    elif site == "stomach" and cat == "MiNEN":
        optional.add(GASTRIC_TYPE)
    if f["classification_status"] in ("INSUFFICIENT_DATA", "CONFLICT"):  # §1.2
        need.append(PATHOLOGY)
    if cat == "NEC":  # §1.1: NEC is Ki-67 > 20 % and mitoses > 20 by definition
        k = f["ki67_percent"] if f["ki67_reported"] else None
        m = f["mitoses_per_2mm2"] if f["mitoses_reported"] else None
        if (k is None or k <= 20) and (m is None or m <= 20):
            if k is None and m is None:
                maybe.add(PATHOLOGY_NEC)  # neither index reported: the engine asks for them
            else:
                need.append(PATHOLOGY_NEC)
    # §6 markers (§10: no CgA for the exempt small rectal NET); MiNEN: not named (optional)
    if cat in WELL and not f["rectal_low_risk_r0"]:
        need.append(CGA)
    if cat == "MiNEN":
        optional |= {CGA, NSE}
    if cat in POOR:
        need.append(NSE)
    return Counter(need), optional, maybe


#: values tried for an input the situation leaves unknown (None)
COMPLETIONS: dict[str, tuple[Any, ...]] = {
    "category": CATEGORIES,
    "classification_status": STATUSES,
    "grade": ("G1", "G2", "G3"),
    "size_cm": (0.5, 1.5, 3.0),
    "met_status": ("none", "present"),
    "liver_mets": (False, True),
    "carcinoid_syndrome": (False, True),
    "insulinoma": (False, True),
    "gastrinoma": (False, True),
    "rectal_low_risk_r0": (False, True),
}


def expected(f: dict[str, Any]) -> tuple[Counter[Item], set[Item], set[Item]]:
    """The reference over every value of the unknown inputs: what holds for all of them is asked
    for; what holds for some is 'maybe' (the engine names the missing data)."""
    unknown = [k for k in COMPLETIONS if f.get(k) is None]
    if not unknown:
        return reference_workup(f)
    sure: Counter[Item] | None = None
    some: set[Item] = set()
    optional: set[Item] = set()
    for combo in itertools.product(*(COMPLETIONS[k] for k in unknown)):
        g = dict(f)
        g.update(zip(unknown, combo, strict=True))
        need, opt, maybe = reference_workup(g)
        sure = need if sure is None else sure & need
        some |= set(need) | maybe
        optional |= opt
    assert sure is not None
    return sure, optional, some - set(sure)


BASE: dict[str, Any] = {
    "primary_site": "ileum", "category": "NET", "classification_status": "DETERMINED",
    "grade": "G1", "ki67_percent": 1.0, "mitoses_per_2mm2": 0.0, "ki67_reported": True,
    "mitoses_reported": True, "size_cm": 3.0, "met_status": "none", "liver_mets": False,
    "carcinoid_syndrome": False, "insulinoma": False, "gastrinoma": False,
    "rectal_low_risk_r0": False,
}  # fmt: skip
#: grade and indices typical of each category (the FDG and pathology rows read them)
PROLIFERATION = {
    "NET": ("G1", 1.0, 0.0), "NEC": ("G3", 60.0, 30.0), "MiNEN": ("G3", 40.0, 25.0),
    "typical_carcinoid": (None, 2.0, 1.0), "atypical_carcinoid": (None, 8.0, 4.0),
    "LCNEC": (None, 60.0, 30.0), "SCLC": (None, 80.0, 50.0),
}  # fmt: skip
WORKUP_SIZES = (0.5, 0.9, 0.95, 1.0, 1.05, 1.2, 1.6, 1.9, 2.0, 2.1, 2.5, 4.0)
KI67_LIMITS = (1.0, 4.0, 5.0, 9.0, 10.0, 11.0, 15.0, 19.0, 20.0, 21.0, 25.0, 35.0)
NEC_INDICES = (None, 5.0, 15.0, 19.0, 20.0, 21.0, 25.0, 35.0)


def _case(**kw: Any) -> dict[str, Any]:
    f = dict(BASE)
    cat = kw.get("category", f["category"])
    if cat is not None and "grade" not in kw:
        f["grade"], f["ki67_percent"], f["mitoses_per_2mm2"] = PROLIFERATION[cat]
    f.update(kw)
    f["ki67_reported"] = f["ki67_percent"] is not None
    f["mitoses_reported"] = f["mitoses_per_2mm2"] is not None
    if f["met_status"] != "present" and "liver_mets" not in kw:
        f["liver_mets"] = False if f["met_status"] == "none" else None
    return f


def workup_grid() -> Iterator[dict[str, Any]]:
    """Every site x category x metastases; each site at every size limit of its rows (and a
    step either side); NET grade x Ki-67 limit; the NEC indices at and around 20; classification
    status x category x the rectal exemption; the confirmed syndromes by site; each input
    unknown."""
    for site, cat, met in itertools.product(SITES, CATEGORIES, ("none", "present")):
        yield _case(primary_site=site, category=cat, size_cm=1.5, met_status=met,
                    liver_mets=met == "present")  # fmt: skip
    for site in SITES:
        sized = site in ("stomach", "duodenum", "ampulla", "appendix", "rectum")
        for size in WORKUP_SIZES if sized else (0.5, 3.0):
            yield _case(primary_site=site, size_cm=size)
    for grade, ki67 in itertools.product(("G1", "G2", "G3"), KI67_LIMITS):
        yield _case(grade=grade, ki67_percent=ki67)
    for cat, grade in itertools.product(CATEGORIES[1:], ("G1", "G2", "G3")):
        yield _case(category=cat, grade=grade, ki67_percent=12.0)
    for k, m in itertools.product(NEC_INDICES, NEC_INDICES):
        yield _case(category="NEC", ki67_percent=k, mitoses_per_2mm2=m)
    for cat in CATEGORIES:
        for k, m in ((15.0, 15.0), (15.0, None), (None, 15.0)):
            yield _case(category=cat, grade="G1", ki67_percent=k, mitoses_per_2mm2=m)
    for status, known, r0 in itertools.product(STATUSES, (None, *CATEGORIES), (False, True)):
        yield _case(primary_site="rectum", size_cm=0.5, classification_status=status,
                    category=known, rectal_low_risk_r0=r0)  # fmt: skip
    syndromes = ("carcinoid_syndrome", "insulinoma", "gastrinoma")
    for site in ("pancreas", "duodenum", "stomach", "ileum", "unknown_primary"):
        for flags in itertools.product((False, True), repeat=3):
            yield _case(primary_site=site, **dict(zip(syndromes, flags, strict=True)))
    for site in SITES:  # GLP-1R imaging only while the insulinoma is not localised
        yield _case(primary_site=site, insulinoma=True)
    for site in ("stomach", "rectum", "pancreas", "unknown_primary"):
        for name in COMPLETIONS:
            yield _case(**{"primary_site": site, "size_cm": 1.5, name: None})


Expectation = tuple[dict[str, Any], Counter[Item], frozenset[Item], frozenset[Item]]


@functools.cache
def _expectations() -> tuple[Expectation, ...]:
    """The grid with the reference's answer for each situation (computed once: it does not
    depend on the knowledge base under test)."""
    out = []
    for f in workup_grid():
        need, optional, maybe = expected(f)
        out.append((f, need, frozenset(optional), frozenset(maybe - optional)))
    return tuple(out)


def workup_items_match_reference(kb: Knowledge) -> list[str]:
    """Every situation of :func:`workup_grid`: the rows that apply give exactly the items (each
    once per indication, with the investigations that satisfy it) the reference asks for, and
    the rows left open by an unknown input are exactly those the reference leaves open."""
    table = kb.tables[TABLE]
    items = {r.id: _item(r.then) for r in table.rows}
    out: list[str] = []
    for f, need, optional, maybe in _expectations():
        res = evaluate_collect(table, f)
        got = Counter(items[r.id] for r in res.applies)
        got_maybe = {items[r.id] for r, _ in res.maybe} - set(got) - optional
        for o in optional:
            got.pop(o, None)
        if got != need or got_maybe != maybe:
            extra, missing = got - need, need - got
            out.append(
                f"{_short(f)}: extra {sorted(extra)}, missing {sorted(missing)}, "
                f"open {sorted(got_maybe)} (reference open {sorted(maybe)})"
            )
            if len(out) >= MAX_REPORTED:
                break
    return out


def _item(then: dict[str, Any]) -> Item:
    return _i(
        then["item"],
        then["reason"],
        tuple(then.get("done_if_any") or ()),
        tuple(then.get("done_if_all") or ()),
    )


def _short(f: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in f.items() if BASE.get(k, "?") != v)
