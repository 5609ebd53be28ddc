"""Input errors in the user's language (issue 9): every message and 'allowed' text exists in
English and Simplified Chinese, and an invalid case reads in Chinese for a Chinese user."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nenguide import errors
from nenguide.error_texts import err_text, error_texts
from nenguide.errors import CaseInputError, parse_case, parse_case_text

MODEL = Path(errors.__file__).parent / "model"
# codes of nenguide's own validation errors (PydanticCustomError) and invalid_combination keys
OWN_CODES = sorted(
    set(
        re.findall(
            r'PydanticCustomError\(\s*"([a-z_]+)"',
            _src := "".join(p.read_text("utf-8") for p in MODEL.glob("*.py")),
        )
    )
    - {"invalid_combination"}
    | set(re.findall(r'^\s+"([a-z_]+_site|lung_site_for_lung)",$', _src, re.M))
)
PYDANTIC_CODES = sorted(errors._ALLOWED_BY_TYPE)
LAB_CODES = ["lab_unit", "lab_analyte", "lab_value"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_both_languages_have_the_same_keys() -> None:
    t = error_texts()
    assert set(t["en"]) == set(t["zh-CN"])
    assert all(
        CJK.search(v) for k, v in t["zh-CN"].items() if not k.startswith("allowed.lab_unit_ph")
    )


def test_the_model_codes_were_found() -> None:
    assert {"extent_for_site", "positive_exceeds_examined", "mesenteric_site"} <= set(OWN_CODES)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize("code", sorted({*OWN_CODES, *PYDANTIC_CODES, *LAB_CODES}))
def test_every_error_code_has_a_message(code: str, lang: str) -> None:
    assert error_texts()[lang].get(f"msg.{code}"), code
    assert err_text(lang, f"msg.{code}", site="x", examined=1, positive=2, total=1, low=2, high=1)


@pytest.mark.parametrize("code", [c for c in PYDANTIC_CODES if c not in ("invalid_combination",)])
def test_every_allowed_text_exists(code: str) -> None:
    for lang in ("en", "zh-CN"):
        assert error_texts()[lang].get(f"allowed.{code}"), (lang, code)
    # English 'allowed' texts are the ones the errors have always given
    assert error_texts()["en"][f"allowed.{code}"] == errors._ALLOWED_BY_TYPE[code]


BAD: list[tuple[dict[str, Any], str, str, str]] = [
    # case, field path, a word of the Chinese message, a word of the Chinese 'allowed'
    ({"tumour": {"primary_site": "pancreass"}}, "tumour.primary_site", "原发部位", "胰腺"),
    ({"tumour": {"primary_site": "ileum", "size_cm": -1}}, "tumour.size_cm", "大于0", "大于0"),
    (
        {"tumour": {"primary_site": "ileum"}, "pathology": {"ki67_percent": 120}},
        "pathology.ki67_percent",
        "不大于100",
        "不大于100",
    ),
    ({"tumour": {"primary_site": "ileum", "colour": "red"}}, "tumour.colour", "无此字段", "拼写"),
    (
        {"tumour": {"primary_site": "ileum"}, "regional_nodes": {"examined": 2, "positive": 5}},
        "regional_nodes.positive",
        "不能超过检出淋巴结数",
        "不超过",
    ),
    (
        {"tumour": {"primary_site": "pancreas"}, "regional_nodes": {"mesenteric_mass_cm": 3}},
        "regional_nodes.mesenteric_mass_cm",
        "空肠或回肠",
        "",
    ),
    (
        {"tumour": {"primary_site": "stomach", "extent": "mesoappendix"}},
        "tumour.extent",
        "不适用于原发部位",
        "以下之一",
    ),
    (
        {
            "tumour": {"primary_site": "pancreas"},
            "clinical": {"labs": [{"analyte": "gastrin", "value": 100, "unit": "kg"}]},
        },
        "clinical.labs.0.unit",
        "不是空腹血清胃泌素的单位",
        "可换算为",
    ),
    (
        {
            "tumour": {"primary_site": "pancreas"},
            "clinical": {"labs": [{"analyte": "gastrine", "value": 100, "unit": "pg/mL"}]},
        },
        "clinical.labs.0.analyte",
        "不在检验项目目录中",
        "检验项目代码",
    ),
]


@pytest.mark.parametrize(("case", "path", "msg", "allowed"), BAD)
def test_an_invalid_case_reads_in_chinese(
    case: dict[str, Any], path: str, msg: str, allowed: str
) -> None:
    with pytest.raises(CaseInputError) as info:
        parse_case(case)
    en = info.value
    zh = en.localised("zh-CN")
    assert CJK.search(zh.summary) and not CJK.search(en.summary)
    [fe] = [e for e in zh.errors if e.path == path]
    assert msg in fe.message, fe.message
    assert allowed in (fe.allowed or ""), fe.allowed
    # the field is named by its label, the value received is kept, no English sentence
    assert "：" in fe.message and not re.search(r"[A-Za-z]{4,} [a-z]{3,}", fe.message), fe.message
    [orig] = [e for e in en.errors if e.path == path]
    assert fe.received == orig.received and fe.code == orig.code
    assert en.localised("en") is en  # English is the original wording


def test_unreadable_input_reads_in_chinese() -> None:
    with pytest.raises(CaseInputError) as info:
        parse_case_text("tumour: [unclosed", "case.yaml")
    zh = info.value.localised("zh-CN")
    assert zh.summary.startswith("case.yaml不是有效的YAML（第"), zh.summary
    with pytest.raises(CaseInputError) as info:
        parse_case_text('{"tumour": ', "case.json")
    assert "不是有效的JSON：第1行" in info.value.localised("zh-CN").summary


def test_cli_input_error_in_chinese(tmp_path: Path) -> None:
    case = tmp_path / "bad.yaml"
    case.write_text("tumour:\n  primary_site: ileum\n  size_cm: -2\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "nenguide", "assess", str(case), "--lang", "zh-CN"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    err = " ".join(out.stderr.split())  # Rich may wrap long lines
    assert "病例无效： 病例中有1个字段无效" in err, err
    assert "tumour.size_cm: 肿瘤大小（cm）：请输入大于0的数字。" in err
    assert "收到的值： -2" in err and "允许的值： 大于0的数字" in err
    assert "Invalid case" not in err and "greater than" not in err
