"""The concordance report: one self-contained HTML file (plots embedded as PNG, no scripts, no
network), made with matplotlib and Jinja2."""

from __future__ import annotations

import base64
import datetime as dt
import io
import textwrap
from pathlib import Path
from typing import Any

import polars as pl

from nenguide.batch.concordance import AuditResult, Indicator

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Guideline concordance audit</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC",sans-serif;
margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}
thead th{background:#f3f5f7}
.note{color:#57606a;font-size:.9rem}.src{font-size:.85rem;color:#57606a}
img{max-width:100%;height:auto}
</style></head><body>
<h1>Guideline concordance audit</h1>
<p class="note">{{ summary }}</p>
<p class="note">Per-indicator tables list the levels with at least one eligible case or one case
of unknown eligibility; the CSV table has every level.</p>
<p class="note">Rates are concordant / (concordant + not concordant) among eligible cases whose
care is recorded; 95 % confidence intervals by the Wilson score method. "Not recorded" cases are
eligible cases without the care data the indicator reads; "eligibility unknown" cases lack the
data needed to tell whether the indicator applies. Decision support for the MDT, not a
replacement for it; an audit of recorded care, not of the quality of individual decisions.</p>
<h2>Overview</h2>
<img alt="Concordance rate per indicator with 95% confidence interval"
 src="data:image/png;base64,{{ overview }}">
{{ overall_table }}
{% for ind in indicators %}
<h2 id="{{ ind.id }}">{{ ind.title }}{% if ind.title_zh %} · {{ ind.title_zh }}{% endif %}</h2>
<p class="src">Indicator {{ ind.id }}. Sources: {{ ind.sources|join(", ") }}.
{% if ind.note %} {{ ind.note }}{% endif %}</p>
{% if ind.plot %}<img alt="Rates of {{ ind.id }} by year and by site"
 src="data:image/png;base64,{{ ind.plot }}">{% endif %}
{{ ind.table }}
{% endfor %}
<p class="note">Generated {{ generated }} by nenguide {{ version }}.</p>
</body></html>
"""


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _overview(table: pl.DataFrame, indicators: list[Indicator]) -> str:
    import matplotlib.pyplot as plt

    overall = table.filter(pl.col("dimension") == "overall")
    fig, ax = plt.subplots(figsize=(8, 0.7 * len(indicators) + 1))
    labels = []
    for i, ind in enumerate(indicators):
        r = overall.filter(pl.col("indicator") == ind.id)
        n = int(r["recorded"][0]) if r.height else 0
        labels.append(textwrap.fill(f"{ind.title} (n={n})", 48))
        if r.height and r["rate"][0] is not None:
            rate, lo, hi = r["rate"][0], r["ci_low"][0], r["ci_high"][0]
            ax.errorbar(
                [rate * 100],
                [i],
                xerr=[[(rate - lo) * 100], [(hi - rate) * 100]],
                fmt="o",
                color="#0969da",
                capsize=3,
            )
    ax.set_yticks(range(len(indicators)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("Concordance, % (95 % CI)")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def _indicator_plot(table: pl.DataFrame, ind: Indicator) -> str | None:
    import matplotlib.pyplot as plt

    sub = table.filter((pl.col("indicator") == ind.id) & pl.col("rate").is_not_null())
    years = sub.filter((pl.col("dimension") == "year") & (pl.col("level") != "unknown")).sort(
        "level"
    )
    sites = sub.filter(pl.col("dimension") == "site").sort("recorded", descending=True)
    if years.height == 0 and sites.height == 0:
        return None
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.2))
    if years.height:
        x = years["level"].to_list()
        r = [v * 100 for v in years["rate"]]
        a1.plot(x, r, marker="o", color="#0969da")
        a1.fill_between(
            x,
            [v * 100 for v in years["ci_low"]],
            [v * 100 for v in years["ci_high"]],
            alpha=0.2,
            color="#0969da",
        )
        a1.set_ylim(0, 100)
        a1.set_title("By year (95 % CI)", fontsize=10)
        a1.tick_params(axis="x", rotation=45)
        a1.set_ylabel("%")
    if sites.height:
        y = list(range(sites.height))
        rates = [v * 100 for v in sites["rate"]]
        lo = [max(0.0, (a - b) * 100) for a, b in zip(sites["rate"], sites["ci_low"], strict=True)]
        hi = [max(0.0, (b - a) * 100) for a, b in zip(sites["rate"], sites["ci_high"], strict=True)]
        a2.barh(y, rates, xerr=[lo, hi], color="#8fb8ed", capsize=2)
        a2.set_yticks(
            y, [f"{s} (n={n})" for s, n in zip(sites["level"], sites["recorded"], strict=True)]
        )
        a2.invert_yaxis()
        a2.set_xlim(0, 100)
        a2.set_title("By site (95 % CI)", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def _html_table(df: pl.DataFrame) -> str:
    from html import escape

    if df.height == 0:
        return "<p class='note'>No eligible cases.</p>"
    head = "".join(f"<th>{escape(c)}</th>" for c in df.columns)
    body = []
    for row in df.iter_rows():
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append(f"<td>{v:.3f}</td>")
            else:
                cells.append(f"<td>{escape('' if v is None else str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def write_report(result: AuditResult, indicators: list[Indicator], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from jinja2 import Environment

    from nenguide._version import __version__

    table = result.table
    cols = [
        "level",
        "eligible",
        "concordant",
        "not_concordant",
        "not_recorded",
        "eligibility_unknown",
        "rate",
        "ci_low",
        "ci_high",
    ]
    overall = table.filter(pl.col("dimension") == "overall").select("indicator", *cols[1:])
    inds = []
    for ind in indicators:
        sub = table.filter(
            (pl.col("indicator") == ind.id)
            & (pl.col("dimension") != "overall")
            & ((pl.col("eligible") > 0) | (pl.col("eligibility_unknown") > 0))
        )
        inds.append(
            {
                "id": ind.id,
                "title": ind.title,
                "title_zh": ind.title_zh,
                "sources": ind.sources,
                "note": ind.note,
                "plot": _indicator_plot(table, ind),
                "table": _html_table(sub.select("dimension", *cols)),
            }
        )
    env = Environment(autoescape=True)
    from markupsafe import Markup

    for d in inds:
        d["table"] = Markup(d["table"])
    html = env.from_string(_TEMPLATE).render(
        summary=(
            f"{result.read} rows read, {result.assessed} cases assessed, "
            f"{result.rejected} rows rejected."
        ),
        overview=_overview(table, indicators),
        overall_table=Markup(_html_table(overall)),
        indicators=inds,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )
    path.write_text(html, encoding="utf-8")
