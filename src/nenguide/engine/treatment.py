"""Treatment options with CSCO level, evidence, availability and the MDT-discussion flag
(issue 3 item 4), site parameters (item 7) and the gastric NET type from its cause.

Every clinical decision is a row of the ``treatment`` tables (``tables/treatment*.yaml``); this
module only derives the facts those tables read from the case and the earlier steps, routes the
case to the table of its primary site, and assembles the options from the option catalogue
(``options.yaml``). A rule that could apply but needs a missing input never *recommends* its
option. When every missing input is one the package lists as conditional (``pathway.yaml``,
``treatment.parameters.conditional_inputs``: fitness, prior lines), the option is shown with
``status: conditional`` and the conditions it waits on (``requires``); otherwise it is withheld
and an INSUFFICIENT_DATA issue names the missing case fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nenguide.engine import ranges
from nenguide.engine.context import Context, jsonable
from nenguide.engine.pathway import TX_SYNDROMES
from nenguide.engine.tables import CollectResult, Row, evaluate_collect, evaluate_first
from nenguide.engine.treatment_data import OptionSpec, catalogue, effective_site, option_codes
from nenguide.engine.treatment_setting import merge_settings, setting_candidates
from nenguide.model.assessment import (
    Classification,
    FunctionalSyndrome,
    IssueKind,
    LiverMetastasis,
    MdtDiscussion,
    Stage,
    TreatmentOption,
    TreatmentRequirement,
)
from nenguide.model.case import Case
from nenguide.model.site import SiteParameters

STEP = "treatment"


NET_FAMILY = frozenset({"NET", "typical_carcinoid", "atypical_carcinoid"})

#: MDT reasons raised by this module itself (rows name the others in ``then.mdt``).
MDT_DATA_CONFLICT = "DATA_CONFLICT"
MDT_GASTRIC_CAUSE_CONFLICT = "GASTRIC_CAUSE_CONFLICT"
MDT_NO_SITE_RULE = "NO_SITE_RULE"

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


def fields_for(facts: Iterable[str]) -> list[str]:
    out: list[str] = []
    for f in facts:
        for p in TX_FIELDS.get(f, (f,)):
            if p not in out:
                out.append(p)
    return out


# --- facts ---------------------------------------------------------------------------------

#: facts of the fact layer the treatment tables read under the same name
_SHARED = (
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


def derive_facts(
    facts: Mapping[str, Any], liver: LiverMetastasis, site: SiteParameters
) -> dict[str, Any]:
    """The treatment tables' view of the facts, plus the facts that compare the case with the
    site parameters (data, not clinical thresholds in code)."""
    f: dict[str, Any] = {k: facts.get(k) for k in _SHARED}
    f["liver_type"] = liver.type
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


# --- assembling options ---------------------------------------------------------------------


@dataclass
class _Offer:
    code: str
    rule_id: str
    because: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    conditional: list[TreatmentRequirement] = field(default_factory=list)


@dataclass
class _Work:
    ctx: Context
    facts: dict[str, Any]
    cat: dict[str, OptionSpec]
    offers: dict[str, _Offer] = field(default_factory=dict)
    maybe: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # code -> rule, facts
    # code -> the first rule that would offer it once only conditional inputs are known
    conditional: dict[str, tuple[Row, list[str]]] = field(default_factory=dict)
    conditional_inputs: frozenset[str] = frozenset()
    mdt: list[str] = field(default_factory=list)

    def because(self, row: Row) -> list[str]:
        out = []
        for c in row.conditions:
            v = self.facts.get(c.fact)
            out.append(
                self.ctx.text(
                    "treatment.because", label=self._label(c.fact), value=self._value(c.fact, v)
                )
            )
        return out

    def _label(self, fact: str) -> str:
        return self.ctx.text(f"treatment.fact.{fact}")

    def _value(self, fact: str, v: Any) -> str:
        if isinstance(v, bool):
            return self.ctx.text(f"treatment.value.{str(v).lower()}")
        if isinstance(v, float):
            return f"{v:g}"
        # a value without a text of its own is shown as recorded (a code, not a text key)
        return self.ctx.kb.catalog.get(self.ctx.lang, f"treatment.value.{fact}.{v}") or str(v)

    def offer(self, row: Row) -> None:
        codes = option_codes(row.then)
        preferred = (row.then.get("site_default") or {}).get(self.facts.get("nfpnet_policy"))
        if preferred in codes:
            # the site's default branch is listed first (e.g. small NF-pNET: surgery first)
            codes = [preferred, *(c for c in codes if c != preferred)]
        for code in codes:
            o = self.offers.get(code)
            if o is None:
                o = self.offers[code] = _Offer(code, row.id)
            for b in self.because(row):
                if b not in o.because:
                    o.because.append(b)
            for s in row.sources:
                if s not in o.sources:
                    o.sources.append(s)
            if code == preferred:
                o.caveats.append(
                    self.ctx.text(
                        "treatment.caveat.SITE_DEFAULT", policy=self.facts["nfpnet_policy"]
                    )
                )
        reason = row.then.get("mdt")
        if reason:
            self.add_mdt(reason)

    def add_mdt(self, reason: str) -> None:
        if reason not in self.mdt:
            self.mdt.append(reason)

    def collect(self, table_id: str) -> None:
        res = self.ctx.collect(STEP, table_id, self.facts)
        for row in res.applies:
            self.offer(row)
        for row, unknown in res.maybe:
            settled = bool(unknown) and set(unknown) <= self.conditional_inputs
            for code in option_codes(row.then):
                self.maybe.setdefault(code, (row.id, list(unknown)))
                if settled:
                    self.conditional.setdefault(code, (row, sorted(unknown)))

    def first(self, table_id: str, withheld_for: list[str] | None = None) -> None:
        """The first-hit table's option; withheld (reported as needing ``withheld_for``) when
        a fact the routing depends on is unknown."""
        res = self.ctx.first(STEP, table_id, self.facts)
        if res.decided and res.rows:
            if withheld_for:
                for code in option_codes(res.rows[0].then):
                    self.maybe.setdefault(code, (res.rows[0].id, withheld_for))
            else:
                self.offer(res.rows[0])
            return
        possible = res.value.sorted() if hasattr(res.value, "sorted") else [res.value]
        self.ctx.issue(
            "TX_NEEDS_DATA",
            STEP,
            fields_for(sorted(res.missing)),
            rule_id=table_id,
            options=tuple(self._name(p) for p in possible if p),
            needs=tuple(fields_for(sorted(res.missing))),
        )

    def _name(self, code: str) -> str:
        spec = self.cat.get(code)
        return spec.text.get(self.ctx.lang) or spec.text["en"] if spec else code


def treatment(
    ctx: Context,
    case: Case,
    facts: Mapping[str, Any],
    cls: Classification,
    stg: Stage,
    liver: LiverMetastasis,
    syndromes: list[FunctionalSyndrome],
    site: SiteParameters | None,
) -> tuple[list[TreatmentOption], MdtDiscussion | None]:
    kb = ctx.kb
    eff = effective_site(kb, site)
    cat = catalogue(kb)
    f = derive_facts(facts, liver, eff)
    w = _Work(ctx, f, cat, conditional_inputs=conditional_inputs(kb))
    if any(i["kind"] is IssueKind.conflict for i in ctx.issues):
        w.add_mdt(MDT_DATA_CONFLICT)

    category = f["category"]
    if category is None:
        ctx.issue(
            "TX_NEEDS_CLASSIFICATION",
            STEP,
            ["pathology"],
        )
        return [], _mdt(w)
    setting = ctx.first(STEP, ctx.table_id(STEP, "setting"), f)
    if not setting.decided or setting.value == "unknown":
        ctx.issue(
            "TX_SETTING_NEEDS_DATA",
            STEP,
            fields_for(sorted(setting.missing) or ["met_status"]),
            rule_id=ctx.table_id(STEP, "setting"),
        )
        return _open_setting(ctx, f, setting, eff, w)
    f["setting"] = setting.value
    options = _options(w, f, eff)
    return options, _mdt(w)


def _options(w: _Work, f: dict[str, Any], eff: SiteParameters) -> list[TreatmentOption]:
    """The options of one treatment setting (``f["setting"]``)."""
    ctx, category = w.ctx, f["category"]
    if f["setting"] == "localised" and category in NET_FAMILY:
        _local(w, f)
    for t in ctx.kb.pathway.tables(STEP, "collect"):
        w.collect(t)
    if (
        f["sstr_positive"] is False
        and category in NET_FAMILY
        and f["setting"] in ("locally_advanced", "metastatic")
    ):
        ctx.issue(
            "TX_SSTR_NEGATIVE",
            STEP,
            ["clinical.investigations"],
        )

    _prior_lines(w)
    _insufficient(w)
    options = _build(w, eff)
    _record_site(ctx, eff, options)
    return options


def _open_setting(
    ctx: Context, f: dict[str, Any], setting: Any, eff: SiteParameters, w: _Work
) -> tuple[list[TreatmentOption], MdtDiscussion | None]:
    """The setting is open only because the package's ``open_setting_input`` (pathway.yaml,
    e.g. the metastasis status) is unknown: the options of every setting it may lead to are
    assembled, each in a context of its own, and merged (:func:`merge_settings`): an option
    every candidate setting gives alike stays as it is, any other is conditional on that input.
    Any other missing input withholds every option, as before."""
    name = open_setting_input(ctx.kb)
    table = ctx.kb.tables[ctx.table_id(STEP, "setting")]
    missing = set(setting.missing)
    if name is None or not missing <= {name} or (not missing and f.get(name) != "unknown"):
        return [], _mdt(w)
    runs: list[tuple[str, list[TreatmentOption]]] = []
    trace_index: dict[Any, list[Any]] = {}
    issue_index: dict[Any, list[Any]] = {}
    for value in setting_candidates(table, name, f.get(name)):
        fv = dict(f, **{name: value})
        res = evaluate_first(table, fv)
        if res.decided and res.value == "unknown":
            continue  # the value that leaves the setting open (e.g. 'unknown' itself)
        if not res.decided or res.value is None:
            return [], _mdt(w)  # a candidate whose setting still needs other data
        fv["setting"] = res.value
        sub = Context(ctx.kb, ctx.lang)
        sw = _Work(sub, fv, w.cat, conditional_inputs=w.conditional_inputs, mdt=list(w.mdt))
        runs.append((value, _options(sw, fv, eff)))
        _append_new(ctx.trace, sub.trace, trace_index, _trace_key)
        _append_new(ctx.issues, sub.issues, issue_index, _issue_key)
        for reason in sw.mdt:
            w.add_mdt(reason)
    requirement = {
        value: TreatmentRequirement(
            field=path,
            fact=name,
            condition=ctx.text(f"treatment.setting_condition.{name}.{value}"),
        )
        for value, _ in runs
        for path in fields_for([name])[:1]
    }
    if len(runs) < 2:
        return [], _mdt(w)
    return merge_settings(runs, requirement), _mdt(w)


def _trace_key(item: Any) -> Any:
    return (item.get("step"), item.get("table")) if isinstance(item, dict) else type(item)


def _issue_key(item: Any) -> Any:
    return (item.get("code"), item.get("step")) if isinstance(item, dict) else type(item)


def _append_new(dst: list[Any], items: list[Any], index: dict[Any, list[Any]], key: Any) -> None:
    """Append each of ``items`` not already in ``dst`` (equality, order kept), comparing it
    only with the entries of its own bucket (``key``) instead of the whole list. ``index``
    holds the buckets across calls; it is filled from ``dst`` on first use."""
    if not index and dst:
        for x in dst:
            index.setdefault(key(x), []).append(x)
    for x in items:
        bucket = index.setdefault(key(x), [])
        if x not in bucket:
            bucket.append(x)
            dst.append(x)


def open_setting_input(kb: Any) -> str | None:
    """The input whose being unknown may leave the treatment setting open with the options
    of each candidate setting shown (package data, checked by the lint), or None."""
    name = kb.pathway.steps[STEP].parameters.get("open_setting_input")
    return name if isinstance(name, str) else None


def conditional_inputs(kb: Any) -> frozenset[str]:
    """The facts that may leave a settled option conditional (package data, checked by the
    lint): an option whose rule waits only on these is shown with its conditions."""
    params = kb.pathway.steps[STEP].parameters
    return frozenset(params.get("conditional_inputs") or ())


def _local(w: _Work, f: dict[str, Any]) -> None:
    site = f["primary_site"]
    table = w.ctx.kb.pathway.site_table(STEP, site)
    if table is None:
        w.ctx.issue(
            "TX_NO_SITE_RULE",
            STEP,
            ["tumour.primary_site"],
            site=site,
        )
        w.add_mdt(MDT_NO_SITE_RULE)
        return
    if f["resected"] and site != "appendix":
        return  # after resection: the 'collect' tables' resected rows
    if site == "stomach" and not _gastric_type(w, f):
        return
    unknown = f["resected"] is None and site != "appendix"
    w.first(table, withheld_for=["resected"] if unknown else None)


def _gastric_type(w: _Work, f: dict[str, Any]) -> bool:
    """The gastric NET type decided once by the fact layer (a contradictory cause was reported
    there, once); local treatment needs it established."""
    cause = f.get("gastric_cause")
    rule = f.get("gastric_cause_rule") or w.ctx.table_id("facts", "gastric_cause")
    if cause == "conflict":
        w.add_mdt(MDT_GASTRIC_CAUSE_CONFLICT)
        return False
    if cause == "unexplained":
        w.ctx.issue(
            "TX_GASTRIC_GASTRIN_UNEXPLAINED",
            STEP,
            fields_for(["gastrin"]),
            rule_id=rule,
            gastrin=f["gastrin"],
        )
        return False
    if f.get("gastric_type") not in ("type1", "type2", "type3"):
        missing = list(f.get("gastric_cause_missing") or ())
        w.ctx.issue(
            "TX_GASTRIC_TYPE_NEEDS_DATA",
            STEP,
            fields_for(missing),
            rule_id=w.ctx.table_id("facts", "gastric_cause"),
            needs=tuple(fields_for(missing)),
        )
        return False
    return True


def _prior_lines(w: _Work) -> None:
    """Options already failed (progression on them) are not offered again as if new."""
    failed: frozenset[str] = w.facts["progressed_therapies"]
    received: frozenset[str] = w.facts["received_therapies"]
    for code in list(w.offers):
        therapy = w.cat[code].therapy
        if therapy is None:
            continue
        if therapy in failed:
            del w.offers[code]
            w.ctx.issue(
                "TX_OPTION_ALREADY_FAILED",
                STEP,
                ["clinical.prior_therapies"],
                option=w._name(code),
                therapy=therapy,
            )
        elif therapy in received:
            w.offers[code].caveats.append(
                w.ctx.text("treatment.caveat.PRIOR_THERAPY_RECEIVED", therapy=therapy)
            )


def _insufficient(w: _Work) -> None:
    """Options a rule would offer if the missing inputs allowed: conditional (with an issue
    naming the inputs they wait on) when only conditional inputs are missing, else withheld,
    with an issue."""
    failed: frozenset[str] = w.facts["progressed_therapies"]
    for code in list(w.conditional):
        therapy = w.cat[code].therapy
        if code in w.offers or (therapy is not None and therapy in failed):
            del w.conditional[code]
    _issue_per_fields(
        w,
        "TX_OPTION_CONDITIONAL",
        ((code, row.id, unknown) for code, (row, unknown) in w.conditional.items()),
    )
    _issue_per_fields(
        w,
        "TX_NEEDS_DATA",
        (
            (code, rule, unknown)
            for code, (rule, unknown) in w.maybe.items()
            if code not in w.offers and code not in w.conditional
        ),
    )


def _build(w: _Work, site: SiteParameters) -> list[TreatmentOption]:
    ctx = w.ctx
    for code, (row, unknown) in w.conditional.items():
        o = w.offers[code] = _Offer(code, row.id, conditional=_requires(w, row, unknown))
        known = zip(w.because(row), row.conditions, strict=True)
        o.because = [b for b, c in known if c.fact not in unknown]
        o.sources = list(row.sources)
    offered = {code: w.cat[code] for code in w.offers}
    _caveats(w, offered)
    out: list[TreatmentOption] = []
    for code, offer in w.offers.items():
        spec = w.cat[code]
        caveats = list(offer.caveats)
        caveats += [ctx.text(f"treatment.caveat.{c}") for c in spec.caveats]
        available = True
        unconfirmed: list[str] = []
        for item in spec.requires:
            a = site.availability(item)
            if a is False:
                available = False
            elif a is None:
                unconfirmed.append(item)
            info = site.items.get(item)
            if a is not False and info is not None and info.reimbursed is False:
                caveats.append(ctx.text("treatment.caveat.NOT_REIMBURSED", item=item))
        if not available:
            caveats.append(
                ctx.text(
                    "treatment.caveat.UNAVAILABLE",
                    site=site.name or "",
                    items=", ".join(i for i in spec.requires if site.availability(i) is False),
                )
            )
        elif unconfirmed:
            caveats.append(
                ctx.text("treatment.caveat.AVAILABILITY_UNCONFIRMED", items=", ".join(unconfirmed))
            )
        sources = list(spec.sources)
        sources += [s for s in offer.sources if s not in sources]
        out.append(
            TreatmentOption(
                code=code,
                text=spec.text.get(ctx.lang) or spec.text["en"],
                category=spec.category,
                intent=spec.intent,
                level=spec.level,
                level_status=spec.level_status,
                evidence=spec.evidence,
                available=available,
                alternative=None if available else spec.alternative,
                sources=sources,
                rule_id=offer.rule_id,
                because=offer.because,
                caveats=_unique(caveats),
                status="conditional" if offer.conditional else "recommended",
                requires=list(offer.conditional),
            )
        )
    # recommended options first, then the conditional ones (each group in rule order)
    out.sort(key=lambda o: o["status"] == "conditional")
    return out


def _issue_per_fields(
    w: _Work, code: str, options: Iterable[tuple[str, str, Iterable[str]]]
) -> None:
    """One ``code`` issue per set of case fields the options wait on, naming those options and
    the first one's rule (``options``: option code, rule id, the facts it waits on)."""
    groups: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for option, rule, unknown in options:
        groups.setdefault(tuple(fields_for(unknown)), []).append((option, rule))
    for flds, items in groups.items():
        w.ctx.issue(
            code,
            STEP,
            list(flds),
            rule_id=items[0][1],
            options=tuple(w._name(c) for c, _ in items),
            needs=flds,
        )


