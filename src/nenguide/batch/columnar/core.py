"""The core steps (classification and grade, TNM stage, ENETS liver type) over a whole frame.

Every table the steps consult is compiled from the knowledge package (:mod:`.compile`), found
through the package's pathway roles, as the engine finds it. The glue between the tables follows
:mod:`nenguide.engine.classify`, :mod:`~nenguide.engine.stage` and :mod:`~nenguide.engine.liver`
for the paths that decide with at most a few fixed issues, including T, N, M and stage groups
left open by missing data (bit masks of the candidate categories, :meth:`CoreProgram.stage`);
every other case is marked ``core_fallback`` and the caller assesses it with the single-case
engine (the list is in docs/batch.md). The differential test (tests/batch/test_columnar.py)
checks that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import polars as pl

from nenguide.batch.columnar.compile import dtype_of, eval_collect, eval_first, then_col
from nenguide.batch.columnar.exprs import B, S, lit, one
from nenguide.batch.columnar.plan import (
    ENGINE,
    OPTIMIZATIONS,
    Recorder,
    compact,
    cut_offs,
    once_per_group,
    replay,
)
from nenguide.batch.columnar.plan import consistency as apply_consistency
from nenguide.batch.columnar.stage import stage
from nenguide.engine.classify import CATEGORIES
from nenguide.engine.kb import Knowledge
from nenguide.engine.liver import NOT_FOR
from nenguide.engine.tables import Table, evaluate_first
from nenguide.model.assessment import Status

#: case attributes the step glue reads besides the facts (added by the fact frame);
#: ``lung_descriptor_rank``: the highest T rank its lung descriptors set (-1: none recorded)
CASE_COLUMNS = {
    "has_components": B,
    # a MiNEN diagnosed without components: the engine's MiNEN path too (engine/classify.py)
    "minen_diagnosed": B,
    "staging_basis": S,
    "multiple_tumours": B,
    "lung_descriptor_rank": pl.Int32(),
    "has_conflicted": B,  # the fact layer made contradicted facts unknown (``conflicted``)
    # read by the liver step's glue (engine/liver.py) whether or not a table of the package
    # declares it (the fixture package's liver tables do not)
    "liver_mets": B,
}


#: output columns of the core program (the flat row's names)
CORE_OUTPUT = (
    "classification_status", "classification_category", "classification_grade",
    "classification_nec_subtype", "classification_system", "classification_grade_by_ki67",
    "classification_grade_by_mitoses", "classification_grade_discordant",
    "stage_status", "stage_system", "stage_prefix", "stage_t", "stage_n", "stage_m",
    "stage_group", "stage_t_suffix", "stage_reason",
    "liver_metastasis_type", "liver_metastasis_status",
)  # fmt: skip


@dataclass
class CoreProgram:
    """The compiled core of one knowledge package."""

    kb: Knowledge

    def __post_init__(self) -> None:
        kb = self.kb
        p = kb.pathway
        self.t: dict[str, Table] = {}
        for step, roles in {
            "classification": ("family", "consistency", "gep", "nec_subtype", "grade_ki67",
                               "grade_mitoses", "grade_combine", "thoracic_carcinoid",
                               "thoracic_highgrade"),
            "stage": ("system", "flags"),
            "liver_metastasis": ("type", "consistency"),
        }.items():  # fmt: skip
            for role in roles:
                self.t[f"{step}.{role}"] = kb.tables[p.table(step, role)]
        self.systems: dict[str, str] = p.parameter("classification", "systems")
        self.stage_specs = [r.then for r in self.t["stage.system"].rows]
        #: the fact layer's consistency tables (a case they flag is left to the engine in the
        #: core-only mode, which reshapes facts without the rest of the fact layer)
        self.consistency = [kb.tables[i] for i in p.tables("facts", "consistency")]
        #: the fact layer's precedence tables (which source wins: the node status), evaluated
        #: by the program in the core-only mode, whose facts are read column by column
        self.precedence = [kb.tables[i] for i in p.tables("facts", "precedence")]
        self.precedence_outputs = [t.output for t in self.precedence]
        self.precedence_inputs: dict[str, pl.DataType] = {
            k: dtype_of(t, k) for t in self.precedence for k in t.spec.inputs
        }
        self.kinds = kb.issue_kinds
        self._plans: dict[tuple[bool, bool], list[tuple[str, tuple[Any, ...], dict[str, Any]]]] = {}
        # lung T: the higher of the size T and the descriptors' T (engine.stage._t); each
        # descriptor's level is the descriptor table's answer, evaluated here once per value
        self.t_order: list[str] = list(kb.parameters.get("lung_t_order") or [])
        self.t_rank = {t: i for i, t in enumerate(self.t_order)}
        self.descriptor_rank: dict[str, int] = {}
        for spec in self.stage_specs:
            if spec.get("t_descriptor_table"):
                dt_ = kb.tables[spec["t_descriptor_table"]]
                (name, dom), *_ = dt_.spec.inputs.items()
                for v in dom.values or []:
                    res = evaluate_first(dt_, {name: v})
                    confirmed = all(r.status == "confirmed" for r in res.rows)
                    if res.decided and confirmed and res.value in self.t_rank:
                        self.descriptor_rank[v] = self.t_rank[res.value]
        # the bit of each T, N, M and group category (the candidates of an open outcome)
        self.bits: dict[str, dict[Any, int]] = {}
        self.group_bits: dict[str, dict[Any, int]] = {}
        for k in ("t", "n", "m"):
            vals: set[Any] = {None, *(self.t_order if k == "t" else ())}
            for spec in self.stage_specs:
                if spec.get(f"{k}_table"):
                    tab = kb.tables[spec[f"{k}_table"]]
                    vals |= {r.then.get(tab.output) for r in tab.rows}
            self.bits[k] = {v: i for i, v in enumerate(sorted(vals, key=str))}
        for spec in self.stage_specs:
            if spec.get("group_table"):
                tab = kb.tables[spec["group_table"]]
                vals = {None, *(r.then.get(tab.output) for r in tab.rows)}
                self.group_bits[tab.id] = {v: i for i, v in enumerate(sorted(vals, key=str))}
        # the categories a classification left open may take (engine.classify._candidates),
        # and the bit of each output of the GEP table
        self.category_bits = {c: i for i, c in enumerate(sorted(CATEGORIES))}
        gep = self.t["classification.gep"]
        self.gep_bits = {
            v: i for i, v in enumerate(sorted({r.then.get(gep.output) for r in gep.rows}, key=str))
        }
        thoracic = {
            r.then.get("category")
            for role in ("thoracic_carcinoid", "thoracic_highgrade")
            for r in self.t[f"classification.{role}"].rows
        }
        self.thoracic_mask = sum(1 << b for c, b in self.category_bits.items() if c in thoracic)
        if max(len(b) for b in [*self.bits.values(), *self.group_bits.values(),
                                self.category_bits, self.gep_bits]) > 62:  # fmt: skip
            raise ValueError("more than 62 categories in a TNM table: masks are 64-bit")
        # every input a compiled table reads: the columns the fact frame must provide
        self.inputs: dict[str, pl.DataType] = dict(CASE_COLUMNS)
        for tab in self._all_tables():
            for name in tab.spec.inputs:
                if name in ("rule_family", "category", "system", "grade_ki67", "grade_mitoses",
                            "t", "n", "m"):  # fmt: skip
                    continue  # outputs of earlier tables, set by the program
                self.inputs.setdefault(name, dtype_of(tab, name))
        #: the cut-offs each numeric input is compared with, by any compiled table
        found = cut_offs([*self._all_tables(), *self.precedence])
        self.cuts: dict[str, list[float]] = {
            k: found.get(k, []) for k, v in {**self.precedence_inputs, **self.inputs}.items()
            if v == pl.Float64()
        }  # fmt: skip

    def _all_tables(self) -> list[Table]:
        out = list(self.t.values()) + list(self.consistency)
        for spec in self.stage_specs:
            for key in ("t_table", "n_table", "m_table", "group_table"):
                if spec.get(key):
                    out.append(self.kb.tables[spec[key]])
        return out

    # ------------------------------------------------------------------ classification
    def classification(self, lf: pl.LazyFrame, open_: bool = False) -> pl.LazyFrame:
        """Classification and grade as :func:`nenguide.engine.classify.classify`. ``open_``
        (the core-only mode): a classification left open by differentiation not recorded too
        (insufficient data, the candidate categories as ``_open_mask`` for the stage); the
        full pathway leaves it to the engine (its later steps read the candidates)."""
        t = self.t
        lf = eval_first(lf, t["classification.family"], "_fam")
        lf = lf.with_columns(rule_family=then_col(t["classification.family"], "_fam", "family", S))
        lf = eval_collect(lf, t["classification.consistency"], "_cons", self.kinds)
        lf = eval_first(lf, t["classification.gep"], "_gep", bits=self.gep_bits)
        lf = eval_first(lf, t["classification.grade_ki67"], "_ki")
        lf = eval_first(lf, t["classification.grade_mitoses"], "_mi")
        lf = eval_first(lf, t["classification.thoracic_carcinoid"], "_carc")
        lf = eval_first(lf, t["classification.thoracic_highgrade"], "_high")
        lf = eval_first(lf, t["classification.nec_subtype"], "_sub")
        well = pl.col("differentiation") == "well"
        carc, high = t["classification.thoracic_carcinoid"], t["classification.thoracic_highgrade"]
        lf = lf.with_columns(
            _gep_cat=pl.when(pl.col("_gep_ok")).then(
                then_col(t["classification.gep"], "_gep", "category", S)
            ),
            grade_ki67=pl.when(pl.col("ki67_percent").is_not_null()).then(
                then_col(t["classification.grade_ki67"], "_ki", "grade", S)
            ),
            grade_mitoses=pl.when(pl.col("mitoses_per_2mm2").is_not_null()).then(
                then_col(t["classification.grade_mitoses"], "_mi", "grade", S)
            ),
            _ki_ok=pl.col("ki67_percent").is_null() | pl.col("_ki_ok"),
            _mi_ok=pl.col("mitoses_per_2mm2").is_null() | pl.col("_mi_ok"),
            _subtype=then_col(t["classification.nec_subtype"], "_sub", "nec_subtype", S),
            _thor_ok=pl.when(well).then(pl.col("_carc_ok")).otherwise(pl.col("_high_ok")),
            _thor_cat=pl.when(well)
            .then(then_col(carc, "_carc", "category", S))
            .otherwise(then_col(high, "_high", "category", S)),
            _thor_sub=pl.when(well)
            .then(then_col(carc, "_carc", "nec_subtype", S))
            .otherwise(then_col(high, "_high", "nec_subtype", S)),
        )
        comb_t = t["classification.grade_combine"]
        lf = lf.with_columns(
            pl.col("grade_ki67").fill_null("not_reported"),
            pl.col("grade_mitoses").fill_null("not_reported"),
            _gki=pl.col("grade_ki67"),
            _gmi=pl.col("grade_mitoses"),
        )
        lf = eval_first(lf, comb_t, "_comb")
        lf = lf.with_columns(
            _comb=pl.when(pl.col("_comb_ok")).then(then_col(comb_t, "_comb", "grade", S))
        )
        conflict = pl.col("_cons_conflict")
        gep_family = (pl.col("rule_family") != "thoracic") & ~conflict
        net = gep_family & (pl.col("_gep_cat") == "NET")
        nec = gep_family & (pl.col("_gep_cat") == "NEC")
        thor = (
            (pl.col("rule_family") == "thoracic") & ~conflict
            & pl.col("differentiation").is_not_null()
        )  # fmt: skip
        thor_ok = (
            thor & pl.col("_thor_ok") & (pl.col("_thor_cat") != "carcinoid_elevated_proliferation")
        )
        gx = pl.col("_comb") == "GX"
        gki, gmi = pl.col("_gki"), pl.col("_gmi")
        disc = gki.is_not_null() & gmi.is_not_null() & (gki != gmi)
        single = ~disc & (gki.is_null() | gmi.is_null())
        gep_open: pl.Expr = pl.lit(False)
        thor_open: pl.Expr = pl.lit(False)
        open_mask: pl.Expr = pl.lit(None, pl.Int64())
        if open_:  # engine.classify._gep / _thoracic when differentiation is not recorded
            gep_open = (
                gep_family & ~pl.col("_gep_dec") & pl.col("_gep_any")
                & pl.col("_ki_ok") & pl.col("_mi_ok")
            ).fill_null(False)  # fmt: skip
            thor_open = (
                (pl.col("rule_family") == "thoracic") & ~conflict
                & pl.col("differentiation").is_null()
            ).fill_null(False)  # fmt: skip
            gm = pl.col("_gep_mask")
            zero = pl.lit(0, pl.Int64())
            cands = pl.sum_horizontal(
                pl.when((gm & pl.lit(1 << b, pl.Int64())) != 0)
                .then(pl.lit(1 << self.category_bits[v], pl.Int64()))
                .otherwise(zero)
                for v, b in self.gep_bits.items()
                if v in self.category_bits
            )
            open_mask = (
                pl.when(gep_open).then(cands)
                .when(thor_open).then(pl.lit(self.thoracic_mask, pl.Int64()))
            )  # fmt: skip
            open_mask = pl.when(open_mask != 0).then(open_mask)
        ok = (
            pl.col("_fam_ok")
            & pl.col("_cons_ok")
            & ~pl.col("has_components")
            & ~pl.col("minen_diagnosed").fill_null(False)
            & (
                conflict
                | (net & pl.col("_ki_ok") & pl.col("_mi_ok") & pl.col("_comb").is_not_null())
                | nec
                | thor_ok
                | gep_open
                | thor_open
            )
        )
        system = pl.col("rule_family").replace_strict(self.systems, default=None, return_dtype=S)
        grade_issue = (
            pl.when(gx).then(lit("GRADE_NEEDS_PROLIFERATION"))
            .when(disc).then(lit("GRADE_DISCORDANT"))
            .when(single).then(lit("GRADE_SINGLE_INDEX"))
        )  # fmt: skip
        step_issue = (
            pl.when(net).then(grade_issue)
            .when(nec & ~pl.col("_sub_ok")).then(lit("NEC_SUBTYPE_NOT_STATED"))
            .when(gep_open | thor_open).then(lit("CLASSIFICATION_NEEDS_DIFFERENTIATION"))
        )  # fmt: skip
        return lf.with_columns(
            _cls_ok=ok.fill_null(False),
            classification_system=system,
            classification_status=pl.when(conflict)
            .then(lit(Status.CONFLICT.value))
            .when((net & gx) | gep_open | thor_open)
            .then(lit(Status.INSUFFICIENT_DATA.value))
            .otherwise(lit(Status.DETERMINED.value)),
            classification_category=pl.when(net)
            .then(lit("NET"))
            .when(nec)
            .then(lit("NEC"))
            .when(thor)
            .then(pl.col("_thor_cat")),
            classification_grade=pl.when(net & ~gx).then(pl.col("_comb")),
            classification_nec_subtype=pl.when(nec & pl.col("_sub_ok"))
            .then(pl.col("_subtype"))
            .when(thor)
            .then(pl.col("_thor_sub")),
            classification_grade_by_ki67=pl.when((net & ~gx) | gep_open).then(gki),
            classification_grade_by_mitoses=pl.when((net & ~gx) | gep_open).then(gmi),
            classification_grade_discordant=((net & ~gx & disc) | (gep_open & disc)).fill_null(
                False
            ),
            _open_mask=open_mask,
            _cls_issues=pl.concat_list(pl.col("_cons_codes"), one(step_issue)),
        )

    # ------------------------------------------------------------------ stage
    def stage(self, lf: pl.LazyFrame, open_: bool = False) -> pl.LazyFrame:
        """TNM stage (:func:`nenguide.batch.columnar.stage.stage`)."""
        return stage(self, lf, open_)

    # ------------------------------------------------------------------ liver
    def liver(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        """ENETS liver type as :func:`nenguide.engine.liver.liver_type`: not applicable, not for
        NEC, a consistency conflict, type I/II/III, an unclassified pattern (a conflict) or the
        type left open by missing data (insufficient data)."""
        tt = self.t["liver_metastasis.type"]
        lf = eval_first(lf, tt, "_lt")
        lf = eval_collect(lf, self.t["liver_metastasis.consistency"], "_lc", self.kinds)
        mets = pl.col("liver_mets").fill_null(False)
        not_for = pl.col("classification_category").is_in(sorted(NOT_FOR)).fill_null(False)
        ltype = then_col(tt, "_lt", tt.output, S)
        typed = mets & ~not_for
        conflict = typed & (pl.col("_lc_codes").list.len() > 0)
        decided = pl.col("_lt_dec")
        unclassified = decided & (ltype == "unclassified")
        # a pattern no row can type: the engine; unconfirmed content among the rows the engine
        # traces is flagged (the full pathway adds CONTENT_UNCONFIRMED, as the engine does)
        ok = ~typed | (pl.col("_lc_ok") & (conflict | pl.col("_lt_row").is_not_null()))
        issue = (
            pl.when(mets & not_for).then(lit("LIVER_TYPE_NOT_FOR_NEC"))
            .when(typed & ~decided).then(lit("LIVER_TYPE_NEEDS_DATA"))
            .when(typed & unclassified).then(lit("LIVER_PATTERN_UNCLASSIFIED"))
        )  # fmt: skip
        return lf.with_columns(
            _liver_ok=ok.fill_null(False),
            _liver_unc=(typed & ~conflict & pl.col("_lt_unc")).fill_null(False),
            liver_metastasis_type=pl.when(typed & ~conflict & decided & ~unclassified).then(ltype),
            liver_metastasis_status=pl.when(conflict | (typed & unclassified))
            .then(lit(Status.CONFLICT.value))
            .when(typed & ~decided)
            .then(lit(Status.INSUFFICIENT_DATA.value))
            .when(typed)
            .then(lit(Status.DETERMINED.value))
            .otherwise(lit(Status.NOT_APPLICABLE.value)),
            _liver_issues=pl.when(conflict).then(pl.col("_lc_codes")).otherwise(one(issue)),
        )

    def run(
        self,
        facts: pl.DataFrame,
        consistency: bool = False,
        precedence: bool = False,
        once_per_case: bool = False,
    ) -> pl.DataFrame:
        """The core columns of every case, ``core_fallback`` (the engine must assess the case),
        ``core_unconfirmed`` (the core read unconfirmed content) and ``core_issues`` (issue
        codes of the core steps, in the engine's order).

        ``consistency`` (the core-only mode, whose facts skip the engine's fact layer): the
        fact layer's consistency tables make the facts they contradict unknown, and a
        classification left open is decided too (:meth:`classification`); ``precedence``:
        the fact layer's precedence tables set their facts first (the facts were read column
        by column, :mod:`nenguide.batch.columnar.facts`).

        **Once per distinct case.** The compiled tables read a number only through its
        comparisons with the tables' own cut-offs, so each numeric fact is first replaced by a
        representative of its band between those cut-offs (:func:`.plan.bands`: the value
        itself where it equals a cut-off); the program then runs once per distinct row of facts and
        its answers are gathered back in input order (``once_per_case``: on the raw facts, one
        evaluation per case, the reference the tests compare with).

        The plan (a few hundred column steps) is built once, recorded, compacted (steps that
        do not depend on each other merged, :func:`.plan.compact`: Polars pays a fixed cost per
        step on every chunk) and replayed: building it costs more than evaluating it on a small
        chunk."""
        plan = self._plans.get((consistency, precedence))
        if plan is None:
            plan = self._plans[consistency, precedence] = compact(
                self._record(consistency, precedence)
            )
        if once_per_case:  # the raw facts, one evaluation per case (the tests' reference)
            return replay(plan, facts.lazy()).collect(engine=ENGINE, optimizations=OPTIMIZATIONS)
        keys = [k for k in {**self.precedence_inputs, **self.inputs} if k in facts.columns]
        return once_per_group(plan, facts, [*keys, "_fallback"], self.cuts, ENGINE)

    def _record(
        self, consistency: bool, precedence: bool
    ) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
        rec = Recorder()
        lf = cast(pl.LazyFrame, rec)
        for i, table in enumerate(self.precedence if precedence else ()):
            # as engine.fact_layer._first_tables: the output when decided, else unknown
            lf = eval_first(lf, table, f"_fp{i}")
            lf = lf.with_columns(
                pl.when(pl.col(f"_fp{i}_dec"))
                .then(then_col(table, f"_fp{i}", table.output, self.inputs.get(table.output, S)))
                .alias(table.output)
            )
        for i, table in enumerate(self.consistency if consistency else ()):
            lf = apply_consistency(lf, table, f"_fc{i}")
        lf = self.liver(self.stage(self.classification(lf, consistency), consistency))
        lf.select(
            *CORE_OUTPUT,
            core_fallback=pl.col("_fallback")
            | ~(pl.col("_cls_ok") & pl.col("_stage_ok") & pl.col("_liver_ok")),
            core_unconfirmed=pl.col("_liver_unc"),
            core_issues=pl.concat_list(
                pl.col("_cls_issues"), pl.col("_stage_issues"), pl.col("_liver_issues")
            ),
        )
        return rec.ops
