"""The functional-syndrome step over a chunk's columns, as
:func:`nenguide.engine.syndromes.functional_syndromes` evaluates it on one case's facts (it
reads the facts and the lab index only): what the flat row shows of it and what the later
steps' keys read.

In the engine's order:

1. the interference table (role ``interference``, ``collect``): one warning per row that
   applies, its ``code``;
2. each syndrome table of list ``syndromes``, in order, evaluated only where one of its
   triggers is present (a trigger symptom or history item recorded true, or a trigger analyte
   with a result in the lab index). A table's hit policy is ``priority``: the first row in
   table order that applies gives the status (a row above it that waits on a missing input
   does not hold it back), and its ``caveats`` are warnings; with no row that applies, the
   status is ``insufficient_data`` with one SYNDROME_NEEDS_DATA item;
3. for the carcinoid syndrome, when evaluated, the heart-disease table (role ``chd``,
   ``collect``) on its status: one warning per row that applies, its ``caveat``.

Every condition is the table's own, compiled by :mod:`.compile`. The unconfirmed rules are
those the engine's trace names: the rows of each table consulted that apply.

tests/batch/test_case_syndromes.py holds the columns to the engine's step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from nenguide.batch.columnar.compile import dtype_of, row_truth
from nenguide.batch.columnar.exprs import NO_WORDS, concat_lists, concat_words, words_when
from nenguide.batch.columnar.plan import ENGINE, OPTIMIZATIONS, Plan, Recorder, compact, replay
from nenguide.engine.kb import Knowledge
from nenguide.engine.syndromes import STEP, syndrome_tables
from nenguide.engine.tables import Table
from nenguide.model.assessment import IssueKind

_WARNING = IssueKind.warning.value
_NEEDS_DATA = ("SYNDROME_NEEDS_DATA", IssueKind.insufficient_data.value)
_CARCINOID = "carcinoid_syndrome"


@dataclass(frozen=True)
class SyndromeColumns:
    """The step's columns, one row per case in order, each a list in the engine's order:
    ``names`` and ``statuses`` (the syndromes evaluated), ``rules`` (per syndrome evaluated,
    the rule that gave its status; null: none applied), ``issues`` and ``kinds`` (the codes
    and kinds of the step's issues) and ``unconfirmed`` (the unconfirmed rules the step's
    trace names, as often as named); ``by_syndrome``: a column per syndrome of the package,
    named as the syndrome, its status (null: not evaluated)."""

    names: pl.Series
    statuses: pl.Series
    rules: pl.Series
    issues: pl.Series
    kinds: pl.Series
    unconfirmed: pl.Series
    by_syndrome: pl.DataFrame


def _truths(table: Table, p: str) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Each row's truth as a column (true where it applies; unknown counts as not applying)
    and the expressions that read them."""
    made = [t.fill_null(False).alias(f"{p}{i}") for i, t in enumerate(row_truth(table))]
    return made, [pl.col(f"{p}{i}") for i in range(len(made))]


def _unconfirmed(kb: Knowledge, table: Table, applies: list[pl.Expr], on: pl.Expr) -> pl.Expr:
    """The unconfirmed rows of ``table`` that apply, where the table is consulted (``on``)."""
    ids = [
        words_when(on & a, [row.id])
        for a, row in zip(applies, table.rows, strict=True)
        if row.id in kb.unconfirmed_rules
    ]
    return concat_words(ids)


class _Parts:
    """The step's expressions as they are made, each list in the engine's order."""

    def __init__(self) -> None:
        self.codes: list[pl.Expr] = []
        self.kinds: list[pl.Expr] = []
        self.unconfirmed: list[pl.Expr] = []
        self.names: list[pl.Expr] = []
        self.statuses: list[pl.Expr] = []
        self.rules: list[pl.Expr] = []

    def warnings(self, flag: pl.Expr, codes: Sequence[str]) -> None:
        self.codes.append(words_when(flag, codes))
        self.kinds.append(words_when(flag, [_WARNING] * len(codes)))


