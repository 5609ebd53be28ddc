"""The core steps (classification and grade, TNM stage, ENETS liver type) over a whole frame.

Every table the steps consult is compiled from the knowledge package (:mod:`.compile`), found
through the package's pathway roles, as the engine finds it. The glue between the tables follows
:mod:`nenguide.engine.classify`, :mod:`~nenguide.engine.stage` and :mod:`~nenguide.engine.liver`
for the paths that decide with at most a few fixed issues; every other case is marked
``core_fallback`` and the caller assesses it with the single-case engine (the list is in
docs/batch.md). The differential test (tests/batch/test_columnar.py) checks the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from nenguide.batch.columnar.compile import dtype_of, eval_collect, eval_first, then_col
from nenguide.engine.kb import Knowledge
from nenguide.engine.liver import NOT_FOR
from nenguide.engine.stage import PREFIX, UNKNOWN_CATEGORIES
from nenguide.engine.tables import Table, evaluate_first
from nenguide.model.assessment import Status

S = pl.String()
B = pl.Boolean()

#: case attributes the step glue reads besides the facts (added by the fact frame);
#: ``lung_descriptor_rank``: the highest T rank its lung descriptors set (-1: none recorded)
CASE_COLUMNS = {
    "has_components": B,
    "staging_basis": S,
    "multiple_tumours": B,
    "lung_descriptor_rank": pl.Int32(),
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


def _lit(v: Any, dtype: pl.DataType = S) -> pl.Expr:
    return pl.lit(v, dtype)


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
        self.kinds = kb.issue_kinds
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
        # every input a compiled table reads: the columns the fact frame must provide
        self.inputs: dict[str, pl.DataType] = dict(CASE_COLUMNS)
        for tab in self._all_tables():
            for name in tab.spec.inputs:
                if name in ("rule_family", "category", "system", "grade_ki67", "grade_mitoses",
                            "t", "n", "m"):  # fmt: skip
                    continue  # outputs of earlier tables, set by the program
                self.inputs.setdefault(name, dtype_of(tab, name))

    def _all_tables(self) -> list[Table]:
        out = list(self.t.values()) + list(self.consistency)
        for spec in self.stage_specs:
            for key in ("t_table", "n_table", "m_table", "group_table"):
                if spec.get(key):
                    out.append(self.kb.tables[spec[key]])
        return out

    # ------------------------------------------------------------------ classification
    def classification(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        t = self.t
        lf = eval_first(lf, t["classification.family"], "_fam")
        lf = lf.with_columns(rule_family=then_col(t["classification.family"], "_fam", "family", S))
        lf = eval_collect(lf, t["classification.consistency"], "_cons", self.kinds)
        lf = eval_first(lf, t["classification.gep"], "_gep")
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
        ok = (
            pl.col("_fam_ok")
            & pl.col("_cons_ok")
            & ~pl.col("has_components")
            & (
                conflict
                | (net & pl.col("_ki_ok") & pl.col("_mi_ok") & pl.col("_comb").is_not_null())
                | nec
                | thor_ok
            )
        )
        system = pl.col("rule_family").replace_strict(self.systems, default=None, return_dtype=S)
        grade_issue = (
            pl.when(gx).then(_lit("GRADE_NEEDS_PROLIFERATION"))
            .when(disc).then(_lit("GRADE_DISCORDANT"))
            .when(single).then(_lit("GRADE_SINGLE_INDEX"))
        )  # fmt: skip
        step_issue = (
            pl.when(net).then(grade_issue)
            .when(nec & ~pl.col("_sub_ok")).then(_lit("NEC_SUBTYPE_NOT_STATED"))
        )  # fmt: skip
        return lf.with_columns(
            _cls_ok=ok.fill_null(False),
            classification_system=system,
            classification_status=pl.when(conflict)
            .then(_lit(Status.CONFLICT.value))
            .when(net & gx)
            .then(_lit(Status.INSUFFICIENT_DATA.value))
            .otherwise(_lit(Status.DETERMINED.value)),
            classification_category=pl.when(net)
            .then(_lit("NET"))
            .when(nec)
            .then(_lit("NEC"))
            .when(thor)
            .then(pl.col("_thor_cat")),
            classification_grade=pl.when(net & ~gx).then(pl.col("_comb")),
            classification_nec_subtype=pl.when(nec & pl.col("_sub_ok"))
            .then(pl.col("_subtype"))
            .when(thor)
            .then(pl.col("_thor_sub")),
            classification_grade_by_ki67=pl.when(net & ~gx).then(gki),
            classification_grade_by_mitoses=pl.when(net & ~gx).then(gmi),
            classification_grade_discordant=(net & ~gx & disc).fill_null(False),
            _cls_issues=pl.concat_list(pl.col("_cons_codes"), _one(step_issue)),
        )

    # ------------------------------------------------------------------ stage
    def stage(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        sys_t = self.t["stage.system"]
        lf = lf.with_columns(category=pl.col("classification_category"))
        lf = eval_first(lf, sys_t, "_sys")
        lf = lf.with_columns(
            _sys_row=pl.when(pl.col("_sys_ok")).then(pl.col("_sys_row")),
            stage_system=then_col(sys_t, "_sys", "system", S),
            _not_staged=then_col(sys_t, "_sys", "not_staged", S),
        )
        lf = lf.with_columns(system=pl.col("stage_system"))
        lf = eval_collect(lf, self.t["stage.flags"], "_flags", self.kinds)
        # T, N, M and the group by the system's own tables (a lung T with descriptors: engine)
        rank_to_t = {i: t for i, t in enumerate(self.t_order)}
        for k in ("t", "n", "m"):
            val: pl.Expr = _lit(None)
            good: pl.Expr = pl.lit(False)
            for i, spec in enumerate(self.stage_specs):
                table_id = spec.get(f"{k}_table")
                if not table_id:
                    continue
                tab = self.kb.tables[table_id]
                p = f"_{k}{i}"
                lf = eval_first(lf, tab, p)
                hit = pl.col("_sys_row") == i
                v = then_col(tab, p, tab.output, S)
                ok_ = pl.col(f"{p}_ok")
                if k == "t" and spec.get("t_descriptor_table"):
                    # T = the higher of the size T and the descriptors' T; descriptors not
                    # recorded leave T open (the engine gives the candidates)
                    size_rank = v.replace_strict(self.t_rank, default=None, return_dtype=pl.Int32())
                    d = pl.col("lung_descriptor_rank")
                    best = pl.when(d > size_rank).then(d).otherwise(size_rank)
                    v = best.replace_strict(rank_to_t, default=None, return_dtype=S)
                    ok_ = ok_ & size_rank.is_not_null() & d.is_not_null()
                val = pl.when(hit).then(v).otherwise(val)
                good = pl.when(hit).then(ok_).otherwise(good)
            lf = lf.with_columns(val.alias(f"_{k}"), good.alias(f"_{k}_ok"))
        unknown = list(UNKNOWN_CATEGORIES)
        lf = lf.with_columns(
            t=pl.when(~pl.col("_t").is_in(unknown)).then(pl.col("_t")),
            n=pl.when(~pl.col("_n").is_in(unknown)).then(pl.col("_n")),
            m=pl.when(~pl.col("_m").is_in(unknown)).then(pl.col("_m")),
        )
        grp: pl.Expr = _lit(None)
        gok: pl.Expr = pl.lit(False)
        done: dict[str, str] = {}
        for i, spec in enumerate(self.stage_specs):
            if not spec.get("group_table"):
                continue
            tab = self.kb.tables[spec["group_table"]]
            if tab.id not in done:
                done[tab.id] = f"_g{len(done)}"
                lf = eval_first(lf, tab, done[tab.id])
            p = done[tab.id]
            hit = pl.col("_sys_row") == i
            grp = pl.when(hit).then(then_col(tab, p, tab.output, S)).otherwise(grp)
            gok = pl.when(hit).then(pl.col(f"{p}_ok")).otherwise(gok)
        lf = lf.with_columns(_group=grp, _group_ok=gok)
        not_staged = pl.col("_not_staged").is_not_null()
        staged = pl.col("stage_system").is_not_null() & ~not_staged
        open_ = pl.any_horizontal(
            *[pl.col(f"_{k}").is_null() | pl.col(f"_{k}").is_in(unknown) for k in ("t", "n", "m")]
        )
        no_tumour = pl.col("_group").is_null()
        ok = pl.col("_sys_row").is_not_null() & (
            not_staged
            | (
                staged & pl.col("_flags_ok") & pl.col("_t_ok") & pl.col("_n_ok")
                & pl.col("_m_ok") & pl.col("_group_ok")
            )
        )  # fmt: skip
        prefix = pl.col("staging_basis").replace_strict(
            {k.value: v for k, v in PREFIX.items()}, default=None, return_dtype=S
        )

        def show(c: str) -> pl.Expr:
            return pl.when(pl.col(c) != "MX").then(pl.col(c))

        status = (
            pl.when(not_staged | no_tumour).then(_lit(Status.NOT_APPLICABLE.value))
            .otherwise(_lit(Status.DETERMINED.value))
        )  # fmt: skip
        basis_issue = _one(
            pl.when(pl.col("staging_basis").is_null()).then(_lit("STAGING_BASIS_MISSING"))
        )
        end_issue = _one(
            pl.when(no_tumour).then(_lit("STAGE_NO_TUMOUR_EVIDENCE"))
            .when(open_).then(_lit("STAGE_NEEDS_DATA"))
        )  # fmt: skip
        return lf.with_columns(
            _stage_ok=ok.fill_null(False),
            stage_status=status,
            stage_system=pl.when(staged).then(pl.col("stage_system")),
            stage_prefix=pl.when(staged).then(prefix),
            stage_t=pl.when(staged).then(show("_t")),
            stage_n=pl.when(staged).then(show("_n")),
            stage_m=pl.when(staged).then(show("_m")),
            stage_group=pl.when(staged).then(pl.col("_group")),
            stage_t_suffix=pl.when(staged & pl.col("multiple_tumours")).then(_lit("(m)")),
            stage_reason=pl.when(not_staged).then(pl.col("_not_staged")),
            _stage_issues=pl.when(not_staged)
            .then(pl.lit(["STAGE_NOT_STAGED"], pl.List(S)))
            .otherwise(pl.concat_list(basis_issue, pl.col("_flags_codes"), end_issue)),
        )

    # ------------------------------------------------------------------ liver
    def liver(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        tt = self.t["liver_metastasis.type"]
        lf = eval_first(lf, tt, "_lt")
        lf = eval_collect(lf, self.t["liver_metastasis.consistency"], "_lc", self.kinds)
        mets = pl.col("liver_mets").fill_null(False)
        not_for = pl.col("classification_category").is_in(sorted(NOT_FOR)).fill_null(False)
        ltype = then_col(tt, "_lt", tt.output, S)
        typed = mets & ~not_for
        conflict = typed & (pl.col("_lc_codes").list.len() > 0)
        ok = ~typed | (
            pl.col("_lc_ok") & (conflict | (pl.col("_lt_ok") & (ltype != "unclassified")))
        )
        return lf.with_columns(
            _liver_ok=ok.fill_null(False),
            liver_metastasis_type=pl.when(typed & ~conflict).then(ltype),
            liver_metastasis_status=pl.when(conflict)
            .then(_lit(Status.CONFLICT.value))
            .when(typed)
            .then(_lit(Status.DETERMINED.value))
            .otherwise(_lit(Status.NOT_APPLICABLE.value)),
            _liver_issues=pl.when(conflict)
            .then(pl.col("_lc_codes"))
            .otherwise(_one(pl.when(mets & not_for).then(_lit("LIVER_TYPE_NOT_FOR_NEC")))),
        )

    def run(self, facts: pl.DataFrame) -> pl.DataFrame:
        """The core columns of every case, ``core_fallback`` (the engine must assess the case)
        and ``core_issues`` (issue codes of the core steps, in the engine's order)."""
        lf = self.liver(self.stage(self.classification(facts.lazy())))
        return lf.select(
            *CORE_OUTPUT,
            core_fallback=pl.col("_fallback")
            | ~(pl.col("_cls_ok") & pl.col("_stage_ok") & pl.col("_liver_ok")),
            core_issues=pl.concat_list(
                pl.col("_cls_issues"), pl.col("_stage_issues"), pl.col("_liver_issues")
            ),
        ).collect()


def _one(code: pl.Expr) -> pl.Expr:
    """A list of the code, or an empty list where it is null."""
    return pl.when(code.is_null()).then(pl.lit([], pl.List(S))).otherwise(pl.concat_list(code))
