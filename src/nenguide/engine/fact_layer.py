"""The fact layer: every derived clinical fact, computed once per case and traced.

Two phases, both before the steps that read them:

1. :func:`case_facts` - from the case alone: the reshaped input (:mod:`.facts`,
   :mod:`.case_input`; the item tables of :mod:`.case_items`, once per germline or lab result),
   the lab results converted to canonical units, then the fact tables of
   the package (``pathway.yaml``, step ``facts``): list ``precedence`` (which source wins: the
   node status), list ``consistency`` (contradictions in the nodal and metastatic data: one
   CONFLICT item each; the contradicted facts become unknown for every step), the counting
   table of role ``relative_men1_major`` (once per first-degree relative), and list ``case`` -
   symptom combinations, atrophic gastritis, SSTR positivity, gastrin status, clinical MEN1 in
   a relative, the VHL/NF1/TSC feature sets.
2. :func:`pathway_facts` - once classification and the functional syndromes are known: the
   syndrome flags (table of role ``syndrome_active``, once per status), list ``pathway`` (well
   differentiated, the gastrinoma facts, the functional status - one definition), the MEN1
   manifestations counted by the table of role ``men1_major``, the gastric NET type from its
   cause (a contradictory cause is one CONFLICT item and the type is unknown for every step).

A counting table (``hit_policy: collect``) gives the number of its rows that apply, a range
while rows need a missing input: the table decides what counts, Python only counts.

The result is an immutable :class:`Facts` mapping: a step can read it but never change what
another step sees. Python here only reshapes; every clinical threshold and definition is a row
of a knowledge table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import Any

from nenguide.engine.case_input import (
    carrier_input,
    clinical_input,
    done_input,
    extra_input,
    first_degree_relatives,
    lab_input,
)
from nenguide.engine.case_reported import reported_input
from nenguide.engine.context import Context
from nenguide.engine.facts import derive
from nenguide.engine.logic import OneOf, one_of
from nenguide.engine.pathway import TX_SYNDROMES
from nenguide.model.assessment import Classification, FunctionalSyndrome
from nenguide.model.case import Case
from nenguide.model.frozen import FrozenDict

STEP = "facts"


class Facts(FrozenDict):
    """The facts of one case (immutable), with the bookkeeping the steps need to name fields.

    ``lab_index``: analyte -> index of the ``clinical.labs`` result its facts came from;
    ``done``: investigations already done (kind or ``lab:<token>`` -> date or '');
    ``extra``: reshaped lists (carrier genes, relatives' genes, tested genes, resection date).
    """

    __slots__ = ("done", "extra", "lab_index")

    lab_index: Mapping[str, int]
    done: Mapping[str, str]
    extra: Mapping[str, Any]

    def with_(self, **values: Any) -> Facts:
        """A new :class:`Facts` with ``values`` added (this one is unchanged)."""
        new = Facts({**self, **values})
        new.lab_index, new.done, new.extra = self.lab_index, self.done, self.extra
        return new


def _new(values: dict[str, Any], lab_index: Mapping[str, int], done: Mapping[str, str],
         extra: Mapping[str, Any]) -> Facts:  # fmt: skip
    f = Facts(values)
    f.lab_index, f.done, f.extra = FrozenDict(lab_index), FrozenDict(done), FrozenDict(extra)
    return f


def case_facts(ctx: Context, case: Case) -> Facts:
    """Phase 1: the facts of the case itself (see the module docstring)."""
    values = derive(case)
    cl = case.clinical  # the clinical section: read here only, reshaped by .case_input
    values.update(clinical_input(case, cl))
    germline, carriers = carrier_input(ctx, cl)  # the carrier table, once per result
    values.update(germline)
    values.update(reported_input(ctx, case))
    labs, index = lab_input(ctx, cl)
    values.update(labs)
    extra = extra_input(case, cl, carriers)
    # every reshaped fact is traced with its value (the fact tables trace themselves)
    ctx.note(STEP, None, values, ["reshaped from the case (no clinical threshold)"])
    # which source wins where the case reports a finding several ways (node status: count,
    # station or the stated status), before the contradiction checks
    _first_tables(ctx, values, "precedence")
    _consistency(ctx, values)
    relatives = first_degree_relatives(cl)
    table_id = _role(ctx, "relative_men1_major")
    if table_id is not None:
        values[ctx.kb.tables[table_id].output] = (
            None if relatives is None else _count_max(ctx, table_id, relatives)
        )
    _first_tables_as_one(ctx, values, "case")
    return _new(values, index, done_input(ctx, cl), extra)


def with_precedence(ctx: Context, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (the reshaped case) with the facts of the ``precedence`` tables (which source
    wins, e.g. the node status): for a caller that evaluates the rest of the fact layer itself
    (the columnar backend's core mode)."""
    _first_tables(ctx, values, "precedence")
    return values


def _role(ctx: Context, role: str) -> str | None:
    """The table bound to ``role`` of the fact layer, or None when the package binds none (a
    counting fact the package does not define stays unknown)."""
    return ctx.kb.pathway.optional_table(STEP, role)


def _first_tables(ctx: Context, values: dict[str, Any], role: str) -> None:
    """Evaluate the fact tables of list ``role`` in order; each sets its output fact (unknown
    when undecided)."""
    for table_id in ctx.kb.pathway.tables(STEP, role):
        res = ctx.first(STEP, table_id, values)
        values[res.table.output] = res.value if res.decided else None


def _first_tables_as_one(ctx: Context, values: dict[str, Any], role: str) -> None:
    """:func:`_first_tables`, memoised as a whole (:meth:`Context.shared`) as well as table
    by table: the facts the list sets and its tables' trace entries are a pure function of
    the values the list reads (:func:`_list_inputs`). For list ``case``, whose inputs are
    mostly items recorded or not (symptoms, history, relatives): 156 distinct sets of its 40
    inputs in 20 000 generated cases, so one look-up replaces ten."""
    ids, names = _list_inputs(ctx, role)
    _as_one(ctx, values, ids, names)


def _first_tables_by_run(ctx: Context, values: dict[str, Any], role: str) -> None:
    """:func:`_first_tables` for a list some of whose tables read a number of the case (list
    ``pathway``: the tumour size), which nearly every case has a value of its own of: each
    run of tables that read no number is memoised as a whole (:func:`_as_one`), and each
    table that reads one is looked up alone (:func:`_list_runs`). The facts set and the trace
    entries, in their order, are those of :func:`_first_tables`."""
    for ids, names in _list_runs(ctx, role):
        if names is None:  # one table, looked up alone
            res = ctx.first(STEP, ids[0], values)
            values[res.table.output] = res.value if res.decided else None
        else:
            _as_one(ctx, values, ids, names)


def _as_one(
    ctx: Context, values: dict[str, Any], ids: tuple[str, ...], names: tuple[str, ...]
) -> None:
    """Tables ``ids`` of the fact layer, in order, each setting its output fact, memoised as a
    whole by ``names``: every value they read but the facts an earlier one of them sets."""
    n = len(ctx.trace)

    def run() -> tuple[tuple[tuple[str, Any], ...], tuple[Any, ...]]:
        out = []
        for table_id in ids:
            res = ctx.first(STEP, table_id, values)
            v = res.value if res.decided else None
            values[res.table.output] = v
            out.append((res.table.output, v))
        return tuple(out), tuple(ctx.trace[n:])

    # the tables in the key too: a copy of the package may bind other tables to the list
    set_, entries = ctx.shared(("fact_list", ids, *map(values.get, names)), run)
    if len(ctx.trace) == n:  # from the memo: the facts it sets and its tables' trace entries
        values.update(set_)
        ctx.trace.extend(entries)


def _list_inputs(ctx: Context, role: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tables of fact list ``role`` and the values the list reads: every input of its
    tables but the facts an earlier table of the list sets (package data:
    :meth:`Knowledge.derived`)."""
    return ctx.kb.derived(("fact_list_inputs", role), lambda: _inputs(ctx, role))


def _list_runs(
    ctx: Context, role: str
) -> tuple[tuple[tuple[str, ...], tuple[str, ...] | None], ...]:
    """The tables of fact list ``role`` in order, as runs: each stretch of two or more tables
    that read no number (no input of type ``number``), with the values it reads (as
    :func:`_list_inputs`); every other table alone, with ``None`` for its names (package
    data: :meth:`Knowledge.derived`)."""

    def runs() -> tuple[tuple[tuple[str, ...], tuple[str, ...] | None], ...]:
        tables = ctx.kb.tables

        def reads_number(table_id: str) -> bool:
            return any(i.type == "number" for i in tables[table_id].spec.inputs.values())

        out: list[tuple[tuple[str, ...], tuple[str, ...] | None]] = []
        for number, group in groupby(ctx.kb.pathway.tables(STEP, role), key=reads_number):
            ids = tuple(group)
            if number or len(ids) == 1:
                out += [((t,), None) for t in ids]
            else:
                out.append((ids, _names(ctx, ids)))
        return tuple(out)

    return ctx.kb.derived(("fact_list_runs", role), runs)


def _inputs(ctx: Context, role: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ids = tuple(ctx.kb.pathway.tables(STEP, role))
    return ids, _names(ctx, ids)


def _names(ctx: Context, ids: Sequence[str]) -> tuple[str, ...]:
    """Every input of tables ``ids`` but the facts an earlier one of them sets, each once."""
    set_before: set[str] = set()
    names: list[str] = []
    for table_id in ids:
        table = ctx.kb.tables[table_id]
        names += [n for n in table.names if n not in set_before and n not in names]
        set_before.add(table.output)
    return tuple(names)


def _count(ctx: Context, table_id: str, values: Mapping[str, Any]) -> tuple[int, int]:
    """A counting table on ``values``: (rows that apply, rows that need a missing input)."""
    res = ctx.collect(STEP, table_id, values)
    return len(res.applies), len(res.maybe)


def _count_max(ctx: Context, table_id: str, items: tuple[Mapping[str, Any], ...]) -> Any:
    """The most rows of counting table ``table_id`` that apply for one of ``items`` (each
    item's count a range while rows need a missing input); 0 without items. Traced."""
    lo = hi = 0
    for item in items:
        known, unknown = _count(ctx, table_id, item)
        lo, hi = max(lo, known), max(hi, known + unknown)
    value = one_of(range(lo, hi + 1))
    ctx.note(
        STEP,
        value,
        {"table": table_id, "items": len(items)},
        [f"{table_id}: the most rows that apply for one item"],
    )
    return value


def _consistency(ctx: Context, values: dict[str, Any]) -> None:
    """Contradictions in the nodal or metastatic data: one CONFLICT each, and the contradicted
    facts unknown for every step."""
    # every table's contradicted facts, in table order (a later table with no contradiction
    # must not clear what an earlier one found: the stage step reports CONFLICT from these)
    conflicted: list[str] = []
    for table_id in ctx.kb.pathway.tables(STEP, "consistency"):
        table = ctx.kb.tables[table_id]
        res = ctx.collect(table.spec.step, table_id, values)
        for row in res.applies:
            ctx.issue(
                row.then["code"],
                table.spec.step,
                list(row.then["fields"]),
                rule_id=row.id,
                **{c.fact: values.get(c.fact) for c in row.conditions},
            )
        for row in res.applies:
            for fact in row.then["unknown_facts"]:
                values[fact] = None
                conflicted.append(fact)
    values["conflicted"] = tuple(conflicted)


def _state(v: bool | None) -> str:
    return "present" if v is True else "absent" if v is False else "not_recorded"


def pathway_facts(
    ctx: Context,
    facts: Facts,
    cls: Classification,
    syndromes: list[FunctionalSyndrome],
) -> Facts:
    """Phase 2: the facts that need the classification and the functional syndromes."""
    status = {s["syndrome"]: s["status"] for s in syndromes}
    f: dict[str, Any] = {
        "category": cls.category,
        # a grade left open by a reported range: its candidates, for the tables to use
        "grade": cls.grade
        or (one_of(cls.possible["grade"]) if cls.possible.get("grade") else None),
        "classification_status": cls.status.value,
    }
    # one functional status for every step (table FUNCTIONAL): the statuses counted
    f["syndrome_confirmed"] = any(s == "confirmed" for s in status.values())
    f["syndrome_suspected"] = any(s == "suspected" for s in status.values())
    f["syndrome_open"] = any(s == "insufficient_data" for s in status.values())
    f["syndromes_all_excluded"] = bool(status) and all(s == "excluded" for s in status.values())
    # confirmed syndromes as booleans (work-up and follow-up): a suspected syndrome gets its
    # confirmatory tests from the syndrome step, not imaging (the gastrinoma: a fact table)
    f["confirmed_carcinoid_syndrome"] = status.get("carcinoid_syndrome") == "confirmed"
    f["confirmed_insulinoma"] = status.get("insulinoma") == "confirmed"
    # the inputs of the fact tables on the gastrinoma (zes, zes_cause, hered_gastrinoma,
    # confirmed_gastrinoma) and on the differentiation, never unknown
    f["zes_history"] = _state(facts.get("hx_zollinger_ellison_syndrome"))
    f["gastrinoma_status"] = status.get("gastrinoma", NOT_EVALUATED)
    f["classified"] = cls.category is not None
    f["aag"] = _state(facts.get("atrophic_gastritis"))
    _syndrome_flags(ctx, f, status)

    ctx.note(STEP, None, f, ["reshaped from the classification and the functional syndromes"])
    # one working dict for the whole phase (the facts of phase 1 are never changed)
    values = {**facts, **f}
    _first_tables_by_run(ctx, values, "pathway")
    table_id = _role(ctx, "men1_major")
    if table_id is not None:  # the MEN1 major manifestations that apply are counted
        known, unknown = _count(ctx, table_id, values)
        if facts.get("dx_men1") is True:  # MEN1 diagnosed clinically: the criteria are met
            need = int(ctx.kb.parameters["men1_clinical_min_majors"])
            unknown = max(0, known + unknown - need) if known < need else unknown
            known = max(known, need)
        values[ctx.kb.tables[table_id].output] = one_of(range(known, known + unknown + 1))
    _gastric_type(ctx, values)
    out = Facts(values)
    out.lab_index, out.done, out.extra = facts.lab_index, facts.done, facts.extra
    return out


NOT_EVALUATED = "not_evaluated"


def _syndrome_flags(ctx: Context, f: dict[str, Any], status: Mapping[str, str]) -> None:
    """Treatment flags: for each syndrome with a fact of its own, whether it is active (the
    table of role ``syndrome_active``: true, false or unknown); ``other_syndrome``: any other
    syndrome active. Without the table the flags stay unknown."""
    table_id = _role(ctx, "syndrome_active")
    if table_id is None:
        f.update(dict.fromkeys(TX_SYNDROMES), other_syndrome=None)
        return

    n = len(ctx.trace)

    def run() -> tuple[tuple[tuple[str, Any], ...], tuple[Any, ...]]:
        answers: dict[str, Any] = {}  # the table depends on the status only: once per status

        def active(st: str) -> Any:
            if st not in answers:
                res = ctx.first(STEP, table_id, {"syndrome_status": st})
                answers[st] = res.value if res.decided else None
            return answers[st]

        flags = [(name, active(status.get(name, NOT_EVALUATED))) for name in TX_SYNDROMES]
        others = [st for name, st in status.items() if name not in TX_SYNDROMES]
        flags.append(("other_syndrome", any(active(st) is True for st in others)))
        return tuple(flags), tuple(ctx.trace[n:])

    # memoised as a whole (Context.shared), as well as look-up by look-up: the flags and the
    # look-ups' trace entries are a pure function of the statuses, in their order (a case
    # has a handful of distinct statuses, and few cases differ in them)
    flags, entries = ctx.shared(("syndrome_flags", table_id, *status.items()), run)
    f.update(flags)
    if len(ctx.trace) == n:  # from the memo: the look-ups' trace entries
        ctx.trace.extend(entries)


_ZES = "clinical.history.zollinger_ellison_syndrome"
GASTRIC_CAUSE_FIELDS = {
    "aag": ("clinical.history.autoimmune_atrophic_gastritis",),
    "zes_cause": (_ZES, "functional_syndromes (gastrinoma)"),
}
GASTRIC_TYPES = frozenset({"type1", "type2", "type3"})


def _gastric_type(ctx: Context, values: dict[str, Any]) -> None:
    """The gastric NET type from its cause, for a gastric primary (the cause table).

    Sets ``gastric_cause`` (the table's answer: a type, ``conflict``, ``unexplained``, or the
    candidates when undecided), ``gastric_cause_rule``, ``gastric_cause_missing`` (inputs that
    would decide it) and ``gastric_type`` (type1/2/3 or the candidate types; unknown otherwise).
    A contradictory cause is one CONFLICT item, and the type is unknown for every step.
    """
    values["gastric_cause"] = values["gastric_type"] = values["gastric_cause_rule"] = None
    values["gastric_cause_missing"] = ()
    if values.get("primary_site") != "stomach":
        return
    res = ctx.first(STEP, ctx.table_id(STEP, "gastric_cause"), values)
    values["gastric_cause"] = res.value
    values["gastric_cause_rule"] = res.rows[0].id if res.decided and res.rows else None
    values["gastric_cause_missing"] = tuple(sorted(res.missing))
    if not res.decided:
        types = (
            [v for v in res.value.values if v in GASTRIC_TYPES]
            if isinstance(res.value, OneOf)
            else []
        )
        all_types = isinstance(res.value, OneOf) and len(types) == len(res.value.values)
        values["gastric_type"] = one_of(types) if all_types else None
        return
    if res.value == "conflict":
        ctx.issue(
            "TX_GASTRIC_CAUSE_CONFLICT",
            STEP,
            [*GASTRIC_CAUSE_FIELDS["aag"][:1], *GASTRIC_CAUSE_FIELDS["zes_cause"]],
            rule_id=res.rows[0].id,
        )
        return
    values["gastric_type"] = res.value if res.value in GASTRIC_TYPES else None
