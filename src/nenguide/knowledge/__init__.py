"""Guideline knowledge packages (versioned data) and their loader.

Each guideline version is a self-contained folder (``csco-2021/``) with ``manifest.yaml``,
``bibliography.yaml``, ``parameters.yaml``, ``pathway.yaml`` (the steps bound to tables),
``issues.yaml`` (issue codes and kinds), ``facts.yaml`` (the declared facts), ``tables/*.yaml``
and the texts for every emitted code in ``i18n/<lang>/*.yaml``; all of them are covered by the
content hash, and a copy of the folder placed anywhere loads on its own.
Everything is validated against its schema when loaded; a malformed package raises
:class:`KnowledgeError` naming the file and what is wrong.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from nenguide.engine.kb import (
    Catalog,
    Citation,
    FactCatalogue,
    Knowledge,
    Manifest,
    Pathway,
)
from nenguide.engine.tables import TableError, TableSpec, compile_table
from nenguide.model.assessment import IssueKind

DEFAULT_GUIDELINE = "csco-2021"
LANGUAGES = ("en", "zh-CN")


class KnowledgeError(Exception):
    """The knowledge package is malformed (a configuration error, not a clinical outcome)."""


class _TableFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tables: list[TableSpec]


def _root() -> Traversable:
    return resources.files("nenguide.knowledge")


def available() -> list[str]:
    return sorted(
        p.name for p in _root().iterdir() if p.is_dir() and (p / "manifest.yaml").is_file()
    )


#: libyaml's parser when PyYAML was built with it (about 7x faster on the package's files, the
#: same documents: the safe constructor is the same); the pure-Python one otherwise
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Traversable, label: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise KnowledgeError(f"{label}: missing") from exc
    try:
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as fast:
        # the pure-Python parser's message quotes the line and marks the place (libyaml's
        # does not): the one a package's author is shown
        message = str(fast)
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as pure:
            message = str(pure)
        raise KnowledgeError(f"{label}: not valid YAML: {message}") from fast


def content_files(folder: Traversable) -> list[tuple[str, bytes]]:
    """The files whose bytes make the content hash: everything but the manifest."""
    out: list[tuple[str, bytes]] = []

    def walk(d: Traversable, prefix: str) -> None:
        for p in sorted(d.iterdir(), key=lambda x: x.name):
            rel = f"{prefix}{p.name}"
            if p.is_dir():
                walk(p, rel + "/")
            elif p.name.endswith((".yaml", ".md")) and rel != "manifest.yaml":
                out.append((rel, p.read_bytes()))

    walk(folder, "")
    return out


def compute_hash(folder: Traversable) -> str:
    h = hashlib.sha256()
    for rel, data in content_files(folder):
        h.update(rel.encode())
        h.update(b"\0")
        h.update(data)
        h.update(b"\0")
    return "sha256:" + h.hexdigest()


def _validation_message(label: str, exc: ValidationError) -> str:
    lines = [f"{label}: does not match its schema:"]
    for e in exc.errors():
        loc = ".".join(str(x) for x in e["loc"])
        lines.append(f"  {loc}: {e['msg']}")
    return "\n".join(lines)


def load_catalog(package: Traversable | None = None) -> Catalog:
    """Texts by language: every ``<package>/i18n/<lang>/*.yaml`` merged; a key defined twice is
    an error (``package``: the default guideline's folder when not given)."""
    pkg = package if package is not None else _root() / DEFAULT_GUIDELINE
    texts: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        merged: dict[str, str] = {}
        folder = pkg / "i18n" / lang
        if not folder.is_dir():
            raise KnowledgeError(f"{pkg.name}/i18n/{lang}: missing (texts in {lang})")
        for p in sorted(folder.iterdir(), key=lambda x: x.name):
            if not p.name.endswith(".yaml"):
                continue
            label = f"{pkg.name}/i18n/{lang}/{p.name}"
            raw = _read_yaml(p, label) or {}
            if not isinstance(raw, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
            ):
                raise KnowledgeError(f"{label}: must map text keys to strings")
            for k, v in raw.items():
                if k in merged:
                    raise KnowledgeError(f"{label}: text key '{k}' is defined in another file too")
                merged[k] = v
        texts[lang] = merged
    return Catalog(texts)


def load_from(folder: Traversable, *, verify_hash: bool = True) -> Knowledge:
    name = folder.name
    raw_manifest = _read_yaml(folder / "manifest.yaml", f"{name}/manifest.yaml")
    try:
        manifest = Manifest.model_validate(raw_manifest)
    except ValidationError as exc:
        raise KnowledgeError(_validation_message(f"{name}/manifest.yaml", exc)) from exc
    actual = compute_hash(folder)
    if verify_hash and actual != manifest.content_hash:
        raise KnowledgeError(
            f"{name}: content hash {actual} does not match manifest.yaml "
            f"({manifest.content_hash}). "
            "A knowledge file changed: review the change, record it in CHANGES.md, then run "
            "'nenguide knowledge lint --update-hash'."
        )
    bib_files = [("bibliography.yaml", folder / "bibliography.yaml")]
    extra = folder / "bibliography"
    if extra.is_dir():
        bib_files += [
            (f"bibliography/{p.name}", p)
            for p in sorted(extra.iterdir(), key=lambda x: x.name)
            if p.name.endswith(".yaml")
        ]
    bib_list: list[Citation] = []
    for rel, path in bib_files:
        raw_bib = _read_yaml(path, f"{name}/{rel}")
        try:
            bib_list += [Citation.model_validate(b) for b in (raw_bib or {}).get("sources", [])]
        except ValidationError as exc:
            raise KnowledgeError(_validation_message(f"{name}/{rel}", exc)) from exc
    bibliography: dict[str, Citation] = {}
    for c in bib_list:
        if c.id in bibliography:
            raise KnowledgeError(f"{name}: bibliography source id '{c.id}' is defined twice")
        bibliography[c.id] = c
    if manifest.source not in bibliography:
        raise KnowledgeError(
            f"{name}/manifest.yaml: source '{manifest.source}' not in bibliography"
        )
    parameters = _read_yaml(folder / "parameters.yaml", f"{name}/parameters.yaml") or {}
    tables = {}
    files = []
    row_ids: dict[str, str] = {}
    for p in sorted((folder / "tables").iterdir(), key=lambda x: x.name):
        if not p.name.endswith(".yaml"):
            continue
        label = f"{name}/tables/{p.name}"
        files.append(label)
        try:
            tf = _TableFile.model_validate(_read_yaml(p, label))
        except ValidationError as exc:
            raise KnowledgeError(_validation_message(label, exc)) from exc
        for spec in tf.tables:
            if spec.id in tables or spec.id in row_ids:
                raise KnowledgeError(f"{label}: duplicate id '{spec.id}'")
            for row in spec.rows:
                if row.id in row_ids or row.id in tables:
                    raise KnowledgeError(
                        f"{label}: rule id '{row.id}' is used twice (also in {row_ids.get(row.id)})"
                    )
                row_ids[row.id] = spec.id
                for s in row.sources:
                    if s not in bibliography:
                        raise KnowledgeError(
                            f"{label}: rule {row.id} cites '{s}', which is not in bibliography.yaml"
                        )
            try:
                tables[spec.id] = compile_table(spec)
            except TableError as exc:
                raise KnowledgeError(f"{label}: {exc}") from exc
    analytes = None
    if (folder / "analytes.yaml").is_file():
        from nenguide.units.catalogue import CatalogueError, parse_catalogue

        label = f"{name}/analytes.yaml"
        try:
            analytes = parse_catalogue(_read_yaml(folder / "analytes.yaml", label), label)
        except CatalogueError as exc:
            raise KnowledgeError(str(exc)) from exc
    pathway = _load_pathway(folder, name, tables)
    issue_kinds = _load_issues(folder, name)
    fact_label = f"{name}/facts.yaml"
    try:
        facts = FactCatalogue.model_validate(_read_yaml(folder / "facts.yaml", fact_label))
    except ValidationError as exc:
        raise KnowledgeError(_validation_message(fact_label, exc)) from exc
    known = {
        "manifest.yaml",
        "bibliography.yaml",
        "parameters.yaml",
        "analytes.yaml",
        "pathway.yaml",
        "issues.yaml",
        "facts.yaml",
    }
    documents = {
        p.name: _read_yaml(p, f"{name}/{p.name}")
        for p in sorted(folder.iterdir(), key=lambda x: x.name)
        if p.name.endswith(".yaml") and p.name not in known
    }
    return Knowledge(
        manifest,
        bibliography,
        tables,
        parameters,
        load_catalog(folder),
        tuple(files),
        analytes=analytes,
        documents=documents,
        pathway=pathway,
        issue_kinds=issue_kinds,
        facts=facts,
    )


def _load_pathway(folder: Traversable, name: str, tables: dict[str, Any]) -> Pathway:
    from nenguide.engine.pathway import REQUIRED_ROLES

    label = f"{name}/pathway.yaml"
    try:
        pathway = Pathway.model_validate(_read_yaml(folder / "pathway.yaml", label))
    except ValidationError as exc:
        raise KnowledgeError(_validation_message(label, exc)) from exc
    unknown = sorted(pathway.table_ids() - set(tables))
    if unknown:
        raise KnowledgeError(f"{label}: names tables this package does not have: {unknown}")
    for step, roles in REQUIRED_ROLES.items():
        binding = pathway.steps.get(step)
        if binding is None:
            raise KnowledgeError(f"{label}: step '{step}' is not bound to tables")
        for role in roles:
            if role not in binding.tables and role not in binding.lists:
                raise KnowledgeError(f"{label}: step '{step}' binds no table to role '{role}'")
    return pathway


def _load_issues(folder: Traversable, name: str) -> dict[str, IssueKind]:
    label = f"{name}/issues.yaml"
    raw = _read_yaml(folder / "issues.yaml", label) or {}
    items = raw.get("issues") if isinstance(raw, dict) else None
    if not isinstance(items, dict):
        raise KnowledgeError(f"{label}: must map 'issues' to {{CODE: kind}}")
    out: dict[str, IssueKind] = {}
    for code, kind in items.items():
        try:
            out[str(code)] = IssueKind(kind)
        except ValueError:
            allowed = ", ".join(k.value for k in IssueKind)
            raise KnowledgeError(f"{label}: {code}: kind {kind!r}; use one of {allowed}") from None
    return out


@lru_cache(maxsize=8)
def load(guideline: str = DEFAULT_GUIDELINE) -> Knowledge:
    """Load (once) and validate a bundled knowledge package."""
    folder = _root() / guideline
    if not (folder / "manifest.yaml").is_file():
        raise KnowledgeError(
            f"no knowledge package '{guideline}'; available: {', '.join(available()) or 'none'}"
        )
    return load_from(folder)


def package_path(guideline: str = DEFAULT_GUIDELINE) -> Path:
    return Path(str(_root() / guideline))
