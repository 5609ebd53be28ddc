"""Declared input domains (tests/mutation/domains.yaml) and the pathway-level equivalence proof.

A domain says what the pathway never presents to a table (an input unknown, one of several
values, two values together). The mutation harness proves survivors equivalent under it, so a
wrong domain would hide real survivors: every domain is checked here against the inputs each
table was consulted with, read from the trace of every golden vignette, of thousands of
generated cases and of the Hypothesis case strategy of tests/test_properties.py.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from mutation_support import mutants as _mutants
from mutation_support import package_kb as _kb
from mutation_support import sources as _sources
from nenguide import assess
from nenguide.batch.synth import generate
from nenguide.errors import parse_case
from nenguide.model.assessment import Assessment
from nenguide.mutation import equivalence, runner
from nenguide.mutation.domains import Domain, DomainError, parse, read_domains
from nenguide.mutation.vignettes import as_of, load_vignette, vignette_files
from test_properties import cases

REPO = Path(__file__).resolve().parent.parent
VIGNETTES = REPO / "tests" / "vignettes"
DOMAINS = REPO / "tests" / "mutation" / "domains.yaml"
ALLOWLIST = REPO / "tests" / "mutation" / "equivalent.yaml"
GENERATED = 2000  # synthetic cases (nenguide.batch.synth), two cohorts
AS_OF = dt.date(2026, 11, 23)


@cache
def _domains() -> dict[str, Domain]:
    return read_domains(DOMAINS)


def _violations(result: Assessment, label: str, seen: Counter[str]) -> list[str]:
    """Every consult of a table with a declared domain, in the trace, that breaks it."""
    out = []
    domains = _domains()
    for entry in result.trace:
        table = entry["table"]
        if table is None or table not in domains:
            continue
        seen[table] += 1
        for v in domains[table].violations(entry["inputs"]):
            out.append(f"{label}: {table} ({entry['step']}): {v}; inputs {dict(entry['inputs'])}")
    return out


def test_domains_name_real_tables_inputs_and_values() -> None:
    tables = _kb().tables
    assert _domains(), "no domains declared"
    for tid, dom in _domains().items():
        assert tid in tables, f"{tid}: no such table"
        spec = tables[tid].spec.inputs
        for name in dom.inputs():
            assert name in spec, f"{tid}: no input {name}"
        named: dict[str, set[Any]] = {}
        for t in dom.never_together:
            for k, v in t.values.items():
                named.setdefault(k, set()).update(v)
        for k, (sets, _why) in dom.one_of_only.items():
            named.setdefault(k, set()).update(*sets)
        for k, values in named.items():
            declared = spec[k].values if spec[k].type == "enum" else [True, False]
            assert values <= set(declared or []), f"{tid}.{k}: {values - set(declared or [])}"


def test_a_domain_without_a_reason_is_refused() -> None:
    with pytest.raises(DomainError, match="needs a reason"):
        parse({"domains": {"T": {"never_unknown": {"x": ""}}}})
    with pytest.raises(DomainError, match="unknown keys"):
        parse({"domains": {"T": {"never_empty": {"x": "why"}}}})


def test_declared_domains_hold_on_vignettes_and_generated_cases() -> None:
    """Every consult of a table with a domain, in the trace of every golden vignette and of
    GENERATED synthetic cases (both cohorts), stays inside the table's declared domain; and
    every declared table is consulted (an unread table would make the check empty)."""
    kb = _kb()
    seen: Counter[str] = Counter()
    problems: list[str] = []
    for path in vignette_files(VIGNETTES):
        v = load_vignette(path)
        result = assess(parse_case(v["case"]), kb, as_of=as_of(v))
        problems += _violations(result, f"vignette {v.get('id')}", seen)
    for i, s in enumerate(generate(GENERATED, seed=13)):
        problems += _violations(assess(parse_case(s.case), kb, as_of=AS_OF), f"synth #{i}", seen)
    assert not problems, "\n".join(problems[:20])
    unread = sorted(set(_domains()) - set(seen))
    assert not unread, f"declared domains of tables no case consults: {unread}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=cases())
def test_declared_domains_hold_on_hypothesis_cases(data: dict[str, Any]) -> None:
    problems = _violations(assess(parse_case(data), _kb(), as_of=AS_OF), "case", Counter())
    assert not problems, "\n".join(problems[:5])


def _proofs(mid: str) -> tuple[bool | None, bool | None]:
    m = _mutants()[mid]
    original = _kb().tables[m.table_id]
    mutant = runner.compile_mutant(m, _sources()[m.table_id])
    table = equivalence.equivalent(original, mutant, m.row_id)[0]
    dom = equivalence.equivalent(original, mutant, m.row_id, domain=_domains()[m.table_id])[0]
    return table, dom


def test_pathway_proof_needs_the_domain_and_still_tells_mutants_apart() -> None:
    """The examples of the task: proven only under the domain; and mutants that the trace can
    still tell apart inside the domain stay unproven (the proof is not vacuous)."""
    family = "CSCO2021.FOLLOWUP.SCHEDULE.NET_R1 when family: net -> [net, nec]"
    margin = "CSCO2021.FOLLOWUP.SCHEDULE.NET_R1 when resection_margin: R1 -> [R1, R2]"
    depth = (
        "CSCO2021.FACT.SIZE_PLAUSIBILITY.WALL_LIMITED_LARGE when extent: [mucosa, submucosa]"
        " -> [mucosa, submucosa, sphincter_of_oddi]"
    )
    for mid in (family, margin, depth):
        table, dom = _proofs(mid)
        assert table is not True and dom is True, (mid, table, dom)
    for mid in (
        # typical carcinoid with the grade unknown: the mutated row becomes a candidate
        "CSCO2021.FOLLOWUP.RISK.LOW when category: NET -> [NET, typical_carcinoid]",
        # "G2 or G3" by Ki-67, G2 by mitoses: the trace names other candidate rows
        "CSCO2021.GRADE.GEP.COMBINE.G2_KI67 when grade_ki67: G2 -> [G2, G3]",
        # a 6 cm lung tumour (no extent): the mutated row is pending on the extent
        "CSCO2021.FACT.SIZE_PLAUSIBILITY.WALL_LIMITED_LARGE when site_group: [stomach, "
        "duodenum, jejunum_ileum, appendix, colon_rectum] -> [stomach, duodenum, "
        "jejunum_ileum, appendix, colon_rectum, lung]",
        # a real clinical edit inside the domain
        "CSCO2021.FOLLOWUP.SCHEDULE.RECTUM_1_TO_2CM when size_cm: le 2 -> le 3",
    ):
        assert mid in _mutants(), mid
        assert _proofs(mid)[1] is False, mid


@pytest.mark.parametrize(
    ("mid", "kind", "name"),
    [
        ("CSCO2021.FOLLOWUP.SCHEDULE.NET_R1 when family: net -> [net, nec]", "one_of", "family"),
        (
            "CSCO2021.FOLLOWUP.SCHEDULE.NET_R1 when resection_margin: R1 -> [R1, R2]",
            "unknown",
            "family",
        ),
        (
            "CSCO2021.FOLLOWUP.SCHEDULE.NET_R1 when resection_margin: R1 -> [R1, R2]",
            "one_of",
            "resection_margin",
        ),
        (
            "CSCO2021.FOLLOWUP.SCHEDULE.NET_HIGH_RISK when risk: high -> [high, g3]",
            "one_of",
            "risk",
        ),
    ],
)
def test_without_its_domain_rule_a_mutant_is_not_proven(mid: str, kind: str, name: str) -> None:
    """Each part of a domain carries weight: drop it and the mutant is told apart (e.g. a
    family "net or nec" makes the mutated row true where the original row is only possible;
    an unknown family leaves the NEC rows open above an R2 margin)."""
    m = _mutants()[mid]
    dom = _domains()[m.table_id]
    weaker = Domain(
        dom.table,
        {k: v for k, v in dom.never_unknown.items() if not (kind == "unknown" and k == name)},
        {k: v for k, v in dom.never_one_of.items() if not (kind == "one_of" and k == name)},
        dom.one_of_only,
        dom.never_together,
        dom.unknown_together,
    )
    original = _kb().tables[m.table_id]
    mutant = runner.compile_mutant(m, _sources()[m.table_id])
    assert equivalence.equivalent(original, mutant, m.row_id, domain=dom)[0] is True
    assert equivalence.equivalent(original, mutant, m.row_id, domain=weaker)[0] is False


def test_pathway_entries_of_the_allowlist_name_a_declared_domain() -> None:
    proofs = runner.read_allowlist_proofs(ALLOWLIST)
    pathway = [mid for mid, p in proofs.items() if p == runner.PATHWAY_PROOF]
    assert pathway, "no pathway-domain entry"
    for mid in pathway:
        assert _mutants()[mid].table_id in _domains(), mid


def test_runner_proves_and_writes_pathway_entries(tmp_path: Path) -> None:
    """A survivor proven only under its table's domain gets the ``pathway-equivalent`` verdict;
    --update-allowlist writes it with ``proof: pathway-domain`` (kept on a rewrite), a
    survivor the domain does not prove goes to ``open``, and the report shows the proof kind."""
    from nenguide.mutation import report

    state = runner._State(_kb(), runner.Suite([]), _sources(), [], domains=_domains())
    proven = _mutants()["CSCO2021.FOLLOWUP.SCHEDULE.NET_R1 when resection_margin: R1 -> [R1, R2]"]
    real = _mutants()["CSCO2021.FOLLOWUP.SCHEDULE.RECTUM_1_TO_2CM when size_cm: le 2 -> le 3"]
    results = []
    for m in (proven, real):
        table = runner.compile_mutant(m, _sources()[m.table_id])
        results.append(runner.MutantResult(m, "survived", "", 0, runner.prove(state, m, table)))
    assert results[0].proof.startswith(runner.PATHWAY_VERDICT), results[0].proof
    assert "in the declared domain: distinguishable" in results[1].proof, results[1].proof
    path = tmp_path / "equivalent.yaml"
    runner.write_allowlist(path, results, keep={}, domains=_domains())
    assert runner.read_allowlist_proofs(path) == {proven.id: runner.PATHWAY_PROOF}
    assert "Pathway-level proof" in runner.read_allowlist(path)[proven.id]
    assert runner.read_open_gaps(path) == {real.id}
    # a rewrite keeps the reviewed reason and the proof kind
    runner.write_allowlist(
        path,
        results,
        keep=runner.read_allowlist(path),
        keep_proofs=runner.read_allowlist_proofs(path),
    )
    assert runner.read_allowlist_proofs(path) == {proven.id: runner.PATHWAY_PROOF}
    run = runner.RunResult(results, 1.0, 1, 0, 2, "csco-2021")
    text = report.markdown(runner.relabel(run, runner.read_allowlist(path)), mode="test")
    assert f"| {report._cell(proven.change)} | pathway |" in text


def test_known_only_with_is_parsed_and_checked() -> None:
    dom = parse(
        {
            "domains": {
                "T": {
                    "known_only_with": [
                        {"input": "score", "needs": ["stated"], "reason": "one study fills both"}
                    ]
                }
            }
        }
    )["T"]
    assert dom.filters and dom.inputs() == {"score", "stated"}
    assert dom.admits({"score": None, "stated": None})
    assert dom.admits({"score": None, "stated": "not_stated"})
    assert dom.admits({"score": 2, "stated": "positive"})
    assert dom.violations({"score": 2, "stated": None}) == ["score known only with stated"]
    assert "score known only with stated" in dom.proof_text()
    for bad in ({"input": "score", "needs": []}, {"input": "score", "needs": ["score"]}):
        with pytest.raises(DomainError, match="names an input and its needs"):
            parse({"domains": {"T": {"known_only_with": [{**bad, "reason": "r"}]}}})
    with pytest.raises(DomainError, match="needs a reason"):
        parse({"domains": {"T": {"known_only_with": [{"input": "a", "needs": ["b"]}]}}})


def _without(dom: Domain, part: str) -> Domain:
    return Domain(
        dom.table,
        dom.never_unknown,
        dom.never_one_of,
        {k: v for k, v in dom.one_of_only.items() if f"one_of_only.{k}" != part},
        () if part == "never_together" else dom.never_together,
        dom.unknown_together,
        () if part == "known_only_with" else dom.known_only_with,
    )


@pytest.mark.parametrize(
    ("mid", "part"),
    [
        # a Krenning score of 1 with no stated result: the mutated KRENNING_NONE row is possible
        (
            "CSCO2021.FACT.SSTR_POSITIVE.KRENNING_NONE when sstr_krenning_score: lt 1 -> le 1",
            "known_only_with",
        ),
        # a lung NET would get octreotide LAR from the mutated midgut row
        (
            "CSCO2021.TX.NET.SSA.MIDGUT when primary_site: [jejunum, ileum] -> "
            "[jejunum, ileum, lung]",
            "never_together",
        ),
        # "G1 or G3" with Ki-67 above 5 %: the mutated row is a candidate only in the original
        ("CSCO2021.FOLLOWUP.RISK.G2_KI67_ABOVE_5 when grade: G2 -> [G2, G3]", "one_of_only.grade"),
    ],
)
def test_the_new_domain_parts_carry_weight(mid: str, part: str) -> None:
    m = _mutants()[mid]
    dom = _domains()[m.table_id]
    original = _kb().tables[m.table_id]
    mutant = runner.compile_mutant(m, _sources()[m.table_id])
    assert equivalence.equivalent(original, mutant, m.row_id, domain=dom)[0] is True
    assert equivalence.equivalent(original, mutant, m.row_id, domain=_without(dom, part))[0] in (
        False,
        None,
    )


@pytest.mark.parametrize(
    ("mid", "check"),
    [
        (
            "CSCO2021.FACT.SIZE_PLAUSIBILITY.WALL_LIMITED_LARGE when site_group: [stomach, "
            "duodenum, jejunum_ileum, appendix, colon_rectum] -> [stomach, duodenum, "
            "jejunum_ileum, appendix, colon_rectum, lung]",
            "size_plausibility_waits_only_on_possible_warnings",
        ),
        (
            "CSCO2021.FOLLOWUP.RISK.LOW when category: NET -> [NET, typical_carcinoid]",
            "followup_risk_names_only_possible_rows",
        ),
        (
            "CSCO2021.FOLLOWUP.RISK.TYPICAL_CARCINOID when category: typical_carcinoid -> "
            "[typical_carcinoid, NET]",
            "followup_risk_names_only_possible_rows",
        ),
    ],
)
def test_mutants_the_trace_tells_apart_are_killed_by_a_property(mid: str, check: str) -> None:
    """Observable inside the domain (a row named as a candidate that no completion of the case
    can make decide), so not allow-listed: the candidate-row properties kill them."""
    from nenguide.mutation.properties import fact_checks, followup

    fn = getattr(fact_checks, check, None) or getattr(followup, check)
    m = _mutants()[mid]
    assert _proofs(mid)[1] is False, mid
    assert fn(_kb()) == []
    assert fn(runner.load_mutant(_kb(), m, _sources()[m.table_id])), mid


def test_an_empty_domain_never_proves_what_the_table_level_refutes() -> None:
    """A domain can only narrow the grid: with no restriction at all, the pathway-level proof
    must agree with the table-level one. (Its row-by-row shortcut once pruned rows below a true
    row in priority tables too, where the trace still names them, and proved 12 mutants the
    table level tells apart, e.g. a VIPoma bound edit.) Every priority-table mutant, and a
    spread of first/unique-table mutants."""
    kb = _kb()
    mutants = list(_mutants().values())
    priority = [m for m in mutants if kb.tables[m.table_id].spec.hit_policy == "priority"]
    first = [m for m in mutants if kb.tables[m.table_id].spec.hit_policy in ("first", "unique")]
    assert priority and first
    wrong = []
    for m in priority + first[::10]:
        original = kb.tables[m.table_id]
        mutant = runner.compile_mutant(m, _sources()[m.table_id])
        table_level, _ = equivalence.equivalent(original, mutant, m.row_id)
        if table_level is False:
            empty, _ = equivalence.equivalent(original, mutant, m.row_id, domain=Domain(m.table_id))
            if empty is not False:
                wrong.append(m.id)
    assert not wrong, wrong
