"""Docs generated from or checked against the source of truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.model.case import Case

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _paths(schema: dict[str, Any]) -> list[str]:
    defs = schema["$defs"]
    out: list[str] = []

    def ref_of(v: dict[str, Any]) -> tuple[str | None, bool]:
        options = [v, *v.get("anyOf", [])]
        for o in options:
            if o.get("type") == "array" and "$ref" in o.get("items", {}):
                return o["items"]["$ref"].split("/")[-1], True
        for o in options:
            if "$ref" in o:
                return o["$ref"].split("/")[-1], False
        return None, False

    def walk(props: dict[str, Any], prefix: str) -> None:
        for name, v in props.items():
            path = prefix + name
            out.append(path)
            ref, is_list = ref_of(v)
            if ref and "properties" in defs[ref]:
                walk(defs[ref]["properties"], path + ("[]." if is_list else "."))

    walk(schema["properties"], "")
    return out


def test_every_case_field_is_documented() -> None:
    text = (DOCS / "case-model.md").read_text(encoding="utf-8")
    missing = [p for p in _paths(Case.model_json_schema()) if f"`{p}`" not in text]
    assert not missing, f"docs/case-model.md does not explain: {missing}"


def test_rule_catalogue_is_generated_from_the_knowledge(kb: Knowledge) -> None:
    import subprocess
    import sys

    generated = subprocess.run(
        [sys.executable, "-m", "nenguide", "knowledge", "rules"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    assert text == generated, (
        "docs/rules.md is stale: run 'nenguide knowledge rules > docs/rules.md'"
    )
    missing = [r.id for t in kb.tables.values() for r in t.rows if f"`{r.id}`" not in text]
    assert not missing


def test_every_issue_code_is_documented() -> None:
    from nenguide import load_knowledge

    ISSUE_KINDS = load_knowledge().issue_kinds

    text = (DOCS / "assessment-contract.md").read_text(encoding="utf-8")
    missing = [c for c in ISSUE_KINDS if f"`{c}`" not in text]
    assert not missing, f"docs/assessment-contract.md lacks issue codes {missing}"