def _requires(w: _Work, row: Row, unknown: list[str]) -> list[TreatmentRequirement]:
    """The conditions of ``row`` on the inputs still unknown, as field path and text."""
    out: list[TreatmentRequirement] = []
    for c in row.conditions:
        if c.fact not in unknown:
            continue
        cond = w.ctx.text(
            "treatment.requires", label=w._label(c.fact), condition=_condition_text(w, c)
        )
        for path in fields_for([c.fact]):
            out.append(TreatmentRequirement(field=path, fact=c.fact, condition=cond))
    return out


def _condition_text(w: _Work, c: Any) -> str:
    """A row condition in words: bounds as symbols, values by their texts."""
    spec = c.spec
    if isinstance(spec, dict) and set(spec) <= {"gt", "ge", "lt", "le"}:
        sym = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}
        ops = [op for op in ("gt", "ge", "lt", "le") if op in spec]
        return " & ".join(f"{sym[op]} {float(spec[op]):g}" for op in ops)
    if isinstance(spec, dict) and "not_in" in spec:
        vals = ", ".join(w._value(c.fact, v) for v in spec["not_in"])
        return w.ctx.text("treatment.requires_not", values=vals)
    if isinstance(spec, dict):
        spec = spec.get("in", spec.get("eq"))
    if isinstance(spec, list):
        return ", ".join(w._value(c.fact, v) for v in spec)
    return w._value(c.fact, spec)


