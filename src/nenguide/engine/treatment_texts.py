"""The treatment step's texts that depend only on the knowledge package and the language: each
option's name and catalogue caveats, each rule's option codes and its conditions in words (the
``requires`` of a conditional option), "label: value" for the values the rules name and for the
whole numbers of a bounded integer input (the ECOG score), and the options a caveat rule may
concern.

They are built once per package and language (:func:`texts_for`, held by the loaded package
like the option catalogue), not per case: an assessment only looks them up. A text the package
lacks is left out and asked for again when a case needs it, so that it fails
(``MissingTextError``) exactly where and when it did before. The same functions make a text at
load and, for any other value (a measurement, an unknown), during an assessment.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from nenguide.engine.context import Context
from nenguide.engine.kb import Knowledge, MissingTextError
from nenguide.engine.logic import Condition, OneOf
from nenguide.engine.tables import InputDomain, Row
from nenguide.engine.treatment_data import OptionSpec, catalogue, option_codes
from nenguide.engine.treatment_facts import fields_for
from nenguide.model.assessment import TreatmentRequirement
from nenguide.model.frozen import FrozenDict

STEP = "treatment"

_SYMBOL = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}


# --- the texts, made the same way at load and during an assessment --------------------------


def label(ctx: Context, fact: str) -> str:
    return ctx.text(f"treatment.fact.{fact}")


def value_text(ctx: Context, fact: str, v: Any) -> str:
    if type(v) is OneOf:  # a value left open between candidates: each by its text
        sep = ctx.text("treatment.value.or")
        shown = sep.join(value_text(ctx, fact, x) for x in v.sorted())
        return ctx.text("treatment.value.one_of", values=shown)
    if isinstance(v, bool):
        return ctx.text(f"treatment.value.{str(v).lower()}")
    if isinstance(v, float):
        return f"{v:g}"
    # a value without a text of its own is shown as recorded (a code, not a text key)
    return ctx.kb.catalog.get(ctx.lang, f"treatment.value.{fact}.{v}") or str(v)


def because_text(ctx: Context, fact: str, v: Any) -> str:
    """Why a rule applies, one condition: the fact's label and the case's value."""
    return ctx.text("treatment.because", label=label(ctx, fact), value=value_text(ctx, fact, v))


def condition_text(ctx: Context, c: Condition) -> str:
    """A row condition in words: bounds as symbols, values by their texts."""
    spec = c.spec
    if isinstance(spec, dict) and set(spec) <= _SYMBOL.keys():
        ops = [op for op in ("gt", "ge", "lt", "le") if op in spec]
        return " & ".join(f"{_SYMBOL[op]} {float(spec[op]):g}" for op in ops)
    if isinstance(spec, dict) and "not_in" in spec:
        vals = ", ".join(value_text(ctx, c.fact, v) for v in spec["not_in"])
        return ctx.text("treatment.requires_not", values=vals)
    if isinstance(spec, dict):
        spec = spec.get("in", spec.get("eq"))
    if isinstance(spec, list):
        return ", ".join(value_text(ctx, c.fact, v) for v in spec)
    return value_text(ctx, c.fact, spec)


def requirements(ctx: Context, c: Condition) -> tuple[TreatmentRequirement, ...]:
    """Condition ``c`` as what a conditional option waits on: one per case field of its fact
    (frozen: shared by every assessment)."""
    cond = ctx.text(
        "treatment.requires", label=label(ctx, c.fact), condition=condition_text(ctx, c)
    )
    return tuple(
        cast(TreatmentRequirement, FrozenDict(field=path, fact=c.fact, condition=cond))
        for path in fields_for([c.fact])
    )


# --- built once per package and language ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class OptionText:
    spec: OptionSpec
    name: str  # the option's text in the language (English where it has none)
    category: str  # "category:<its category>", as a caveat rule's applies_to names it
    caveats: tuple[str, ...] | None  # its catalogue caveats' texts (None: a text is missing)
    # the first entries of its TreatmentOption (code, text, category, intent, level,
    # level_status, evidence), in that order: copied into each option built
    head: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RowText:
    codes: tuple[str, ...]  # the options the rule offers (option_codes)
    # per condition, what an option of the rule waits on while its input is unknown (None:
    # a text is missing)
    requires: tuple[tuple[TreatmentRequirement, ...] | None, ...]


@dataclass(frozen=True, slots=True)
class TreatmentTexts:
    lang: str
    # what they were built from (an edited copy of the package is given texts of its own)
    tables: Mapping[str, Any]
    catalog: Any
    cat: Mapping[str, OptionSpec]
    options: Mapping[str, OptionText]
    names: Mapping[str, str]  # option code -> OptionText.name
    rows: Mapping[str, RowText]  # by rule id, the rules of the treatment tables
    because: Mapping[tuple[str, Any], str]  # (fact, a text value the rules name) -> its text
    because_bool: Mapping[tuple[str, Any], str]  # (fact, True or False) -> its text
    # (fact, each whole number of its integer domain, e.g. the ECOG score) -> its text (apart
    # from because_bool: True and 1 are equal keys)
    because_int: Mapping[tuple[str, Any], str]
    caveats: Mapping[str, str]  # caveat code -> its text
    # the options some rule's applies_to names, by code or by category: no caveat rule can
    # concern any other option
    concerned: frozenset[str]

    def because_of(
        self, ctx: Context, conditions: Iterable[Condition], facts: Mapping[str, Any]
    ) -> list[str]:
        """Why a rule applies: each of its ``conditions``' fact with the case's value."""
        out: list[str] = []
        for c in conditions:
            v = facts.get(c.fact)
            t: type[Any] = type(v)
            if t is OneOf and facts.get(f"{c.fact}_text"):  # a range, as the report gave it
                shown = ctx.text("treatment.value.reported", text=facts[f"{c.fact}_text"])
                out.append(ctx.text("treatment.because", label=label(ctx, c.fact), value=shown))
                continue
            if t is str:
                hit = self.because.get((c.fact, v))
            elif t is bool:
                hit = self.because_bool.get((c.fact, v))
            elif t is int:
                hit = self.because_int.get((c.fact, v))
            else:
                hit = None
            out.append(hit if hit is not None else because_text(ctx, c.fact, v))
        return out

    def row(self, row: Row) -> RowText:
        hit = self.rows.get(row.id)
        if hit is None:
            return RowText(tuple(option_codes(row.then)), (None,) * len(row.conditions))
        return hit

    def name(self, code: str) -> str:
        return self.names.get(code, code)

    def caveat(self, ctx: Context, code: str) -> str:
        hit = self.caveats.get(code)
        return hit if hit is not None else ctx.text(f"treatment.caveat.{code}")


def texts_for(kb: Knowledge, lang: str) -> TreatmentTexts:
    """The treatment texts of ``kb`` in ``lang``, built on first use and then held by the
    package (``package_cache``, which a copy of the package with other tables shares: the
    texts name what they were built from and are rebuilt for another package)."""
    key = ("treatment_texts", kb.manifest.content_hash, lang)
    hit = kb.package_cache.get(key)
    if hit is None or hit.tables is not kb.tables or hit.catalog is not kb.catalog:
        hit = kb.package_cache[key] = _build(kb, lang, catalogue(kb))
    return hit


def _try(make: Any, *args: Any) -> Any:
    try:
        return make(*args)
    except MissingTextError:
        return None


def _build(kb: Knowledge, lang: str, cat: Mapping[str, OptionSpec]) -> TreatmentTexts:
    ctx = Context(kb, lang)
    options = {
        code: OptionText(
            spec,
            spec.text.get(lang) or spec.text["en"],
            f"category:{spec.category}",
            _try(lambda s: tuple(ctx.text(f"treatment.caveat.{c}") for c in s.caveats), spec),
            FrozenDict(  # a dict: copied into each option at dict speed
                {
                    "code": code,
                    "text": spec.text.get(lang) or spec.text["en"],
                    "category": spec.category,
                    "intent": spec.intent,
                    "level": spec.level,
                    "level_status": spec.level_status,
                    "evidence": spec.evidence,
                }
            ),
        )
        for code, spec in cat.items()
    }
    rows: dict[str, RowText] = {}
    seen: set[str] = set()
    because: dict[tuple[str, Any], str] = {}
    because_bool: dict[tuple[str, Any], str] = {}
    because_int: dict[tuple[str, Any], str] = {}
    caveats: dict[str, str] = {}
    for table in kb.tables.values():
        if table.spec.step != STEP:
            continue
        for r in table.rows:
            if r.id in seen:  # a rule id twice: made per case, as before
                rows.pop(r.id, None)
                continue
            seen.add(r.id)
            rows[r.id] = RowText(
                tuple(option_codes(r.then)),
                tuple(_try(requirements, ctx, c) for c in r.conditions),
            )
            cav = r.then.get("caveat")
            if isinstance(cav, str) and (text := _try(ctx.text, f"treatment.caveat.{cav}")):
                caveats[cav] = text
            for c in r.conditions:
                domain = table.spec.inputs.get(c.fact)
                named = [*(domain.values or [] if domain else []), *c.values]
                for v in named:
                    if type(v) is str and (text := _try(because_text, ctx, c.fact, v)):
                        because[(c.fact, v)] = text
                for b in (True, False):
                    if (text := _try(because_text, ctx, c.fact, b)) is not None:
                        because_bool[(c.fact, b)] = text
                for n in _whole_numbers(domain):
                    if (text := _try(because_text, ctx, c.fact, n)) is not None:
                        because_int[(c.fact, n)] = text
    return TreatmentTexts(
        lang,
        kb.tables,
        kb.catalog,
        cat,
        options,
        {code: o.name for code, o in options.items()},
        rows,
        because,
        because_bool,
        because_int,
        caveats,
        _concerned(kb, options),
    )


def _concerned(kb: Knowledge, options: Mapping[str, OptionText]) -> frozenset[str]:
    """The options a caveat rule may concern: those named, by code or by category, in the
    applies_to of a rule of any table (a superset of the caveat table's rules)."""
    named = {
        a
        for t in kb.tables.values()
        for r in t.rows
        if isinstance(targets := r.then.get("applies_to"), list)
        for a in targets
        if isinstance(a, str)
    }
    return frozenset(code for code, o in options.items() if code in named or o.category in named)


#: an integer domain of at most this many values has its texts made at load (a wider one,
#: e.g. a count without a maximum, per case)
_WHOLE_NUMBERS_AT_LOAD = 101


def _whole_numbers(domain: InputDomain | None) -> range:
    """The values of an integer number domain with both bounds (e.g. the ECOG score, 0-4),
    when it has at most :data:`_WHOLE_NUMBERS_AT_LOAD` values; else none."""
    if domain is None or domain.type != "number" or not domain.integer:
        return range(0)
    if domain.min is None or domain.max is None:
        return range(0)
    values = range(math.ceil(domain.min), math.floor(domain.max) + 1)
    return values if len(values) <= _WHOLE_NUMBERS_AT_LOAD else range(0)
