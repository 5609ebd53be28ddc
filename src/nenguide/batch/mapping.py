"""Column mapping: how a registry's table (column names, local codes, ICD-O-3 codes, units)
becomes cases of the case model. The format is documented in ``docs/batch.md``.

Rules that keep the clinical safety rules:

* an empty cell or a value listed under ``missing`` leaves the field out (unknown), never a
  default;
* a value that is not in the field's ``values`` map or code table rejects the row, naming the
  column, the value and what the mapping allows; nothing is guessed;
* a unit is converted with pint (e.g. ``mm`` to the field's ``cm``); an unknown unit is an error
  in the mapping file, found when it is loaded.

Without a mapping file a table's columns are read as dotted case paths (``tumour.primary_site``,
``pathology.ki67_percent``, ``care.year``...), and a JSON Lines record is a case (or an envelope
``{"id": ..., "case": {...}, "care": {...}}``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nenguide.model.case import Case

#: a number as a table's cell writes it (a CSV cell is text): decimal, optional sign/exponent
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


@lru_cache(maxsize=1)
def number_paths() -> MappingProxyType[str, bool]:
    """The case model's number fields, as dotted paths (a list's items as ``[]``: ``clinical.
    labs[].value``), each with whether it holds a whole number. The model takes numbers only
    as numbers (``model/numbers.py``), so a table's text cell is read as one here first."""
    out: dict[str, bool] = {}

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            tp = info.annotation
            for arg in _flat(tp):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    walk(arg, f"{prefix}{name}.")
                elif get_origin(arg) in (list, tuple):
                    for item in get_args(arg):
                        if isinstance(item, type) and issubclass(item, BaseModel):
                            walk(item, f"{prefix}{name}[].")
                elif arg in (int, float):
                    out[f"{prefix}{name}"] = arg is int

    walk(Case, "")
    return MappingProxyType(out)  # shared by every call: read-only


def _flat(tp: Any) -> list[Any]:
    """The types a field's annotation can hold (``Optional``/``Annotated`` unwrapped)."""
    if get_origin(tp) is Annotated:
        return _flat(get_args(tp)[0])
    if get_origin(tp) in (Union, UnionType):
        return [t for a in get_args(tp) for t in _flat(a)]
    return [tp]


def typed_numbers(case: Any, prefix: str = "") -> Any:
    """``case`` (a mapped table row) with each number field's text read as a number (``"2.5"``
    -> 2.5, ``"12"`` -> 12) and a whole float in a whole-number field as that integer (``1.0``
    -> 1: a table's integer column with gaps is stored as floats); text that is no number,
    and a fraction in a whole-number field, stay, and the model names them."""
    paths = number_paths()
    if isinstance(case, dict):
        out = {}
        for k, v in case.items():
            path = f"{prefix}{k}"
            if isinstance(v, str) and path in paths and _NUMBER.match(v.strip()):
                text = v.strip()
                number = float(text)
                whole = paths[path] or not any(c in text for c in ".eE")
                out[k] = int(number) if whole and number.is_integer() else number
            elif type(v) is float and paths.get(path) and v.is_integer():
                out[k] = int(v)  # a whole number in a float column (a column with gaps)
            else:
                out[k] = typed_numbers(v, f"{path}.")
        return out
    if isinstance(case, list):
        return [typed_numbers(v, prefix[:-1] + "[].") for v in case]
    return case


#: Fields with a unit, and the unit the case model stores them in.
FIELD_UNITS = {
    "tumour.size_cm": "cm",
    "metastases.liver.largest_cm": "cm",
    "regional_nodes.mesenteric_mass_cm": "cm",
    "pathology.ki67_percent": "percent",
    "clinical.egfr_ml_min": "mL/min",
}


class MappingError(Exception):
    """The mapping file itself is wrong (message names the entry)."""


