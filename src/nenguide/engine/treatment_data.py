"""The treatment option catalogue (``options.yaml``) and the default site parameters
(``site.yaml``) of a knowledge package, validated and cached.

Both files sit in the knowledge package folder next to the tables, are covered by its content
hash, and are read once per package version (memoised by content hash). They are package data,
not patient data: reading them does not make ``assess()`` depend on anything but the package.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nenguide.engine.kb import Knowledge
from nenguide.model.assessment import TreatmentCategory
from nenguide.model.frozen import FrozenDict
from nenguide.model.site import SiteParameters, site_from_data

LEVEL_STATUS = ("confirmed", "unconfirmed")


class CatalogueError(ValueError):
    """options.yaml or site.yaml of a knowledge package is malformed."""


class OptionSpec(BaseModel):
    """One treatment option of the catalogue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_]*$")
    text: dict[str, str]
    category: TreatmentCategory
    intent: str
    level: Literal["I", "II", "III"] | None = None
    level_status: Literal["confirmed", "unconfirmed"] = "unconfirmed"
    evidence: Literal["1A", "1B", "2A", "2B", "3"] | None = None
    sources: list[str] = Field(min_length=1)
    requires: list[str] = Field(default_factory=list)
    alternative: str | None = None
    therapy: str | None = Field(
        default=None, description="clinical.prior_therapies[].therapy this option repeats"
    )
    caveats: list[str] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _level(self) -> OptionSpec:
        if self.level_status == "confirmed" and self.level is None:
            raise ValueError(f"{self.code}: level_status confirmed needs a level")
        if self.level_status == "unconfirmed" and (self.level or self.evidence):
            raise ValueError(
                f"{self.code}: a level or evidence category is given but level_status is "
                "'unconfirmed'; set level_status: confirmed when the level comes from the book"
            )
        if "en" not in self.text:
            raise ValueError(f"{self.code}: text.en is required")
        return self


class _OptionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    options: list[OptionSpec]


def package_folder(kb: Knowledge) -> str:
    """The folder name of the package, from the table file labels."""
    if not kb.files:
        raise CatalogueError(f"knowledge package {kb.manifest.id} lists no table files")
    return kb.files[0].split("/", 1)[0]


def _read(kb: Knowledge, name: str) -> Any:
    """A data file of the package, as the loader parsed it (the engine reads no file)."""
    try:
        return kb.documents[name]
    except KeyError:
        raise CatalogueError(f"{package_folder(kb)}/{name}: missing") from None


def catalogue(kb: Knowledge) -> dict[str, OptionSpec]:
    """Option code -> option, validated (memoised in the knowledge base)."""
    key = ("treatment_catalogue", kb.manifest.content_hash)
    hit = kb.package_cache.get(key)
    if hit is None:
        raw = _read(kb, "options.yaml")
        try:
            opts = _OptionsFile.model_validate(raw).options
        except ValidationError as exc:
            lines = [f"{package_folder(kb)}/options.yaml: does not match its schema:"]
            lines += [f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            raise CatalogueError("\n".join(lines)) from exc
        found: dict[str, OptionSpec] = {}
        for o in opts:
            if o.code in found:
                raise CatalogueError(f"options.yaml: option code {o.code} is defined twice")
            found[o.code] = o
        hit = kb.package_cache[key] = FrozenDict(found)  # shared: immutable
    return hit


def site_defaults(kb: Knowledge) -> SiteParameters:
    """The package's default site parameters (``site.yaml``)."""
    key = ("treatment_site_defaults", kb.manifest.content_hash)
    hit = kb.package_cache.get(key)
    if hit is None:
        label = f"{package_folder(kb)}/site.yaml"
        try:
            hit = site_from_data(_read(kb, "site.yaml"), label)
        except ValueError as exc:
            raise CatalogueError(str(exc)) from exc
        kb.package_cache[key] = hit
    return hit


def effective_site(kb: Knowledge, site: SiteParameters | None) -> SiteParameters:
    """``site`` laid over the package defaults (``None``: the defaults)."""
    defaults = site_defaults(kb)
    return defaults if site is None else site.over(defaults)


def site_code_problems(kb: Knowledge, site: SiteParameters | None) -> list[str]:
    """The codes ``site`` names that the package does not know, each with where it is and
    what is allowed: a misspelt drug (``surufatinb``) would otherwise change nothing, silently.
    Known: the items of the package's ``site.yaml`` and the items options require. An option
    code in ``unavailable`` would change nothing either (availability is decided by the items
    an option requires): it is named with the items to give instead."""
    if site is None:
        return []
    cat = catalogue(kb)
    items = set(site_defaults(kb).items) | {r for o in cat.values() for r in o.requires}
    problems = [
        f"items.{code}: not a known item; allowed: {', '.join(sorted(items))}"
        for code in site.items
        if code not in items
    ]
    for code in sorted(site.unavailable - items):
        if code in cat:
            needs = ", ".join(cat[code].requires) or "none"
            problems.append(
                f"unavailable: '{code}' is an option, not an item; give the items it requires "
                f"({needs})"
            )
        else:
            problems.append(
                f"unavailable: '{code}' is not a known item; allowed: {', '.join(sorted(items))}"
            )
    return problems


def check_catalogue(kb: Knowledge) -> list[str]:
    """Consistency of tables, catalogue, site defaults, bibliography and texts (for the lint)."""
    errors: list[str] = []
    try:
        cat = catalogue(kb)
        site = site_defaults(kb)
    except CatalogueError as exc:
        return [str(exc)]
    langs = kb.catalog.languages
    for o in cat.values():
        for lang in langs:
            if not o.text.get(lang):
                errors.append(f"options.yaml: {o.code} has no text in {lang}")
        for s in o.sources:
            if s not in kb.bibliography:
                errors.append(f"options.yaml: {o.code} cites unknown source '{s}'")
        if o.alternative is not None and o.alternative not in cat:
            errors.append(f"options.yaml: {o.code}: alternative {o.alternative} is not an option")
        for c in o.caveats:
            errors.extend(_need_text(kb, f"treatment.caveat.{c}", f"options.yaml: {o.code}"))
    for item, av in site.items.items():
        for s in av.sources:
            if s not in kb.bibliography:
                errors.append(f"site.yaml: {item} cites unknown source '{s}'")
    for t in kb.tables.values():
        if t.spec.step != "treatment":
            continue
        for r in t.rows:
            for code in option_codes(r.then):
                if code not in cat:
                    errors.append(f"{r.id}: option {code} is not in options.yaml")
            mdt = r.then.get("mdt")
            if mdt:
                errors.extend(_need_text(kb, f"treatment.mdt.{mdt}", r.id))
            cav = r.then.get("caveat")
            if cav:
                errors.extend(_need_text(kb, f"treatment.caveat.{cav}", r.id))
                for a in r.then.get("applies_to", []):
                    if not str(a).startswith("category:") and a not in cat:
                        errors.append(f"{r.id}: applies_to names unknown option {a}")
    return errors


def option_codes(then: dict[str, Any]) -> list[str]:
    out = []
    if isinstance(then.get("option"), str):
        out.append(then["option"])
    out.extend(then.get("also") or [])
    return out


def _need_text(kb: Knowledge, key: str, where: str) -> list[str]:
    return [
        f"{where}: no text '{key}' in {lang}"
        for lang in kb.catalog.languages
        if not kb.catalog.texts[lang].get(key)
    ]
