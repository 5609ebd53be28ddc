"""The columnar backend's path for cases read from JSON Lines: the whole pathway over a chunk's
columns, the engine run once per distinct answer of each step
(docs/decisions/0004-speed-targets-need-a-decision.md, step 4).

For the lines the column reader holds as the model does (strict, :func:`.case_arrow.
arrow_ready`, not flagged by phase 1):

1. **The fact layer as columns**: phase 1 (:mod:`.phase1`), the core steps over it
   (:mod:`.case_core`, the compiled core program), the functional syndromes
   (:mod:`.case_syndromes`) and phase 2 (:mod:`.case_pathway`). These give each case's
   classification, stage, liver type and syndromes, and the issues and unconfirmed content of
   those steps, as the engine would.
2. **Each later step's key as columns**: work-up (:mod:`.case_workup`), treatment
   (:mod:`.case_treatment`, which reads whether a conflict was reported before it, the work-up's
   issues included), the follow-up decision (:mod:`.case_followup`) and hereditary screening
   (:mod:`.case_hereditary`, with the genes of the variants and of the tests the step's answer
   names, and what the engine's ``missing_fields`` reads where rows apply and others wait).
   Cases with one key get one answer from the engine's step (the tests of those modules).
3. **The engine once per distinct key**: on the first case of each key in each step, the
   engine's own pathway runs (:meth:`ColumnarBackend.representative`); its answer for that
   step (the flat row's columns, the codes and kinds of the step's issues, and whether the
   step read unconfirmed content) is every case's of that key, in this chunk and later ones.
   So no step's logic is written twice: the columns only decide which cases the engine
   answers alike. The follow-up visits are dated per case from its own resection date, by the
   engine's dating (:meth:`.followup.FollowUpProgram.dated`).
4. **Each row**: the core columns, the syndromes, the four steps' answers, and the issues in
   the engine's order (the expiry notice, phase 1's, the core's, the syndromes', phase 2's,
   then the steps'), with ``CONTENT_UNCONFIRMED`` last when any part read unconfirmed content.

A case this path cannot key goes back to the caller (``None``), which assesses it by the
per-case path: a line the reader refuses, a row phase 1 flags, a case whose core steps the
engine decides, a follow-up key part no column holds (grades no mask holds, a gastric type
left open), a hereditary input no column holds, a treatment candidate value for which no
setting row applies or waits, a case whose visits the engine's dating raises on, and every
case of a key whose first case the engine raised on; an error of the column code itself
sends its whole chunk. tests/batch/test_columnar_lines.py and the differential of
tests/batch/test_columnar.py hold the rows to the per-case backend's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import polars as pl
import pyarrow as pa

from nenguide._version import __version__
from nenguide.batch.backend import Failure, Row
from nenguide.batch.columnar.case_arrow import read_lines
from nenguide.batch.columnar.case_core import core_frame
from nenguide.batch.columnar.case_followup import GRADE_BY, followup_key
from nenguide.batch.columnar.case_hereditary import trigger_masks
from nenguide.batch.columnar.case_pathway import CLASSIFICATION, pathway_columns
from nenguide.batch.columnar.case_syndromes import syndrome_columns
from nenguide.batch.columnar.case_treatment import GRADES, LIVER_TYPE, treatment_key
from nenguide.batch.columnar.case_workup import workup_key
from nenguide.batch.columnar.phase1 import phase1
from nenguide.batch.flatten import ASSESSMENT_COLUMNS, follow_up_columns
from nenguide.batch.io import ASSESSMENT_SCHEMA, frame_from_columns, frame_of
from nenguide.engine.context import MEMO_LIMIT
from nenguide.engine.followup import Planned
from nenguide.engine.hereditary import missing_fields_reads
from nenguide.engine.treatment import mdt_codes_among, mdt_issues
from nenguide.model.assessment import IssueKind
from nenguide.model.case import Case
from nenguide.model.frozen import FrozenList

if TYPE_CHECKING:
    from nenguide.batch.columnar.backend import ColumnarBackend
    from nenguide.batch.columnar.followup import FollowUpProgram

_CONFLICT = IssueKind.conflict.value

#: the follow-up answers dated from a resection date kept at most (:meth:`ChunkColumns._dated`)
DATED_LIMIT = 5 * MEMO_LIMIT


def _mdt_codes(kb: Any, mdt: frozenset[str], codes: list[str], work: StepAnswer | None) -> str:
    """The codes of the issues before the treatment step (``codes`` up to phase 2 and the
    work-up's ``work``) that the package makes MDT reasons, as the treatment key holds them."""
    if mdt.isdisjoint(codes) and (work is None or mdt.isdisjoint(work.codes)):
        return ""
    return str(mdt_codes_among(kb, [*codes, *(work.codes if work is not None else ())]))


@dataclass(frozen=True)
class StepAnswer:
    """One step's answer as every case of its key shows it: the flat row's columns, the codes
    and kinds of the step's issues (in order) and whether the step read unconfirmed content."""

    columns: dict[str, Any]
    codes: tuple[str, ...]
    kinds: tuple[str, ...]
    unconfirmed: bool
    #: follow-up only: the schedule the decision chose, its visits not yet dated (each row's
    #: are dated from its own resection date, :meth:`ChunkColumns._dated`); ``columns`` is
    #: then empty
    planned: Planned | None = None

    @property
    def conflict(self) -> bool:
        return _CONFLICT in self.kinds


@dataclass(frozen=True)
class Answers:
    """The four later steps' answers of one case (:meth:`ColumnarBackend.representative`)."""

    workup: StepAnswer
    treatment: StepAnswer
    follow_up: StepAnswer
    hereditary: StepAnswer


def step_answer(columns: dict[str, Any], issues: Iterable[Any], unconfirmed: bool) -> StepAnswer:
    """A :class:`StepAnswer` from the step's flat columns, its issues and its unconfirmed flag.
    Every row of the key shows these columns: a list among them is frozen, so no row can
    change another's."""
    codes, kinds = _codes_kinds(issues)
    return StepAnswer(
        {k: FrozenList(v) if type(v) is list else v for k, v in columns.items()},
        codes,
        kinds,
        unconfirmed,
    )


def _codes_kinds(issues: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The codes and the kinds (as the flat row writes them) of ``issues``, in order."""
    issues = list(issues)
    return tuple(i["code"] for i in issues), tuple(_kind(i) for i in issues)


def _kind(issue: Mapping[str, Any]) -> str:
    return str(getattr(issue["kind"], "value", issue["kind"]))


def follow_up_part(part: Part, follow: Any, prog: FollowUpProgram) -> StepAnswer:
    """The follow-up step's answer of a representative (:meth:`ColumnarBackend.
    representative`): ``part`` makes it from the step's share of the case's issues and trace;
    where the decision chose a schedule, only the decision's own issues and unconfirmed
    content are kept, with the schedule, for each row to be dated from its resection date."""
    decided = prog.decided
    if not isinstance(decided, Planned):
        return part("follow_up", follow_up_columns(follow), None, None)
    answer = part("follow_up", {}, prog.decision_issues, prog.decision_unconfirmed)
    return dataclasses.replace(answer, planned=decided)


#: a representative's answer of one step (:meth:`ColumnarBackend.representative`): from the
#: step's name, its flat columns and, where given, its issues and unconfirmed flag in place
#: of those the step left in the case's context
Part = Callable[[str, dict[str, Any], Sequence[Any] | None, bool | None], StepAnswer]


def _groups(frame: pl.DataFrame) -> list[int]:
    """Each row's key number: rows with equal values in every column of ``frame`` share it
    (exact comparison, nulls equal, lists by their items), numbered in order of first
    appearance. A column null in every row tells no rows apart and is left out."""
    cols = [c.name for c in frame.get_columns() if c.null_count() < frame.height]
    if not cols:
        return [0] * frame.height
    rows = (
        frame.select(cols)
        .with_row_index("_r")
        .group_by(cols, maintain_order=True)
        .agg(pl.col("_r"))["_r"]
        .to_list()
    )
    out = [0] * frame.height
    for g, members in enumerate(rows):
        for r in members:
            out[r] = g
    return out


def _first_of(groups: Sequence[int], usable: Sequence[bool]) -> dict[int, int]:
    """Per key number, its first row among the ``usable`` ones."""
    first: dict[int, int] = {}
    for i, (g, ok) in enumerate(zip(groups, usable, strict=True)):
        if ok and g not in first:
            first[g] = i
    return first


class ChunkRows(NamedTuple):
    """What :meth:`ChunkColumns.rows` gives: each case's row (``None``: the per-case path)
    and whether the compiled core program left the case's core steps to the engine
    (``engine_core``; the per-case path then runs the engine's own core steps on it at
    once, without running the program on it again to the same end)."""

    rows: list[Row | None]
    engine_core: list[bool]


class ChunkFrame(NamedTuple):
    """What :meth:`ChunkColumns.frame` gives: the rows the columns answer as one frame of the
    flat row's columns (:data:`~nenguide.batch.flatten.ASSESSMENT_COLUMNS`), their positions
    (``at``, ascending), and :attr:`ChunkRows.engine_core`."""

    frame: pl.DataFrame
    at: list[int]
    engine_core: list[bool]


class _Distinct:
    """A step's answers of the rows, each distinct answer once (by identity: the rows of a
    key share their answer) and each row's index into them."""

    __slots__ = ("answers", "of")

    def __init__(self, picked: Sequence[StepAnswer]) -> None:
        index: dict[int, int] = {}
        self.of = [index.setdefault(id(a), len(index)) for a in picked]
        # first appearances, in the order of their indexes
        self.answers = list({id(a): a for a in picked}.values())

    def columns(self, schema: Mapping[str, Any]) -> pl.DataFrame:
        """Each row's answer's columns: the distinct answers' columns as a frame (of their
        types in ``schema``), gathered by the rows' indexes."""
        if not self.answers:
            return pl.DataFrame()
        names = list(self.answers[0].columns)
        small = frame_of([a.columns for a in self.answers], {c: schema[c] for c in names})
        return small[self.of]


@dataclass(frozen=True)
class _Parts:
    """The rows the column path gives a chunk, in parts: the columns every row has
    (``head``), and per row answered (``at``, their positions) its core columns and four
    answers (each distinct one once), syndromes and issues."""

    n: int
    head: dict[str, Any]
    at: list[int]
    #: the model's case id (a row whose text the model would strip is flagged by phase 1)
    case_ids: pl.Series
    names: pl.Series
    statuses: pl.Series
    core: list[dict[str, Any]]
    core_of: list[int]
    steps: tuple[_Distinct, _Distinct, _Distinct, _Distinct]
    codes: list[list[str]]
    kinds: list[list[str]]
    engine_core: list[bool]

    def rows(self) -> list[Row | None]:
        """Each case's row as a dict (``None``: not answered)."""
        out: list[Row | None] = [None] * self.n
        head, core = self.head, self.core
        case_ids = self.case_ids.to_list()
        names, statuses = self.names.to_list(), self.statuses.to_list()
        w, t, f, h = (d.answers for d in self.steps)
        wo, to, fo, ho = (d.of for d in self.steps)
        for k, i in enumerate(self.at):
            out[i] = {
                **head,
                "case_id": case_ids[i],
                **core[self.core_of[k]],
                "functional_syndromes": names[i],
                "functional_syndromes_status": statuses[i],
                **w[wo[k]].columns,
                **t[to[k]].columns,
                **f[fo[k]].columns,
                **h[ho[k]].columns,
                "issue_codes": self.codes[k],
                "issue_kinds": self.kinds[k],
            }
        return out

    def frame(self) -> pl.DataFrame:
        """The rows answered as one frame of :data:`ASSESSMENT_COLUMNS`, in order: each
        distinct part made a frame once (by :func:`~nenguide.batch.io.frame_of`, as any
        row is) and gathered by the rows' indexes."""
        schema = ASSESSMENT_SCHEMA
        if not self.at:
            return frame_of([], schema)
        at = pl.Series("_at", self.at, dtype=pl.UInt32)
        core_names = list(self.core[0]) if self.core else []
        core = frame_of(self.core, {c: schema[c] for c in core_names})[self.core_of]
        lists = frame_from_columns(
            [self.codes, self.kinds],
            {"issue_codes": schema["issue_codes"], "issue_kinds": schema["issue_kinds"]},
        )
        parts = pl.concat(
            [
                pl.DataFrame(
                    [
                        self.case_ids.gather(at).alias("case_id"),
                        self.names.gather(at).alias("functional_syndromes"),
                        self.statuses.gather(at).alias("functional_syndromes_status"),
                    ]
                ),
                core,
                *[d.columns(schema) for d in self.steps],
                lists,
            ],
            how="horizontal",
        )
        head = [pl.lit(v, dtype=schema[k]).alias(k) for k, v in self.head.items()]
        return parts.with_columns(head).select(list(ASSESSMENT_COLUMNS))


class ChunkColumns:
    """A chunk's cases through the columns (see the module); :meth:`rows` gives each case's
    row, or ``None`` for the per-case path."""

    def __init__(self, backend: ColumnarBackend) -> None:
        self.be = backend
        self.kb = backend.kb
        kinds = self.kb.issue_kinds
        self._kind: Callable[[str], str] = lambda code: kinds[code].value
        self.errors = 0  # chunks the column code raised on (assessed case by case instead)
        #: per step, the answers given so far by key (kept across chunks, bounded)
        self._known: dict[str, dict[Any, StepAnswer]] = {}
        #: the follow-up answers dated so far: per decision (:func:`_decision`), each
        #: resection date's answer (kept across chunks, bounded by :data:`DATED_LIMIT`);
        #: equal answers are one object (:attr:`_equal`)
        self._dated_by: dict[Any, dict[str | None, StepAnswer | None]] = {}
        self._dated_count = 0
        self._equal: dict[Any, StepAnswer] = {}

    def rows(self, cases: Sequence[Case], lines: Sequence[str]) -> ChunkRows:
        """Each case's row, or ``None`` for the per-case path. An error in the column code
        itself sends the whole chunk case by case (counted in ``errors``): a bad row never
        stops the batch, and the per-case path gives each case its own row or rejection."""
        parts = self._parts_of(cases, lines)
        if parts is None:
            return ChunkRows([None] * len(cases), [False] * len(cases))
        return ChunkRows(parts.rows(), parts.engine_core)

    def frame(self, cases: Sequence[Case], lines: Sequence[str]) -> ChunkFrame:
        """:meth:`rows` as the output table's columns: the rows the columns answer, in
        order, as one frame (:attr:`ChunkFrame.at`: their positions), without making each
        row a dict (about 5 µs a row, session 23)."""
        nothing = ChunkFrame(frame_of([], ASSESSMENT_SCHEMA), [], [False] * len(cases))
        parts = self._parts_of(cases, lines)
        if parts is None:
            return nothing
        try:
            return ChunkFrame(parts.frame(), parts.at, parts.engine_core)
        except Exception:  # the column code's own error: each case by itself
            self.errors += 1
            return nothing

    def _parts_of(self, cases: Sequence[Case], lines: Sequence[str]) -> _Parts | None:
        """The rows' parts; ``None``: every case goes by the per-case path."""
        try:
            table = read_lines(lines)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # a line the reader refuses: per case
            return None
        try:
            return self._rows(cases, table, {})
        except Exception:  # the column code's own error: each case by itself
            self.errors += 1
            return None

    def _rows(
        self, cases: Sequence[Case], table: pa.Table, reps: dict[int, Answers | Failure]
    ) -> _Parts:
        """The parts of the rows of the cases read into ``table``; ``reps``: this chunk's
        first cases' engine answers, by row (filled here)."""
        n = len(cases)
        kb, be = self.kb, self.be
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        p = phase1(table, kb)
        prog = be.prog
        core = prog.run(core_frame(p.facts, frame, prog))
        syn = syndrome_columns(p.facts, p.lab_index, kb)
        read = list(dict.fromkeys([*CLASSIFICATION.values(), *GRADES, *GRADE_BY, LIVER_TYPE]))
        cls = core.select(read)
        ph2 = pathway_columns(p.facts, cls, syn, kb)
        facts = p.facts.with_columns(ph2.facts)
        facts = pl.concat(
            [facts, cls.drop([c for c in cls.columns if c in facts.columns])], how="horizontal"
        )
        fk = followup_key(facts, kb)
        hk = trigger_masks(facts, ph2.masks, be.hereditary)
        usable = ~(p.per_case | core["core_fallback"] | fk.fallback | hk["fallback"]).fill_null(
            True
        )
        ok = usable.to_list()

        # the issues and unconfirmed content up to phase 2, per row
        codes = pl.DataFrame(
            [p.issues.alias("a"), core["core_issues"].alias("b"), syn.issues.alias("c"),
             ph2.issues.alias("d")]
        ).select(pl.concat_list(pl.all())).to_series().to_list()  # fmt: skip
        first_kinds = [
            [*map(self._kind, a), *map(self._kind, b)]
            for a, b in zip(p.issues.to_list(), core["core_issues"].to_list(), strict=True)
        ]
        kinds = [
            [*f, *c, *d]
            for f, c, d in zip(first_kinds, syn.kinds.to_list(), ph2.kinds.to_list(), strict=True)
        ]
        unconfirmed = (
            pl.DataFrame(
                [
                    (p.unconfirmed.list.len() > 0).alias("a"),
                    core["core_unconfirmed"].alias("b"),
                    (syn.unconfirmed.list.len() > 0).alias("c"),
                    (ph2.unconfirmed.list.len() > 0).alias("d"),
                ]
            )
            .select(pl.any_horizontal(pl.all()).fill_null(False))
            .to_series()
            .to_list()
        )

        # work-up: its key, the engine once per key
        wkey = workup_key(facts, p.done, kb).frame
        _, work = self._answers_of(cases, wkey, ok, "workup", reps)
        # treatment reads whether a conflict was reported before it (the work-up's included),
        # and which issues raised before it (the work-up's included) are MDT reasons
        mdt = frozenset(mdt_issues(kb))
        before = [
            f"{_CONFLICT in k or (w is not None and w.conflict)}{_mdt_codes(kb, mdt, c, w)}"
            for k, w, c in zip(kinds, work, codes, strict=True)
        ]
        tk = treatment_key(facts, pl.Series(before, dtype=pl.String()), kb, ph2.masks)
        ok = [o and not f for o, f in zip(ok, tk.fallback.to_list(), strict=True)]
        _, treat = self._answers_of(cases, tk.frame, ok, "treatment", reps)
        # follow-up: the decision's key; its visits dated per resection date
        _, decisions = self._answers_of(cases, fk.frame, ok, "follow_up", reps)
        follow = self._dated(decisions, p.extra["resection_date"].to_list(), ok)
        hkey = self._hereditary_key(facts, hk, p.extra, ph2.masks)
        _, hered = self._answers_of(cases, hkey, ok, "hereditary", reps)

        # the rows' parts: each row's core columns, syndromes, four answers and issues (the
        # rows answered: every step's answer given)
        at = [
            i
            for i, (o, w, t, f, h) in enumerate(zip(ok, work, treat, follow, hered, strict=True))
            if o and w is not None and t is not None and f is not None and h is not None
        ]
        # the core steps' flat columns, as the per-case path makes them (the models once per
        # distinct set of core columns, their columns once per model)
        # (rows of equal core columns numbered by Polars: the rows as tuples, hashed, cost
        # about 85 against 20 ms a part of 30 000, session 23)
        models = core.select(be.models.columns)
        groups = _groups(models)
        shared: dict[int, int] = {}  # the core columns' index, by group
        core_of = [shared.setdefault(groups[i], len(shared)) for i in at]
        first = _first_of(groups, [True] * len(groups))
        core_cols = [be.core_columns(models.row(first[g])) for g in shared]
        # (none of them None at those rows)
        answered = [
            cast(list[StepAnswer], [step[i] for i in at]) for step in (work, treat, follow, hered)
        ]
        steps = (_Distinct(answered[0]), _Distinct(answered[1]), _Distinct(answered[2]),
                 _Distinct(answered[3]))  # fmt: skip
        first_codes, first_kind = _codes_kinds(be.first_issues)
        unc_code, unc_kind = ("CONTENT_UNCONFIRMED",), (self._kind("CONTENT_UNCONFIRMED"),)
        row_codes: list[list[str]] = []
        row_kinds: list[list[str]] = []
        for i, w, t, f, h in zip(at, *answered, strict=True):
            more = (
                unconfirmed[i] or w.unconfirmed or t.unconfirmed or f.unconfirmed or h.unconfirmed
            )
            row_codes.append([*first_codes, *codes[i], *w.codes, *t.codes, *f.codes, *h.codes,
                              *(unc_code if more else ())])  # fmt: skip
            row_kinds.append([*first_kind, *kinds[i], *w.kinds, *t.kinds, *f.kinds, *h.kinds,
                              *(unc_kind if more else ())])  # fmt: skip
        # a first case the engine raised on, like every case of its keys, is left to the
        # per-case path (which rejects it if the engine raises there too)
        man = kb.manifest
        head = {
            "guideline_id": man.id,
            "guideline_version": man.version,
            "engine_version": __version__,
            "as_of": be.as_of,
        }
        return _Parts(
            n, head, at, frame["case_id"], syn.names, syn.statuses, core_cols, core_of, steps,
            row_codes, row_kinds, core["core_fallback"].fill_null(False).to_list(),
        )  # fmt: skip

    def _hereditary_key(
        self,
        facts: pl.DataFrame,
        masks: pl.DataFrame,
        extra: pl.DataFrame,
        open_: Mapping[str, Mapping[Any, int]],
    ) -> pl.DataFrame:
        """The hereditary step's key (what :meth:`.hereditary.HereditaryProgram._answer`
        keys its answer by): the trigger table's masks (the rows that apply, the rows that
        wait), the genes of the variants and of the tests, and, where rows apply and others
        wait, what decides whether the fields behind the waiting rows' inputs are known to be
        missing (the engine's ``missing_fields``, :func:`~nenguide.engine.hereditary.
        missing_fields_reads`): which of the facts it reads are unknown, the values of those
        it reads as values, and the bits of the facts phase 2 leaves open."""
        known, values = missing_fields_reads(self.kb)
        both = (pl.col("applies") != 0) & (pl.col("waiting") != 0)
        held = [f"{f}_mask" for f in open_ if f"{f}_mask" in facts.columns]
        further = facts.select(
            *[pl.col(f).is_null().alias(f"_known_{f}") for f in known if f in facts.columns],
            *[pl.col(f).alias(f"_value_{f}") for f in values if f in facts.columns],
            *[pl.col(m) for m in held],
        )
        frame = pl.concat(
            [
                masks.select("applies", "waiting"),
                extra.select(
                    "carriers",
                    "relative_genes",
                    pl.col("tested").list.eval(pl.element().struct.field("gene")),
                ),
                further,
            ],
            how="horizontal",
        )
        return frame.select(
            "applies", "waiting", "carriers", "relative_genes", "tested",
            *[pl.when(both).then(pl.col(c)).alias(c) for c in further.columns],
        )  # fmt: skip

    def _dated(
        self, decisions: Sequence[StepAnswer | None], dates: Sequence[str | None], ok: list[bool]
    ) -> list[StepAnswer | None]:
        """Each row's follow-up answer: its decision's (the key's first row's, from the
        engine) and, where a schedule was chosen, its visits dated from the row's resection
        date (:meth:`.followup.FollowUpProgram.dated`, the engine's own dating), each once
        per decision and date over the whole batch. The flat row shows of the visits only
        their number, so the dated answers are few: a chunk of 30 000 generated cases had
        about 9 700 distinct decisions and dates, which were dated chunk by chunk before
        (session 23)."""
        out: list[StepAnswer | None] = []
        by = self._dated_by
        days_of: dict[int, dict[str | None, StepAnswer | None]] = {}  # by id(d), this chunk
        for i, (d, day) in enumerate(zip(decisions, dates, strict=True)):
            if d is None or not ok[i]:
                out.append(None)
                continue
            planned = d.planned
            if planned is None:
                out.append(d)
                continue
            days = days_of.get(id(d))
            if days is None:
                days = days_of[id(d)] = by.setdefault(_decision(d, planned), {})
            if day in days:
                a = days[day]
            else:
                if self._dated_count >= DATED_LIMIT:  # the dict of each decision kept, emptied
                    for held in by.values():
                        held.clear()
                    self._equal.clear()
                    self._dated_count = 0
                a = days[day] = self._dated_answer(d, planned, day)
                self._dated_count += 1
            if a is None:  # the engine's dating raised: the case by itself
                ok[i] = False
            out.append(a)
        return out

    def _dated_answer(self, d: StepAnswer, planned: Planned, day: str | None) -> StepAnswer | None:
        """The decision ``d`` with its schedule dated from the resection date ``day`` (ISO
        text; ``None``: not resected, or no date), by the engine's own dating; ``None`` if
        that raises (a date past the year 9999, for one), so that the per-case path rejects
        the case as it does. An answer equal to one made before is that one."""
        try:
            when = None if day is None else dt.date.fromisoformat(day)
            dated, issues, unc = self.be.follow_up.dated(planned, when, self.be.as_of)
        except Exception:
            return None
        codes, kinds = _codes_kinds(issues)
        answer = StepAnswer(follow_up_columns(dated), d.codes + codes, d.kinds + kinds,
                            d.unconfirmed or unc)  # fmt: skip
        key = (_hashable(answer.columns), answer.codes, answer.kinds, answer.unconfirmed)
        return self._equal.setdefault(key, answer)

    def _answers_of(
        self,
        cases: Sequence[Case],
        key: pl.DataFrame,
        ok: list[bool],
        step: str,
        reps: dict[int, Answers | Failure],
    ) -> tuple[list[int], list[StepAnswer | None]]:
        """Each row's key number (rows with equal keys share one) and answer of ``step``: the
        answer given before to a case with that key (in this chunk or an earlier one: a key
        means one answer whatever the chunk), else the engine's on its first usable row
        (:meth:`ColumnarBackend.representative`). A row whose key's first row the engine
        raised on is not usable (``ok`` set to False: the per-case path gives it its own
        assessment); ``None`` for a row not usable."""
        groups = _groups(key)
        known = self._known.setdefault(step, {})
        # the key's columns are part of it: a chunk's columns name what its values mean
        columns = tuple(key.columns)
        by_group: dict[int, StepAnswer | None] = {}
        for g, i in _first_of(groups, ok).items():
            k = (columns, _hashable(key.row(i)))
            hit = known.get(k)
            if hit is None:
                rep = reps.get(i)
                if rep is None:
                    rep = reps[i] = self.be.representative(cases[i])
                if not isinstance(rep, Failure):
                    hit = getattr(rep, step)
                    if len(known) > MEMO_LIMIT:
                        known.clear()
                    known[k] = hit
            by_group[g] = hit
        out: list[StepAnswer | None] = []
        for j, g in enumerate(groups):
            a = by_group.get(g) if ok[j] else None
            if a is None:
                ok[j] = False
            out.append(a)
        return groups, out


def _decision(d: StepAnswer, planned: Planned) -> tuple[Any, ...]:
    """What the follow-up answer of a row whose decision ``d`` chose the schedule ``planned``
    depends on, its resection date aside: the decision's issues and unconfirmed flag, and
    what :meth:`.followup.FollowUpProgram.dated` dates (decisions of different keys share it)."""
    extra = tuple([row.id for row in planned.extra_exams])
    return (planned.name, planned.row.id, planned.sources, extra, d.codes, d.kinds,
            d.unconfirmed)  # fmt: skip


def _hashable(value: Any) -> Any:
    """A key row's value as a dictionary key: lists (and structs' values) as tuples."""
    t = type(value)
    if t is tuple or t is list:
        return tuple([v if type(v) not in _NESTED else _hashable(v) for v in value])
    if t is dict:
        return tuple([(k, _hashable(v)) for k, v in value.items()])
    return value


_NESTED = (list, tuple, dict)
