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

from collections.abc import Iterable
from typing import Any

from nenguide.engine.context import Context
from nenguide.engine.logic import OneOf, one_of
from nenguide.engine.tables import Row
from nenguide.model.assessment import (
    Classification,
    FunctionalSyndrome,
    Hereditary,
    Status,
)
from nenguide.model.case import Case, PrimarySite
from nenguide.model.clinical import History, Relation

STEP = "hereditary"

_WELL = {"NET", "typical_carcinoid", "atypical_carcinoid"}
_POOR = {"NEC", "LCNEC", "SCLC", "MiNEN"}
_DP_SITES = {PrimarySite.pancreas, PrimarySite.duodenum, PrimarySite.ampulla}
_SITE_GROUP = {
    PrimarySite.jejunum: "jejunum_ileum",
    PrimarySite.ileum: "jejunum_ileum",
    PrimarySite.colon: "colon_rectum",
    PrimarySite.rectum: "colon_rectum",
}
_POSITIVE_SYNDROME = {"confirmed", "suspected"}
_CARRIER_RESULTS = {"pathogenic", "likely_pathogenic"}

_VHL = (
    History.cns_haemangioblastoma,
    History.retinal_haemangioblastoma,
    History.clear_cell_renal_cell_carcinoma,
    History.pheochromocytoma_paraganglioma,
)
_NF1 = (History.cafe_au_lait_macules, History.neurofibromas)
_TSC = (
    History.facial_angiofibromas,
    History.renal_angiomyolipoma,
    History.cortical_tubers_or_sega,
)
_ATROPHIC = (
    History.autoimmune_atrophic_gastritis,
    History.pernicious_anaemia,
    History.chronic_atrophic_gastritis_other,
)
_FAMILY = "clinical.family_history"


def _any(values: Iterable[bool | None]) -> bool | None:
    """Kleene OR: true if one is true, false only if all are false."""
    vals = list(values)
    if any(v is True for v in vals):
        return True
    if all(v is False for v in vals):
        return False
    return None


def _hist_field(h: History) -> str:
    return f"clinical.history.{h.value}"


class _Facts:
    """The table inputs and, for each, the case fields to ask for when it is unknown."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.fields: dict[str, list[str]] = {}

    def put(self, name: str, value: Any, fields: list[str]) -> None:
        self.values[name] = value
        self.fields[name] = fields


def derive_facts(
    case: Case, cls: Classification, syndromes: list[FunctionalSyndrome]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Facts read by the hereditary tables, and the fields behind each unknown one."""
    f = _Facts()
    history = case.clinical.history
    site = case.tumour.primary_site

    def hist(h: History) -> bool | None:
        return history.get(h)

    def hist_any(items: tuple[History, ...]) -> tuple[bool | None, list[str]]:
        return _any(hist(h) for h in items), [_hist_field(h) for h in items if hist(h) is None]

    f.put("site_group", _SITE_GROUP.get(site, site.value), [])
    well: bool | None
    if cls.category in _WELL:
        well = True
    elif cls.category in _POOR:
        well = False
    elif case.pathology.differentiation is not None:
        well = case.pathology.differentiation.value == "well"
    else:
        well = None
    f.put("well_differentiated", well, ["pathology.differentiation"])
    f.put("age_years", case.patient.age_years, ["patient.age_years"])
    f.put("number_of_tumours", case.tumour.number_of_tumours, ["tumour.number_of_tumours"])

    phpt = hist(History.primary_hyperparathyroidism)
    pituitary = hist(History.pituitary_adenoma)
    dp_net = well if site in _DP_SITES else False
    majors = [
        (phpt, _hist_field(History.primary_hyperparathyroidism)),
        (pituitary, _hist_field(History.pituitary_adenoma)),
        (dp_net, "pathology.differentiation"),
    ]
    known = sum(1 for v, _ in majors if v is True)
    unknown = [fld for v, fld in majors if v is None]
    f.put("men1_major_count", one_of(range(known, known + len(unknown) + 1)), unknown)
    f.put("phpt", phpt, [_hist_field(History.primary_hyperparathyroidism)])

    # gastrinoma: the functional-syndrome step or the recorded history; a positive wins
    zes = hist(History.zollinger_ellison_syndrome)
    gast = [s["status"] for s in syndromes if s["syndrome"] == "gastrinoma"]
    if zes is True or any(s in _POSITIVE_SYNDROME for s in gast):
        gastrinoma: bool | None = True
    elif zes is False or "excluded" in gast:
        gastrinoma = False
    else:
        gastrinoma = None
    f.put("gastrinoma", gastrinoma, [_hist_field(History.zollinger_ellison_syndrome)])

    for name, items in (
        ("atrophic_gastritis", _ATROPHIC),
        ("vhl_feature", _VHL),
        ("nf1_stigmata", _NF1),
        ("tsc_feature", _TSC),
    ):
        v, flds = hist_any(items)
        f.put(name, v, flds)
    f.put("mtc", hist(History.medullary_thyroid_carcinoma), [
        _hist_field(History.medullary_thyroid_carcinoma)
    ])  # fmt: skip
    f.put("pheo", hist(History.pheochromocytoma_paraganglioma), [
        _hist_field(History.pheochromocytoma_paraganglioma)
    ])  # fmt: skip

    _family(case, f)
    carriers = _carrier_genes(case)
    f.put("carrier", bool(carriers), ["clinical.germline"])
    return f.values, f.fields


