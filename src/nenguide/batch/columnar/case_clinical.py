"""The clinical section's reshaping, :func:`nenguide.engine.case_input.clinical_input`, as
Polars expressions over the case columns of :mod:`.case_arrow`: part of the second step of the
columnar fact layer (docs/decisions/0004-speed-targets-need-a-decision.md).

Symptoms and history (``sym_*``, ``hx_*``), the patient, the resection, the latest SSTR study
and gastrin result, progression per prior therapy and the first-degree relatives: renaming,
taking the latest, counting. No clinical threshold is here, and no list of names either: the
history items, symptoms, therapies and diagnosis facts are the model's and the engine's own
(``History``, ``Symptom``, ``Therapy``, ``DX_FACTS``). The engine's function stays the
reference; tests/batch/test_case_clinical.py holds these columns equal to it, fact by fact.

It reads the rows :func:`.case_arrow.arrow_ready` lets through and
:func:`.case_arrow.flagged_rows` does not flag: their texts have no white space at either end,
so no text is stripped here, their dates are written YYYY-MM-DD, so they sort as texts, and
a relative's gene is ASCII, so Polars' upper case is Python's.
"""

from __future__ import annotations

import polars as pl

from nenguide.batch.columnar.exprs import by_row, exploded, kleene_any
from nenguide.engine.case_input import SSTR_KINDS
from nenguide.engine.context import DX_FACTS
from nenguide.model.clinical import History, InvestigationKind, Relation, Symptom, Therapy

_S = pl.String()
_SSTR = pl.lit([k.value for k in SSTR_KINDS], pl.List(_S))
_ECHO = InvestigationKind.echocardiography.value
_FIRST = Relation.first_degree.value
_PLATINUM = Therapy.platinum_etoposide.value


def _c(name: str) -> pl.Expr:
    return pl.col("clinical").struct.field(name)


def _latest(cases: pl.DataFrame, field: str, keep: pl.Expr, name: str) -> pl.Series:
    """Per case, the latest dated item of the clinical list ``field`` that ``keep`` (over
    the item, ``_it``) keeps (undated count as older; among equals the last listed), as
    ``case_input._latest_dated``: dates are ISO texts, so they sort as dates. Worked out on
    the items one row each: a ``list.eval`` that takes a list's latest date is evaluated list
    by list (28 against about 3 ms of CPU on 30 000 cases, session 22)."""
    items = (
        exploded(cases, _c(field), "_it")
        .with_row_index("_p")  # the order listed (explode keeps it)
        .filter(keep.fill_null(False))
        .with_columns(pl.col("_it").struct.field("date").fill_null("").alias("_d"))
        .sort("_row", "_d", "_p")
        .unique("_row", keep="last", maintain_order=True)
    )
    return by_row(items.select("_row", "_it"), cases.height)["_it"].alias(name)


#: the latest SSTR study and gastrin result (temporary columns, made once per chunk)
_SSTR_STUDY, _GASTRIN = "_latest_sstr_study", "_latest_gastrin"


def _latest_items(cases: pl.DataFrame) -> list[pl.Series]:
    item = pl.col("_it")
    return [
        _latest(cases, "investigations", item.struct.field("kind").is_in(_SSTR), _SSTR_STUDY),
        _latest(cases, "labs", item.struct.field("analyte") == "gastrin", _GASTRIN),
    ]


def _symptoms_history() -> list[pl.Expr]:
    sym, hx = _c("symptoms"), _c("history")
    out = [sym.struct.field(s.value).alias(f"sym_{s.value}") for s in Symptom]
    out += [hx.struct.field(h.value).alias(f"hx_{h.value}") for h in History]
    recorded = pl.any_horizontal([sym.struct.field(s.value).is_not_null() for s in Symptom])
    out += [
        recorded.alias("symptoms_recorded"),
        (hx.struct.field(History.zollinger_ellison_syndrome.value) == True)  # noqa: E712
        .fill_null(False)
        .alias("zes_recorded"),
        hx.struct.field(History.renal_failure.value).alias("renal_failure"),
        _c("egfr_ml_min").alias("egfr_ml_min"),
        _c("egfr_ml_min").alias("egfr"),
        _c("investigations")
        .list.eval(pl.element().struct.field("kind") == _ECHO)
        .list.any()
        .fill_null(False)
        .alias("echo_done"),
        pl.col("patient").struct.field("ecog").alias("ecog"),
        pl.col("patient").struct.field("age_years").alias("age_years"),
        pl.col("tumour").struct.field("number_of_tumours").alias("number_of_tumours"),
        hx.struct.field(History.carcinoid_heart_disease.value).alias("carcinoid_heart_disease"),
    ]
    out += [
        (hx.struct.field(h.value) == True).fill_null(False).alias(name)  # noqa: E712
        for name, h in DX_FACTS.items()
    ]
    return out


def _resection() -> list[pl.Expr]:
    res = _c("resection")
    performed = res.struct.field("performed")
    margin = res.struct.field("margin")
    resected = pl.when(res.is_not_null()).then(performed)
    kept_margin = pl.when(performed == True).then(margin)  # noqa: E712
    primary = _c("primary_resectability")
    return [
        resected.alias("resected"),
        kept_margin.alias("margin"),
        pl.when(resected.is_null())
        .then(None)
        .when(resected)
        .then(kept_margin)
        .otherwise(pl.lit("not_resected"))
        .alias("appendix_margin"),
        pl.when(res.is_null())
        .then(None)
        .when(~performed)
        .then(pl.lit("not_resected"))
        .otherwise(margin)
        .alias("resection_margin"),
        primary.alias("primary_resectability"),
        primary.fill_null("not_recorded").alias("resectability"),
    ]


