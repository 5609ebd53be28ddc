"""Names of the lab-result facts: ``<analyte>_<canonical unit slug>`` (``gastrin_pg_ml``)."""

from __future__ import annotations

import re


def unit_slug(unit: str) -> str:
    """``pg/mL`` -> ``pg_ml``; ``mg/(24.h)`` -> ``mg_24h``; ``[pH]`` -> ``''``."""
    if unit in ("[pH]", "1"):
        return ""
    s = unit.replace("/(24.h)", "_24h").replace("/", "_").replace("[", "").replace("]", "")
    return re.sub(r"[^a-z0-9_]", "", s.lower())


def value_fact(code: str, canonical_unit: str) -> str:
    slug = unit_slug(canonical_unit)
    return f"{code}_{slug}" if slug else code
