"""JSON Lines of cases for the tests of the columnar fact layer: every vignette's, and
generated cases varied where a column reader and the case model (or the engine's reshaping)
could part."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from nenguide.batch.synth import generate

VIGNETTES = Path(__file__).parent.parent / "vignettes"


def case_line(raw: dict[str, Any]) -> str:
    """``raw`` as a JSON line (a date as its ISO text)."""
    return json.dumps(raw, default=lambda v: v.isoformat() if isinstance(v, dt.date) else v)


def vignette_lines() -> list[str]:
    """Every golden vignette's case as a line."""
    out = []
    for path in sorted(VIGNETTES.glob("*.yaml")):
        v = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.append(case_line(v["case"]))
    return out


_BASE = [g.case for g in generate(40, seed=5)]
_SPACES = st.sampled_from(["", " ", "\t", "\u00a0", "\u3000", "\x1c", "\n "])
_FLOATS = st.floats(min_value=1e-6, max_value=60, allow_nan=False, allow_infinity=False)


@st.composite
def varied_line(draw: st.DrawFn) -> str:
    """A generated case's line, varied where a reader and the model (or the engine's
    reshaping) could part."""
    raw = json.loads(json.dumps(draw(st.sampled_from(_BASE))))
    if draw(st.booleans()):
        raw["case_id"] = draw(_SPACES) + "c" + draw(st.text("ab- ", max_size=4)) + draw(_SPACES)
    t = raw.setdefault("tumour", {})
    if "size_cm" in t and draw(st.booleans()):
        t["size_cm"] = draw(st.one_of(_FLOATS, st.integers(1, 60)))
    if t.get("primary_site") == "lung" and draw(st.booleans()):
        pool = ["visceral_pleura", "main_bronchus", "chest_wall", "heart"]
        t["lung_descriptors"] = draw(st.lists(st.sampled_from(pool), max_size=6))
    p = raw.setdefault("pathology", {})
    if "ki67_percent" in p and draw(st.booleans()):
        p["ki67_percent"] = draw(st.one_of(st.integers(0, 100), st.floats(0, 100, allow_nan=False)))
    c = raw.setdefault("clinical", {})
    choice = draw(st.sampled_from(["keep", "empty", "drop"]))
    for key in ("family_history", "labs", "symptoms"):
        if choice == "drop":
            c.pop(key, None)
        elif choice == "empty":
            c[key] = {} if key == "symptoms" else []
    for lab in c.get("labs", []):
        if draw(st.booleans()):
            lab["unit"] = draw(_SPACES) + lab.get("unit", "ng/L") + draw(_SPACES)
    ranged = p.get("differentiation") and draw(st.booleans())
    if ranged:  # a range: the per-case path, whether its key is written plainly or escaped
        p.pop("ki67_percent", None)
        p["ki67_range"] = draw(st.sampled_from(["10-20", "<3", ">=20"]))
    line = case_line(raw)
    if ranged and draw(st.booleans()):
        line = line.replace('"ki67_range"', '"ki67_r\\u0061nge"')
    if draw(st.booleans()):  # a line that names a per-case field without setting it
        line = line.replace('"tumour": {', '"tumour": {"number_of_tumours_range": null, ', 1)
    return line


_COUNT = st.one_of(st.none(), st.integers(1, 12))
_SITES = st.sampled_from(
    ["lung", "contralateral_lung", "pleura_pericardium", "bone", "brain", "peritoneum",
     "distant_nodes", "other"]
)  # fmt: skip
_KINDS = st.sampled_from(["neuroendocrine", "adenocarcinoma", "squamous", "acinar"])


@st.composite
def varied_sections(draw: st.DrawFn) -> str:
    """A generated case's line with its nodes, metastases and tumour components redrawn: the
    sections the engine's first reshaping counts (``engine.facts.derive``)."""
    raw = json.loads(json.dumps(draw(st.sampled_from(_BASE))))
    nodes = draw(st.sampled_from(["keep", "absent", "zero_of_zero", "status", "counts", "empty"]))
    if nodes == "absent":
        raw.pop("regional_nodes", None)
    elif nodes == "zero_of_zero":
        raw["regional_nodes"] = {"examined": 0, "positive": 0}
    elif nodes == "status":
        raw["regional_nodes"] = {"status": draw(st.sampled_from(["negative", "positive"]))}
    elif nodes == "counts":
        examined = draw(st.integers(0, 30))
        raw["regional_nodes"] = {
            "examined": examined,
            "positive": draw(st.integers(0, examined)),
            "mesenteric_mass_cm": draw(st.one_of(st.none(), st.floats(0, 40))),
        }
    elif nodes == "empty":
        raw["regional_nodes"] = {}
    status = draw(st.sampled_from(["keep", "absent", "none", "unknown", "present"]))
    if status == "absent":
        raw.pop("metastases", None)
    elif status != "keep":
        m: dict[str, Any] = {"status": status}
        if draw(st.booleans()):
            m["liver"] = {
                "lesion_count": draw(_COUNT),
                "extent": draw(st.one_of(st.none(), st.sampled_from(["confined", "bilobar"]))),
                "diffuse": draw(st.one_of(st.none(), st.booleans())),
            }
        extra = draw(st.sampled_from(["absent", "empty", "listed"]))
        if extra == "empty":
            m["extrahepatic"] = []
        elif extra == "listed":
            m["extrahepatic"] = [
                {"site": s, "lesion_count": n}
                for s, n in draw(st.lists(st.tuples(_SITES, _COUNT), min_size=1, max_size=4))
            ]
        raw["metastases"] = m
    p = raw.setdefault("pathology", {})
    comps = draw(st.sampled_from(["keep", "none", "shares", "some_shares", "minen"]))
    if comps != "keep":
        p.pop("components", None)
        p["minen_diagnosed"] = draw(st.one_of(st.none(), st.booleans()))
    if comps in ("shares", "some_shares"):
        n = draw(st.integers(1, 3))
        p["components"] = [
            {
                "kind": draw(_KINDS),
                "percent": None
                if comps == "some_shares" and draw(st.booleans())
                else draw(st.floats(0, 100 / n, allow_nan=False)),
            }
            for _ in range(n)
        ]
    return case_line(raw)
