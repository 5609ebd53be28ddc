"""The knowledge package: it loads, passes the lint, and the lint catches broken tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from nenguide.engine.kb import Knowledge
from nenguide.engine.lint import emitted_text_keys, lint
from nenguide.knowledge import KnowledgeError, _root, compute_hash, load_from


def test_bundled_package_passes_lint(kb: Knowledge) -> None:
    report = lint(kb)
    assert report.ok, report.errors
    assert report.checked_points > 500


def test_every_rule_cites_a_known_source(kb: Knowledge) -> None:
    for table in kb.tables.values():
        for row in table.rows:
            assert row.sources, row.id
            for s in row.sources:
                assert s in kb.bibliography, (row.id, s)


def test_guideline_validity_is_recorded(kb: Knowledge) -> None:
    m = kb.manifest
    assert m.valid_until.isoformat() == "2023-10-31"
    assert m.content_hash == compute_hash(_root() / "csco-2021")


def test_every_emitted_code_has_text_in_every_language(kb: Knowledge) -> None:
    keys = emitted_text_keys(kb)
    assert len(keys) > 60
    for lang in ("en", "zh-CN"):
        missing = sorted(k for k in keys if not kb.catalog.texts[lang].get(k))
        assert not missing, f"{lang} lacks {missing}"


def test_texts_use_the_same_placeholders_in_every_language(kb: Knowledge) -> None:
    import string

    def fields(s: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(s) if f}

    en = kb.catalog.texts["en"]
    for key, text in kb.catalog.texts["zh-CN"].items():
        if key in en:
            assert fields(text) == fields(en[key]), key


@pytest.fixture()
def package_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "csco-2021"
    shutil.copytree(Path(str(_root() / "csco-2021")), dst)
    return dst


def _edit_table(folder: Path, name: str, edit: object) -> None:
    path = folder / "tables" / name
    data = yaml.safe_load(path.read_text())
    edit(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


def _reload(folder: Path) -> Knowledge:
    return load_from(folder, verify_hash=False)  # type: ignore[arg-type]


def test_lint_finds_a_gap(package_copy: Path) -> None:
    def drop_g2(data: dict) -> None:  # type: ignore[type-arg]
        t = next(t for t in data["tables"] if t["id"] == "CSCO2021.GRADE.GEP.KI67")
        t["rows"] = [r for r in t["rows"] if not r["id"].endswith(".G2")]

    _edit_table(package_copy, "classification.yaml", drop_g2)
    errors = lint(_reload(package_copy)).errors
    assert any("CSCO2021.GRADE.GEP.KI67: not total" in e for e in errors), errors


def test_lint_finds_an_overlap_at_a_boundary(package_copy: Path) -> None:
    def le3(data: dict) -> None:  # type: ignore[type-arg]
        t = next(t for t in data["tables"] if t["id"] == "CSCO2021.GRADE.GEP.KI67")
        t["rows"][0]["when"] = {"ki67_percent": {"le": 3}}  # G1 wrongly includes 3 %

    _edit_table(package_copy, "classification.yaml", le3)
    errors = lint(_reload(package_copy)).errors
    assert any("CSCO2021.GRADE.GEP.KI67: hit policy unique" in e for e in errors), errors


def test_lint_finds_a_value_outside_the_domain(package_copy: Path) -> None:
    def typo(data: dict) -> None:  # type: ignore[type-arg]
        t = next(t for t in data["tables"] if t["id"] == "CSCO2021.STAGE.NET.STOMACH.T")
        t["rows"][0]["when"] = {"extent": ["serosal", "adjacent_organ"]}

    _edit_table(package_copy, "stage_net.yaml", typo)
    errors = lint(_reload(package_copy)).errors
    assert any("names ['serosal']" in e for e in errors), errors


def test_load_rejects_missing_citation_and_duplicate_ids(package_copy: Path) -> None:
    def uncited(data: dict) -> None:  # type: ignore[type-arg]
        data["tables"][0]["rows"][0]["sources"] = ["no-such-source"]

    _edit_table(package_copy, "liver.yaml", uncited)
    with pytest.raises(KnowledgeError, match="not in bibliography"):
        _reload(package_copy)


def test_load_rejects_duplicate_rule_ids(package_copy: Path) -> None:
    def dup(data: dict) -> None:  # type: ignore[type-arg]
        rows = data["tables"][0]["rows"]
        rows[1]["id"] = rows[0]["id"]

    _edit_table(package_copy, "liver.yaml", dup)
    with pytest.raises(KnowledgeError, match="used twice"):
        _reload(package_copy)


def test_load_rejects_changed_content_without_new_hash(package_copy: Path) -> None:
    (package_copy / "tables" / "liver.yaml").write_text(
        (package_copy / "tables" / "liver.yaml").read_text() + "\n# edited\n"
    )
    with pytest.raises(KnowledgeError, match="content hash"):
        load_from(package_copy)  # type: ignore[arg-type]


def test_load_rejects_a_row_without_source(package_copy: Path) -> None:
    def nosource(data: dict) -> None:  # type: ignore[type-arg]
        data["tables"][0]["rows"][0]["sources"] = []

    _edit_table(package_copy, "liver.yaml", nosource)
    with pytest.raises(KnowledgeError, match="sources"):
        _reload(package_copy)


def test_a_malformed_file_is_named_with_its_line_quoted(package_copy: Path) -> None:
    """The package is read with libyaml when PyYAML has it; a malformed file's message is the
    pure-Python parser's, which quotes the line and marks the place."""
    path = package_copy / "parameters.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "broken: [1, 2\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        _reload(package_copy)
    message = str(err.value)
    assert message.startswith("csco-2021/parameters.yaml: not valid YAML:")
    assert 'in "<unicode string>", line' in message
    assert "^" in message  # the place in the quoted line
