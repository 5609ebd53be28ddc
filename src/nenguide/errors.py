"""Input errors that read like help: every error names the field path, the value received and
what is allowed. Shared by the CLI and the HTTP API so both say the same thing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from nenguide import limits
from nenguide.model.case import SUBPATH, Case

__all__ = ["CaseInputError", "FieldError", "field_errors", "load_case_file", "parse_case"]


@dataclass(frozen=True)
class FieldError:
    path: str  # dotted path in the case, e.g. "pathology.ki67_percent"
    message: str
    received: Any
    allowed: str | None
    code: str
    #: the parameters of the message (limits, choices): with ``code`` they word the error in
    #: another language (nenguide.error_texts); not part of the JSON shape
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def localised(self, lang: str | None, *, with_label: bool = True) -> FieldError:
        from nenguide.error_texts import localise

        return localise(self, lang, with_label=with_label)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "message": self.message,
            "received": self.received,
            "allowed": self.allowed,
            "code": self.code,
        }


class CaseInputError(Exception):
    """The case could not be read or is not valid; ``errors`` says where and why."""

    def __init__(
        self,
        summary: str,
        errors: list[FieldError],
        key: str | None = None,
        params: Mapping[str, Any] | None = None,
    ):
        super().__init__(summary)
        self.summary = summary
        self.errors = errors
        #: text key and parameters of the summary (``summary.<key>`` in the error texts)
        self.key = key
        self.params = dict(params or {})

    def localised(self, lang: str | None) -> CaseInputError:
        """This error worded in ``lang`` (en, zh-CN)."""
        from nenguide.error_texts import localise_error

        return localise_error(self, lang)


_ALLOWED_BY_TYPE = {
    "greater_than": "a number greater than {gt}",
    "greater_than_equal": "a number greater than or equal to {ge}",
    "less_than": "a number less than {lt}",
    "less_than_equal": "a number less than or equal to {le}",
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text",
    "string_too_long": "text of at most {max_length} characters",
    "extra_forbidden": "no such field: check the spelling against 'nenguide schema case'",
    "missing": "this field is required",
    "literal_error": "one of: {expected}",
    "enum": "one of: {expected}",
    "date_from_datetime_parsing": "a date such as 2024-05-31",
    "date_parsing": "a date such as 2024-05-31",
    "model_type": "an object (mapping of field names to values)",
    "model_attributes_type": "an object (mapping of field names to values)",
    "dict_type": "an object (mapping)",
    "list_type": "a list",
    "tuple_type": "a list",
    "frozen_set_type": "a list of distinct values",
    "set_type": "a list of distinct values",
    "finite_number": "a finite number",
    "extent_for_site": "one of: {allowed}",
    "extent_not_used": "no extent for this site",
    "lung_only": "only for primary_site 'lung'",
    "reported_pt_for_site": "one of: {allowed}",
    "reported_pt_not_used": "no reported_pt for this site",
    "venous_thrombus_pancreas": "only for primary_site 'pancreas'",
    "positive_exceeds_examined": "at most the number examined ({examined})",
    "components_total": "percentages adding up to at most 100",
    "bounds_text": "text such as '10-15', '<2', '>90' or an object with gt/ge and lt/le",
    "bounds_empty": "one lower bound (gt or ge) and/or one upper bound (lt or le)",
    "bounds_order": "a lower bound below the upper bound",
    "bounds_limits": "bounds from {minimum} to {maximum}",
    "value_or_range": "exactly one of value (count) and range",
    "mitoses_basis": "exactly one of hpf and area_mm2",
    "mitoses_field": "at most one of field_area_mm2 and field_diameter_mm, with hpf",
    "lab_form": "exactly one of value, interpretation, times_uln",
}


def _path(loc: tuple[Any, ...], ctx: dict[str, Any] | None) -> str:
    parts = [str(p) for p in loc]
    if ctx and ctx.get(SUBPATH):
        parts.append(str(ctx[SUBPATH]))
    return ".".join(parts) or "(case)"


def field_errors(exc: ValidationError) -> list[FieldError]:
    out = []
    for e in exc.errors(include_url=False):
        ctx = e.get("ctx") or {}
        template = _ALLOWED_BY_TYPE.get(e["type"])
        allowed: str | None = None
        if template:
            try:
                allowed = template.format(**ctx)
            except (KeyError, IndexError):
                allowed = template
        received = e.get("input")
        if e["type"] == "missing":
            received = None
        elif isinstance(received, dict):
            received = "{…}"
        out.append(
            FieldError(
                path=_path(tuple(e["loc"]), ctx),
                message=str(e["msg"]).removeprefix("Value error, "),
                received=_jsonable(received),
                allowed=allowed,
                code=e["type"],
                params={
                    k: v
                    for k, v in ctx.items()
                    if isinstance(v, (int, float, str)) and k != SUBPATH
                },
            )
        )
    return out


def _jsonable(v: Any) -> Any:
    try:
        json.dumps(v)
        return v
    except (TypeError, ValueError):
        return repr(v)


def parse_case(data: Any) -> Case:
    """Validate already-parsed data (a mapping) as a :class:`Case`."""
    if not isinstance(data, dict):
        raise CaseInputError(
            "the case must be an object (mapping of field names to values)",
            [
                FieldError(
                    "(case)",
                    "not an object",
                    _jsonable(data),
                    "an object with at least 'tumour.primary_site'",
                    "model_type",
                    {"allowed_key": "not_object"},
                )
            ],
            "not_object",
        )
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        errs = field_errors(exc)
        raise CaseInputError(
            f"{len(errs)} invalid field(s) in the case", errs, "fields", {"n": len(errs)}
        ) from None
    return labs_checked(case)


def labs_checked(case: Case) -> Case:
    """``case`` (validated by the model) once its lab results are checked against the analyte
    catalogue of the knowledge package; :class:`CaseInputError` naming each bad result."""
    if case.clinical.labs:
        # units and analytes are checked against the analyte catalogue of the knowledge package
        from nenguide.knowledge import load
        from nenguide.units import check_labs

        cat = load().analytes
        lab_errors = check_labs(case.clinical.labs, cat)
        if lab_errors:
            errs = [
                FieldError(
                    e.path,
                    e.message,
                    _jsonable(e.received),
                    e.allowed,
                    e.code,
                    _lab_params(e, case.clinical.labs, cat),
                )
                for e in lab_errors
            ]
            raise CaseInputError(
                f"{len(errs)} invalid lab result(s) in the case", errs, "labs", {"n": len(errs)}
            )
    return case


def _lab_params(e: Any, labs: Any, cat: Any) -> dict[str, Any]:
    """The parameters that word a lab error in another language (analyte name, units)."""
    try:
        lab = labs[int(e.path.split(".")[2])]
    except (IndexError, ValueError):
        return {}
    a = cat.get(lab.analyte)
    if a is None:
        return {"codes": ", ".join(sorted(cat.analytes))}
    out: dict[str, Any] = {
        "unit": lab.unit,
        "analyte": a.names.zh_CN,
        "canonical": a.canonical_unit,
        "examples": ", ".join(a.examples),
    }
    if e.code == "lab_unit" and a.kind != "quantity":
        out["allowed_key"] = f"lab_unit_{'ph' if a.kind == 'ph' else 'qualitative'}"
    if e.code == "lab_value":
        out["allowed_key"] = f"lab_value_{'ph' if a.kind == 'ph' else 'qualitative'}"
    return out


def load_case_file(path: Path) -> Case:
    """Read a case from a JSON or YAML file (by content; ``-`` is not handled here)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaseInputError(f"no such file: {path}", [], "no_file", {"path": str(path)}) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseInputError(
            f"cannot read {path}: {exc}", [], "unreadable", {"path": str(path)}
        ) from None
    return parse_case_text(text, str(path))


