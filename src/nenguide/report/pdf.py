"""PDF rendering of the HTML reports with WeasyPrint.

Chinese needs a CJK font on the machine: the report's CSS names "Noto Sans SC" and
"Noto Sans CJK SC" (Debian's ``fonts-noto-cjk``, which ``.ci/run`` installs).
"""

from __future__ import annotations


def html_to_pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML  # type: ignore[import-untyped]
    except ImportError as exc:  # the [report] or [api] extra is not installed
        raise RuntimeError("PDF reports need WeasyPrint: pip install 'nenguide[report]'") from exc
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None
    return bytes(pdf)
