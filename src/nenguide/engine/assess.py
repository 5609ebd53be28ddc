"""``assess()``: one case in, one assessment out. Pure: the knowledge base, the date and the
language are passed in; nothing here reads a file, the clock, a database or the network."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar, cast

from pydantic import BaseModel

from nenguide._version import __version__
from nenguide.engine.classify import classify
from nenguide.engine.context import MEMO_LIMIT, Context, _hashable
from nenguide.engine.fact_layer import Facts, case_facts, pathway_facts
from nenguide.engine.followup import follow_up
from nenguide.engine.hereditary import hereditary
from nenguide.engine.kb import Knowledge
from nenguide.engine.liver import liver_type
from nenguide.engine.stage import stage
from nenguide.engine.syndromes import functional_syndromes
from nenguide.engine.treatment import treatment
from nenguide.engine.workup import workup
from nenguide.model.assessment import (
    Assessment,
    Classification,
    GuidelineRef,
    Issue,
    LiverMetastasis,
    Stage,
    Status,
    TraceEntry,
)
from nenguide.model.case import Case
from nenguide.model.frozen import FrozenDict, FrozenList, freeze
from nenguide.model.site import SiteParameters


def assess(
    case: Case,
    kb: Knowledge,
    *,
    as_of: dt.date,
    lang: str = "en",
    site: SiteParameters | None = None,
) -> Assessment:
    """Assess ``case`` with guideline knowledge ``kb`` as of ``as_of``, texts in ``lang``.

    ``site`` overrides the knowledge package's default site parameters (availability of drugs
    and tracers); it is recorded in the trace.
    """
    if lang not in kb.catalog.languages:
        raise ValueError(f"language {lang!r} not available; use one of {kb.catalog.languages}")
    ctx = Context(kb, lang)
    expired = expiry_notice(ctx, as_of)
    # the fact layer: every derived clinical fact once, immutable, traced (phase 1: the case)
    facts = case_facts(ctx, case)
    n_facts = len(ctx.trace)
    key = _pathway_key(facts, case, lang, as_of, site)
    memo = kb.memo
    try:
        parts = memo.get(key) if key is not None else None
    except TypeError:  # an unhashable fact value: the pathway runs without the memo
        key, parts = None, None
    if parts is None:
        parts = _pathway(ctx, case, facts, as_of, site)
        if key is not None:
            if len(memo) > MEMO_LIMIT:
                memo.clear()
            memo[key] = parts
    else:  # the same facts seen before: the steps' frozen output, trace and issues again
        ctx.trace.extend(parts.trace)
        ctx.issues.extend(parts.issues)

    unconfirmed = sorted(_unconfirmed(kb, ctx.trace[:n_facts]).union(parts.unconfirmed))
    if unconfirmed:
        ctx.issue("CONTENT_UNCONFIRMED", "guideline", [], rules=tuple(unconfirmed))

    # Every part was built by the engine from validated input and typed models; the contract is
    # checked by the tests (JSON round trip against the schema) rather than on every call.
    return Assessment.model_construct(
        schema_version="1",
        guideline=_guideline_ref(kb, expired),
        engine_version=__version__,
        as_of=as_of,
        language=lang,
        case_id=case.case_id,
        classification=parts.classification,
        stage=parts.stage,
        liver_metastasis_type=parts.liver_metastasis.type,
        liver_metastasis=parts.liver_metastasis,
        functional_syndromes=parts.functional_syndromes,
        workup=parts.workup,
        treatment=parts.treatment,
        mdt_discussion=parts.mdt_discussion,
        follow_up=parts.follow_up,
        hereditary=parts.hereditary,
        # issue and trace entries are frozen when made (and may be shared through the memo)
        issues=cast(list[Issue], FrozenList(ctx.issues)),
        trace=cast(list[TraceEntry], FrozenList(ctx.trace)),
        disclaimer=ctx.text("disclaimer"),
    )


class _Parts(NamedTuple):
    """What the steps after the fact layer produce for one set of facts, frozen: memoised
    with the trace entries and issues they added (all immutable, shared between results)."""

    classification: Classification
    stage: Stage
    liver_metastasis: LiverMetastasis
    functional_syndromes: Any
    workup: Any
    treatment: Any
    mdt_discussion: Any
    follow_up: Any
    hereditary: Any
    trace: tuple[Any, ...]
    issues: tuple[Any, ...]
    unconfirmed: frozenset[str]  # the unconfirmed rules the trace names


def _pathway(
    ctx: Context, case: Case, facts: Facts, as_of: dt.date, site: SiteParameters | None
) -> _Parts:
    """The steps after the fact layer (their trace entries and issues go to ``ctx``)."""
    n_trace, n_issues = len(ctx.trace), len(ctx.issues)
    cls, stg, liver, syndromes, work, options, mdt, follow, hered = steps(
        ctx, case, facts, as_of, site
    )
    return _Parts(
        frozen_model(cls),
        frozen_model(stg),
        frozen_model(liver),
        freeze(syndromes),
        freeze(work),
        freeze(options),
        freeze(mdt),
        freeze(follow),
        freeze(hered),
        tuple(ctx.trace[n_trace:]),
        tuple(ctx.issues[n_issues:]),
        _unconfirmed(ctx.kb, ctx.trace[n_trace:]),
    )


def expiry_notice(ctx: Context, as_of: dt.date) -> bool:
    """The first issue of an assessment made after the package's ``valid_until``; whether so."""
    man = ctx.kb.manifest
    expired = as_of > man.valid_until
    if expired:
        n = len(ctx.issues)

        def make() -> Any:
            ctx.issue(
                "GUIDELINE_PAST_VALID_UNTIL",
                "guideline",
                [],
                guideline=ctx.text(f"guideline_title.{man.id}"),
                valid_until=man.valid_until.isoformat(),
                as_of=as_of.isoformat(),
            )
            return ctx.issues[-1]

        # memoised as a whole by the language and the date (the issue's own memo key needs
        # its details worked out first: the title's text, the dates as text)
        issue = ctx.shared(("expiry_notice", ctx.lang, as_of), make)
        if len(ctx.issues) == n:  # from the memo
            ctx.issues.append(issue)
    return expired


