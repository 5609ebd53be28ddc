"""Synthetic cohorts: valid cases whose site, grade, stage and syndrome mix follow the published
epidemiology in ``data/synth-mix.yaml`` (each weight there names its source or says it is an
assumption). Deterministic for a seed: case ``i`` depends only on ``(seed, i)``, so a cohort can be
generated in pieces, in parallel, and still be the same.

Synthetic cases are for demos, tests and benchmarks; they are not patients and their mix is not
a registry's.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from nenguide.errors import parse_case

POPULATIONS = ("seer", "china", "both")


@lru_cache(maxsize=1)
def mix() -> dict[str, Any]:
    """The case-mix data file (packaged with nenguide)."""
    text = resources.files("nenguide.batch").joinpath("data/synth-mix.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = [k for k, v in weights.items() if isinstance(v, int | float)]
    return rng.choices(keys, weights=[float(weights[k]) for k in keys])[0]


def _chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


@dataclass(frozen=True)
class Synthetic:
    """One generated case (valid input for ``nenguide assess``) and, optionally, its care."""

    case: dict[str, Any]
    care: dict[str, Any]
    population: str


_GI = ("mucosa", "submucosa", "muscularis_propria", "subserosa", "serosa", "adjacent_organ")
_EXTENT: dict[str, dict[str, tuple[str, ...]]] = {
    "localized": {"pancreas": ("confined_to_pancreas",), "duodenum": ("mucosa", "submucosa")},
    "regional": {
        "pancreas": ("confined_to_pancreas", "duodenum_or_bile_duct", "adjacent_organ"),
        "duodenum": ("muscularis_propria", "pancreas_or_peripancreatic_fat", "serosa"),
    },
}
_SIZE = {  # (localized, other) size ranges in cm: synthetic design
    "rectum": ((0.3, 1.9), (1.0, 5.0)),
    "appendix": ((0.4, 2.0), (1.5, 5.0)),
    "stomach": ((0.3, 1.5), (1.0, 6.0)),
    "duodenum": ((0.3, 1.0), (1.0, 4.0)),
    "pancreas": ((0.8, 2.0), (2.0, 8.0)),
}


class Generator:
    """Generates case ``i`` of the cohort for ``seed`` (and population ``population``)."""

    def __init__(self, seed: int = 0, population: str = "both") -> None:
        if population not in POPULATIONS:
            raise ValueError(f"population must be one of {', '.join(POPULATIONS)}")
        self.seed = seed
        self.population = population
        self.mix = mix()

    def case(self, i: int, *, with_care: bool = False) -> Synthetic:
        rng = random.Random(f"{self.seed}:{i}")
        pop = self.population
        if pop == "both":
            pop = "seer" if rng.random() < 0.5 else "china"
        p = self.mix["populations"][pop]
        site = rng.choices(
            [s["site"] for s in p["sites"]], weights=[s["weight"] for s in p["sites"]]
        )[0]
        if site == "small_intestine":
            site = _pick(rng, self.mix["small_intestine_split"])
        year = rng.randint(self.mix["years"]["first"], self.mix["years"]["last"])
        diagnosed = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
        poor = _chance(rng, p["poorly_differentiated"]["weight"])
        grade = None if poor else _pick(rng, p["net_grade"])
        ss = self.mix["summary_stage"]
        site_key = "small_intestine" if site in ("jejunum", "ileum") else site
        stage_w = ss["by_site"].get(site_key, ss["default"])
        summary = _pick(rng, stage_w)
        if (
            poor
            and summary != "distant"
            and _chance(rng, ss["poorly_differentiated_distant"]["weight"])
        ):
            summary = "distant"
        miss = self.mix["missing"]

        case: dict[str, Any] = {"case_id": f"SYN-{self.seed}-{i:07d}"}
        patient: dict[str, Any] = {
            "sex": rng.choice(["female", "male"]),
            "ecog": rng.choice([0, 0, 1, 1, 2]),
        }
        if not _chance(rng, miss["age_years"]):
            patient["age_years"] = max(18, min(95, int(rng.gauss(58, 13))))
        case["patient"] = patient
        tumour: dict[str, Any] = {"primary_site": site}
        if site not in ("unknown_primary",):
            lo_hi = _SIZE.get(site, ((0.5, 3.0), (1.5, 7.0)))[0 if summary == "localized" else 1]
            tumour["size_cm"] = round(rng.uniform(*lo_hi), 1)
            tumour["number_of_tumours"] = 1
        if site in ("stomach", "jejunum", "ileum", "colon", "rectum", "appendix"):
            pool = _GI[:2] if summary == "localized" else _GI[1:]
            tumour["extent"] = rng.choice(pool)
        elif site in ("pancreas", "duodenum"):
            tumour["extent"] = rng.choice(
                _EXTENT["localized" if summary == "localized" else "regional"][site]
            )
        elif site == "lung":
            tumour["lung_descriptors"] = (
                [] if summary == "localized" else rng.choice([[], ["visceral_pleura"]])
            )
        case["tumour"] = tumour

        if site not in ("unknown_primary",) and not _chance(rng, miss["regional_nodes"]):
            positive = summary != "localized" and _chance(rng, 0.8)
            examined = rng.randint(4, 25)
            nodes: dict[str, Any] = {
                "examined": examined,
                "positive": rng.randint(1, min(examined, 6)) if positive else 0,
            }
            if site in ("jejunum", "ileum"):
                nodes["mesenteric_mass_cm"] = (
                    round(rng.uniform(2.1, 5.0), 1) if positive and _chance(rng, 0.3) else 0
                )
            if site == "lung" and positive:
                nodes["lung_highest_station"] = "hilar_or_intrapulmonary"
            case["regional_nodes"] = nodes
        if not _chance(rng, miss["metastases"]):
            if summary == "distant":
                met: dict[str, Any] = {"status": "present"}
                if site != "lung" and _chance(rng, 0.8):
                    met["liver"] = {
                        "lesion_count": rng.randint(1, 20),
                        "extent": rng.choice(["confined", "bilobar"]),
                        "resectability": rng.choice(
                            [
                                "standard_resection",
                                "resection_with_ablation_or_staged",
                                "unresectable",
                            ]
                        ),
                        "diffuse": False,
                        "largest_cm": round(rng.uniform(0.5, 8.0), 1),
                    }
                    met["extrahepatic"] = (
                        [{"site": "bone", "lesion_count": 1}] if _chance(rng, 0.2) else []
                    )
                else:
                    met["extrahepatic"] = [
                        {
                            "site": rng.choice(["bone", "peritoneum", "distant_nodes"]),
                            "lesion_count": rng.randint(1, 3),
                        }
                    ]
                case["metastases"] = met
            else:
                case["metastases"] = {"status": "none"}

        case["pathology"] = self._pathology(rng, site, poor, grade)
        resected = (
            summary != "distant" and site not in ("unknown_primary", "other") and _chance(rng, 0.75)
        )
        if not _chance(rng, miss["staging_basis"]):
            case["staging_basis"] = "pathological" if resected else "clinical"

        functional = (
            site_key in self.mix["syndromes"]
            and not poor
            and _chance(rng, p["functional"]["weight"] * 2)
        )
        syndrome = _pick(rng, self.mix["syndromes"][site_key]) if functional else None
        if (
            syndrome == "carcinoid_syndrome"
            and site_key == "small_intestine"
            and summary != "distant"
        ):
            syndrome = None  # carcinoid syndrome from a midgut NET needs liver metastases
        case["clinical"] = self._clinical(rng, site, summary, syndrome, resected, diagnosed)
        care = self._care(rng, case, poor, grade, summary, year, diagnosed) if with_care else {}
        return Synthetic(case, care, pop)

    def _pathology(
        self, rng: random.Random, site: str, poor: bool, grade: str | None
    ) -> dict[str, Any]:
        miss = self.mix["missing"]
        path: dict[str, Any] = {}
        if not _chance(rng, miss["differentiation"]):
            path["differentiation"] = "poor" if poor else "well"
        thoracic = site in ("lung", "thymus")
        if thoracic:
            if poor:
                sclc = _chance(rng, 0.6)
                path["morphology"] = "small_cell" if sclc else "large_cell"
                path["mitoses_per_2mm2"] = rng.randint(11, 120)
                path["necrosis"] = "extensive"
                if _chance(rng, 0.7):
                    path["ki67_percent"] = round(rng.uniform(40, 95), 1)
            elif grade == "G1":
                path.update(
                    morphology="carcinoid", mitoses_per_2mm2=rng.choice([0, 1]), necrosis="absent"
                )
            else:
                path.update(
                    morphology="carcinoid",
                    mitoses_per_2mm2=rng.randint(2, 10),
                    necrosis=rng.choice(["absent", "focal"]),
                )
            return path
        if poor:
            path["morphology"] = rng.choice(["small_cell", "large_cell"])
            ki67 = rng.uniform(30, 95)
            mit = rng.uniform(21, 80)
        elif grade == "G1":
            ki67, mit = rng.uniform(0.2, 2.9), rng.uniform(0, 1.9)
        elif grade == "G2":
            ki67, mit = rng.uniform(3, 20), rng.uniform(2, 20)
        else:
            ki67, mit = rng.uniform(21, 55), rng.uniform(21, 40)
        if not _chance(rng, miss["ki67_percent"]):
            path["ki67_percent"] = round(ki67, 1)
        if not _chance(rng, miss["mitoses_per_2mm2"]):
            path["mitoses_per_2mm2"] = round(mit, 0)
        path["ihc"] = {
            "synaptophysin": "positive",
            "chromogranin_a": rng.choice(["positive", "positive", "negative"]),
        }
        return path

    def _clinical(
        self,
        rng: random.Random,
        site: str,
        summary: str,
        syndrome: str | None,
        resected: bool,
        diagnosed: dt.date,
    ) -> dict[str, Any]:
        clin: dict[str, Any] = {}
        day = diagnosed.isoformat()
        symptoms: dict[str, bool] = {}
        labs: list[dict[str, Any]] = []
        if syndrome == "insulinoma":
            symptoms = {"hypoglycaemia_symptoms": True, "relief_with_glucose": True}
            ctx = {"at_hypoglycaemia": True, "supervised_fast": True}
            labs = [
                {
                    "analyte": "glucose",
                    "value": round(rng.uniform(30, 50)),
                    "unit": "mg/dL",
                    "context": ctx,
                    "date": day,
                },
                {
                    "analyte": "insulin",
                    "value": round(rng.uniform(6, 30), 1),
                    "unit": "uU/mL",
                    "context": ctx,
                    "date": day,
                },
                {
                    "analyte": "c_peptide",
                    "value": round(rng.uniform(0.8, 3.0), 1),
                    "unit": "ng/mL",
                    "context": ctx,
                    "date": day,
                },
            ]
        elif syndrome == "gastrinoma":
            symptoms = {"peptic_ulcer_refractory": True, "gerd_or_ulcer_with_diarrhoea": True}
            labs = [
                {
                    "analyte": "gastrin",
                    "value": round(rng.uniform(1100, 5000)),
                    "unit": "pg/mL",
                    "reference_high": 100,
                    "context": {"fasting": True, "on_ppi": False, "on_h2_blocker": False},
                    "date": day,
                },
                {"analyte": "gastric_ph", "value": 1.5, "unit": "[pH]", "date": day},
            ]
        elif syndrome == "vipoma":
            symptoms = {"watery_diarrhoea_large_volume": True, "hypokalaemia": True}
            labs = [
                {
                    "analyte": "vip",
                    "value": round(rng.uniform(300, 900)),
                    "unit": "pg/mL",
                    "reference_high": 75,
                    "date": day,
                }
            ]
        elif syndrome == "carcinoid_syndrome":
            symptoms = {"flushing": True, "secretory_diarrhoea": True}
            labs = [
                {
                    "analyte": "hiaa_5_urine_24h",
                    "value": round(rng.uniform(30, 120)),
                    "unit": "mg/(24.h)",
                    "reference_high": 9,
                    "context": {"urine_24h": True, "diet_restricted": True},
                    "date": day,
                }
            ]
        elif _chance(rng, 0.7):
            symptoms = {
                "flushing": False,
                "secretory_diarrhoea": False,
                "hypoglycaemia_symptoms": False,
                "peptic_ulcer_refractory": False,
                "watery_diarrhoea_large_volume": False,
            }
        if symptoms:
            clin["symptoms"] = symptoms
        if labs:
            clin["labs"] = labs
        if _chance(rng, 0.6):
            history = {
                k: False
                for k in (
                    "primary_hyperparathyroidism",
                    "pituitary_adenoma",
                    "medullary_thyroid_carcinoma",
                    "pheochromocytoma_paraganglioma",
                    "zollinger_ellison_syndrome",
                )
            }
            if site in ("pancreas", "duodenum") and _chance(rng, 0.05):
                history["primary_hyperparathyroidism"] = True
            clin["history"] = history
            clin["family_history"] = []
        inv: list[dict[str, Any]] = [{"kind": "ct", "date": day}]
        if summary == "distant" and _chance(rng, 0.6):
            inv.append(
                {
                    "kind": "sstr_pet",
                    "date": day,
                    "positive": True,
                    "krenning_score": rng.choice([2, 3, 4]),
                    "all_lesions_sstr_positive": _chance(rng, 0.8),
                }
            )
        clin["investigations"] = inv
        if summary == "distant" or site in ("unknown_primary", "other"):
            clin["resection"] = {"performed": False}
            clin["primary_resectability"] = rng.choice(["resectable", "borderline", "unresectable"])
        elif resected:
            when = (diagnosed + dt.timedelta(days=rng.randint(7, 60))).isoformat()
            endo = site in ("rectum", "stomach", "duodenum") and summary == "localized"
            clin["resection"] = {
                "performed": True,
                "margin": "R0" if _chance(rng, 0.9) else "R1",
                "date": when,
                "endoscopic": endo,
            }
        clin["prior_therapies"] = []
        return clin

    def _care(
        self,
        rng: random.Random,
        case: dict[str, Any],
        poor: bool,
        grade: str | None,
        summary: str,
        year: int,
        diagnosed: dt.date,
    ) -> dict[str, Any]:
        c = self.mix["care"]
        unknown = c["not_recorded"]

        def maybe(value: Any) -> Any:
            return None if _chance(rng, unknown) else value

        care: dict[str, Any] = {"year": year}
        site = case["tumour"]["primary_site"]
        if summary == "distant":
            if poor:
                first = (
                    "platinum_etoposide"
                    if _chance(rng, c["platinum_etoposide_first_line"])
                    else "capecitabine_temozolomide"
                )
            else:
                first = "ssa"
            care["first_line_systemic"] = maybe(first)
            if first == "ssa":
                start = diagnosed + dt.timedelta(days=rng.randint(20, 90))
                care["ssa_start"] = maybe(start.isoformat())
                before = _chance(rng, c["sstr_imaging_before_ssa"])
                care["sstr_imaging_done"] = maybe(before or _chance(rng, 0.5))
                if care["sstr_imaging_done"]:
                    shift = -rng.randint(1, 15) if before else rng.randint(1, 60)
                    care["sstr_imaging_date"] = (start + dt.timedelta(days=shift)).isoformat()
        else:
            care["first_line_systemic"] = maybe("none")
        resection = case["clinical"].get("resection") or {}
        procedures: list[str] = []
        if resection.get("performed"):
            procedures.append(
                "endoscopic_resection" if resection.get("endoscopic") else "surgical_resection"
            )
        if site == "rectum" and summary == "localized" and not procedures:
            procedures.append(
                "endoscopic_resection"
                if _chance(rng, c["endoscopic_resection_small_rectal"])
                else "surgical_resection"
            )
        care["procedures"] = maybe(procedures)
        care["genetic_testing_offered"] = maybe(_chance(rng, c["genetic_testing_offered"]))
        care["mdt_discussed"] = maybe(_chance(rng, c["mdt_discussed"]))
        care["follow_up_done"] = maybe(_chance(rng, c["follow_up_done"]))
        return care


def generate(
    n: int,
    seed: int = 0,
    population: str = "both",
    *,
    start: int = 0,
    with_care: bool = False,
    validate: bool = True,
) -> Iterator[Synthetic]:
    """Cases ``start`` .. ``start + n - 1`` of the cohort for ``seed``; each validated by the case
    model (a generated case that does not validate is a bug and raises)."""
    gen = Generator(seed, population)
    for i in range(start, start + n):
        s = gen.case(i, with_care=with_care)
        if validate:
            parse_case(s.case)
        yield s
