"""Printable reports as HTML (and, through :mod:`nenguide.report.pdf`, PDF): the assessment
report and the MDT meeting minutes, in English or Simplified Chinese.

Each page carries the patient identifiers the site chose, the guideline version and its
validity warning, the engine version, the date and the disclaimer (running header/footer in
print). The same Jinja templates draw the assessment on the web page.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from nenguide import __version__
from nenguide.engine.kb import Knowledge
from nenguide.report import svg
from nenguide.report.texts import Texts
from nenguide.report.view import AssessmentView

#: Patient identifiers printed when the site chose none (NENGUIDE_REPORT_IDENTIFIERS).
DEFAULT_IDENTIFIERS = ("name", "mrn", "birth_date")


def environment(*extra: PackageLoader) -> Environment:
    env = Environment(
        loader=ChoiceLoader([*extra, PackageLoader("nenguide.report", "templates")]),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["css_string"] = css_string
    return env


def css_string(value: object) -> Markup:
    """A CSS string literal (for ``@page`` running headers): every character that could end
    the string or the style element is written as a CSS escape."""
    out = []
    for ch in " ".join(str(value).split()):
        if ch.isalnum() or ch in " ·.,:()-/【】（），：" or ord(ch) > 0x2E80:
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):x} ")
    return Markup('"' + "".join(out) + '"')


@lru_cache(maxsize=1)
def _env() -> Environment:
    return environment()


@lru_cache(maxsize=1)
def assessment_css() -> str:
    return (
        resources.files("nenguide.report")
        .joinpath("templates")
        .joinpath("assessment.css")
        .read_text("utf-8")
    )


def _trace_input(a: dict[str, Any], name: str) -> float | None:
    for e in a.get("trace") or []:
        v = (e.get("inputs") or {}).get(name)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None


def pictures(a: dict[str, Any], tx: Texts, today: str | None = None) -> dict[str, Any]:
    """Timeline, grade bar and grouped visit runs of one assessment."""
    fu = a.get("follow_up") or {}
    visits = fu.get("visits") or []
    start = a["as_of"]
    tl = (
        svg.timeline(visits, start, today or start, lifelong=fu.get("lifelong")) if visits else None
    )
    c = a["classification"]
    ki, mit = _trace_input(a, "ki67_percent"), _trace_input(a, "mitoses_per_2mm2")
    gb = (
        svg.grade_bar(ki, mit, thoracic=c.get("system") == "WHO2021_THORACIC")
        if ki is not None or mit is not None
        else None
    )
    runs = svg.describe_runs(svg.group_visits(visits), tx.lang, tx.date)
    return {"tl": tl, "gb": gb, "runs": runs}


def patient_identifiers(
    patient: dict[str, Any] | None, chosen: tuple[str, ...] = DEFAULT_IDENTIFIERS
) -> dict[str, Any] | None:
    if patient is None:
        return None
    return {
        k: (patient.get(k) if k in chosen else None) for k in ("name", "mrn", "birth_date", "sex")
    }


def _header(tx: Texts, patient: dict[str, Any] | None, a: dict[str, Any]) -> tuple[str, str]:
    left = ""
    if patient:
        left = " · ".join(
            str(x)
            for x in (patient.get("name"), patient.get("mrn"), patient.get("birth_date"))
            if x
        )
    g = a["guideline"]
    right = tx.kb("guideline_title." + g["id"]) + " " + g["version"]
    if g.get("past_valid_until"):
        right += " · " + tx.t("assess.past_valid", date=tx.date(g["valid_until"]))
    return left, right


def assessment_html(
    a: dict[str, Any],
    kb: Knowledge,
    *,
    lang: str,
    patient: dict[str, Any] | None = None,
    identifiers: tuple[str, ...] = DEFAULT_IDENTIFIERS,
    case_version: int | None = None,
    assessment_id: str | None = None,
    today: dt.date | None = None,
) -> str:
    """The assessment report as a standalone HTML document (styles inline, no script)."""
    tx = Texts(lang, kb.catalog)
    v = AssessmentView(a, tx, kb)
    pid = patient_identifiers(patient, identifiers)
    left, right = _header(tx, pid, a)
    return (
        _env()
        .get_template("report_assessment.html")
        .render(
            tx=tx,
            v=v,
            patient=pid,
            case_version=case_version,
            assessment_id=assessment_id,
            header_left=left,
            header_right=right,
            disclaimer=tx.kb("disclaimer"),
            generated=tx.date(today or dt.date.today()),
            engine_version=a.get("engine_version") or __version__,
            assessment_css=assessment_css(),
            field_link=None,
            print_mode=True,
            **pictures(a, tx, (today or dt.date.today()).isoformat()),
        )
    )


def minutes_html(
    meeting: dict[str, Any],
    items: list[dict[str, Any]],
    kb: Knowledge,
    *,
    lang: str,
    today: dt.date | None = None,
) -> str:
    """MDT meeting minutes: each agenda item with its question, the guideline's summary and
    the MDT's decision (plan, whether it follows the guideline, departure reason)."""
    tx = Texts(lang, kb.catalog)
    g = kb.manifest
    right = f"{tx.kb(f'guideline_title.{g.id}')} {g.version}"
    when = meeting.get("scheduled_at") or ""
    left = f"{meeting.get('title', '')} · {tx.date(when, long=True) if when else ''}"
    return (
        _env()
        .get_template("report_minutes.html")
        .render(
            tx=tx,
            meeting=meeting,
            items=items,
            header_left=left,
            header_right=right,
            disclaimer=tx.kb("disclaimer"),
            generated=tx.date(today or dt.date.today()),
            engine_version=__version__,
            assessment_css=assessment_css(),
        )
    )
