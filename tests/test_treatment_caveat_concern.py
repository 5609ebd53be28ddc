"""The caveats table is evaluated only when an offered option is one a caveat rule may concern
(TreatmentTexts.concerned: named by code or category in a rule's applies_to); otherwise it is
traced with the inputs it reads and no rule, which is what evaluating it gives: no row concerns
an option it does not name."""

from __future__ import annotations

from nenguide.engine.context import Context
from nenguide.engine.kb import Knowledge
from nenguide.engine.tables import CollectResult, evaluate_collect
from nenguide.engine.trace_entries import collect_entries
from nenguide.engine.treatment_data import catalogue
from nenguide.engine.treatment_offers import Offers, _caveats, _Offer
from nenguide.engine.treatment_texts import STEP, texts_for


def test_every_caveat_rule_s_targets_are_concerned(kb: Knowledge) -> None:
    tx = texts_for(kb, "en")
    table = kb.tables[Context(kb, "en").table_id(STEP, "caveats")]
    for row in table.rows:
        targets = set(row.then["applies_to"])
        for code, o in tx.options.items():
            if code in targets or o.category in targets:
                assert code in tx.concerned, (row.id, code)


def test_an_option_no_caveat_names_gets_the_trace_evaluating_would_give(kb: Knowledge) -> None:
    tx = texts_for(kb, "en")
    free = [c for c in tx.options if c not in tx.concerned]
    assert free  # the package has options no caveat rule names (e.g. best supportive care)
    table = kb.tables[Context(kb, "en").table_id(STEP, "caveats")]
    # inputs under which caveat rules apply (ECOG 2, renal failure, insulinoma)
    facts = {n: None for n in table.names} | {
        "ecog": 2,
        "renal_failure": True,
        "insulinoma": True,
        "setting": "metastatic",
        "category": "NET",
        "grade": "G2",
        "ki67_percent": 12.0,
    }
    res = evaluate_collect(table, facts)
    assert res.applies
    ctx = Context(kb, "en")
    w = Offers(ctx, dict(facts), catalogue(kb), tx)
    for code in free:
        w.offers[code] = _Offer(code, "RULE")
    _caveats(w)
    want = collect_entries(STEP, CollectResult(table, (), (), res.read))[0]
    assert ctx.trace == [want]
    assert all(not o.caveats for o in w.offers.values())