def parse_case_text(text: str, label: str = "input") -> Case:
    from nenguide import bounded_yaml

    try:
        if len(text) > limits.MAX_CASE_BYTES:
            raise bounded_yaml.InputTooComplex(f"larger than {limits.MAX_CASE_BYTES // 1024} KiB")
        data = (
            json.loads(text, object_pairs_hook=limits.unique_keys)
            if text.lstrip().startswith("{")
            else bounded_yaml.load(text)
        )
    except limits.DuplicateKey as exc:
        raise CaseInputError(
            f"{label} gives the key {exc.key!r} twice in one object: which value is meant is "
            "unknown",
            [],
            "duplicate_key",
            {"label": label, "name": exc.key},
        ) from None
    except (bounded_yaml.InputTooComplex, RecursionError) as exc:
        why = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise CaseInputError(
            f"{label} is too complex to read: {why}",
            [],
            "too_complex",
            {"label": label, "why": why},
        ) from None
    except json.JSONDecodeError as exc:
        msg = json_message(exc)
        raise CaseInputError(
            f"{label} is not valid JSON: {msg} at line {exc.lineno}, column {exc.colno}",
            [],
            "json",
            {"label": label, "msg": msg, "line": exc.lineno, "col": exc.colno},
        ) from None
    except yaml.YAMLError as exc:
        where = ""
        params: dict[str, Any] = {"label": label, "msg": str(exc), "where": ""}
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
            params["line"], params["col"] = mark.line + 1, mark.column + 1
        raise CaseInputError(
            f"{label} is not valid YAML{where}: {exc}", [], "yaml", params
        ) from None
    except ValueError as exc:
        if "digits" not in str(exc):  # only Python's bound on an integer's digits is expected
            raise
        raise CaseInputError(
            f"{label} holds {limits.LONG_NUMBER}", [], "long_number", {"label": label}
        ) from None
    return parse_case(data)


def json_message(exc: json.JSONDecodeError) -> str:
    """The JSON error's message, to be followed by where it is: some of Python's messages end
    in "at" already ("Invalid control character at"), which would read "at at line ..."."""
    return exc.msg.removesuffix(" at")
