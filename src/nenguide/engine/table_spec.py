"""The file schema of a decision table (see :mod:`nenguide.engine.tables`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

HitPolicy = Literal["unique", "first", "collect", "priority"]
ContentStatus = Literal["confirmed", "unconfirmed"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InputDomain(_Strict):
    """Declared domain of one table input, used by the lint to check totality and overlap."""

    type: Literal["number", "enum", "bool"]
    min: float | None = None
    max: float | None = None
    values: list[Any] | None = None
    integer: bool = False
    description: str | None = None


class RowSpec(_Strict):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_.\-]*[A-Z0-9]$")
    when: dict[str, Any] = Field(default_factory=dict)
    when_text: str = Field(min_length=3)
    then: dict[str, Any]
    sources: list[str] = Field(min_length=1)
    status: ContentStatus = "confirmed"
    note: str | None = None


class TableSpec(_Strict):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_.\-]*[A-Z0-9]$")
    title: str
    step: str
    hit_policy: HitPolicy
    output: str = Field(description="Name of the primary output in every row's 'then'")
    inputs: dict[str, InputDomain]
    rows: list[RowSpec] = Field(min_length=1)
    coarse: dict[str, str] = Field(
        default_factory=dict,
        description="Output value -> coarser value reported when candidates share it",
    )
    parameters: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None
