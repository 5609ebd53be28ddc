"""Golden clinical vignettes: reading them and checking an assessment against them.

One YAML file per case (``tests/vignettes``); the format is described in
``tests/test_vignettes.py``.
The checking lives here so that the test suite and the mutation harness
(:mod:`nenguide.mutation.runner`) apply exactly the same assertions.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from nenguide import assess
from nenguide.engine.kb import Knowledge
from nenguide.errors import parse_case

DEFAULT_AS_OF = dt.date(2026, 11, 23)
_MISSING = object()


def load_vignette(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: a vignette must be a mapping")
    return data


def vignette_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def as_of(v: dict[str, Any]) -> dt.date:
    a = v.get("as_of", DEFAULT_AS_OF)
    return a if isinstance(a, dt.date) else dt.date.fromisoformat(str(a))


def assess_vignette(v: dict[str, Any], kb: Knowledge, lang: str = "en") -> dict[str, Any]:
    """The vignette's case assessed with ``kb``, as JSON-ready data."""
    return assess(parse_case(v["case"]), kb, as_of=as_of(v), lang=lang).model_dump(mode="json")


def lookup(data: Any, dotted: str) -> Any:
    """Follow a dotted path; integer parts index lists (``classification.components.0.category``).

    Returns the module's private ``_MISSING`` marker when the path does not exist (test with
    :func:`is_missing`).
    """
    cur = data
    for part in dotted.split("."):
        if isinstance(cur, dict):
            if part not in cur:
                return _MISSING
            cur = cur[part]
        elif isinstance(cur, list):
            try:
                idx = int(part)
            except ValueError:
                return _MISSING
            if not -len(cur) <= idx < len(cur):
                return _MISSING
            cur = cur[idx]
        else:
            return _MISSING
    return cur


def is_missing(value: Any) -> bool:
    return value is _MISSING


def pluck(data: Any, spec: str) -> list[Any]:
    """``treatment[].code`` -> the ``code`` of every item of the list ``treatment``;
    ``treatment[status=conditional].code`` -> only of the items whose ``status`` is
    ``conditional``."""
    sel = ""
    if "[" in spec and "]" in spec and "=" in spec.split("]", 1)[0]:
        head, rest = spec.split("[", 1)
        sel, _, tail = rest.partition("]")
        tail = tail.removeprefix(".")
    else:
        head, _, tail = spec.partition("[].")
    items = lookup(data, head)
    if not isinstance(items, list):
        return []
    if sel:
        key, _, want = sel.partition("=")
        items = [i for i in items if isinstance(i, dict) and str(i.get(key)) == want]
    return [lookup(i, tail) if tail else i for i in items]


def label(v: dict[str, Any]) -> str:
    return f"{v.get('id')} ({v.get('title')})"


def vignette_failures(v: dict[str, Any], assessment: dict[str, Any]) -> list[str]:
    """Every way ``assessment`` departs from what the vignette ``v`` expects (empty: it agrees)."""
    name = label(v)
    failures: list[str] = []
    for dotted, expected in (v.get("expect") or {}).items():
        actual = lookup(assessment, dotted)
        if actual is _MISSING:
            failures.append(f"{name}: path {dotted!r} not found in the assessment")
        elif actual != expected:
            failures.append(f"{name}: path {dotted!r}: expected {expected!r}, actual {actual!r}")

    for spec, wanted in (v.get("contains") or {}).items():
        present = pluck(assessment, spec)
        for w in wanted:
            if w not in present:
                failures.append(f"{name}: {spec} should contain {w!r}; it has {present}")
    for spec, unwanted in (v.get("excludes") or {}).items():
        present = pluck(assessment, spec)
        for w in unwanted:
            if w in present:
                failures.append(f"{name}: {spec} must not contain {w!r}; it has {present}")

    codes = [i["code"] for i in assessment["issues"]]
    for code in v.get("issues_include") or []:
        if code not in codes:
            failures.append(f"{name}: issue {code!r} expected but absent; issues: {codes}")
    for code in v.get("issues_exclude") or []:
        if code in codes:
            failures.append(f"{name}: issue {code!r} must be absent; issues: {codes}")

    decisive = [t["rule_ids"][0] for t in assessment["trace"] if t["rule_ids"]]
    for rule in v.get("rules_fired") or []:
        if rule not in decisive:
            failures.append(
                f"{name}: rule {rule!r} expected as a decisive rule; decisive rules: {decisive}"
            )
    return failures
