"""The vendored Chinese web font holds every Chinese character of the interface and the
knowledge package's texts, so the pages look the same offline on any machine
(``scripts/subset-cjk-font`` rebuilds it after Chinese texts are added)."""

from __future__ import annotations

from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "nenguide"
FONT = SRC / "web" / "static" / "fonts" / "NotoSansSC-subset.woff2"


def test_web_font_covers_the_chinese_texts() -> None:
    ttlib = pytest.importorskip("fontTools.ttLib")
    cmap = ttlib.TTFont(str(FONT)).getBestCmap()
    files = [
        SRC / "report" / "i18n" / "zh-CN.yaml",
        *sorted(SRC.glob("knowledge/*/i18n/zh-CN/*.yaml")),
        SRC / "store" / "vocab.py",
    ]
    assert len(files) > 3
    text = "".join(p.read_text(encoding="utf-8") for p in files)
    han = {c for c in text if 0x3400 <= ord(c) <= 0x9FFF or 0xFF00 <= ord(c) <= 0xFFEF}
    assert len(han) > 500
    missing = sorted(c for c in han if ord(c) not in cmap)
    assert missing == [], "run scripts/subset-cjk-font: " + "".join(missing)
