"""Treatment in the batch (:class:`nenguide.batch.columnar.treatment.TreatmentProgram`) against
the engine's own step, case by case.

The program runs the engine's treatment step once per distinct set of answers of its tables
(with the facts the step's Python reads itself, the classification's grades and whether a
conflict came first) and gives that answer to every later case with the same. These tests check
that each case gets what the flat row shows of the engine's step on that very case (each
option's code, category, availability, level status, rule and status; the MDT flag and
reasons; every issue's code and kind, in order; unconfirmed content), on the golden vignettes
(each at its own date), on generated cases, and on generated cases given random prior
therapies, SSTR imaging, gastric histories and gastrin results, fitness, renal function and
resections (the generator leaves most of those plain); that answers are shared; and that the
step's modules read no fact by name beyond the ones the key holds.
"""

from __future__ import annotations

import ast
import datetime as dt
import random
from dataclasses import replace
from operator import itemgetter
from pathlib import Path
from typing import Any

import pytest
from stepcheck import step_diffs

import nenguide.engine as engine_pkg
from nenguide.batch.columnar.treatment import TreatmentProgram
from nenguide.batch.synth import generate
from nenguide.engine.context import Context
from nenguide.engine.kb import Knowledge
from nenguide.engine.treatment import DIRECT_READS, TEXT_READS
from nenguide.errors import CaseInputError, parse_case
from nenguide.model.case import Case
from nenguide.model.clinical import Therapy

AS_OF = dt.date(2026, 11, 23)
_RULE_IDS = itemgetter("rule_ids")
_OPTION = ("code", "category", "available", "level_status", "rule_id", "status")


def _varied(n: int, seed: int) -> list[tuple[Case, dt.date]]:
    """Generated cases with random prior therapies (progressed or not, or not recorded), SSTR
    imaging, gastric histories and gastrin, ECOG, eGFR and resections."""
    rng = random.Random(seed)
    therapies = [t.value for t in Therapy]
    out = []
    for s in generate(n, seed=seed):
        d: dict[str, Any] = {k: dict(v) if isinstance(v, dict) else v for k, v in s.case.items()}
        clin = dict(d.get("clinical") or {})
        if rng.random() < 0.6:
            clin["prior_therapies"] = [
                {
                    "therapy": rng.choice(therapies),
                    "progressed": rng.choice([True, False, None]),
                    "months_to_progression": rng.choice([None, 2.0, 5.0, 14.0]),
                }
                for _ in range(rng.randint(0, 3))
            ]
        elif rng.random() < 0.3:
            clin.pop("prior_therapies", None)  # not recorded
        if rng.random() < 0.5:
            clin["investigations"] = [
                *(clin.get("investigations") or []),
                {
                    "kind": rng.choice(["sstr_pet", "sstr_spect"]),
                    "positive": rng.choice([True, False, None]),
                    "krenning_score": rng.choice([None, 1, 2, 3, 4]),
                    "all_lesions_sstr_positive": rng.choice([True, False, None]),
                },
            ]
        if rng.random() < 0.3:
            d["tumour"] = {**d["tumour"], "primary_site": "stomach"}
            d["tumour"].pop("extent", None)
        history = dict(clin.get("history") or {})
        for item in ("autoimmune_atrophic_gastritis", "zollinger_ellison_syndrome",
                     "carcinoid_heart_disease", "renal_failure"):  # fmt: skip
            r = rng.random()
            if r < 0.2:
                history[item] = True
            elif r < 0.4:
                history[item] = False
        clin["history"] = history
        if rng.random() < 0.3:
            clin["labs"] = [
                *(clin.get("labs") or []),
                {
                    "analyte": "gastrin",
                    "value": rng.choice([50.0, 150.0, 900.0, 3000.0]),
                    "unit": "pg/mL",
                    "reference_high": 100.0,
                    "context": {"on_ppi": rng.choice([True, False, None])},
                },
            ]
        if rng.random() < 0.5:
            d["patient"] = {**(d.get("patient") or {}), "ecog": rng.choice([None, 0, 1, 2, 3, 4])}
        if rng.random() < 0.3:
            clin["egfr_ml_min"] = rng.choice([20.0, 45.0, 90.0])
        r = rng.random()
        if r < 0.2:
            clin["resection"] = {"performed": False}
        elif r < 0.4:
            clin["resection"] = {"performed": True, "margin": rng.choice(["R0", "R1", None])}
        elif r < 0.5:
            clin.pop("resection", None)
        d["clinical"] = clin
        try:
            out.append((parse_case(d), AS_OF))
        except CaseInputError:
            continue
    return out


