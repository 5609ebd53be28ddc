"""Functional syndromes (insulinoma, gastrinoma, carcinoid syndrome, VIPoma, glucagonoma,
somatostatinoma, ectopic ACTH, PTHrPoma, GHRHoma, calcitoninoma): status, the criteria met and
unmet, the next confirmatory test, and interference caveats.

Lab results are converted to each analyte's canonical unit (``nenguide.units``) and become facts
named with that unit (``gastrin_pg_ml``) or as a multiple of the local upper limit of normal
(``gastrin_xuln``); every conversion is noted in the trace. All thresholds are in the tables of
``syndromes.yaml``. Each syndrome's table is a ``collect`` table in priority order: the first row
that applies gives the status; rows that could still apply name the missing data. A syndrome is
evaluated only when one of its trigger symptoms is present or a trigger analyte was measured, so
the list shows syndromes the case gives a reason to think about, not every syndrome as "unknown".
"""

from __future__ import annotations

import re
from typing import Any

from nenguide.engine.context import Context
from nenguide.engine.tables import CollectResult, Row
from nenguide.model.assessment import Classification, FunctionalSyndrome, IssueKind
from nenguide.model.case import Case
from nenguide.model.clinical import LabResult
from nenguide.units import AnalyteCatalogue, LabInputError

STEP = "functional_syndromes"

_I, _C, _W = IssueKind.insufficient_data, IssueKind.conflict, IssueKind.warning
#: Issue codes of lab input errors (kinds in issues.yaml). Caveat codes are warnings.
_ERROR_CODES = {"lab_unit": "LAB_UNIT_INVALID", "lab_analyte": "LAB_ANALYTE_UNKNOWN"}

#: Atrophic gastritis in any of its recorded forms (raises gastrin and CgA).
_ATROPHIC = (
    "autoimmune_atrophic_gastritis",
    "chronic_atrophic_gastritis_other",
    "pernicious_anaemia",
)


def unit_slug(unit: str) -> str:
    """``pg/mL`` -> ``pg_ml``; ``mg/(24.h)`` -> ``mg_24h``; ``[pH]`` -> ``''``."""
    if unit in ("[pH]", "1"):
        return ""
    s = unit.replace("/(24.h)", "_24h").replace("/", "_").replace("[", "").replace("]", "")
    return re.sub(r"[^a-z0-9_]", "", s.lower())


def value_fact(code: str, canonical_unit: str) -> str:
    slug = unit_slug(canonical_unit)
    return f"{code}_{slug}" if slug else code


def _catalogue(ctx: Context) -> AnalyteCatalogue:
    # The lead may attach the catalogue to the knowledge base; until then, the packaged one.
    cat = getattr(ctx.kb, "analytes", None)
    if not isinstance(cat, AnalyteCatalogue):  # a configuration error, not a clinical outcome
        raise ValueError(f"knowledge package {ctx.kb.manifest.id} has no analyte catalogue")
    return cat


def _latest(labs: tuple[LabResult, ...]) -> dict[str, tuple[int, LabResult]]:
    """The latest result per analyte (by date; undated count as oldest; ties: the last listed)."""
    out: dict[str, tuple[int, LabResult]] = {}
    for i, lab in enumerate(labs):
        cur = out.get(lab.analyte)
        if cur is None or (lab.date or _MIN) >= (cur[1].date or _MIN):
            out[lab.analyte] = (i, lab)
    return out


_MIN = __import__("datetime").date.min


