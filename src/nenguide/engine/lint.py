"""Knowledge lint: checks a loaded knowledge package beyond its file schema.

* every condition names values inside the input's declared domain (catches typos);
* ``unique`` tables: exactly one row is true for every input in the domain (total, no overlap);
* ``first`` tables: at least one row is true for every input in the domain (total);
* tables named by other tables exist; every emitted code has text in every language;
* rows marked ``unconfirmed`` and unused bibliography entries are reported as warnings.

Domains are sampled at every threshold a table uses, just below and above it, and between
thresholds, so boundary mistakes (``<`` written for ``<=``) are found.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from nenguide.engine.kb import Knowledge
from nenguide.engine.logic import Tri
from nenguide.engine.tables import InputDomain, Table, _row_truth, evaluate_first

MAX_COMBINATIONS = 250_000
TABLE_REFS = ("t_table", "t_descriptor_table", "n_table", "m_table", "group_table")


@dataclass
class LintReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked_tables: int = 0
    checked_points: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def sample_domain(table: Table, name: str, dom: InputDomain) -> list[Any]:
    if dom.type == "enum":
        return list(dom.values or [])
    if dom.type == "bool":
        return [True, False]
    lo = dom.min if dom.min is not None else 0.0
    hi = dom.max if dom.max is not None else lo + 1000.0
    step = 1.0 if dom.integer else 0.01
    cuts = sorted(
        {
            float(x)
            for row in table.rows
            for c in row.conditions
            if c.fact == name
            for x in c.thresholds
        }
    )
    pts = {lo, hi}
    for x in cuts:
        pts.update({x - step, x, x + step})
    edges = sorted({lo, *cuts, hi})
    for a, b in itertools.pairwise(edges):
        pts.add((a + b) / 2)
    out = []
    for p in sorted(pts):
        if dom.integer:
            p = float(math.floor(p))
        if lo <= p <= hi:
            out.append(p)
    return sorted(set(out))


def lint(kb: Knowledge) -> LintReport:
    rep = LintReport()
    used_sources: set[str] = set()
    for table in kb.tables.values():
        rep.checked_tables += 1
        spec = table.spec
        for row in table.rows:
            used_sources.update(row.sources)
            if row.status != "confirmed":
                rep.warnings.append(f"{row.id}: content marked {row.status} (clinician review)")
            for c in row.conditions:
                dom = spec.inputs[c.fact]
                if dom.type == "enum":
                    bad = [v for v in c.values if v not in (dom.values or [])]
                    if bad:
                        rep.errors.append(
                            f"{row.id}: condition on '{c.fact}' names {bad}, not in the declared "
                            f"values {dom.values}"
                        )
                if dom.type == "bool" and any(not isinstance(v, bool) for v in c.values):
                    rep.errors.append(f"{row.id}: '{c.fact}' is boolean; use true or false")
            for key in TABLE_REFS:
                ref = row.then.get(key)
                if ref is not None and ref not in kb.tables:
                    rep.errors.append(f"{row.id}: {key} '{ref}' is not a table in this package")
        if spec.hit_policy in ("collect", "priority"):
            continue
        _check_total(table, rep)
    _check_language(kb, rep)
    unused = sorted(set(kb.bibliography) - used_sources - {kb.manifest.source})
    for s in unused:
        rep.warnings.append(f"bibliography entry '{s}' is cited by no rule")
    _check_texts(kb, rep)
    # the treatment option catalogue and site defaults against tables, sources and texts
    from nenguide.engine.treatment_data import CatalogueError, check_catalogue

    try:
        rep.errors += check_catalogue(kb)
    except CatalogueError as exc:
        rep.errors.append(str(exc))
    return rep


def _check_language(kb: Knowledge, rep: LintReport) -> None:
    """The rule language: every 'then' key against its step's schema; every input described
    (in the table or in facts.yaml); every fact table's output declared; every step in the
    pathway known to the engine."""
    from nenguide.engine.rule_language import THEN_KEYS, check_then
    from nenguide.engine.treatment_data import CatalogueError, catalogue

    try:
        options: set[str] | None = set(catalogue(kb))
    except CatalogueError:
        options = None
    tables = set(kb.tables)
    for table in kb.tables.values():
        spec = table.spec
        for row in table.rows:
            rep.errors += check_then(
                spec.step, spec.id, spec.output, row.id, row.then, tables, options
            )
        for name, dom in spec.inputs.items():
            if not dom.description and kb.facts.find(name) is None:
                rep.errors.append(
                    f"{spec.id}: input '{name}' has no description (add one to the input or "
                    "declare the fact in facts.yaml)"
                )
        if spec.step == "facts":
            decl = kb.facts.find(spec.output)
            if decl is None:
                rep.errors.append(f"{spec.id}: its output fact '{spec.output}' is not declared")
    for step in kb.pathway.steps:
        if step not in THEN_KEYS:
            rep.errors.append(f"pathway.yaml: step '{step}' is not an engine step")
    _check_conditional_inputs(kb, rep)
    _check_open_setting_input(kb, rep)
    _check_mdt_issues(kb, rep)


def _check_mdt_issues(kb: Knowledge, rep: LintReport) -> None:
    """``treatment.parameters.mdt_issues``: a list of issue codes, each with an MDT reason's
    text (``treatment.mdt.<CODE>``) in every language."""
    binding = kb.pathway.steps.get("treatment")
    codes = binding.parameters.get("mdt_issues", []) if binding else []
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        rep.errors.append("pathway.yaml: treatment.parameters.mdt_issues must be a list")
        return
    for c in codes:
        if c not in kb.issue_kinds:
            rep.errors.append(f"pathway.yaml: mdt_issues names '{c}', not an issue code")
        for lang in kb.catalog.languages:
            if not kb.catalog.get(lang, f"treatment.mdt.{c}"):
                rep.errors.append(f"pathway.yaml: mdt_issues '{c}' has no text in {lang}")


def _check_conditional_inputs(kb: Knowledge, rep: LintReport) -> None:
    """``treatment.parameters.conditional_inputs``: a list of inputs of treatment tables."""
    binding = kb.pathway.steps.get("treatment")
    names = binding.parameters.get("conditional_inputs", []) if binding else []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        rep.errors.append("pathway.yaml: treatment.parameters.conditional_inputs must be a list")
        return
    inputs = {n for t in kb.tables.values() if t.spec.step == "treatment" for n in t.spec.inputs}
    for n in names:
        if n not in inputs:
            rep.errors.append(
                f"pathway.yaml: conditional input '{n}' is not an input of a treatment table"
            )


def _check_open_setting_input(kb: Knowledge, rep: LintReport) -> None:
    """``treatment.parameters.open_setting_input``: an input of the setting table, with a
    condition text in every language for each of its values."""
    binding = kb.pathway.steps.get("treatment")
    name = binding.parameters.get("open_setting_input") if binding else None
    if name is None or binding is None:
        return
    table = kb.tables.get(binding.tables.get("setting", ""))
    if not isinstance(name, str) or table is None or name not in table.spec.inputs:
        rep.errors.append(
            f"pathway.yaml: open_setting_input '{name}' is not an input of the setting table"
        )
        return
    for value in table.spec.inputs[name].values or []:
        res = evaluate_first(table, {name: value})
        if res.decided and res.value == "unknown":
            continue  # the value that leaves the setting open has no condition of its own
        key = f"treatment.setting_condition.{name}.{value}"
        for lang in kb.catalog.languages:
            if not kb.catalog.texts[lang].get(key):
                rep.errors.append(f"i18n/{lang}: '{key}' is missing (open setting input)")


def _check_total(table: Table, rep: LintReport) -> None:
    spec = table.spec
    names = list(spec.inputs)
    samples = [sample_domain(table, n, spec.inputs[n]) for n in names]
    total = math.prod(len(s) for s in samples)
    if total > MAX_COMBINATIONS:
        rep.errors.append(
            f"{spec.id}: {total} input combinations to check exceed {MAX_COMBINATIONS}; "
            "split the table"
        )
        return
    gaps: list[dict[str, Any]] = []
    overlaps: list[tuple[dict[str, Any], list[str]]] = []
    for combo in itertools.product(*samples):
        facts = dict(zip(names, combo, strict=True))
        rep.checked_points += 1
        hits = [r.id for r in table.rows if _row_truth(r, facts)[0] is Tri.TRUE]
        if not hits:
            gaps.append(facts)
        elif spec.hit_policy == "unique" and len(hits) > 1:
            overlaps.append((facts, hits))
    if gaps:
        rep.errors.append(
            f"{spec.id}: not total - {len(gaps)} input combination(s) match no row, e.g. {gaps[0]}"
        )
    if overlaps:
        facts, hits = overlaps[0]
        rep.errors.append(
            f"{spec.id}: hit policy unique but {len(overlaps)} input combination(s) match several "
            f"rows, e.g. {facts} -> {hits}"
        )


def emitted_text_keys(kb: Knowledge) -> set[str]:
    """Every text key the engine can look up for codes it emits."""
    keys = {f"issue.{c}" for c in kb.issue_kinds}
    for table in kb.tables.values():
        for row in table.rows:
            code = row.then.get("code")
            if code:
                keys.add(f"issue.{code}")
            ns = row.then.get("not_staged")
            if ns:
                keys.add(f"not_staged.{ns}")
            system = row.then.get("system")
            if system:
                keys.add(f"system.{system}")
    keys.update({"disclaimer", "system.WHO2019_DIGESTIVE", "system.WHO2021_THORACIC"})
    keys.add(f"guideline_title.{kb.manifest.id}")
    keys.update(
        f"category.{c}"
        for c in ("NET", "NEC", "MiNEN", "typical_carcinoid", "atypical_carcinoid", "LCNEC", "SCLC")
    )
    keys.update(f"grade.{g}" for g in ("G1", "G2", "G3"))
    keys.update(f"nec_subtype.{s}" for s in ("small_cell", "large_cell"))
    keys.update(f"liver_type.{t}" for t in ("I", "II", "III"))
    keys.update(
        f"status.{s}"
        for s in ("DETERMINED", "RECOMMENDED", "NOT_APPLICABLE", "INSUFFICIENT_DATA", "CONFLICT")
    )
    keys.update(f"kind.{k}" for k in ("insufficient_data", "conflict", "warning", "info"))
    # every step that can appear in the trace or an issue (reports show its name)
    keys.update({"step.guideline", "step.facts"})
    keys.update(f"step.{s}" for s in kb.pathway.steps)
    keys.update(f"step.{t.spec.step}" for t in kb.tables.values())
    for table in kb.tables.values():
        step = table.spec.step
        for row in table.rows:
            then = row.then
            if step == "treatment":  # the facts a treatment option's "because" names
                keys.update(f"treatment.fact.{c.fact}" for c in row.conditions)
            if step == "workup":
                keys.add(f"workup.{then['item']}")
                keys.add(f"workup_reason.{then['reason']}")
            if step == "functional_syndromes":
                keys.update(f"criterion.{c}" for c in then.get("met") or [])
                keys.update(f"criterion.{c}" for c in then.get("unmet") or [])
                keys.update(f"issue.{c}" for c in then.get("caveats") or [])
                if then.get("caveat"):
                    keys.add(f"issue.{then['caveat']}")
            if step == "follow_up" and "schedule" in then:
                keys.add(f"followup.schedule.{then['schedule']}")
            if step == "hereditary":
                keys.add(f"hereditary.rule.{row.id}")
    keys.update({"followup.exempt", "followup.window_resection", "followup.window_as_of"})
    keys.update({"treatment.because", "treatment.value.true", "treatment.value.false"})
    keys.update({"treatment.requires", "treatment.requires_not"})
    return keys


def _check_texts(kb: Knowledge, rep: LintReport) -> None:
    for lang in kb.catalog.languages:
        texts = kb.catalog.texts[lang]
        missing = sorted(k for k in emitted_text_keys(kb) if not texts.get(k))
        if missing:
            rep.errors.append(f"i18n/{lang}: no text for {len(missing)} key(s): {missing[:12]}")
