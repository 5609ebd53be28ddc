"""Hereditary syndromes: who needs genetic counselling and germline testing, which syndromes are
suspected, which genes to test, and surveillance advice for known carriers (issue 3, item 6).

The triggers are rows of the collect table of role ``triggers``: one true row is enough to
recommend counselling and testing. Facts are derived here from the case, three-valued: a finding
that is not recorded is ``None``, never ``False``. When no row is true but some row could be once
the missing inputs are known, the result is INSUFFICIENT_DATA with an issue naming those fields
("testing not recommended" is never concluded from missing data). Known carriers get the
surveillance rows of the table of role ``surveillance``.

The output is language-independent: ``because`` and ``surveillance`` hold the rules' own
explanations (``when_text``) with the values read, parallel to ``rule_ids``; the texts of every
rule in each language are the i18n keys ``hereditary.rule.<RULE_ID>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nenguide.engine.context import DX_FACTS, Context
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.tables import Row, Table, evaluate_collect
from nenguide.model.assessment import (
    Classification,
    FunctionalSyndrome,
    Hereditary,
    Status,
)
from nenguide.model.case import Case
from nenguide.model.clinical import History
from nenguide.model.frozen import FrozenDict, FrozenList, frozen_dict

STEP = "hereditary"

_FAMILY = "clinical.family_history"


def _hist_field(h: History) -> str:
    return f"clinical.history.{h.value}"


#: hereditary table input -> the fact-layer fact it reads (same name unless listed)
_RENAMED = {
    "gastrinoma": "hered_gastrinoma",
    "phpt": "hx_primary_hyperparathyroidism",
    "mtc": "hx_medullary_thyroid_carcinoma",
    "pheo": "hx_pheochromocytoma_paraganglioma",
}
#: fact -> the case fields that decide it (asked for when it is unknown)
_FIELDS: dict[str, tuple[str, ...]] = {
    "well_differentiated": ("pathology.differentiation",),
    "age_years": ("patient.age_years",),
    "number_of_tumours": ("tumour.number_of_tumours",),
    "gastrinoma": (_hist_field(History.zollinger_ellison_syndrome),),
    "carrier": ("clinical.germline",),
    **{n: (_FAMILY,) for n in ("relative_men1", "relative_phpt", "relative_variant",
                               "relative_nen")},
}  # fmt: skip


#: the inputs of the hereditary tables, each read from the fact of the same name (or the one
#: in _RENAMED)
_TABLE_INPUTS = (
    "site_group", "well_differentiated", "age_years", "number_of_tumours", "men1_major_count",
    "phpt", "gastrinoma", "atrophic_gastritis", "vhl_feature", "nf1_stigmata", "tsc_feature",
    "mtc", "pheo", "relative_men1", "relative_phpt", "relative_variant", "relative_nen",
    "carrier", "hx_cns_haemangioblastoma", "hx_retinal_haemangioblastoma",
    "hx_clear_cell_renal_cell_carcinoma",
)  # fmt: skip
#: each input of the hereditary tables and the fact it is read from (the columns read them too)
SOURCES = tuple((n, _RENAMED.get(n, n)) for n in _TABLE_INPUTS)


def derive_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The hereditary tables' view of the facts (all derived once by the fact layer)."""
    get = facts.get
    return {n: get(src) for n, src in SOURCES}


def fields_of_input(facts: Mapping[str, Any], kb: Knowledge, name: str) -> list[str]:
    """The case fields behind input ``name`` of the hereditary tables, asked for when it is
    unknown (only then: it may evaluate the MEN1 counting table)."""
    return _fields_by_plan(_input_fields(kb), facts, kb, name)