def _sstr_gastrin() -> list[pl.Expr]:
    study, lab = pl.col(_SSTR_STUDY), pl.col(_GASTRIN)
    positive = study.struct.field("positive")
    value, high = lab.struct.field("value"), lab.struct.field("reference_high")
    by_value = value.is_not_null() & high.is_not_null() & (high != 0)
    by_value = by_value & lab.struct.field("comparator").is_null()
    return [
        pl.when(study.is_not_null())
        .then(
            pl.when(positive.is_null())
            .then(pl.lit("not_stated"))
            .when(positive)
            .then(pl.lit("positive"))
            .otherwise(pl.lit("negative"))
        )
        .alias("sstr_reported"),
        # (no study: the fields of a null item are null)
        study.struct.field("krenning_score").alias("sstr_krenning_score"),
        study.struct.field("all_lesions_sstr_positive").alias("sstr_all_lesions_positive"),
        pl.when(lab.is_not_null())
        .then(lab.struct.field("context").struct.field("on_ppi").fill_null(False))
        .alias("gastrin_latest_on_ppi"),
        pl.when(lab.is_not_null())
        .then(pl.when(by_value).then(value / high).otherwise(lab.struct.field("times_uln")))
        .alias("gastrin_latest_xuln"),
    ]


#: the therapies with a course that progressed, and with a course whose outcome is not
#: recorded (temporary columns, made once per chunk)
_PROGRESSED, _UNKNOWN = "_progressed_therapies", "_unknown_outcome_therapies"


def _therapy_lists() -> list[pl.Expr]:
    pts = _c("prior_therapies")  # null: not recorded
    therapy, progressed = (
        pl.element().struct.field("therapy"),
        pl.element().struct.field("progressed"),
    )
    return [
        pts.list.eval(therapy.filter(progressed == True)).alias(_PROGRESSED),  # noqa: E712
        pts.list.eval(therapy.filter(progressed.is_null())).alias(_UNKNOWN),
    ]


def _prior_therapies() -> list[pl.Expr]:
    pts = _c("prior_therapies")  # null: not recorded (every progression unknown)
    progressed, unknown = pl.col(_PROGRESSED), pl.col(_UNKNOWN)
    # per therapy: a course that progressed, true; else one whose outcome is not recorded,
    # unknown; else (or none given), false
    out = [
        pl.when(pts.is_null())
        .then(None)
        .when(progressed.list.contains(t.value))
        .then(True)
        .when(unknown.list.contains(t.value))
        .then(None)
        .otherwise(False)
        .alias(f"progressed_on_{t.value}")
        for t in Therapy
    ]
    pe = pts.list.eval(
        pl.element().filter(
            (pl.element().struct.field("therapy") == _PLATINUM)
            & (pl.element().struct.field("progressed") == True)  # noqa: E712
        )
    )
    months = pe.list.eval(pl.element().struct.field("months_to_progression"))
    progressed_pe = pl.col(f"progressed_on_{_PLATINUM}")
    return [
        *out,
        progressed_pe.alias("progressed_on_platinum"),
        pl.when(progressed_pe == True)  # noqa: E712
        .then(
            pl.when(months.list.eval(pl.element().is_null()).list.any())
            .then(None)
            .otherwise(months.list.max())
        )
        .alias("platinum_months_to_progression"),
        progressed.fill_null([]).alias("progressed_therapies"),
        pts.list.eval(pl.element().struct.field("therapy"))
        .fill_null([])
        .alias("received_therapies"),
    ]


def _family() -> list[pl.Expr]:
    fh = _c("family_history")  # null: not recorded ([] states that there is none)
    first = fh.list.eval(pl.element().filter(pl.element().struct.field("relation") == _FIRST))
    gene = pl.element().struct.field("pathogenic_variant_gene")
    findings = pl.element().struct.field("findings")

    def named(item: History) -> pl.Expr:
        return (
            first.list.eval(findings.list.contains(item.value).fill_null(False))
            .list.any()
            .fill_null(False)
        )

    def known(expr: pl.Expr) -> pl.Expr:
        return pl.when(fh.is_not_null()).then(expr)

    return [
        known(first.list.eval(gene.is_not_null() & (gene.str.len_chars() > 0)).list.any()).alias(
            "relative_variant"
        ),
        known(named(History.primary_hyperparathyroidism)).alias("relative_phpt"),
        known(kleene_any(first.list.eval(pl.element().struct.field("has_nen")))).alias(
            "relative_nen"
        ),
        known(
            first.list.eval(
                (gene.str.strip_chars().str.to_uppercase() == "MEN1").fill_null(False)
            ).list.any()
        ).alias("relative_men1_variant"),
        known(named(History.men1_syndrome)).alias("relative_men1_named"),
    ]


def clinical_columns(cases: pl.DataFrame) -> pl.DataFrame:
    """``clinical_input``'s facts, a column each, for the case columns ``cases`` (one row per
    case, in order). A symptom the case does not record is null here (the engine leaves its
    fact out, which a table reads as unknown)."""
    latest = cases.select(
        pl.col("clinical"), pl.col("patient"), pl.col("tumour"), *_therapy_lists()
    ).with_columns(_latest_items(cases))
    first = latest.select(
        *_symptoms_history(),
        *_resection(),
        *_sstr_gastrin(),
        pl.col("clinical"),
        pl.col(_PROGRESSED),
        pl.col(_UNKNOWN),
        *_family(),
    )
    therapies = _prior_therapies()
    return (
        first.with_columns(therapies[: len(Therapy)])
        .with_columns(therapies[len(Therapy) :])
        .drop("clinical", _PROGRESSED, _UNKNOWN)
    )
