"""Per-assessment working state: the issues and trace being collected, and helpers that turn a
table result into trace entries. One :class:`Context` per ``assess()`` call; nothing global."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from nenguide.engine.kb import CODE_PARAM, Knowledge
from nenguide.engine.logic import OneOf
from nenguide.engine.table_eval import EMPTY
from nenguide.engine.tables import (
    _PLAIN,
    CollectResult,
    TableResult,
    collect_of,
    first_of,
)
from nenguide.engine.tables import (
    jsonable as jsonable,
)
from nenguide.engine.trace_entries import (
    collect_entries,
    collect_hit,
    entry,
    first_hit,
    table_entry,
)
from nenguide.model.assessment import Classification, IssueKind
from nenguide.model.clinical import History
from nenguide.model.frozen import FrozenDict, FrozenList, freeze

_T = TypeVar("_T")

MEMO_LIMIT = 20_000

#: Fact name -> the case field path it comes from (for issues that name what is missing).
FIELD_OF_FACT: dict[str, str] = {
    "primary_site": "tumour.primary_site",
    "site_group": "tumour.primary_site",
    "size_cm": "tumour.size_cm",
    "extent": "tumour.extent",
    "lung_descriptors": "tumour.lung_descriptors",
    "reported_pt": "tumour.reported_pt",
    "venous_tumour_thrombus": "tumour.venous_tumour_thrombus",
    "differentiation": "pathology.differentiation",
    "morphology": "pathology.morphology",
    "ki67_percent": "pathology.ki67_percent",
    "mitoses_per_2mm2": "pathology.mitoses_per_2mm2",
    "ki67_reported": "pathology.ki67_percent",
    "mitoses_reported": "pathology.mitoses_per_2mm2",
    "necrosis": "pathology.necrosis",
    "ne_percent": "pathology.components",
    "non_ne_percent": "pathology.components",
    "node_status": "regional_nodes.status",
    "declared_node_status": "regional_nodes.status",
    "nodes_positive": "regional_nodes.positive",
    "mesenteric_mass_cm": "regional_nodes.mesenteric_mass_cm",
    "lung_node_station": "regional_nodes.lung_highest_station",
    "met_status": "metastases.status",
    "liver_mets": "metastases.liver",
    "extrahepatic_mets": "metastases.extrahepatic",
    "lung_m1a": "metastases.extrahepatic",
    "extrathoracic_organs": "metastases.extrahepatic",
    "extrathoracic_lesions": "metastases.extrahepatic.lesion_count",
    "liver_lesion_count": "metastases.liver.lesion_count",
    "liver_extent": "metastases.liver.extent",
    "liver_resectability": "metastases.liver.resectability",
    "liver_diffuse": "metastases.liver.diffuse",
    "category": "pathology",
}


#: issue text parameters that name case fields or facts (shown by their labels)
FIELD_PARAMS = frozenset({"needs", "needed", "missing", "fields"})


#: a hereditary syndrome diagnosed clinically: its fact (``dx_*``, read by the feature tables)
#: and the history item it is read from
DX_FACTS: dict[str, History] = {
    "dx_vhl": History.vhl_disease,
    "dx_nf1": History.neurofibromatosis_type_1,
    "dx_tsc": History.tuberous_sclerosis_complex,
    "dx_men1": History.men1_syndrome,
}


def fields_of(facts: Iterable[str]) -> list[str]:
    return sorted({FIELD_OF_FACT.get(f, f) for f in facts})


#: the case fields of the grade's two indices (the Ki-67 first, then the mitoses)
GRADE_FIELDS = ("pathology.ki67_percent", "pathology.mitoses_per_2mm2")
#: the case fields that decide the category (a grade left open by an open category)
CATEGORY_FIELDS = ("pathology.differentiation", "pathology.morphology")
_GRADES = ("G1", "G2", "G3")


def grades_left(
    ctx: Context, step: str, by_ki67: str | None, by_mitoses: str | None
) -> frozenset[str]:
    """The grades the classification's combine table gives for the indices' own grades, an
    index not known taking every grade (each look-up traced under ``step``); ``GX`` and no
    answer left out."""
    table = ctx.table_id("classification", "grade_combine")
    return frozenset(
        {
            ctx.first(step, table, {"grade_ki67": k, "grade_mitoses": m}).value
            for k in ((by_ki67,) if by_ki67 else _GRADES)
            for m in ((by_mitoses,) if by_mitoses else _GRADES)
        }
        - {None, "GX"}
    )


def grade_fields(ctx: Context, step: str, cls: Classification | None) -> tuple[str, ...]:
    """The case fields an open grade waits on, for every step that names them: an index whose
    own grade is open only when some value of it could change the grade (:func:`grades_left`):
    a Ki-67 of 12 % with a mitotic range of 15-30 asks for the mitoses, not for the Ki-67
    already given; a Ki-67 of 35 % (G3 whatever the mitoses) asks for neither, and the
    category's fields are named (the grade waits on the differentiation). Both indices when
    neither gave a grade, or without the classification."""
    if cls is None or cls.grade is not None:  # no classification, or no open grade to name
        return GRADE_FIELDS
    ki67, mitoses = cls.grade_by_ki67, cls.grade_by_mitoses
    if ki67 is None and mitoses is None:
        return GRADE_FIELDS
    if ki67 is not None and mitoses is not None:
        return CATEGORY_FIELDS
    if len(grades_left(ctx, step, ki67, mitoses)) > 1:  # the open index can change the grade
        return GRADE_FIELDS[1:] if ki67 is not None else GRADE_FIELDS[:1]
    return CATEGORY_FIELDS


_SCALARS = (str, int, float, bool, type(None))
_STR = frozenset({str})
#: detail values an issue's text shows as they are (by exact type)
_TEXT_AS_IS = frozenset({int, float, bool, type(None)})
#: the details of an issue that has none (shared: it cannot change)
_NO_DETAILS = FrozenDict()


_LIST, _FLIST, _DICT, _FDICT = object(), object(), object(), object()
_TAGS: dict[type, object] = {list: _LIST, FrozenList: _FLIST, dict: _DICT, FrozenDict: _FDICT}


def _hashable(v: Any) -> Any:
    """``v`` as part of a memo key: lists and dicts (unhashable) as tuples tagged with their
    type, so that values shown differently (a list keeps its order, a tuple is sorted) never
    share a key."""
    tag = _TAGS.get(type(v))
    if tag is None:
        return v
    if tag is _LIST or tag is _FLIST:
        return (tag, *[_hashable(x) for x in v])
    return (tag, *[(k, _hashable(x)) for k, x in v.items()])


@dataclass
class Context:
    kb: Knowledge
    lang: str
    # plain dicts while collecting: validated once, in bulk, when the Assessment is built
    issues: list[dict[str, Any]] = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)
    # False: :meth:`note` records nothing. For a caller that reads the steps' outputs and
    # issues but never the trace (the columnar batch backend, whose rows hold no trace): a
    # note only traces how a step combined table outputs, and no step reads one back
    notes: bool = True
    # the language's texts and choice-code texts (built at load, looked up here once)
    texts: Mapping[str, str] = field(init=False, repr=False, compare=False)
    codes: Mapping[str, str] = field(init=False, repr=False, compare=False)
    params: Mapping[str, frozenset[str] | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.texts = self.kb.catalog.merged(self.lang)
        self.codes = self.kb.catalog.codes(self.lang)
        self.params = self.kb.catalog.params(self.lang)

    def table_id(self, step: str, role: str) -> str:
        """The id of the table bound to ``role`` of ``step`` in the package's pathway."""
        hit = self.kb.roles.get((step, role))
        return hit if hit is not None else self.kb.pathway.table(step, role)

    def text(self, key: str, **params: Any) -> str:
        """What :meth:`Catalog.text` answers, from the language's merged texts."""
        hit = self.texts.get(key)
        if hit is None:
            return self.kb.catalog.text(self.lang, key, **params)  # MissingTextError
        if not params:
            return hit
        try:
            return hit.format(**params)
        except (KeyError, IndexError, ValueError):
            return hit

    def issue(
        self,
        code: str,
        step: str,
        fields: list[str],
        *,
        rule_id: str | None = None,
        kind: IssueKind | None = None,
        **details: Any,
    ) -> None:
        memo = self.kb.memo
        # the details in the call's order, not sorted: the same details given in another
        # order only make another key for an equal issue
        k0 = (
            "issue", self.lang, code, step, tuple(fields), rule_id, kind,
            *[(k, v if type(v) in _TEXT_AS_IS or type(v) is str else _hashable(v))
              for k, v in details.items()],
        )  # fmt: skip
        key: tuple[Any, ...] | None = k0
        try:
            hit = memo.get(k0)
        except TypeError:
            key, hit = None, None
        if hit is None:
            hit = self._make_issue(code, step, fields, rule_id, kind, details)
            if key is not None:
                if len(memo) > MEMO_LIMIT:
                    memo.clear()
                memo[key] = hit
        self.issues.append(hit)

    def _make_issue(
        self, code: str, step: str, fields: list[str], rule_id: str | None,
        kind: IssueKind | None, details: dict[str, Any],
    ) -> FrozenDict:  # fmt: skip
        """One issue, built frozen (what freeze() of the plain dict gives, without walking it
        again): its message is the package's template for ``code`` in the assessment's
        language with the details filled in."""
        kb = self.kb
        plain = _PLAIN
        text_key = f"issue.{code}"
        if details:
            as_is, fmt = _TEXT_AS_IS, self._fmt_param
            used = self.params.get(text_key)  # the parameters the text shows
            params = {
                # the fields a text names read as their labels, in the assessment's language
                k: kb.catalog.field_list(self.lang, v) if k in FIELD_PARAMS
                else v if type(v) in as_is else fmt(v)
                for k, v in details.items()
                if used is None or k in used
            }  # fmt: skip
            template = self.texts.get(text_key)
            if template is None:
                message = kb.catalog.text(self.lang, text_key, **params)  # raises
            else:
                try:
                    message = template.format(**params)
                except (KeyError, IndexError, ValueError):
                    message = template
            if plain.issuperset(map(type, details.values())):
                shown = FrozenDict(details)  # a new dict (the call's keywords), all plain
            else:
                shown = FrozenDict(
                    {k: v if type(v) in plain else freeze(jsonable(v)) for k, v in details.items()}
                )
        else:
            message = self.text(text_key)
            shown = _NO_DETAILS
        return FrozenDict(
            code=code,
            kind=kind or kb.issue_kinds[code],
            step=step,
            fields=(
                FrozenList(fields) if plain.issuperset(map(type, fields)) else freeze(list(fields))
            ),
            message=message,
            rule_id=rule_id,
            details=shown,
        )

    def _fmt_param(self, v: Any) -> Any:
        """A detail as the text shows it: choice codes that the package names (a category, a
        syndrome) by their text in the assessment's language, lists joined (issue 9)."""
        t = type(v)
        if t is str:  # a code's text, built at load (:meth:`Catalog.codes`)
            return self.codes.get(v, v)
        if (t is tuple or t is list) and _STR.issuperset(map(type, v)):
            codes = self.codes
            return ("、" if self.lang == "zh-CN" else ", ").join([codes.get(x, x) for x in v])
        if t is OneOf:
            v = v.sorted()
        if isinstance(v, list | tuple | set | frozenset):
            sep = "、" if self.lang == "zh-CN" else ", "
            return sep.join(str(self._fmt_param(x)) for x in v)
        if isinstance(v, str) and CODE_PARAM.fullmatch(v):
            for prefix in ("category", "syndrome"):
                own = self.kb.catalog.get(self.lang, f"{prefix}.{v}")
                if own:
                    return own
        return v

    def first(self, step: str, table_id: str, facts: Mapping[str, Any]) -> TableResult:
        """Evaluate a first/unique table and trace it.

        Results are memoised per table and input values in the knowledge base: the evaluation
        is a pure function of them, and most inputs are categorical, so repeats are common.
        """
        table = self.kb.tables[table_id]
        memo = self.kb.memo
        vals = tuple(map(facts.get, table.names))
        key = (step, table_id, vals)
        try:
            hit = memo.get(key)
        except TypeError:  # an unhashable value: evaluate without the memo
            res = first_of(table, vals)
            self.trace.append(table_entry(step, res))
            return res
        if hit is None:
            hit = first_hit(step, table, vals)
            if len(memo) > MEMO_LIMIT:
                memo.clear()
            memo[key] = hit
        self.trace.append(hit[1])
        return hit[0]

    def collect(self, step: str, table_id: str, facts: Mapping[str, Any]) -> CollectResult:
        """Evaluate a collect/priority table (memoised like :meth:`first`) and trace it - always,
        also when no row applies - with a second entry for the rows that need a missing input."""
        table = self.kb.tables[table_id]
        memo = self.kb.memo
        vals = tuple(map(facts.get, table.names))
        key = ("collect", step, table_id, vals)
        try:
            hit = memo.get(key)
        except TypeError:
            hit = (res := collect_of(table, vals), *collect_entries(step, res))
        else:
            if hit is None:
                hit = collect_hit(step, table, vals)
                if len(memo) > MEMO_LIMIT:
                    memo.clear()
                memo[key] = hit
        self.trace.append(hit[1])
        if hit[2] is not None:
            self.trace.append(hit[2])
        return hit[0]

    def shared(self, key: tuple[Any, ...], make: Callable[[], _T]) -> _T:
        """What ``make()`` gives, memoised under ``key`` like a table result: for a step's own
        pure function of table results and package data (``key`` holds everything it reads,
        and what it gives is immutable); without the memo when ``key`` is unhashable."""
        memo = self.kb.memo
        try:
            hit = memo.get(key)
        except TypeError:
            return make()
        if hit is None:
            hit = make()
            if len(memo) > MEMO_LIMIT:
                memo.clear()
            memo[key] = hit
        return hit

    def record(self, step: str, res: TableResult) -> None:
        self.trace.append(table_entry(step, res))

    def record_collect(self, step: str, res: CollectResult) -> None:
        self.trace.append(collect_entries(step, res)[0])

    def note(
        self, step: str, result: Any, inputs: Mapping[str, Any], conditions: list[str]
    ) -> None:
        """Trace a step that combined table outputs without a table of its own (memoised
        like a table: the entry is a pure function of its arguments)."""
        if not self.notes:
            return
        memo = self.kb.memo
        # the inputs' names and values as two tuples (not a pair per input: a note can read
        # over a hundred facts); equal keys still mean equal inputs, in the same order
        k0 = (
            "note",
            step,
            tuple(conditions),
            _hashable(result),
            tuple(inputs),
            (*inputs.values(),),
        )
        key: tuple[Any, ...] | None = k0
        try:
            hit = memo.get(k0)
        except TypeError:
            key, hit = None, None
        if hit is None:
            hit = entry(step, None, EMPTY, True, inputs, conditions, EMPTY, result, EMPTY)
            if key is not None:
                if len(memo) > MEMO_LIMIT:
                    memo.clear()
                memo[key] = hit
        self.trace.append(hit)
