"""Adapter: MDT-service patient exports (``GET /api/v1/patients/{id}/export``, format
``PatientRecord``) to concordance input (JSON Lines envelopes ``{id, case, care}``).

It reads the documented export JSON only (no database access, no import of the service), so a
quality team can run the audit on exports without the ``[api]`` extra. Per case:

* ``case``: the case's latest version;
* ``care.mdt_discussed``: true when an MDT decision is recorded for the case; not recorded
  (left out) when the case was never on an agenda or has no decision yet, since discussion
  elsewhere is not visible in the service;
* ``care.mdt_follows_guideline`` and ``care.mdt_departure_reason``: from the latest decision;
* ``care.follow_up_done``: false when a follow-up task due before the export is still open
  (cancelled tasks do not count),
  true when every such task is done, not recorded when there is none;
* ``care.year``: the year the case was first recorded in the service.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _files(paths: list[Path]) -> Iterator[Path]:
    for p in paths:
        if p.is_dir():
            yield from sorted(p.glob("*.json"))
        else:
            yield p


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
    except ValueError:
        return dt.date.fromisoformat(str(value)[:10])


def records_from_export(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    exported = _date(doc.get("exported_at")) or dt.date.today()
    agenda = [item for m in doc.get("meetings", []) for item in m.get("agenda", [])]
    tasks = doc.get("follow_up_tasks", [])
    for case in doc.get("cases", []):
        versions = case.get("versions") or []
        if not versions:
            continue
        latest = max(versions, key=lambda v: v["version"])
        care: dict[str, Any] = {}
        created = _date(case.get("created_at"))
        if created:
            care["year"] = created.year
        decisions = [
            i["decision"] for i in agenda if i.get("case_id") == case["id"] and i.get("decision")
        ]
        if decisions:
            last = max(decisions, key=lambda d: str(d.get("decided_at", "")))
            care["mdt_discussed"] = True
            care["mdt_follows_guideline"] = bool(last.get("follows_guideline"))
            if last.get("departure_reason"):
                care["mdt_departure_reason"] = last["departure_reason"]
        due = [
            t
            for t in tasks
            if t.get("case_id") == case["id"]
            and t.get("status") != "cancelled"
            and (_date(t.get("due")) or exported) < exported
        ]
        if due:
            care["follow_up_done"] = all(t.get("status") == "done" for t in due)
        yield {"id": case["id"], "case": latest["data"], "care": care}


def _read_json(f: Path, what: str) -> Any:
    """The JSON document in ``f``; ValueError naming the file and what it should hold."""
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:  # JSON, UTF-8, an integer too long
        raise ValueError(f"{f}: not readable as {what}: {exc}") from None


def records_from_exports(paths: list[Path]) -> Iterator[dict[str, Any]]:
    for f in _files(paths):
        doc = _read_json(f, "an MDT-service export (GET /api/v1/patients/{id}/export)")
        docs = doc if isinstance(doc, list) else [doc]
        for d in docs:
            yield from records_from_export(d)


#: Fields of a CDS feedback row that the concordance audit reads.
_FEEDBACK_OUTCOMES = ("accepted", "overridden")


def feedback_from_files(paths: list[Path]) -> list[dict[str, Any]]:
    """CDS Hooks feedback exported by the MDT service (``GET /api/v1/cds-feedback``: a JSON
    list, or ``{"feedback": [...]}``), for :func:`nenguide.batch.concordance.with_feedback`.
    An item without a known outcome or service raises ValueError naming the file and item."""
    rows: list[dict[str, Any]] = []
    for f in _files(paths):
        doc = _read_json(f, "a JSON list of CDS feedback (GET /api/v1/cds-feedback)")
        items = doc.get("feedback") if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise ValueError(
                f"{f}: expected a JSON list of CDS feedback (GET /api/v1/cds-feedback)"
            )
        for i, item in enumerate(items):
            ok = isinstance(item, dict) and item.get("outcome") in _FEEDBACK_OUTCOMES
            if not ok or not isinstance(item.get("service_id"), str):
                raise ValueError(
                    f"{f}: item {i}: needs 'service_id' and 'outcome' (accepted or overridden)"
                )
            rows.append(item)
    return rows