class RowError(Exception):
    """One row cannot be mapped; ``column`` and ``field`` say where."""

    def __init__(self, field_path: str, column: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field_path
        self.column = column
        self.message = message


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMap(_M):
    column: str = Field(description="Source column")
    values: dict[str, Any] | None = Field(
        default=None, description="Local value -> case-model value (unlisted values reject)"
    )
    codes: Literal["icdo3_topography", "icdo3_morphology"] | None = None
    unit: str | None = Field(default=None, description="Unit of the source column")
    separator: str | None = Field(default=None, description="List fields: separator in a cell")
    missing: list[str] = Field(default_factory=list, description="Values meaning 'unknown'")

    @model_validator(mode="after")
    def _one_kind(self) -> FieldMap:
        if self.values is not None and self.codes is not None:
            raise ValueError("give either 'values' or 'codes', not both")
        return self


class LabMap(_M):
    analyte: str
    column: str
    unit: str | None = None
    unit_column: str | None = None
    reference_high: float | None = None
    reference_high_column: str | None = None
    date_column: str | None = None

    @model_validator(mode="after")
    def _unit(self) -> LabMap:
        if (self.unit is None) == (self.unit_column is None):
            raise ValueError("give exactly one of 'unit' or 'unit_column'")
        return self


class MappingFile(_M):
    format_version: Literal[1] = 1
    id_column: str | None = Field(default=None, description="Echoed as the output's id column")
    missing: list[str] = Field(default_factory=list, description="Values meaning 'unknown'")
    fields: dict[str, FieldMap] = Field(default_factory=dict)
    labs: list[LabMap] = Field(default_factory=list)
    constants: dict[str, Any] = Field(default_factory=dict)
    care: dict[str, FieldMap] = Field(default_factory=dict)


@lru_cache(maxsize=1)
def icdo3() -> dict[str, Any]:
    text = resources.files("nenguide.batch").joinpath("data/icdo3.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


_TOPO = re.compile(r"^C(\d{2})\.?(\d)?$")
_MORPH = re.compile(r"^(\d{4})(?:/?(\d))?$")


def topography(code: str) -> str:
    """ICD-O-3 topography code -> ``tumour.primary_site``; raises ``ValueError`` with why not."""
    m = _TOPO.match(code.strip().upper())
    if not m:
        raise ValueError(f"'{code}' is not an ICD-O-3 topography code (e.g. C25.1)")
    full = f"C{m.group(1)}.{m.group(2)}" if m.group(2) else f"C{m.group(1)}"
    data = icdo3()
    if full in data["not_mapped_topography"]:
        raise ValueError(f"{full}: {data['not_mapped_topography'][full]}")
    table = data["topography"]
    for key in (full, f"C{m.group(1)}"):
        if key in table:
            return str(table[key])
    raise ValueError(f"ICD-O-3 topography {full} is not a site nenguide maps; map it in values")


def morphology(code: str) -> dict[str, str]:
    """ICD-O-3 morphology code (``8246/3``, ``82463``, ``8246``) -> pathology fields."""
    m = _MORPH.match(code.strip().replace(" ", ""))
    if not m:
        raise ValueError(f"'{code}' is not an ICD-O-3 morphology code (e.g. 8246/3)")
    base, behaviour = m.group(1), m.group(2)
    if behaviour not in (None, "3", "1"):
        raise ValueError(f"{code}: behaviour /{behaviour} is not a neuroendocrine neoplasm")
    data = icdo3()
    if base in data["not_mapped_morphology"]:
        raise ValueError(f"{base}: {data['not_mapped_morphology'][base]}")
    if base not in data["morphology"]:
        raise ValueError(f"ICD-O-3 morphology {base} is not a neuroendocrine code nenguide maps")
    return dict(data["morphology"][base])


def load_mapping(path: Path) -> MappingFile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"cannot read mapping {path}: {exc}") from None
    try:
        mp = MappingFile.model_validate(data or {})
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise MappingError(f"invalid mapping {path}:\n  " + "\n  ".join(lines)) from None
    for name, fm in mp.fields.items():
        if fm.unit is not None:
            target = FIELD_UNITS.get(name)
            if target is None:
                raise MappingError(f"fields.{name}: this field has no unit; remove 'unit'")
            try:
                _convert(1.0, fm.unit, target)
            except ValueError as exc:
                raise MappingError(f"fields.{name}.unit: {exc}") from None
    return mp


def _convert(value: float, unit: str, target: str) -> float:
    from nenguide.units.quantities import registry

    ureg = registry()
    try:
        q = ureg.Quantity(value, unit if unit not in ("%",) else "percent")
        return float(q.to(target).magnitude)
    except Exception as exc:  # pint raises several kinds: all mean "not convertible"
        raise ValueError(f"'{unit}' cannot be converted to {target}: {exc}") from None


@dataclass
class Mapped:
    """One input row mapped: the case data (to validate), delivered care, the id."""

    case: dict[str, Any]
    care: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


def _blank(v: Any, missing: list[str]) -> bool:
    return v is None or (isinstance(v, str) and (v.strip() == "" or v.strip() in missing))


def _set(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for p in parts[:-1]:
        nxt = target.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise RowError(path, None, f"{p} is set both as a value and as an object")
        target = nxt
    target[parts[-1]] = value


class Mapper:
    """Maps rows (dicts of column -> cell) to :class:`Mapped` cases."""

    def __init__(self, mapping: MappingFile | None = None) -> None:
        self.mapping = mapping

    @property
    def id_column(self) -> str | None:
        return self.mapping.id_column if self.mapping else None

    def map_record(self, record: Any) -> Mapped:
        """A JSON Lines record: a case, or an envelope with ``case`` (and ``care``, ``id``)."""
        if self.mapping is not None and isinstance(record, dict) and "case" not in record:
            return self.map_row(record)
        if not isinstance(record, dict):
            raise RowError("(case)", None, "the line is not a JSON object")
        if "case" in record and isinstance(record["case"], dict):
            care = record.get("care") or {}
            if not isinstance(care, dict):
                raise RowError("care", None, "care must be an object")
            rid = record.get("id")
            return Mapped(record["case"], dict(care), None if rid is None else str(rid))
        return Mapped(record)

    def map_row(self, row: dict[str, Any]) -> Mapped:
        mp = self.mapping
        if mp is None:
            return self._identity(row)
        if not (mp.fields or mp.labs or mp.constants):
            # only an id column (and care): the columns are case paths or a JSON 'case' column
            ident = self._identity({k: v for k, v in row.items() if k != mp.id_column})
            rid = row.get(mp.id_column) if mp.id_column else None
            if rid is not None:
                ident.id = str(rid)
            for name, fm in mp.care.items():
                self._apply(ident.care, name, fm, row, mp.missing)
            return ident
        case: dict[str, Any] = {}
        for path, value in mp.constants.items():
            _set(case, path, value)
        for path, fm in mp.fields.items():
            self._apply(case, path, fm, row, mp.missing)
        labs = [lab for lm in mp.labs if (lab := self._lab(lm, row, mp.missing)) is not None]
        if labs:
            _set(case, "clinical.labs", labs)
        care: dict[str, Any] = {}
        for name, fm in mp.care.items():
            self._apply(care, name, fm, row, mp.missing)
        rid = row.get(mp.id_column) if mp.id_column else None
        return Mapped(typed_numbers(case), care, None if rid is None else str(rid))

    def _identity(self, row: dict[str, Any]) -> Mapped:
        if "case" in row and isinstance(row["case"], str):
            try:
                return self.map_record(json.loads(row["case"]))
            except json.JSONDecodeError as exc:
                raise RowError("(case)", "case", f"column 'case' is not JSON: {exc.msg}") from None
        case: dict[str, Any] = {}
        care: dict[str, Any] = {}
        for col, v in row.items():
            if _blank(v, []):
                continue
            if col.startswith("care."):
                care[col.removeprefix("care.")] = v
            else:
                _set(case, col, v)
        return Mapped(typed_numbers(case), care, None)

    def _apply(
        self,
        target: dict[str, Any],
        path: str,
        fm: FieldMap,
        row: dict[str, Any],
        missing: list[str],
    ) -> None:
        if fm.column not in row:
            raise RowError(path, fm.column, f"column '{fm.column}' is not in the input")
        raw = row[fm.column]
        if _blank(raw, missing + fm.missing):
            return
        if fm.separator is not None:
            items = [s.strip() for s in str(raw).split(fm.separator) if s.strip()]
            _set(target, path, [self._one(path, fm, s) for s in items])
            return
        value = self._one(path, fm, raw)
        if fm.codes == "icdo3_morphology" and isinstance(value, dict):
            for k, v in value.items():
                _set(target, f"{path}.{k}" if path != "pathology" else f"pathology.{k}", v)
            return
        _set(target, path, value)

    def _one(self, path: str, fm: FieldMap, raw: Any) -> Any:
        key = str(raw).strip()
        if fm.values is not None:
            if key in fm.values:
                return fm.values[key]
            allowed = ", ".join(sorted(fm.values))
            raise RowError(
                path, fm.column, f"value '{key}' is not in the mapping (allowed: {allowed})"
            )
        if fm.codes == "icdo3_topography":
            try:
                return topography(key)
            except ValueError as exc:
                raise RowError(path, fm.column, str(exc)) from None
        if fm.codes == "icdo3_morphology":
            try:
                return morphology(key)
            except ValueError as exc:
                raise RowError(path, fm.column, str(exc)) from None
        if fm.unit is not None:
            try:
                number = float(key)
            except ValueError:
                raise RowError(path, fm.column, f"'{key}' is not a number") from None
            return round(_convert(number, fm.unit, FIELD_UNITS[path]), 6)
        return raw

    def _lab(self, lm: LabMap, row: dict[str, Any], missing: list[str]) -> dict[str, Any] | None:
        for col in (lm.column, lm.unit_column, lm.reference_high_column, lm.date_column):
            if col is not None and col not in row:
                raise RowError(
                    f"clinical.labs[{lm.analyte}]", col, f"column '{col}' is not in the input"
                )
        value = row[lm.column]
        if _blank(value, missing):
            return None
        lab: dict[str, Any] = {"analyte": lm.analyte, "value": value}
        unit = lm.unit if lm.unit is not None else row[lm.unit_column or ""]
        if _blank(unit, missing):
            raise RowError(f"clinical.labs[{lm.analyte}]", lm.unit_column, "the result has no unit")
        lab["unit"] = unit
        ref = lm.reference_high
        if lm.reference_high_column is not None and not _blank(
            row[lm.reference_high_column], missing
        ):
            ref = row[lm.reference_high_column]
        if ref is not None:
            lab["reference_high"] = ref
        if lm.date_column is not None and not _blank(row[lm.date_column], missing):
            lab["date"] = str(row[lm.date_column])
        return lab
