"""The case form: built from the case model's JSON schema, so every field of the model is on it.

Fields are grouped as a clinician thinks (``SECTIONS``). A form round-trips through a flat
mapping of dotted paths (``pathology.ki67_percent``, ``clinical.labs.0.unit``) to the strings
typed, so a draft that fails validation is shown again exactly as typed, with each error in
the page language beside its field and a "did you mean" for mistyped choices.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from nenguide.errors import CaseInputError, parse_case
from nenguide.model.case import SUBPATH, Case
from nenguide.report.texts import Texts

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("patient", ("patient", "case_id")),
    ("pathology", ("pathology",)),
    ("tumour", ("tumour", "staging_basis")),
    ("nodes_mets", ("regional_nodes", "metastases")),
    ("labs", ("clinical.labs", "clinical.egfr_ml_min")),
    ("symptoms", ("clinical.symptoms",)),
    ("investigations", ("clinical.investigations",)),
    ("history", ("clinical.history",)),
    ("family", ("clinical.family_history", "clinical.germline")),
    (
        "therapy",
        ("clinical.resection", "clinical.primary_resectability", "clinical.prior_therapies"),
    ),
)
#: Section of each top-level path, for linking an issue's field to its place on the form.
SECTION_OF = {p: sid for sid, paths in SECTIONS for p in paths}
_SELECT_MAX = 8  # more choices than this: a text box with suggestions (typing is faster)
_PATTERN_CHOICES = re.compile(r"^\^\((?P<alts>[a-z_|]+)\)\$$")


@dataclass
class Msg:
    text: str
    received: str | None = None
    allowed: str | None = None
    suggestion: str | None = None


@dataclass
class Field:
    path: str
    kind: str  # enum, bool, number, integer, text, date, enum_list, text_list, object, rows,
    #            flags, pairs
    label: str
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: str = ""
    values: list[str] = field(default_factory=list)
    required: bool = False
    datalist: bool = False
    children: list[Field] = field(default_factory=list)
    rows: list[list[Field]] = field(default_factory=list)
    error: Msg | None = None
    errors_below: int = 0
    #: for a list where "none" differs from "not recorded" (prior therapies, family history)
    nullable_list: bool = False
    explicit_none: bool = False

    @property
    def dom_id(self) -> str:
        return "f-" + self.path.replace(".", "-")


@dataclass
class Section:
    id: str
    label: str
    fields: list[Field]
    errors: int = 0


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return Case.model_json_schema()


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    defs = _schema()["$defs"]
    if "$ref" in node:
        return _resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
    if "anyOf" in node:
        for alt in node["anyOf"]:
            if alt.get("type") != "null":
                return _resolve(alt)
    if "allOf" in node and len(node["allOf"]) == 1:
        return _resolve(node["allOf"][0])
    return node


def _node_at(path: str) -> tuple[dict[str, Any], bool]:
    """Schema of a top-level path such as ``clinical.labs``, and whether it is required."""
    node = _schema()
    required = False
    for part in path.split("."):
        node = _resolve(node)
        required = part in node.get("required", [])
        node = node["properties"][part]
    return node, required


def _kind(node: dict[str, Any]) -> str:
    n = _resolve(node)
    if "enum" in n:
        return "enum"
    t = n.get("type")
    if t == "boolean":
        return "bool"
    if t in ("number", "integer"):
        return str(t)
    if t == "string":
        if n.get("format") == "date":
            return "date"
        if _PATTERN_CHOICES.match(n.get("pattern", "")):
            return "enum"
        return "text"
    if t == "array":
        items = _resolve(n.get("items", {}))
        if "enum" in items:
            return "enum_list"
        if items.get("type") == "object":
            return "rows"
        return "text_list"
    if t == "object":
        if "properties" in n:
            return "object"
        extra = n.get("additionalProperties")
        if isinstance(extra, dict) and _resolve(extra).get("type") == "boolean":
            return "flags"
        return "pairs"
    return "text"


def _nullable(node: dict[str, Any]) -> bool:
    return any(alt.get("type") == "null" for alt in node.get("anyOf", []))


def _choices_of(node: dict[str, Any]) -> list[str]:
    n = _resolve(node)
    if "enum" in n:
        return [str(v) for v in n["enum"]]
    m = _PATTERN_CHOICES.match(n.get("pattern", ""))
    return m.group("alts").split("|") if m else []


def analyte_name(analyte: Any, lang: str) -> str:
    names = analyte.names
    name = names.zh_CN if lang == "zh-CN" else names.en
    return str(name or names.en)


class FormBuilder:
    """Builds the fields of one form from flat ``values`` (path -> typed strings)."""

    def __init__(self, tx: Texts, values: dict[str, list[str]], analytes: Any = None):
        self.tx = tx
        self.values = values
        self.analytes = analytes

    def _v(self, path: str) -> str:
        vals = self.values.get(path)
        return vals[0] if vals else ""

    def _labelled(self, codes: list[str]) -> list[tuple[str, str]]:
        return [(c, self.tx.value(c)) for c in codes]

    def build(self, path: str, node: dict[str, Any], required: bool = False) -> Field:
        kind = _kind(node)
        n = _resolve(node)
        f = Field(path=path, kind=kind, label=self.tx.field(path), required=required)
        bare = re.sub(r"\.\d+(?=\.|$)", "", path)
        if bare == "clinical.labs.analyte" and self.analytes is not None:
            kind = f.kind = "enum"
            f.choices = [
                (code, analyte_name(a, self.tx.lang))
                for code, a in sorted(self.analytes.analytes.items())
            ]
            f.datalist = True
        if kind == "enum" and not f.choices:
            f.choices = self._labelled(_choices_of(n))
            f.datalist = len(f.choices) > _SELECT_MAX
        if kind in ("enum", "bool", "number", "integer", "text", "date"):
            f.value = self._v(path)
        elif kind == "enum_list":
            f.choices = self._labelled(_choices_of(n["items"]))
            f.values = self.values.get(path, [])
        elif kind == "text_list":
            f.value = ", ".join(self.values.get(path, []))
        elif kind == "object":
            req = set(n.get("required", []))
            f.children = [
                self.build(f"{path}.{k}", sub, k in req) for k, sub in n["properties"].items()
            ]
        elif kind == "rows":
            f.nullable_list = _nullable(node)
            f.explicit_none = self._v(f"_none.{path}") == "yes"
            item = _resolve(n["items"])
            req = set(item.get("required", []))
            count = self._row_count(path)
            f.rows = [
                [
                    self.build(f"{path}.{i}.{k}", sub, k in req)
                    for k, sub in item["properties"].items()
                ]
                for i in range(count)
            ]
        elif kind == "flags":
            f.choices = self._labelled(_choices_of(n["propertyNames"]))
            f.children = [
                Field(path=f"{path}.{c}", kind="bool", label=lbl, value=self._v(f"{path}.{c}"))
                for c, lbl in f.choices
            ]
        elif kind == "pairs":
            results = self._labelled(_choices_of(n["additionalProperties"]))
            count = self._row_count(path)
            for i in range(count):
                f.rows.append(
                    [
                        Field(
                            path=f"{path}.{i}.marker",
                            kind="text",
                            label=self.tx.field(f"{path}.marker"),
                            value=self._v(f"{path}.{i}.marker"),
                        ),
                        Field(
                            path=f"{path}.{i}.result",
                            kind="enum",
                            label=self.tx.field(f"{path}.result"),
                            choices=results,
                            value=self._v(f"{path}.{i}.result"),
                        ),
                    ]
                )
        return f

    def _row_count(self, path: str) -> int:
        used = -1
        prefix = path + "."
        for k in self.values:
            if k.startswith(prefix):
                head = k[len(prefix) :].split(".", 1)[0]
                if head.isdigit():
                    used = max(used, int(head))
        wanted = self._v(f"_rows.{path}")
        n = used + 2  # the rows in use and one empty row
        if wanted.isdigit():
            n = max(n, min(int(wanted), 50))
        return n


def sections(tx: Texts, values: dict[str, list[str]], analytes: Any = None) -> list[Section]:
    b = FormBuilder(tx, values, analytes)
    out = []
    for sid, paths in SECTIONS:
        fields = []
        for p in paths:
            node, required = _node_at(p)
            fields.append(b.build(p, node, required))
        out.append(Section(sid, tx.t(f"section.{sid}"), fields))
    return out


# ----------------------------------------------------------------------------- data <-> form


def flatten(data: dict[str, Any]) -> dict[str, list[str]]:
    """Case data as the flat mapping the form shows."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, v: Any) -> None:
        if isinstance(v, dict):
            if prefix == "pathology.ihc":
                for i, (marker, result) in enumerate(v.items()):
                    out[f"{prefix}.{i}.marker"] = [str(marker)]
                    out[f"{prefix}.{i}.result"] = [str(result)]
                return
            for k, sub in v.items():
                walk(f"{prefix}.{k}" if prefix else str(k), sub)
        elif isinstance(v, list):
            if not v:
                out[f"_none.{prefix}"] = ["yes"]
            elif all(isinstance(x, dict) for x in v):
                for i, sub in enumerate(v):
                    walk(f"{prefix}.{i}", sub)
            else:
                out[prefix] = [str(x) for x in v]
        elif isinstance(v, bool):
            out[prefix] = ["yes" if v else "no"]
        elif v is not None:
            # 15 significant digits: a float reads back as written (":g" kept six digits, so a
            # lab value of 1234567 became 1.23457e+06 on the next edit)
            out[prefix] = [f"{v:.15g}" if isinstance(v, float) else str(v)]

    walk("", data)
    return out


