"""JSON Lines of cases for the tests of the columnar fact layer: every vignette's, and
generated cases varied where a column reader and the case model (or the engine's reshaping)
could part."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from hypothesis import strategies as st

from nenguide.batch.columnar.case_arrow import (
    arrow_ready,
    case_schema,
    flagged_rows,
    read_lines,
    strict_case,
)
from nenguide.batch.synth import generate
from nenguide.model.case import Case

VIGNETTES = Path(__file__).parent.parent / "vignettes"


def case_line(raw: dict[str, Any]) -> str:
    """``raw`` as a JSON line (a date as its ISO text)."""
    return json.dumps(raw, default=lambda v: v.isoformat() if isinstance(v, dt.date) else v)


def vignette_lines() -> list[str]:
    """Every golden vignette's case as a line."""
    out = []
    for path in sorted(VIGNETTES.glob("*.yaml")):
        v = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.append(case_line(v["case"]))
    return out


_BASE = [g.case for g in generate(40, seed=5)]
_SPACES = st.sampled_from(["", " ", "\t", "\u00a0", "\u3000", "\x1c", "\n "])
_FLOATS = st.floats(min_value=1e-6, max_value=60, allow_nan=False, allow_infinity=False)


@st.composite
def varied_line(draw: st.DrawFn) -> str:
    """A generated case's line, varied where a reader and the model (or the engine's
    reshaping) could part."""
    raw = json.loads(json.dumps(draw(st.sampled_from(_BASE))))
    if draw(st.booleans()):
        raw["case_id"] = draw(_SPACES) + "c" + draw(st.text("ab- ", max_size=4)) + draw(_SPACES)
    t = raw.setdefault("tumour", {})
    if "size_cm" in t and draw(st.booleans()):
        t["size_cm"] = draw(st.one_of(_FLOATS, st.integers(1, 60)))
    if t.get("primary_site") == "lung" and draw(st.booleans()):
        pool = ["visceral_pleura", "main_bronchus", "chest_wall", "heart"]
        t["lung_descriptors"] = draw(st.lists(st.sampled_from(pool), max_size=6))
    p = raw.setdefault("pathology", {})
    if "ki67_percent" in p and draw(st.booleans()):
        p["ki67_percent"] = draw(st.one_of(st.integers(0, 100), st.floats(0, 100, allow_nan=False)))
    c = raw.setdefault("clinical", {})
    choice = draw(st.sampled_from(["keep", "empty", "drop"]))
    for key in ("family_history", "labs", "symptoms"):
        if choice == "drop":
            c.pop(key, None)
        elif choice == "empty":
            c[key] = {} if key == "symptoms" else []
    for lab in c.get("labs", []):
        if draw(st.booleans()):
            lab["unit"] = draw(_SPACES) + lab.get("unit", "ng/L") + draw(_SPACES)
    ranged = p.get("differentiation") and draw(st.booleans())
    if ranged:  # a range: the per-case path, whether its key is written plainly or escaped
        p.pop("ki67_percent", None)
        p["ki67_range"] = draw(st.sampled_from(["10-20", "<3", ">=20"]))
    line = case_line(raw)
    if ranged and draw(st.booleans()):
        line = line.replace('"ki67_range"', '"ki67_r\\u0061nge"')
    if draw(st.booleans()):  # a line that names a per-case field without setting it
        line = line.replace('"tumour": {', '"tumour": {"number_of_tumours_range": null, ', 1)
    return line


_COUNT = st.one_of(st.none(), st.integers(1, 12))
_SITES = st.sampled_from(
    ["lung", "contralateral_lung", "pleura_pericardium", "bone", "brain", "peritoneum",
     "distant_nodes", "other"]
)  # fmt: skip
_KINDS = st.sampled_from(["neuroendocrine", "adenocarcinoma", "squamous", "acinar"])


