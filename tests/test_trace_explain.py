"""Issue 7, finding 7: the trace is complete (every table consulted, collect tables with no
hit, rows that need a missing input, every fact), and ``nenguide explain`` answers why an
option is or is not offered from it, in en and zh-CN."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nenguide import assess
from nenguide.engine.kb import Knowledge
from nenguide.explain import TEXT_KEYS, UnknownOptionError, explain_option
from nenguide.model.case import Case

AS_OF = dt.date(2026, 11, 23)
EXAMPLES = Path(__file__).resolve().parent.parent / "src" / "nenguide" / "examples"


def _case(name: str) -> Case:
    return Case.model_validate(yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8")))


def _metastatic_pnet_without_sstr() -> Case:
    return Case.model_validate(
        {
            "patient": {"age_years": 60, "ecog": 1},
            "tumour": {"primary_site": "pancreas", "size_cm": 3, "extent": "confined_to_pancreas"},
            "pathology": {"differentiation": "well", "ki67_percent": 8, "mitoses_per_2mm2": 3},
            "regional_nodes": {"status": "negative"},
            "metastases": {"status": "present", "liver": {"lesion_count": 4}, "extrahepatic": []},
            "staging_basis": "clinical",
            "clinical": {"symptoms": {"flushing": False}, "resection": {"performed": False}},
        }
    )


def test_collect_tables_with_no_hit_are_traced(kb: Knowledge) -> None:
    a = assess(_case("rectal-net-g1-small.yaml"), kb, as_of=AS_OF)
    tables = {t["table"] for t in a.trace}
    for tid in kb.pathway.tables("treatment", "collect"):
        assert tid in tables, tid  # consulted, even where no row applied
    empty = [t for t in a.trace if t["table"] and t["decided"] and not t["rule_ids"]]
    assert empty, "a collect table without a hit leaves an entry with no rule"


def test_rows_needing_a_missing_input_are_traced(kb: Knowledge) -> None:
    a = assess(_metastatic_pnet_without_sstr(), kb, as_of=AS_OF)
    pending = [t for t in a.trace if isinstance(t["result"], dict) and "pending" in t["result"]]
    needs = {r: m for t in pending for r, m in t["result"]["pending"].items()}
    assert "CSCO2021.TX.NET.PRRT.PANCREAS" in needs
    assert "sstr_positive" in needs["CSCO2021.TX.NET.PRRT.PANCREAS"]


def test_every_fact_is_traced(kb: Knowledge) -> None:
    a = assess(_metastatic_pnet_without_sstr(), kb, as_of=AS_OF)
    facts = [t for t in a.trace if t["step"] == "facts"]
    traced = {k for t in facts for k in t["inputs"]} | {t["table"] for t in facts if t["table"]}
    traced |= {kb.tables[t["table"]].output for t in facts if t["table"]}
    for name in ("ecog", "met_status", "resected", "sstr_reported", "category", "functional"):
        assert name in traced, name
    for tid in kb.pathway.tables("facts", "case"):
        assert tid in traced, tid


def test_explain_why_an_option_is_not_offered(kb: Knowledge) -> None:
    a = assess(_metastatic_pnet_without_sstr(), kb, as_of=AS_OF)
    ex = explain_option(a, kb, "PRRT_LU177", "en")
    assert not ex.offered
    text = "\n".join(ex.lines)
    assert "Not offered" in text
    assert "CSCO2021.TX.NET.PRRT.GEP" in text and "sstr_positive" in text
    a_zh = assess(_metastatic_pnet_without_sstr(), kb, as_of=AS_OF, lang="zh-CN")
    zh = "\n".join(explain_option(a_zh, kb, "PRRT_LU177", "zh-CN").lines)
    assert "本病例未推荐该方案" in zh and "CSCO2021.TX.NET.PRRT.GEP" in zh


def test_explain_why_an_option_is_offered(kb: Knowledge) -> None:
    a = assess(_case("pnet-g2-liver.yaml"), kb, as_of=AS_OF)
    ex = explain_option(a, kb, "LANREOTIDE", "en")
    assert ex.offered
    assert "CSCO2021.TX.NET.SSA.GEP" in ex.lines[1] and "sstr_positive=true" in ex.lines[2]
    with pytest.raises(UnknownOptionError):
        explain_option(a, kb, "NO_SUCH_OPTION", "en")


def test_explain_texts_exist_in_every_language(kb: Knowledge) -> None:
    for lang in kb.catalog.languages:
        for key in TEXT_KEYS:
            assert kb.catalog.texts[lang].get(key), (lang, key)


def test_explain_command(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump(_metastatic_pnet_without_sstr().model_dump(mode="json",
                    exclude_none=True)), encoding="utf-8")  # fmt: skip
    for lang, expect in (("en", "Not offered"), ("zh-CN", "未推荐")):
        out = subprocess.run(
            [sys.executable, "-m", "nenguide", "explain", str(case), "PRRT_LU177",
             "--lang", lang, "--as-of", "2026-11-23"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert expect in out and "CSCO2021.TX.NET.PRRT.GEP" in out
