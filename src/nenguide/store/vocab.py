"""The store's vocabularies, defined once: roles, MDT specialties, departure reasons and the
export format. The API's schemas, the role checks and the database constraints read them here."""

from __future__ import annotations

from typing import Final

#: Who may do what is in :mod:`nenguide.api.auth`; these are the role names themselves.
CLINICIAN: Final = "clinician"
COORDINATOR: Final = "coordinator"
ADMIN: Final = "admin"
AUDITOR: Final = "auditor"
ROLES: Final = (CLINICIAN, COORDINATOR, ADMIN, AUDITOR)

SPECIALTIES: Final = (
    "pathology",
    "medical_oncology",
    "surgery",
    "radiology",
    "endocrinology",
    "nuclear_medicine",
    "gastroenterology",
    "radiation_oncology",
    "hepatology",
    "nursing",
    "genetics",
    "other",
)

#: Why an MDT decision departs from the guideline. Labels in :data:`DEPARTURE_REASON_LABELS`.
DEPARTURE_REASONS: Final = (
    "patient_preference",
    "comorbidity",
    "drug_not_available",
    "not_reimbursed",
    "trial_enrolment",
    "newer_evidence",
    "prior_toxicity",
    "other",
)

DEPARTURE_REASON_LABELS: Final[dict[str, dict[str, str]]] = {
    "patient_preference": {"en": "Patient preference", "zh-CN": "患者意愿"},
    "comorbidity": {"en": "Comorbidity", "zh-CN": "合并症"},
    "drug_not_available": {"en": "Drug not available", "zh-CN": "药物不可及"},
    "not_reimbursed": {"en": "Not reimbursed", "zh-CN": "医保不报销"},
    "trial_enrolment": {"en": "Clinical trial enrolment", "zh-CN": "参加临床试验"},
    "newer_evidence": {"en": "Newer evidence than the guideline", "zh-CN": "有比指南更新的证据"},
    "prior_toxicity": {
        "en": "Prior toxicity or intolerance",
        "zh-CN": "既往毒性反应或不耐受",
    },
    "other": {"en": "Other (explained in the comment)", "zh-CN": "其他（见备注说明）"},
}

EXPORT_FORMAT: Final = "nenguide.patient-record"
EXPORT_FORMAT_VERSION: Final = 1