def _options(parts: Any) -> Any:
    """What the flat row shows of the treatment step: each option's columns, the MDT flag."""
    options, mdt = parts[5], parts[6]
    return (
        [tuple(o[k] for k in _OPTION) for o in options],
        None if mdt is None else (mdt["required"], list(mdt["reasons"])),
    )


def _compare(prog: TreatmentProgram, cases: list[tuple[Case, dt.date]]) -> list[str]:
    return step_diffs(prog.kb, prog, "treatment_step", _options, cases)


@pytest.fixture()
def prog(kb: Knowledge) -> TreatmentProgram:
    return TreatmentProgram(kb, "en")


@pytest.mark.parametrize("source", ["vignettes", "cohort", "varied"])
def test_every_case_gets_the_engines_answer_on_that_case(
    prog: TreatmentProgram, source: str, vignette_cases: list[tuple[Case, dt.date]]
) -> None:
    cases = {
        "vignettes": lambda: vignette_cases,
        "cohort": lambda: [(parse_case(s.case), AS_OF) for s in generate(2000, seed=51)],
        "varied": lambda: _varied(3000, seed=52),
    }[source]()
    assert len(cases) > 200
    diffs = _compare(prog, cases)
    assert not diffs, diffs[:3]
    if source == "cohort":  # answers shared between cases (more so in larger cohorts)
        assert len(prog._seen) + prog.by_engine < len(cases) * 0.6
    # answers given from an earlier case, for settings decided and left open alike
    assert any(key[0] == "open" for key in prog._seen)
    assert any(key[0] != "open" for key in prog._seen)


def test_cases_whose_setting_is_left_open_get_the_engines_answer(
    prog: TreatmentProgram,
) -> None:
    """With the metastasis status unknown (or not recorded) the step assembles the options of
    each setting the status could lead to, each conditional on it where they differ: generated
    and varied cases made so, with every other input as generated, get the engine's answer on
    that very case, and answers are shared between them (between the generated ones: a key
    holds, per candidate setting, the answers of every table, and the varied cases vary the
    inputs of most of them)."""
    generated = [parse_case(s.case) for s in generate(1500, seed=57)]
    base = generated + [c for c, _ in _varied(600, seed=57)]
    changes: list[dict[str, Any]] = [{"metastases": {"status": "unknown"}}, {"metastases": None}]
    cases = []
    for case in base:
        d = case.model_dump(mode="json", exclude_none=True)
        for change in changes:
            v = {**d, **change}
            if v.get("metastases") is None:
                v.pop("metastases", None)
            try:
                cases.append((parse_case(v), AS_OF))
            except CaseInputError:
                continue
    assert len(cases) > 3000
    n_generated = 2 * len(generated)  # the generated cases' variants come first
    diffs = _compare(prog, cases[:n_generated])
    assert not diffs, diffs[:3]
    open_keys = [key for key in prog._seen if key[0] == "open"]
    assert len(open_keys) > 50
    assert len(prog._seen) < n_generated / 3  # shared (770 keys for 3 000 cases)
    diffs = _compare(prog, cases[n_generated:])
    assert not diffs, diffs[:3]


def test_a_range_of_candidates_goes_to_the_engines_own_step(prog: TreatmentProgram) -> None:
    """A Ki-67 reported as a range across a grade's cut-off leaves the grade open (its
    candidates): the compiled functions cannot read that, so the engine's step itself treats
    those cases (and each gets its answer)."""
    base = [
        s.case
        for s in generate(1500, seed=58)
        if (s.case.get("pathology") or {}).get("ki67_percent") is not None
    ][:200]
    cases = []
    for d in base:
        pathology = {k: v for k, v in d["pathology"].items() if k != "ki67_percent"}
        pathology["ki67_range"] = {"ge": 2, "le": 30}  # G1, G2 or G3
        cases.append((parse_case({**d, "pathology": pathology}), AS_OF))
    diffs = _compare(prog, cases)
    assert not diffs, diffs[:3]
    assert prog.by_engine > 20


