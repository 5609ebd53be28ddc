"""The treatment step's texts made once per package and language (issue 7, cold path): the
package's own rules are all covered, the texts survive an emptied memo, and a copy of the
package with other tables (which shares the package cache) gets texts of its own."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nenguide.engine.kb import Knowledge
from nenguide.engine.tables import compile_table
from nenguide.engine.treatment_data import catalogue
from nenguide.engine.treatment_texts import texts_for


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_treatment_rule_has_its_texts_made_at_load(kb: Knowledge, lang: str) -> None:
    """No rule of the package falls back to making its texts per case."""
    tx = texts_for(kb, lang)
    rules = [r for t in kb.tables.values() if t.spec.step == "treatment" for r in t.rows]
    assert rules
    for r in rules:
        made = tx.rows[r.id]
        assert None not in made.requires, r.id
        assert len(made.requires) == len(r.conditions), r.id
    for code, o in tx.options.items():
        assert o.caveats is not None, code
        assert o.name == (catalogue(kb)[code].text.get(lang) or catalogue(kb)[code].text["en"])


def test_the_texts_are_the_package_s_not_a_memo(kb: Knowledge) -> None:
    first = texts_for(kb, "en")
    kb.memo.clear()
    assert texts_for(kb, "en") is first
    assert texts_for(kb, "zh-CN") is not first


def test_an_edited_copy_of_the_package_gets_texts_of_its_own(kb: Knowledge) -> None:
    table = next(
        t for t in kb.tables.values() if t.spec.step == "treatment" and len(t.spec.rows) > 1
    )
    dropped = table.spec.rows[0].id
    spec = table.spec.model_copy(update={"rows": table.spec.rows[1:]})
    edited = replace(
        kb,
        tables={**kb.tables, spec.id: compile_table(spec)},
        memo={},
        rule_status=dict(kb.rule_status),
    )
    assert edited.package_cache is kb.package_cache  # shared: the texts must tell them apart
    assert dropped in texts_for(kb, "en").rows
    assert dropped not in texts_for(edited, "en").rows
    assert dropped in texts_for(kb, "en").rows