def missing_fields_reads(kb: Knowledge) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What :func:`missing_fields` reads of the facts, for the columnar batch, which must know
    when two cases get the same answer from it: ``(known, values)``, the facts it reads only
    as known or unknown (those behind the hereditary tables' inputs, through
    :data:`SOURCES`, and the inputs of the fact tables it names), and those whose values it
    reads (the inputs of the counting table it evaluates). Package data, from the same plan
    :func:`missing_fields` follows."""
    known = {src for _, src in SOURCES}
    values: set[str] = set()
    for kind, arg in _input_fields(kb).values():
        if kind == "table":
            known.update(inp for inp, _ in arg)
        elif kind == "count":
            table_id = kb.pathway.optional_table("facts", arg)
            if table_id is not None:
                values.update(kb.tables[table_id].spec.inputs)
    return tuple(sorted(known)), tuple(sorted(values))


def missing_fields(facts: Mapping[str, Any], kb: Knowledge, names: Iterable[str]) -> list[str]:
    """The case fields behind the unknown inputs ``names``, each once, sorted."""
    plan = _input_fields(kb)
    return sorted({fld for name in names for fld in _fields_by_plan(plan, facts, kb, name)})


def _fields_by_plan(
    plan: Mapping[str, tuple[str, Any]], facts: Mapping[str, Any], kb: Knowledge, name: str
) -> list[str]:
    how = plan.get(name)
    if how is None:
        return []
    kind, arg = how
    if kind == "fields":
        return list(arg)
    if kind == "count":
        # MEN1 major manifestations: the case fields of the rows of the counting table that
        # need a missing input
        return _count_missing(facts, kb, arg)
    # a fact of a fact table: the case fields behind its unknown inputs
    return [fld for inp, fld in arg if facts.get(inp) is None]


def _input_fields(kb: Knowledge) -> Mapping[str, tuple[str, Any]]:
    """Per input of the hereditary tables, where its case fields come from: ``("fields",
    fields)``; ``("count", role)``, the rows of a counting table that wait on an input; or
    ``("table", ((input, field), ...))``, the inputs of the first fact table of list ``case``
    that sets it. Package data, worked out once (:meth:`Knowledge.derived`)."""
    return kb.derived(("hereditary_input_fields",), lambda: _read_input_fields(kb))


def _read_input_fields(kb: Knowledge) -> Mapping[str, tuple[str, Any]]:
    fact_tables: dict[str, Table] = {}
    for table_id in kb.pathway.tables("facts", "case"):
        table = kb.tables[table_id]
        fact_tables.setdefault(table.output, table)
    out: dict[str, tuple[str, Any]] = {}
    for name in _TABLE_INPUTS:
        src = _RENAMED.get(name, name)
        item = _history_item(src)
        if item is not None:
            out[name] = ("fields", (item,))
        elif name in _FIELDS:
            out[name] = ("fields", _FIELDS[name])
        elif name == "men1_major_count":
            out[name] = ("count", "men1_major")
        else:
            found_table = fact_tables.get(name)
            out[name] = (
                "table",
                ()
                if found_table is None
                else tuple((i, _history_item(i) or _FAMILY) for i in found_table.spec.inputs),
            )
    return FrozenDict(out)


def _history_item(fact: str) -> str | None:
    """The history item behind a fact (``hx_<item>``, or a syndrome diagnosed clinically:
    :data:`~nenguide.engine.context.DX_FACTS`) as a case field; ``None`` for any other fact."""
    if fact.startswith("hx_"):
        return f"clinical.history.{fact[3:]}"
    if fact in DX_FACTS:
        return f"clinical.history.{DX_FACTS[fact].value}"
    return None


def _count_missing(facts: Mapping[str, Any], kb: Knowledge, role: str) -> list[str]:
    """The case fields behind the unknown inputs of the counting table of ``role``."""
    table_id = kb.pathway.optional_table("facts", role)
    if table_id is None:
        return []
    out: list[str] = []
    for _, unknown in evaluate_collect(kb.tables[table_id], facts).maybe:
        for name in unknown:
            for fld in _fields_of_input(name):
                if fld not in out:
                    out.append(fld)
    return out


def _fields_of_input(name: str) -> list[str]:
    item = _history_item(name)
    return [item] if item is not None else list(_FIELDS.get(name, ()))


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, OneOf):
        return "{" + ", ".join(str(x) for x in v.sorted()) + "}"
    return str(v)


def _because(row: Row, facts: dict[str, Any], extra: str = "") -> str:
    vals = ", ".join(f"{c.fact}={_fmt(facts.get(c.fact))}" for c in row.conditions)
    tail = f"; {extra}" if extra else ""
    return f"{row.when_text} ({vals}{tail})"


def _add(items: list[str], new: Iterable[str]) -> None:
    for x in new:
        if x not in items:
            items.append(x)


def hereditary(
    ctx: Context,
    case: Case,
    facts: Mapping[str, Any],
    cls: Classification,
    syndromes: list[FunctionalSyndrome],
) -> Hereditary | None:
    hf = derive_facts(facts)
    bk: Mapping[str, Any] = getattr(facts, "extra", {})
    table = ctx.kb.tables[ctx.table_id(STEP, "triggers")]
    gene_syndrome: dict[str, str] = table.spec.parameters.get("gene_syndrome", {})
    skip_if_carrier: dict[str, list[str]] = table.spec.parameters.get("skip_if_carrier", {})
    res = ctx.collect(STEP, ctx.table_id(STEP, "triggers"), hf)

    carriers = list(bk.get("carriers", ()))
    relative_genes = list(bk.get("relative_genes", ()))

    syn: list[str] = []
    genes: list[str] = []
    because: list[str] = []
    rule_ids: list[str] = []
    for row in res.applies:
        trigger = row.then["trigger"]
        extra = ""
        _add(syn, row.then.get("syndromes") or [])
        _add(genes, row.then.get("genes") or [])
        if trigger == "RELATIVE_VARIANT":
            _add(genes, relative_genes)
            _add(syn, (gene_syndrome[g] for g in relative_genes if g in gene_syndrome))
            extra = "relatives' variants: " + ", ".join(relative_genes)
        elif trigger == "KNOWN_CARRIER":
            _add(syn, (gene_syndrome[g] for g in carriers if g in gene_syndrome))
            extra = "carrier of: " + ", ".join(carriers)
        because.append(_because(row, hf, extra))
        rule_ids.append(row.id)

    # genes already tested in the patient are not asked for again
    tested: Mapping[str, str] = bk.get("tested", {})
    for gene in list(genes):
        if gene in tested:
            genes.remove(gene)
            because.append(f"{gene} already tested in the patient: {tested[gene]}")
        elif any(c in carriers for c in skip_if_carrier.get(gene, [])):
            genes.remove(gene)
            because.append(
                f"{gene} not needed: the patient carries a pathogenic variant in "
                + ", ".join(c for c in skip_if_carrier[gene] if c in carriers)
            )

    unknown = {fact for _, unk in res.maybe for fact in unk}
    missing = missing_fields(facts, ctx.kb, unknown)
    possible = [r.id for r, _ in res.maybe]
    # What the undecided rules could point to, in words: their syndromes, and a plain label for
    # the rules that name none (a family variant, a carrier, a red flag). The rule ids stay in
    # the issue's details and the trace.
    could_be: list[str] = []
    for r, _ in res.maybe:
        _add(could_be, r.then.get("syndromes") or [])
    if any(not r.then.get("syndromes") for r, _ in res.maybe):
        could_be.append(ctx.text("hereditary.possible.other"))

    if res.applies:
        status, recommended = Status.DETERMINED, True
        if missing:
            ctx.issue(
                "HEREDITARY_FURTHER_TRIGGERS_UNKNOWN",
                STEP,
                missing,
                rules=tuple(possible),
                possible=tuple(could_be),
            )
    elif res.maybe:
        status, recommended = Status.INSUFFICIENT_DATA, None
        ctx.issue(
            "HEREDITARY_NEEDS_DATA",
            STEP,
            missing,
            needed=tuple(missing),
            rules=tuple(possible),
            possible=tuple(could_be),
        )
    else:
        status, recommended = Status.DETERMINED, False
    ctx.note(
        STEP,
        {"testing_recommended": recommended, "status": status.value},
        {"triggers": [r.then["trigger"] for r in res.applies], "undecided": possible},
        [f"{r.id}: needs {', '.join(u)}" for r, u in res.maybe],
    )

    surveillance = _surveillance(ctx, carriers, rule_ids)
    return frozen_dict(
        Hereditary(
            status=status,
            testing_recommended=recommended,
            syndromes=FrozenList(syn),
            genes=FrozenList(genes),
            because=FrozenList(because),
            surveillance=FrozenList(surveillance),
            rule_ids=FrozenList(rule_ids),
        )
    )


def _surveillance(ctx: Context, carriers: list[str], rule_ids: list[str]) -> list[str]:
    if not carriers:
        return []
    sf = {"carrier_men1": "MEN1" in carriers, "carrier_vhl": "VHL" in carriers}
    res = ctx.collect(STEP, ctx.table_id(STEP, "surveillance"), sf)
    out: list[str] = []
    for row in res.applies:
        out.append(row.when_text)
        rule_ids.append(row.id)
    covered = {r.then["syndrome"] for r in res.applies}
    gene_syndrome: dict[str, str] = ctx.kb.tables[
        ctx.table_id(STEP, "triggers")
    ].spec.parameters.get("gene_syndrome", {})
    not_encoded = [g for g in carriers if gene_syndrome.get(g, g) not in covered]
    if not_encoded:
        ctx.issue(
            "HEREDITARY_SURVEILLANCE_NOT_ENCODED",
            STEP,
            ["clinical.germline"],
            genes=tuple(not_encoded),
        )
    return out
