"""The treatment step's key over a chunk's columns: what the step's answer, as the flat row
shows it, depends on (:meth:`.treatment.TreatmentProgram._key`, which works it out case by
case from the engine's facts):

* the step's view of the facts (:func:`nenguide.engine.treatment_facts.derive_facts`): the
  facts of :data:`~nenguide.engine.treatment_facts.SHARED` as they are, the liver type, and
  the facts the view derives itself (the node status read, liver-only disease, PRRT uptake
  against the site's Krenning minimum, the small non-functional pNET against the site's
  boundary), which the engine's own ``derive_facts`` gives once per distinct set of what
  they read (:data:`~nenguide.engine.treatment_facts.DERIVED_READS`);
* the setting table's answer on the view (its candidate rows and the row that decides);
  with the setting decided, the answers of the collect tables (the rows that apply, the rows
  that wait and the inputs they wait on), the caveats' rows of unconfirmed content that apply,
  and the table of the primary site where the step consults it (the engine's
  :func:`~nenguide.engine.treatment.local_route`, once per distinct setting and category);
* the facts the step's Python reads itself (:data:`~nenguide.engine.treatment.DIRECT_READS`),
  the classification's grades where the grade-combining table holds unconfirmed content, and
  whether a conflict was reported before the step (``conflict_before``, given).

A setting left open (no setting decided, or ``unknown``; 18 % of generated cases) is keyed as
:meth:`.treatment.TreatmentProgram._open` keys it: which of the setting table's inputs are
unknown, the value of the package's open-setting input and, per other value of it, the
setting table's answer with that value and the answers of the step's tables under the
setting it decides (:func:`_open_setting`). The gastric cause and type, which phase 2 may
leave open between candidates, are read as masks of candidates (as the engine reads a
range), and the key holds the mask where the value is open.

The key is for the package's own site parameters (the batch's; a run with other site
parameters has no key). A case goes to the engine (``fallback``) when a candidate value of the
open input leaves no row of the setting table that applies or waits, or when a known gastric
cause or type has no bit.

tests/batch/test_case_treatment.py holds it to the engine: cases with one key get one answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from nenguide.batch.columnar.compile import dtype_of, first_answer, mask_truth, then_col
from nenguide.batch.columnar.exprs import bit_mask, by_row, exploded
from nenguide.batch.columnar.plan import ENGINE
from nenguide.engine.context import Context
from nenguide.engine.kb import Knowledge
from nenguide.engine.tables import Table
from nenguide.engine.treatment import DIRECT_READS, STEP, local_route, open_setting_input
from nenguide.engine.treatment_data import effective_site
from nenguide.engine.treatment_facts import DERIVED_READS, SHARED, derive_facts
from nenguide.model.assessment import LiverMetastasis, Status

#: the core program's columns the key reads
LIVER_TYPE = "liver_metastasis_type"
GRADES = ("classification_grade", "classification_grade_by_ki67", "classification_grade_by_mitoses")


@dataclass(frozen=True)
class TreatmentKey:
    """The key, one row per case in order (``frame``), and the cases the columns leave to the
    engine (``fallback``)."""

    frame: pl.DataFrame
    fallback: pl.Series


def _collect(table: Any, p: str, masks: _Masks) -> list[pl.Expr]:
    """A collect table's answer: the rows that apply, the rows that wait and the inputs those
    wait on (each a mask; an input held as a mask of candidates is named when it is left
    open, and the key holds the mask itself: which rows it leaves waiting follows from it)."""
    truths = mask_truth(table, masks)
    waits = [t.is_null() for t in truths]
    reads = {
        name: [waits[i] for i, row in enumerate(table.rows)
               if any(c.fact == name for c in row.conditions)]
        for name in table.names
    }  # fmt: skip
    missing = [
        (pl.any_horizontal(w) & pl.col(name).is_null()) if w else pl.lit(False)
        for name, w in reads.items()
    ]
    return [
        bit_mask([t for t in truths]).alias(f"{p}_applies"),
        bit_mask(waits).alias(f"{p}_waits"),
        bit_mask(missing).alias(f"{p}_missing"),
    ]


def _derived(facts: pl.DataFrame, kb: Knowledge, dtypes: dict[str, pl.DataType]) -> pl.DataFrame:
    """The facts the step's view derives itself (named ``_d_<fact>``), by the engine's
    ``derive_facts`` once per distinct set of what they read, one row per case."""
    reads = [c for c in DERIVED_READS if c in facts.columns]
    site = effective_site(kb, None)
    # derive_facts copies the liver type only (the key reads it from the core's column)
    nothing = LiverMetastasis(status=Status.NOT_APPLICABLE)
    distinct = facts.select(reads).unique(maintain_order=True)
    made = [derive_facts(row, nothing, site) for row in distinct.iter_rows(named=True)]
    names = [k for k in made[0] if k not in SHARED and k != "liver_type"] if made else []
    answers = distinct.with_columns(
        [pl.Series(f"_d_{n}", [m[n] for m in made], dtype=dtypes.get(n), strict=False)
         for n in names]
    )  # fmt: skip
    return (
        facts.select(reads)
        .join(answers, on=reads, how="left", nulls_equal=True, maintain_order="left")
        .select([f"_d_{n}" for n in names])
    )


#: inputs held as bit masks of candidate values: input -> (column, value -> bit)
_Masks = Mapping[str, tuple[str, Mapping[Any, int]]]
#: the view's facts phase 2 may leave open between candidates (``<fact>_mask``)
OPEN_FACTS = ("gastric_cause", "gastric_type")


@dataclass(frozen=True)
class _Tables:
    setting: Table
    collects: list[Table]
    caveats: Table
    sites: dict[str, Table]
    categories: list[str]
    masks: _Masks  # the view's inputs held as masks of candidates (``_mask_<fact>``)


def _answers(lf: pl.LazyFrame, t: _Tables, kb: Knowledge) -> tuple[pl.LazyFrame, list[pl.Expr]]:
    """The setting table's answer on the view ``lf`` (``set_cands``, ``set_k``; ``_set``: a
    setting decided, ``setting``) and, with the setting decided, the answers of the step's
    tables under it: the key's parts, as expressions over the frame returned."""
    setting = t.setting
    lf = first_answer(lf, setting, "set", t.masks)
    value = then_col(setting, "set", setting.output, pl.String())
    decided = pl.col("set_dec") & pl.col("set_row").is_not_null() & (value != "unknown")
    decided = decided.fill_null(False)
    lf = lf.with_columns(pl.when(decided).then(value).alias("setting"), decided.alias("_set"))
    # the table of the primary site, where the step consults it: the engine's local_route,
    # once per setting and category
    local: pl.Expr = pl.lit(False)
    for s_value in sorted({str(r.then[setting.output]) for r in setting.rows}):
        for c in t.categories:
            if local_route({"setting": s_value, "category": c}):
                here = (pl.col("setting") == s_value) & (pl.col("category") == c)
                local = local | here.fill_null(False)
    lf = lf.with_columns(local.alias("_local"))
    parts: list[pl.Expr] = [pl.col("set_cands"), pl.col("set_k")]
    for j, table in enumerate(t.collects):
        lf = lf.with_columns(_collect(table, f"col{j}", t.masks))
        parts += [pl.when(pl.col("_set")).then(pl.col(f"col{j}_{x}")).alias(f"col{j}_{x}")
                  for x in ("applies", "waits", "missing")]  # fmt: skip
    # the caveats: only their rows of unconfirmed content that apply count
    cav_mask = bit_mask(
        [truth if row.id in kb.unconfirmed_rules else pl.lit(False)
         for truth, row in zip(mask_truth(t.caveats, t.masks), t.caveats.rows, strict=True)]
    )  # fmt: skip
    parts.append(pl.when(pl.col("_set")).then(cav_mask).alias("caveats_unconfirmed"))
    for site, table in sorted(t.sites.items()):
        p = f"site_{site}"
        lf = first_answer(lf, table, p, t.masks)
        here = pl.col("_local") & (pl.col("primary_site") == site).fill_null(False)
        parts += [pl.when(here).then(pl.col(f"{p}_cands")).alias(f"{p}_cands"),
                  pl.when(here).then(pl.col(f"{p}_k")).alias(f"{p}_k")]  # fmt: skip
    return lf, parts


