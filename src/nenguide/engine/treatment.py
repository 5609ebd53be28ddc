"""Treatment options with CSCO level, evidence, availability and the MDT-discussion flag
(issue 3 item 4), site parameters (item 7) and the gastric NET type from its cause.

Every clinical decision is a row of the ``treatment`` tables (``tables/treatment*.yaml``); the
step only derives the facts those tables read from the case and the earlier steps, routes the
case to the table of its primary site, and assembles the options from the option catalogue
(``options.yaml``). A rule that could apply but needs a missing input never *recommends* its
option. When every missing input is one the package lists as conditional (``pathway.yaml``,
``treatment.parameters.conditional_inputs``: fitness, prior lines), the option is shown with
``status: conditional`` and the conditions it waits on (``requires``); otherwise it is withheld
and an INSUFFICIENT_DATA issue names the missing case fields.

This module routes a case (setting, site, gastric type, an open setting); the step's other
parts: ``treatment_facts`` (the tables' view of the facts, the fields each comes from),
``treatment_offers`` (assembling the options of one setting), ``treatment_setting`` (merging
the options of an open setting), ``treatment_texts`` (the texts made once per package and
language), ``treatment_data`` (the option catalogue and site defaults).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from nenguide.engine.context import Context
from nenguide.engine.tables import evaluate_first
from nenguide.engine.treatment_data import effective_site
from nenguide.engine.treatment_facts import TX_FIELDS, derive_facts, fields_for
from nenguide.engine.treatment_offers import (
    Offers,
    build,
    insufficient,
    prior_lines,
    record_site,
)
from nenguide.engine.treatment_setting import NewEntries, merge_settings, setting_candidates
from nenguide.engine.treatment_texts import STEP, texts_for
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
from nenguide.model.frozen import FrozenDict, FrozenList, frozen_dict
from nenguide.model.site import SiteParameters

__all__ = [
    "DIRECT_READS",
    "STEP",
    "TEXT_READS",
    "TX_FIELDS",
    "derive_facts",
    "fields_for",
    "treatment",
]

NET_FAMILY = frozenset({"NET", "typical_carcinoid", "atypical_carcinoid"})

#: The facts of the step's view (:func:`derive_facts`) that its own Python reads, besides
#: its tables' inputs (a table's answer depends on those only) and :data:`TEXT_READS`: with
#: the answers of its tables, the classification's grades and whether a conflict was reported
#: before it, these decide everything the step gives but its texts (the options' codes,
#: order, status and availability, the MDT flag, the issues' codes, fields and rules, the
#: trace's rules). The batch shares the step's answer between cases on them
#: (:mod:`nenguide.batch.columnar.treatment`); tests/batch/test_columnar_treatment.py checks
#: that the step's modules read no other fact by name.
DIRECT_READS = (
    "category", "primary_site", "resected", "sstr_positive", "gastric_cause",
    "gastric_cause_rule", "gastric_type", "gastric_cause_missing", "nfpnet_policy",
    "progressed_therapies",
)  # fmt: skip
#: The facts the step's Python reads only for a text: an issue's message (the gastrin) or a
#: caveat (a therapy received before).
TEXT_READS = ("gastrin", "received_therapies", "ki67_percent_text", "size_cm_text")

#: MDT reasons raised by this module itself (rows name the others in ``then.mdt``).
MDT_DATA_CONFLICT = "DATA_CONFLICT"
MDT_GASTRIC_CAUSE_CONFLICT = "GASTRIC_CAUSE_CONFLICT"
MDT_NO_SITE_RULE = "NO_SITE_RULE"


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
    tx = texts_for(kb, ctx.lang)
    f = derive_facts(facts, liver, eff)
    w = Offers(ctx, f, tx.cat, tx, conditional_inputs=conditional_inputs(kb), cls=cls)
    if any(i["kind"] is IssueKind.conflict for i in ctx.issues):
        w.add_mdt(MDT_DATA_CONFLICT)
    for code in mdt_issues_before(kb, ctx.issues):
        w.add_mdt(code)

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
            fields_for(sorted(setting.missing) or ["met_status"], w.grade()),
            rule_id=ctx.table_id(STEP, "setting"),
        )
        return _open_setting(ctx, f, setting, eff, w)
    f["setting"] = setting.value
    options = _options(w, f, eff)
    return options, _mdt(w)


def _options(w: Offers, f: dict[str, Any], eff: SiteParameters) -> list[TreatmentOption]:
    """The options of one treatment setting (``f["setting"]``)."""
    ctx, category = w.ctx, f["category"]
    if local_route(f):
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

    prior_lines(w)
    insufficient(w)
    options = build(w, eff)
    record_site(w, eff, options)
    return options


def local_route(f: Mapping[str, Any]) -> bool:
    """Whether the options of the step's view ``f`` (its setting decided) include the table of
    the primary site (local treatment of a localised NET)."""
    return f["setting"] == "localised" and f["category"] in NET_FAMILY


def _open_setting(
    ctx: Context, f: dict[str, Any], setting: Any, eff: SiteParameters, w: Offers
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
    trace, issues = NewEntries(ctx.trace), NewEntries(ctx.issues)
    for value in setting_candidates(table, name, f.get(name)):
        fv = dict(f)
        fv[name] = value
        res = evaluate_first(table, fv)
        if res.decided and res.value == "unknown":
            continue  # the value that leaves the setting open (e.g. 'unknown' itself)
        if not res.decided or res.value is None:
            return [], _mdt(w)  # a candidate whose setting still needs other data
        fv["setting"] = res.value
        sub = Context(ctx.kb, ctx.lang, notes=ctx.notes)
        sw = Offers(
            sub, fv, w.cat, w.tx, conditional_inputs=w.conditional_inputs, mdt=list(w.mdt),
            cls=w.cls,
        )  # fmt: skip
        runs.append((value, _options(sw, fv, eff)))
        trace.add(sub.trace)
        issues.add(sub.issues)
        for reason in sw.mdt:
            w.add_mdt(reason)
    requirement = {
        value: cast(
            TreatmentRequirement,
            FrozenDict(
                field=path,
                fact=name,
                condition=ctx.text(f"treatment.setting_condition.{name}.{value}"),
            ),
        )
        for value, _ in runs
        for path in fields_for([name])[:1]
    }
    if len(runs) < 2:
        return [], _mdt(w)
    return merge_settings(runs, requirement), _mdt(w)


def open_setting_input(kb: Any) -> str | None:
    """The input whose being unknown may leave the treatment setting open with the options
    of each candidate setting shown (package data, checked by the lint), or None."""
    name = kb.pathway.steps[STEP].parameters.get("open_setting_input")
    return name if isinstance(name, str) else None


def mdt_issues(kb: Any) -> tuple[str, ...]:
    """The issue codes that, raised before the step, are MDT reasons of their own (package
    data, ``treatment.parameters.mdt_issues``, checked by the lint)."""
    return tuple(kb.pathway.steps[STEP].parameters.get("mdt_issues") or ())


def mdt_issues_before(kb: Any, issues: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The codes of :func:`mdt_issues` among ``issues``, in the package's order."""
    return mdt_codes_among(kb, {i["code"] for i in issues})


def mdt_codes_among(kb: Any, codes: Iterable[str]) -> tuple[str, ...]:
    """The codes of :func:`mdt_issues` among the issue codes ``codes``, in the package's
    order (the batch keys the step by them)."""
    raised = set(codes)
    return tuple(c for c in mdt_issues(kb) if c in raised)


def conditional_inputs(kb: Any) -> frozenset[str]:
    """The facts that may leave a settled option conditional (package data, checked by the
    lint): an option whose rule waits only on these is shown with its conditions."""
    params = kb.pathway.steps[STEP].parameters
    return frozenset(params.get("conditional_inputs") or ())


def _local(w: Offers, f: dict[str, Any]) -> None:
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


def _gastric_type(w: Offers, f: dict[str, Any]) -> bool:
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
            fields_for(missing, w.grade()),
            rule_id=w.ctx.table_id("facts", "gastric_cause"),
            needs=tuple(fields_for(missing, w.grade())),
        )
        return False
    return True


def _mdt(w: Offers) -> MdtDiscussion:
    return frozen_dict(MdtDiscussion(required=bool(w.mdt), reasons=FrozenList(w.mdt)))
