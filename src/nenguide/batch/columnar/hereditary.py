"""Hereditary screening over a whole chunk: the pathway's last step, columnar.

The trigger table (the collect table of role ``triggers`` of step ``hereditary``) is compiled
to Polars expressions (:func:`.compile.row_truth`, Kleene logic as in the engine) and
evaluated over every case of the chunk at once, as two bit masks per case: the rows that
apply and the rows that wait on a missing input (what the engine's compiled table function
answers, :func:`nenguide.engine.table_eval.collect_parts`).

What the flat row shows of the step (status, testing recommended, syndromes, genes, its issue
codes and whether it traced unconfirmed content) depends on the case only through

* those two masks,
* whether the fields behind the missing inputs are known to be missing, when rows apply and
  others wait (the issue ``HEREDITARY_FURTHER_TRIGGERS_UNKNOWN`` is raised only then; the
  engine's :func:`~nenguide.engine.hereditary.missing_fields`, per such case), and
* the genes of the patient's and the relatives' variants and the genes already tested.

So the engine's own step (:func:`nenguide.engine.hereditary.hereditary`) runs once per
distinct set of these, on the first case that has it, and every other case with the same set
gets its answer: nothing of the step's logic is written twice. A case whose inputs a column
cannot hold (a range of candidates, :func:`.exprs.fits`) is screened by the engine itself
(:meth:`HereditaryProgram.engine`), as is every case when the trigger table has more rows
than a mask holds. tests/batch/test_columnar_hereditary.py and the batch's
differential test compare it with the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce
from itertools import chain
from operator import itemgetter, or_
from typing import Any, NamedTuple

import polars as pl

from nenguide.batch.columnar.compile import dtype_of, mask_truth
from nenguide.batch.columnar.exprs import fits, typed_column
from nenguide.batch.columnar.plan import band_masks, band_of, band_values, cut_offs
from nenguide.batch.flatten import HEREDITARY
from nenguide.engine.context import MEMO_LIMIT, Context
from nenguide.engine.fact_layer import Facts
from nenguide.engine.hereditary import STEP, derive_facts, hereditary, missing_fields
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.table_eval import collect_of
from nenguide.model.assessment import Classification, FunctionalSyndrome
from nenguide.model.case import Case
from nenguide.model.frozen import FrozenDict

#: rows a 64-bit mask holds (bit 63 is the sign)
_MASK_ROWS = 63

_RULE_IDS = itemgetter("rule_ids")
_NUMBER = pl.Float64()


class Outcome(NamedTuple):
    """The step's answer for one case, as the flat row needs it."""

    hereditary: Mapping[str, Any] | None  # the fields of flatten.HEREDITARY
    issues: tuple[dict[str, Any], ...]  # code and kind of each issue, in order (frozen)
    unconfirmed: bool  # the step traced a rule whose content is unconfirmed


class Item(NamedTuple):
    """What the step reads of one case (:meth:`HereditaryProgram.read`)."""

    facts: Facts  # with phase 2 (engine.assess.steps_before_hereditary)
    case: Case
    classification: Classification
    syndromes: list[FunctionalSyndrome]
    values: tuple[Any, ...]  # the trigger table's inputs, in the order of its names
    genes: tuple[Any, ...]  # the variants' and tested genes the step's answer depends on


