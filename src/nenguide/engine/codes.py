"""Every issue code the engine can emit, with its kind. The text of each code, in every language,
is in ``knowledge/i18n``; a test fails when one is missing."""

from __future__ import annotations

from nenguide.model.assessment import IssueKind

_I = IssueKind.insufficient_data
_C = IssueKind.conflict
_W = IssueKind.warning
_N = IssueKind.info

ISSUE_KINDS: dict[str, IssueKind] = {
    # guideline
    "GUIDELINE_PAST_VALID_UNTIL": _W,
    "CONTENT_UNCONFIRMED": _W,
    # classification and grade
    "CLASSIFICATION_NEEDS_DIFFERENTIATION": _I,
    "GRADE_NEEDS_PROLIFERATION": _I,
    "THORACIC_CLASSIFICATION_NEEDS_DATA": _I,
    "MINEN_COMPONENT_NEEDS_DATA": _I,
    "GRADE_SINGLE_INDEX": _W,
    "GRADE_DISCORDANT": _N,
    "NEC_SUBTYPE_NOT_STATED": _N,
    "NEC_PROLIFERATION_NOT_REPORTED": _W,
    "KI67_NOT_A_THORACIC_CRITERION": _N,
    "MINEN_NE_BELOW_THRESHOLD": _N,
    "MINEN_NON_NE_BELOW_THRESHOLD": _N,
    "MINEN_AT_THRESHOLD": _W,
    "COMBINED_THORACIC_COMPONENTS": _N,
    "CONFLICT_WELL_DIFFERENTIATED_NEC_MORPHOLOGY": _C,
    "CONFLICT_POORLY_DIFFERENTIATED_CARCINOID_MORPHOLOGY": _C,
    "CONFLICT_NEC_LOW_PROLIFERATION": _C,
    "CONFLICT_THORACIC_HIGH_GRADE_LOW_MITOSES": _C,
    "CONFLICT_CARCINOID_ELEVATED_PROLIFERATION": _C,
    # stage
    "STAGE_NEEDS_CLASSIFICATION": _I,
    "STAGE_NEEDS_DATA": _I,
    "STAGING_BASIS_MISSING": _W,
    "STAGE_NOT_STAGED": _N,
    "STAGE_NO_TUMOUR_EVIDENCE": _N,
    "T_BOUNDARY_WORDING": _N,
    "CONFLICT_NODE_STATUS": _C,
    "CONFLICT_METASTASIS_STATUS": _C,
    # liver
    "LIVER_TYPE_NEEDS_DATA": _I,
    "LIVER_PATTERN_UNCLASSIFIED": _C,
    "CONFLICT_LIVER_SINGLE_DIFFUSE": _C,
    "CONFLICT_LIVER_RESECTABLE_DIFFUSE": _C,
    "LIVER_TYPE_NOT_FOR_NEC": _N,
}
