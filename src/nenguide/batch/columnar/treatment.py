"""Treatment in the batch: the engine's own step, once per distinct set of answers of its tables.

The treatment step (:func:`nenguide.engine.treatment.treatment`) routes a case by the answers
of its tables (the setting, the table of the primary site, the ``collect`` tables, the caveats)
and assembles the options from the rows that apply or wait on a missing input. What the flat
row shows of it (each option's code, category, availability, level status, rule and status;
the MDT flag and its reasons; the codes and kinds of its issues) and whether it traced
unconfirmed content depend on the case only through

* the answers of those tables, on the step's view of the facts with the setting it decided:
  what their compiled functions give (:func:`~nenguide.engine.table_eval.compiled_first`,
  :func:`~nenguide.engine.table_eval.compiled_collect`), each standing for the rows that
  apply, the rows that wait on a missing input and the inputs they wait on. The table of the
  primary site counts only where the step consults it (:func:`~nenguide.engine.treatment.
  local_route`); of the caveats table only its rows of unconfirmed content that apply count
  (a caveat is a text; its rows show in the trace, and count for the unconfirmed flag only);
* the facts the step's Python reads itself (:data:`~nenguide.engine.treatment.DIRECT_READS`:
  the category, the site, resection, SSTR status, the gastric cause and type, the therapies
  failed...);
* whether a conflict was reported before the step (the MDT flag), the issues raised before it
  that are MDT reasons of their own (:func:`~nenguide.engine.treatment.mdt_issues_before`),
  and the classification's
  grades where the grade-combining table holds unconfirmed content (they decide only which
  fields an issue names, which the flat row does not show, through look-ups of that table).

What the texts show (the "because" lines, an issue's message, the caveats) is left out: the
flat row holds no text.

So the engine's step runs on the first case with a given key (in that case's own context, so
it gets its own answer) and every later case with the same key gets its options, MDT flag,
issue codes and unconfirmed flag without running it: nothing of the step's logic is written
twice. A case whose setting is left open is keyed the same way by what the step reads to
assemble its options per candidate value of the open input (the setting table's result, and per
candidate the setting it decides and the answers of the tables under it). A case whose inputs
a compiled function cannot read (a range of candidates) is treated by the engine itself.
tests/batch/test_columnar_treatment.py and the batch's differential test compare it with the
engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from operator import itemgetter
from typing import Any

from nenguide.engine.context import MEMO_LIMIT, Context
from nenguide.engine.kb import Knowledge
from nenguide.engine.table_eval import compiled_collect, compiled_first, first_of
from nenguide.engine.treatment import (
    DIRECT_READS,
    STEP,
    derive_facts,
    local_route,
    mdt_issues_before,
    open_setting_input,
    treatment,
)
from nenguide.engine.treatment_data import effective_site
from nenguide.engine.treatment_setting import setting_candidates
from nenguide.model.assessment import (
    Classification,
    FunctionalSyndrome,
    IssueKind,
    LiverMetastasis,
    MdtDiscussion,
    Stage,
    TreatmentOption,
)
from nenguide.model.case import Case
from nenguide.model.frozen import FrozenDict, FrozenList
from nenguide.model.site import SiteParameters

_RULE_IDS = itemgetter("rule_ids")
_Answer = tuple[list[TreatmentOption], MdtDiscussion | None, tuple[Any, ...], bool]


class TreatmentProgram:
    """The treatment step for the batch (see the module): :meth:`step` has the engine step's
    signature; after each call, :attr:`unconfirmed` says whether the answer it gave traced
    unconfirmed content that the case's own trace does not show."""

    def __init__(self, kb: Knowledge, lang: str) -> None:
        self.kb = kb
        self.lang = lang
        ctx = Context(kb, lang)
        self.setting = kb.tables[ctx.table_id(STEP, "setting")]
        self.tables = (
            *(kb.tables[t] for t in kb.pathway.tables(STEP, "collect")),
            kb.tables[ctx.table_id(STEP, "caveats")],
        )
        self.site = effective_site(kb, None)  # the package's own site parameters
        # the caveats table's rows of unconfirmed content (a mask, as its compiled function
        # answers), and whether the grade-combining table has any
        unconfirmed = kb.unconfirmed_rules
        caveats = self.tables[-1]
        self._caveats_unconfirmed = sum(
            1 << j for j, row in enumerate(caveats.rows) if row.id in unconfirmed
        )
        combine = kb.tables[ctx.table_id("classification", "grade_combine")]
        self._grades = any(row.id in unconfirmed for row in combine.rows)
        self.unconfirmed = False
        self.by_engine = 0  # cases the engine treated itself (for the tests and the docs)
        self._seen: dict[tuple[Any, ...], _Answer] = {}

    def step(
        self,
        ctx: Context,
        case: Case,
        facts: Mapping[str, Any],
        cls: Classification,
        stg: Stage,
        liver: LiverMetastasis,
        syndromes: list[FunctionalSyndrome],
        site: SiteParameters | None,
    ) -> tuple[list[TreatmentOption], MdtDiscussion | None]:
        self.unconfirmed = False
        key = self._key(ctx, facts, cls, liver) if site is None else None
        try:
            hit = self._seen.get(key) if key is not None else None
        except TypeError:  # a value that cannot be part of a key
            key = hit = None
        if hit is None:
            # the engine's step on this case, in its own context (its own answer, trace and
            # issues); kept for the later cases with the same key
            n_trace, n_issues = len(ctx.trace), len(ctx.issues)
            options, mdt = treatment(ctx, case, facts, cls, stg, liver, syndromes, site)
            if key is None:
                self.by_engine += 1
                return options, mdt
            traced = chain.from_iterable(map(_RULE_IDS, ctx.trace[n_trace:]))
            options = FrozenList(options)  # shared with later cases: immutable (items already)
            if len(self._seen) > MEMO_LIMIT:
                self._seen.clear()
            self._seen[key] = (
                options,
                mdt,
                tuple(FrozenDict(code=i["code"], kind=i["kind"]) for i in ctx.issues[n_issues:]),
                not self.kb.unconfirmed_rules.isdisjoint(traced),
            )
            return options, mdt
        options, mdt, issues, self.unconfirmed = hit
        ctx.issues.extend(issues)
        return options, mdt

    def _key(
        self, ctx: Context, facts: Mapping[str, Any], cls: Classification, liver: LiverMetastasis
    ) -> tuple[Any, ...] | None:
        """What the step's answer (as the flat row shows it) depends on (see the module);
        ``None`` when a compiled function cannot read an input."""
        f = derive_facts(facts, liver, self.site)
        table = self.setting
        got = compiled_first(table, tuple(map(f.get, table.names)))
        if got is None:  # an input the compiled function cannot read: the engine's step
            return None
        if type(got) is int and got >= 0 and table.values[got] != "unknown":
            f["setting"] = table.values[got]
            answers = self._answers(f)
            if answers is None:
                return None
            head: tuple[Any, ...] = (got, *answers)
        else:
            open_ = self._open(f)
            if open_ is None:
                return None
            head = open_
        return (
            *head,
            *map(f.get, DIRECT_READS),
            (cls.grade, cls.grade_by_ki67, cls.grade_by_mitoses) if self._grades else None,
            any(i["kind"] is IssueKind.conflict for i in ctx.issues),
            mdt_issues_before(self.kb, ctx.issues),
        )

    def _answers(self, f: Mapping[str, Any]) -> list[Any] | None:
        """The answers of the step's tables on its view ``f`` with a setting decided: the
        collect tables, the caveats' rows of unconfirmed content that apply, and the table of
        the primary site where the step consults it; ``None`` when a compiled function cannot
        read an input."""
        answers: list[Any] = []
        for table in self.tables:
            answer = compiled_collect(table, tuple(map(f.get, table.names)))
            if answer is None:
                return None
            answers.append(answer)
        # the caveats (the last table): their rows of unconfirmed content that apply
        caveats = answers[-1]
        answers[-1] = (caveats if type(caveats) is int else caveats[0]) & self._caveats_unconfirmed
        site_table = self.kb.pathway.site_table(STEP, f["primary_site"]) if local_route(f) else None
        if site_table is not None:
            table = self.kb.tables[site_table]
            answer = compiled_first(table, tuple(map(f.get, table.names)))
            if answer is None:
                return None
            answers.append(answer)
        return answers

    def _open(self, f: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The key's head for a setting the step leaves open (no setting decided, or
        ``unknown``): what :func:`~nenguide.engine.treatment.treatment` reads to withhold the
        options or to assemble them per candidate value of the package's open-setting input
        (the setting table's result: decided, value and the inputs it waits on; the input's
        value), and for each candidate the setting table's compiled answer with that value
        and, where it decides a setting, the answers of the step's tables under it
        (:meth:`_answers`). ``None`` when a compiled function cannot read an input."""
        table = self.setting
        res = first_of(table, tuple(map(f.get, table.names)))
        if res.decided and res.value != "unknown":  # not open after all: the engine's step
            return None
        name = open_setting_input(self.kb)
        if name is None:
            return ("open", res.decided, res.value, res.missing, None, ())
        runs: list[Any] = []
        for value in setting_candidates(table, name, f.get(name)):
            fv = {**f, name: value}
            got = compiled_first(table, tuple(map(fv.get, table.names)))
            if got is None or got == -1:  # not read by the compiled function, or no row
                return None
            if type(got) is int:
                fv["setting"] = table.values[got]
                answers = self._answers(fv)
                if answers is None:
                    return None
                runs.append((got, *answers))
            else:  # undecided with this value: the step withholds the options
                runs.append(got)
        return ("open", res.decided, res.value, res.missing, f.get(name), tuple(runs))