class HereditaryProgram:
    """The trigger table of ``kb`` compiled, and the answers seen so far (see the module)."""

    def __init__(self, kb: Knowledge, lang: str) -> None:
        self.kb = kb
        self.lang = lang
        self.table = kb.tables[Context(kb, lang).table_id(STEP, "triggers")]
        table = self.table
        self.dtypes = [(name, dtype_of(table, name)) for name in table.names]
        # a number is read through the band it falls in between the table's own cut-offs
        # (every comparison of the table is the same across a band): a range of candidates
        # (the MEN1 count while history is missing) is then the mask of its bands, read as
        # the engine reads a OneOf (:func:`.compile.mask_truth`)
        cuts = cut_offs([table])
        self.bands = {name: cuts.get(name, []) for name, t in self.dtypes if t == pl.Float64()}
        reps = {name: band_values(c) for name, c in self.bands.items()}
        self.usable = len(table.rows) <= _MASK_ROWS and all(
            len(r) <= _MASK_ROWS for r in reps.values()
        )
        zero = pl.lit(0, pl.Int64())
        truths = mask_truth(
            table, {name: (name, {v: b for b, v in enumerate(r)}) for name, r in reps.items()}
        )
        bits = [pl.lit(1 << i, pl.Int64()) for i in range(len(truths))]
        self.masks = [
            reduce(or_, [pl.when(t.fill_null(False)).then(b).otherwise(zero)
                         for t, b in zip(truths, bits, strict=True)], zero).alias("applies"),
            reduce(or_, [pl.when(t.is_null()).then(b).otherwise(zero)
                         for t, b in zip(truths, bits, strict=True)], zero).alias("waiting"),
        ]  # fmt: skip
        self._seen: dict[tuple[Any, ...], Outcome] = {}

    def read(
        self,
        facts: Facts,
        case: Case,
        classification: Classification,
        syndromes: list[FunctionalSyndrome],
    ) -> Item:
        """What the step reads of one case (read while its facts are at hand: :meth:`run`
        comes at the chunk's end)."""
        view = derive_facts(facts)
        bk = facts.extra
        genes = (
            tuple(bk.get("carriers", ())),
            tuple(bk.get("relative_genes", ())),
            tuple(bk.get("tested", {})),
        )
        return Item(
            facts, case, classification, syndromes, tuple(map(view.get, self.table.names)), genes
        )

    def run(self, items: Sequence[Item]) -> list[Outcome | Exception]:
        """The step's answer for each case (or the error the engine's step raised on it)."""
        n = len(items)
        if not n:
            return []
        masks, fallback = self.masks_of([it.values for it in items])
        out: list[Outcome | Exception] = []
        for i, (applies, waiting) in enumerate(masks):
            try:
                it = items[i]
                out.append(self.engine(it) if fallback[i] else self._answer(it, applies, waiting))
            except Exception as exc:  # the row is rejected with it, never dropped
                out.append(exc)
        return out

    def _answer(self, it: Item, applies: int, waiting: int) -> Outcome:
        further: bool | None = None
        if applies and waiting:  # the fields behind the inputs the waiting rows need
            # (the engine's evaluator names them, as the step itself reads them)
            res = collect_of(self.table, it.values)
            unknown = {name for _, names in res.maybe for name in names}
            further = bool(missing_fields(it.facts, self.kb, unknown))
        key = (applies, waiting, further, it.genes)
        hit = self._seen.get(key)
        if hit is None:
            if len(self._seen) > MEMO_LIMIT:
                self._seen.clear()
            hit = self._seen[key] = self.engine(it)
        return hit

    def engine(self, it: Item) -> Outcome:
        """The engine's step on one case, kept as the flat row needs it."""
        ctx = Context(self.kb, self.lang, notes=False)
        out = hereditary(ctx, it.case, it.facts, it.classification, it.syndromes)
        traced = chain.from_iterable(map(_RULE_IDS, ctx.trace))
        return Outcome(
            None if out is None else FrozenDict({k: out[k] for k in HEREDITARY}),  # type: ignore[literal-required]
            tuple(FrozenDict(code=i["code"], kind=i["kind"]) for i in ctx.issues),
            not self.kb.unconfirmed_rules.isdisjoint(traced),
        )

    def masks_of(self, rows: Sequence[tuple[Any, ...]]) -> tuple[list[tuple[int, int]], list[bool]]:
        """The trigger table over the input values of each case (in the order of its names):
        per case, the mask of the rows that apply and of those that wait on a missing input;
        and whether the engine must read the case instead (a value no column holds)."""
        n = len(rows)
        fallback = [not self.usable] * n
        if not self.usable:
            return [(0, 0)] * n, fallback
        cols = [
            self._banded(name, j, rows, fallback)
            if name in self.bands
            else typed_column(name, [r[j] for r in rows], dtype, fallback)
            for j, (name, dtype) in enumerate(self.dtypes)
        ]
        return list(pl.DataFrame(cols).select(self.masks).iter_rows()), fallback

    def _banded(
        self, name: str, j: int, rows: Sequence[tuple[Any, ...]], fallback: list[bool]
    ) -> pl.Series:
        """Numeric input ``name`` (``j``-th) as the mask of the bands its value or candidate
        values fall in (null: unknown); a value that is no finite number goes to the engine."""
        cuts = self.bands[name]
        whole = band_masks(name, [r[j] for r in rows], cuts)
        if whole is not None:  # plain numbers: the column at once
            return whole
        out: list[int | None] = []
        for k, row in enumerate(rows):
            v = row[j]
            if v is None:
                out.append(None)
                continue
            vals = v.values if type(v) is OneOf else (v,)
            if all(fits(x, _NUMBER) for x in vals):
                out.append(reduce(or_, (1 << band_of(cuts, x) for x in vals)))
            else:
                fallback[k] = True
                out.append(None)
        return pl.Series(name, out, dtype=pl.Int64())