def _read(kb: Knowledge) -> dict[str, pl.DataType]:
    """The columns the step reads of phase 1: its tables' inputs and its trigger items."""
    tables = kb.tables
    found, _, _ = syndrome_tables(kb)
    read: dict[str, pl.DataType] = {}
    for role in ("interference", "chd"):
        table = tables[kb.pathway.table(STEP, role)]
        read.update({n: dtype_of(table, n) for n in table.spec.inputs if n not in read})
    for t in found:
        table = tables[t[0]]
        read.update({n: dtype_of(table, n) for n in table.spec.inputs if n not in read})
        read.update({n: pl.Boolean() for n in (*t[3], *t[5]) if n not in read})
    read.pop("carcinoid_status", None)  # the carcinoid syndrome's status, made by the step
    return read


def _syndrome(
    lf: Any, kb: Knowledge, s: int, trig: Any, analytes: Sequence[str], parts: _Parts
) -> tuple[Any, pl.Expr]:
    """Syndrome table ``s`` of the list (``trig``: its entry of :func:`syndrome_tables`):
    whether it is evaluated, its status, the rule that gave it and its issues; returns the
    column of whether it is evaluated."""
    table_id, name, _params, symptoms, trigger_analytes, history = trig
    table = kb.tables[table_id]
    # a trigger item recorded true (the engine's ``v is True``), or a trigger analyte's result
    is_true = [(pl.col(f) == True).fill_null(False) for f in (*symptoms, *history)]  # noqa: E712
    has = [pl.col(f"_lab_{a}").is_not_null() for a in trigger_analytes if a in analytes]
    made, applies = _truths(table, f"_s{s}_")
    evaluated = pl.any_horizontal([*is_true, *has]) if is_true or has else pl.lit(False)
    lf = lf.with_columns(*made, evaluated.alias(f"_s{s}_on"))
    on = pl.col(f"_s{s}_on")
    # priority: the first row that applies, in table order
    chosen = pl.coalesce([pl.when(a).then(pl.lit(i, pl.Int32())) for i, a in enumerate(applies)])
    rows = dict(enumerate(table.rows))
    status = chosen.replace_strict({i: r.then["status"] for i, r in rows.items()},
                                   return_dtype=pl.String())  # fmt: skip
    lf = lf.with_columns(
        pl.when(on).then(status.fill_null("insufficient_data")).alias(f"_s{s}_status"),
        chosen.replace_strict({i: r.id for i, r in rows.items()}, return_dtype=pl.String())
        .alias(f"_s{s}_rule"),
    )  # fmt: skip
    parts.names.append(words_when(on, [name]))
    for what, out in (("status", parts.statuses), ("rule", parts.rules)):
        out.append(pl.when(on).then(pl.concat_list(pl.col(f"_s{s}_{what}"))).otherwise(NO_WORDS))
    needs = on & chosen.is_null()
    parts.codes.append(words_when(needs, [_NEEDS_DATA[0]]))
    parts.kinds.append(words_when(needs, [_NEEDS_DATA[1]]))
    for i, row in rows.items():
        caveats = list(row.then.get("caveats") or [])
        if caveats:
            parts.warnings(on & (chosen == i), caveats)
    parts.unconfirmed.append(_unconfirmed(kb, table, applies, on))
    return lf, on


def _lists(parts: _Parts) -> list[pl.Expr]:
    return [
        concat_words(parts.names).alias("names"),
        concat_words(parts.statuses).alias("statuses"),
        concat_words(parts.rules).alias("rules"),
        concat_words(parts.codes).alias("issues"),
        concat_words(parts.kinds).alias("kinds"),
        concat_words(parts.unconfirmed).alias("unconfirmed"),
    ]


@dataclass(frozen=True)
class _Program:
    """The step's expressions, made once per package and set of analytes."""

    read: dict[str, pl.DataType]
    head: Plan  # the interference warnings, on every case
    trigger: pl.Expr  # a trigger of some syndrome present
    body: Plan  # the syndromes, on the cases with a trigger