@st.composite
def varied_sections(draw: st.DrawFn) -> str:
    """A generated case's line with its nodes, metastases and tumour components redrawn: the
    sections the engine's first reshaping counts (``engine.facts.derive``)."""
    raw = json.loads(json.dumps(draw(st.sampled_from(_BASE))))
    nodes = draw(st.sampled_from(["keep", "absent", "zero_of_zero", "status", "counts", "empty"]))
    if nodes == "absent":
        raw.pop("regional_nodes", None)
    elif nodes == "zero_of_zero":
        raw["regional_nodes"] = {"examined": 0, "positive": 0}
    elif nodes == "status":
        raw["regional_nodes"] = {"status": draw(st.sampled_from(["negative", "positive"]))}
    elif nodes == "counts":
        examined = draw(st.integers(0, 30))
        raw["regional_nodes"] = {
            "examined": examined,
            "positive": draw(st.integers(0, examined)),
            "mesenteric_mass_cm": draw(st.one_of(st.none(), st.floats(0, 40))),
        }
    elif nodes == "empty":
        raw["regional_nodes"] = {}
    status = draw(st.sampled_from(["keep", "absent", "none", "unknown", "present"]))
    if status == "absent":
        raw.pop("metastases", None)
    elif status != "keep":
        m: dict[str, Any] = {"status": status}
        if draw(st.booleans()):
            m["liver"] = {
                "lesion_count": draw(_COUNT),
                "extent": draw(st.one_of(st.none(), st.sampled_from(["confined", "bilobar"]))),
                "diffuse": draw(st.one_of(st.none(), st.booleans())),
            }
        extra = draw(st.sampled_from(["absent", "empty", "listed"]))
        if extra == "empty":
            m["extrahepatic"] = []
        elif extra == "listed":
            m["extrahepatic"] = [
                {"site": s, "lesion_count": n}
                for s, n in draw(st.lists(st.tuples(_SITES, _COUNT), min_size=1, max_size=4))
            ]
        raw["metastases"] = m
    p = raw.setdefault("pathology", {})
    comps = draw(st.sampled_from(["keep", "none", "shares", "some_shares", "minen"]))
    if comps != "keep":
        p.pop("components", None)
        p["minen_diagnosed"] = draw(st.one_of(st.none(), st.booleans()))
    if comps in ("shares", "some_shares"):
        n = draw(st.integers(1, 3))
        p["components"] = [
            {
                "kind": draw(_KINDS),
                "percent": None
                if comps == "some_shares" and draw(st.booleans())
                else draw(st.floats(0, 100 / n, allow_nan=False)),
            }
            for _ in range(n)
        ]
    return case_line(raw)


_STATIONS = [
    "hilar_or_intrapulmonary", "mediastinal_or_subcarinal", "contralateral_or_supraclavicular"
]  # fmt: skip
_MISSING = object()  # a field left out of the line


def _contradiction(raw: dict[str, Any], choose: Callable[[list[Any]], Any]) -> str:
    """``raw``'s line with nodes, metastases and size that may contradict each other or sit
    on the consistency tables' cut-offs, each part picked by ``choose``: a stated node status
    with counts, a nodal mass or a lung station; metastases stated absent with sites listed;
    a size about 5 or 20 cm within the mucosa or submucosa, at any site."""
    t = raw.setdefault("tumour", {})
    site = t["primary_site"] = choose(["stomach", "rectum", "ileum", "pancreas", "lung"])
    for k in ("size", "extent", "lung_descriptors"):
        t.pop(k, None)
    t["size_cm"] = choose([None, 0.8, 5.0, 5.01, 20.0, 23.0])
    if site == "pancreas":
        t["extent"] = choose([None, "confined_to_pancreas"])
    elif site != "lung":
        t["extent"] = choose([None, "mucosa", "submucosa", "muscularis_propria"])
    nodes: dict[str, Any] = {"status": choose([_MISSING, "negative", "positive", "not_assessed"])}
    if site == "ileum":
        nodes["mesenteric_mass_cm"] = choose([_MISSING, 0.0, 0.5, 3.0])
    if site == "lung":
        nodes["lung_highest_station"] = choose([_MISSING, *_STATIONS])
    examined = choose([_MISSING, 0, 1, 4])
    if examined is not _MISSING:
        nodes["examined"] = examined
        nodes["positive"] = choose(list(range(examined + 1)))
    raw["regional_nodes"] = {k: v for k, v in nodes.items() if v is not _MISSING}
    mets = {
        "status": choose(["none", "present", "unknown"]),
        "liver": choose([_MISSING, {"lesion_count": 2}]),
        "extrahepatic": choose([_MISSING, [], [{"site": "bone", "lesion_count": 1}]]),
    }
    raw["metastases"] = {k: v for k, v in mets.items() if v is not _MISSING}
    return case_line(raw)


def contradiction_lines(n: int, seed: int) -> list[str]:
    """``n`` lines of :func:`_contradiction`, each part picked at random (``seed``)."""
    rng = random.Random(seed)
    return [_contradiction(json.loads(json.dumps(rng.choice(_BASE))), rng.choice) for _ in range(n)]


