"""Hereditary screening over a chunk (:class:`nenguide.batch.columnar.hereditary.HereditaryProgram`)
against the engine's own step, case by case.

The program runs the engine's step once per distinct outcome of the compiled trigger table
(with the genes and the missing fields that decide the rest) and gives that answer to every
case with the same outcome. These tests check that every case gets the answer the engine gives
on that very case (its flat columns, issue codes in order, unconfirmed content), on the golden
vignettes and on generated cases given random personal and family histories, germline results
and relatives' variants (the generator leaves those empty); that the compiled table's masks are
the engine's evaluator's rows; and that a value a column cannot hold goes to the engine.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from nenguide.batch.columnar.hereditary import HereditaryProgram, Item
from nenguide.batch.synth import generate
from nenguide.engine.assess import steps_before_hereditary
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts
from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import one_of
from nenguide.engine.table_eval import collect_of
from nenguide.errors import CaseInputError, parse_case
from nenguide.model.case import Case
from nenguide.model.clinical import GermlineGene, History

AS_OF = dt.date(2026, 11, 23)
VIGNETTES = Path(__file__).parent.parent / "vignettes"


def _items(prog: HereditaryProgram, cases: list[tuple[Case, dt.date]]) -> list[Item]:
    out = []
    for case, as_of in cases:
        ctx = Context(prog.kb, "en", notes=False)
        parts = steps_before_hereditary(ctx, case, case_facts(ctx, case), as_of, None)
        out.append(prog.read(parts[-1], case, parts[0], parts[3]))
    return out


def _with_histories(n: int, seed: int) -> list[tuple[Case, dt.date]]:
    """Generated cases with random history items, relatives and germline results."""
    rng = random.Random(seed)
    genes = [g.value for g in GermlineGene]
    items = [h.value for h in History]
    out = []
    for s in generate(n, seed=seed):
        d: dict[str, Any] = dict(s.case)
        clin = dict(d.get("clinical") or {})
        if rng.random() < 0.7:
            clin["history"] = {
                h: rng.random() < 0.15 for h in rng.sample(items, rng.randint(0, 12))
            }
        if rng.random() < 0.6:
            clin["family_history"] = [
                {
                    "relation": rng.choice(["first_degree", "second_degree"]),
                    "findings": rng.sample(items, rng.randint(0, 2)),
                    "has_nen": rng.choice([None, True, False]),
                    "pathogenic_variant_gene": rng.choice([None, None, *genes]),
                }
                for _ in range(rng.randint(0, 3))
            ]
        if rng.random() < 0.3:
            clin["germline"] = [
                {"gene": g, "result": rng.choice(["pathogenic", "likely_pathogenic", "vus",
                                                  "negative"])}
                for g in rng.sample(genes, rng.randint(0, 3))
            ]  # fmt: skip
        d["clinical"] = clin
        try:
            out.append((parse_case(d), AS_OF))
        except CaseInputError:
            continue
    return out


@pytest.fixture(scope="module")
def prog(kb: Knowledge) -> HereditaryProgram:
    return HereditaryProgram(kb, "en")


@pytest.mark.parametrize("source", ["vignettes", "histories", "cohort"])
def test_every_case_gets_the_engines_answer_on_that_case(
    prog: HereditaryProgram, source: str, vignette_cases: list[tuple[Case, dt.date]]
) -> None:
    cases = {
        "vignettes": lambda: vignette_cases,
        "histories": lambda: _with_histories(3000, seed=21),
        "cohort": lambda: [(parse_case(s.case), AS_OF) for s in generate(3000, seed=22)],
    }[source]()
    items = _items(prog, cases)
    prog._seen.clear()
    got = prog.run(items)
    want = [prog.engine(it) for it in items]
    diff = [i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
    assert not diff, [(cases[i][0].case_id, got[i], want[i]) for i in diff[:3]]
    codes = {i["code"] for w in want if not isinstance(w, Exception) for i in w.issues}
    assert {"HEREDITARY_NEEDS_DATA", "HEREDITARY_FURTHER_TRIGGERS_UNKNOWN"} <= codes
    if source == "histories":  # every kind of answer seen
        assert "HEREDITARY_SURVEILLANCE_NOT_ENCODED" in codes
        assert any(not isinstance(w, Exception) and w.unconfirmed for w in want)
    if source == "cohort":  # the generated cohort's answers are shared: few engine runs
        assert len(prog._seen) < 100


def test_the_masks_are_the_engines_rows(prog: HereditaryProgram) -> None:
    """The compiled trigger table's masks: the rows the engine's evaluator finds true, and
    those it finds waiting on a missing input, on random inputs (missing ones included, and
    numbers given as a range of candidates, as the MEN1 count is while history is missing)."""
    table = prog.table
    rng = random.Random(5)
    numbers = [0, 1, 2, 3, 18, 39, 39.5, 40, 41, 60]
    rows: list[tuple[Any, ...]] = []
    ranged = 0
    for _ in range(3000):
        vals: list[Any] = []
        for name, dtype in prog.dtypes:
            if rng.random() < 0.3:
                vals.append(None)
            elif dtype == pl.Boolean():
                vals.append(rng.random() < 0.5)
            elif dtype == pl.Float64():
                if rng.random() < 0.3:
                    vals.append(one_of(rng.sample(numbers, rng.randint(2, 4))))
                    ranged += 1
                else:
                    vals.append(rng.choice(numbers))
            else:
                vals.append(rng.choice(table.spec.inputs[name].values or ["x"]))
        rows.append(tuple(vals))
    masks, fallback = prog.masks_of(rows)
    assert not any(fallback) and ranged > 500
    index = {id(r): j for j, r in enumerate(table.rows)}
    seen_waiting = 0
    for row, (applies, waiting) in zip(rows, masks, strict=True):
        res = collect_of(table, row)
        assert applies == sum(1 << index[id(r)] for r in res.applies), row
        assert waiting == sum(1 << index[id(r)] for r, _ in res.maybe), row
        seen_waiting += bool(waiting and applies)
    assert seen_waiting > 50


def test_a_value_no_column_holds_goes_to_the_engine(
    prog: HereditaryProgram, vignette_cases: list[tuple[Case, dt.date]]
) -> None:
    (item,) = _items(prog, vignette_cases[:1])
    j = prog.table.names.index("well_differentiated")  # a yes/no column holds no range
    ranged = item._replace(values=(*item.values[:j], one_of([True, False]), *item.values[j + 1 :]))
    prog._seen.clear()
    (got,) = prog.run([ranged])
    assert got == prog.engine(ranged)
    assert not prog._seen  # answered by the engine on the case, not shared


def _known_inputs(prog: HereditaryProgram, tumours: int) -> tuple[Item, dict[str, Any]]:
    """A well-differentiated pancreatic NET with a recorded Zollinger-Ellison syndrome (the
    gastrinoma trigger applies), and its trigger inputs with every unknown one set to a known
    value (no missing input but those a test leaves open)."""
    d = {
        "patient": {"age_years": 50},
        "tumour": {"primary_site": "pancreas", "size_cm": 2, "number_of_tumours": tumours},
        "pathology": {"differentiation": "well", "ki67_percent": 5},
        "clinical": {"history": {"zollinger_ellison_syndrome": True}, "family_history": []},
    }
    (item,) = _items(prog, [(parse_case(d), AS_OF)])
    known = {
        n: v if v is not None else (False if t == pl.Boolean() else 0.0)
        for (n, t), v in zip(prog.dtypes, item.values, strict=True)
    }
    return item, known


def test_whether_the_missing_fields_are_known_keeps_answers_apart(
    prog: HereditaryProgram,
) -> None:
    """Rows apply and others wait: the further-triggers issue is raised only when the waiting
    rows' missing inputs name case fields (an input no field decides names none). Two cases
    with the same masks and genes, one missing only such an input, must not share an answer.
    (This package always names a field, so the inputs are set by hand: the program's key is
    what is tested.)"""
    item, known = _known_inputs(prog, tumours=2)
    names = prog.table.names

    def with_(**values: Any) -> Item:
        return item._replace(values=tuple({**known, **values}[n] for n in names))

    # the MEN1 count as a number (the history left open makes it a range: the engine's case)
    no_field = with_(site_group=None, men1_major_count=1)  # no case field decides site_group
    with_field = with_(site_group=None, men1_major_count=1, number_of_tumours=None)
    prog._seen.clear()
    prog.run([no_field, with_field])
    first, second = sorted(prog._seen, key=str)
    assert first[:2] == second[:2]  # the same masks
    assert (first[2], second[2]) == (False, True)


def test_a_range_that_leaves_a_row_waiting_is_a_missing_input(prog: HereditaryProgram) -> None:
    """A number given as a range (the MEN1 count while history is missing) leaves a row
    waiting as a missing value does: the engine names the fields behind it, so the
    further-triggers issue is raised (the program's key says so)."""
    item, known = _known_inputs(prog, tumours=1)  # every other input known: the range is open
    known["men1_major_count"] = one_of([1, 2])  # CLINICAL_MEN1 (>= 2) waits on it
    ranged = item._replace(values=tuple(known[n] for n in prog.table.names))
    prog._seen.clear()
    (got,) = prog.run([ranged])
    ((applies, waiting, further, _),) = prog._seen
    assert applies and waiting and further is True
    assert not isinstance(got, Exception)
    assert [i["code"] for i in got.issues] == ["HEREDITARY_FURTHER_TRIGGERS_UNKNOWN"]
