"""The fact layer's phase 2 over a chunk's columns, as
:func:`nenguide.engine.fact_layer.pathway_facts` makes it once the classification and the
functional syndromes are known, in its order:

1. the reshaping: the classification (category, grade, status), the functional status counted
   over the syndromes evaluated, the confirmed carcinoid syndrome and insulinoma, the
   gastrinoma's status, the ZES history and atrophic gastritis as present / absent / not
   recorded;
2. the treatment flags of the syndromes with a fact of their own (the table of role
   ``syndrome_active``, on each one's status; ``other_syndrome``: another syndrome evaluated
   and active). The table reads one status: the engine evaluates it once per status a
   syndrome table can give, when the program is made, and the columns look the answers up;
3. list ``pathway`` (well differentiated, the gastrinoma facts, the functional status, the
   rectal facts), each table setting its output, unknown where undecided;
4. the MEN1 major manifestations counted (the counting table of role ``men1_major``), raised
   to the package's clinical minimum where MEN1 is diagnosed clinically;
5. the gastric NET type from its cause (role ``gastric_cause``), for a gastric primary; a
   contradictory cause is one issue and the type unknown.

A value the engine leaves open between candidates is held as a bit mask of them, beside the
fact's column (null then): the count of manifestations while a row waits on a missing input
(most cases: the history is seldom recorded in full), the gastric cause and type while the
cause table waits on one (a gastric primary without the history of gastritis or ZES). The
core steps' columns it reads are those of a case the core program decided (never a range of
grades).

tests/batch/test_case_pathway.py holds the columns to ``pathway_facts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from types import MappingProxyType
from typing import Any

import polars as pl

from nenguide.batch.columnar.case_syndromes import SyndromeColumns
from nenguide.batch.columnar.case_tables import first_fact, output_dtype
from nenguide.batch.columnar.compile import dtype_of, first_answer, row_truth, then_col
from nenguide.batch.columnar.exprs import NO_WORDS, WORDS, concat_lists, words_when, words_where
from nenguide.batch.columnar.plan import ENGINE, OPTIMIZATIONS, Plan, Recorder, compact, replay
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import GASTRIC_TYPES, NOT_EVALUATED, STEP
from nenguide.engine.kb import Knowledge
from nenguide.engine.pathway import TX_SYNDROMES
from nenguide.engine.syndromes import syndrome_tables
from nenguide.engine.tables import Table

_GASTRIC_CONFLICT = "TX_GASTRIC_CAUSE_CONFLICT"
#: the classification's columns phase 2 reads (the core program's names)
CLASSIFICATION = {
    "category": "classification_category",
    "grade": "classification_grade",
    "classification_status": "classification_status",
}


@dataclass(frozen=True)
class PathwayColumns:
    """Phase 2 of a chunk, one row per case in order: ``facts`` (the facts phase 2 sets, a
    column each, and ``<fact>_mask`` for the facts in ``masks``), ``issues`` and ``kinds``
    (its issues' codes and kinds, in order) and ``unconfirmed`` (the unconfirmed rules its
    trace names, as often as named). ``masks``: per fact that can be left open, the bit of
    each of its values (its mask has the bit of every candidate; the fact is null when more
    than one is left)."""

    facts: pl.DataFrame
    issues: pl.Series
    kinds: pl.Series
    unconfirmed: pl.Series
    masks: Mapping[str, Mapping[Any, int]]


@dataclass(frozen=True)
class _Program:
    read: dict[str, pl.DataType]  # what phase 2 reads of phase 1, typed
    syndromes: tuple[str, ...]  # every syndrome of the package, in order
    plan: Plan
    outputs: tuple[str, ...]  # the facts phase 2 sets
    masks: Mapping[str, Mapping[Any, int]]
    #: the columns of the unconfirmed rules each part of phase 2 traced, in the engine's order
    #: (joined after the plan: :func:`.exprs.concat_lists`)
    unconfirmed: tuple[str, ...]


def _state(col: pl.Expr) -> pl.Expr:
    """A flag as present / absent / not_recorded (the engine's ``_state``)."""
    return (
        pl.when(col == True)  # noqa: E712
        .then(pl.lit("present"))
        .when(col == False)  # noqa: E712
        .then(pl.lit("absent"))
        .otherwise(pl.lit("not_recorded"))
    )


def _active_answers(kb: Knowledge, table_id: str, statuses: list[str]) -> dict[str, Any]:
    """Per status, the engine's answer of the ``syndrome_active`` table (unknown where
    undecided) and the unconfirmed rules its look-up traces."""
    out: dict[str, Any] = {}
    for st in statuses:
        ctx = Context(kb, "en", notes=False)
        res = ctx.first(STEP, table_id, {"syndrome_status": st})
        traced = chain.from_iterable(e["rule_ids"] for e in ctx.trace)
        out[st] = (res.value if res.decided else None, sorted(kb.unconfirmed_rules & set(traced)))
    return out


def _syndrome_flags(kb: Knowledge, rec: Any, names: tuple[str, ...]) -> tuple[Any, pl.Expr]:
    """Step 2: the flags and ``other_syndrome``; returns the column of the unconfirmed rules
    the look-ups trace."""
    table_id = kb.pathway.optional_table(STEP, "syndrome_active")
    if table_id is None:  # without the table the flags stay unknown
        nulls = [pl.lit(None, pl.Boolean()).alias(n) for n in (*TX_SYNDROMES, "other_syndrome")]
        return rec.with_columns(nulls), NO_WORDS
    statuses = {"insufficient_data", NOT_EVALUATED}
    for t in kb.pathway.tables("functional_syndromes", "syndromes"):
        statuses.update(str(r.then["status"]) for r in kb.tables[t].rows)
    answers = _active_answers(kb, table_id, sorted(statuses))
    value = {st: a[0] for st, a in answers.items()}
    rules = {st: a[1] for st, a in answers.items()}

    def status(name: str) -> pl.Expr:
        col = pl.col(f"_st_{name}") if name in names else pl.lit(None, pl.String())
        return col.fill_null(NOT_EVALUATED)

    def active(st: pl.Expr) -> pl.Expr:
        return st.replace_strict(value, return_dtype=pl.Boolean())

    def traced(st: pl.Expr) -> pl.Expr:
        return st.replace_strict(rules, return_dtype=WORDS)

    others = [n for n in names if n not in TX_SYNDROMES]
    other = [(pl.col(f"_st_{n}").is_not_null() & active(status(n))).fill_null(False)
             for n in others]  # fmt: skip
    rec = rec.with_columns(
        *[active(status(n)).alias(n) for n in TX_SYNDROMES],
        (pl.any_horizontal(other) if other else pl.lit(False)).alias("other_syndrome"),
    )
    if not any(rules.values()):  # no look-up traces unconfirmed content: nothing to list
        return rec, NO_WORDS  # (a list per status and case cost 22 ms on 30 000 cases)
    looked_up = [traced(status(n)) for n in TX_SYNDROMES]
    # the engine's any() over the other syndromes stops at the first active one: the
    # statuses after it are not looked up
    for j, n in enumerate(others):
        before = pl.any_horizontal(other[:j]) if j else pl.lit(False)
        looked_up.append(
            pl.when(pl.col(f"_st_{n}").is_not_null() & ~before)
            .then(traced(status(n)))
            .otherwise(NO_WORDS)
        )
    return rec, pl.concat_list(looked_up)


def _men1(kb: Knowledge, rec: Any) -> tuple[Any, list[str], pl.Expr, dict[str, dict[Any, int]]]:
    """Step 4: the count, and ``<count>_mask`` (bit ``v`` for each count ``v`` it can be: a
    range while rows wait on a missing input, when the count itself is null); returns the
    names of those two columns and the unconfirmed rules that apply."""
    table_id = kb.pathway.optional_table(STEP, "men1_major")
    if table_id is None:
        return rec, [], NO_WORDS, {}
    table = kb.tables[table_id]
    truths = row_truth(table)
    rec = rec.with_columns([t.alias(f"_m{i}") for i, t in enumerate(truths)])
    ts = [pl.col(f"_m{i}") for i in range(len(truths))]
    known = pl.sum_horizontal([t.fill_null(False).cast(pl.Int64()) for t in ts])
    unknown = pl.sum_horizontal([t.is_null().cast(pl.Int64()) for t in ts])
    need = int(kb.parameters["men1_clinical_min_majors"])
    clinical = (pl.col("dx_men1") == True).fill_null(False)  # noqa: E712
    # MEN1 diagnosed clinically: the criteria are met (the engine's arithmetic)
    raised_unknown = (
        pl.when(known < need)
        .then(pl.max_horizontal(pl.lit(0), known + unknown - need))
        .otherwise(unknown)
    )
    rec = rec.with_columns(
        pl.when(clinical).then(pl.max_horizontal(known, pl.lit(need))).otherwise(known)
        .alias("_m_known"),
        pl.when(clinical).then(raised_unknown).otherwise(unknown).alias("_m_unknown"),
    )  # fmt: skip
    # a count left open is a range of candidates: a bit per count (the value null)
    two = pl.lit(2, pl.Int64())
    rec = rec.with_columns(
        pl.when(pl.col("_m_unknown") == 0).then(pl.col("_m_known")).alias(table.output),
        ((two.pow(pl.col("_m_unknown") + 1) - 1) * two.pow(pl.col("_m_known")))
        .alias(f"{table.output}_mask"),
    )  # fmt: skip
    rows = zip(ts, table.rows, strict=True)
    unconfirmed = words_where(
        [(t.fill_null(False), row.id) for t, row in rows if row.id in kb.unconfirmed_rules]
    )
    bits = {v: v for v in range(len(table.rows) + 1)}
    return rec, [table.output, f"{table.output}_mask"], unconfirmed, {table.output: bits}


def _gastric(kb: Knowledge, rec: Any) -> tuple[Any, pl.Expr, pl.Expr, dict[Any, int]]:
    """Step 5: the cause and the type, each with ``<fact>_mask`` (a bit per candidate value,
    :data:`bits`: the cause's candidates, and the type's where every candidate is a type,
    when the value is null); returns the columns of its issue and of the unconfirmed rules
    its look-up traces, and the bits."""
    table: Table = kb.tables[kb.pathway.table(STEP, "gastric_cause")]
    p = "_gc"
    stomach = (pl.col("primary_site") == "stomach").fill_null(False)
    values = sorted({str(r.then[table.output]) for r in table.rows})
    bits = {v: i for i, v in enumerate(values)}
    rec = first_answer(rec, table, p, bits=bits)
    cands = [pl.col(f"{p}_c{i}") for i in range(len(table.rows))]
    # the row the engine names: the one that applies if any, else the first that waits
    named = pl.coalesce(pl.col(f"{p}_k"), pl.col(f"{p}_row"))
    value = then_col(table, p, table.output, output_dtype(table))
    decided = stomach & pl.col(f"{p}_dec")
    open_ = stomach & ~pl.col(f"{p}_dec") & pl.col(f"{p}_row").is_not_null()
    mask = pl.col(f"{p}_mask")
    types = sum(1 << bits[t] for t in GASTRIC_TYPES if t in bits)
    # the inputs a candidate row reads that are unknown, sorted, each once
    reads: dict[str, list[pl.Expr]] = {}
    for c, row in zip(cands, table.rows, strict=True):
        for cond in row.conditions:
            reads.setdefault(cond.fact, []).append(c)
    missing = [words_when(open_ & pl.any_horizontal(cs) & pl.col(f).is_null(), [f])
               for f, cs in sorted(reads.items())]  # fmt: skip
    rule = named.replace_strict({i: r.id for i, r in enumerate(table.rows)},
                                return_dtype=pl.String())  # fmt: skip
    # undecided between rows that give one value (they differ in another part of their
    # answer): the engine keeps that value as the cause, and no type
    one = (mask & (mask - 1)) == 0
    rec = rec.with_columns(
        pl.when(decided | (open_ & one)).then(value).alias("gastric_cause"),
        pl.when(decided | open_).then(mask).alias("gastric_cause_mask"),
        pl.when(decided).then(rule).alias("gastric_cause_rule"),
        (pl.concat_list(missing) if missing else NO_WORDS).alias("gastric_cause_missing"),
        pl.when(decided & value.is_in(sorted(GASTRIC_TYPES))).then(value).alias("gastric_type"),
        pl.when((decided | (open_ & ~one)) & ((mask & ~types) == 0))
        .then(mask)
        .alias("gastric_type_mask"),
    )
    conflict = decided & (value == "conflict").fill_null(False)
    rows = zip(cands, table.rows, strict=True)
    unconfirmed = words_where(
        [(stomach & c, row.id) for c, row in rows if row.id in kb.unconfirmed_rules]
    )
    return rec, conflict, unconfirmed, bits


def _program(kb: Knowledge) -> _Program:
    found, _, _ = syndrome_tables(kb)
    names = tuple(t[1] for t in found)
    pathway = [kb.tables[t] for t in kb.pathway.tables(STEP, "pathway")]
    read: dict[str, pl.DataType] = {
        "hx_zollinger_ellison_syndrome": pl.Boolean(),
        "atrophic_gastritis": pl.Boolean(),
        "dx_men1": pl.Boolean(),
        "primary_site": pl.String(),
    }
    roles = [kb.pathway.optional_table(STEP, r) for r in ("men1_major", "gastric_cause")]
    for t in [*pathway, *(kb.tables[r] for r in roles if r is not None)]:
        read.update({n: dtype_of(t, n) for n in t.spec.inputs if n not in read})
    sts = [pl.col(f"_st_{n}") for n in names]

    def count(status: str) -> pl.Expr:
        return (
            pl.any_horizontal([(s == status).fill_null(False) for s in sts])
            if sts
            else (pl.lit(False))
        )

    made = {
        "syndrome_confirmed": count("confirmed"),
        "syndrome_suspected": count("suspected"),
        "syndrome_open": count("insufficient_data"),
        "syndromes_all_excluded": (
            pl.any_horizontal([s.is_not_null() for s in sts])
            & pl.all_horizontal([s.is_null() | (s == "excluded") for s in sts])
            if sts else pl.lit(False)
        ),
        "confirmed_carcinoid_syndrome": _is(names, "carcinoid_syndrome", "confirmed"),
        "confirmed_insulinoma": _is(names, "insulinoma", "confirmed"),
        "zes_history": _state(pl.col("hx_zollinger_ellison_syndrome")),
        "gastrinoma_status": (
            pl.col("_st_gastrinoma") if "gastrinoma" in names else pl.lit(None, pl.String())
        ).fill_null(NOT_EVALUATED),
        "classified": pl.col("category").is_not_null(),
        "aag": _state(pl.col("atrophic_gastritis")),
    }  # fmt: skip
    rec: Any = Recorder().with_columns([e.alias(k) for k, e in made.items()])
    rec, flags_unc = _syndrome_flags(kb, rec, names)
    uids: list[pl.Expr] = [flags_unc]
    for i, t in enumerate(pathway):
        rec, u = first_fact(rec, t, f"_pw{i}")
        uids.append(pl.col(u))
    rec, men1_out, men1_unc, masks = _men1(kb, rec)
    uids.append(men1_unc)
    rec, conflict, gastric_unc, gastric_bits = _gastric(kb, rec)
    uids.append(gastric_unc)
    registered = kb.issue_kinds[_GASTRIC_CONFLICT]
    kind = str(getattr(registered, "value", registered))
    rec = rec.with_columns(
        words_when(conflict, [_GASTRIC_CONFLICT]).alias("_p2_issues"),
        words_when(conflict, [kind]).alias("_p2_kinds"),
        *[u.alias(f"_p2_unc{j}") for j, u in enumerate(uids)],
    )  # fmt: skip
    outputs = (
        *CLASSIFICATION, *made, *TX_SYNDROMES, "other_syndrome",
        *(t.output for t in pathway), *men1_out,
        "gastric_cause", "gastric_cause_mask", "gastric_cause_rule", "gastric_cause_missing",
        "gastric_type", "gastric_type_mask",
    )  # fmt: skip
    masks |= {"gastric_cause": gastric_bits, "gastric_type": gastric_bits}
    # read-only: the program is kept per package and its masks handed to every chunk's caller
    frozen = MappingProxyType({k: MappingProxyType(dict(v)) for k, v in masks.items()})
    unconfirmed = tuple(f"_p2_unc{j}" for j in range(len(uids)))
    return _Program(
        read, names, compact(rec.ops), tuple(dict.fromkeys(outputs)), frozen, unconfirmed
    )


def _is(names: tuple[str, ...], name: str, status: str) -> pl.Expr:
    if name not in names:
        return pl.lit(False)
    return (pl.col(f"_st_{name}") == status).fill_null(False)


def pathway_columns(
    facts: pl.DataFrame, classification: pl.DataFrame, syndromes: SyndromeColumns, kb: Knowledge
) -> PathwayColumns:
    """Phase 2 over ``facts`` (phase 1's columns), ``classification`` (the core program's
    columns named in :data:`CLASSIFICATION`) and ``syndromes`` (:mod:`.case_syndromes`)."""
    prog = kb.derived(("columnar_pathway",), lambda: _program(kb))
    n = facts.height
    given = [
        facts[c] if c in facts.columns else pl.Series(c, [None] * n, dtype=d)
        for c, d in prog.read.items()
        if c not in CLASSIFICATION
    ]
    given += [classification[col].alias(fact) for fact, col in CLASSIFICATION.items()]
    given += [syndromes.by_syndrome[s].alias(f"_st_{s}") for s in prog.syndromes]
    out = replay(prog.plan, pl.DataFrame(given).lazy()).collect(
        engine=ENGINE, optimizations=OPTIMIZATIONS
    )
    return PathwayColumns(
        out.select(prog.outputs),
        out["_p2_issues"].alias("issues"),
        out["_p2_kinds"].alias("kinds"),
        concat_lists(out.select(prog.unconfirmed), "unconfirmed"),
        prog.masks,
    )
