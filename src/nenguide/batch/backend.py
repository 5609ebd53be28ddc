"""The evaluation behind ``nenguide batch``, the concordance audit and the Spark adapter.

A :class:`Backend` takes a batch of validated cases and returns one flattened row per case, in
order (see :mod:`nenguide.batch.flatten`). :class:`PerCaseBackend`, the reference, runs
:func:`nenguide.assess` on each case, optionally in several worker processes; a columnar backend
(:class:`nenguide.batch.columnar.ColumnarBackend`) evaluates the core steps over a whole chunk
at once and gives the same rows; :func:`make_backend` picks one by name.

A case the engine cannot assess (an exception: a bug) does not stop the batch: its row is
replaced by a :class:`Failure` naming the case and the error, which the caller writes to the
rejected-rows file.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
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

    def assess(self, cases: Sequence[Case]) -> list[Row | Failure]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Settings:
    guideline: str
    as_of: dt.date
    lang: str = "en"


_WORKER: Settings | None = None


def _init_worker(settings: Settings) -> None:
    global _WORKER
    _WORKER = settings
    from nenguide.knowledge import load

    load(settings.guideline)  # once per worker process (cached)


def _assess_many(cases: Sequence[Case], settings: Settings | None = None) -> list[Row | Failure]:
    from nenguide.engine.assess import assess
    from nenguide.knowledge import load

    st = settings or _WORKER
    assert st is not None, "worker not initialised"
    kb = load(st.guideline)
    out: list[Row | Failure] = []
    for case in cases:
        try:
            out.append(flatten(assess(case, kb, as_of=st.as_of, lang=st.lang)))
        except Exception as exc:  # a bad case must not stop the batch; reported, not dropped
            out.append(Failure(f"{type(exc).__name__}: {exc}"))
    return out


class PerCaseBackend:
    """The reference: :func:`nenguide.assess` on every case.

    ``processes`` > 1 spreads a batch over worker processes (each loads the knowledge once);
    ``processes`` = 1 runs in this process. ``None`` uses one process per CPU.
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
        self._pool: Executor | None = None
        from nenguide.knowledge import load

        load(guideline)  # fail early, in the caller, if the package does not load

    def assess(self, cases: Sequence[Case]) -> list[Row | Failure]:
        if self.processes <= 1 or len(cases) < 2 * self.processes:
            return _assess_many(cases, self.settings)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.processes, initializer=_init_worker, initargs=(self.settings,)
            )
        size = -(-len(cases) // (self.processes * 4))
        parts = [list(cases[i : i + size]) for i in range(0, len(cases), size)]
        out: list[Row | Failure] = []
        for rows in self._pool.map(_assess_many, parts):
            out.extend(rows)
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


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