def _number(text: str, integer: bool) -> Any:
    s = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    if "," in s and "." not in s:
        s = s.replace(",", ".")
    try:
        if integer and re.fullmatch(r"[+-]?\d+", s):
            return int(s)
        num = float(s)
    except ValueError:
        return text.strip()
    return int(num) if integer and num.is_integer() else num


class _Unflatten:
    def __init__(self, values: dict[str, list[str]], tx: Texts, analytes: Any):
        self.values = values
        self.tx = tx
        self.analytes = analytes

    def _v(self, path: str) -> str:
        vals = self.values.get(path)
        return vals[0].strip() if vals else ""

    def _enum(self, text: str, choices: list[str]) -> str:
        """A typed label ("Pancreas", "胰腺") is read as its code."""
        if text in choices:
            return text
        for c in choices:
            labels = {self.tx.value(c).lower(), c.replace("_", " ").lower()}
            if text.lower() in labels:
                return c
        return text

    def value(self, path: str, node: dict[str, Any]) -> Any:
        kind = _kind(node)
        n = _resolve(node)
        bare = re.sub(r"\.\d+(?=\.|$)", "", path)
        if bare == "clinical.labs.analyte" and self.analytes is not None:
            text = self._v(path)
            return self._enum(text, list(self.analytes.analytes)) if text else None
        if kind in ("number", "integer"):
            text = self._v(path)
            return _number(text, kind == "integer") if text else None
        if kind == "bool":
            return {"yes": True, "no": False}.get(self._v(path))
        if kind == "enum":
            text = self._v(path)
            return self._enum(text, _choices_of(n)) if text else None
        if kind in ("text", "date"):
            return self._v(path) or None
        if kind == "enum_list":
            picked = [v for v in self.values.get(path, []) if v]
            return picked or None
        if kind == "text_list":
            text = self._v(path)
            return [p.strip() for p in re.split(r"[,，;；]", text) if p.strip()] or None
        if kind == "object":
            obj = {k: self.value(f"{path}.{k}", sub) for k, sub in n["properties"].items()}
            obj = {k: v for k, v in obj.items() if v is not None}
            return obj or None
        if kind == "rows":
            item = n["items"]
            rows = []
            for i in range(self._count(path)):
                row = self.value(f"{path}.{i}", item)
                if row:
                    rows.append(row)
            if not rows and _nullable(node) and self._v(f"_none.{path}") == "yes":
                return []
            return rows or None
        if kind == "flags":
            flags = {}
            for c in _choices_of(n["propertyNames"]):
                v = self.value(f"{path}.{c}", {"type": "boolean"})
                if v is not None:
                    flags[c] = v
            return flags or None
        if kind == "pairs":
            pairs = {}
            for i in range(self._count(path)):
                marker = self._v(f"{path}.{i}.marker")
                result = self._v(f"{path}.{i}.result")
                if marker or result:
                    pairs[marker] = result
            return pairs or None
        return self._v(path) or None

    def _count(self, path: str) -> int:
        prefix = path + "."
        used = -1
        for k in self.values:
            if k.startswith(prefix):
                head = k[len(prefix) :].split(".", 1)[0]
                if head.isdigit():
                    used = max(used, int(head))
        return used + 1