def steps(
    ctx: Context,
    case: Case,
    facts: Facts,
    as_of: dt.date,
    site: SiteParameters | None,
    core: tuple[Classification, Stage, LiverMetastasis] | None = None,
) -> tuple[Any, ...]:
    """The engine's steps after the fact layer, in their order (written here only):
    classification, stage, liver type, functional syndromes, the phase-2 facts, work-up,
    treatment (with the MDT flag), follow-up (:func:`steps_before_hereditary`), then
    hereditary screening. ``core``: the first three, computed elsewhere (the columnar backend),
    their issues already in ``ctx``. Returns (classification, stage, liver, syndromes, work-up,
    treatment, mdt, follow-up, hereditary).
    """
    *parts, facts = steps_before_hereditary(ctx, case, facts, as_of, site, core)
    return (*parts, hereditary(ctx, case, facts, parts[0], parts[3]))


def steps_before_hereditary(
    ctx: Context,
    case: Case,
    facts: Facts,
    as_of: dt.date,
    site: SiteParameters | None,
    core: tuple[Classification, Stage, LiverMetastasis] | None = None,
    workup_step: Callable[..., Any] | None = None,
    followup_step: Callable[..., Any] | None = None,
    treatment_step: Callable[..., Any] | None = None,
) -> tuple[Any, ...]:
    """The steps of :func:`steps` before hereditary screening, the last step (the columnar
    backend screens a whole chunk at once). Returns (classification, stage, liver,
    syndromes, work-up, treatment, mdt, follow-up, the facts with phase 2: what hereditary
    screening reads). ``workup_step``, ``treatment_step`` and ``followup_step``: the work-up,
    treatment and follow-up steps in place of :func:`workup`, :func:`treatment` and
    :func:`follow_up` (the columnar backend's, which give the engine's answer once per distinct
    outcome of the work-up table, per distinct set of answers of the treatment tables and per
    distinct view of the case the follow-up decision reads: :mod:`nenguide.batch.columnar.
    workup`, :mod:`nenguide.batch.columnar.treatment`, :mod:`nenguide.batch.columnar.
    followup`)."""
    if core is None:
        cls = classify(ctx, facts, case)
        stg = stage(ctx, facts, case, cls)
        liver = liver_type(ctx, facts, cls)
    else:
        cls, stg, liver = core
    syndromes = functional_syndromes(ctx, case, facts, cls)
    # phase 2: the facts that need the classification and the syndromes
    facts = pathway_facts(ctx, facts, cls, syndromes)
    work = (workup_step or workup)(ctx, case, facts, cls, stg, liver, syndromes)
    options, mdt = (treatment_step or treatment)(ctx, case, facts, cls, stg, liver, syndromes, site)
    follow = (followup_step or follow_up)(ctx, case, facts, cls, stg, as_of, syndromes)
    return cls, stg, liver, syndromes, work, options, mdt, follow, facts


