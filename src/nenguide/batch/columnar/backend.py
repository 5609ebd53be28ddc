"""The columnar backend: a whole chunk of cases at once.

Cases given with their JSON Lines lines (validated in strict mode: ``nenguide batch`` and the
Spark adapter give them) go through the columns from end to end (:mod:`.lines`: the fact
layer as columns, each later step's answer from the engine once per distinct key); the cases
that path leaves, and cases from other input, take the per-case path below. Both give the
rows of :class:`~nenguide.batch.backend.PerCaseBackend`.

The per-case path, per chunk:

1. **Fact layer, per case, by the engine**: :func:`nenguide.engine.fact_layer.case_facts` (the
   reshaping of the case, lab conversion, the consistency and fact tables). The facts the core
   tables read become columns of one Polars frame (:func:`fact_frame`); a value a column cannot
   hold (a set, a range of candidates) sends that case to the engine.
2. **Core steps, vectorised** (:class:`~nenguide.batch.columnar.core.CoreProgram`):
   classification and grade, TNM stage, ENETS liver type, from the knowledge tables compiled
   to Polars expressions. Cases the program cannot decide (``core_fallback``) are classified,
   staged and typed by the engine's own ``classify``, ``stage`` and ``liver_type``.
3. **The rest of the pathway up to follow-up, per case, by the engine's own step functions**
   (functional syndromes, the phase-2 facts, work-up, treatment, follow-up), through
   :func:`nenguide.engine.assess.steps_before_hereditary` (the engine's step order, written
   once), given the core results; the work-up step answers a case as it answered an earlier
   one with the same outcome of its table (:mod:`.workup`), the treatment step as it answered
   an earlier one with the same answers of its tables (:mod:`.treatment`), the follow-up
   decision as for an earlier case with the same view of it (:mod:`.followup`; the visits
   dated once per schedule chosen and anchor).
   Each case's flat row is made then, without the last step.
4. **Hereditary screening over the chunk** (:class:`~nenguide.batch.columnar.hereditary.
   HereditaryProgram`): the trigger table compiled to Polars, the engine's step run once per
   distinct outcome of it (a case it cannot read: by the engine); its columns and issues are
   added to each row.

``pathway="core"`` stops after step 2 (the core columns only; the benchmark of the core steps).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from itertools import chain
from operator import itemgetter
from typing import Any, Literal

import polars as pl

from nenguide._version import __version__
from nenguide.batch.backend import Failure, Row, Worker, gc_paused
from nenguide.batch.columnar.case_arrow import arrow_ready, case_schema, line_ready
from nenguide.batch.columnar.core import CORE_OUTPUT, CoreProgram
from nenguide.batch.columnar.exprs import typed_column
from nenguide.batch.columnar.facts import core_fact_frame
from nenguide.batch.columnar.followup import FollowUpProgram
from nenguide.batch.columnar.hereditary import HereditaryProgram, Item
from nenguide.batch.columnar.lines import (
    Answers,
    ChunkColumns,
    ChunkFrame,
    ChunkRows,
    StepAnswer,
    follow_up_part,
    step_answer,
)
from nenguide.batch.columnar.models import Models
from nenguide.batch.columnar.treatment import TreatmentProgram
from nenguide.batch.columnar.workup import WorkupProgram
from nenguide.batch.flatten import (
    ASSESSMENT_COLUMNS,
    SharedParts,
    classification_columns,
    flatten_parts,
    hereditary_columns,
    issue_columns,
    liver_columns,
    mdt_columns,
    stage_columns,
    treatment_columns,
    workup_columns,
)
from nenguide.batch.io import ASSESSMENT_SCHEMA, frame_of, transposed
from nenguide.batch.rows import FrameRows, LineCases, frame_rows
from nenguide.engine import ranges
from nenguide.engine.assess import expiry_notice, steps_before_hereditary
from nenguide.engine.case_reported import reported_input
from nenguide.engine.classify import classify
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import Facts, case_facts, with_precedence
from nenguide.engine.facts import derive
from nenguide.engine.kb import Knowledge
from nenguide.engine.liver import liver_type
from nenguide.engine.stage import stage
from nenguide.model.assessment import Classification, LiverMetastasis, Stage
from nenguide.model.case import Case

Pathway = Literal["full", "core"]

_PROGRAMS: dict[int, CoreProgram] = {}


def program(kb: Knowledge) -> CoreProgram:
    """The compiled core of ``kb`` (compiled once per knowledge base and process)."""
    prog = _PROGRAMS.get(id(kb))
    if prog is None or prog.kb is not kb:
        prog = _PROGRAMS[id(kb)] = CoreProgram(kb)
    return prog


def fact_frame(prog: CoreProgram, facts: Sequence[Mapping[str, Any]],
               cases: Sequence[Case]) -> pl.DataFrame:  # fmt: skip
    """One row per case, one column per fact the core tables read (typed by the tables'
    declared domains), the case attributes the step glue reads, and ``_fallback`` where a
    value does not fit its column."""
    n = len(cases)
    fallback = [False] * n
    cols: dict[str, pl.Series] = {}
    ranks = prog.descriptor_rank
    desc: list[int | None] = []
    for i, f in enumerate(facts):
        ds = f.get("lung_descriptors")
        if ds is None:
            desc.append(None)
        elif all(d in ranks for d in ds):
            desc.append(max((ranks[d] for d in ds), default=-1))
        else:  # a descriptor the table does not decide: the engine says what is missing
            desc.append(None)
            fallback[i] = True
    ranged = [f"{fact}_interval" for fact in ranges.T_INPUTS.values()]
    for i, f in enumerate(facts):  # the report's T and a venous thrombus: the engine's glue
        reported = f.get("reported_t") is not None or f.get("venous_tumour_thrombus") is not None
        # a T input reported as a range: the engine names it when T stays open
        if reported or any(f.get(r) for r in ranged):
            fallback[i] = True
    derived: dict[str, list[Any]] = {
        "lung_descriptor_rank": desc,
        "has_components": [bool(c.pathology.components) for c in cases],
        "staging_basis": [c.staging_basis.value if c.staging_basis else None for c in cases],
        # the fact layer's own reading (a count, or words and bounds such as "multiple")
        "multiple_tumours": [f.get("multiple_primaries") is True for f in facts],
        "has_conflicted": [bool(f.get("conflicted")) for f in facts],
    }
    # the facts read as they are: each case's values read at once, then split into columns
    # (a pass over the cases per column touched every case's facts once per column)
    read = [name for name in prog.inputs if name not in derived]
    values = dict(zip(read, transposed(facts, read, absent=True), strict=True))
    for name, dtype in prog.inputs.items():
        if name in derived:
            cols[name] = pl.Series(name, derived[name], dtype=dtype)
            continue
        cols[name] = typed_column(name, values[name], dtype, fallback)
    cols["_fallback"] = pl.Series("_fallback", fallback, dtype=pl.Boolean())
    return pl.DataFrame(list(cols.values()))


_RULE_IDS = itemgetter("rule_ids")


class ColumnarBackend:
    """Assesses a chunk of cases with the core steps vectorised (see the module docstring).

    Implements :class:`nenguide.batch.backend.Backend`; the rows equal
    :class:`~nenguide.batch.backend.PerCaseBackend`'s (tests/batch/test_columnar.py).
    """

    name = "columnar"

    def __init__(
        self,
        guideline: str,
        as_of: dt.date,
        lang: str = "en",
        pathway: Pathway = "full",
        processes: int | None = 1,
        kb: Knowledge | None = None,
    ) -> None:
        from nenguide.knowledge import load

        # ``kb``: a package loaded by the caller (a folder outside the bundle, e.g. the test
        # fixture); worker processes load ``guideline`` by name, so use it with processes=1
        self._kb_given = kb is not None
        self.kb = kb if kb is not None else load(guideline)
        if lang not in self.kb.catalog.languages:
            raise ValueError(f"language {lang!r} not available; use {self.kb.catalog.languages}")
        self.as_of = as_of
        self.lang = lang
        self.pathway = pathway
        #: the full pathway reads the cases' lines (the batch then hands over a case validated
        #: strictly from its line as the line: rows.LineCases)
        self.reads_lines = pathway == "full"
        self.prog = program(self.kb)
        self.fallback_count = 0  # cases whose core steps the engine evaluated (for the docs)
        self.guideline = guideline
        self.processes = processes if processes is not None else (os.cpu_count() or 1)
        self._models = Models()
        self._parts = SharedParts()  # the flat row's columns of each shared part, made once
        first = Context(self.kb, lang, notes=False)
        expiry_notice(first, as_of)  # depends on the package and the date only
        self._first_issues = tuple(first.issues)
        self.per_case_count = 0  # cases of JSON Lines assessed case by case (for the docs)
        self._columns: ChunkColumns | None = None  # the column path (made at its first use)
        self.hereditary = HereditaryProgram(self.kb, lang)
        self.workup = WorkupProgram(self.kb, lang)
        self.treatment = TreatmentProgram(self.kb, lang)
        self.follow_up = FollowUpProgram(self.kb, lang)

    @property
    def models(self) -> Models:
        """The core steps' models of the rows, made once per distinct set of core columns."""
        return self._models

    def core_columns(self, vals: tuple[Any, ...]) -> dict[str, Any]:
        """The flat row's columns of the core steps whose core columns
        (:attr:`Models.columns`) hold ``vals``, as the per-case path makes them."""
        cls, stg, liver = self._models.of_row(vals)
        of = self._parts.of
        return {
            **of(classification_columns, cls),
            **of(stage_columns, stg),
            **of(liver_columns, liver),
        }

    @property
    def first_issues(self) -> tuple[Any, ...]:
        """The issues every case of the batch starts with (the expiry notice)."""
        return self._first_issues

    def _context(self) -> Context:
        # as in assess(): the expiry notice is the first issue (the same, frozen, for every
        # case of the batch: made once). The rows hold no trace, so the steps' notes (trace
        # entries only) are not made
        ctx = Context(self.kb, self.lang, notes=False)
        ctx.issues.extend(self._first_issues)
        return ctx

    def core_frame(self, cases: Sequence[Case]) -> pl.DataFrame:
        """The core columns of every case (engine fallback included), and ``core_fallback``.

        The facts are read from the cases column by column (:mod:`.facts`: the values of the
        engine's reshaping, :func:`derive` and the reported forms, as the fact layer builds
        them in :func:`nenguide.engine.fact_layer.case_facts` steps 1-2); the fact layer's
        precedence tables (the node status) and consistency tables are evaluated over the
        frame, and a case the latter flag (its contradicted facts become unknown) goes to the
        engine with its whole fact layer."""
        scratch = Context(self.kb, self.lang)
        frame = core_fact_frame(self.prog, scratch, cases)
        if frame is not None:  # read column by column; the precedence tables over the frame
            core = self.prog.run(frame, consistency=True, precedence=True)
        else:  # a fact the column reader does not read: the engine's reshaping of each case
            facts = [
                with_precedence(scratch, {**derive(c), **reported_input(scratch, c)}) for c in cases
            ]
            core = self.prog.run(fact_frame(self.prog, facts, cases), consistency=True)
        fb = core["core_fallback"].to_list()
        idx = [i for i, f in enumerate(fb) if f]
        self.fallback_count += len(idx)
        if not idx:
            return core
        rows = []
        for i in idx:
            ctx = self._context()
            cls, stg, liver = self._engine_core(ctx, case_facts(ctx, cases[i]), cases[i])
            flat = flatten_parts(
                guideline_id="", guideline_version="", engine_version="", as_of=None,
                case_id=None, classification=cls, stage=stg, liver=liver, syndromes=[],
                workup=[], treatment=[], mdt=None, follow_up=None, hereditary=None, issues=[],
            )  # fmt: skip
            rows.append({k: flat[k] for k in CORE_OUTPUT})
        patch = pl.DataFrame(rows, schema={k: core.schema[k] for k in CORE_OUTPUT})
        patch = patch.with_columns(_i=pl.Series(idx, dtype=pl.UInt32()))
        return core.with_row_index("_i").update(patch, on="_i", include_nulls=True).drop("_i")

    def _engine_core(
        self, ctx: Context, facts: Facts, case: Case
    ) -> tuple[Classification, Stage, LiverMetastasis]:
        cls = classify(ctx, facts, case)
        stg = stage(ctx, facts, case, cls)
        return cls, stg, liver_type(ctx, facts, cls)

    def assess(
        self, cases: Sequence[Case], lines: Sequence[str | None] | None = None
    ) -> list[Row | Failure]:
        """The rows of ``cases``, in this process (with ``processes`` > 1 the batch runner has
        worker processes read, validate and assess their own rows, see :meth:`worker`).

        ``lines``: each case's JSON Lines line as read, where the model validated it in strict
        mode (``None`` for a case from another source): those the column reader holds go
        through the columns from end to end (:mod:`.lines`), the others case by case."""
        if not cases:
            return []
        with gc_paused():
            if lines is None or self.pathway == "core":
                return self._assess(cases)
            return self._assess_lines(cases, lines)

    def assess_frame(
        self, cases: Sequence[Case], lines: Sequence[str | None] | None = None
    ) -> FrameRows:
        """:meth:`assess` as one frame: what ``nenguide batch`` writes. The rows the column
        path answers are made as columns (:meth:`.lines.ChunkColumns.frame`), not as a dict
        each turned into columns again."""
        if not cases:
            return frame_rows([])
        with gc_paused():
            if lines is None or self.pathway == "core":
                return frame_rows(self._assess(cases))
            return self._assess_lines_frame(cases, lines)

    def _ready(self, cases: Sequence[Case], lines: Sequence[str | None]) -> list[int]:
        """The cases the column path takes: those whose line the column reader holds as the
        model does."""
        if len(lines) != len(cases):
            raise ValueError(f"{len(cases)} cases but {len(lines)} lines")
        schema = case_schema()
        # a case is looked at only where its line alone does not say: ``cases`` may make each
        # case again from its line when asked for (:class:`~nenguide.batch.rows.LineCases`;
        # that cannot fail, strict validation being deterministic)
        return [
            i
            for i, line in enumerate(lines)
            if line is not None
            and (line_ready(line, schema) or arrow_ready(cases[i], schema, line))
        ]

    def _columns_of(self) -> ChunkColumns:
        if self._columns is None:
            self._columns = ChunkColumns(self)
        return self._columns

    def _by_columns(
        self, cases: Sequence[Case], lines: Sequence[str | None], ready: list[int], frame: bool
    ) -> tuple[ChunkRows | ChunkFrame, list[bool]]:
        """The column path's answer (:meth:`.lines.ChunkColumns.rows`, or ``frame``) for the
        cases at ``ready``, and per case of the chunk whether the compiled core left its core
        steps to the engine."""
        picked = cases.picked(ready) if isinstance(cases, LineCases) else [cases[i] for i in ready]
        texts = [lines[i] or "" for i in ready]
        columns = self._columns_of()
        got = columns.frame(picked, texts) if frame else columns.rows(picked, texts)
        engine_core = [False] * len(cases)
        for i, engine in zip(ready, got.engine_core, strict=True):
            engine_core[i] = engine
        return got, engine_core

    def _by_case(
        self, cases: Sequence[Case], rest: list[int], engine_core: list[bool]
    ) -> list[Row | Failure]:
        """The per-case path's rows of the cases at ``rest`` (counted in ``per_case_count``)."""
        self.per_case_count += len(rest)
        if not rest:
            return []
        return self._assess([cases[i] for i in rest], [engine_core[i] for i in rest])

    def _assess_lines(
        self, cases: Sequence[Case], lines: Sequence[str | None]
    ) -> list[Row | Failure]:
        out: list[Row | Failure | None] = [None] * len(cases)
        engine_core = [False] * len(cases)
        ready = self._ready(cases, lines)
        if ready:
            got, engine_core = self._by_columns(cases, lines, ready, frame=False)
            assert isinstance(got, ChunkRows)
            for i, row in zip(ready, got.rows, strict=True):
                out[i] = row
        rest = [i for i, r in enumerate(out) if r is None]
        for i, res in zip(rest, self._by_case(cases, rest, engine_core), strict=True):
            out[i] = res
        return [r if r is not None else Failure("") for r in out]

    def _assess_lines_frame(self, cases: Sequence[Case], lines: Sequence[str | None]) -> FrameRows:
        """:meth:`_assess_lines` as one frame: the column path's rows and the per-case
        path's, put in the cases' order."""
        n = len(cases)
        engine_core = [False] * n
        answered = [False] * n
        frames: list[pl.DataFrame] = []
        ready = self._ready(cases, lines)
        if ready:
            got, engine_core = self._by_columns(cases, lines, ready, frame=True)
            assert isinstance(got, ChunkFrame)
            at = [ready[k] for k in got.at]
            for i in at:
                answered[i] = True
            if at:
                frames.append(got.frame.with_columns(pl.Series("_at", at, dtype=pl.Int64)))
        rest = [i for i in range(n) if not answered[i]]
        failed: dict[int, Failure] = {}
        rows: list[Row] = []
        at = []
        for i, res in zip(rest, self._by_case(cases, rest, engine_core), strict=True):
            if isinstance(res, Failure):
                failed[i] = res
            else:
                rows.append(res)
                at.append(i)
        if rows:
            by_case = frame_of(rows, ASSESSMENT_SCHEMA)
            frames.append(by_case.with_columns(pl.Series("_at", at, dtype=pl.Int64)))
        if not frames:
            return FrameRows(frame_of([], ASSESSMENT_SCHEMA), failed)
        if len(frames) == 1:
            return FrameRows(frames[0].drop("_at"), failed)
        return FrameRows(pl.concat(frames).sort("_at").drop("_at"), failed)

    def representative(self, case: Case) -> Answers | Failure:
        """The engine's pathway on ``case`` (the first case of a key in some step, for the
        column path, :mod:`.lines`): each later step's answer as the flat row shows it, with
        the step's issues and whether it read unconfirmed content."""
        try:
            return self._representative(case)
        except Exception as exc:  # reported as a rejected row, never dropped
            return Failure(f"{type(exc).__name__}: {exc}")

    def _representative(self, case: Case) -> Answers:
        ctx = self._context()
        # per later step: where its issues and trace entries start and end in the context,
        # and whether the batch program gave an answer of unconfirmed content
        spans: dict[str, tuple[slice, slice, bool]] = {}

        def marked(name: str, step: Callable[..., Any], prog: Any) -> Callable[..., Any]:
            def run(*args: Any) -> Any:
                i0, t0 = len(ctx.issues), len(ctx.trace)
                out = step(*args)
                spans[name] = (slice(i0, len(ctx.issues)), slice(t0, len(ctx.trace)),
                               bool(prog.unconfirmed))  # fmt: skip
                return out

            return run

        facts = case_facts(ctx, case)
        cls, _, _, syndromes, work, options, mdt, follow, facts = steps_before_hereditary(
            ctx,
            case,
            facts,
            self.as_of,
            None,
            None,
            workup_step=marked("workup", self.workup.step, self.workup),
            followup_step=marked("follow_up", self.follow_up.step, self.follow_up),
            treatment_step=marked("treatment", self.treatment.step, self.treatment),
        )
        unconfirmed = self.kb.unconfirmed_rules

        def part(
            name: str, columns: dict[str, Any], issues: Sequence[Any] | None = None,
            flag: bool | None = None,
        ) -> StepAnswer:  # fmt: skip
            at_issues, at_trace, program_flag = spans[name]
            traced = chain.from_iterable(map(_RULE_IDS, ctx.trace[at_trace]))
            read = program_flag if flag is None else flag
            return step_answer(
                columns,
                ctx.issues[at_issues] if issues is None else issues,
                read or not unconfirmed.isdisjoint(traced),
            )

        # the engine's own step (the column path keys it by the trigger masks and the genes)
        he = self.hereditary.engine(self.hereditary.read(facts, case, cls, syndromes))
        of = self._parts.of
        return Answers(
            part("workup", of(workup_columns, work)),
            part("treatment", {**of(treatment_columns, options), **of(mdt_columns, mdt)}),
            follow_up_part(part, follow, self.follow_up),
            step_answer(hereditary_columns(he.hereditary), he.issues, he.unconfirmed),
        )

    def worker(self) -> Worker:
        if self._kb_given:
            raise ValueError(
                "a knowledge package given as an object cannot be rebuilt in a worker process; "
                "use processes=1"
            )
        # spawn, not fork: Polars' thread pool does not survive a fork
        make = partial(ColumnarBackend, self.guideline, self.as_of, self.lang, self.pathway, 1)
        return Worker(make, "spawn")

    def _assess(
        self, cases: Sequence[Case], engine_core: Sequence[bool] | None = None
    ) -> list[Row | Failure]:
        """The rows of ``cases``, case by case after the core steps; ``engine_core``: per
        case, whether the compiled core program is known to leave its core steps to the
        engine (the column path found so, :class:`~.lines.ChunkRows`): the engine's own core
        steps assess it without the program being run on it again (at ~600 such cases a
        part, the program's run cost about 0.1 s of its fixed cost for nothing). The
        engine's core steps being the program's reference, a case gets the same row
        either way."""
        if self.pathway == "core":
            core = self.core_frame(cases)
            blank = dict.fromkeys(ASSESSMENT_COLUMNS)
            return [{**blank, **r} for r in core.select(CORE_OUTPUT).iter_rows(named=True)]
        # 1. the fact layer, per case (a case the engine raises on is a Failure, not a stop)
        ctxs: list[Context | None] = []
        facts: list[Facts | None] = []
        errors: dict[int, Failure] = {}
        for i, c in enumerate(cases):
            try:
                ctx = self._context()
                facts.append(case_facts(ctx, c))
                ctxs.append(ctx)
            except Exception as exc:  # reported as a rejected row, never dropped
                errors[i] = Failure(f"{type(exc).__name__}: {exc}")
                ctxs.append(None)
                facts.append(None)
        ok = [i for i in range(len(cases)) if i not in errors]
        # 2. the core steps over the frame (not for a case the program leaves to the engine):
        # per case, the core steps' models, issue codes and whether they read unconfirmed
        # content; a case without is left to the engine's own core steps
        by_program = [i for i in ok if not (engine_core and engine_core[i])]
        core_of: dict[int, tuple[tuple[Classification, Stage, LiverMetastasis], Any, bool]] = {}
        if by_program:
            frame = fact_frame(
                self.prog, [facts[i] or {} for i in by_program], [cases[i] for i in by_program]
            )
            core = self.prog.run(frame)
            # the core frame's rows as tuples, read by position
            pos = {name: j for j, name in enumerate(core.columns)}
            models_of = itemgetter(*(pos[c] for c in self._models.columns))
            i_fb, i_issues, i_unconfirmed = (
                pos["core_fallback"],
                pos["core_issues"],
                pos["core_unconfirmed"],
            )
            for i, r in zip(by_program, core.iter_rows(), strict=True):
                if not r[i_fb]:
                    core_of[i] = (self._models.of_row(models_of(r)), r[i_issues], r[i_unconfirmed])
        out: list[Row | Failure] = [errors.get(i, Failure("")) for i in range(len(cases))]
        # 3. the steps after the core up to follow-up, per case; the flat row without the
        # hereditary step (each row finished while its parts are at hand)
        done: list[tuple[int, Row, Item, bool]] = []
        for i in ok:
            cx, f = ctxs[i], facts[i]
            assert cx is not None and f is not None
            ctxs[i] = facts[i] = None  # each case's parts go as soon as its row is made
            parts, issues, unconfirmed = core_of.get(i, (None, (), False))
            try:
                rest = self._rest(cx, f, cases[i], parts, issues, unconfirmed)
                done.append((i, *rest))
            except Exception as exc:  # reported as a rejected row, never dropped
                out[i] = Failure(f"{type(exc).__name__}: {exc}")
        # 4. hereditary screening over the chunk, its columns and issues added to each row
        answers = self.hereditary.run([item for _, _, item, _ in done])
        unconfirmed_issue = {
            "code": "CONTENT_UNCONFIRMED",
            "kind": self.kb.issue_kinds["CONTENT_UNCONFIRMED"],
        }
        for (i, row, _, unconfirmed), answer in zip(done, answers, strict=True):
            if isinstance(answer, Exception):
                out[i] = Failure(f"{type(answer).__name__}: {answer}")
                continue
            row.update(hereditary_columns(answer.hereditary))
            issues = [*answer.issues]
            if unconfirmed or answer.unconfirmed:
                issues.append(unconfirmed_issue)
            for k, v in issue_columns(issues).items():
                row[k] += v
            out[i] = row
        return out

    def _rest(
        self,
        ctx: Context,
        facts: Facts,
        case: Case,
        core: tuple[Classification, Stage, LiverMetastasis] | None,
        core_issues: Sequence[str],
        core_unconfirmed: bool,
    ) -> tuple[Row, Item, bool]:
        """3. The pathway after the core steps up to follow-up, by the engine's step
        functions (:func:`~nenguide.engine.assess.steps_before_hereditary`): the flat row
        without the hereditary step, what that step reads, and whether unconfirmed content
        was read so far. ``core``: the core steps' models from the compiled program, with
        its issue codes and whether it read unconfirmed content; ``None``: the engine's own
        core steps."""
        if core is None:
            self.fallback_count += 1  # the engine's own core steps (core=None)
        else:
            kinds = self.kb.issue_kinds
            # the core's issues, in the engine's order (later steps read their kinds)
            ctx.issues.extend({"code": c, "kind": kinds[c]} for c in core_issues)
        # the engine's step order (engine.assess.steps), after the core
        cls, stg, liver, syndromes, work, options, mdt, follow, facts = steps_before_hereditary(
            ctx,
            case,
            facts,
            self.as_of,
            None,
            core,
            workup_step=self.workup.step,
            followup_step=self.follow_up.step,
            treatment_step=self.treatment.step,
        )
        # unconfirmed content the engine traced, the columnar core read (core_unconfirmed) or
        # the work-up, treatment or follow-up answer given from an earlier case traced
        unconfirmed = (
            (core is not None and core_unconfirmed)
            or self.workup.unconfirmed
            or self.treatment.unconfirmed
            or self.follow_up.unconfirmed
            or not self.kb.unconfirmed_rules.isdisjoint(
                chain.from_iterable(map(_RULE_IDS, ctx.trace))
            )
        )
        man = self.kb.manifest
        row = flatten_parts(
            guideline_id=man.id,
            guideline_version=man.version,
            engine_version=__version__,
            as_of=self.as_of,
            case_id=case.case_id,
            classification=cls,
            stage=stg,
            liver=liver,
            syndromes=syndromes,
            workup=work,
            treatment=options,
            mdt=mdt,
            follow_up=follow,
            hereditary=None,  # added at the chunk's end (step 4)
            issues=ctx.issues,
            shared=self._parts,
        )
        return row, self.hereditary.read(facts, case, cls, syndromes), bool(unconfirmed)

    def close(self) -> None:
        """Nothing to release (the runner owns the worker processes)."""
