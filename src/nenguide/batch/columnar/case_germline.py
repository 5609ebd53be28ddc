"""The germline results and what ``case_facts`` keeps beside the facts
(:func:`nenguide.engine.case_input.carrier_input` and :func:`~nenguide.engine.case_input.
extra_input`), as Polars operations over the case columns of :mod:`.case_arrow`: part of the
second step of the columnar fact layer (docs/decisions/0004-speed-targets-need-a-decision.md).

Which result makes a carrier is the package's table of role ``germline_carrier``. Here it is
evaluated by the engine itself (``Context.first``), once per distinct (gene, result) pair of
the chunk, not once per result: the pairs are few (11 genes, 4 results), so no per-case
Python is left. The carrier facts are then Kleene ORs of the verdicts per gene, as
``engine.case_items.germline_input`` makes them (its ``CARRIER_FACTS``). A rule of unconfirmed
content that a verdict read is named per case (:attr:`GermlineColumns.unconfirmed`): the
assessment adds ``CONTENT_UNCONFIRMED`` for it, as the engine does from its trace.

tests/batch/test_case_germline.py holds every column to the engine's functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from nenguide.batch.columnar.case_arrow import list_items
from nenguide.batch.columnar.exprs import kleene_any
from nenguide.engine.case_items import CARRIER_FACTS, FACT_STEP
from nenguide.engine.context import Context
from nenguide.engine.kb import Knowledge
from nenguide.model.clinical import Relation

_FIRST = Relation.first_degree.value


@dataclass(frozen=True)
class GermlineColumns:
    """``facts``: the carrier facts, a column each; ``extra``: what ``extra_input`` gives
    (``carriers``, ``relative_genes``, ``tested`` as a list of gene and result, later results
    of a gene after earlier ones, ``resection_date``, ``number_of_tumours``);
    ``unconfirmed``: per case, the unconfirmed rules its verdicts read. (A relative's gene
    with a letter beyond ASCII, which the reshaping upper-cases, is a row
    :func:`.case_arrow.flagged_rows` sends to the per-case path.)"""

    facts: pl.DataFrame
    extra: pl.DataFrame
    unconfirmed: pl.Series


def _verdicts(kb: Knowledge, pairs: pl.DataFrame) -> pl.DataFrame:
    """The carrier table's verdict on each (gene, result) pair, by the engine, and the
    unconfirmed rules each read (``None``: the package binds no carrier table)."""
    table_id = kb.pathway.optional_table(FACT_STEP, "germline_carrier")
    verdicts: list[bool | None] = []
    unconfirmed: list[list[str]] = []
    for gene, result in pairs.iter_rows():
        if table_id is None:
            verdicts.append(None)
            unconfirmed.append([])
            continue
        ctx = Context(kb, "en", notes=False)
        res = ctx.first(FACT_STEP, table_id, {"germline_gene": gene, "germline_result": result})
        verdicts.append(res.value if res.decided and isinstance(res.value, bool) else None)
        read = {r for entry in ctx.trace for r in entry["rule_ids"]}
        unconfirmed.append(sorted(kb.unconfirmed_rules & read))
    return pairs.with_columns(
        pl.Series("verdict", verdicts, dtype=pl.Boolean),
        pl.Series("unconfirmed", unconfirmed, dtype=pl.List(pl.String)),
    )


def germline_columns(cases: pl.DataFrame, kb: Knowledge) -> GermlineColumns:
    """The germline columns of the case columns ``cases`` (see :class:`GermlineColumns`)."""
    n = cases.height
    rows = pl.DataFrame({"_row": pl.int_range(n, dtype=pl.Int64, eager=True)})
    items = list_items(cases, pl.col("clinical").struct.field("germline"))
    pairs = items.select("gene", "result").unique(maintain_order=True)
    items = items.join(
        _verdicts(kb, pairs), on=["gene", "result"], how="left", maintain_order="left"
    )
    verdict = pl.col("verdict")
    by_case = items.group_by("_row", maintain_order=True).agg(
        # each carrier fact's verdicts (every gene's, or one gene's), for a Kleene OR
        *[
            (verdict if gene is None else verdict.filter(pl.col("gene") == gene)).alias(name)
            for name, gene in CARRIER_FACTS.items()
        ],
        # in the order recorded (by position, not by the group-by's row order)
        pl.col("gene")
        .sort_by("_pos")
        .filter(verdict.sort_by("_pos") == True)  # noqa: E712
        .unique(maintain_order=True)
        .alias("carriers"),
        pl.col("unconfirmed")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .unique()
        .sort()
        .alias("unconfirmed"),
        pl.struct("gene", "result").sort_by("_pos").alias("tested"),
    )
    joined = rows.join(by_case, on="_row", how="left", maintain_order="left")
    empty = pl.lit([], pl.List(pl.String))
    # no result recorded: no result makes a carrier (the Kleene OR of none is false)
    facts = joined.select(kleene_any(pl.col(name)).alias(name) for name in CARRIER_FACTS)
    resection = pl.col("clinical").struct.field("resection")
    fh = pl.col("clinical").struct.field("family_history")
    gene = pl.element().struct.field("pathogenic_variant_gene").str.strip_chars().str.to_uppercase()
    first = fh.list.eval(pl.element().filter(pl.element().struct.field("relation") == _FIRST))
    own = cases.select(
        first.list.eval(gene.filter(gene.is_not_null() & (gene.str.len_chars() > 0)))
        .list.unique(maintain_order=True)
        .fill_null(empty)
        .alias("relative_genes"),
        pl.when(resection.struct.field("performed") == True)  # noqa: E712
        .then(resection.struct.field("date"))
        .alias("resection_date"),
        pl.col("tumour").struct.field("number_of_tumours").alias("number_of_tumours"),
    )
    extra = pl.concat(
        [
            joined.select(
                pl.col("carriers").fill_null(empty),
                pl.col("tested").fill_null(pl.lit([], joined.schema["tested"])),
            ),
            own,
        ],
        how="horizontal",
    )
    return GermlineColumns(
        facts,
        extra,
        joined.get_column("unconfirmed").fill_null(empty).alias("unconfirmed"),
    )
