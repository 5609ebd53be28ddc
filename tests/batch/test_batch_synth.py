"""Synthetic cohorts: valid, deterministic, and mixed as the cited data file says."""

from __future__ import annotations

import collections
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from nenguide import assess
from nenguide.batch.flatten import ASSESSMENT_COLUMNS, flatten
from nenguide.batch.synth import Generator, generate, mix
from nenguide.engine.kb import Knowledge
from nenguide.errors import parse_case

AS_OF = dt.date(2026, 11, 23)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    index=st.integers(0, 10**7),
    population=st.sampled_from(["seer", "china", "both"]),
    with_care=st.booleans(),
)
def test_every_synthetic_case_validates_and_assesses(
    kb: Knowledge, seed: int, index: int, population: str, with_care: bool
) -> None:
    s = Generator(seed, population).case(index, with_care=with_care)
    case = parse_case(s.case)  # raises on an invalid case
    a = assess(case, kb, as_of=AS_OF)
    assert a.case_id == f"SYN-{seed}-{index:07d}"
    assert a.classification.status is not None
    row = flatten(a)
    assert list(row) == list(ASSESSMENT_COLUMNS)  # every batch row has the same columns
    assert row["stage_group"] == a.stage.group and row["case_id"] == a.case_id


def test_same_seed_same_cohort_and_pieces_equal_the_whole() -> None:
    whole = [s.case for s in generate(60, seed=7)]
    assert whole == [s.case for s in generate(60, seed=7)]
    pieces = [s.case for s in generate(25, seed=7)] + [
        s.case for s in generate(35, seed=7, start=25)
    ]
    assert pieces == whole
    assert whole != [s.case for s in generate(60, seed=8)]


def _site_shares(population: str, n: int) -> dict[str, float]:
    counts = collections.Counter(
        s.case["tumour"]["primary_site"]
        for s in generate(n, seed=11, population=population, validate=False)
    )
    merged = collections.Counter()
    for site, c in counts.items():
        merged["small_intestine" if site in ("jejunum", "ileum") else site] += c
    return {k: v / n for k, v in merged.items()}


def test_site_mix_follows_the_data_file() -> None:
    n = 6000
    for population in ("seer", "china"):
        sites = mix()["populations"][population]["sites"]
        total = sum(s["weight"] for s in sites)
        shares = _site_shares(population, n)
        for s in sites:
            expected = s["weight"] / total
            # 4 standard errors of a binomial proportion: fails only when the mix is not used
            tolerance = 4 * (expected * (1 - expected) / n) ** 0.5 + 1e-9
            assert abs(shares.get(s["site"], 0.0) - expected) <= tolerance, (population, s)


def test_every_weight_names_its_basis_and_sources_exist() -> None:
    data = mix()
    for pop in data["populations"].values():
        for s in pop["sites"]:
            assert s["basis"] in ("source", "derived", "assumption")
            srcs = s.get("source", [])
            for src in [srcs] if isinstance(srcs, str) else srcs:
                assert src in data["sources"], src
    assert "dasari2017" in data["sources"] and "fan2017" in data["sources"]