def _names_read(tree: ast.AST) -> set[str]:
    """The facts read by name from the step's view in a module: ``f[...]``, ``f.get(...)``
    (also ``fv``, ``facts``, ``w.facts``, ``self.facts``) with a literal name."""
    views = {"f", "fv", "facts"}

    def is_view(node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in views
        return isinstance(node, ast.Attribute) and node.attr == "facts"

    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and is_view(node.value):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                out.add(node.slice.value)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and is_view(node.func.value)
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            out.add(str(node.args[0].value))
    return out


def test_the_step_reads_no_fact_by_name_the_key_does_not_hold() -> None:
    """The treatment modules read (by name) only the facts of DIRECT_READS, the setting (the
    setting table's answer, in the key) and TEXT_READS (shown in a text only); a new reader
    must be added to DIRECT_READS, or the batch would share an answer between cases that
    differ in it."""
    folder = Path(engine_pkg.__file__).parent
    read: set[str] = set()
    for name in ("treatment.py", "treatment_offers.py", "treatment_setting.py"):
        read |= _names_read(ast.parse((folder / name).read_text(encoding="utf-8")))
    assert read, "the check finds the step's reads"
    assert read - {"setting", *TEXT_READS} <= set(DIRECT_READS), read - set(DIRECT_READS)


def _variants(base: list[Case], changes: list[dict[str, Any]]) -> list[tuple[Case, dt.date]]:
    """Each case of ``base`` with each of ``changes`` to its clinical section."""
    out = []
    for case in base:
        d = case.model_dump(mode="json", exclude_none=True)
        for change in changes:
            v = {**d, "clinical": {**(d.get("clinical") or {}), **change}}
            try:
                out.append((parse_case(v), AS_OF))
            except CaseInputError:
                continue
    return out


def test_cases_that_differ_in_a_therapy_failed_get_their_own_answer(
    prog: TreatmentProgram,
) -> None:
    """Progression on everolimus, on sunitinib or on PRRT leaves the tables' answers alike
    (they read whether a systemic therapy failed) but removes a different option: each
    variant gets its own answer, however they follow each other."""
    base = [
        parse_case(s.case)
        for s in generate(1500, seed=53)
        if (s.case.get("metastases") or {}).get("status") == "present"
    ][:150]
    changes = [
        {"prior_therapies": [{"therapy": t, "progressed": True}]}
        for t in ("everolimus", "sunitinib", "prrt", "capecitabine_temozolomide")
    ]
    cases = _variants(base, changes)
    assert len(cases) > 300
    diffs = _compare(prog, cases)
    assert not diffs, diffs[:3]


@pytest.mark.parametrize("role", ["caveats", "grade_combine"])
def test_unconfirmed_caveats_and_grade_look_ups_count(kb: Knowledge, role: str) -> None:
    """In this package no caveat rule and no row of the grade-combining table is unconfirmed
    content, so the key leaves them out. In a copy where they are the only unconfirmed
    content, a caveat that applies to an offered option, or a look-up of the grades an open
    grade could take, is what makes an answer trace unconfirmed content: each case still gets
    the engine's answer."""
    ctx = Context(kb, "en")
    step = "classification" if role == "grade_combine" else "treatment"
    table = kb.tables[ctx.table_id(step, role)]
    marked = replace(kb, memo={})
    object.__setattr__(marked, "unconfirmed_rules", frozenset(r.id for r in table.rows))
    prog = TreatmentProgram(marked, "en")
    assert prog._caveats_unconfirmed if role == "caveats" else prog._grades
    diffs = _compare(prog, _varied(2500, seed=54))
    assert not diffs, diffs[:3]


def test_an_answer_shared_between_cases_cannot_be_changed(prog: TreatmentProgram) -> None:
    """The options a later case gets are the first case's: a caller that changed them would
    change every later answer, so they are immutable (the list and each option)."""
    cases = [(parse_case(s.case), AS_OF) for s in generate(300, seed=55)]
    assert not _compare(prog, cases)
    shared = [options for options, *_ in prog._seen.values() if options]
    assert shared
    for options in shared:
        with pytest.raises(TypeError):
            options.append(options[0])  # type: ignore[attr-defined]
        with pytest.raises(TypeError):
            options[0]["code"] = "X"