def treatment_key(
    facts: pl.DataFrame,
    conflict_before: pl.Series,
    kb: Knowledge,
    masks: Mapping[str, Mapping[Any, int]],
) -> TreatmentKey:
    """The key over ``facts`` (phase 1 and phase 2's columns with the core program's
    classification grades and liver type, :data:`GRADES`, :data:`LIVER_TYPE`) and
    ``conflict_before`` (a conflict reported before the step, and the issues before it that are
    MDT reasons of their own, as one text); ``masks``: phase 2's bits of
    the facts it can leave open (:attr:`.case_pathway.PathwayColumns.masks`)."""
    ctx = Context(kb, "en", notes=False)
    setting = kb.tables[ctx.table_id(STEP, "setting")]
    held = {f: masks[f] for f in OPEN_FACTS if f in masks and f"{f}_mask" in facts.columns}
    t = _Tables(
        setting,
        [kb.tables[t] for t in kb.pathway.tables(STEP, "collect")],
        kb.tables[ctx.table_id(STEP, "caveats")],
        {s: kb.tables[t] for s, t in kb.pathway.steps[STEP].sites.items()},
        sorted(c for c in facts["category"].unique().to_list() if c is not None),
        {f: (f"_mask_{f}", bits) for f, bits in held.items()},
    )
    dtypes: dict[str, pl.DataType] = {}
    for table in (setting, *t.collects, t.caveats, *t.sites.values()):
        dtypes.update({n: dtype_of(table, n) for n in table.spec.inputs if n not in dtypes})
    derived = _derived(facts, kb, dtypes)
    made = [c[len("_d_") :] for c in derived.columns]
    schema = facts.schema  # made once: each call builds it anew (a few hundred columns)
    view = [
        pl.col(n) if n in schema else pl.lit(None, dtypes.get(n)).alias(n)
        for n in SHARED if n not in made
    ]  # fmt: skip
    # each open fact as a mask: a known value as its own bit, else the candidates' bits
    # (null: unknown); a known value no bit stands for goes to the engine
    as_mask = {
        f: pl.when(pl.col(f).is_not_null())
        .then(pl.col(f).replace_strict({v: 1 << b for v, b in bits.items()}, default=None,
                                       return_dtype=pl.Int64()))
        .otherwise(pl.col(f"{f}_mask"))
        for f, bits in held.items()
    }  # fmt: skip
    sets = [r for r in DIRECT_READS if isinstance(schema.get(r), pl.List)]
    joined = _joined_sets(facts, sets)
    frames = [facts, derived, joined] if sets else [facts, derived]
    base = pl.concat(frames, how="horizontal").lazy().select(
        *view, *[pl.col(f"_d_{n}").alias(n) for n in made], *joined.columns,
        pl.col(LIVER_TYPE).alias("liver_type"), *[pl.col(g) for g in GRADES],
        *[m.alias(f"_mask_{f}") for f, m in as_mask.items()],
        conflict_before.alias("_conflict"),
    ).with_row_index("_i")  # fmt: skip
    lf, parts = _answers(base, t, kb)
    key = [
        *parts,
        *[(pl.col(f"_joined_{r}") if r in sets else pl.col(r)).alias(f"direct_{r}")
          for r in DIRECT_READS],
        # a fact left open: the step reads its candidates (the direct read is null)
        *[pl.when(pl.col(f).is_null()).then(pl.col(f"_mask_{f}")).alias(f"open_{f}")
          for f in held],
        *([pl.col(g) for g in GRADES] if _grades_unconfirmed(kb) else []),
        pl.col("_conflict").alias("conflict_before"),
    ]  # fmt: skip
    unheld = [pl.col(f).is_not_null() & pl.col(f"_mask_{f}").is_null() for f in held]
    fallback = pl.any_horizontal(unheld) if unheld else pl.lit(False)
    out = lf.select("_i", "_set", *key, fallback.alias("fallback")).collect(engine=ENGINE)
    out = _open_setting(out, base, t, kb, dtypes)
    return TreatmentKey(out.drop("fallback", "_i", "_set"), out["fallback"])


