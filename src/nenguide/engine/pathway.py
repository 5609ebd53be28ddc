"""The roles each engine step asks its knowledge package for (``pathway.yaml`` binds them to
table ids). The engine names roles, never tables: a package that binds every role below runs
through the unchanged engine."""

from __future__ import annotations

#: step -> the roles it needs (a single table, or an ordered list of tables)
REQUIRED_ROLES: dict[str, tuple[str, ...]] = {
    "facts": ("gastric_cause", "consistency", "case", "pathway"),
    "classification": (
        "family",
        "consistency",
        "gep",
        "nec_subtype",
        "minen",
        "grade_ki67",
        "grade_mitoses",
        "grade_combine",
        "thoracic_carcinoid",
        "thoracic_highgrade",
    ),
    "stage": ("system", "flags"),
    "liver_metastasis": ("type", "consistency"),
    "functional_syndromes": ("interference", "chd", "syndromes"),
    "workup": ("items",),
    "treatment": ("setting", "caveats", "collect"),
    "follow_up": ("family", "exemption", "risk", "schedule", "extra_exams"),
    "hereditary": ("triggers", "surveillance"),
}

#: the metastatic statuses that are known (the work-up and follow-up views read the metastatic
#: inputs only then: ``unknown`` is read as not recorded)
KNOWN_MET_STATUSES = ("none", "present")

#: functional syndromes with a fact of their own in the treatment tables (confirmed or
#: suspected = true, open = unknown); the others count as ``other_syndrome``
TX_SYNDROMES = (
    "carcinoid_syndrome",
    "insulinoma",
    "gastrinoma",
    "vipoma",
    "glucagonoma",
    "somatostatinoma",
    "ectopic_acth",
)
