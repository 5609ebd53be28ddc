"""Values kept in ``kb.package_cache`` are read from one set of tables; an edited copy of the
package (the mutation harness's ``with_tables``, which shares ``package_cache``) must read its
own tables, not the original's (found in session 5: the follow-up schedule parameters and the
range cut-offs were cached without the tables they came from)."""

from __future__ import annotations

import dataclasses

from nenguide import load_knowledge
from nenguide.engine import ranges
from nenguide.engine.context import Context
from nenguide.engine.followup import STEP, schedule_parameters
from nenguide.mutation.runner import with_tables


def test_schedule_parameters_follow_the_table() -> None:
    kb = load_knowledge()
    ctx = Context(kb, "en")
    tid = ctx.table_id(STEP, "schedule")
    original = schedule_parameters(ctx)
    table = kb.tables[tid]
    params = dict(table.spec.parameters)
    params["horizon_months"] = original.horizon_months + 12
    edited = dataclasses.replace(table, spec=table.spec.model_copy(update={"parameters": params}))
    copy = with_tables(kb, {**kb.tables, tid: edited})
    assert copy.package_cache is kb.package_cache  # shared, as the harness shares it
    assert schedule_parameters(Context(copy, "en")).horizon_months == original.horizon_months + 12
    assert schedule_parameters(ctx).horizon_months == original.horizon_months


def test_range_cuts_follow_the_tables() -> None:
    kb = load_knowledge()
    fact = "extrathoracic_lesions"
    before = ranges.cuts(kb, fact)
    assert before  # the lung M table cuts the count
    without = {tid: t for tid, t in kb.tables.items()
               if not any(c.fact == fact for r in t.rows for c in r.conditions)}  # fmt: skip
    copy = with_tables(kb, without)
    assert ranges.cuts(copy, fact) == ()
    assert ranges.cuts(kb, fact) == before


def test_hereditary_input_fields_follow_the_tables() -> None:
    from nenguide.engine.hereditary import fields_of_input

    kb = load_knowledge()
    unknown: dict[str, object] = {}  # every input unknown
    before = fields_of_input(unknown, kb, "nf1_stigmata")
    assert "clinical.history.neurofibromas" in before
    tid = next(
        t for t in kb.pathway.tables("facts", "case") if kb.tables[t].output == "nf1_stigmata"
    )
    table = kb.tables[tid]
    inputs = {k: v for k, v in table.spec.inputs.items() if k != "hx_neurofibromas"}
    edited = dataclasses.replace(table, spec=table.spec.model_copy(update={"inputs": inputs}))
    copy = with_tables(kb, {**kb.tables, tid: edited})
    assert copy.package_cache is kb.package_cache
    assert "clinical.history.neurofibromas" not in fields_of_input(unknown, copy, "nf1_stigmata")
    assert fields_of_input(unknown, kb, "nf1_stigmata") == before
