"""``assess()``: one case in, one assessment out. Pure: the knowledge base, the date and the
language are passed in; nothing here reads a file, the clock, a database or the network."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar, cast

from pydantic import BaseModel

from nenguide._version import __version__
from nenguide.engine.classify import classify
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts, pathway_facts
from nenguide.engine.followup import follow_up
from nenguide.engine.hereditary import hereditary
from nenguide.engine.kb import Knowledge
from nenguide.engine.liver import liver_type
from nenguide.engine.stage import stage
from nenguide.engine.syndromes import functional_syndromes
from nenguide.engine.treatment import treatment
from nenguide.engine.workup import workup
from nenguide.model.assessment import Assessment, GuidelineRef, Issue, TraceEntry
from nenguide.model.case import Case
from nenguide.model.frozen import FrozenList, freeze
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
    man = kb.manifest
    expired = as_of > man.valid_until
    if expired:
        ctx.issue(
            "GUIDELINE_PAST_VALID_UNTIL",
            "guideline",
            [],
            guideline=ctx.text(f"guideline_title.{man.id}"),
            valid_until=man.valid_until.isoformat(),
            as_of=as_of.isoformat(),
        )
    # the fact layer: every derived clinical fact once, immutable, traced (phase 1: the case)
    facts = case_facts(ctx, case)
    cls = classify(ctx, facts, case)
    stg = stage(ctx, facts, case, cls)
    liver = liver_type(ctx, facts, cls)
    syndromes = functional_syndromes(ctx, case, facts, cls)
    # phase 2: the facts that need the classification and the syndromes
    facts = pathway_facts(ctx, facts, cls, syndromes)
    work = workup(ctx, case, facts, cls, stg, liver, syndromes)
    options, mdt = treatment(ctx, case, facts, cls, stg, liver, syndromes, site)
    follow = follow_up(ctx, case, facts, cls, stg, as_of, syndromes)
    hered = hereditary(ctx, case, facts, cls, syndromes)

    flagged = kb.unconfirmed_rules
    unconfirmed = sorted(
        {r for t in ctx.trace if not flagged.isdisjoint(t["rule_ids"]) for r in t["rule_ids"]
         if r in flagged}
    )  # fmt: skip
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
        classification=_frozen_model(cls),
        stage=_frozen_model(stg),
        liver_metastasis_type=liver.type,
        liver_metastasis=_frozen_model(liver),
        functional_syndromes=freeze(syndromes),
        workup=freeze(work),
        treatment=freeze(options),
        mdt_discussion=freeze(mdt),
        follow_up=freeze(follow),
        hereditary=freeze(hered),
        # issue and trace entries are frozen when made (and may be shared through the memo)
        issues=cast(list[Issue], FrozenList(ctx.issues)),
        trace=cast(list[TraceEntry], FrozenList(ctx.trace)),
        disclaimer=ctx.text("disclaimer"),
    )


_M = TypeVar("_M", bound=BaseModel)


def _frozen_model(m: _M) -> _M:
    """``m`` (a frozen model) with its list and dict fields made immutable too."""
    d = m.__dict__
    for name, v in d.items():
        if isinstance(v, list | dict):
            d[name] = freeze(v)
        elif isinstance(v, BaseModel):
            _frozen_model(v)
    return m


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
