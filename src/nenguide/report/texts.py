"""Texts of the web pages and printed reports, in English and Simplified Chinese.

Interface labels live in ``report/i18n/<lang>.yaml``; clinical texts (categories, stages, issue
messages, rule explanations) come from the knowledge package's catalogue, so a term is
translated once. ``Texts`` looks a key up in the page language, then in English, and never
shows a raw code where a text exists: enum values without a text are humanised
(``muscularis_propria`` -> "Muscularis propria") in English only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from nenguide.engine.kb import Catalog

LANGS = ("en", "zh-CN")
#: issue text parameters that name case fields or facts (the engine's FIELD_PARAMS)
_FIELD_PARAMS = frozenset({"needs", "needed", "missing", "fields"})
_CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_INDEX = re.compile(r"\.\d+(?=\.|$)")
_WEEKDAYS_ZH = "一二三四五六日"


@lru_cache(maxsize=1)
def ui_texts() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for lang in LANGS:
        raw = (
            resources.files("nenguide.report")
            .joinpath("i18n")
            .joinpath(f"{lang}.yaml")
            .read_text("utf-8")
        )
        out[lang] = {str(k): str(v) for k, v in yaml.safe_load(raw).items()}
    return out


def humanise(code: str) -> str:
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else text


def pick_lang(value: str | None) -> str | None:
    """One of LANGS from a form value or an Accept-Language header, else None."""
    if not value:
        return None
    for part in value.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return None


@dataclass(frozen=True)
class Texts:
    """Texts in one language: ``t(key)`` for interface labels, ``kb(key)`` for clinical ones."""

    lang: str
    catalog: Catalog

    def t(self, key: str, **params: Any) -> str:
        ui = ui_texts()
        raw = ui[self.lang].get(key) or ui["en"].get(key)
        if raw is None:
            return self.kb(key, **params)
        try:
            return raw.format(**params) if params else raw
        except (KeyError, IndexError, ValueError):
            return raw

    def has(self, key: str) -> bool:
        return key in ui_texts()[self.lang] or key in self.catalog.texts.get(self.lang, {})

    def kb(self, key: str, **params: Any) -> str:
        return self.catalog.text(self.lang, key, **params)

    def kb_or(self, key: str, fallback: str) -> str:
        """Catalogue text of ``key`` in this language (English if missing), else ``fallback``."""
        own = self.catalog.texts.get(self.lang, {}).get(key)
        if own:
            return own
        en = self.catalog.texts.get("en", {}).get(key)
        return en if en and self.lang == "en" else fallback

    def field_label(self, path: str) -> str | None:
        """The text of case field ``path`` in this language (list indices ignored), or None.

        Case fields are labelled in the knowledge package (``i18n/<lang>/fields.yaml``), where
        the engine finds them too; a fact name (``ki67_percent``) has its own label there.
        """
        return self.catalog.field_label(self.lang, path, fallback=False)

    def field(self, path: str) -> str:
        """Label of a case field: ``clinical.labs.0.unit`` -> "Unit"."""
        own = self.field_label(path)
        if own:
            return own
        last = _INDEX.sub("", path).rsplit(".", 1)[-1]
        # a flag such as clinical.history.renal_failure is labelled by its choice's text
        choice = ui_texts()[self.lang].get(f"value.{last}")
        if choice and self.lang != "en":
            return choice
        return self.catalog.field_label("en", path, fallback=False) or humanise(last)

    def value_label(self, code: str) -> str | None:
        """The text of choice ``code`` in this language, or None when it has none."""
        hit = ui_texts()[self.lang].get(f"value.{code}")
        if hit:
            return hit
        for prefix in ("category", "syndrome", "exam", "test"):
            own = self.catalog.texts.get(self.lang, {}).get(f"{prefix}.{code}")
            if own:
                return own
        return None

    def value(self, code: Any) -> str:
        """Text of a choice (enum value) of the case model."""
        if code is None:
            return "—"
        if isinstance(code, bool):
            return self.t("case.yes" if code else "case.no")
        s = str(code)
        hit = self.value_label(s)
        if hit:
            return hit
        return ui_texts()["en"].get(f"value.{s}") or (humanise(s) if self.lang == "en" else s)

    def issue_message(self, issue: Mapping[str, Any]) -> str:
        """The text of an assessment issue in this language, its parameters shown by their
        labels: field and fact names by their field labels, choice codes (a syndrome, a
        primary site, a therapy, a level) by their texts. Re-written from the issue's code and
        details, so a stored assessment in the other language reads right too; the stored
        message when the package has no text for the code or the details do not fill it."""
        stored = str(issue.get("message") or "")
        raw = self.catalog.get(self.lang, f"issue.{issue.get('code')}")
        if raw is None:
            return stored
        details = issue.get("details") or {}
        params = {
            k: self.catalog.field_list(self.lang, v) if k in _FIELD_PARAMS else self._param(v)
            for k, v in details.items()
        }
        try:
            return raw.format(**params) if params else raw
        except (KeyError, IndexError, ValueError):
            return stored

    def _param(self, v: Any) -> Any:
        sep = "、" if self.lang == "zh-CN" else ", "
        if isinstance(v, dict) and "one_of" in v:
            return sep.join(str(self._param(x)) for x in v["one_of"])
        if isinstance(v, (list, tuple)):
            return sep.join(str(self._param(x)) for x in v)
        if isinstance(v, bool):
            return self.t("case.yes" if v else "case.no")
        if isinstance(v, str) and _CODE.fullmatch(v):
            own = self.value_label(v)
            if own:
                return own
            return v.replace("_", " ") if self.lang == "en" else v
        return v

    def date(self, value: str | dt.date | None, *, long: bool = False) -> str:
        """en: 04-Dec-2026 (month never numeric); zh-CN: 2026-12-04, long 2026年12月4日 星期五."""
        if value is None or value == "":
            return "—"
        d = dt.date.fromisoformat(str(value)[:10]) if not isinstance(value, dt.date) else value
        if self.lang == "zh-CN":
            if long:
                return f"{d.year}年{d.month}月{d.day}日 星期{_WEEKDAYS_ZH[d.weekday()]}"
            return d.isoformat()
        return d.strftime("%a %d-%b-%Y" if long else "%d-%b-%Y")

    def datetime(self, value: str | dt.datetime | None) -> str:
        if value is None or value == "":
            return "—"
        v = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        return f"{self.date(v.date())} {v.strftime('%H:%M')}"