def lab_facts(ctx: Context, case: Case) -> tuple[dict[str, Any], dict[str, int]]:
    """Facts from ``clinical.labs`` (canonical values, ULN multiples, sampling context) and the
    index of the result each analyte's facts came from."""
    cat = _catalogue(ctx)
    f: dict[str, Any] = {}
    index: dict[str, int] = {}
    labs = case.clinical.labs
    bad: set[int] = set()
    for i, lab in enumerate(labs):
        try:
            cat.convert(lab.analyte, lab.value, lab.unit, f"clinical.labs.{i}")
        except LabInputError as exc:
            bad.add(i)
            ctx.issue(
                _ERROR_CODES.get(exc.code, "LAB_VALUE_INVALID"),
                STEP,
                [exc.path],
                kind=_C,
                received=str(exc.received),
                allowed=exc.allowed,
            )
    good = tuple(lab for i, lab in enumerate(labs) if i not in bad)
    positions = [i for i in range(len(labs)) if i not in bad]
    for code, (j, lab) in _latest(good).items():
        i = positions[j]
        conv = cat.convert(lab.analyte, lab.value, lab.unit, f"clinical.labs.{i}")
        a = cat.analytes[code]
        index[code] = i
        vf = value_fact(code, a.canonical_unit)
        if a.kind == "qualitative":
            f[code] = "positive" if lab.value == 1 else "negative"
        else:
            f[vf] = conv.canonical_value
        xuln = lab.value / lab.reference_high if lab.reference_high else None
        f[f"{code}_xuln"] = xuln
        f[f"{code}_below_reference_low"] = (
            lab.value < lab.reference_low if lab.reference_low is not None else None
        )
        f[f"{code}_measured"] = True
        c = lab.context
        f[f"{code}_on_ppi"] = c.on_ppi
        f[f"{code}_on_h2_blocker"] = c.on_h2_blocker
        f[f"{code}_fasting"] = c.fasting
        f[f"{code}_diet_restricted"] = c.diet_restricted
        f[f"{code}_supervised_fast"] = c.supervised_fast
        f[f"{code}_interfering_drugs"] = True if c.interfering_drugs else None
        conds = [
            f"{code} {lab.value:g} {lab.unit} = {conv.canonical_value:.4g} {a.canonical_unit}"
            f" ({conv.via})"
        ]
        if xuln is not None:
            conds.append(f"{code}_xuln = {lab.value:g} / ULN {lab.reference_high:g} = {xuln:.3g}")
        ctx.note(
            STEP,
            conv.canonical_value,
            {
                "field": f"clinical.labs.{i}",
                "analyte": code,
                "loinc": a.loinc,
                "value": lab.value,
                "unit": lab.unit,
                "canonical_value": round(conv.canonical_value, 6),
                "canonical_unit": a.canonical_unit,
                "conversion": conv.via,
                "reference_high": lab.reference_high,
                "xuln": xuln,
            },
            conds,
        )
    return f, index


def clinical_facts(case: Case) -> dict[str, Any]:
    """Symptoms (``sym_*``), history (``hx_*``) and the combined findings the tables read."""
    cl = case.clinical
    f: dict[str, Any] = {f"sym_{k.value}": v for k, v in cl.symptoms.items()}
    f.update({f"hx_{k.value}": v for k, v in cl.history.items()})
    f["sym_carcinoid"] = _any(f.get("sym_flushing"), f.get("sym_secretory_diarrhoea"))
    f["sym_somatostatinoma_triad"] = _all(
        f.get("sym_new_diabetes"), f.get("sym_cholelithiasis"), f.get("sym_steatorrhoea")
    )
    f["atrophic_gastritis"] = _any(*(f.get(f"hx_{h}") for h in _ATROPHIC))
    f["renal_failure"] = f.get("hx_renal_failure")
    f["egfr_ml_min"] = cl.egfr_ml_min
    f["echo_done"] = any(i.kind.value == "echocardiography" for i in cl.investigations)
    return f


def _any(*vals: bool | None) -> bool | None:
    if any(v is True for v in vals):
        return True
    if vals and all(v is False for v in vals):
        return False
    return None


def _all(*vals: bool | None) -> bool | None:
    if all(v is True for v in vals):
        return True
    if any(v is False for v in vals):
        return False
    return None


