"""Cases as Arrow columns, read from their JSON Lines: the first step of the columnar fact
layer (docs/decisions/0004-speed-targets-need-a-decision.md).

The full pathway's rate needs the fact layer computed over columns, without a per-case pass in
Python to gather each case's values. Arrow's JSON reader gathers them, in C++, at a few µs a
line (docs/benchmarks.md, session 16). It reads what a line says, though, while the steps must
see what the case model made of it. This module gives the reader a schema made from the model
(:func:`case_schema`) and says which lines it reads as the model does (:func:`arrow_ready`):

* a line the model accepts in **strict** mode (:func:`strict_case`) holds every value in the
  type the model keeps: ``"60"`` or ``60.0`` for an integer, ``"true"`` for a flag, which lax
  validation coerces, are refused there. (An integer for a float field is allowed; the reader
  makes it a float as the model does.)
* the model changes a few values even then, and :func:`flagged_rows` names the rows that
  hold one: a text with white space at either end, which the model strips; a date written as
  a Unix time, which strict mode also takes; a gene the reshaping upper-cases, written with a
  letter beyond ASCII. It also keeps a set without repeats and without order, so a set field
  (:attr:`CaseSchema.sets`) is a list in the columns, to be read as a set.
* a line may leave out what the model fills in: a list or mapping it makes empty
  (:attr:`CaseSchema.empty_when_absent`), a section it makes from its defaults
  (:attr:`CaseSchema.sub_models`), a default value (:attr:`CaseSchema.defaults`); the columns
  hold null there, and the schema says what the model made of it.
* what a column cannot hold as the model does is left out of the schema and named in
  :attr:`CaseSchema.per_case`: a value the model accepts in two JSON shapes, such as a range
  written ``"10-20"`` or ``{"ge": 10, "le": 20}`` (a model with a ``before`` validator), or a
  mapping whose keys are free text. A case that sets one of them is not :func:`arrow_ready`;
  it keeps the per-case path. The IHC markers are free text too, but the engine never reads
  them (:data:`UNREAD`): they are left out, and a case with them stays ready.

For the rows not flagged, the columns are then the model's values, field by field:
tests/batch/test_case_arrow.py holds them to ``model_dump`` on every vignette and on generated
and varied cases.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import io
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pj
from pydantic import BaseModel, ValidationError

from nenguide.model.case import Case

#: a scalar annotation's Arrow type (a StrEnum or a Literal of texts is text)
_SCALARS: dict[Any, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    # JSON has no date: the text. Strict mode takes YYYY-MM-DD, but a Unix time as text too
    # ("1704412800"): such a row is flagged (:func:`flagged_rows`)
    dt.date: pa.string(),
}
_SET_ORIGINS = (frozenset, set)
_LIST_ORIGINS = (list, tuple)


@dataclass(frozen=True)
class CaseSchema:
    """The reader's schema for a case model, and what it leaves to the per-case path."""

    schema: pa.Schema
    #: dotted paths (``[]``: each item of a list) of the fields left out of the schema
    per_case: tuple[str, ...]
    #: dotted paths of the set fields (a list in the columns, a set in the model)
    sets: tuple[str, ...]
    #: dotted paths of the text fields the model strips (not enums or literals)
    texts: tuple[str, ...]
    #: dotted paths of the date fields (a text in the columns)
    dates: tuple[str, ...]
    #: dotted paths of the list and mapping fields the model makes empty when a line leaves
    #: them out: null in the columns, empty in the model (where the default is ``None``, a
    #: missing list and an empty one differ: ``family_history`` ``[]`` states none)
    empty_when_absent: tuple[str, ...]
    #: dotted paths of the mappings with a fixed set of keys (an enum), read as a struct of a
    #: field per key: a key the line leaves out is null there, absent in the model
    mappings: tuple[str, ...]
    #: dotted paths of the sub-models the model makes from their defaults when a line leaves
    #: them out (``patient``, ``clinical``...): a null struct in the columns
    sub_models: tuple[str, ...]
    #: the other defaults a line may leave out (``schema_version``): path, value
    defaults: tuple[tuple[str, Any], ...]
    #: dotted paths of the fields left out because the engine never reads them
    #: (:data:`UNREAD`)
    unread: tuple[str, ...]


