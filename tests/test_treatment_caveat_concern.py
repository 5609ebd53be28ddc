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


def test_caveats_shared_between_cases_follow_the_options_offered(kb: Knowledge) -> None:
    """The caveats are worked out once per (inputs, options offered) and shared through the
    memo: a case offered other options under the same inputs gets its own caveats and trace,
    the same as with an empty memo."""
    tx = texts_for(kb, "en")
    table = kb.tables[Context(kb, "en").table_id(STEP, "caveats")]
    facts = {n: None for n in table.names} | {
        "ecog": 2, "renal_failure": True, "insulinoma": True, "setting": "metastatic",
        "category": "NET", "grade": "G2", "ki67_percent": 12.0,
    }  # fmt: skip
    res = evaluate_collect(table, facts)
    concerned = [
        c for c in tx.concerned
        if any(c in r.then["applies_to"] or tx.options[c].category in r.then["applies_to"]
               for r in res.applies)
    ]  # fmt: skip
    assert len(concerned) >= 2  # options a caveat that applies here concerns
    free = next(c for c in tx.options if c not in tx.concerned)
    option_sets = [[concerned[0]], [concerned[1]], [free], [concerned[0], concerned[1]]]

    def run(codes: list[str]) -> tuple[list[object], dict[str, list[str]]]:
        ctx = Context(kb, "en")
        w = Offers(ctx, dict(facts), catalogue(kb), tx)
        for code in codes:
            w.offers[code] = _Offer(code, "RULE")
        _caveats(w)
        return list(ctx.trace), {c: list(o.caveats) for c, o in w.offers.items()}

    cold = []
    for codes in option_sets:
        kb.memo.clear()
        cold.append(run(codes))
    assert any(caveats for _, by_code in cold for caveats in by_code.values())
    kb.memo.clear()
    for _ in range(2):  # the memo filled by the other option sets, then all from the memo
        assert [run(codes) for codes in option_sets] == cold
