"""The follow-up decision's key over a chunk's columns: what the decision's answer, as the flat
row shows it, depends on (:meth:`.followup.FollowUpProgram._answers`, which works it out case
by case from the engine's facts), in the decision's order
(:func:`nenguide.engine.followup.follow_up_decision`):

* the grades the classification read from each index, and whether the grade was read from
  one index only (``single``); while the grade is open, the grades the classification's
  combine table still allows (the engine's :func:`~nenguide.engine.context.grades_left`,
  evaluated once per pair of index grades when the program is made) are the view's grade, a
  bit mask read as the engine reads a range of candidates (:func:`.compile.mask_truth`);
* the family and exemption tables' answers on the view (:data:`nenguide.engine.followup.
  FOLLOWUP_VIEW`; the exemption reads the open grades where the grade was read from one
  index): the rows that decide or wait (a bit each) and the one that decides (which inputs
  they wait on decides only the fields an issue names, which the flat row does not show);
* with the family decided and the exemption excluded: the risk table's answer (a NET), the
  schedule's on the view with the family and the risk group, and the extra exams' rows that
  apply; where the schedule is open on the risk group alone, the risk and schedule tables'
  inputs themselves (each number as its band between the tables' cut-offs), from which the
  engine chooses over every risk group still possible.

Every condition is the table's own, compiled by :mod:`.compile`. A case goes to the engine
(``fallback``) whose grade is none of the grades the tables know, whose open grades no mask
holds, or whose gastric type is left open between candidates (phase 2's mask). tests/batch/
test_case_followup.py holds the key to the program's own: cases with one key here have one
key there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from nenguide.batch.columnar.compile import (
    condition_truth,
    dtype_of,
    first_answer,
    row_truth,
    then_col,
)
from nenguide.batch.columnar.exprs import bit_mask
from nenguide.batch.columnar.plan import ENGINE, bands, cut_offs
from nenguide.engine.context import Context, grades_left
from nenguide.engine.followup import FOLLOWUP_VIEW, STEP
from nenguide.engine.kb import Knowledge
from nenguide.engine.pathway import KNOWN_MET_STATUSES
from nenguide.engine.tables import Table

_ROLES = ("family", "exemption", "risk", "schedule", "extra_exams")
_I64 = pl.Int64()
#: the core program's columns of the indices' own grades
GRADE_BY = ("classification_grade_by_ki67", "classification_grade_by_mitoses")


@dataclass(frozen=True)
class FollowUpKey:
    """The key, one row per case in order (``frame``: its columns, null where a part does
    not apply) and the cases the columns cannot key (``fallback``: the engine's)."""

    frame: pl.DataFrame
    fallback: pl.Series


@dataclass(frozen=True)
class _Program:
    tables: dict[str, Table]
    bits: dict[str, int]  # grade -> bit
    open_masks: dict[tuple[str | None, str | None], int | None]  # index grades -> grades left
    cuts: dict[str, list[float]]


def _program(kb: Knowledge) -> _Program:
    ctx = Context(kb, "en", notes=False)
    tables = {role: kb.tables[ctx.table_id(STEP, role)] for role in _ROLES}
    grades: set[str] = set()
    for t in tables.values():
        dom = t.spec.inputs.get("grade")
        if dom is not None and dom.values:
            grades.update(str(v) for v in dom.values)
    combine = kb.tables[ctx.table_id("classification", "grade_combine")]
    index_grades = sorted({str(v) for n in combine.spec.inputs.values() for v in n.values or ()})
    bits = {g: i for i, g in enumerate(sorted(grades))}
    open_masks: dict[tuple[str | None, str | None], int | None] = {}
    for k in [None, *index_grades]:
        for m in [None, *index_grades]:
            left = grades_left(ctx, STEP, k, m) if (k, m) != (None, None) else frozenset()
            known = [g for g in left if g in bits]
            # -1: a grade the follow-up tables do not know (no mask holds it: the engine's)
            open_masks[k, m] = (
                None if not left
                else sum(1 << bits[g] for g in known) if len(known) == len(left) else -1
            )  # fmt: skip
    return _Program(tables, bits, open_masks, cut_offs(tables.values()))


def _first(lf: Any, table: Table, p: str, grade: str | None, bits: dict[str, int]) -> Any:
    """A first table over ``lf``, its grade the mask column ``grade``
    (:func:`.compile.first_answer`)."""
    return first_answer(lf, table, p, {"grade": (grade, bits)} if grade is not None else None)


def _waits_on_other(table: Table, p: str, other: str, masks: dict[str, Any]) -> pl.Expr:
    """Whether a candidate row of ``table`` (evaluated as ``p``) waits on an input other than
    ``other``: a condition of it unknown (the engine's result names such inputs missing)."""
    flags = [
        pl.col(f"{p}_c{i}") & condition_truth(table, c, masks).is_null()
        for i, row in enumerate(table.rows)
        for c in row.conditions
        if c.fact != other
    ]
    return pl.any_horizontal(flags).fill_null(False) if flags else pl.lit(False)


def followup_key(facts: pl.DataFrame, kb: Knowledge) -> FollowUpKey:
    """The key over ``facts``: phase 1 and phase 2's columns, the classification's included
    (with the core program's :data:`GRADE_BY`)."""
    prog = kb.derived(("columnar_followup_key",), lambda: _program(kb))
    t, bits = prog.tables, prog.bits
    dtypes = {n: dtype_of(tab, n) for tab in t.values() for n in tab.spec.inputs}
    cols = [
        (pl.col(fact) if fact in facts.columns else pl.lit(None, dtypes.get(name))).alias(name)
        for name, fact in FOLLOWUP_VIEW.items()
    ]
    masks = [pl.col("gastric_type_mask")] if "gastric_type_mask" in facts.columns else []
    lf = facts.lazy().select(*cols, *[pl.col(c) for c in GRADE_BY], *masks)
    lf = lf.with_columns(
        pl.when(pl.col("met_status").is_in(list(KNOWN_MET_STATUSES))).then(pl.col("met_status"))
    )
    ki, mi = (pl.col(c) for c in GRADE_BY)
    grade = pl.col("grade")
    single_index = grade.is_not_null() & (ki.is_null() != mi.is_null())
    settled = grade.is_not_null() & ~single_index
    left: pl.Expr = pl.lit(-1, _I64)  # a pair of index grades the combine table does not know
    for (k, m), mask in prog.open_masks.items():
        same = ki.eq_missing(pl.lit(k, pl.String())) & mi.eq_missing(pl.lit(m, pl.String()))
        left = pl.when(same).then(pl.lit(mask, _I64)).otherwise(left)
    needed = ~(settled | (ki.is_null() & mi.is_null()))
    open_grade = pl.when(needed).then(left)
    own = grade.replace_strict(bits, default=None, return_dtype=_I64)
    # the engine's cases: a grade the tables do not know, grades left open that no mask holds,
    # a gastric type left open between candidates (the engine reads them as a range)
    unheld = [grade.is_not_null() & own.is_null(), needed & (left == -1).fill_null(False)]
    if "gastric_type_mask" in facts.columns:
        unheld.append(pl.col("gastric_type_mask").is_not_null() & pl.col("gastric_type").is_null())
    lf = lf.with_columns(
        pl.when(open_grade != -1).then(open_grade).alias("_open"),
        pl.lit(2, _I64).pow(own).alias("_own"),
        pl.any_horizontal(unheld).fill_null(False).alias("fallback"),
    ).with_columns(
        (pl.col("_open").is_not_null() & single_index).alias("single"),
        pl.coalesce(pl.col("_own"), pl.col("_open")).alias("_ffg"),
    ).with_columns(
        pl.when(pl.col("single")).then(pl.col("_open")).otherwise(pl.col("_ffg")).alias("_exg"),
    )  # fmt: skip
    lf = _first(lf, t["family"], "fam", "_ffg", bits)
    lf = _first(lf, t["exemption"], "ex", "_exg", bits)
    exempt = then_col(t["exemption"], "ex", t["exemption"].output, pl.Boolean())
    going = pl.col("fam_dec") & pl.col("ex_dec") & (exempt != True).fill_null(True)  # noqa: E712
    family = then_col(t["family"], "fam", t["family"].output, pl.String())
    lf = lf.with_columns(
        going.alias("_going"), pl.when(going).then(family).alias(t["family"].output)
    )
    risk_t, sched_t, extra_t = t["risk"], t["schedule"], t["extra_exams"]
    net = pl.col("_going") & (pl.col(t["family"].output) == "net").fill_null(False)
    lf = _first(lf, risk_t, "risk", "_ffg", bits)
    risk = then_col(risk_t, "risk", risk_t.output, pl.String())
    lf = lf.with_columns(
        net.alias("_net"), pl.when(net & pl.col("risk_dec")).then(risk).alias(risk_t.output)
    )
    lf = _first(lf, sched_t, "sched", "_ffg", bits)
    # the schedule open on the risk group alone: no other input it waits on is unknown
    other = _waits_on_other(sched_t, "sched", risk_t.output, {"grade": ("_ffg", bits)})
    over = pl.col("_net") & ~pl.col("risk_dec") & ~pl.col("sched_dec") & ~other
    extra = row_truth(extra_t)
    lf = lf.with_columns(over.alias("_over"), bit_mask(extra).alias("_extra"))
    going, on_net, over = pl.col("_going"), pl.col("_net"), pl.col("_over")
    inputs = sorted({*risk_t.names, *sched_t.names} - {risk_t.output, "grade"})
    key = [
        pl.col("single"), ki.alias("grade_by_ki67"), mi.alias("grade_by_mitoses"),
        pl.col("fam_cands"), pl.col("fam_k"), pl.col("ex_cands"), pl.col("ex_k"),
        pl.when(on_net).then(pl.col("risk_cands")).alias("risk_cands"),
        pl.when(on_net).then(pl.col("risk_k")).alias("risk_k"),
        pl.when(going).then(pl.col("sched_cands")).alias("sched_cands"),
        pl.when(going).then(pl.col("sched_k")).alias("sched_k"),
        pl.when(going).then(pl.col("_extra")).alias("extra_applies"),
        pl.when(over).then(pl.col("_ffg")).alias("over_grade"),
        *[pl.when(over).then(bands(n, prog.cuts.get(n))).alias(f"over_{n}") for n in inputs],
    ]  # fmt: skip
    out = lf.select(*key, "fallback").collect(engine=ENGINE)
    return FollowUpKey(out.drop("fallback"), out["fallback"])