def _unconfirmed(kb: Knowledge, trace: list[Any]) -> frozenset[str]:
    """The rules in ``trace`` whose content is not confirmed."""
    return kb.unconfirmed_rules.intersection(chain.from_iterable(map(_RULE_IDS, trace)))


_RULE_IDS = itemgetter("rule_ids")


#: The parts of the case the steps after the fact layer read directly (everything else they
#: read is a fact). tests/test_speed.py checks the step modules read no other case field: a
#: new one must be added here, or the memo would answer for a case that differs in it.
CASE_FIELDS_READ_BY_STEPS = (
    "case.pathology.components",
    "case.staging_basis",
    "case.tumour.number_of_tumours",
)


def _pathway_key(
    facts: Facts, case: Case, lang: str, as_of: dt.date, site: SiteParameters | None
) -> tuple[Any, ...] | None:
    """The memo key of the steps after the fact layer: everything they read (the facts with
    their bookkeeping, the case fields in :data:`CASE_FIELDS_READ_BY_STEPS`, the date, the
    language and the site parameters); ``None`` when a value cannot be part of a key."""
    try:
        return (
            "pathway",
            lang,
            as_of,
            None if site is None else site.model_dump_json(),
            case.staging_basis,
            tuple(case.pathology.components),
            case.tumour.number_of_tumours,
            # the facts' names and values as two tuples (not a pair per fact: over a hundred);
            # equal keys still mean the same facts with the same values, in the same order
            tuple(facts),
            tuple(facts.values()),
            _hashable(facts.extra),
            _hashable(facts.done),
            _hashable(facts.lab_index),
        )
    except TypeError:
        return None


_M = TypeVar("_M", bound=BaseModel)


def frozen_model(m: _M) -> _M:
    """``m`` (a frozen model) with its list and dict fields made immutable too."""
    d = m.__dict__
    for name, v in d.items():
        t = type(v)
        if t in _NO_MODEL:  # most fields (no isinstance call on the model metaclass)
            continue
        if isinstance(v, list | dict):
            d[name] = freeze(v)
        elif isinstance(v, BaseModel):
            frozen_model(v)
    return m


#: field value types that are neither a container nor a model
_NO_MODEL = frozenset({str, int, float, bool, type(None), Status, FrozenList, FrozenDict})


def _guideline_ref(kb: Knowledge, expired: bool) -> GuidelineRef:
    key = ("guideline_ref", expired)
    ref = kb.package_cache.get(key)
    if ref is None:
        man = kb.manifest
        ref = kb.package_cache[key] = GuidelineRef(
            id=man.id,
            title=man.title,
            version=man.version,
            edition=man.edition,
            valid_from=man.valid_from,
            valid_until=man.valid_until,
            status=man.status,
            content_hash=man.content_hash,
            past_valid_until=expired,
        )
    return ref
