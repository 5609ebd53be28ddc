"""Optional clinical sections of a case: labs, symptoms, history, family history, germline
findings, investigations already done, resection and prior therapy.

As everywhere in the case, a missing entry means "not reported" and stays unknown. Where absence
is a finding, it is stated: symptoms and history are maps to ``true`` (present) or ``false``
(absent); a symptom that is not in the map is unknown.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from nenguide.model.numbers import STRICT


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# --- laboratory -------------------------------------------------------------------------------


class LabContext(_Frozen):
    """How the sample was taken; drives interference caveats."""

    fasting: bool | None = None
    on_ppi: bool | None = Field(default=None, description="Taking a proton-pump inhibitor")
    on_h2_blocker: bool | None = None
    urine_24h: bool | None = Field(default=None, description="24-hour urine collection")
    diet_restricted: bool | None = Field(
        default=None,
        description="5-HIAA: serotonin-rich foods and interfering drugs avoided before sampling",
    )
    at_hypoglycaemia: bool | None = Field(
        default=None, description="Drawn during documented hypoglycaemia / at the end of a fast"
    )
    supervised_fast: bool | None = Field(
        default=None, description="Drawn during a supervised (up to 72 h) fast"
    )
    interfering_drugs: tuple[str, ...] = Field(
        default=(), description="Drugs taken that may interfere (free text, e.g. 'paracetamol')"
    )


class LabResult(_Frozen):
    analyte: Annotated[str, Field(min_length=1, max_length=60)] = Field(
        description="Analyte code from the analyte catalogue (e.g. gastrin, chromogranin_a, "
        "hiaa_5_urine_24h); see docs/case-model.md"
    )
    value: Annotated[float, STRICT, Field(ge=0, allow_inf_nan=False)] | None = Field(
        default=None,
        description="Result in unit; give value, interpretation or times_uln (exactly one)",
    )
    unit: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        default=None,
        description="UCUM unit, e.g. pg/mL, pmol/L, mg/(24.h), umol/(24.h), mmol/L, mg/dL, [pH]"
        " (required with value)",
    )
    comparator: Literal["<", "<=", ">", ">="] | None = Field(
        default=None,
        description="Censored result: the value is a limit ('>1000' = comparator '>' and "
        "value 1000)",
    )
    interpretation: Literal["elevated", "normal", "low"] | None = Field(
        default=None,
        description="Qualitative result without a value: above, within or below the reference "
        "range",
    )
    times_uln: Annotated[float, STRICT, Field(gt=0, le=100000, allow_inf_nan=False)] | None = Field(
        default=None,
        description="Result as a multiple of the upper limit of normal ('3 x ULN')",
    )
    reference_low: Annotated[float, STRICT, Field(ge=0, allow_inf_nan=False)] | None = None
    reference_high: Annotated[float, STRICT, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None, description="Local upper limit of normal, in the result's unit"
    )
    context: LabContext = Field(default_factory=LabContext)
    date: dt.date | None = None
    loinc: Annotated[str, Field(pattern=r"^\d{1,7}-\d$")] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> LabResult:
        forms = ("value", "interpretation", "times_uln")
        given = [n for n in forms if getattr(self, n) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "lab_form",
                "give exactly one of value (with unit), interpretation or times_uln; got {given}",
                {"given": ", ".join(given) or "none"},
            )
        if self.value is not None and self.unit is None:
            raise PydanticCustomError(
                "invalid_combination",
                "a value needs its unit",
                {"subpath": "unit", "key": "lab_unit_missing"},
            )
        if self.comparator is not None and self.value is None:
            raise PydanticCustomError(
                "invalid_combination",
                "comparator qualifies a value: give the value too",
                {"subpath": "comparator", "key": "lab_comparator_value"},
            )
        return self

    @field_validator("reference_high")
    @classmethod
    def _range(cls, v: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("reference_low")
        if v is not None and low is not None and low > v:
            raise PydanticCustomError(
                "reference_range",
                "reference_low ({low}) is above reference_high ({high})",
                {"low": low, "high": v},
            )
        return v


# --- symptoms and history ---------------------------------------------------------------------


class Symptom(StrEnum):
    hypoglycaemia_symptoms = "hypoglycaemia_symptoms"  # neuroglycopenic/autonomic episodes
    relief_with_glucose = "relief_with_glucose"  # Whipple triad, third element
    flushing = "flushing"
    secretory_diarrhoea = "secretory_diarrhoea"
    bronchospasm = "bronchospasm"
    abdominal_cramps = "abdominal_cramps"
    peptic_ulcer_refractory = "peptic_ulcer_refractory"  # refractory/recurrent/atypical ulcers
    gerd_or_ulcer_with_diarrhoea = "gerd_or_ulcer_with_diarrhoea"
    watery_diarrhoea_large_volume = "watery_diarrhoea_large_volume"  # > 700 mL/day, fasting
    hypokalaemia = "hypokalaemia"
    necrolytic_migratory_erythema = "necrolytic_migratory_erythema"
    new_diabetes = "new_diabetes"
    weight_loss = "weight_loss"
    venous_thromboembolism = "venous_thromboembolism"
    cholelithiasis = "cholelithiasis"
    steatorrhoea = "steatorrhoea"
    cushingoid_features = "cushingoid_features"
    hypercalcaemia_symptoms = "hypercalcaemia_symptoms"
    acromegaly_features = "acromegaly_features"
    right_heart_failure = "right_heart_failure"
    # carcinoid-syndrome diarrhoea persisting on a stable long-acting SSA dose (telotristat)
    diarrhoea_refractory_on_ssa = "diarrhoea_refractory_on_ssa"


class History(StrEnum):
    """Personal history and findings (associated tumours, skin signs, background disease)."""

    autoimmune_atrophic_gastritis = "autoimmune_atrophic_gastritis"
    pernicious_anaemia = "pernicious_anaemia"
    zollinger_ellison_syndrome = "zollinger_ellison_syndrome"
    primary_hyperparathyroidism = "primary_hyperparathyroidism"
    pituitary_adenoma = "pituitary_adenoma"
    adrenal_tumour = "adrenal_tumour"
    pheochromocytoma_paraganglioma = "pheochromocytoma_paraganglioma"
    medullary_thyroid_carcinoma = "medullary_thyroid_carcinoma"
    mucosal_neuromas = "mucosal_neuromas"
    marfanoid_habitus = "marfanoid_habitus"
    cns_haemangioblastoma = "cns_haemangioblastoma"
    retinal_haemangioblastoma = "retinal_haemangioblastoma"
    clear_cell_renal_cell_carcinoma = "clear_cell_renal_cell_carcinoma"
    pancreatic_cysts = "pancreatic_cysts"
    cafe_au_lait_macules = "cafe_au_lait_macules"
    neurofibromas = "neurofibromas"
    facial_angiofibromas = "facial_angiofibromas"
    collagenomas = "collagenomas"
    lipomas = "lipomas"
    renal_angiomyolipoma = "renal_angiomyolipoma"
    cortical_tubers_or_sega = "cortical_tubers_or_sega"
    renal_failure = "renal_failure"
    chronic_atrophic_gastritis_other = "chronic_atrophic_gastritis_other"
    diabetes_mellitus = "diabetes_mellitus"
    carcinoid_heart_disease = "carcinoid_heart_disease"
    # established clinical diagnoses (issue 8 §2): a functional syndrome already diagnosed, a
    # hereditary syndrome diagnosed clinically (without a gene test); in family_history.findings
    # they name a relative's syndrome
    carcinoid_syndrome = "carcinoid_syndrome"
    cushing_syndrome = "cushing_syndrome"
    men1_syndrome = "men1_syndrome"
    vhl_disease = "vhl_disease"
    neurofibromatosis_type_1 = "neurofibromatosis_type_1"
    tuberous_sclerosis_complex = "tuberous_sclerosis_complex"


class Relation(StrEnum):
    first_degree = "first_degree"
    second_degree = "second_degree"


class FamilyMember(_Frozen):
    relation: Relation
    findings: tuple[History, ...] = Field(
        default=(), description="Their relevant findings, from the same list as history"
    )
    has_nen: bool | None = Field(default=None, description="Has a neuroendocrine neoplasm")
    pathogenic_variant_gene: str | None = Field(
        default=None, description="Known germline pathogenic variant (gene symbol, e.g. MEN1)"
    )


class GermlineGene(StrEnum):
    MEN1 = "MEN1"
    RET = "RET"
    VHL = "VHL"
    NF1 = "NF1"
    TSC1 = "TSC1"
    TSC2 = "TSC2"
    CDKN1B = "CDKN1B"
    SDHA = "SDHA"
    SDHB = "SDHB"
    SDHC = "SDHC"
    SDHD = "SDHD"


class GermlineResult(_Frozen):
    gene: GermlineGene
    result: str = Field(pattern=r"^(pathogenic|likely_pathogenic|vus|negative)$")


# --- investigations done ----------------------------------------------------------------------


class InvestigationKind(StrEnum):
    ct = "ct"
    mri = "mri"
    eus = "eus"
    egd = "egd"  # upper endoscopy
    colonoscopy = "colonoscopy"
    sstr_pet = "sstr_pet"  # 68Ga-DOTATATE/-TOC/-NOC, 64Cu-DOTATATE
    sstr_spect = "sstr_spect"  # 111In-pentetreotide, 99mTc-HYNIC-TOC
    fdg_pet = "fdg_pet"
    glp1r_imaging = "glp1r_imaging"
    echocardiography = "echocardiography"
    biopsy = "biopsy"
    bone_scan = "bone_scan"


class Investigation(_Frozen):
    kind: InvestigationKind
    date: dt.date | None = None
    positive: bool | None = Field(
        default=None, description="Functional imaging: tumour uptake present (per study)"
    )
    krenning_score: Annotated[int, STRICT, Field(ge=0, le=4)] | None = Field(
        default=None, description="SSTR imaging: uptake score 0-4 (higher than liver = 3)"
    )
    all_lesions_sstr_positive: bool | None = Field(
        default=None, description="SSTR imaging: every known lesion shows uptake"
    )
    finding: Annotated[str, Field(max_length=500)] | None = None


# --- treatment history ------------------------------------------------------------------------


class Margin(StrEnum):
    R0 = "R0"
    R1 = "R1"
    R2 = "R2"


class Resection(_Frozen):
    performed: bool
    margin: Margin | None = None
    date: dt.date | None = None
    procedure: Annotated[str, Field(max_length=200)] | None = None
    endoscopic: bool | None = None


class Therapy(StrEnum):
    ssa = "ssa"
    everolimus = "everolimus"
    sunitinib = "sunitinib"
    surufatinib = "surufatinib"
    capecitabine_temozolomide = "capecitabine_temozolomide"
    temozolomide = "temozolomide"
    streptozocin_based = "streptozocin_based"
    prrt = "prrt"
    platinum_etoposide = "platinum_etoposide"
    irinotecan_fluoropyrimidine = "irinotecan_fluoropyrimidine"
    oxaliplatin_fluoropyrimidine = "oxaliplatin_fluoropyrimidine"
    immune_checkpoint_inhibitor = "immune_checkpoint_inhibitor"
    liver_directed = "liver_directed"  # TAE/TACE/TARE/ablation
    interferon_alpha = "interferon_alpha"
    other = "other"


class PriorTherapy(_Frozen):
    therapy: Therapy
    line: Annotated[int, STRICT, Field(ge=1, le=20)] | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    progressed: bool | None = Field(default=None, description="Disease progressed on/after it")
    months_to_progression: Annotated[float, STRICT, Field(ge=0, le=600)] | None = None


class Resectability(StrEnum):
    resectable = "resectable"
    borderline = "borderline"
    unresectable = "unresectable"


class Clinical(_Frozen):
    """Everything beyond pathology and TNM that the pathway reads (all optional)."""

    symptoms: dict[Symptom, bool] = Field(
        default_factory=dict, description="Symptom -> present (true) / absent (false)"
    )
    history: dict[History, bool] = Field(
        default_factory=dict, description="Personal history/finding -> present / absent"
    )
    family_history: tuple[FamilyMember, ...] | None = Field(
        default=None, description="Relatives with relevant findings; [] states none"
    )
    germline: tuple[GermlineResult, ...] = ()
    labs: tuple[LabResult, ...] = ()
    investigations: tuple[Investigation, ...] = ()
    resection: Resection | None = None
    prior_therapies: tuple[PriorTherapy, ...] | None = Field(
        default=None, description="Systemic and liver-directed therapy so far; [] states none"
    )
    primary_resectability: Resectability | None = Field(
        default=None, description="MDT surgical judgement of the primary/locoregional disease"
    )
    egfr_ml_min: Annotated[float, STRICT, Field(ge=0, le=250)] | None = Field(
        default=None, description="Estimated GFR, mL/min/1.73 m²"
    )
