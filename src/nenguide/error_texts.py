"""Input errors in the user's language (issue 9).

:class:`nenguide.errors.FieldError` keeps the error code and its parameters; this module words
it in English or Simplified Chinese from ``report/i18n/errors.<lang>.yaml``: the field's label
(the knowledge package's case-field labels), what is wrong and what is allowed. English keeps
the engine's original wording; other languages are worded from the texts.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from nenguide.errors import CaseInputError, FieldError

LANGS = ("en", "zh-CN")
_QUOTED = re.compile(r"'([^']*)'")


@lru_cache(maxsize=1)
def error_texts() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for lang in LANGS:
        raw = (
            resources.files("nenguide.report")
            .joinpath("i18n")
            .joinpath(f"errors.{lang}.yaml")
            .read_text("utf-8")
        )
        out[lang] = {str(k): str(v) for k, v in yaml.safe_load(raw).items()}
    return out


def err_text(lang: str, key: str, **params: Any) -> str | None:
    """The text of ``key`` in ``lang`` (English when missing) with ``params``, or None."""
    texts = error_texts()
    raw = texts.get(lang, {}).get(key) or texts["en"].get(key)
    if raw is None:
        return None
    try:
        return raw.format(**params)
    except (KeyError, IndexError, ValueError):
        return raw


def _lang(lang: str | None) -> str:
    return lang if lang in LANGS else "en"


def _choices(lang: str, expected: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as codes with their labels: a（胰腺）、b（…）."""
    from nenguide.knowledge import load
    from nenguide.report.texts import Texts

    tx = Texts(lang, load().catalog)
    codes = _QUOTED.findall(expected)
    if not codes:
        return expected
    shown = [f"{c}（{tx.value_label(c)}）" if tx.value_label(c) else c for c in codes]
    return "、".join(shown)


def field_label(lang: str, path: str) -> str:
    from nenguide.knowledge import load

    return load().catalog.field_label(lang, path) or path


def localise(fe: FieldError, lang: str | None, *, with_label: bool = True) -> FieldError:
    """``fe`` worded in ``lang``: "<field label>：<what is wrong>" (the label left out when
    the message is shown at its field), and what is allowed."""
    lang = _lang(lang)
    if lang == "en":
        return fe
    params = {k: f"{v:g}" if isinstance(v, float) else v for k, v in fe.params.items()}
    key = str(params.pop("key", "") or fe.code)
    if "expected" in params:
        params["expected"] = _choices(lang, str(params["expected"]))
    msg = err_text(lang, f"msg.{key}", **params) or err_text(lang, "msg.other") or fe.message
    allowed = fe.allowed
    akey = str(params.get("allowed_key") or key)
    if fe.allowed is not None:
        allowed = err_text(lang, f"allowed.{akey}", **params) or fe.allowed
    label = field_label(lang, fe.path) if with_label and fe.path != "(case)" else ""
    sep = "：" if lang == "zh-CN" else ": "
    return replace(fe, message=f"{label}{sep}{msg}" if label else msg, allowed=allowed)


def localise_error(err: CaseInputError, lang: str | None) -> CaseInputError:
    """A copy of ``err`` with its summary and every field error worded in ``lang``."""
    from nenguide.errors import CaseInputError

    lang = _lang(lang)
    if lang == "en":
        return err
    summary = err.summary
    if err.key:
        params = dict(err.params)
        if err.key == "yaml" and "line" in params:
            params["where"] = err_text(lang, "summary.yaml_where", **params) or ""
        summary = err_text(lang, f"summary.{err.key}", **params) or summary
    return CaseInputError(summary, [localise(e, lang) for e in err.errors], err.key, err.params)
