"""The treatment step's view of the facts (:func:`derive_facts`) and the case fields each of
them comes from (:data:`TX_FIELDS`, for the issues that name what is missing)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from nenguide.engine import ranges
from nenguide.engine.logic import OneOf
from nenguide.engine.pathway import TX_SYNDROMES
from nenguide.model.assessment import LiverMetastasis
from nenguide.model.site import SiteParameters

#: Fact -> the case field(s) it comes from (for issues naming what is missing).
TX_FIELDS: dict[str, tuple[str, ...]] = {
    "category": ("pathology",),
    "grade": ("pathology.ki67_percent", "pathology.mitoses_per_2mm2"),
    "primary_site": ("tumour.primary_site",),
    "size_cm": ("tumour.size_cm",),
    "nfpnet_small": ("tumour.size_cm",),
    "extent": ("tumour.extent",),
    "ki67_percent": ("pathology.ki67_percent",),
    "nodes": ("regional_nodes.status",),
    "met_status": ("metastases.status",),
    "resectability": ("clinical.primary_resectability",),
    "resected": ("clinical.resection",),
    "margin": ("clinical.resection.margin",),
    "appendix_margin": ("clinical.resection.margin",),
    "liver_mets": ("metastases.liver",),
    "liver_only": ("metastases.liver", "metastases.extrahepatic"),
    "extrahepatic": ("metastases.extrahepatic",),
    "liver_type": ("metastases.liver",),
    "ecog": ("patient.ecog",),
    "egfr": ("clinical.egfr_ml_min",),
    "renal_failure": ("clinical.history.renal_failure",),
    "sstr_positive": ("clinical.investigations (SSTR imaging)",),
    "prrt_uptake_ok": (
        "clinical.investigations.krenning_score",
        "clinical.investigations.all_lesions_sstr_positive",
    ),
    "progressed_on_platinum": ("clinical.prior_therapies",),
    "platinum_months_to_progression": ("clinical.prior_therapies.months_to_progression",),
    "progressed_on_systemic": ("clinical.prior_therapies",),
    "progressed_on_ssa": ("clinical.prior_therapies",),
    "sym_diarrhoea_refractory_on_ssa": ("clinical.symptoms.diarrhoea_refractory_on_ssa",),
    "confirmed_carcinoid_syndrome": ("functional_syndromes (carcinoid_syndrome)",),
    "confirmed_gastrinoma": ("functional_syndromes (gastrinoma)",),
    "carcinoid_heart_disease": ("clinical.history.carcinoid_heart_disease",),
    "aag": ("clinical.history.autoimmune_atrophic_gastritis",),
    "zes": ("clinical.history.zollinger_ellison_syndrome", "functional_syndromes (gastrinoma)"),
    "zes_cause": (
        "clinical.history.zollinger_ellison_syndrome",
        "functional_syndromes (gastrinoma)",
    ),
    "gastrin": ("clinical.labs (gastrin, off PPI, with reference range)",),
    "functional": ("functional_syndromes", "clinical.symptoms"),
    **{n: (f"functional_syndromes ({n})",) for n in (
        "carcinoid_syndrome", "insulinoma", "gastrinoma", "vipoma", "glucagonoma",
        "somatostatinoma", "ectopic_acth", "other_syndrome",
    )},
}  # fmt: skip


def fields_for(facts: Iterable[str], grade: Sequence[str] | None = None) -> list[str]:
    """The case fields ``facts`` come from, each once, in order; ``grade``: the fields the
    grade waits on for this case (:func:`~nenguide.engine.context.grade_fields`; default:
    both indices)."""
    get = TX_FIELDS.get
    out: list[str] = []
    for f in facts:
        out += grade if f == "grade" and grade is not None else get(f, (f,))
    return list(dict.fromkeys(out)) if len(out) > 1 else out


#: numbers of the view a report may give as a range: their ``*_text`` shows it as written
REPORTED_TEXTS = ("ki67_percent", "size_cm")

#: facts of the fact layer the treatment tables read under the same name
SHARED = (
    "category", "grade", "primary_site", "size_cm", "extent", "ki67_percent", "met_status",
    "ecog", "egfr", "renal_failure", "resectability", "resected", "margin", "appendix_margin",
    "sstr_positive", "functional", "zes", "other_syndrome", "aag", "zes_cause", "gastrin",
    "gastric_type", "gastric_cause", "gastric_cause_rule", "gastric_cause_missing",
    "progressed_on_platinum", "platinum_months_to_progression",
    "progressed_on_systemic", "progressed_therapies", "received_therapies", *TX_SYNDROMES,
    # issue 8 §3: line of therapy, syndromes confirmed (not only suspected), telotristat, CHD
    "progressed_on_ssa", "confirmed_carcinoid_syndrome", "confirmed_gastrinoma",
    "sym_diarrhoea_refractory_on_ssa", "carcinoid_heart_disease",
)  # fmt: skip


#: the facts :func:`derive_facts` reads, beyond :data:`SHARED`, for the facts it derives
#: itself (the node status read, the metastases, PRRT uptake); with ``sstr_positive`` and
#: ``size_cm`` (and ``size_cm_interval`` for a size reported as a range) of :data:`SHARED`
DERIVED_READS = (
    "node_status", "liver_mets", "extrahepatic_mets", "sstr_krenning_score",
    "sstr_all_lesions_positive", "sstr_positive", "size_cm", "size_cm_interval",
)  # fmt: skip


def derive_facts(
    facts: Mapping[str, Any], liver: LiverMetastasis, site: SiteParameters
) -> dict[str, Any]:
    """The treatment tables' view of the facts, plus the facts that compare the case with the
    site parameters (data, not clinical thresholds in code)."""
    get = facts.get
    f: dict[str, Any] = {name: get(name) for name in SHARED}
    f["liver_type"] = liver.type
    for name in REPORTED_TEXTS:  # a number reported as a range reads as reported (a text)
        if type(f[name]) is OneOf:
            f[f"{name}_text"] = get(f"{name}_text")
    ns = facts.get("node_status")
    f["nodes"] = ns if ns in ("positive", "negative") else None
    lm, eh = facts.get("liver_mets"), facts.get("extrahepatic_mets")
    f["liver_mets"], f["extrahepatic"] = lm, eh
    f["liver_only"] = None if lm is None or eh is None else bool(lm and not eh)
    # PRRT uptake against the site's minimum Krenning score
    krenning = facts.get("sstr_krenning_score")
    uptake: bool | None = None
    if f["sstr_positive"] is False:
        uptake = False
    elif krenning is not None and site.prrt_krenning_min is not None:
        meets = krenning >= site.prrt_krenning_min
        if not meets or facts.get("sstr_all_lesions_positive") is False:
            uptake = False
        elif facts.get("sstr_all_lesions_positive") is True:
            uptake = True
    f["prrt_uptake_ok"] = uptake
    # small non-functional pNET boundary (site parameter)
    size = f["size_cm"]
    bound = site.nfpnet_boundary_cm
    if size is None or bound is None:
        f["nfpnet_small"] = None
    else:
        # a size reported as a range decides only when the whole range is on one side
        op = "le" if site.nfpnet_boundary_inclusive else "lt"
        f["nfpnet_small"] = ranges.holds(facts, "size_cm", op, bound)
    f["nfpnet_policy"] = site.nfpnet_small_default
    return f