def _optional(tp: Any) -> Any:
    """``tp`` without ``None`` and ``Annotated``; the union itself if it has two other types."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(tp) if a is not type(None)]
        return _optional(rest[0]) if len(rest) == 1 else tp
    return tp


def _two_shapes(model: type[BaseModel]) -> bool:
    """Whether ``model`` also accepts another JSON shape than its object (a ``before``
    validator: a range as text, for example)."""
    decorators = model.__pydantic_decorators__.model_validators.values()
    return any(d.info.mode == "before" for d in decorators)


def _strips(model: type[BaseModel]) -> bool:
    return bool(model.model_config.get("str_strip_whitespace"))


def _arrow(tp: Any, path: str, strips: bool, out: dict[str, list[Any]]) -> pa.DataType | None:
    """The Arrow type of annotation ``tp`` at ``path``; ``None`` (and the path recorded in
    ``out["per_case"]``) when a column cannot hold it as the model does."""
    tp = _optional(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        out["per_case"].append(path)
        return None
    if origin is typing.Literal:
        if all(type(a) is str for a in args):
            return pa.string()
        out["per_case"].append(path)
        return None
    if origin in _SET_ORIGINS or origin in _LIST_ORIGINS:
        item = args[0]
        if origin is tuple and (len(args) != 2 or args[1] is not Ellipsis):
            out["per_case"].append(path)  # a fixed-length tuple
            return None
        inner = _arrow(item, f"{path}[]", strips, out)
        if inner is None:
            return None
        if origin in _SET_ORIGINS:
            out["sets"].append(path)
        return pa.list_(inner)
    if origin is dict:
        key, value = args
        if not (isinstance(key, type) and issubclass(key, enum.Enum)):
            out["per_case"].append(path)  # free-text keys: no fixed set of columns
            return None
        inner = _arrow(value, f"{path}.*", strips, out)
        if inner is None:
            return None
        out["mappings"].append(path)
        return pa.struct([pa.field(str(m.value), inner) for m in key])
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if _two_shapes(tp):
            out["per_case"].append(path)
            return None
        return _struct(tp, path, out)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        if all(type(m.value) is str for m in tp):
            return pa.string()
        out["per_case"].append(path)
        return None
    scalar = _SCALARS.get(tp)
    if scalar is None:
        out["per_case"].append(path)
        return None
    if tp is str and strips:
        out["texts"].append(path)
    if tp is dt.date:
        out["dates"].append(path)
    return scalar


def _struct(model: type[BaseModel], path: str, out: dict[str, list[Any]]) -> pa.StructType:
    fields = []
    for name, info in model.model_fields.items():
        where = f"{path}.{name}".lstrip(".")
        if where in out["unread"]:
            continue
        if info.alias is not None and info.alias != name:
            out["per_case"].append(where)  # a line names it otherwise
            continue
        t = _arrow(info.annotation, where, _strips(model), out)
        if t is not None:
            fields.append(pa.field(name, t))
            if _empty_default(info):
                out["empty_when_absent"].append(where)
            elif isinstance(info.default_factory, type) and issubclass(
                info.default_factory, BaseModel
            ):
                out["sub_models"].append(where)
            elif info.default_factory is None and _scalar_default(info.default):
                out["defaults"].append((where, info.default))
    return pa.struct(fields)


def _empty_default(info: Any) -> bool:
    factory = info.default_factory
    if factory is not None:
        return factory in (dict, list, tuple, frozenset)
    return isinstance(info.default, dict | list | tuple | frozenset) and not info.default


def _scalar_default(value: Any) -> bool:
    return value is not None and type(value) in _SCALARS


#: Fields of the case that no part of the engine reads (the fact layer, the steps), so the
#: columns need not hold them: the IHC markers, shown on the case form and in reports only.
#: tests/batch/test_case_arrow.py checks that the engine's modules never name them.
UNREAD = ("pathology.ihc",)


@cache
def case_schema(model: type[BaseModel] = Case, unread: tuple[str, ...] = UNREAD) -> CaseSchema:
    """The reader's schema for ``model`` (made once per model), without the ``unread``
    fields."""
    fields = [f.name for f in dataclasses.fields(CaseSchema) if f.name != "schema"]
    out: dict[str, list[Any]] = {name: [] for name in fields}
    out["unread"] = list(unread)
    struct = _struct(model, "", out)
    return CaseSchema(pa.schema(list(struct)), **{k: tuple(v) for k, v in out.items()})


def strict_case(line: str | bytes) -> Case | None:
    """The case of ``line`` as the model validates it in strict mode, or ``None`` if strict
    validation refuses it (the line may still be valid: it then keeps the per-case path)."""
    try:
        return Case.model_validate_json(line, strict=True)
    except ValidationError:
        return None


def _is_set(value: Any) -> bool:
    """Whether a field's value counts as given: not None, and not an empty mapping (a mapping
    field defaults to one) or an empty sequence (the default of a list field)."""
    if value is None:
        return False
    if isinstance(value, dict | tuple | list | frozenset):
        return len(value) > 0
    return True


def _set_at(obj: Any, parts: tuple[str, ...]) -> bool:
    """Whether a value at ``parts`` below ``obj`` is set (a part ending in ``[]``: any item
    of that list)."""
    for i, part in enumerate(parts):
        if obj is None:
            return False
        if part.endswith("[]"):
            rest = parts[i + 1 :]
            items = getattr(obj, part[:-2])
            return any(_set_at(item, rest) for item in items or ())
        obj = getattr(obj, part)
    return _is_set(obj)


@cache
def _paths(paths: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(p.split(".")) for p in paths)


@cache
def _keys(paths: tuple[str, ...]) -> tuple[str, ...]:
    """The JSON keys that name the fields at ``paths`` (the last part of each), quoted."""
    return tuple(sorted({'"' + p.rsplit(".", 1)[-1].removesuffix("[]") + '"' for p in paths}))


def arrow_ready(case: Case, schema: CaseSchema | None = None, line: str | None = None) -> bool:
    """Whether the reader's columns hold ``case`` (validated in strict mode from its line) as
    the model holds it: it sets none of the :attr:`CaseSchema.per_case` fields.

    With ``line`` (the case's line), a line that names none of those fields is ready without
    looking at the case: a field the case sets is named in its line, and a line without a
    backslash names every key as written (no escaped letter can hide one)."""
    if line is not None and line_ready(line, schema):
        return True
    s = schema or case_schema()
    return not any(_set_at(case, parts) for parts in _paths(s.per_case))


def line_ready(line: str, schema: CaseSchema | None = None) -> bool:
    """Whether ``line`` (a case's line, validated in strict mode) is :func:`arrow_ready` by
    itself: it has no backslash and names none of the fields a column cannot hold. ``False``
    says only that the case must be looked at (:func:`arrow_ready`)."""
    s = schema or case_schema()
    return "\\" not in line and not any(k in line for k in _keys(s.per_case))


def read_lines(lines: Sequence[str], schema: CaseSchema | None = None) -> pa.Table:
    """The cases of ``lines`` (each :func:`arrow_ready`) as one Arrow table, in order, by
    Arrow's JSON reader with the model's schema. Raises ``pyarrow.ArrowInvalid`` if a line does
    not fit it (a number beyond 64 bits, for example); the caller then takes the per-case
    path for those lines."""
    s = schema or case_schema()
    data = "\n".join(lines).encode()
    options = pj.ParseOptions(explicit_schema=s.schema, unexpected_field_behavior="ignore")
    # one block for the whole input, so that no line is cut at a block's end
    read = pj.ReadOptions(block_size=max(len(data) + 1, 1 << 20))
    return pj.read_json(io.BytesIO(data), read_options=read, parse_options=options)


#: white space at either end of a text: Unicode's White_Space (Rust's ``\s``, what the model's
#: stripping uses) and the four separators U+001C-U+001F that Python's ``str.isspace`` adds
_EDGE = r"^[\s\x1c-\x1f]|[\s\x1c-\x1f]$"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
#: texts the reshaping upper-cases (a relative's gene, compared with a gene's symbol)
UPPER_CASED = ("clinical.family_history[].pathogenic_variant_gene",)


def flagged_rows(cases: pl.DataFrame, schema: CaseSchema | None = None) -> pl.Series:
    """Per row of the case columns ``cases`` (:func:`read_lines`' table as a Polars frame):
    whether the columns hold one of its values otherwise than the
    model and the engine's reshaping do (such a row keeps the per-case path):

    * a text that starts or ends with white space, which the model strips;
    * a date not written YYYY-MM-DD (strict mode also takes a Unix time as text), which the
      model reads as a date;
    * an upper-cased text (:data:`UPPER_CASED`) with a letter beyond ASCII: Python's and
      Polars' upper case may follow different Unicode versions.
    """
    s = schema or case_schema()
    flags = [_any_text(path, lambda t: t.str.contains(_EDGE)) for path in s.texts]
    flags += [_any_text(path, lambda t: ~t.str.contains(_ISO_DATE)) for path in s.dates]
    flags += [
        _any_text(path, lambda t: t.str.contains(r"[^\x00-\x7f]"))
        for path in UPPER_CASED
        if path in s.texts
    ]
    if not flags:
        return pl.Series("flagged", [False] * cases.height)
    return cases.select(pl.any_horizontal(flags).fill_null(False).alias("flagged")).to_series()


def _any_text(path: str, test: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """Whether ``test`` holds for a text at ``path`` (through structs and lists), per row."""
    expr: pl.Expr | None = None
    in_list = False
    for part in path.split("."):
        name, many = part.removesuffix("[]"), part.endswith("[]")
        if expr is None:
            expr = pl.col(name)
        elif in_list:
            expr = expr.list.eval(pl.element().struct.field(name))
            if many:  # a list in each item: one list of all of them
                expr = expr.list.eval(pl.element().explode())
        else:
            expr = expr.struct.field(name)
        in_list = in_list or many
    assert expr is not None
    if in_list:
        return expr.list.eval(test(pl.element()).fill_null(False)).list.any()
    return test(expr).fill_null(False)


def list_items(cases: pl.DataFrame, items: pl.Expr) -> pl.DataFrame:
    """The items of a list column of the case columns, a row each: ``_row`` (the case's row),
    ``_pos`` (the item's position in its list) and the item's fields (a null or empty list
    gives no row)."""
    frame = cases.select(
        pl.int_range(cases.height, dtype=pl.Int64).alias("_row"), items.alias("_item")
    )
    # the rows the explosion gives each list: one an item, none for an empty list, one (null)
    # for a null list; an item's position is its row's offset from its list's first row
    # (a ``list.eval`` of ``int_range(len())`` was evaluated list by list: 55 against 10 ms
    # for four lists of 30 000 cases, session 22)
    n = frame.select(pl.col("_item").list.len().fill_null(1).cast(pl.Int64)).to_series()
    start = n.cum_sum() - n
    exploded = frame.explode("_item", empty_as_null=False, keep_nulls=True).with_row_index("_k")
    return (
        exploded.with_columns(
            (pl.col("_k").cast(pl.Int64) - start.gather(exploded["_row"])).alias("_pos")
        )
        .select("_row", "_item", "_pos")
        .drop_nulls("_item")
        .unnest("_item")
    )