def unflatten(values: dict[str, list[str]], tx: Texts, analytes: Any = None) -> dict[str, Any]:
    """The typed form as case data (empty fields left out: not given = unknown)."""
    u = _Unflatten(values, tx, analytes)
    root = _schema()
    out: dict[str, Any] = {}
    for k, sub in root["properties"].items():
        if k == "schema_version":
            continue
        v = u.value(k, sub)
        if v is not None:
            out[k] = v
    return out


# ----------------------------------------------------------------------------- validation


@dataclass
class Checked:
    case: Case | None
    errors: dict[str, Msg]  # field path -> message in the page language


def _suggest(received: Any, choices: list[str], tx: Texts) -> str | None:
    if not isinstance(received, str) or not choices:
        return None
    names = {c: c for c in choices}
    for c in choices:
        names[tx.value(c).lower()] = c
    hit = difflib.get_close_matches(received.lower(), list(names), n=1, cutoff=0.6)
    if not hit:
        return None
    code = names[hit[0]]
    label = tx.value(code)
    return label if label == code else f"{label} ({code})"


def _choices_for_path(path: str) -> list[str]:
    node: dict[str, Any] = _schema()
    try:
        for part in path.split("."):
            node = _resolve(node)
            if part.isdigit():
                node = node["items"]
                continue
            props = node.get("properties")
            if props is None:
                return []
            node = props[part]
        return _choices_of(node)
    except (KeyError, TypeError):
        return []


