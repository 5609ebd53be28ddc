"""The clinical part of the case reshaped into plain facts (renaming, counting, taking the
latest result, unit conversion): bookkeeping only, no clinical threshold. The fact layer
(:func:`nenguide.engine.fact_layer.case_facts`, the one place that reads the case's clinical
section) hands that section to these functions once per case; no step reads it itself.

Unknown stays ``None``: a finding that is not recorded is never ``False``.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TYPE_CHECKING, Any

from nenguide.engine.case_items import any_of, done_tokens, germline_input
from nenguide.engine.context import DX_FACTS
from nenguide.engine.lab_names import value_fact
from nenguide.engine.ranges import Interval, cuts, representatives
from nenguide.model.case import Case
from nenguide.model.clinical import (
    Clinical,
    History,
    InvestigationKind,
    LabResult,
    Relation,
    Symptom,
    Therapy,
)
from nenguide.model.frozen import FrozenDict
from nenguide.units import AnalyteCatalogue, LabInputError, lab_quantity

if TYPE_CHECKING:
    from nenguide.engine.context import Context

LAB_STEP = "functional_syndromes"
_ERROR_CODES = {"lab_unit": "LAB_UNIT_INVALID", "lab_analyte": "LAB_ANALYTE_UNKNOWN"}
#: the SSTR imaging studies (PET or SPECT); the latest of them gives the SSTR facts
SSTR_KINDS = (InvestigationKind.sstr_pet, InvestigationKind.sstr_spect)
#: one fact per therapy: progression on it (the fact table of progressed_on_systemic reads them)
_PROGRESSED_NAME = {t: f"progressed_on_{t.value}" for t in Therapy}
#: every progression fact unknown (prior therapies not recorded), and every one false (none
#: of the therapies given), in the same order
_PROGRESSED_UNKNOWN = dict.fromkeys(_PROGRESSED_NAME.values())
_PROGRESSED_NONE = dict.fromkeys(_PROGRESSED_NAME.values(), False)
_MIN = dt.date.min


def _latest_dated(items: list[Any]) -> Any:
    """The most recent item by date (undated items count as older)."""
    return sorted(items, key=lambda i: (i.date is not None, i.date or 0))[-1]


#: every history item, and its fact (``hx_<item>``), in the same order
_HX_ITEMS = tuple(History)
_HX_NAMES = tuple(f"hx_{h.value}" for h in _HX_ITEMS)
#: a symptom's fact name (``sym_<symptom>``), by the symptom
_SYM_FACT = {s: f"sym_{s.value}" for s in Symptom}


def clinical_input(case: Case, cl: Clinical) -> dict[str, Any]:
    """Symptoms (``sym_*``), history (``hx_*``), patient, resection, SSTR imaging, gastrin,
    prior therapies and family history as facts (``cl``: the case's clinical section)."""
    ecog, age, tumours = case.patient.ecog, case.patient.age_years, case.tumour.number_of_tumours
    if cl == _EMPTY:
        # a section not given, or given with every field at its default (0.8 µs to compare,
        # 7.8 to reshape): every fact is what an empty section gives (worked out once,
        # :func:`_empty_section`), but the patient's and the tumour's, read from outside it
        f = dict(_empty_section())
        f["ecog"], f["age_years"], f["number_of_tumours"] = ecog, age, tumours
        return f
    return _section(cl, ecog, age, tumours)


_EMPTY = Clinical()


@cache
def _empty_section() -> dict[str, Any]:
    """:func:`clinical_input`'s facts for an empty clinical section (the patient's and the
    tumour's unknown), in its order; copied, never handed out."""
    return _section(_EMPTY, None, None, None)


def _section(
    cl: Clinical, ecog: int | None, age: int | None, tumours: int | None
) -> dict[str, Any]:
    """:func:`clinical_input` of section ``cl``, with the patient's ECOG and age and the
    tumour count."""
    f: dict[str, Any] = {_SYM_FACT[k]: v for k, v in cl.symptoms.items()}
    # every history item is a fact; not recorded = unknown
    f.update(zip(_HX_NAMES, map(cl.history.get, _HX_ITEMS), strict=True))
    f["symptoms_recorded"] = bool(cl.symptoms)
    f["zes_recorded"] = cl.history.get(History.zollinger_ellison_syndrome) is True
    # symptom combinations (carcinoid symptoms, the somatostatinoma triad) are fact tables
    f["renal_failure"] = cl.history.get(History.renal_failure)
    f["egfr_ml_min"] = cl.egfr_ml_min
    f["egfr"] = cl.egfr_ml_min
    f["echo_done"] = any(i.kind is InvestigationKind.echocardiography for i in cl.investigations)
    f["ecog"] = ecog
    f["age_years"] = age
    f["number_of_tumours"] = tumours
    f["carcinoid_heart_disease"] = cl.history.get(History.carcinoid_heart_disease)
    # a hereditary syndrome diagnosed clinically: one more route to the feature facts (the
    # tables); not recorded adds no route (false), so the feature rows decide as before
    for name, h in DX_FACTS.items():
        f[name] = cl.history.get(h) is True

    # resection of the primary: whether it is still in place is never assumed
    res = cl.resection
    f["resected"] = None if res is None else res.performed
    f["margin"] = res.margin.value if res is not None and res.performed and res.margin else None
    f["appendix_margin"] = (
        None if f["resected"] is None else f["margin"] if f["resected"] else "not_resected"
    )
    if res is None:
        f["resection_margin"] = None
    elif not res.performed:
        f["resection_margin"] = "not_resected"
    else:
        f["resection_margin"] = res.margin.value if res.margin else None
    f["primary_resectability"] = (
        cl.primary_resectability.value if cl.primary_resectability else None
    )
    f["resectability"] = f["primary_resectability"] or "not_recorded"

    # the most recent SSTR study (PET or SPECT)
    sstr = [i for i in cl.investigations if i.kind in SSTR_KINDS]
    if sstr:
        s = _latest_dated(sstr)
        f["sstr_reported"] = (
            "not_stated" if s.positive is None else "positive" if s.positive else "negative"
        )
        f["sstr_krenning_score"] = s.krenning_score
        f["sstr_all_lesions_positive"] = s.all_lesions_sstr_positive
    else:
        f["sstr_reported"] = f["sstr_krenning_score"] = f["sstr_all_lesions_positive"] = None

    # the most recent gastrin result, for the gastric NET type
    gastrin = [lab for lab in cl.labs if lab.analyte == "gastrin"]
    if gastrin:
        lab = _latest_dated(gastrin)
        f["gastrin_latest_on_ppi"] = bool(lab.context.on_ppi)
        f["gastrin_latest_xuln"] = (
            lab.value / lab.reference_high
            if lab.value is not None and lab.reference_high and lab.comparator is None
            else lab.times_uln
        )
    else:
        f["gastrin_latest_on_ppi"] = f["gastrin_latest_xuln"] = None

    _prior_therapies(cl, f)
    _family(cl, f)
    return f


def _progressed(outcomes: list[bool | None]) -> bool | None:
    """Progression on a therapy from its courses' outcomes: true when it progressed on one
    course of it, false when it did on none (or it was not given), unknown when a course's
    outcome is not recorded."""
    if True in outcomes:
        return True
    return None if None in outcomes else False


def _prior_therapies(cl: Clinical, f: dict[str, Any]) -> None:
    """Progression per therapy (``progressed_on_<therapy>``; which therapies count as systemic
    is a fact table: ``progressed_on_systemic``), and after platinum-etoposide, how long."""
    pts = cl.prior_therapies
    if pts is None:  # not recorded: every progression unknown
        f.update(_PROGRESSED_UNKNOWN)
        f["progressed_on_platinum"] = None
        f["platinum_months_to_progression"] = None
        f["progressed_therapies"] = frozenset()
        f["received_therapies"] = frozenset()
        return
    courses: dict[Therapy, list[bool | None]] = {}  # each therapy's courses' outcomes
    for p in pts:
        courses.setdefault(p.therapy, []).append(p.progressed)
    f.update(_PROGRESSED_NONE)  # a therapy not given: no progression on it (_progressed([]))
    for t, outcomes in courses.items():
        f[_PROGRESSED_NAME[t]] = _progressed(outcomes)
    f["progressed_on_platinum"] = f["progressed_on_platinum_etoposide"]
    if f["progressed_on_platinum"]:
        months = [
            p.months_to_progression
            for p in pts
            if p.therapy is Therapy.platinum_etoposide and p.progressed
        ]
        f["platinum_months_to_progression"] = (
            None if any(m is None for m in months) else max(m for m in months if m is not None)
        )
    else:
        f["platinum_months_to_progression"] = None
    f["progressed_therapies"] = frozenset(p.therapy.value for p in pts if p.progressed)
    f["received_therapies"] = frozenset(p.therapy.value for p in pts)


def _family(cl: Clinical, f: dict[str, Any]) -> None:
    """First-degree relatives: variants and findings as facts (which findings count towards
    MEN1, and how many make it, are fact tables; see :func:`first_degree_relatives`)."""
    fh = cl.family_history
    if fh is None:  # not recorded ([] states that there is none)
        for name in (
            "relative_variant",
            "relative_phpt",
            "relative_nen",
            "relative_men1_variant",
            "relative_men1_named",
        ):
            f[name] = None
        return
    first = [m for m in fh if m.relation is Relation.first_degree]
    f["relative_variant"] = any(m.pathogenic_variant_gene for m in first)
    f["relative_phpt"] = any(History.primary_hyperparathyroidism in m.findings for m in first)
    f["relative_nen"] = any_of(m.has_nen for m in first)
    f["relative_men1_named"] = any(History.men1_syndrome in m.findings for m in first)
    f["relative_men1_variant"] = any(
        (m.pathogenic_variant_gene or "").strip().upper() == "MEN1" for m in first
    )


def first_degree_relatives(cl: Clinical) -> tuple[dict[str, Any], ...] | None:
    """Each first-degree relative's findings as the inputs of the counting table of role
    ``relative_men1_major`` (``None``: the family history is not recorded; a finding not
    listed is absent, a NEN status not recorded is unknown)."""
    fh = cl.family_history
    if fh is None:
        return None
    return tuple(
        {
            "rel_primary_hyperparathyroidism": History.primary_hyperparathyroidism in m.findings,
            "rel_pituitary_adenoma": History.pituitary_adenoma in m.findings,
            "rel_has_nen": m.has_nen,
        }
        for m in fh
        if m.relation is Relation.first_degree
    )


def relative_genes(cl: Clinical) -> list[str]:
    out: list[str] = []
    for m in cl.family_history or ():
        gene = (m.pathogenic_variant_gene or "").strip().upper()
        if m.relation is Relation.first_degree and gene and gene not in out:
            out.append(gene)
    return out


def extra_input(case: Case, cl: Clinical, carriers: tuple[str, ...]) -> dict[str, Any]:
    """What the steps need from the case beyond the traced facts: the patient's variants
    (``carriers``, from :func:`germline_input`) and the relatives', genes already tested, the
    resection date and the tumour count (reshaped, no clinical threshold)."""
    resection = cl.resection
    return {
        "carriers": carriers,
        "relative_genes": tuple(relative_genes(cl)),
        "tested": FrozenDict({g.gene.value: g.result for g in cl.germline}),
        "resection_date": (
            resection.date if resection is not None and resection.performed else None
        ),
        "number_of_tumours": case.tumour.number_of_tumours,
    }


def carrier_input(ctx: Context, cl: Clinical) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The carrier facts and the genes carried: the patient's germline results, each decided by
    the package's carrier table (:func:`.case_items.germline_input`)."""
    return germline_input(ctx, cl.germline)


def done_input(ctx: Context, cl: Clinical) -> dict[str, str]:
    """What was already done (investigations, lab tests that count): the case's lists, decided
    by the package's tables (:func:`.case_items.done_tokens`)."""
    return done_tokens(ctx, cl.investigations, cl.labs)


def _catalogue(ctx: Context) -> AnalyteCatalogue:
    cat = getattr(ctx.kb, "analytes", None)
    if not isinstance(cat, AnalyteCatalogue):  # a configuration error, not a clinical outcome
        raise ValueError(f"knowledge package {ctx.kb.manifest.id} has no analyte catalogue")
    return cat


def _latest(labs: tuple[LabResult, ...]) -> dict[str, tuple[int, LabResult]]:
    """The latest result per analyte (by date; undated count as oldest; ties: the last listed)."""
    out: dict[str, tuple[int, LabResult]] = {}
    for i, lab in enumerate(labs):
        cur = out.get(lab.analyte)
        if cur is None or (lab.date or _MIN) >= (cur[1].date or _MIN):
            out[lab.analyte] = (i, lab)
    return out


def lab_input(ctx: Context, cl: Clinical) -> tuple[dict[str, Any], dict[str, int]]:
    """Facts from ``clinical.labs`` (canonical values, ULN multiples, sampling context) and the
    index of the result each analyte's facts came from. A result that cannot be converted is a
    CONFLICT naming its field; every conversion is noted in the trace."""
    from nenguide.model.assessment import IssueKind

    f: dict[str, Any] = {}
    index: dict[str, int] = {}
    labs = cl.labs
    if not labs:  # nothing to convert (a package without an analyte catalogue may run)
        return f, index
    cat = _catalogue(ctx)
    bad: set[int] = set()
    for i, lab in enumerate(labs):
        try:
            cat.convert(*lab_quantity(lab, cat), f"clinical.labs.{i}")
        except LabInputError as exc:
            bad.add(i)
            ctx.issue(
                _ERROR_CODES.get(exc.code, "LAB_VALUE_INVALID"),
                LAB_STEP,
                [exc.path],
                kind=IssueKind.conflict,
                received=str(exc.received),
                allowed=exc.allowed,
            )
    good = tuple(lab for i, lab in enumerate(labs) if i not in bad)
    positions = [i for i in range(len(labs)) if i not in bad]
    for code, (j, lab) in _latest(good).items():
        i = positions[j]
        index[code] = i
        f[f"{code}_measured"] = True
        c = lab.context
        f[f"{code}_on_ppi"] = c.on_ppi
        f[f"{code}_on_h2_blocker"] = c.on_h2_blocker
        f[f"{code}_fasting"] = c.fasting
        f[f"{code}_diet_restricted"] = c.diet_restricted
        f[f"{code}_supervised_fast"] = c.supervised_fast
        f[f"{code}_interfering_drugs"] = True if c.interfering_drugs else None
        if lab.value is not None:
            _lab_value(ctx, cat, f, code, i, lab)
        else:
            _lab_without_value(ctx, f, code, i, lab)
    return f, index


def _open_above(ctx: Context, fact: str, low: float, incl: bool, high: float | None) -> Any:
    """Candidate values of ``fact`` from ``low`` upwards (or below ``high``): a censored or
    qualitative result (engine/ranges.py)."""
    c = cuts(ctx.kb, fact)
    top = max([*c, low, high or 0, 1.0]) * 100
    iv = Interval(low, incl, top, True) if high is None else Interval(low, True, high, incl)
    return representatives(iv, c), iv.notation()


def _lab_value(
    ctx: Context, cat: AnalyteCatalogue, f: dict[str, Any], code: str, i: int, lab: LabResult
) -> None:
    """Facts of a result with a value (possibly censored: ``>1000``)."""
    from nenguide.model.assessment import IssueKind

    assert lab.value is not None and lab.unit is not None
    conv = cat.convert(lab.analyte, lab.value, lab.unit, f"clinical.labs.{i}")
    a = cat.analytes[code]
    vf = value_fact(code, a.canonical_unit)
    cmp = lab.comparator
    if a.kind == "qualitative":
        f[code] = "positive" if lab.value == 1 else "negative"
    elif cmp is None:
        f[vf] = conv.canonical_value
    else:  # censored: the value is a limit
        above = cmp in (">", ">=")
        incl = cmp in (">=", "<=")
        v = conv.canonical_value
        f[vf], f[f"{vf}_interval"] = (
            _open_above(ctx, vf, v, incl, None) if above else _open_above(ctx, vf, 0.0, incl, v)
        )
    xuln = lab.value / lab.reference_high if lab.reference_high else None
    if xuln is not None and cmp is not None:
        above = cmp in (">", ">=")
        incl = cmp in (">=", "<=")
        xf = f"{code}_xuln"
        f[xf], f[f"{xf}_interval"] = (
            _open_above(ctx, xf, xuln, incl, None) if above else _open_above(ctx, xf, 0, incl, xuln)
        )
    else:
        f[f"{code}_xuln"] = xuln
    f[f"{code}_below_reference_low"] = (
        lab.value < lab.reference_low if lab.reference_low is not None and cmp is None else None
    )
    shown = f"{cmp or ''}{lab.value:g}"
    conds = [
        f"{code} {shown} {lab.unit} = {cmp or ''}{conv.canonical_value:.4g} {a.canonical_unit}"
        f" ({conv.via})"
    ]
    if xuln is not None:
        conds.append(f"{code}_xuln = {shown} / ULN {lab.reference_high:g} = {cmp or ''}{xuln:.3g}")
    ctx.note(
        LAB_STEP,
        conv.canonical_value,
        {
            "field": f"clinical.labs.{i}",
            "analyte": code,
            "loinc": a.loinc,
            "value": lab.value,
            "comparator": cmp,
            "unit": lab.unit,
            "canonical_value": round(conv.canonical_value, 6),
            "canonical_unit": a.canonical_unit,
            "conversion": conv.via,
            "reference_high": lab.reference_high,
            "xuln": xuln,
        },
        conds,
    )
    lo, hi = a.plausible_min, a.plausible_max
    v = conv.canonical_value
    if (lo is not None and v < lo and cmp not in ("<", "<=")) or (
        hi is not None and v > hi and cmp not in (">", ">=")
    ):
        ctx.issue(
            "LAB_VALUE_IMPLAUSIBLE_FOR_UNIT",
            LAB_STEP,
            [f"clinical.labs.{i}.unit", f"clinical.labs.{i}.value"],
            kind=IssueKind.warning,
            analyte=a.names.en if ctx.lang == "en" else a.names.zh_CN,
            value=f"{lab.value:g}",
            unit=lab.unit,
            canonical=f"{v:.3g}",
            canonical_unit=a.canonical_unit,
            low=f"{lo:.10g}" if lo is not None else "-",
            high=f"{hi:.10g}" if hi is not None else "-",
        )


def _lab_without_value(ctx: Context, f: dict[str, Any], code: str, i: int, lab: LabResult) -> None:
    """Facts of a result without a value: a multiple of the ULN, or elevated/normal/low."""
    xf = f"{code}_xuln"
    if lab.times_uln is not None:
        f[xf] = lab.times_uln
        f[f"{code}_below_reference_low"] = None
        reported = f"{lab.times_uln:g} x ULN"
    else:
        interp = lab.interpretation
        if interp == "elevated":
            f[xf], f[f"{xf}_interval"] = _open_above(ctx, xf, 1.0, False, None)
            f[f"{code}_below_reference_low"] = False
        elif interp == "normal":
            f[xf], f[f"{xf}_interval"] = _open_above(ctx, xf, 0.0, True, 1.0)
            f[f"{code}_below_reference_low"] = False
        else:  # low
            f[xf], f[f"{xf}_interval"] = _open_above(ctx, xf, 0.0, False, 1.0)
            f[f"{code}_below_reference_low"] = True
        reported = str(interp)
    ctx.note(
        LAB_STEP,
        None,
        {"field": f"clinical.labs.{i}", "analyte": code, "reported": reported, "xuln": f[xf]},
        [f"{code}: {reported} (no value: its value in units stays unknown)"],
    )