def _open_setting(
    out: pl.DataFrame, base: pl.LazyFrame, t: _Tables, kb: Knowledge, dtypes: dict[str, Any]
) -> pl.DataFrame:
    """The key of the cases whose setting is left open (no setting decided, or ``unknown``),
    as :meth:`.treatment.TreatmentProgram._open` works it out: which of the setting table's
    inputs are unknown (what its result says it waits on) and the value of the package's
    open-setting input; then, for each other value of that input (the engine's
    :func:`~nenguide.engine.treatment_setting.setting_candidates`), the setting table's answer
    with it and, where that decides a setting, the answers of the step's tables under it.
    A candidate value for which no row of the setting table applies or waits goes to the
    engine (the program's own key gives none)."""
    setting = t.setting
    name = open_setting_input(kb)
    is_open = ~pl.col("_set")
    nulls = bit_mask([pl.col(n).is_null() for n in setting.names])
    head = base.select("_i", nulls.alias("_nulls"))
    if name is None or name not in setting.spec.inputs:
        extra = head.collect(engine=ENGINE)
        return out.join(extra, on="_i", how="left", maintain_order="left").with_columns(
            pl.when(is_open).then(pl.col("_nulls")).alias("_nulls")
        )
    opened = out.filter(is_open).select("_i")
    # the open cases once (each candidate value reads them)
    sub = base.join(opened.lazy(), on="_i", how="semi").collect(engine=ENGINE)
    head_cols = sub.select("_i", pl.col(name).alias("_open_value"), nulls.alias("_nulls"))
    values = list(setting.spec.inputs[name].values or [])
    if not values:  # no candidate value (the engine finds none to try either)
        return out.join(head_cols, on="_i", how="left", maintain_order="left")
    dtype = dtypes.get(name)
    # every candidate value at once: the open cases stacked, once per value (``_cand``), so
    # the tables are evaluated by one query (its plan is made once)
    stacked = pl.concat(
        [
            sub.with_columns(
                pl.col(name).alias("_own_value"),
                pl.lit(v, dtype).alias(name),
                pl.lit(j, pl.Int32()).alias("_cand"),
            )
            for j, v in enumerate(values)
        ]
    )
    lf, parts = _answers(stacked.lazy(), t, kb)
    # the case's own value is no candidate (setting_candidates)
    other = pl.col("_own_value").ne_missing(pl.col(name))
    names = [p.meta.output_name() for p in parts]
    answers = lf.select(
        "_i",
        "_cand",
        (other & (pl.col("set_cands") == 0)).alias("_none"),
        *[pl.when(other).then(p).alias(n) for p, n in zip(parts, names, strict=True)],
    ).collect(engine=ENGINE)
    cands = head_cols
    for j in range(len(values)):
        part = answers.filter(pl.col("_cand") == j).drop("_cand")
        part = part.rename({c: f"cand{j}_{c}" for c in part.columns if c != "_i"})
        cands = cands.join(part, on="_i", how="left", maintain_order="left")
    none = [pl.col(f"cand{j}__none") for j in range(len(values))]
    cands = cands.with_columns(
        (pl.any_horizontal(none) if none else pl.lit(False)).alias("_none")
    ).drop([f"cand{j}__none" for j in range(len(values))])
    return (
        out.join(cands, on="_i", how="left", maintain_order="left")
        .with_columns((pl.col("fallback") | pl.col("_none").fill_null(False)).alias("fallback"))
        .drop("_none")
    )


