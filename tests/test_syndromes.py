"""Functional syndromes through assess(): triggering, interference caveats as caveats and issues,
unit errors reported as issues, conversions traced, thresholds identical in every unit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nenguide
from nenguide import load_knowledge
from nenguide.engine.syndromes import unit_slug, value_fact
from nenguide.errors import CaseInputError, parse_case
from nenguide.model.case import Case

ISSUE_KINDS = load_knowledge().issue_kinds
SYNDROME_TABLES = tuple(load_knowledge().pathway.tables("functional_syndromes", "syndromes"))
AS_OF = dt.date(2026, 11, 23)
BASE = {
    "tumour": {"primary_site": "pancreas", "size_cm": 1.5},
    "pathology": {"differentiation": "well", "ki67_percent": 2},
}


def run(clinical: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    case = parse_case({**BASE, "clinical": clinical})
    kb = nenguide.load_knowledge()
    return nenguide.assess(case, kb, as_of=AS_OF, lang=lang).model_dump(mode="json")


def syndromes(a: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["syndrome"]: s for s in a["functional_syndromes"]}


def codes(a: dict[str, Any]) -> list[str]:
    return [i["code"] for i in a["issues"]]


def test_no_clinical_data_lists_no_syndrome() -> None:
    assert run({})["functional_syndromes"] == []


def test_an_absent_symptom_does_not_trigger_a_syndrome() -> None:
    assert (
        run({"symptoms": {"flushing": False, "hypoglycaemia_symptoms": False}})[
            "functional_syndromes"
        ]
        == []
    )


def test_ppi_caveat_on_gastrin_is_a_caveat_and_an_issue() -> None:
    a = run({"labs": [{"analyte": "gastrin", "value": 400, "unit": "pg/mL",
                       "reference_high": 100, "context": {"on_ppi": True}}]})  # fmt: skip
    g = syndromes(a)["gastrinoma"]
    assert "LAB_GASTRIN_ON_PPI" in g["caveats"]
    assert "ZES_PPI_WITHDRAWAL_SAFETY" in g["caveats"]
    issue = next(i for i in a["issues"] if i["code"] == "LAB_GASTRIN_ON_PPI")
    assert issue["kind"] == "warning"
    assert issue["fields"] == ["clinical.labs.0"]
    assert issue["rule_id"] == "CSCO2021.SYN.INTERFERENCE.GASTRIN_PPI"


@pytest.mark.parametrize(
    ("clinical", "code"),
    [
        ({"history": {"renal_failure": True}}, "LAB_CGA_RENAL_FAILURE"),
        ({"egfr_ml_min": 40}, "LAB_CGA_RENAL_FAILURE"),
        ({"history": {"pernicious_anaemia": True}}, "LAB_CGA_ATROPHIC_GASTRITIS"),
        ({"history": {"chronic_atrophic_gastritis_other": True}}, "LAB_CGA_ATROPHIC_GASTRITIS"),
    ],
)
def test_cga_interferences(clinical: dict[str, Any], code: str) -> None:
    labs = [{"analyte": "chromogranin_a", "value": 200, "unit": "ug/L", "reference_high": 100}]
    a = run({**clinical, "labs": labs})
    assert code in codes(a)


def test_egfr_60_or_more_gives_no_renal_caveat() -> None:
    labs = [{"analyte": "chromogranin_a", "value": 200, "unit": "ug/L"}]
    assert "LAB_CGA_RENAL_FAILURE" not in codes(run({"egfr_ml_min": 60, "labs": labs}))


def test_5hiaa_food_and_drug_caveats() -> None:
    context = {"diet_restricted": False, "interfering_drugs": ["paracetamol"]}
    labs = [
        {"analyte": "hiaa_5_urine_24h", "value": 12, "unit": "mg/(24.h)", "reference_high": 9,
         "context": context}
    ]  # fmt: skip
    cs = syndromes(run({"labs": labs}))["carcinoid_syndrome"]
    assert {"LAB_HIAA_NOT_RESTRICTED", "LAB_HIAA_INTERFERING_DRUGS"} <= set(cs["caveats"])


def test_unit_error_is_rejected_at_input_with_its_path() -> None:
    labs = [{"analyte": "gastrin", "value": 100, "unit": "mmol/(24.h)"},
            {"analyte": "unknown_thing", "value": 1, "unit": "pg/mL"}]  # fmt: skip
    with pytest.raises(CaseInputError) as err:
        parse_case({**BASE, "clinical": {"labs": labs}})
    assert [e.path for e in err.value.errors] == ["clinical.labs.0.unit", "clinical.labs.1.analyte"]
    assert all(e.allowed for e in err.value.errors)


def test_unit_error_reaching_the_engine_is_an_issue_not_a_crash() -> None:
    # an adapter that skips parse_case (e.g. Case.model_validate) must still get no crash
    labs = [{"analyte": "gastrin", "value": 100, "unit": "mmol/(24.h)"},
            {"analyte": "unknown_thing", "value": 1, "unit": "pg/mL"}]  # fmt: skip
    case = Case.model_validate({**BASE, "clinical": {"labs": labs}})
    a = nenguide.assess(case, nenguide.load_knowledge(), as_of=AS_OF).model_dump(mode="json")
    bad = [i for i in a["issues"] if i["code"] in ("LAB_UNIT_INVALID", "LAB_ANALYTE_UNKNOWN")]
    assert [(i["code"], i["fields"]) for i in bad] == [
        ("LAB_UNIT_INVALID", ["clinical.labs.0.unit"]),
        ("LAB_ANALYTE_UNKNOWN", ["clinical.labs.1.analyte"]),
    ]
    assert all(i["kind"] == "conflict" for i in bad)
    assert "pg/mL" in bad[0]["message"]
    assert a["functional_syndromes"] == []


def test_conversion_is_traced_with_value_unit_and_threshold() -> None:
    a = run({"labs": [{"analyte": "gastrin", "value": 480, "unit": "pmol/L"}]})
    notes = [t for t in a["trace"] if t["step"] == "functional_syndromes" and t["table"] is None]
    n = notes[0]
    assert n["inputs"]["unit"] == "pmol/L" and n["inputs"]["canonical_unit"] == "pg/mL"
    assert n["inputs"]["canonical_value"] == pytest.approx(1007.1, rel=1e-3)
    fired = [t for t in a["trace"] if t["table"] == "CSCO2021.SYN.GASTRINOMA"]
    assert any("gastrin_pg_ml > 200" in c for c in fired[0]["conditions"])


def test_latest_result_wins() -> None:
    labs = [
        {
            "analyte": "vip",
            "value": 500,
            "unit": "pg/mL",
            "reference_high": 75,
            "date": "2026-01-01",
        },
        {
            "analyte": "vip",
            "value": 30,
            "unit": "pg/mL",
            "reference_high": 75,
            "date": "2026-06-01",
        },
    ]
    assert syndromes(run({"labs": labs}))["vipoma"]["status"] == "excluded"


def test_insufficient_data_names_what_is_missing() -> None:
    a = run({"labs": [{"analyte": "insulin", "value": 10, "unit": "uU/mL"}]})
    ins = syndromes(a)["insulinoma"]
    assert ins["status"] == "insufficient_data"
    issue = next(i for i in a["issues"] if i["code"] == "SYNDROME_NEEDS_DATA")
    assert issue["kind"] == "insufficient_data"
    assert "glucose_mg_dl" in issue["details"]["missing"]


def test_every_code_emitted_has_text_in_both_languages() -> None:
    kb = nenguide.load_knowledge()
    needed: set[str] = {f"issue.{c}" for c in ISSUE_KINDS}
    for tid in (*SYNDROME_TABLES, "CSCO2021.SYN.CHD", "CSCO2021.SYN.INTERFERENCE"):
        t = kb.tables[tid]
        if "syndrome" in t.spec.parameters:
            needed.add(f"syndrome.{t.spec.parameters['syndrome']}")
            needed.update(f"test.{x}" for x in t.spec.parameters["insufficient_next_tests"])
        for r in t.rows:
            th = r.then
            needed.update(f"criterion.{c}" for c in th.get("met", []) + th.get("unmet", []))
            needed.update(f"test.{c}" for c in th.get("next_tests", []))
            for c in [*th.get("caveats", []), th.get("caveat"), th.get("code")]:
                if c:
                    needed.update({f"caveat.{c}", f"issue.{c}"})
    for lang in ("en", "zh-CN"):
        missing = sorted(k for k in needed if not kb.catalog.texts[lang].get(k))
        assert not missing, f"{lang}: {missing}"


def test_every_syndrome_table_is_a_functional_syndromes_table() -> None:
    kb = nenguide.load_knowledge()
    for tid, t in kb.tables.items():
        if tid.startswith("CSCO2021.SYN."):
            assert t.spec.step == "functional_syndromes"
            assert all(r.id.startswith(tid.rsplit(".", 0)[0]) for r in t.rows)


def test_fact_names_carry_the_canonical_unit() -> None:
    assert unit_slug("mg/(24.h)") == "mg_24h"
    assert value_fact("gastrin", "pg/mL") == "gastrin_pg_ml"
    assert value_fact("gastric_ph", "[pH]") == "gastric_ph"
    kb = nenguide.load_knowledge()
    cat = load_knowledge().analytes
    inputs = {n for tid in SYNDROME_TABLES for n in kb.tables[tid].spec.inputs}
    for n in inputs:
        if n.startswith(("sym_", "hx_")) or n.endswith(("_xuln", "_low")):
            continue
        stems = {value_fact(a.code, a.canonical_unit) for a in cat.analytes.values()}
        assert n in stems | {"sulfonylurea_screen", "glucose_supervised_fast",
                             "hiaa_5_urine_24h_diet_restricted", "gastrin_on_ppi",
                             "gastrin_on_h2_blocker", "zes_recorded",
                             "atrophic_gastritis"}, n  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    pmol=st.floats(min_value=1, max_value=5000),
    unit=st.sampled_from(["pg/mL", "ng/L", "pmol/L"]),
)
def test_gastrin_status_does_not_depend_on_the_unit(pmol: float, unit: str) -> None:
    cat = load_knowledge().analytes
    pg_ml = cat.convert("gastrin", pmol, "pmol/L", "p").canonical_value
    value = pg_ml / cat.convert("gastrin", 1, unit, "p").factor
    a = run({"labs": [{"analyte": "gastrin", "value": value, "unit": unit},
                      {"analyte": "gastric_ph", "value": 1.0, "unit": "[pH]"}]})  # fmt: skip
    b = run({"labs": [{"analyte": "gastrin", "value": pmol, "unit": "pmol/L"},
                      {"analyte": "gastric_ph", "value": 1.0, "unit": "[pH]"}]})  # fmt: skip
    if abs(pg_ml - 200) > 1e-6 and abs(pg_ml - 1000) > 1e-6:
        assert syndromes(a)["gastrinoma"]["status"] == syndromes(b)["gastrinoma"]["status"]


def test_an_edited_package_reads_its_own_triggers() -> None:
    """The syndrome tables' triggers are read once per package and kept with the tables they
    were read from: a copy of the package with one table's triggers edited (sharing the
    package's ``package_cache``, as a mutant does) reads its own, and the package its own
    again; a flushing case triggers the carcinoid syndrome in one and not in the other."""
    from dataclasses import replace

    from nenguide.engine.syndromes import syndrome_tables
    from nenguide.engine.tables import compile_table

    kb = load_knowledge()
    before = syndrome_tables(kb)
    (tid,) = [t[0] for t in before[0] if t[1] == "carcinoid_syndrome"]
    table = kb.tables[tid]
    params = {**table.spec.parameters, "triggers": {"history": ["carcinoid_heart_disease"]}}
    edited_table = compile_table(table.spec.model_copy(update={"parameters": params}))
    edited = replace(kb, tables={**kb.tables, tid: edited_table}, memo={})
    assert edited.package_cache is kb.package_cache
    got = {t[0]: t for t in syndrome_tables(edited)[0]}[tid]
    assert (got[3], got[4], got[5]) == ((), (), ("hx_carcinoid_heart_disease",))
    assert syndrome_tables(kb) == before
    case = parse_case({**BASE, "clinical": {"symptoms": {"flushing": True}}})
    names = [
        [s["syndrome"] for s in nenguide.assess(case, k, as_of=AS_OF).functional_syndromes]
        for k in (kb, edited)
    ]
    assert "carcinoid_syndrome" in names[0] and "carcinoid_syndrome" not in names[1]
