"""Why is (or isn't) a treatment option offered? Answered from an assessment's trace.

The trace records, for every table consulted, the input values it read and the rules that
applied, and for collect tables the rules that needed a missing input. This module reads those
entries and the rules' own conditions (by rule id, from the knowledge package the assessment
names) and says, for every rule that could offer the option, whether it applied, which of its
conditions failed with the value read, which input it still needs, or that its table was not
consulted for this case. It does not run the engine again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import OneOf, Tri, one_of
from nenguide.engine.tables import Row
from nenguide.engine.treatment_data import catalogue, option_codes
from nenguide.model.assessment import Assessment

#: text keys this module uses (each in every language; a test checks them)
TEXT_KEYS = (
    "explain.title",
    "explain.offered",
    "explain.not_offered",
    "explain.read",
    "explain.sources",
    "explain.rule_decided_other",
    "explain.rule_false",
    "explain.rule_pending",
    "explain.rule_not_consulted",
    "explain.withheld_needs",
    "explain.already_failed",
    "explain.no_rule",
    "explain.unknown_value",
)


class UnknownOptionError(ValueError):
    """The option code is not in the knowledge package's option catalogue."""


@dataclass
class Explanation:
    code: str
    name: str
    offered: bool
    lines: list[str] = field(default_factory=list)


def _decode(v: Any) -> Any:
    if isinstance(v, dict) and set(v) == {"one_of"}:
        return one_of(_decode(x) for x in v["one_of"])
    if isinstance(v, list):
        return frozenset(_decode(x) for x in v)
    return v


def _show(v: Any) -> str:
    if isinstance(v, dict) and set(v) == {"one_of"}:
        return "{" + ", ".join(map(str, v["one_of"])) + "}"
    if isinstance(v, bool):
        return str(v).lower()
    return str(v)


def explain_option(a: Assessment, kb: Knowledge, code: str, lang: str = "en") -> Explanation:
    cat = catalogue(kb)
    if code not in cat:
        raise UnknownOptionError(
            f"'{code}' is not an option of {kb.manifest.id}; options: {', '.join(sorted(cat))}"
        )
    spec = cat[code]
    name = spec.text.get(lang) or spec.text["en"]

    def t(key: str, **params: Any) -> str:
        return kb.catalog.text(lang, key, **params)

    out = Explanation(code, name, any(o["code"] == code for o in a.treatment))
    out.lines.append(t("explain.title", option=name, code=code))
    entries: dict[str, Mapping[str, Any]] = {}
    pending: dict[str, Mapping[str, Any]] = {}
    for e in a.trace:
        if e["step"] != "treatment" or not e["table"]:
            continue
        if isinstance(e["result"], dict) and "pending" in e["result"]:
            pending[e["table"]] = e["result"]["pending"]
        else:
            entries.setdefault(e["table"], e)

    if out.offered:
        opt = next(o for o in a.treatment if o["code"] == code)
        row = _row(kb, opt["rule_id"])
        out.lines.append(
            t("explain.offered", rule=opt["rule_id"], when=row.when_text if row else "")
        )
        entry = next((e for e in entries.values() if opt["rule_id"] in e["rule_ids"]), None)
        if entry is not None and row is not None:
            read = {c.fact: entry["inputs"].get(c.fact) for c in row.conditions}
            out.lines.append(t("explain.read", values=_values(read)))
        out.lines.append(t("explain.sources", sources=", ".join(opt["sources"])))
        return out

    out.lines.append(t("explain.not_offered"))
    for issue in a.issues:
        d = issue["details"]
        if issue["code"] == "TX_OPTION_ALREADY_FAILED" and d.get("option") == name:
            out.lines.append(t("explain.already_failed", therapy=d.get("therapy", "")))
        if issue["code"] == "TX_NEEDS_DATA" and name in (d.get("options") or []):
            out.lines.append(
                t("explain.withheld_needs", fields=kb.catalog.field_list(lang, issue["fields"]))
            )
    rules = [
        (table.id, row)
        for table in kb.tables.values()
        if table.spec.step == "treatment"
        for row in table.rows
        if code in option_codes(row.then)
    ]
    if not rules:
        out.lines.append(t("explain.no_rule"))
    setting = next(
        (e["result"] for e in a.trace if e["table"] == kb.pathway.table("treatment", "setting")),
        None,
    )
    for table_id, row in rules:
        entry = entries.get(table_id)
        if row.id in pending.get(table_id, {}):
            needs = kb.catalog.field_list(lang, pending[table_id][row.id])
            out.lines.append(
                t("explain.rule_pending", rule=row.id, when=row.when_text, needs=needs)
            )
        elif entry is None:
            out.lines.append(
                t(
                    "explain.rule_not_consulted",
                    rule=row.id,
                    when=row.when_text,
                    table=table_id,
                    setting=_show(setting) if setting is not None else "?",
                    category=a.classification.category or "?",
                )
            )
        elif row.id in entry["rule_ids"]:
            other = entry["rule_ids"][0]
            if other != row.id:
                out.lines.append(
                    t("explain.rule_decided_other", rule=row.id, when=row.when_text, other=other)
                )
        else:
            out.lines.append(
                t(
                    "explain.rule_false",
                    rule=row.id,
                    when=row.when_text,
                    conditions=_failed(row, entry["inputs"], t),
                )
            )
    return out


def _row(kb: Knowledge, rule_id: str) -> Row | None:
    for table in kb.tables.values():
        for row in table.rows:
            if row.id == rule_id:
                return row
    return None


def _values(read: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_show(v)}" for k, v in read.items())


def _failed(row: Row, inputs: Mapping[str, Any], t: Any) -> str:
    """The row's conditions that are false (or unknown) for the values the table read."""
    parts: list[str] = []
    for c in row.conditions:
        raw = inputs.get(c.fact)
        value = _decode(raw)
        if value is None:
            parts.append(f"{c.text} [{t('explain.unknown_value')}]")
            continue
        truth = c.evaluate(value) if isinstance(value, OneOf) else None
        if truth is None:
            truth = Tri.TRUE if c.predicate(value) else Tri.FALSE
        if truth is not Tri.TRUE:
            parts.append(f"{c.text} [{c.fact}={_show(raw)}]")
    return "; ".join(parts) or "-"
