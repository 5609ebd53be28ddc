"""Issue 7, finding 5: the engine is not tied to one guideline edition.

A second knowledge package is made from a copy of the bundled one, placed outside the source
tree, with every table and rule id renamed (``CSCO2021.`` -> ``FIXTURE9.``), its own manifest
id, and one different rule (the Ki-67 G1/G2 boundary moved from 3 % to 5 %). It runs through
the unchanged engine: the new ids appear in the trace, the different rule gives a different
grade, and the engine source holds no table id.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from nenguide import assess
from nenguide.engine.kb import Knowledge
from nenguide.knowledge import KnowledgeError, compute_hash, load_from, package_path
from nenguide.model.case import Case

AS_OF = dt.date(2026, 11, 23)
ENGINE = Path(__file__).resolve().parent.parent / "src" / "nenguide" / "engine"
TABLE_ID = re.compile(r"^[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)+$")


def make_fixture_package(dest: Path) -> Path:
    folder = dest / "fixture-edition-9"
    shutil.copytree(package_path(), folder)
    for p in folder.rglob("*.yaml"):
        text = p.read_text(encoding="utf-8").replace("CSCO2021.", "FIXTURE9.")
        p.write_text(text, encoding="utf-8")
    grade = folder / "tables" / "classification.yaml"
    text = grade.read_text(encoding="utf-8")
    old_g1 = "when: {ki67_percent: {lt: 3}}"
    old_g2 = "when: {ki67_percent: {ge: 3, le: 20}}"
    assert old_g1 in text and old_g2 in text
    text = text.replace(old_g1, "when: {ki67_percent: {lt: 5}}")
    text = text.replace(old_g2, "when: {ki67_percent: {ge: 5, le: 20}}")
    grade.write_text(text, encoding="utf-8")
    for lang, title in (("en", "Fixture NEN guideline 9"), ("zh-CN", "测试指南 9")):
        core = folder / "i18n" / lang / "core.yaml"
        core.write_text(
            core.read_text(encoding="utf-8") + f"guideline_title.fixture-nen-9: {title}\n",
            encoding="utf-8",
        )
    man = folder / "manifest.yaml"
    data = yaml.safe_load(man.read_text(encoding="utf-8"))
    data.update(id="fixture-nen-9", title="Fixture NEN guideline 9", version="9.0.0")
    man.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    data["content_hash"] = compute_hash(folder)
    man.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def fixture_kb(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    return load_from(make_fixture_package(tmp_path_factory.mktemp("kb")))


def _case(ki67: float) -> Case:
    return Case.model_validate(
        {
            "patient": {"age_years": 60, "sex": "female", "ecog": 0},
            "tumour": {
                "primary_site": "pancreas",
                "size_cm": 2.5,
                "extent": "confined_to_pancreas",
            },
            "pathology": {"differentiation": "well", "ki67_percent": ki67, "mitoses_per_2mm2": 1},
            "regional_nodes": {"status": "negative"},
            "metastases": {"status": "none"},
            "clinical": {
                "resection": {"performed": False},
                "primary_resectability": "resectable",
                "symptoms": {"flushing": False, "hypoglycaemia_symptoms": False},
            },
            "staging_basis": "clinical",
        }
    )


def test_second_package_runs_through_the_unchanged_engine(
    kb: Knowledge, fixture_kb: Knowledge
) -> None:
    case = _case(4)
    ours = assess(case, kb, as_of=AS_OF)
    theirs = assess(case, fixture_kb, as_of=AS_OF, lang="zh-CN")
    assert ours.classification.grade == "G2"
    assert theirs.classification.grade == "G1"  # the fixture's different rule
    assert theirs.guideline.id == "fixture-nen-9"
    tables = {t["table"] for t in theirs.trace if t["table"]}
    assert "FIXTURE9.GRADE.GEP.KI67" in tables
    assert tables and all(t.startswith("FIXTURE9.") for t in tables)
    rules = [r for t in theirs.trace for r in t["rule_ids"]]
    assert rules and not any("CSCO2021" in r for r in rules)
    assert theirs.stage.group and theirs.treatment and theirs.follow_up
    # every step ran on the fixture package, with texts from the fixture's own i18n folder
    assert {t["step"] for t in theirs.trace} >= {
        "classification",
        "stage",
        "treatment",
        "follow_up",
        "hereditary",
    }
    assert theirs.disclaimer == kb.catalog.text("zh-CN", "disclaimer")


def test_the_copy_is_self_contained_and_hash_checked(tmp_path: Path) -> None:
    folder = make_fixture_package(tmp_path)
    (folder / "i18n" / "en" / "core.yaml").write_text(
        (folder / "i18n" / "en" / "core.yaml").read_text(encoding="utf-8") + "\n# edited\n",
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError, match="content hash"):
        load_from(folder)  # the texts are covered by the package's content hash
    assert load_from(folder, verify_hash=False).manifest.id == "fixture-nen-9"


def test_a_pathway_naming_a_missing_table_is_refused(tmp_path: Path) -> None:
    folder = make_fixture_package(tmp_path)
    p = folder / "pathway.yaml"
    p.write_text(
        p.read_text(encoding="utf-8").replace("FIXTURE9.WORKUP.ITEMS", "FIXTURE9.NOPE"), "utf-8"
    )
    with pytest.raises(KnowledgeError, match=r"FIXTURE9\.NOPE"):
        load_from(folder, verify_hash=False)


def test_engine_source_holds_no_table_id_or_edition() -> None:
    found: list[str] = []
    for path in sorted(ENGINE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                v = node.value
                if "CSCO2021" in v or "csco-2021" in v or TABLE_ID.match(v):
                    found.append(f"{path.name}:{node.lineno}: {v!r}")
    assert not found, found
