"""Assembling the treatment options of one setting from the rows that apply (:class:`Offers`):
who offers what and why, the options that wait on an input (conditional, or withheld with an
issue), options already failed or received, the caveats, availability at the site, and the
:class:`TreatmentOption` entries themselves. The texts come ready from the package
(:mod:`nenguide.engine.treatment_texts`); only what depends on the case is made here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from math import prod
from typing import Any, cast

from nenguide.engine.context import Context, grade_fields, jsonable
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.table_eval import OUTCOMES_LIMIT
from nenguide.engine.tables import CollectResult, Row, collect_of
from nenguide.engine.trace_entries import collect_entries, entry
from nenguide.engine.treatment_data import OptionSpec, site_defaults
from nenguide.engine.treatment_facts import fields_for
from nenguide.engine.treatment_texts import STEP, TreatmentTexts, requirements
from nenguide.model.assessment import Classification, TreatmentOption, TreatmentRequirement
from nenguide.model.frozen import FrozenDict, FrozenList
from nenguide.model.site import SiteParameters

#: an empty list of an option (shared: it cannot change)
_EMPTY = FrozenList()


@dataclass(slots=True)
class _Offer:
    code: str
    rule_id: str
    because: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    conditional: list[TreatmentRequirement] = field(default_factory=list)


@dataclass(slots=True)
class Offers:
    """The options of one setting being assembled for one case."""

    ctx: Context
    facts: dict[str, Any]
    cat: Mapping[str, OptionSpec]
    tx: TreatmentTexts
    offers: dict[str, _Offer] = field(default_factory=dict)
    maybe: dict[str, tuple[str, Sequence[str]]] = field(default_factory=dict)  # code -> rule, facts
    # code -> the first rule that would offer it once only conditional inputs are known
    conditional: dict[str, tuple[Row, list[str]]] = field(default_factory=dict)
    conditional_inputs: frozenset[str] = frozenset()
    mdt: list[str] = field(default_factory=list)
    #: options removed as already failed (each reported once, by :func:`prior_lines`)
    already_failed: set[str] = field(default_factory=set)
    #: the classification, for the case fields an open grade waits on (:meth:`grade`)
    cls: Classification | None = None
    _grade: tuple[str, ...] | None = field(default=None, init=False, repr=False)

    def grade(self) -> tuple[str, ...]:
        """The case fields an open grade waits on for this case (context.grade_fields; worked
        out, and traced, only when an issue names the grade)."""
        if self._grade is None:
            self._grade = grade_fields(self.ctx, STEP, self.cls)
        return self._grade

    def because(self, row: Row) -> list[str]:
        return self.tx.because_of(self.ctx, row.conditions, self.facts)

    def name(self, code: str) -> str:
        return self.tx.name(code)

    def offer(self, row: Row, only: frozenset[str] | None = None) -> None:
        """Offer the options of ``row`` (those in ``only`` when given: the options settled over
        the candidates of an open value, :meth:`settle`, without the row's MDT reason)."""
        codes = list(self.tx.row(row).codes)
        if only is not None:
            codes = [c for c in codes if c in only]
        preferred = (row.then.get("site_default") or {}).get(self.facts.get("nfpnet_policy"))
        if preferred in codes:
            # the site's default branch is listed first (e.g. small NF-pNET: surgery first)
            codes = [preferred, *(c for c in codes if c != preferred)]
        because = self.because(row)
        for code in codes:
            o = self.offers.get(code)
            if o is None:
                o = self.offers[code] = _Offer(code, row.id)
            for b in because:
                if b not in o.because:
                    o.because.append(b)
            for s in row.sources:
                if s not in o.sources:
                    o.sources.append(s)
            if code == preferred:
                o.caveats.append(
                    self.ctx.text(
                        "treatment.caveat.SITE_DEFAULT", policy=self.facts["nfpnet_policy"]
                    )
                )
        reason = row.then.get("mdt")
        if reason and only is None:
            self.add_mdt(reason)

    def add_mdt(self, reason: str) -> None:
        if reason not in self.mdt:
            self.mdt.append(reason)

    def collect(self, table_id: str) -> None:
        res = self.ctx.collect(STEP, table_id, self.facts)
        for row in res.applies:
            self.offer(row)
        if not res.maybe:
            return
        self.settle(table_id, res)
        maybe, conditional, inputs = self.maybe, self.conditional, self.conditional_inputs
        for row, unknown in res.maybe:
            codes = self.tx.row(row).codes
            # the facts it waits on, sorted once per row (shared by its codes: never changed)
            waits = sorted(unknown) if unknown and inputs.issuperset(unknown) else None
            for code in codes:
                if code not in maybe:
                    maybe[code] = (row.id, unknown)  # the result's own tuple (immutable)
                if waits is not None and code not in conditional:
                    conditional[code] = (row, waits)

    def settle(self, table_id: str, res: CollectResult) -> None:
        """Options that wait only on values left open between candidates (a grade between G2
        and G3 from a Ki-67 range) and that some row offers under every candidate: given, as
        the answer every value it can take gives (rule 1), with the MDT reasons of every row
        that gives them under some candidate. The table is evaluated once per combination of
        the candidates, and one trace note says what each combination gave (the rows did not
        all apply to the case: the note is no "rule applied"); an option offered under only
        some of them still waits, as before. So does an option waiting on a value not given
        at all."""
        facts = self.facts
        open_ = sorted(
            {n for _, unknown in res.maybe for n in unknown if type(facts.get(n)) is OneOf}
        )
        if not open_:
            return
        candidates = [facts[n].sorted() for n in open_]
        if prod(map(len, candidates)) > OUTCOMES_LIMIT:
            return
        table = self.ctx.kb.tables[table_id]
        settled = {c for row, _ in res.maybe for c in self.tx.row(row).codes}
        offered: list[tuple[Row, frozenset[str]]] = []
        lines: list[str] = []
        for combo in product(*candidates):
            values = {**facts, **dict(zip(open_, combo, strict=True))}
            each = collect_of(table, tuple(map(values.get, table.names)))
            here = {c for row in each.applies for c in self.tx.row(row).codes}
            settled &= here
            offered.extend((row, frozenset(self.tx.row(row).codes)) for row in each.applies)
            given = ", ".join(f"{n} = {v}" for n, v in zip(open_, combo, strict=True))
            rows = ", ".join(row.id for row in each.applies) or "no rule"
            lines.append(f"{table_id} if {given}: {rows}")
        settled -= self.offers.keys()
        if not settled:
            return
        gave: list[Row] = []
        for row, codes in offered:
            if codes & settled:
                self.offer(row, only=frozenset(codes & settled))
                reason = row.then.get("mdt")
                if reason:  # the MDT discusses what any candidate's rule asks it to
                    self.add_mdt(reason)
                if row not in gave:
                    gave.append(row)
        # one entry naming the rules that gave them (their unconfirmed content counts), read
        # over the candidates; no table of its own: not one of the table's look-ups
        self.ctx.trace.append(
            entry(
                STEP, None, [r.id for r in gave], True,
                {"table": table_id, **{n: facts[n] for n in open_}}, ["; ".join(lines)], [],
                sorted(settled), list(dict.fromkeys(src for r in gave for src in r.sources)),
            )
        )  # fmt: skip

    def first(self, table_id: str, withheld_for: list[str] | None = None) -> None:
        """The first-hit table's option; withheld (reported as needing ``withheld_for``) when
        a fact the routing depends on is unknown."""
        res = self.ctx.first(STEP, table_id, self.facts)
        if res.decided and res.rows:
            if withheld_for:
                for code in self.tx.row(res.rows[0]).codes:
                    self.maybe.setdefault(code, (res.rows[0].id, withheld_for))
            else:
                self.offer(res.rows[0])
            return
        possible = res.value.sorted() if hasattr(res.value, "sorted") else [res.value]
        self.ctx.issue(
            "TX_NEEDS_DATA",
            STEP,
            fields_for(sorted(res.missing), self.grade()),
            rule_id=table_id,
            options=tuple(self.name(p) for p in possible if p),
            needs=tuple(fields_for(sorted(res.missing), self.grade())),
        )


def prior_lines(w: Offers) -> None:
    """Options already failed (progression on them) are not offered again as if new."""
    failed: frozenset[str] = w.facts["progressed_therapies"]
    received: frozenset[str] = w.facts["received_therapies"]
    for code in list(w.offers):
        therapy = w.cat[code].therapy
        if therapy is None:
            continue
        if therapy in failed:
            del w.offers[code]
            w.already_failed.add(code)
            w.ctx.issue(
                "TX_OPTION_ALREADY_FAILED",
                STEP,
                ["clinical.prior_therapies"],
                option=w.name(code),
                therapy=therapy,
            )
        elif therapy in received:
            w.offers[code].caveats.append(
                w.ctx.text("treatment.caveat.PRIOR_THERAPY_RECEIVED", therapy=therapy)
            )


def insufficient(w: Offers) -> None:
    """Options a rule would offer if the missing inputs allowed: conditional (with an issue
    naming the inputs they wait on) when only conditional inputs are missing, else withheld,
    with an issue."""
    offers, conditional, cat = w.offers, w.conditional, w.cat
    if conditional:
        failed: frozenset[str] = w.facts["progressed_therapies"]
        for code in list(conditional):
            therapy = cat[code].therapy
            if code in offers or (therapy is not None and therapy in failed):
                del conditional[code]
        if conditional:
            waiting = [(code, row.id, unknown) for code, (row, unknown) in conditional.items()]
            _issue_per_fields(w, "TX_OPTION_CONDITIONAL", waiting)
    if w.maybe:
        withheld = [
            (code, rule, unknown)
            for code, (rule, unknown) in w.maybe.items()
            if code not in offers
            and code not in conditional
            # reported already failed (TX_OPTION_ALREADY_FAILED): not also "needs data"
            and code not in w.already_failed
        ]
        if withheld:
            _issue_per_fields(w, "TX_NEEDS_DATA", withheld)


def _issue_per_fields(
    w: Offers, code: str, options: Sequence[tuple[str, str, Sequence[str]]]
) -> None:
    """One ``code`` issue per set of case fields the options wait on, naming those options and
    the first one's rule (``options``: option code, rule id, the facts it waits on)."""
    grade = w.grade()  # worked out (and traced) before the first issue, as always
    groups: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    made: dict[tuple[str, ...], list[tuple[str, str]]] = {}  # the facts waited on -> group
    for option, rule, unknown in options:
        key = tuple(unknown)
        group = made.get(key)
        if group is None:
            group = made[key] = groups.setdefault(tuple(fields_for(unknown, grade)), [])
        group.append((option, rule))
    names = w.tx.names
    for flds, items in groups.items():
        w.ctx.issue(
            code,
            STEP,
            list(flds),
            rule_id=items[0][1],
            options=tuple([names.get(c, c) for c, _ in items]),
            needs=flds,
        )


def build(w: Offers, site: SiteParameters) -> list[TreatmentOption]:
    """The options offered and the conditional ones, as :class:`TreatmentOption` entries:
    recommended first, then conditional (each group in rule order)."""
    ctx, tx, offers, facts = w.ctx, w.tx, w.offers, w.facts
    for code, (row, unknown) in w.conditional.items():
        requires = _requires(w, row, unknown)
        known = [c for c in row.conditions if c.fact not in unknown]
        offers[code] = _Offer(
            code, row.id, tx.because_of(ctx, known, facts), list(row.sources), [], requires
        )
    _caveats(w)
    out: list[TreatmentOption] = []  # recommended first, then conditional (in rule order)
    conditional: list[TreatmentOption] = []
    texts = tx.options
    for code, offer in offers.items():
        ot = texts[code]
        spec = ot.spec
        caveats = list(offer.caveats)
        if ot.caveats is not None:
            caveats += ot.caveats
        else:  # a text is missing: asked for (and reported) as before
            caveats += [ctx.text(f"treatment.caveat.{c}") for c in spec.caveats]
        available = True
        if spec.requires:
            available = _availability(ctx, spec, site, caveats)
        sources = list(spec.sources)
        if offer.sources:
            sources += [s for s in offer.sources if s not in sources]
        # built frozen, as the assessment holds it (freeze() need not walk it again)
        option = cast(
            TreatmentOption,
            FrozenDict(
                ot.head,  # code, text, category, intent, level, level_status, evidence
                available=available,
                alternative=None if available else spec.alternative,
                sources=FrozenList(sources),
                rule_id=offer.rule_id,
                because=FrozenList(offer.because),
                caveats=FrozenList(dict.fromkeys(caveats)) if caveats else _EMPTY,
                status="conditional" if offer.conditional else "recommended",
                requires=FrozenList(offer.conditional) if offer.conditional else _EMPTY,
            ),
        )
        (conditional if offer.conditional else out).append(option)
    return out + conditional


def _availability(ctx: Context, spec: OptionSpec, site: SiteParameters, caveats: list[str]) -> bool:
    """Whether the items ``spec`` requires are available at ``site`` (caveats added when not,
    when not confirmed, or when not reimbursed)."""
    available = True
    unconfirmed: list[str] = []
    for item in spec.requires:
        a = site.availability(item)
        if a is False:
            available = False
        elif a is None:
            unconfirmed.append(item)
        info = site.items.get(item)
        if a is not False and info is not None and info.reimbursed is False:
            caveats.append(ctx.text("treatment.caveat.NOT_REIMBURSED", item=item))
    if not available:
        caveats.append(
            ctx.text(
                "treatment.caveat.UNAVAILABLE",
                site=site.name or "",
                items=", ".join(i for i in spec.requires if site.availability(i) is False),
            )
        )
    elif unconfirmed:
        caveats.append(
            ctx.text("treatment.caveat.AVAILABILITY_UNCONFIRMED", items=", ".join(unconfirmed))
        )
    return available


def _requires(w: Offers, row: Row, unknown: list[str]) -> list[TreatmentRequirement]:
    """The conditions of ``row`` on the inputs still unknown, as field path and text."""
    out: list[TreatmentRequirement] = []
    made = w.tx.row(row).requires
    for c, reqs in zip(row.conditions, made, strict=True):
        if c.fact in unknown:
            out += reqs if reqs is not None else requirements(w.ctx, c)
    return out


def _caveats(w: Offers) -> None:
    """Caveat rules that concern an offered option (traced when they do). What they add is a
    pure function of the table's input values, the options offered and the package's texts:
    worked out once per such set (:meth:`Context.shared`) and added to each case's options."""
    ctx, tx = w.ctx, w.tx
    table_id = ctx.table_id(STEP, "caveats")
    table = ctx.kb.tables[table_id]
    vals = tuple(map(w.facts.get, table.names))
    offered = tuple(w.offers)
    # no offered option a caveat rule could concern: one answer for every such case
    concerned = not tx.concerned.isdisjoint(offered)
    key = ("tx_caveats", ctx.lang, table_id, vals, offered if concerned else None)
    entry, added = ctx.shared(key, lambda: _caveats_of(ctx, tx, table, vals, offered, concerned))
    ctx.trace.append(entry)
    offers = w.offers
    for code, text in added:
        caveats = offers[code].caveats
        if text not in caveats:
            caveats.append(text)


def _caveats_of(
    ctx: Context, tx: TreatmentTexts, table: Any, vals: tuple[Any, ...],
    offered: tuple[str, ...], concerned: bool,
) -> tuple[FrozenDict, tuple[tuple[str, str], ...]]:  # fmt: skip
    """The caveats table's trace entry and the (option, caveat text) pairs it adds, in order,
    for input values ``vals`` and the options ``offered``."""
    if not concerned:
        # traced with the inputs it reads, as when no rule applies
        read = FrozenDict(zip(table.names, vals, strict=True))
        return collect_entries(STEP, CollectResult(table, (), (), read))[0], ()
    res = collect_of(table, vals)
    relevant: list[Row] = []
    added: list[tuple[str, str]] = []
    if res.applies:
        with_category = [(code, tx.options[code].category) for code in offered]
        for row in res.applies:
            applies_to = set(row.then["applies_to"])
            targets = [c for c, cat in with_category if c in applies_to or cat in applies_to]
            if not targets:
                continue
            relevant.append(row)
            text = tx.caveat(ctx, row.then["caveat"])
            added += [(code, text) for code in targets]
    # traced always (every table consulted), with the rows that concern an offered option
    entry = collect_entries(STEP, CollectResult(table, tuple(relevant), (), res.read))[0]
    return entry, tuple(added)


def record_site(w: Offers, site: SiteParameters, options: list[TreatmentOption]) -> None:
    items = sorted({i for o in options for i in w.cat[o["code"]].requires})
    result, conditions = _site_note(w.ctx.kb, site)
    w.ctx.note(
        STEP,
        result,
        {f"available.{i}": jsonable(site.availability(i)) for i in items},
        conditions,
    )


def _site_note(kb: Knowledge, site: SiteParameters) -> tuple[FrozenDict, FrozenList]:
    """The site's part of the step's note (its parameters, and the condition naming it),
    frozen as the trace shows them: made once for the package's default site (package data),
    per case for a site of the case's own."""
    key = ("treatment_site_note", kb.manifest.content_hash)
    hit = kb.package_cache.get(key)
    if hit is not None and hit[0] is site:
        return hit[1], hit[2]
    made = (
        FrozenDict(
            {
                "site_parameters": site.name,
                "prrt_krenning_min": site.prrt_krenning_min,
                "nfpnet_boundary_cm": site.nfpnet_boundary_cm,
                "nfpnet_boundary_inclusive": site.nfpnet_boundary_inclusive,
                "nfpnet_small_default": site.nfpnet_small_default,
            }
        ),
        FrozenList([f"site parameters: {site.name}"]),
    )
    if site is site_defaults(kb):
        kb.package_cache[key] = (site, *made)
    return made