def _family(case: Case, f: _Facts) -> None:
    fh = case.clinical.family_history
    if fh is None:  # not recorded ([] states that there is none)
        for name in ("relative_men1", "relative_phpt", "relative_variant", "relative_nen"):
            f.put(name, None, [_FAMILY])
        return
    first = [m for m in fh if m.relation is Relation.first_degree]
    f.put("relative_variant", any(m.pathogenic_variant_gene for m in first), [_FAMILY])
    f.put(
        "relative_phpt",
        any(History.primary_hyperparathyroidism in m.findings for m in first),
        [_FAMILY],
    )
    f.put("relative_nen", _any(m.has_nen for m in first) if first else False, [_FAMILY])
    men1: list[bool | None] = []
    for m in first:
        if (m.pathogenic_variant_gene or "").strip().upper() == "MEN1":
            men1.append(True)
            continue
        # clinical MEN1 in the relative: at least 2 of parathyroid, pituitary and a NEN
        parts = [
            History.primary_hyperparathyroidism in m.findings,
            History.pituitary_adenoma in m.findings,
        ]
        n = sum(parts) + (1 if m.has_nen is True else 0)
        if n >= 2:
            men1.append(True)
        elif n == 1 and m.has_nen is None:
            men1.append(None)
        else:
            men1.append(False)
    f.put("relative_men1", _any(men1) if first else False, [_FAMILY])


def _carrier_genes(case: Case) -> list[str]:
    out: list[str] = []
    for g in case.clinical.germline:
        if g.result in _CARRIER_RESULTS and g.gene.value not in out:
            out.append(g.gene.value)
    return out


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
    facts: dict[str, Any],
    cls: Classification,
    syndromes: list[FunctionalSyndrome],
) -> Hereditary | None:
    hf, fields = derive_facts(case, cls, syndromes)
    table = ctx.kb.tables[ctx.table_id(STEP, "triggers")]
    gene_syndrome: dict[str, str] = table.spec.parameters.get("gene_syndrome", {})
    skip_if_carrier: dict[str, list[str]] = table.spec.parameters.get("skip_if_carrier", {})
    res = ctx.collect(STEP, ctx.table_id(STEP, "triggers"), hf)

    carriers = _carrier_genes(case)
    relative_genes: list[str] = []
    for m in case.clinical.family_history or ():
        gene = (m.pathogenic_variant_gene or "").strip().upper()
        if m.relation is Relation.first_degree and gene and gene not in relative_genes:
            relative_genes.append(gene)

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
    tested = {g.gene.value: g.result for g in case.clinical.germline}
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

    missing = sorted({fld for _, unk in res.maybe for fact in unk for fld in fields.get(fact, [])})
    possible = [r.id for r, _ in res.maybe]

    if res.applies:
        status, recommended = Status.DETERMINED, True
        if missing:
            ctx.issue(
                "HEREDITARY_FURTHER_TRIGGERS_UNKNOWN",
                STEP,
                missing,
                rules=tuple(possible),
            )
    elif res.maybe:
        status, recommended = Status.INSUFFICIENT_DATA, None
        ctx.issue(
            "HEREDITARY_NEEDS_DATA",
            STEP,
            missing,
            needed=tuple(missing),
            rules=tuple(possible),
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
    return Hereditary(
        status=status,
        testing_recommended=recommended,
        syndromes=syn,
        genes=genes,
        because=because,
        surveillance=surveillance,
        rule_ids=rule_ids,
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
