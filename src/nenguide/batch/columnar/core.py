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

from nenguide.batch.columnar.compile import (
    collect_exprs,
    dtype_of,
    first_exprs,
    then_expr,
)
from nenguide.engine.kb import Knowledge
from nenguide.engine.liver import NOT_FOR
from nenguide.engine.stage import PREFIX, UNKNOWN_CATEGORIES
from nenguide.engine.tables import Table
from nenguide.model.assessment import Status

S = pl.String()
B = pl.Boolean()

#: case attributes the step glue reads besides the facts (added by the fact frame)
CASE_COLUMNS = {"has_components": B, "staging_basis": S, "multiple_tumours": B}

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
        self.kinds = kb.issue_kinds
        # every input a compiled table reads: the columns the fact frame must provide
        self.inputs: dict[str, pl.DataType] = dict(CASE_COLUMNS)
        for tab in self._all_tables():
            for name in tab.spec.inputs:
                if name in ("rule_family", "category", "system", "grade_ki67", "grade_mitoses",
                            "t", "n", "m"):  # fmt: skip
                    continue  # outputs of earlier tables, set by the program
                self.inputs.setdefault(name, dtype_of(tab, name))

    def _all_tables(self) -> list[Table]:
        out = list(self.t.values())
        for spec in self.stage_specs:
            for key in ("t_table", "n_table", "m_table", "group_table"):
                if spec.get(key):
                    out.append(self.kb.tables[spec[key]])
        return out

    # ------------------------------------------------------------------ classification
    def classification(self, df: pl.DataFrame) -> pl.DataFrame:
        t = self.t
        fam = first_exprs(t["classification.family"])
        df = df.with_columns(
            _fam_ok=fam.decided & ~fam.unconfirmed,
            rule_family=then_expr(t["classification.family"], fam.row, "family", S),
        )
        cons = collect_exprs(t["classification.consistency"])
        gep = first_exprs(t["classification.gep"])
        ki = first_exprs(t["classification.grade_ki67"])
        mi = first_exprs(t["classification.grade_mitoses"])
        carc = first_exprs(t["classification.thoracic_carcinoid"])
        high = first_exprs(t["classification.thoracic_highgrade"])
        sub = first_exprs(t["classification.nec_subtype"])
        df = df.with_columns(
            _cons_ok=~cons.applies & ~cons.unconfirmed,
            _gep_cat=pl.when(gep.decided & ~gep.unconfirmed).then(
                then_expr(t["classification.gep"], gep.row, "category", S)
            ),
            grade_ki67=pl.when(pl.col("ki67_percent").is_not_null()).then(
                then_expr(t["classification.grade_ki67"], ki.row, "grade", S)
            ),
            grade_mitoses=pl.when(pl.col("mitoses_per_2mm2").is_not_null()).then(
                then_expr(t["classification.grade_mitoses"], mi.row, "grade", S)
            ),
            _ki_ok=pl.col("ki67_percent").is_null() | (ki.decided & ~ki.unconfirmed),
            _mi_ok=pl.col("mitoses_per_2mm2").is_null() | (mi.decided & ~mi.unconfirmed),
            _sub_ok=sub.decided,
            _sub_unconf=sub.unconfirmed,
            _subtype=then_expr(t["classification.nec_subtype"], sub.row, "nec_subtype", S),
            _thor_row=pl.when(pl.col("differentiation") == "well").then(carc.row).otherwise(high.row),
            _thor_ok=pl.when(pl.col("differentiation") == "well")
            .then(carc.decided & ~carc.unconfirmed)
            .otherwise(high.decided & ~high.unconfirmed),
            _thor_cat=pl.when(pl.col("differentiation") == "well")
            .then(then_expr(t["classification.thoracic_carcinoid"], carc.row, "category", S))
            .otherwise(then_expr(t["classification.thoracic_highgrade"], high.row, "category", S)),
            _thor_sub=pl.when(pl.col("differentiation") == "well")
            .then(then_expr(t["classification.thoracic_carcinoid"], carc.row, "nec_subtype", S))
            .otherwise(then_expr(t["classification.thoracic_highgrade"], high.row, "nec_subtype", S)),
        )
        comb_t = t["classification.grade_combine"]
        comb = first_exprs(comb_t)
        df = df.with_columns(
            pl.col("grade_ki67").fill_null("not_reported"),
            pl.col("grade_mitoses").fill_null("not_reported"),
            _gki=pl.col("grade_ki67"),
            _gmi=pl.col("grade_mitoses"),
        ).with_columns(
            _comb=pl.when(comb.decided & ~comb.unconfirmed).then(
                then_expr(comb_t, comb.row, "grade", S)
            ),
        )
        gep_family = pl.col("rule_family") != "thoracic"
        net = gep_family & (pl.col("_gep_cat") == "NET")
        nec = gep_family & (pl.col("_gep_cat") == "NEC")
        thor = (pl.col("rule_family") == "thoracic") & pl.col("differentiation").is_not_null()
        thor_ok = thor & pl.col("_thor_ok") & (
            pl.col("_thor_cat") != "carcinoid_elevated_proliferation"
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
                (net & pl.col("_ki_ok") & pl.col("_mi_ok") & pl.col("_comb").is_not_null())
                | (nec & ~pl.col("_sub_unconf"))
                | thor_ok
            )
        )
        system = pl.col("rule_family").replace_strict(self.systems, default=None, return_dtype=S)
        grade_issue = (
            pl.when(gx).then(_lit("GRADE_NEEDS_PROLIFERATION"))
            .when(disc).then(_lit("GRADE_DISCORDANT"))
            .when(single).then(_lit("GRADE_SINGLE_INDEX"))
        )  # fmt: skip
        return df.with_columns(
            _cls_ok=ok.fill_null(False),
            classification_system=system,
            classification_status=pl.when(net & gx)
            .then(_lit(Status.INSUFFICIENT_DATA.value))
            .otherwise(_lit(Status.DETERMINED.value)),
            classification_category=pl.when(net).then(_lit("NET"))
            .when(nec).then(_lit("NEC"))
            .when(thor).then(pl.col("_thor_cat")),  # fmt: skip
            classification_grade=pl.when(net & ~gx).then(pl.col("_comb")),
            classification_nec_subtype=pl.when(nec & pl.col("_sub_ok")).then(pl.col("_subtype"))
            .when(thor).then(pl.col("_thor_sub")),  # fmt: skip
            classification_grade_by_ki67=pl.when(net & ~gx).then(gki),
            classification_grade_by_mitoses=pl.when(net & ~gx).then(gmi),
            classification_grade_discordant=(net & ~gx & disc).fill_null(False),
            _cls_issue=pl.when(net).then(grade_issue)
            .when(nec & ~pl.col("_sub_ok")).then(_lit("NEC_SUBTYPE_NOT_STATED")),  # fmt: skip
        )

    # ------------------------------------------------------------------ stage
    def stage(self, df: pl.DataFrame) -> pl.DataFrame:
        sys_t = self.t["stage.system"]
        df = df.with_columns(category=pl.col("classification_category"))
        sysx = first_exprs(sys_t)
        df = df.with_columns(
            _sys_row=pl.when(sysx.decided & ~sysx.unconfirmed).then(sysx.row),
            stage_system=then_expr(sys_t, sysx.row, "system", S),
            _not_staged=then_expr(sys_t, sysx.row, "not_staged", S),
        )
        flags = collect_exprs(self.t["stage.flags"])
        df = df.with_columns(system=pl.col("stage_system")).with_columns(
            _flags_ok=~flags.applies & ~flags.unconfirmed
        )
        # T, N and M by the system's own tables (a lung T with descriptors: engine)
        cats: dict[str, pl.Expr] = {}
        oks: dict[str, pl.Expr] = {}
        for k in ("t", "n", "m"):
            val: pl.Expr = _lit(None)
            good: pl.Expr = pl.lit(False)
            for i, spec in enumerate(self.stage_specs):
                table_id = spec.get(f"{k}_table")
                if not table_id or spec.get("t_descriptor_table"):
                    continue
                tab = self.kb.tables[table_id]
                fx = first_exprs(tab)
                hit = pl.col("_sys_row") == i
                val = pl.when(hit).then(then_expr(tab, fx.row, tab.output, S)).otherwise(val)
                good = pl.when(hit).then(fx.decided & ~fx.unconfirmed).otherwise(good)
            cats[k], oks[k] = val, good
        unknown = list(UNKNOWN_CATEGORIES)
        df = df.with_columns(
            _t=cats["t"], _n=cats["n"], _m=cats["m"],
            _tnm_ok=oks["t"] & oks["n"] & oks["m"],
        ).with_columns(  # fmt: skip
            t=pl.when(~pl.col("_t").is_in(unknown)).then(pl.col("_t")),
            n=pl.when(~pl.col("_n").is_in(unknown)).then(pl.col("_n")),
            m=pl.when(~pl.col("_m").is_in(unknown)).then(pl.col("_m")),
        )
        grp: pl.Expr = _lit(None)
        gok: pl.Expr = pl.lit(False)
        for i, spec in enumerate(self.stage_specs):
            if not spec.get("group_table") or spec.get("t_descriptor_table"):
                continue
            tab = self.kb.tables[spec["group_table"]]
            fx = first_exprs(tab)
            hit = pl.col("_sys_row") == i
            grp = pl.when(hit).then(then_expr(tab, fx.row, tab.output, S)).otherwise(grp)
            gok = pl.when(hit).then(fx.decided & ~fx.unconfirmed).otherwise(gok)
        df = df.with_columns(_group=grp, _group_ok=gok)
        not_staged = pl.col("_not_staged").is_not_null()
        staged = pl.col("stage_system").is_not_null() & ~not_staged
        open_ = pl.any_horizontal(
            *[pl.col(f"_{k}").is_null() | pl.col(f"_{k}").is_in(unknown) for k in ("t", "n", "m")]
        )
        no_tumour = pl.col("_group").is_null()
        ok = pl.col("_sys_row").is_not_null() & (
            not_staged
            | (staged & pl.col("_flags_ok") & pl.col("_tnm_ok") & pl.col("_group_ok"))
        )
        prefix = pl.col("staging_basis").replace_strict(
            {k.value: v for k, v in PREFIX.items()}, default=None, return_dtype=S
        )

        def show(c: str) -> pl.Expr:
            return pl.when(pl.col(c) != "MX").then(pl.col(c))

        status = (
            pl.when(not_staged | no_tumour).then(_lit(Status.NOT_APPLICABLE.value))
            .otherwise(_lit(Status.DETERMINED.value))
        )  # fmt: skip
        basis_issue = pl.when(pl.col("staging_basis").is_null()).then(
            pl.lit(["STAGING_BASIS_MISSING"])
        ).otherwise(pl.lit([], pl.List(S)))
        end_issue = (
            pl.when(no_tumour).then(pl.lit(["STAGE_NO_TUMOUR_EVIDENCE"]))
            .when(open_).then(pl.lit(["STAGE_NEEDS_DATA"]))
            .otherwise(pl.lit([], pl.List(S)))
        )  # fmt: skip
        return df.with_columns(
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
            .then(pl.lit(["STAGE_NOT_STAGED"]))
            .otherwise(pl.concat_list(basis_issue, end_issue)),
        )

    # ------------------------------------------------------------------ liver
    def liver(self, df: pl.DataFrame) -> pl.DataFrame:
        tt = self.t["liver_metastasis.type"]
        fx = first_exprs(tt)
        cons = collect_exprs(self.t["liver_metastasis.consistency"])
        mets = pl.col("liver_mets").fill_null(False)
        not_for = pl.col("classification_category").is_in(sorted(NOT_FOR)).fill_null(False)
        ltype = then_expr(tt, fx.row, tt.output, S)
        typed = mets & ~not_for
        ok = ~typed | (
            ~cons.applies & ~cons.unconfirmed & fx.decided & ~fx.unconfirmed
            & (ltype != "unclassified")
        )  # fmt: skip
        return df.with_columns(
            _liver_ok=ok.fill_null(False),
            liver_metastasis_type=pl.when(typed).then(ltype),
            liver_metastasis_status=pl.when(typed)
            .then(_lit(Status.DETERMINED.value))
            .otherwise(_lit(Status.NOT_APPLICABLE.value)),
            _liver_issue=pl.when(mets & not_for).then(_lit("LIVER_TYPE_NOT_FOR_NEC")),
        )

    def run(self, facts: pl.DataFrame) -> pl.DataFrame:
        """The core columns of every case, ``core_fallback`` (the engine must assess the case)
        and ``core_issues`` (issue codes of the core steps, in the engine's order)."""
        df = self.liver(self.stage(self.classification(facts)))
        one = pl.List(S)
        return df.select(
            *CORE_OUTPUT,
            core_fallback=pl.col("_fallback")
            | ~(pl.col("_cls_ok") & pl.col("_stage_ok") & pl.col("_liver_ok")),
            core_issues=pl.concat_list(
                pl.when(pl.col("_cls_issue").is_null())
                .then(pl.lit([], one))
                .otherwise(pl.concat_list(pl.col("_cls_issue"))),
                pl.col("_stage_issues"),
                pl.when(pl.col("_liver_issue").is_null())
                .then(pl.lit([], one))
                .otherwise(pl.concat_list(pl.col("_liver_issue"))),
            ),
        )
