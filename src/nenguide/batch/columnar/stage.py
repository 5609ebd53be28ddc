"""TNM stage over a whole frame, as :func:`nenguide.engine.stage.stage`: the system, the
boundary flags, T, N, M and the group from the system's own tables, with T, N, M and groups left
open by missing data as bit masks of their candidate categories (the engine's ``OneOf``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from nenguide.batch.columnar.compile import eval_collect, eval_first, mask_truth, then_col
from nenguide.batch.columnar.exprs import S, lit, one
from nenguide.engine.logic import one_of
from nenguide.engine.stage import PREFIX, UNKNOWN_CATEGORIES, _common_ancestor
from nenguide.engine.tables import Table
from nenguide.model.assessment import Status

if TYPE_CHECKING:
    from nenguide.batch.columnar.core import CoreProgram


def stage(prog: CoreProgram, lf: pl.LazyFrame, open_: bool = False) -> pl.LazyFrame:
    """Stage as :func:`nenguide.engine.stage.stage`. T, N, M and the group are bit masks of
    their candidate categories (the engine's ``OneOf``), so a T or N left open by missing
    data still gives the group every completion agrees on, or its coarser common group.

    ``open_`` (the core-only mode): the category may be the candidates of an open
    classification (``_open_mask``); the chapter is then chosen as the engine chooses it for a
    ``OneOf`` (decided when every candidate gives the same row), and a chapter left open
    where a candidate has no staging system is "needs classification" (:func:`_needs_cls`)."""
    sys_t = prog.t["stage.system"]
    lf = lf.with_columns(category=pl.col("classification_category"))
    needs_cls: pl.Expr = pl.lit(False)
    if open_:
        cat_bits = prog.category_bits
        known = pl.col("classification_category").replace_strict(
            {c: 1 << b for c, b in cat_bits.items()}, default=None, return_dtype=pl.Int64()
        )
        lf = lf.with_columns(_cat_mask=pl.coalesce(known, pl.col("_open_mask")))
        lf = eval_first(lf, sys_t, "_sys", mask_truth(sys_t, {"category": ("_cat_mask", cat_bits)}))
        lf, needs_cls = _needs_cls(prog, lf, sys_t)
    else:
        lf = eval_first(lf, sys_t, "_sys")
    lf = lf.with_columns(
        _sys_row=pl.when(pl.col("_sys_ok")).then(pl.col("_sys_row")),
        stage_system=then_col(sys_t, "_sys", "system", S),
        _not_staged=then_col(sys_t, "_sys", "not_staged", S),
    )
    lf = lf.with_columns(system=pl.col("stage_system"))
    flags = prog.t["stage.flags"]
    lf = eval_collect(lf, flags, "_flags", prog.kinds)
    # a flag that adds T candidates of its own (engine.stage._t_reported): the engine
    t_extra: pl.Expr = pl.lit(False)
    for row in flags.rows:
        if row.then.get("t_candidates"):
            t_extra = t_extra | pl.col("_flags_codes").list.contains(row.then["code"])
    unknown = list(UNKNOWN_CATEGORIES)
    rank_to_t = {i: t for i, t in enumerate(prog.t_order)}
    shown: dict[str, pl.Expr] = {}
    for k in ("t", "n", "m"):
        bits = prog.bits[k]
        val: pl.Expr = lit(None)
        mask: pl.Expr = pl.lit(None, pl.Int64())
        good: pl.Expr = pl.lit(False)
        disp: pl.Expr = lit(None)
        for i, spec in enumerate(prog.stage_specs):
            table_id = spec.get(f"{k}_table")
            if not table_id:
                continue
            tab = prog.kb.tables[table_id]
            p = f"_{k}{i}"
            lf = eval_first(lf, tab, p, bits=bits)
            hit = pl.col("_sys_row") == i
            v = then_col(tab, p, tab.output, S)
            m = pl.col(f"{p}_mask")
            ok_ = pl.col(f"{p}_any")
            if k == "t" and spec.get("t_descriptor_table"):
                # T = the higher of the size T and the descriptors' T; descriptors not
                # recorded or a size T left open: the engine gives the candidates
                size_rank = v.replace_strict(prog.t_rank, default=None, return_dtype=pl.Int32())
                d = pl.col("lung_descriptor_rank")
                best = pl.when(d > size_rank).then(d).otherwise(size_rank)
                v = best.replace_strict(rank_to_t, default=None, return_dtype=S)
                m = v.replace_strict(
                    {t: 1 << bits[t] for t in prog.t_order}, default=None,
                    return_dtype=pl.Int64(),
                )  # fmt: skip
                ok_ = pl.col(f"{p}_ok") & size_rank.is_not_null() & d.is_not_null()
            val = pl.when(hit).then(v).otherwise(val)
            mask = pl.when(hit).then(m).otherwise(mask)
            good = pl.when(hit).then(ok_).otherwise(good)
            disp = pl.when(hit).then(_ancestor(f"_{k}_mask", tab, bits)).otherwise(disp)
        shown[k] = disp
        lf = lf.with_columns(val.alias(f"_{k}"), mask.alias(f"_{k}_mask"), good.alias(f"_{k}_ok"))
    # open: several candidates; the engine's _known: a single TX, NX, MX or none is unknown
    lf = lf.with_columns(
        *[
            (pl.col(f"_{k}_mask").bitwise_count_ones() > 1).fill_null(False).alias(f"_{k}_open")
            for k in ("t", "n", "m")
        ]
    )
    lf = lf.with_columns(
        *[
            pl.when(~pl.col(f"_{k}_open") & (pl.col(f"_{k}").is_null()
                                              | pl.col(f"_{k}").is_in(unknown)))
            .then(pl.lit(None, pl.Int64()))
            .otherwise(pl.col(f"_{k}_mask"))
            .alias(f"_gm_{k}")
            for k in ("t", "n", "m")
        ]
    )  # fmt: skip
    masks = {k: (f"_gm_{k}", prog.bits[k]) for k in ("t", "n", "m")}
    grp: pl.Expr = lit(None)
    gdec: pl.Expr = pl.lit(False)
    gok: pl.Expr = pl.lit(False)
    done: dict[str, str] = {}
    for i, spec in enumerate(prog.stage_specs):
        if not spec.get("group_table"):
            continue
        tab = prog.kb.tables[spec["group_table"]]
        gbits = prog.group_bits[tab.id]
        if tab.id not in done:
            done[tab.id] = f"_g{len(done)}"
            lf = eval_first(lf, tab, done[tab.id], mask_truth(tab, masks), gbits)
        p = done[tab.id]
        hit = pl.col("_sys_row") == i
        value = (
            pl.when(pl.col(f"{p}_dec"))
            .then(then_col(tab, p, tab.output, S))
            .otherwise(_ancestor(f"{p}_mask", tab, gbits))
        )
        grp = pl.when(hit).then(value).otherwise(grp)
        gdec = pl.when(hit).then(pl.col(f"{p}_dec")).otherwise(gdec)
        gok = pl.when(hit).then(pl.col(f"{p}_any")).otherwise(gok)
    lf = lf.with_columns(_group=grp, _group_dec=gdec, _group_ok=gok)
    # (the system and "not staged" columns read the first candidate row, decided or not)
    not_staged = pl.col("_not_staged").is_not_null() & ~needs_cls
    staged = pl.col("stage_system").is_not_null() & ~not_staged & ~needs_cls
    open_tnm = pl.any_horizontal(
        *[
            pl.col(f"_{k}_open") | pl.col(f"_{k}").is_null() | pl.col(f"_{k}").is_in(unknown)
            for k in ("t", "n", "m")
        ]
    )
    decided = pl.col("_group_dec")
    no_tumour = decided & pl.col("_group").is_null()
    ok = needs_cls | pl.col("_sys_row").is_not_null() & (
        not_staged
        | (
            staged & pl.col("_flags_ok") & ~t_extra & pl.col("_t_ok") & pl.col("_n_ok")
            & pl.col("_m_ok") & pl.col("_group_ok")
        )
    )  # fmt: skip
    prefix = pl.col("staging_basis").replace_strict(
        {k.value: v for k, v in PREFIX.items()}, default=None, return_dtype=S
    )

    def show(k: str) -> pl.Expr:
        c = pl.col(f"_{k}")
        return pl.when(pl.col(f"_{k}_open")).then(shown[k]).when(c != "MX").then(c)

    status = (
        pl.when(needs_cls).then(lit(Status.INSUFFICIENT_DATA.value))
        .when(not_staged | no_tumour).then(lit(Status.NOT_APPLICABLE.value))
        .when(decided).then(lit(Status.DETERMINED.value))
        .when(pl.col("has_conflicted")).then(lit(Status.CONFLICT.value))
        .otherwise(lit(Status.INSUFFICIENT_DATA.value))
    )  # fmt: skip
    basis_issue = one(pl.when(pl.col("staging_basis").is_null()).then(lit("STAGING_BASIS_MISSING")))
    end_issue = one(
        pl.when(no_tumour).then(lit("STAGE_NO_TUMOUR_EVIDENCE"))
        .when(open_tnm | ~decided).then(lit("STAGE_NEEDS_DATA"))
    )  # fmt: skip
    return lf.with_columns(
        _stage_ok=ok.fill_null(False),
        stage_status=status,
        stage_system=pl.when(staged).then(pl.col("stage_system")),
        stage_prefix=pl.when(staged).then(prefix),
        stage_t=pl.when(staged).then(show("t")),
        stage_n=pl.when(staged).then(show("n")),
        stage_m=pl.when(staged).then(show("m")),
        stage_group=pl.when(staged).then(pl.col("_group")),
        stage_t_suffix=pl.when(staged & pl.col("multiple_tumours")).then(lit("(m)")),
        stage_reason=pl.when(not_staged).then(pl.col("_not_staged")),
        _stage_issues=pl.when(needs_cls)
        .then(pl.lit(["STAGE_NEEDS_CLASSIFICATION"], pl.List(S)))
        .when(not_staged)
        .then(pl.lit(["STAGE_NOT_STAGED"], pl.List(S)))
        .otherwise(pl.concat_list(basis_issue, pl.col("_flags_codes"), end_issue)),
    )


def _needs_cls(prog: CoreProgram, lf: pl.LazyFrame, sys_t: Table) -> tuple[pl.LazyFrame, pl.Expr]:
    """Where the engine says "needs classification" (``STAGE_NEEDS_CLASSIFICATION``): the
    chapter row decided has no system and is not a "not staged" row, or the chapter is open
    (``engine.stage._open_system``) and the category is unknown, or a candidate category has
    no decided chapter with a system (the chapter of each candidate evaluated on its own).
    An open chapter whose candidates all have a system is left to the engine."""
    terms = []
    for j, (c, b) in enumerate(prog.category_bits.items()):
        lf = eval_first(lf.with_columns(category=lit(c)), sys_t, f"_sc{j}")
        bad = (
            ~pl.col(f"_sc{j}_dec") | pl.col(f"_sc{j}_row").is_null()
            | then_col(sys_t, f"_sc{j}", "system", S).is_null()
        )  # fmt: skip
        hit = ((pl.col("_cat_mask") & pl.lit(1 << b, pl.Int64())) != 0).fill_null(False)
        lf = lf.with_columns((hit & bad).alias(f"_sc{j}_bad"))
        terms.append(pl.col(f"_sc{j}_bad"))
    lf = lf.with_columns(category=pl.col("classification_category"))
    open_chapter = ~pl.col("_sys_dec") & (pl.col("_cat_mask").is_null() | pl.any_horizontal(terms))
    no_system = (
        pl.col("_sys_ok") & then_col(sys_t, "_sys", "system", S).is_null()
        & then_col(sys_t, "_sys", "not_staged", S).is_null()
    )  # fmt: skip
    lf = lf.with_columns(_needs_cls=(open_chapter | no_system).fill_null(False))
    return lf, pl.col("_needs_cls")


def _ancestor(column: str, table: Table, bits: Mapping[Any, int]) -> pl.Expr:
    """The category shown for a mask of candidates: the engine's common coarser category
    (``engine.stage._common_ancestor``), computed once per distinct mask of the chunk."""
    values = sorted(bits.items(), key=lambda kv: kv[1])

    def of(mask: int) -> str | None:
        return _common_ancestor(table, one_of(v for v, b in values if mask >> b & 1))

    def batch(s: pl.Series) -> pl.Series:
        uniq = [m for m in s.unique().to_list() if m]
        return s.replace_strict({m: of(m) for m in uniq}, default=None, return_dtype=S)

    return pl.col(column).map_batches(batch, return_dtype=S)