def _caveats(w: _Work, offered: dict[str, OptionSpec]) -> None:
    """Caveat rules that concern an offered option (traced when they do)."""
    ctx = w.ctx
    table = ctx.kb.tables[ctx.table_id(STEP, "caveats")]
    res = evaluate_collect(table, w.facts)
    relevant: list[Row] = []
    for row in res.applies:
        targets = [
            code
            for code, spec in offered.items()
            if any(a == code or a == f"category:{spec.category}" for a in row.then["applies_to"])
        ]
        if not targets:
            continue
        relevant.append(row)
        text = ctx.text(f"treatment.caveat.{row.then['caveat']}")
        for code in targets:
            if text not in w.offers[code].caveats:
                w.offers[code].caveats.append(text)
    # traced always (every table consulted), with the rows that concern an offered option
    ctx.record_collect(STEP, CollectResult(table, tuple(relevant), (), res.read))


def _record_site(ctx: Context, site: SiteParameters, options: list[TreatmentOption]) -> None:
    cat = catalogue(ctx.kb)
    items = sorted({i for o in options for i in cat[o["code"]].requires})
    ctx.note(
        STEP,
        {
            "site_parameters": site.name,
            "prrt_krenning_min": site.prrt_krenning_min,
            "nfpnet_boundary_cm": site.nfpnet_boundary_cm,
            "nfpnet_boundary_inclusive": site.nfpnet_boundary_inclusive,
            "nfpnet_small_default": site.nfpnet_small_default,
        },
        {f"available.{i}": jsonable(site.availability(i)) for i in items},
        [f"site parameters: {site.name}"],
    )


def _mdt(w: _Work) -> MdtDiscussion:
    return MdtDiscussion(required=bool(w.mdt), reasons=list(w.mdt))


def _unique(items: list[str]) -> list[str]:
    out: list[str] = []
    for i in items:
        if i not in out:
            out.append(i)
    return out
