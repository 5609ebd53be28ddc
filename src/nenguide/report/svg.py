"""Pictures drawn on the server as inline SVG: the follow-up timeline and the grade bar.

Pure functions compute rounded coordinates; templates emit ``<svg role="img">`` with a
``<title>`` and a data table beside it. ``currentColor`` and hatching keep them readable in
greyscale print. Also the grouping of follow-up visits into runs ("every 3 months, 8 visits"),
shared with the text report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

WIDTH = 720
LEFT, RIGHT = 40, 690


@dataclass(frozen=True)
class Run:
    """Consecutive visits at the same interval with the same examinations."""

    months: int | None  # interval to the previous visit, None for a single first visit
    count: int
    first: str
    last: str
    exams: tuple[str, ...]


def _months_between(a: dt.date, b: dt.date) -> int:
    return round((b - a).days / 30.44)


def group_visits(visits: Sequence[Any]) -> list[Run]:
    """Runs of visits with the same interval and examinations; the first visit of a run
    takes the interval of the visits after it."""
    runs: list[Run] = []
    prev: dt.date | None = None
    for item in visits:
        v = item if isinstance(item, dict) else {"due": item.due, "exams": item.exams}
        due = dt.date.fromisoformat(str(v["due"]))
        gap = _months_between(prev, due) if prev else None
        exams = tuple(v["exams"])
        last = runs[-1] if runs else None
        if (
            last is not None
            and last.exams == exams
            and (last.months == gap or (last.count == 1 and last.months is None))
        ):
            runs[-1] = Run(gap, last.count + 1, last.first, str(v["due"]), exams)
        else:
            runs.append(Run(None, 1, str(v["due"]), str(v["due"]), exams))
        prev = due
    return runs


def describe_runs(runs: list[Run], lang: str, date: Any = str) -> list[str]:
    """ "every 3 months, 8 visits (02-Feb-2027 to 02-Nov-2028)" / "每3个月一次，共8次（…至…）"."""
    out = []
    for r in runs:
        span = (date(r.first), date(r.last))
        if lang == "zh-CN":
            every = f"每{r.months}个月一次，" if r.months else ""
            rng = f"（{span[0]}至{span[1]}）" if r.count > 1 else f"（{span[0]}）"
            out.append(f"{every}共{r.count}次{rng}")
        else:
            every = f"every {r.months} months, " if r.months else ""
            times = "1 visit" if r.count == 1 else f"{r.count} visits"
            rng = f" ({span[0]} to {span[1]})" if r.count > 1 else f" ({span[0]})"
            out.append(f"{every}{times}{rng}")
    return out


@dataclass(frozen=True)
class Mark:
    x: float
    kind: str  # open, done, overdue, cancelled
    label: str


def timeline(
    visits: list[dict[str, Any]],
    start: str,
    today: str,
    *,
    lifelong: bool | None,
    years: int = 5,
) -> dict[str, Any]:
    """Coordinates of the follow-up timeline: ``years`` from ``start``; each visit a mark."""
    s = dt.date.fromisoformat(start)
    end = s.replace(year=s.year + years)
    span = (end - s).days or 1

    def x(d: dt.date) -> float:
        return round(LEFT + (RIGHT - LEFT) * min(max((d - s).days, 0), span) / span, 1)

    t = dt.date.fromisoformat(today)
    marks = []
    for v in visits:
        d = dt.date.fromisoformat(v["due"])
        if d > end:
            continue
        kind = v.get("state") or ("overdue" if d < t else "open")
        marks.append(Mark(x(d), kind, v["due"]))
    ticks = [(x(s.replace(year=s.year + i)), str(s.year + i)) for i in range(years + 1)]
    return {
        "width": WIDTH,
        "left": LEFT,
        "right": RIGHT,
        "marks": marks,
        "ticks": ticks,
        "today": x(t) if s <= t <= end else None,
        "lifelong": bool(lifelong),
        "start": s.isoformat(),
        "end": end.isoformat(),
    }


def grade_bar(ki67: float | None, mitoses: float | None, thoracic: bool) -> dict[str, Any]:
    """Ki-67 and mitoses against the WHO cut-offs (GEP 3/20 %, 2/20 per 2 mm²; thoracic
    mitoses 2/10, Ki-67 not a grading criterion there)."""

    def scale(v: float, top: float) -> float:
        return round(LEFT + (RIGHT - LEFT) * min(v, top) / top, 1)

    ki_top, mit_top = 40.0, 30.0
    mit_cuts = (2.0, 10.0) if thoracic else (2.0, 20.0)
    return {
        "ki67": None if ki67 is None else {"x": scale(ki67, ki_top), "v": f"{ki67:g}"},
        "mitoses": None if mitoses is None else {"x": scale(mitoses, mit_top), "v": f"{mitoses:g}"},
        "ki_cuts": [(scale(c, ki_top), f"{c:g}") for c in (3.0, 20.0)],
        "mit_cuts": [(scale(c, mit_top), f"{c:g}") for c in mit_cuts],
        "thoracic": thoracic,
        "left": LEFT,
        "right": RIGHT,
        "width": WIDTH,
    }
