"""The lists of the case decided item by item by the package's item tables: which germline
results make a carrier (role ``germline_carrier``), which lab results count as a work-up test
done (role ``lab_done``). Python reshapes each item into the table's inputs and combines the
answers (a Kleene OR, the first date); which item counts is the table's. Given the case's
lists by :mod:`.case_input` (from the clinical section the fact layer reads), once per case.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from nenguide.model.clinical import GermlineResult, Investigation, LabResult

if TYPE_CHECKING:
    from nenguide.engine.context import Context

FACT_STEP = "facts"
#: the inputs of the table of role ``lab_done``, per result
LAB_DONE_INPUTS = ("lab_analyte", "lab_on_ppi", "lab_on_h2_blocker", "lab_fasting")

#: Lab analytes (analyte catalogue codes) that count as a "lab:<token>" investigation done (the
#: analyte is the test; results that count only under a sampling condition: table lab_done).
LAB_TOKENS: dict[str, tuple[str, ...]] = {
    "chromogranin_a": ("chromogranin_a",),
    "nse": ("nse",),
    "calcium": ("calcium",),
    "pth": ("pth",),
    "gastric_ph": ("gastric_ph",),
}


def any_of(values: Iterable[bool | None]) -> bool | None:
    """Kleene OR: true when one is true, false when all are false (or there are none)."""
    vals = list(values)
    if any(v is True for v in vals):
        return True
    return None if any(v is None for v in vals) else False


def _fact_table(ctx: Context, role: str) -> str | None:
    """The table bound to ``role`` of the fact layer in the package's pathway, or None (the
    package defines no such table: what it would decide stays unknown)."""
    return ctx.kb.pathway.optional_table(FACT_STEP, role)


#: the carrier facts, each with the gene whose results it reads (``None``: any gene)
CARRIER_FACTS: dict[str, str | None] = {
    "carrier": None,
    "carrier_men1": "MEN1",
    "carrier_vhl": "VHL",
}


def germline_input(
    ctx: Context, results: Sequence[GermlineResult]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The carrier facts (``carrier``, ``carrier_men1``, ``carrier_vhl``) and the genes the
    patient carries a variant in, in the order recorded. Which results make a carrier is the
    table of role ``germline_carrier``, evaluated once per result (``clinical.germline``)
    (inputs ``germline_gene``, ``germline_result``); without it a result decides nothing."""
    if not results:  # none recorded: no result makes a carrier (any_of of none is false)
        return dict.fromkeys(CARRIER_FACTS, False), ()
    table_id = _fact_table(ctx, "germline_carrier")
    verdicts: list[tuple[str, bool | None]] = []
    for g in results:
        verdict = None
        if table_id is not None:
            res = ctx.first(
                FACT_STEP, table_id, {"germline_gene": g.gene.value, "germline_result": g.result}
            )
            verdict = res.value if res.decided and isinstance(res.value, bool) else None
        verdicts.append((g.gene.value, verdict))
    f = {
        name: any_of(v for g, v in verdicts if gene is None or g == gene)
        for name, gene in CARRIER_FACTS.items()
    }
    return f, tuple(dict.fromkeys(gene for gene, v in verdicts if v is True))


def done_tokens(
    ctx: Context, investigations: Sequence[Investigation], labs: Sequence[LabResult]
) -> dict[str, str]:
    """What was already done: investigation kinds and ``lab:<token>`` -> a date or ''.

    A result of an analyte of :data:`LAB_TOKENS` is that test done; a result that counts only
    under a sampling condition (gastrin drawn off PPIs) is the table of role ``lab_done``: a
    collect table whose rows name the tokens a result counts as, evaluated once for each
    distinct result (``lab_analyte``, ``lab_on_ppi``, ``lab_on_h2_blocker``, ``lab_fasting``)
    of an analyte its ``lab_analyte`` input names."""
    done: dict[str, str] = {}
    for inv in investigations:
        done.setdefault(inv.kind.value, inv.date.isoformat() if inv.date else "")
    table_id = _fact_table(ctx, "lab_done")
    table = ctx.kb.tables[table_id] if table_id is not None else None
    named = table.spec.inputs.get("lab_analyte") if table is not None else None
    analytes = frozenset(named.values or ()) if named is not None and named.values else None
    tokens_of: dict[tuple[Any, ...], tuple[str, ...]] = {}
    for lab in labs:
        when = lab.date.isoformat() if lab.date else ""
        for token, codes in LAB_TOKENS.items():
            if lab.analyte in codes:
                done.setdefault(f"lab:{token}", when)
        if table is None or (analytes is not None and lab.analyte not in analytes):
            continue
        c = lab.context
        key = (lab.analyte, c.on_ppi, c.on_h2_blocker, c.fasting)
        if key not in tokens_of:
            inputs = dict(zip(LAB_DONE_INPUTS, key, strict=True))
            res = ctx.collect(FACT_STEP, table.id, inputs)
            tokens_of[key] = tuple(str(r.then[table.output]) for r in res.applies)
        for token in tokens_of[key]:
            done.setdefault(token, when)
    return done