def special_lab_lines() -> list[str]:
    """Lines whose lab results reach what a column could read otherwise than the engine: a
    reference limit so small that the multiple of it is infinite (a bound holds for a finite
    number only) or merely huge, for a gastric primary; and two "other" syndromes (a PTHrPoma
    suspected on its symptom, a GHRHoma or calcitoninoma open on its marker), the first active
    (the engine looks up no status after the first active one)."""
    out = []
    for i, high in enumerate([1e-306, 1e-300, 1e-3, 100.0]):
        raw = json.loads(json.dumps(_BASE[i]))
        c = raw.setdefault("clinical", {})
        c["symptoms"], c["history"] = {}, {}
        c["labs"] = [
            {"analyte": "gastrin", "value": 500.0, "unit": "pg/mL", "reference_high": high,
             "context": {"on_ppi": False}},
            {"analyte": "gastric_ph", "value": 1.5, "unit": "[pH]"},
        ]  # fmt: skip
        raw["tumour"] = {"primary_site": "stomach", "size_cm": 1.2}
        out.append(case_line(raw))
    classified = json.dumps(next(iter(generate(1, seed=13))).case, default=str)
    for marker in ("ghrh", "calcitonin"):  # on a case the core classifies
        raw = json.loads(classified)
        c = raw.setdefault("clinical", {})
        c["symptoms"], c["labs"] = (
            {"hypercalcaemia_symptoms": True},
            [{"analyte": marker, "times_uln": 3.0}],
        )
        c.pop("history", None)
        out.append(case_line(raw))
    return out


@st.composite
def varied_contradictions(draw: st.DrawFn) -> str:
    """A line of :func:`_contradiction`, each part drawn by Hypothesis."""
    raw = json.loads(json.dumps(draw(st.sampled_from(_BASE))))
    return _contradiction(raw, lambda options: draw(st.sampled_from(options)))


# a Unix time as text is a date to strict mode too: such a row is flagged (flagged_rows)
_DATE = st.one_of(
    st.none(), st.sampled_from(["2024-01-05", "2024-03-01", "2025-07-30", "1704412800"])
)
_FLAG = st.one_of(st.none(), st.booleans())
_THERAPIES = st.sampled_from(["platinum_etoposide"] * 3 + ["ssa", "everolimus", "prrt"])
_HISTORY = st.sampled_from(
    ["zollinger_ellison_syndrome", "renal_failure", "carcinoid_heart_disease", "vhl_disease",
     "men1_syndrome", "primary_hyperparathyroidism", "pituitary_adenoma"]
)  # fmt: skip


def _gastrin(draw: st.DrawFn) -> dict[str, Any]:
    """A gastrin result: a value (possibly censored), a multiple of the ULN, or a reading."""
    lab: dict[str, Any] = {
        "analyte": "gastrin",
        "date": draw(_DATE),
        "reference_high": draw(st.one_of(st.none(), st.sampled_from([100.0, 115.0]))),
        "context": {"on_ppi": draw(_FLAG)},
    }
    form = draw(st.sampled_from(["value", "censored", "times_uln", "interpretation"]))
    if form in ("value", "censored"):
        lab["value"], lab["unit"] = draw(st.floats(1, 5000, allow_nan=False)), "pg/mL"
        if form == "censored":
            lab["comparator"] = draw(st.sampled_from(["<", ">="]))
    elif form == "times_uln":
        lab["times_uln"] = draw(st.floats(0.1, 50, allow_nan=False))
    else:
        lab["interpretation"] = draw(st.sampled_from(["elevated", "normal", "low"]))
    return lab


