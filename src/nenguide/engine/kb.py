"""The knowledge base as the engine sees it: a guideline's manifest, bibliography, compiled
decision tables, parameters and the text catalogue. Built by :mod:`nenguide.knowledge`; the
engine never reads files itself."""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from nenguide.engine.tables import Table
from nenguide.model.assessment import IssueKind

_T = TypeVar("_T")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Manifest(_Strict):
    id: str
    title: str
    publisher: str
    edition: str
    version: str
    valid_from: dt.date
    valid_until: dt.date
    status: Literal["current", "superseded", "draft"]
    source: str = Field(description="Bibliography id of the guideline document itself")
    content_hash: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    notes: list[str] = Field(default_factory=list)


class Citation(_Strict):
    id: str
    citation: str
    kind: Literal["guideline", "classification", "staging", "trial", "review", "consensus", "other"]
    url: str | None = None
    doi: str | None = None
    note: str | None = None


class FactDecl(_Strict):
    """One fact the tables read (``facts.yaml``)."""

    name: str
    description: str = Field(min_length=3)
    domain: str
    reads: list[str] = Field(min_length=1, description="the case fields it is derived from")
    rule: str = Field(description="'reshaped', a fact table id, or the step that outputs it")


class FactFamily(_Strict):
    """A group of facts declared by name prefix (``hx_<history item>``)."""

    prefix: str
    description: str
    domain: str
    reads: list[str]
    rule: str


class FactCatalogue(_Strict):
    facts: list[FactDecl]
    families: list[FactFamily] = Field(default_factory=list)

    def find(self, name: str) -> FactDecl | FactFamily | None:
        for f in self.facts:
            if f.name == name:
                return f
        for fam in self.families:
            if name.startswith(fam.prefix):
                return fam
        return None


class StepBinding(_Strict):
    """The tables one engine step uses, by role (``pathway.yaml``)."""

    tables: dict[str, str] = Field(default_factory=dict, description="role -> table id")
    lists: dict[str, list[str]] = Field(
        default_factory=dict, description="role -> table ids evaluated in this order"
    )
    sites: dict[str, str] = Field(
        default_factory=dict, description="primary site -> the site's table id"
    )
    parameters: dict[str, Any] = Field(default_factory=dict)


class Pathway(_Strict):
    """The clinical pathway of a package as data: each step's tables by role."""

    steps: dict[str, StepBinding]

    def table(self, step: str, role: str) -> str:
        try:
            return self.steps[step].tables[role]
        except KeyError:  # a configuration error, caught by the loader's check
            raise KeyError(f"pathway.yaml binds no table to {step}.{role}") from None

    def optional_table(self, step: str, role: str) -> str | None:
        """The table bound to ``role`` of ``step``, or ``None`` when the package binds none
        (an optional role: what its table would decide stays unknown)."""
        b = self.steps.get(step)
        return b.tables.get(role) if b else None

    def tables(self, step: str, role: str) -> list[str]:
        b = self.steps.get(step)
        return list(b.lists.get(role, [])) if b else []

    def site_table(self, step: str, site: str) -> str | None:
        b = self.steps.get(step)
        return b.sites.get(site) if b else None

    def parameter(self, step: str, name: str) -> Any:
        return self.steps[step].parameters[name]

    def table_ids(self) -> set[str]:
        out: set[str] = set()
        for b in self.steps.values():
            out.update(b.tables.values())
            out.update(b.sites.values())
            for ids in b.lists.values():
                out.update(ids)
        return out


_INDEX = re.compile(r"\.\d+(?=\.|$)")
#: a choice code in an issue's details (``typical_carcinoid``, ``insulinoma``, ``MiNEN``)
CODE_PARAM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*")


def _template_params(template: str) -> frozenset[str] | None:
    """The names of the parameters ``template`` (a ``str.format`` text) uses; ``None`` when
    that cannot be told from the text (a malformed template, a nested field in a format
    spec): then every parameter is formatted, as before."""
    names: set[str] = set()
    try:
        for _, name, spec, _ in string.Formatter().parse(template):
            if name is None:
                continue
            if spec and "{" in spec:
                return None
            names.add(re.split(r"[.\[]", name, maxsplit=1)[0])
    except ValueError:
        return None
    return frozenset(names)


