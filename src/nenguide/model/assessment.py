"""The assessment: the engine's answer for one case (the published JSON contract).

Key names here are a contract that integrations rely on (see ``docs/assessment-contract.md``);
add fields, never rename or remove them.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict


class Status(StrEnum):
    DETERMINED = "DETERMINED"
    RECOMMENDED = "RECOMMENDED"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
    CONFLICT = "CONFLICT"


class IssueKind(StrEnum):
    insufficient_data = "insufficient_data"
    conflict = "conflict"
    warning = "warning"
    info = "info"


Category = Literal[
    "NET", "NEC", "MiNEN", "typical_carcinoid", "atypical_carcinoid", "LCNEC", "SCLC"
]
Grade = Literal["G1", "G2", "G3"]
NecSubtype = Literal["small_cell", "large_cell"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GuidelineRef(_Out):
    id: str
    title: str
    version: str
    edition: str
    valid_from: dt.date
    valid_until: dt.date
    status: str
    content_hash: str
    past_valid_until: bool = Field(description="as_of is later than valid_until")


class Issue(TypedDict):
    """One item for the MDT: missing data, a conflict, a warning or a note."""

    code: str
    kind: IssueKind
    step: str
    fields: list[str]  # field paths in the case the issue is about
    message: str
    rule_id: str | None
    details: dict[str, Any]


class TraceEntry(TypedDict):
    """One step of the reasoning: the rules that fired, what they read, what they applied."""

    step: str
    table: str | None
    rule_ids: list[str]  # rules that fired (first: the decisive one)
    decided: bool
    inputs: dict[str, Any]  # input values the rules read
    conditions: list[str]  # per rule: "RULE_ID: condition & condition" with the thresholds
    explanations: list[str]  # per rule: the rule's readable when_text
    result: Any
    sources: list[str]


class ComponentClassification(_Out):
    kind: str
    percent: float | None = Field(description="Share of the tumour, %; null when not reported")
    category: Category | None = None
    grade: Grade | None = None
    nec_subtype: NecSubtype | None = None
    status: Status


class Classification(_Out):
    status: Status
    category: Category | None = None
    grade: Grade | None = None
    nec_subtype: NecSubtype | None = None
    system: str | None = Field(
        default=None, description="Classification used, e.g. WHO2019_DIGESTIVE"
    )
    grade_by_ki67: Grade | None = None
    grade_by_mitoses: Grade | None = None
    grade_discordant: bool = False
    components: list[ComponentClassification] = Field(default_factory=list)
    functional: bool | None = None
    possible: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Values still possible where a reported range spans a cut-off "
        "(e.g. grade: [G1, G2] for Ki-67 reported as 2-4 %)",
    )
    possible_categories: list[Category] = Field(
        default_factory=list,
        description="With status INSUFFICIENT_DATA: the categories the data still allow",
    )


class Stage(_Out):
    status: Status
    system: str | None = None
    prefix: Literal["c", "p", "yp"] | None = None
    t: str | None = None
    n: str | None = None
    m: str | None = None
    group: str | None = Field(
        default=None,
        description=(
            "Stage group. With status INSUFFICIENT_DATA it may be a coarser group that every "
            "possible completion of the data shares (e.g. 'III' when IIIA/IIIB is open)."
        ),
    )
    t_suffix: str | None = Field(default=None, description="'(m)' for multiple primary tumours")
    possible: dict[str, list[str]] = Field(
        default_factory=dict, description="Categories still possible where data are missing"
    )
    reason: str | None = None


class LiverMetastasis(_Out):
    status: Status
    type: Literal["I", "II", "III"] | None = None
    system: str = "ENETS_2016"
    present: bool | None = Field(
        default=None,
        description=(
            "Liver metastases present per the case (null: not known). With status "
            "NOT_APPLICABLE and present true, the ENETS typing does not apply (NEC, MiNEN)."
        ),
    )


SyndromeStatus = Literal["confirmed", "suspected", "excluded", "insufficient_data"]
TreatmentCategory = Literal[
    "surgery", "endoscopic_resection", "local_ablation", "embolization", "ssa", "targeted",
    "chemotherapy", "prrt", "immunotherapy", "symptom_control", "observation", "other",
]  # fmt: skip


class FunctionalSyndrome(TypedDict):
    """A hormone syndrome: its status with the criteria met and unmet and what to do next."""

    syndrome: str  # insulinoma, gastrinoma, carcinoid_syndrome, vipoma, glucagonoma, ...
    status: SyndromeStatus
    criteria_met: list[str]
    criteria_unmet: list[str]
    next_tests: list[str]
    caveats: list[str]
    rule_ids: list[str]


class WorkupItem(TypedDict):
    """An investigation still needed, with why it is asked for."""

    code: str
    text: str
    reason: str
    sources: list[str]
    rule_id: str


class TreatmentRequirement(TypedDict):
    """What a conditional option still waits on: the case field that settles it and the
    condition it must meet (in the assessment's language, e.g. "if ECOG performance status:
    ≤ 2")."""

    field: str  # dotted case field path, e.g. patient.ecog
    fact: str  # the fact of the rule (e.g. ecog)
    condition: str


class TreatmentOption(TypedDict):
    """One treatment option with its CSCO level (null and 'unconfirmed' where not public).

    ``status`` is ``recommended`` when every condition of its rule is met, ``conditional`` when
    the choice is settled but eligibility waits on inputs the package lists as conditional
    (``requires`` names each field and condition)."""

    code: str
    text: str
    category: TreatmentCategory
    intent: str
    level: Literal["I", "II", "III"] | None
    level_status: Literal["confirmed", "unconfirmed"]
    evidence: Literal["1A", "1B", "2A", "2B", "3"] | None
    available: bool
    alternative: str | None
    sources: list[str]
    rule_id: str
    because: list[str]
    caveats: list[str]
    # added in 0.x (issue 8): absent in assessments stored before; always written now
    status: NotRequired[Literal["recommended", "conditional"]]
    requires: NotRequired[list[TreatmentRequirement]]


class MdtDiscussion(TypedDict):
    required: bool
    reasons: list[str]


class FollowUpVisit(TypedDict):
    due: dt.date
    exams: list[str]


class FollowUp(TypedDict):
    status: Status
    lifelong: bool | None
    visits: list[FollowUpVisit]
    schedule: str | None
    rule_id: str | None
    sources: list[str]


class Hereditary(TypedDict):
    status: Status
    testing_recommended: bool | None
    syndromes: list[str]
    genes: list[str]
    because: list[str]
    surveillance: list[str]
    rule_ids: list[str]


class Assessment(_Out):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={"$id": "https://nenguide.example/schema/assessment.json"},
    )

    schema_version: Literal["1"] = "1"
    guideline: GuidelineRef
    engine_version: str
    as_of: dt.date
    language: str
    case_id: str | None = None
    classification: Classification
    stage: Stage
    liver_metastasis_type: Literal["I", "II", "III"] | None = None
    liver_metastasis: LiverMetastasis
    functional_syndromes: list[FunctionalSyndrome] = Field(default_factory=list)
    workup: list[WorkupItem] = Field(default_factory=list)
    treatment: list[TreatmentOption] = Field(default_factory=list)
    mdt_discussion: MdtDiscussion | None = None
    follow_up: FollowUp | None = None
    hereditary: Hereditary | None = None
    issues: list[Issue]
    trace: list[TraceEntry]
    disclaimer: str
