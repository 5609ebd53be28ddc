"""External staging oracle: AJCC 8th NET stage groups derived from the SEER EOD 3.2 tables.

``shared/oracle/stage_cases.jsonl`` (beside the repository) lists T/N/M combinations per site with
SEER's stage group. Every row SEER stages must agree exactly; rows SEER leaves ``unknown`` are our
documented choices (docs/staging-decisions.md). Used by ``tests/test_oracle_stage.py`` and by the
mutation harness.
"""

from __future__ import annotations

import json
from pathlib import Path

from nenguide.engine.kb import Knowledge
from nenguide.engine.stage import stage_group

GROUP_TABLE = {
    "stomach": "CSCO2021.STAGE.NET.GROUP",
    "duodenum": "CSCO2021.STAGE.NET.GROUP",
    "ampulla": "CSCO2021.STAGE.NET.GROUP",
    "appendix": "CSCO2021.STAGE.NET.GROUP",
    "pancreas": "CSCO2021.STAGE.NET.GROUP",
    "jejunum_ileum": "CSCO2021.STAGE.NET.JI.GROUP",
    "colon_rectum": "CSCO2021.STAGE.NET.CR.GROUP",
}
# Our answers where SEER says 'unknown' (documented in docs/staging-decisions.md).
CHOICES = {
    # (site, t, n, m): (group, decided)
    ("colon_rectum", "T0", "N1", "M0"): ("IIIB", True),  # AJCC: any T, N1 -> IIIB
}

OracleRow = dict[str, str]


def read_oracle(path: Path) -> list[OracleRow]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def staged_disagreements(kb: Knowledge, rows: list[OracleRow], site: str) -> list[str]:
    """Rows of ``site`` that SEER stages and where our group differs."""
    out = []
    for r in rows:
        if r["site"] != site or r["stage"] == "unknown":
            continue
        group, _decided = stage_group(kb, GROUP_TABLE[site], r["t"], r["n"], r["m"])
        if group != r["stage"]:
            out.append(f"{r['t']} {r['n']} {r['m']}: SEER {r['stage']}, ours {group}")
    return out


def unknown_row_departures(kb: Knowledge, rows: list[OracleRow]) -> list[str]:
    """Rows SEER leaves 'unknown' where our answer is not the documented choice."""
    out = []
    for r in rows:
        if r["stage"] != "unknown":
            continue
        key = (r["site"], r["t"], r["n"], r["m"])
        got = stage_group(kb, GROUP_TABLE[r["site"]], r["t"], r["n"], r["m"])
        want: tuple[str | None, bool]
        if key in CHOICES:
            want = CHOICES[key]
        elif r["t"] == "T0" and r["n"] == "N0":
            want = (None, True)  # no tumour and no nodal/distant disease: no stage group at all
        else:
            want = (None, False)  # NX or TX with M0: the group depends on the missing category
        if got != want:
            out.append(f"{key}: ours {got}, documented {want}")
    return out
