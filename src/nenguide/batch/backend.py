"""The evaluation behind ``nenguide batch``, the concordance audit and the Spark adapter.

A :class:`Backend` takes a batch of validated cases and returns one flattened row per case, in
order (see :mod:`nenguide.batch.flatten`). :class:`PerCaseBackend`, the reference, runs
:func:`nenguide.assess` on each case; a columnar backend
(:class:`nenguide.batch.columnar.ColumnarBackend`) evaluates the core steps over a whole chunk
at once and gives the same rows; :func:`make_backend` picks one by name.

A backend assesses in the process that calls it. With ``processes`` > 1 the batch runner
(:mod:`nenguide.batch.runner`) starts that many worker processes, each rebuilding the backend
from its :meth:`Backend.worker` recipe, and hands them raw input rows to map, validate and
assess themselves (:mod:`nenguide.batch.rows`): validating in the main process and pickling
the validated cases to the workers would leave a third of the work in one process.

A case the engine cannot assess (an exception: a bug) does not stop the batch: its row is
replaced by a :class:`Failure` naming the case and the error, which the caller writes to the
rejected-rows file.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from nenguide.batch.flatten import flatten
from nenguide.model.case import Case


@dataclass(frozen=True)
class Failure:
    """The engine raised on this case: never silently dropped, reported as a rejected row."""

    error: str


Row = dict[str, Any]


class Backend(Protocol):
    """Assesses a batch of validated cases: one flat row (or a :class:`Failure`) per case."""

    name: str
    #: worker processes the batch runner uses for this backend (1: none, in this process)
    processes: int

    def assess(
        self, cases: Sequence[Case], lines: Sequence[str | None] | None = None
    ) -> list[Row | Failure]:
        """One row per case. ``lines``: each case's JSON Lines line where the model validated
        it in strict mode (``None`` for a case from another source); a backend may read the
        cases from them (the columnar backend's column reader), with the same rows."""
        ...

    def worker(self) -> Worker: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Worker:
    """How a worker process gets its own copy of a backend.

    ``make`` builds it (``processes=1``; picklable: the worker may be spawned);
    ``start_method`` is the :mod:`multiprocessing` start method (``None``: the platform's).
    """

    make: Callable[[], Backend]
    start_method: str | None = None


@dataclass(frozen=True)
class Settings:
    guideline: str
    as_of: dt.date
    lang: str = "en"


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a batch of cases is assessed, and the objects
    made meanwhile collected once at the end.

    Assessing a case allocates many containers that outlive it in the engine's memo (until it
    is full and cleared); with the collector running, these net allocations set off a young
    collection every few hundred of them, each traversing what the memo holds, about a fifth
    of a batch's time (benchmarks.md). Paused, nothing is traversed during the batch; the
    collection at the end examines every object made during it (all still in the youngest
    generation), so memory held by a reference cycle is freed by the end of the batch, as
    before. Nested use keeps the collector paused until the outermost ends; a collector
    paused by the caller stays paused. (A run of one batch: :func:`gc_paused_run`.)"""
    with gc_paused_run():
        yield


@contextmanager
def gc_paused_run() -> Iterator[Callable[[], object]]:
    """The cyclic garbage collector paused for a whole run of chunks (the batch's main
    process: results received from the workers, rows written), with a function to call
    between chunks that collects as the collector itself would, counted in chunks instead of
    allocations: the youngest generation after every chunk, the middle one after every
    :data:`GC_EVERY` chunks, all of them after every ``GC_EVERY ** 2``. The objects of one
    chunk are then examined once, when it is done, instead of by the collections their
    allocation would set off (each examining older objects as well: measured as more CPU
    than the main process's own work, benchmarks.md). Memory held by a reference cycle is
    freed by the end of the chunk that made it, or, among objects that outlived a chunk, by a
    later deeper collection. A collector paused by the caller stays paused, and is not
    collected here."""
    if not gc.isenabled():
        yield lambda: None
        return
    gc.disable()
    try:
        yield ChunkCollector()
    finally:
        gc.enable()
        gc.collect(0)


#: every how many chunks :func:`gc_paused_run` collects one generation deeper (the collector's
#: own default ratio between its generations)
GC_EVERY = 10


class ChunkCollector:
    """Called after each chunk while the cyclic collector is paused: collects as the collector
    itself would, counted in chunks instead of allocations (the youngest generation every
    time, the middle one every :data:`GC_EVERY` calls, all of them every ``GC_EVERY ** 2``).
    Returns what :func:`gc.collect` returns."""

    def __init__(self) -> None:
        self.done = 0

    def __call__(self) -> int:
        self.done += 1
        every = GC_EVERY
        generation = 2 if self.done % every**2 == 0 else 1 if self.done % every == 0 else 0
        return gc.collect(generation)


def _assess_many(cases: Sequence[Case], st: Settings) -> list[Row | Failure]:
    from nenguide.engine.assess import assess
    from nenguide.knowledge import load

    kb = load(st.guideline)
    out: list[Row | Failure] = []
    with gc_paused():
        for case in cases:
            try:
                out.append(flatten(assess(case, kb, as_of=st.as_of, lang=st.lang)))
            except Exception as exc:  # a bad case must not stop the batch; reported, not dropped
                out.append(Failure(f"{type(exc).__name__}: {exc}"))
    return out


class PerCaseBackend:
    """The reference: :func:`nenguide.assess` on every case, in this process.

    ``processes``: the worker processes the batch runner spreads the rows over (``None``: one
    per CPU); each loads the knowledge once.
    """

    name = "per-case"

    def __init__(
        self,
        guideline: str,
        as_of: dt.date,
        lang: str = "en",
        processes: int | None = 1,
    ) -> None:
        self.settings = Settings(guideline, as_of, lang)
        self.processes = processes if processes is not None else (os.cpu_count() or 1)
        from nenguide.knowledge import load

        load(guideline)  # fail early, in the caller, if the package does not load

    def assess(
        self, cases: Sequence[Case], lines: Sequence[str | None] | None = None
    ) -> list[Row | Failure]:
        return _assess_many(cases, self.settings)  # the validated cases (lines: not read)

    def worker(self) -> Worker:
        st = self.settings
        # the platform's start method (fork on Linux): a forked worker shares the knowledge
        # this process has loaded; the engine uses no Polars, whose thread pool a fork loses
        return Worker(partial(PerCaseBackend, st.guideline, st.as_of, st.lang, 1))

    def close(self) -> None:
        """Nothing to release (the runner owns the worker processes)."""


BACKENDS = ("columnar", "per-case")


def make_backend(
    name: str,
    guideline: str,
    as_of: dt.date,
    lang: str = "en",
    processes: int | None = 1,
) -> Backend:
    """The backend called ``name`` (:data:`BACKENDS`); both give identical rows."""
    if name == "per-case":
        return PerCaseBackend(guideline, as_of, lang, processes=processes)
    if name == "columnar":
        from nenguide.batch.columnar import ColumnarBackend

        return ColumnarBackend(guideline, as_of, lang, processes=processes)
    raise ValueError(f"unknown backend {name!r}; use one of {', '.join(BACKENDS)}")