def functional_syndromes(
    ctx: Context, case: Case, facts: dict[str, Any], cls: Classification
) -> list[FunctionalSyndrome]:
    labs, index = lab_facts(ctx, case)
    f = {**clinical_facts(case), **labs}

    caveats_by_syndrome: dict[str, list[str]] = {}
    rules_by_syndrome: dict[str, list[str]] = {}
    interference = ctx.collect(STEP, ctx.table_id(STEP, "interference"), f)
    for row in interference.applies:
        code = row.then["code"]
        ctx.issue(code, STEP, _fields_of(row, index), rule_id=row.id, kind=_W)
        for s in row.then.get("syndromes") or []:
            _add(caveats_by_syndrome.setdefault(s, []), code)
            rules_by_syndrome.setdefault(s, []).append(row.id)

    out: list[FunctionalSyndrome] = []
    present = set(index)  # analytes with a usable result
    for table_id in ctx.kb.pathway.tables(STEP, "syndromes"):
        table = ctx.kb.tables[table_id]
        params = table.spec.parameters
        name = str(params["syndrome"])
        trig = params.get("triggers") or {}
        triggered = any(f.get(f"sym_{s}") is True for s in trig.get("symptoms") or []) or any(
            a in present for a in trig.get("analytes") or []
        )
        if name == "somatostatinoma" and f.get("sym_somatostatinoma_triad") is True:
            triggered = True
        if not triggered:
            continue
        res = ctx.collect(STEP, table_id, f)
        item = _status(ctx, name, res, params, index)
        if name == "carcinoid_syndrome":
            _chd(ctx, item, f)
        for c in caveats_by_syndrome.get(name, []):
            _add(item["caveats"], c)
        item["rule_ids"].extend(rules_by_syndrome.get(name, []))
        out.append(item)
    return out


def _add(items: list[str], code: str) -> None:
    if code not in items:
        items.append(code)


def _fields_of(row: Row, index: dict[str, int]) -> list[str]:
    fields: list[str] = []
    for c in row.conditions:
        fact = c.fact
        for code, i in index.items():
            if fact.startswith(code + "_"):
                fields.append(f"clinical.labs.{i}")
                break
        else:
            if fact in ("renal_failure",):
                fields.append("clinical.history.renal_failure")
            elif fact == "egfr_ml_min":
                fields.append("clinical.egfr_ml_min")
            elif fact == "atrophic_gastritis":
                fields.append("clinical.history")
    return sorted(set(fields))


def _status(
    ctx: Context,
    name: str,
    res: CollectResult,
    params: dict[str, Any],
    index: dict[str, int],
) -> FunctionalSyndrome:
    applies = {r.id for r in res.applies}
    maybe = dict((r.id, missing) for r, missing in res.maybe)
    chosen: Row | None = None
    missing: list[str] = []
    for row in res.table.rows:
        if row.id in applies:
            chosen = row
            break
        if row.id in maybe:
            missing.extend(m for m in maybe[row.id] if m not in missing)
    if chosen is None:
        item = FunctionalSyndrome(
            syndrome=name,
            status="insufficient_data",
            criteria_met=[],
            criteria_unmet=[],
            next_tests=list(params.get("insufficient_next_tests") or []),
            caveats=[],
            rule_ids=[],
        )
        ctx.issue(
            "SYNDROME_NEEDS_DATA",
            STEP,
            sorted({_field(m, index) for m in missing}) or ["clinical.labs"],
            kind=_I,
            syndrome=name,
            missing=tuple(missing),
        )
        ctx.note(STEP, "insufficient_data", {"syndrome": name, "missing": missing}, [])
        return item
    then = chosen.then
    item = FunctionalSyndrome(
        syndrome=name,
        status=then["status"],
        criteria_met=list(then.get("met") or []),
        criteria_unmet=list(then.get("unmet") or []),
        next_tests=list(then.get("next_tests") or []),
        caveats=list(then.get("caveats") or []),
        rule_ids=[chosen.id],
    )
    for c in item["caveats"]:
        ctx.issue(c, STEP, [], rule_id=chosen.id, kind=_W, syndrome=name)
    return item


def _field(fact: str, index: dict[str, int]) -> str:
    if fact.startswith("sym_"):
        return f"clinical.symptoms.{fact[4:]}"
    if fact.startswith("hx_"):
        return f"clinical.history.{fact[3:]}"
    return "clinical.labs"


def _chd(ctx: Context, item: FunctionalSyndrome, f: dict[str, Any]) -> None:
    res = ctx.collect(STEP, ctx.table_id(STEP, "chd"), {**f, "carcinoid_status": item["status"]})
    for row in res.applies:
        code = row.then["caveat"]
        _add(item["caveats"], code)
        for t in row.then.get("next_tests") or []:
            _add(item["next_tests"], t)
        item["rule_ids"].append(row.id)
        ctx.issue(code, STEP, [], rule_id=row.id, kind=_W, syndrome=item["syndrome"])