@st.composite
def varied_clinical(draw: st.DrawFn) -> str:
    """A generated case's line with its clinical section redrawn: symptoms and history, the
    resection, SSTR studies and gastrin results (dated, undated, on the same day), prior
    therapies and relatives (``engine.case_input.clinical_input``)."""
    raw = json.loads(json.dumps(draw(st.sampled_from(_BASE))))
    c: dict[str, Any] = {}
    if draw(st.booleans()):
        c["symptoms"] = draw(
            st.dictionaries(st.sampled_from(["flushing", "secretory_diarrhoea", "weight_loss"]),
                            st.booleans(), max_size=3)
        )  # fmt: skip
    if draw(st.booleans()):
        c["history"] = draw(st.dictionaries(_HISTORY, st.booleans(), max_size=4))
    if draw(st.booleans()):
        res: dict[str, Any] = {"performed": draw(st.booleans())}
        if draw(st.booleans()):
            res["margin"] = draw(st.sampled_from(["R0", "R1", "R2"]))
        c["resection"] = res
    if draw(st.booleans()):
        c["primary_resectability"] = draw(st.sampled_from(["resectable", "unresectable"]))
    c["investigations"] = [
        {
            "kind": draw(st.sampled_from(["sstr_pet", "sstr_spect", "ct", "echocardiography"])),
            "date": draw(_DATE),
            "positive": draw(_FLAG),
            "krenning_score": draw(st.one_of(st.none(), st.integers(0, 4))),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    c["labs"] = [_gastrin(draw) for _ in range(draw(st.integers(0, 2)))]
    if draw(st.booleans()):
        c["prior_therapies"] = [
            {
                "therapy": draw(_THERAPIES),
                "progressed": draw(_FLAG),
                "months_to_progression": draw(st.one_of(st.none(), st.floats(0, 60))),
            }
            for _ in range(draw(st.integers(0, 4)))
        ]
    if draw(st.booleans()):
        c["family_history"] = [
            {
                "relation": draw(st.sampled_from(["first_degree", "second_degree"])),
                "findings": draw(st.lists(_HISTORY, max_size=2)),
                "has_nen": draw(_FLAG),
                "pathogenic_variant_gene": draw(st.one_of(st.none(), st.sampled_from(
                    ["MEN1", "men1", "VHL", "Men1x"]))),
            }
            for _ in range(draw(st.integers(0, 3)))
        ]  # fmt: skip
    for key, value in list(c.items()):
        if value == [] and draw(st.booleans()):
            del c[key]  # a list left out, or given empty
    raw["clinical"] = c
    if draw(st.booleans()):
        raw["patient"] = {"ecog": draw(st.integers(0, 4)), "age_years": draw(st.integers(18, 90))}
    return case_line(raw)


_ANALYTES = st.sampled_from(
    [("gastrin", ["pg/mL", "ng/L", "pmol/L"]), ("chromogranin_a", ["ug/L", "ng/mL", "ng/L"]),
     ("hiaa_5_urine_24h", ["mg/(24.h)", "umol/(24.h)"]), ("glucose", ["mg/dL", "mmol/L"]),
     ("insulin", ["uU/mL", "pmol/L"]), ("sulfonylurea_screen", ["1"]),
     ("gastric_ph", ["[pH]", "1"]), ("calcium", ["mmol/L", "mg/dL"])]
)  # fmt: skip


def _lab(draw: st.DrawFn) -> dict[str, Any]:
    """A lab result of a catalogue analyte in one of its units: a value (now and then
    censored, now and then outside the plausible range), a multiple of the ULN or a
    reading; with a date, reference limits and a sampling context or not."""
    code, units = draw(_ANALYTES)
    lab: dict[str, Any] = {"analyte": code, "date": draw(_DATE)}
    form = draw(st.sampled_from(["value"] * 4 + ["censored", "times_uln", "interpretation"]))
    if form in ("value", "censored"):
        lab["unit"] = draw(st.sampled_from(units))
        if code == "sulfonylurea_screen":
            lab["value"] = draw(st.sampled_from([0, 1]))
        elif code == "gastric_ph":
            lab["value"] = draw(st.floats(0, 14))
        else:
            lab["value"] = draw(st.one_of(st.floats(0, 1e7), st.sampled_from([0.01, 3.0, 1e6])))
        if form == "censored":
            lab["comparator"] = draw(st.sampled_from(["<", ">", ">="]))
    elif form == "times_uln":
        lab["times_uln"] = draw(st.floats(0.1, 50))
    else:
        lab["interpretation"] = draw(st.sampled_from(["elevated", "normal", "low"]))
    if draw(st.booleans()):
        lab["reference_high"] = draw(st.sampled_from([100.0, 40.0, 7.5]))
    if draw(st.booleans()):
        lab["reference_low"] = draw(st.sampled_from([0.0, 1.0, 3.5]))
    if draw(st.booleans()):
        lab["context"] = {
            "on_ppi": draw(_FLAG),
            "fasting": draw(_FLAG),
            "interfering_drugs": draw(
                st.lists(st.sampled_from(["paracetamol", "ppi"]), max_size=2)
            ),
        }
    return lab


@st.composite
def varied_labs(draw: st.DrawFn) -> str:
    """A generated case's line with its lab results redrawn (``engine.case_input.lab_input``):
    several results per analyte, on the same day, undated, in every unit of the analyte."""
    raw = json.loads(json.dumps(draw(st.sampled_from(_BASE))))
    c = raw.setdefault("clinical", {})
    c["labs"] = [_lab(draw) for _ in range(draw(st.integers(0, 6)))]
    return case_line(raw)


def same(engine: Any, column: Any) -> bool:
    """A fact's value from the engine and from the columns: equal, a set as a set, a flag
    never taken for a number (True == 1 in Python)."""
    if isinstance(engine, frozenset):
        return column is not None and engine == frozenset(column)
    if isinstance(engine, bool) or isinstance(column, bool):
        return type(engine) is type(column) and engine == column
    return engine == column


def ready_lines(lines: list[str]) -> tuple[list[Case], list[str]]:
    """The cases of the ``lines`` the columns read (strict, ``arrow_ready``), and those lines
    as written."""
    s = case_schema()
    ready, read = [], []
    for line in lines:
        case = strict_case(line)
        if case is not None and arrow_ready(case, s, line):
            ready.append(case)
            read.append(line)
    return ready, read


def read_ready(lines: list[str]) -> tuple[list[Case], pl.DataFrame, list[bool]]:
    """The cases of the ``lines`` the columns read (:func:`ready_lines`), their columns as
    Arrow's reader makes them from the lines as written, and which rows are flagged."""
    ready, read = ready_lines(lines)
    if not ready:
        return [], pl.DataFrame(), []
    table = read_lines(read)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return ready, frame, flagged_rows(frame).to_list()


_GENES = st.sampled_from(["MEN1", "RET", "VHL", "NF1", "TSC2", "SDHB"])
_RESULTS = st.sampled_from(["pathogenic", "likely_pathogenic", "vus", "negative"])


@st.composite
def varied_germline(draw: st.DrawFn) -> str:
    """A generated case's line with its germline results, relatives' genes and resection
    redrawn (``engine.case_input.carrier_input`` and ``extra_input``)."""
    raw = json.loads(json.dumps(draw(st.sampled_from(_BASE))))
    c = raw.setdefault("clinical", {})
    c["germline"] = [
        {"gene": draw(_GENES), "result": draw(_RESULTS)} for _ in range(draw(st.integers(0, 4)))
    ]
    if draw(st.booleans()):
        c["family_history"] = [
            {
                "relation": draw(st.sampled_from(["first_degree", "second_degree"])),
                "pathogenic_variant_gene": draw(
                    st.one_of(st.none(), st.sampled_from(["MEN1", "men1", "Vhl", "RET", "ç"]))
                ),
            }
            for _ in range(draw(st.integers(0, 3)))
        ]
    if draw(st.booleans()):
        c["resection"] = {"performed": draw(st.booleans()), "date": draw(_DATE)}
    if not c["germline"] and draw(st.booleans()):
        del c["germline"]
    return case_line(raw)


@st.composite
def varied_reported(draw: st.DrawFn) -> str:
    """A generated case's line with reported forms drawn in: a size with its unit, a mitotic
    count per fields, a reported pT as pathologists write it, a venous thrombus, an extent
    "within the wall", a tumour count, metastases with a count not given
    (``engine.case_reported.reported_input``)."""
    raw = json.loads(json.dumps(draw(st.sampled_from(_BASE))))
    t = raw.setdefault("tumour", {})
    form = draw(st.sampled_from(["none", "size", "pt", "thrombus", "within_wall", "count"]))
    if form == "size":
        t.pop("size_cm", None)
        t["size"] = {"value": draw(st.floats(0.1, 50)), "unit": draw(st.sampled_from(["mm", "cm"]))}
    elif form == "pt":
        t["reported_pt"] = draw(
            st.sampled_from(["pT1", "T2", "ypT3", "pt4", " pT2", "cT1", "pT1a", "T1B"])
        )
    elif form == "thrombus":
        t["venous_tumour_thrombus"] = draw(st.booleans())
    elif form == "within_wall":
        t["extent"] = "within_wall"
    elif form == "count":
        t["number_of_tumours"] = draw(st.integers(1, 5))
    if draw(st.booleans()):
        p = raw.setdefault("pathology", {})
        p.pop("mitoses_per_2mm2", None)
        p["mitoses"] = {"count": draw(st.floats(0, 40)), "hpf": draw(st.sampled_from([10, 50]))}
    if draw(st.booleans()):
        raw["metastases"] = {
            "status": "present",
            "extrahepatic": [{"site": "bone", "lesion_count": draw(_COUNT)}],
        }
    return case_line(raw)


def unconfirmed_read(kb: Any, trace: list[Any]) -> list[str]:
    """The unconfirmed rules an engine trace read, sorted (what the assessment flags)."""
    return sorted(kb.unconfirmed_rules & {r for entry in trace for r in entry["rule_ids"]})