def _program(kb: Knowledge, analytes: tuple[str, ...]) -> _Program:
    interference = kb.tables[kb.pathway.table(STEP, "interference")]
    chd = kb.tables[kb.pathway.table(STEP, "chd")]
    head = _Parts()
    made, applies = _truths(interference, "_si")
    for a, row in zip(applies, interference.rows, strict=True):
        head.warnings(a, [row.then["code"]])
    head.unconfirmed.append(_unconfirmed(kb, interference, applies, pl.lit(True)))
    first: Any = Recorder().with_columns(made).select("_i", *_lists(head))
    found, flags, all_analytes = syndrome_tables(kb)
    trigger = [(pl.col(f) == True).fill_null(False) for f in flags]  # noqa: E712
    trigger += [pl.col(f"_lab_{a}").is_not_null() for a in sorted(all_analytes) if a in analytes]
    body = _Parts()
    rec: Any = Recorder()
    for s, trig in enumerate(found):
        rec, on = _syndrome(rec, kb, s, trig, analytes, body)
        if trig[1] == _CARCINOID:  # its heart-disease table, on its status
            made, applies = _truths(chd, "_chd")
            rec = rec.with_columns(pl.col(f"_s{s}_status").alias("carcinoid_status"))
            rec = rec.with_columns(made)
            for a, row in zip(applies, chd.rows, strict=True):
                body.warnings(on & a, [row.then["caveat"]])
            body.unconfirmed.append(_unconfirmed(kb, chd, applies, on))
    statuses = [pl.col(f"_s{s}_status").alias(f"_status_{t[1]}") for s, t in enumerate(found)]
    rec = rec.select("_i", *_lists(body), *statuses)
    return _Program(
        _read(kb),
        compact(first.ops),
        pl.any_horizontal(trigger) if trigger else pl.lit(False),
        compact(rec.ops),
    )


def syndrome_columns(
    facts: pl.DataFrame, lab_index: pl.DataFrame, kb: Knowledge
) -> SyndromeColumns:
    """The step over ``facts`` (phase 1's columns) and ``lab_index`` (per analyte, the position
    of the result its facts came from; null: no usable result)."""
    analytes = tuple(lab_index.columns)
    prog = kb.derived(("columnar_syndromes", analytes), lambda: _program(kb, analytes))
    given = [
        facts[c] if c in facts.columns else pl.Series(c, [None] * facts.height, dtype=d)
        for c, d in prog.read.items()
    ]
    frame = pl.DataFrame(given + [lab_index[c].alias(f"_lab_{c}") for c in analytes])
    frame = frame.with_row_index("_i")
    first = replay(prog.head, frame.lazy())
    # the syndromes only on the cases with a trigger present (most have none: the engine
    # returns at once for them too)
    second = replay(prog.body, frame.lazy().filter(prog.trigger))
    names = ["names", "statuses", "rules", "issues", "kinds", "unconfirmed"]
    both = first.join(second, on="_i", how="left", maintain_order="left", suffix="_s").collect(
        engine=ENGINE, optimizations=OPTIMIZATIONS
    )
    # each list: the interference warnings' (every case), then the syndromes' (the cases with
    # a trigger; none for the others), joined on the items (45 -> about 25 ms, 30 000 cases)
    out = pl.concat(
        [
            pl.DataFrame([concat_lists(both.select(n, f"{n}_s"), n) for n in names]),
            both.select(pl.col("^_status_.*$")),
        ],
        how="horizontal",
    )
    by_syndrome = out.select(pl.col("^_status_.*$").name.map(lambda c: c[len("_status_") :]))
    return SyndromeColumns(
        out["names"],
        out["statuses"],
        out["rules"],
        out["issues"],
        out["kinds"],
        out["unconfirmed"],
        by_syndrome,
    )
