"""Golden clinical vignettes: one YAML file per case in ``tests/vignettes``.

Each vignette names its source (guideline, classification or staging chapter) and the expected
values were derived from that source, not from running the engine. A vignette that documents a
known engine deviation carries ``known_deviation: "<why>"`` and runs as a strict xfail, so the
test starts failing (XPASS) the moment the engine is fixed and the marker must be removed.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import nenguide
from nenguide.errors import parse_case
from nenguide.mutation.vignettes import vignette_failures

VIGNETTE_DIR = Path(__file__).parent / "vignettes"
DEFAULT_AS_OF = dt.date(2026, 11, 23)
MIN_VIGNETTES = 45
ALLOWED_KEYS = {
    "id",
    "title",
    "source",
    "as_of",
    "case",
    "expect",
    "issues_include",
    "issues_exclude",
    "rules_fired",
    "contains",
    "excludes",
    "known_deviation",
    "notes",
}
#: Clinical outputs that must not depend on the language of the texts.
CLINICAL_KEYS = (
    "classification",
    "stage",
    "liver_metastasis_type",
    "mdt_discussion",
    "hereditary",
)
#: Steps of the clinical pathway (issue 3): every rule of their tables must be fired by some
#: vignette (test_every_pathway_rule_is_fired_by_a_vignette).
PATHWAY_STEPS = ("functional_syndromes", "workup", "treatment", "follow_up", "hereditary")


def _files() -> list[Path]:
    return sorted(VIGNETTE_DIR.glob("*.yaml"))


@cache
def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: a vignette must be a mapping"
    return data


@cache
def _kb() -> Any:
    return nenguide.load_knowledge()


def _as_of(v: dict[str, Any]) -> dt.date:
    a = v.get("as_of", DEFAULT_AS_OF)
    return a if isinstance(a, dt.date) else dt.date.fromisoformat(str(a))


def _assess(v: dict[str, Any], lang: str) -> dict[str, Any]:
    case = parse_case(v["case"])
    a = nenguide.assess(case, _kb(), as_of=_as_of(v), lang=lang)
    return a.model_dump(mode="json")


def _label(v: dict[str, Any]) -> str:
    return f"{v.get('id')} ({v.get('title')})"


def _params() -> list[Any]:
    out = []
    for path in _files():
        v = _load(path)
        marks = []
        if v.get("known_deviation"):
            marks.append(pytest.mark.xfail(strict=True, reason=str(v["known_deviation"])))
        out.append(pytest.param(path, id=str(v.get("id", path.stem)), marks=marks))
    return out


@pytest.mark.parametrize("path", _params())
def test_vignette(path: Path) -> None:
    v = _load(path)
    assessment = _assess(v, "en")

    failures = vignette_failures(v, assessment)
    assert not failures, "\n".join(failures)


def test_vignette_corpus() -> None:
    files = _files()
    assert len(files) >= MIN_VIGNETTES, (
        f"only {len(files)} vignettes in {VIGNETTE_DIR}; at least {MIN_VIGNETTES} required"
    )
    ids: dict[str, str] = {}
    problems: list[str] = []
    for path in files:
        v = _load(path)
        label = f"{path.name}: {_label(v)}"
        if not str(v.get("source") or "").strip():
            problems.append(f"{label}: empty 'source'")
        if not str(v.get("title") or "").strip():
            problems.append(f"{label}: empty 'title'")
        if not v.get("expect"):
            problems.append(f"{label}: no 'expect' entries")
        unknown = set(v) - ALLOWED_KEYS
        if unknown:
            problems.append(f"{label}: unknown keys {sorted(unknown)}")
        vid = str(v.get("id"))
        if vid in ids:
            problems.append(f"{label}: duplicate id {vid} (also in {ids[vid]})")
        ids[vid] = path.name
        num = path.name.split("-", 1)[0]
        if not (num.isdigit() and len(num) == 3 and vid == f"V{num}"):
            problems.append(f"{label}: file name number and id V{num} do not match")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", [pytest.param(p, id=str(_load(p).get("id"))) for p in _files()])
def test_vignette_language_independent(path: Path) -> None:
    v = _load(path)
    en = _assess(v, "en")
    zh = _assess(v, "zh-CN")
    for key in CLINICAL_KEYS:
        assert zh[key] == en[key], (
            f"{_label(v)}: {key!r} differs between en and zh-CN: en={en[key]!r}, zh-CN={zh[key]!r}"
        )


def _fired(assessment: dict[str, Any]) -> set[str]:
    fired = {r for t in assessment["trace"] if t["decided"] for r in t["rule_ids"][:1]}
    fired |= {r for t in assessment["trace"] if t["table"] is None for r in t["rule_ids"]}
    for t in assessment["trace"]:
        if isinstance(t["result"], list):  # collect tables: every applying rule fired
            fired |= set(t["rule_ids"])
    return fired


def test_every_pathway_rule_is_fired_by_a_vignette() -> None:
    kb = _kb()
    pathway_rules = {
        r.id for t in kb.tables.values() if t.spec.step in PATHWAY_STEPS for r in t.rows
    }
    fired: set[str] = set()
    for path in _files():
        v = _load(path)
        if v.get("known_deviation"):
            continue
        fired |= _fired(_assess(v, "en"))
    never = sorted(pathway_rules - fired)
    assert not never, f"{len(never)} pathway rule(s) fired by no vignette: {never}"
