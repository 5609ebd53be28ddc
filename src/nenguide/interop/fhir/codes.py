"""Small builders and readers of FHIR datatypes (as JSON dicts) shared by import and export."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from nenguide.interop.fhir.mapping import Code, Mapping

JSON = dict[str, Any]

#: Namespace of the deterministic resource ids of an export (same case -> same Bundle).
_NS = uuid.UUID("5b0c7a52-4c1e-4b8e-9a57-6e656e677569")


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


def coding(m: Mapping, system: str, code: str, display: str | None = None) -> JSON:
    c: JSON = {"system": m.url(system), "code": code}
    if display:
        c["display"] = display
    return c


def concept(*codings: JSON, text: str | None = None) -> JSON:
    cc: JSON = {"coding": list(codings)}
    if text:
        cc["text"] = text
    return cc


def code_concept(m: Mapping, code: Code) -> JSON:
    return concept(coding(m, code.system, code.code, code.display))


def field_coding(m: Mapping, field: str) -> JSON:
    return coding(m, "field", field)


def value_concept(m: Mapping, value: str) -> JSON:
    return concept(coding(m, "value", value))


def quantity(m: Mapping, value: float | int, unit: str) -> JSON:
    return {"value": value, "unit": unit, "system": m.url("ucum"), "code": unit}


def codings(cc: Any) -> list[tuple[str, str]]:
    """``(system, code)`` of every coding of a CodeableConcept dict (missing parts as '')."""
    if not isinstance(cc, dict):
        return []
    return [
        (str(c.get("system") or ""), str(c.get("code") or ""))
        for c in cc.get("coding") or []
        if isinstance(c, dict)
    ]


def code_of(cc: Any, system_url: str) -> str | None:
    """The first code of ``system_url`` in a CodeableConcept dict."""
    for system, code in codings(cc):
        if system == system_url and code:
            return code
    return None


def describe(cc: Any) -> str:
    """``system|code`` of each coding (or the text) of a CodeableConcept, for messages."""
    parts = [f"{s}|{c}" for s, c in codings(cc)]
    if not parts and isinstance(cc, dict) and cc.get("text"):
        parts = [f"text '{cc['text']}'"]
    return ", ".join(parts) or "(no code)"


def parse_date(value: Any) -> dt.date | None:
    """The date part of a FHIR date/dateTime string (None when absent or unreadable)."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def when(resource: JSON) -> dt.date | None:
    """The clinically relevant date of a resource: effective/performed/onset, else issued."""
    for key in ("effectiveDateTime", "performedDateTime", "occurrenceDateTime", "issued"):
        d = parse_date(resource.get(key))
        if d is not None:
            return d
    for key in ("effectivePeriod", "performedPeriod"):
        period = resource.get(key)
        if isinstance(period, dict):
            d = parse_date(period.get("start")) or parse_date(period.get("end"))
            if d is not None:
                return d
    return None


def extension_value(resource: JSON, url: str) -> Any:
    """The ``value[x]`` of the first extension with ``url`` (None when absent)."""
    for ext in resource.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == url:
            for key, v in ext.items():
                if key.startswith("value"):
                    return v
    return None


def typed_value(m: Mapping, v: Any, unit: str | None = None) -> JSON:
    """A Python value as FHIR ``value[x]`` (key and value) for components and extensions."""
    from enum import Enum

    if isinstance(v, bool):
        return {"valueBoolean": v}
    if isinstance(v, Enum):
        return {"valueCodeableConcept": value_concept(m, str(v.value))}
    if isinstance(v, int):
        return {"valueInteger": v}
    if isinstance(v, float):
        return {"valueQuantity": quantity(m, v, unit or "1")}
    if isinstance(v, dt.date):
        return {"valueDateTime": v.isoformat()}
    return {"valueString": str(v)}


def read_value(m: Mapping, holder: JSON) -> Any:
    """The plain value of a component/extension's ``value[x]`` (codes of the local value system
    as their code; quantities as their number). None when there is no value."""
    for key, v in holder.items():
        if not key.startswith("value"):
            continue
        if key == "valueCodeableConcept":
            return code_of(v, m.url("value")) or (v.get("text") if isinstance(v, dict) else None)
        if key == "valueQuantity":
            return v.get("value") if isinstance(v, dict) else None
        if key in ("valueDateTime", "valueDate"):
            d = parse_date(v)
            return d.isoformat() if d else None
        return v
    return None
