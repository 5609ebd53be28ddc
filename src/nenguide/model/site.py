"""Site parameters: what a hospital has (drugs, tracers, PRRT) and its local settings.

The knowledge package declares defaults (``knowledge/<guideline>/site.yaml``); a hospital file
overrides any of them. Every field here is optional: ``None`` (or an item not listed) means "use
the package default", so ``SiteParameters()`` is exactly the package defaults. The parameter set
actually used is recorded in the assessment trace (step ``treatment``).

Hospital file (YAML), for example::

    name: Hospital X
    items:
      surufatinib: {available: false, note: not approved here}
      lu177_dotatate: {available: true, reimbursed: true}
      prrt_centre: {available: true}
    prrt_krenning_min: 2
    nfpnet_small_default: surveillance
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nenguide.model.numbers import STRICT


class Availability(BaseModel):
    """Availability of one drug, tracer or service at the site."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    available: bool | None = Field(
        default=None, description="true / false; null: not known for this site"
    )
    reimbursed: bool | None = Field(default=None, description="Covered by insurance (NRDL)")
    note: str | None = None
    sources: tuple[str, ...] = ()


class SiteParameters(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, description="Name of this parameter set")
    items: dict[str, Availability] = Field(
        default_factory=dict,
        description="Drug / tracer / service code -> availability (e.g. surufatinib, prrt_centre)",
    )
    unavailable: frozenset[str] = Field(
        default=frozenset(),
        description="Shorthand: item codes (as in items) not available at this site",
    )
    prrt_krenning_min: Annotated[int, STRICT, Field(ge=1, le=4)] | None = Field(
        default=None, description="Minimum Krenning (SSTR uptake) score for PRRT"
    )
    nfpnet_boundary_cm: Annotated[float, STRICT, Field(gt=0, le=10)] | None = Field(
        default=None, description="Small non-functional pNET: size boundary in cm"
    )
    nfpnet_boundary_inclusive: bool | None = Field(
        default=None, description="A tumour exactly at the boundary counts as small"
    )
    nfpnet_small_default: Literal["surveillance", "surgery"] | None = Field(
        default=None, description="Default branch for a small non-functional pNET"
    )

    def over(self, defaults: SiteParameters) -> SiteParameters:
        """These parameters laid over ``defaults``: set fields win, items merge per code."""
        items = dict(defaults.items)
        items.update(self.items)
        data: dict[str, Any] = defaults.model_dump()
        for k in self.model_fields_set - {"items", "unavailable"}:
            v = getattr(self, k)
            if v is not None:
                data[k] = v
        data["items"] = items
        data["unavailable"] = defaults.unavailable | self.unavailable
        if self.name is None:
            data["name"] = defaults.name
        elif defaults.name and self.name != defaults.name:
            data["name"] = f"{self.name} (over {defaults.name})"
        return SiteParameters.model_validate(data)

    def availability(self, item: str) -> bool | None:
        """True / False, or None when the site does not know (or the item is not listed)."""
        if item in self.unavailable:
            return False
        a = self.items.get(item)
        return None if a is None else a.available


class SiteFileError(ValueError):
    """A site parameter file cannot be read or does not match the schema."""


def site_from_data(data: Any, label: str = "site parameters") -> SiteParameters:
    if data is None:
        return SiteParameters()
    if not isinstance(data, dict):
        raise SiteFileError(f"{label}: must be a mapping")
    try:
        return SiteParameters.model_validate(data)
    except ValidationError as exc:
        lines = [f"{label}: does not match the site-parameter schema:"]
        for e in exc.errors():
            loc = ".".join(str(x) for x in e["loc"])
            lines.append(f"  {loc}: {e['msg']}")
        raise SiteFileError("\n".join(lines)) from exc


def load_site_file(path: str | Path) -> SiteParameters:
    """Read a hospital's site-parameter override file (YAML or JSON)."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SiteFileError(f"{p}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SiteFileError(f"{p}: not valid YAML: {exc}") from exc
    return site_from_data(data, str(p))
