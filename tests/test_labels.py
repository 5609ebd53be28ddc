"""Every case field and every choice of the case model has a label in every language (issue 9).

The lists come from the case model's JSON Schema (what ``nenguide schema case`` prints), and
the engine's own lists of the fields it names when data are missing, so a field or choice
added later without a text fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from nenguide.engine.context import FIELD_OF_FACT
from nenguide.engine.treatment import TX_FIELDS
from nenguide.engine.workup import FIELDS as WORKUP_FIELDS
from nenguide.knowledge import Knowledge
from nenguide.model.case import Case
from nenguide.model.clinical import History, Symptom
from nenguide.report.texts import LANGS, Texts


def _schema_words() -> tuple[set[str], set[str]]:
    schema = Case.model_json_schema()
    defs = schema.get("$defs", {})
    paths: set[str] = set()
    values: set[str] = set()

    def walk(node: dict[str, Any], path: str) -> None:
        if "$ref" in node:
            walk(defs[node["$ref"].rsplit("/", 1)[-1]], path)
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(key, []):
                walk(sub, path)
        values.update(str(v) for v in node.get("enum", []))
        if isinstance(node.get("items"), dict):
            walk(node["items"], path)
        if isinstance(node.get("propertyNames"), dict):  # maps keyed by a choice
            walk(node["propertyNames"], path)
            for v in node["propertyNames"].get("enum", []):
                paths.add(f"{path}.{v}")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], path)
        for name, sub in node.get("properties", {}).items():
            p = f"{path}.{name}" if path else name
            paths.add(p)
            walk(sub, p)

    walk(schema, "")
    return paths, values


PATHS, VALUES = _schema_words()
ENGINE_FIELDS = sorted(
    {p for ps in TX_FIELDS.values() for p in ps}
    | {p for ps in WORKUP_FIELDS.values() for p in ps}
    | set(FIELD_OF_FACT.values())
    | {f"clinical.history.{h.value}" for h in History}  # syndromes and hereditary name flags
    | {f"clinical.symptoms.{s.value}" for s in Symptom}
)


def test_the_schema_lists_are_not_empty() -> None:
    assert {"tumour.size_cm", "pathology.ki67_percent", "clinical.labs.unit"} <= PATHS
    assert {"pancreas", "present", "muscularis_propria", "MEN1"} <= VALUES
    assert len(PATHS) > 80 and len(VALUES) > 120


@pytest.mark.parametrize("lang", LANGS)
def test_every_case_field_has_a_label(kb: Knowledge, lang: str) -> None:
    tx = Texts(lang, kb.catalog)
    missing = sorted(p for p in PATHS if not tx.field_label(p))
    assert missing == []


@pytest.mark.parametrize("lang", LANGS)
def test_every_field_the_engine_names_has_a_label(kb: Knowledge, lang: str) -> None:
    missing = [p for p in ENGINE_FIELDS if not kb.catalog.field_label(lang, p, fallback=False)]
    assert missing == []


@pytest.mark.parametrize("lang", LANGS)
def test_every_choice_has_a_label(kb: Knowledge, lang: str) -> None:
    tx = Texts(lang, kb.catalog)
    missing = sorted(v for v in VALUES if not tx.value_label(v))
    assert missing == []


def test_chinese_labels_are_chinese(kb: Knowledge) -> None:
    zh, en = Texts("zh-CN", kb.catalog), Texts("en", kb.catalog)
    same = sorted(p for p in PATHS if zh.field_label(p) == en.field_label(p))
    assert same == []
    # choices: only symbols (gene names, CT, MRI) read the same in both languages
    same_v = sorted(
        v
        for v in VALUES
        if zh.value_label(v) == en.value_label(v)
        and str(zh.value_label(v)).lower() != zh.value_label(v)
        and any(c.islower() for c in str(zh.value_label(v)))
    )
    assert same_v == []
    assert zh.field("clinical.labs.3.unit") == "单位"
    assert en.field("tumour.size_cm") == "Size (cm)"
    assert zh.value("pancreas") == "胰腺" and en.value("muscularis_propria") == "Muscularis propria"


@pytest.mark.parametrize(
    ("lang", "path", "label"),
    [
        ("zh-CN", "clinical.investigations (SSTR imaging)", "检查（生长抑素受体显像）"),
        ("zh-CN", "functional_syndromes (gastrinoma)", "功能性综合征（胃泌素瘤/卓-艾综合征）"),
        ("en", "functional_syndromes (insulinoma)", "Functional syndromes (Insulinoma)"),
        ("zh-CN", "clinical.prior_therapies.0.months_to_progression", None),
        ("en", "no.such.field", "no.such.field"),
    ],
)
def test_field_labels_of_the_engine(kb: Knowledge, lang: str, path: str, label: str | None) -> None:
    got = kb.catalog.field_label(lang, path)
    if label is None:  # a real field: some Chinese label, never the path
        assert got and got != path and not got.isascii()
    else:
        assert got == label


def _fact_and_input_names(kb: Knowledge) -> list[str]:
    names = {f.name for f in kb.facts.facts}
    for table in kb.tables.values():
        names |= set(table.spec.inputs)
    return sorted(names)


def test_the_fact_lists_are_not_empty(kb: Knowledge) -> None:
    names = _fact_and_input_names(kb)
    assert {"sstr_positive", "lung_m1a", "hx_pernicious_anaemia", "size_cm_interval"} <= set(names)
    assert len(names) > 200


@pytest.mark.parametrize("lang", LANGS)
def test_every_fact_and_table_input_has_a_label(kb: Knowledge, lang: str) -> None:
    """The rule trace labels the facts a table read by ``field.<fact>``; none falls back to
    the mechanical form of its name ("Sstr positive", "Lung m1a")."""
    texts = kb.catalog.texts.get(lang, {})
    missing = [n for n in _fact_and_input_names(kb) if not texts.get(f"field.{n}")]
    assert missing == []


def test_fact_labels_read_in_their_language(kb: Knowledge) -> None:
    en, zh = kb.catalog.texts["en"], kb.catalog.texts["zh-CN"]
    assert en["field.sstr_positive"] == "SSTR imaging positive"
    assert zh["field.carrier_men1"] == "携带MEN1致病性胚系变异"
    # Chinese labels use full-width brackets, never ASCII ones
    ascii_brackets = [n for n in _fact_and_input_names(kb) if "(" in zh[f"field.{n}"]]
    assert ascii_brackets == []


def test_issues_name_case_fields_not_fact_names(kb: Knowledge) -> None:
    """Every field an issue of a golden vignette names is a case field (or one of the engine's
    labelled groups of fields), never the name of a fact: a fact read by a table is named by
    the case field it comes from (engine/context.py FIELD_OF_FACT). Found when the stated
    node status became an input of the ileal N table and its fact name reached the fields."""
    import datetime as dt
    from pathlib import Path

    import yaml

    from nenguide import assess
    from nenguide.errors import CaseInputError, parse_case

    allowed = PATHS | set(ENGINE_FIELDS) | {"rule_family"}  # a detail naming the rule family
    facts = {f.name for f in kb.facts.facts} - allowed
    named: dict[str, str] = {}
    for path in sorted((Path(__file__).parent / "vignettes").glob("*.yaml")):
        v = yaml.safe_load(path.read_text(encoding="utf-8"))
        try:
            case = parse_case(v["case"])
        except CaseInputError:
            continue
        a = assess(case, kb, as_of=dt.date(2026, 11, 23))
        for issue in a.issues:
            for f in issue["fields"]:
                # a list item's index is not part of the field (clinical.labs.0.unit)
                base = ".".join(p for p in f.split(" (")[0].split(".") if not p.isdigit())
                if base in facts or (base not in allowed and f not in allowed):
                    named.setdefault(f, f"{path.name}: {issue['code']}")
    assert named == {}