def _joined_sets(facts: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Each list column of ``names`` as a key part (``_joined_<name>``): a set of therapies or
    of the inputs a cause waits on as its items sorted and joined, so that equal sets are equal
    keys (an empty list gives ``""``, a null one null). Worked out on the items, one row each:
    ``list.sort().list.join()`` sorted list by list (25 against about 7 ms for two such
    columns of 30 000 cases, session 22)."""
    out: list[pl.Series] = []
    for name in names:
        items = (
            exploded(facts, pl.col(name), name)
            .sort("_row", name)
            .group_by("_row", maintain_order=True)
            .agg(pl.col(name).str.join(_SEP))
        )
        got = by_row(items, facts.height)[name]
        empty = facts[name].list.len() == 0  # null where the list is null
        out.append(
            pl.select(pl.when(empty).then(pl.lit("")).otherwise(got))
            .to_series()
            .alias(f"_joined_{name}")
        )
    return pl.DataFrame(out)


#: between the items of a set joined as a key part (a control character no value holds)
_SEP = "\u001f"


def _grades_unconfirmed(kb: Knowledge) -> bool:
    """Whether the grade-combining table holds unconfirmed content (then the grades decide
    which fields an issue names, through look-ups of that table)."""
    ctx = Context(kb, "en", notes=False)
    combine = kb.tables[ctx.table_id("classification", "grade_combine")]
    return any(row.id in kb.unconfirmed_rules for row in combine.rows)