class MissingTextError(KeyError):
    """A text key has no text in the package (caught by ``knowledge lint`` and the tests; a key
    is never shown to a user in place of its text)."""


@dataclass(frozen=True)
class Catalog:
    """Texts for every code the engine emits, by language."""

    texts: dict[str, dict[str, str]]  # lang -> key -> text
    # lang -> the language's texts over the English ones (what :meth:`get` answers), built once
    _merged: dict[str, dict[str, str]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # (lang, paths) -> their labels (field_list), filled as asked
    _lists: dict[tuple[str, Any], str] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # lang -> issue text key -> the parameters its template uses (:meth:`params`), at load
    _params: dict[str, dict[str, frozenset[str] | None]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # lang -> choice code -> its text (:meth:`codes`), built at load
    _codes: dict[str, dict[str, str]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if "en" not in self.texts:
            return  # an incomplete catalogue (the loader's checks report it)
        for lang in self.texts:
            merged = self.merged(lang)
            codes: dict[str, str] = {}
            for prefix in ("syndrome.", "category."):  # a category's text over a syndrome's
                n = len(prefix)
                for key, text in merged.items():
                    if text and key.startswith(prefix) and CODE_PARAM.fullmatch(key[n:]):
                        codes[key[n:]] = text
            self._codes[lang] = codes
            self._params[lang] = {
                k: _template_params(v) for k, v in merged.items() if k.startswith("issue.")
            }

    def params(self, lang: str) -> Mapping[str, frozenset[str] | None]:
        """Issue text key -> the parameter names its template in ``lang`` uses (``None``: it
        cannot be told, use every parameter), found at load: a parameter a text does not show
        is not formatted."""
        hit = self._params.get(lang)
        if hit is None:
            hit = self._params["en"] if lang not in self.texts else {}
        return MappingProxyType(hit)  # shared by every assessment: read-only

    def codes(self, lang: str) -> Mapping[str, str]:
        """The text of every choice code the package names (``category.<code>``, else
        ``syndrome.<code>``) in ``lang``, by code: how an issue's text shows a code."""
        hit = self._codes.get(lang)
        if hit is None:
            hit = self._codes["en"] if lang not in self.texts else {}
        return MappingProxyType(hit)

    def merged(self, lang: str) -> Mapping[str, str]:
        """Every text of ``lang``, English where ``lang`` lacks one or has an empty text (what
        :meth:`get` answers for each key)."""
        hit = self._merged.get(lang)
        if hit is None:
            own = self.texts.get(lang) or self.texts["en"]
            hit = {**self.texts["en"], **{k: v for k, v in own.items() if v}}
            self._merged[lang] = hit
        return MappingProxyType(hit)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.texts)

    def get(self, lang: str, key: str) -> str | None:
        """The raw text of ``key`` in ``lang`` (English when ``lang`` lacks it), or ``None``."""
        table = self.texts.get(lang) or self.texts["en"]
        return table.get(key) or self.texts["en"].get(key)

    def field_label(self, lang: str, path: str, *, fallback: bool = True) -> str | None:
        """The label of case field ``path`` (``clinical.labs.0.unit``; list indices ignored) or
        of a fact name (``ki67_percent``) in ``lang``. A path with a note in brackets
        (``functional_syndromes (gastrinoma)``) is labelled with its note. Without a text:
        the English label, then the path itself (``fallback``), or ``None``."""
        table = self.texts.get(lang) or {}
        bare = _INDEX.sub("", path.strip())
        hit = table.get(f"field.{bare}")
        if hit:
            return hit
        base, sep, note = bare.partition(" (")
        if sep and note.endswith(")"):
            head = self.field_label(lang, base, fallback=False)
            if head:
                note = note[:-1]
                for prefix in ("syndrome", "exam", "test", "category"):
                    if table.get(f"{prefix}.{note}"):
                        note = table[f"{prefix}.{note}"]
                        break
                return f"{head}（{note}）" if lang.startswith("zh") else f"{head} ({note})"
        if "." not in bare:
            own = table.get(f"field.{bare}")
            if own:
                return own
        if not fallback:
            return None
        if lang != "en":
            return self.field_label("en", path)
        return path

    def field_list(self, lang: str, paths: Any) -> str:
        """``paths`` (a list, or a text of paths separated by ", ") as labels in ``lang``."""
        try:
            key = (lang, paths if isinstance(paths, str) else tuple(map(str, paths)))
            hit = self._lists.get(key)
        except TypeError:
            return self._field_list(lang, paths)
        if hit is None:
            if len(self._lists) > 10_000:
                self._lists.clear()
            hit = self._lists[key] = self._field_list(lang, paths)
        return hit

    def _field_list(self, lang: str, paths: Any) -> str:
        items = [p.strip() for p in paths.split(", ")] if isinstance(paths, str) else list(paths)
        labels = [self.field_label(lang, str(p)) or str(p) for p in items if str(p)]
        return ("、" if lang.startswith("zh") else ", ").join(dict.fromkeys(labels))

    def text(self, lang: str, key: str, **params: Any) -> str:
        """The text of ``key`` with ``params`` filled in; :class:`MissingTextError` when the
        package has no text for it (never the key itself)."""
        raw = self.get(lang, key)
        if raw is None:
            raise MissingTextError(f"no text for '{key}' ({lang}) in the knowledge package")
        try:
            return raw.format(**params) if params else raw
        except (KeyError, IndexError, ValueError):
            return raw


@dataclass(frozen=True)
class Knowledge:
    manifest: Manifest
    bibliography: dict[str, Citation]
    tables: dict[str, Table]
    parameters: dict[str, Any]
    catalog: Catalog
    files: tuple[str, ...] = field(default=())
    analytes: Any = None  # nenguide.units.AnalyteCatalogue of this package (analytes.yaml)
    # other top-level data files of the package (options.yaml, site.yaml), parsed, unvalidated:
    # the step that owns each validates it; the engine itself reads no file
    documents: dict[str, Any] = field(default_factory=dict)
    rule_status: dict[str, str] = field(default_factory=dict)
    pathway: Pathway = field(default_factory=lambda: Pathway(steps={}))
    #: issue code -> kind (``issues.yaml``)
    issue_kinds: dict[str, IssueKind] = field(default_factory=dict)
    #: the declared facts (``facts.yaml``)
    facts: FactCatalogue = field(default_factory=lambda: FactCatalogue(facts=[]))
    # memo of pure table evaluations with their (frozen) trace entries and issues (see
    # Context.first); not part of the knowledge itself. Clearing it gives a cold engine.
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)
    # package data validated once (option catalogue, site defaults, schedules): not a memo
    package_cache: dict[tuple[Any, ...], Any] = field(
        default_factory=dict, compare=False, repr=False
    )

    #: (step, role) -> table id, from the pathway (built once)
    roles: dict[tuple[str, str], str] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    #: the ids of the rules whose content is not confirmed (built once)
    unconfirmed_rules: frozenset[str] = field(
        default=frozenset(), init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for t in self.tables.values():
            for r in t.rows:
                self.rule_status[r.id] = r.status
        for step, b in self.pathway.steps.items():
            for role, table_id in b.tables.items():
                self.roles[(step, role)] = table_id
        unconfirmed = frozenset(r for r, s in self.rule_status.items() if s != "confirmed")
        object.__setattr__(self, "unconfirmed_rules", unconfirmed)

    def derived(self, key: tuple[Any, ...], make: Callable[[], _T]) -> _T:
        """``make()``: data derived from the package's tables and pathway, worked out once and
        kept in ``package_cache`` with the tables and pathway it was read from (an edited copy
        of the package, a mutant, has tables of its own but shares ``package_cache``: it gets
        its own)."""
        hit = self.package_cache.get(key)
        if hit is not None and hit[0] is self.tables and hit[1] is self.pathway:
            return hit[2]  # type: ignore[no-any-return]
        found = make()
        self.package_cache[key] = (self.tables, self.pathway, found)
        return found

    def table(self, table_id: str) -> Table:
        try:
            return self.tables[table_id]
        except KeyError:  # a configuration error, not a clinical outcome
            raise KeyError(
                f"knowledge package {self.manifest.id} has no table {table_id}"
            ) from None
