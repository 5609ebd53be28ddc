"""The treatment step's "because" texts of the whole numbers of an integer input domain (the
ECOG score, 0-4) are made once per package and language, as the texts of the values the rules
name are: the same texts a case's value gets when made per case, never confused with the texts
of True and False (equal dict keys to 1 and 0)."""

from __future__ import annotations

import pytest

from nenguide.engine.context import Context
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import compile_condition
from nenguide.engine.table_spec import InputDomain
from nenguide.engine.treatment_texts import _whole_numbers, because_text, texts_for


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_ecog_scores_have_their_texts_made_at_load(kb: Knowledge, lang: str) -> None:
    tx = texts_for(kb, lang)
    ctx = Context(kb, lang)
    assert {n for f, n in tx.because_int if f == "ecog"} == {0, 1, 2, 3, 4}
    for (fact, n), text in tx.because_int.items():
        assert type(n) is int
        assert text == because_text(ctx, fact, n)
    ecog = compile_condition("ecog", {"le": 2})
    assert ecog is not None
    # a case's score is looked up; a value the domain does not hold is made as before
    assert tx.because_of(ctx, [ecog], {"ecog": 1}) == [because_text(ctx, "ecog", 1)]
    assert tx.because_of(ctx, [ecog], {"ecog": 7}) == [because_text(ctx, "ecog", 7)]
    assert tx.because_of(ctx, [ecog], {"ecog": 1.0}) == [because_text(ctx, "ecog", 1.0)]


def test_true_and_false_keep_their_own_texts(kb: Knowledge) -> None:
    tx = texts_for(kb, "en")
    ctx = Context(kb, "en")
    sstr = compile_condition("sstr_positive", True)
    assert sstr is not None
    for v in (True, False):
        assert tx.because_of(ctx, [sstr], {"sstr_positive": v}) == [
            because_text(ctx, "sstr_positive", v)
        ]


def test_only_a_bounded_integer_domain_is_enumerated() -> None:
    ecog = InputDomain(type="number", min=0, max=4, integer=True)
    assert list(_whole_numbers(ecog)) == [0, 1, 2, 3, 4]
    assert not _whole_numbers(InputDomain(type="number", min=0, max=4))  # not integer
    assert not _whole_numbers(InputDomain(type="number", min=0, integer=True))  # no maximum
    assert not _whole_numbers(InputDomain(type="number", min=0, max=10**6, integer=True))
    assert not _whole_numbers(InputDomain(type="enum", values=["a"]))
    assert not _whole_numbers(None)