def validate(data: dict[str, Any], tx: Texts, analytes: Any = None) -> Checked:
    """Validate the case; errors by field path, worded in the page language."""
    errors: dict[str, Msg] = {}
    try:
        Case.model_validate(data)
    except ValidationError as exc:
        for e in exc.errors(include_url=False):
            ctx = dict(e.get("ctx") or {})
            parts = [str(p) for p in e["loc"]]
            if ctx.get(SUBPATH):
                parts.append(str(ctx[SUBPATH]))
            path = ".".join(parts)
            etype = e["type"]
            message = str(e["msg"]).removeprefix("Value error, ")
            key = f"err.{etype}" if tx.has(f"err.{etype}") else "err.other"
            params = {k: v for k, v in ctx.items() if isinstance(v, (int, float, str))}
            choices = _choices_for_path(path)
            if choices and etype in ("enum", "literal_error", "string_pattern_mismatch"):
                params["expected"] = (
                    "、".join(tx.value(c) for c in choices)
                    if tx.lang == "zh-CN"
                    else ", ".join(tx.value(c) for c in choices)
                )
                key = "err.enum"
            received = e.get("input")
            errors.setdefault(
                path,
                Msg(
                    text=_form_text(tx, key, etype, message, ctx, params),
                    received=None
                    if etype == "missing" or isinstance(received, (dict, list))
                    else str(received),
                    suggestion=_suggest(received, choices, tx),
                ),
            )
        return Checked(None, errors)
    try:
        case = parse_case(data)  # adds the analyte-catalogue checks of lab results
    except CaseInputError as err:
        for fe in err.errors:
            sug = None
            if fe.path.endswith(".analyte") and analytes is not None:
                sug = _suggest(fe.received, list(analytes.analytes), tx)
            errors.setdefault(
                fe.path,
                Msg(
                    text=fe.localised(tx.lang, with_label=False).message
                    if tx.lang != "en"
                    else tx.t("err.lab", message=fe.message),
                    received=None if fe.received is None else str(fe.received),
                    allowed=fe.localised(tx.lang).allowed,
                    suggestion=sug,
                ),
            )
        return Checked(None, errors)
    return Checked(case, errors)


def _form_text(
    tx: Texts, key: str, etype: str, message: str, ctx: dict[str, Any], params: dict[str, Any]
) -> str:
    """The form's text of a validation error; a case-model rule's own error (extent for the
    site, nodes, components) is worded from the error texts in the page language."""
    if tx.lang != "en" and (
        key in ("err.other", "err.value_error") or etype == "invalid_combination"
    ):
        from nenguide.error_texts import err_text

        own = err_text(tx.lang, f"msg.{ctx.get('key') or etype}", **params)
        if own:
            return own
    return tx.t(key, message=message, **params)


def attach_errors(secs: list[Section], errors: dict[str, Msg]) -> int:
    """Put each error on its field (or the nearest field above it); returns how many."""
    index: dict[str, Field] = {}

    def walk(f: Field) -> None:
        index[f.path] = f
        for c in f.children:
            walk(c)
        for row in f.rows:
            for c in row:
                walk(c)

    for s in secs:
        for f in s.fields:
            walk(f)
    for path, msg in errors.items():
        p = path
        while p and p not in index:
            p = p.rsplit(".", 1)[0] if "." in p else ""
        target = index.get(p)
        if target is None:
            target = secs[0].fields[0]
        if target.error is None:
            target.error = msg
        top = path.split(".")[0]
        sec_id = SECTION_OF.get(".".join(path.split(".")[:2])) or SECTION_OF.get(top)
        for s in secs:
            if s.id == sec_id:
                s.errors += 1
    return len(errors)
