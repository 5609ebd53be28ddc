"""The ``then`` side of the rule language: for each step, every key a row may set, its type,
what the engine does with it, and an example. ``knowledge lint`` checks every row against this
schema; docs/knowledge-authoring.md documents every key (a test keeps the two in step).

Types: ``str``, ``bool``, ``int``, ``count`` (a whole number of at least 1, e.g. an interval in
months), ``text`` (a code whose text must exist in i18n), ``table``
(a table id of the package), ``option`` (an option code of ``options.yaml``), ``list[...]`` of
those, ``map`` (a mapping), ``value`` (any scalar, or null). A table's ``output`` key is always
allowed; its type is the table's (for fact tables: the declared fact's domain).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Key:
    type: str
    doc: str
    example: str
    required: bool = False
    # keys a row that sets this one must set too (an extra exam needs its interval)
    needs: tuple[str, ...] = ()


_CODE = Key(
    "text",
    "issue code raised when the row applies (text key issue.<CODE>)",
    "code: CONFLICT_NODE_STATUS",
)
_FIELDS = Key("list[str]", "case field paths the issue names", "fields: [regional_nodes.status]")

THEN_KEYS: dict[str, dict[str, Key]] = {
    "facts": {},  # fact tables set only their output (a declared fact)
    "classification": {
        "family": Key("str", "rule family: gep or thoracic (the 'family' table)", "family: gep"),
        "code": _CODE,
        "fields": _FIELDS,
        "mix": Key(
            "str", "MiNEN / not_neuroendocrine / neuroendocrine (the 'minen' table)", "mix: MiNEN"
        ),
        "category": Key(
            "value", "classification category (null: not decided by this row)", "category: NEC"
        ),
        "nec_subtype": Key(
            "value",
            "small_cell or large_cell (thoracic high-grade rows)",
            "nec_subtype: small_cell",
        ),
        "grade": Key("str", "G1, G2, G3 or GX (grade tables)", "grade: G2"),
    },
    "stage": {
        "t": Key("str", "T category", "t: T2"),
        "n": Key("str", "N category", "n: N1"),
        "m": Key("str", "M category", "m: M1a"),
        "group": Key("value", "stage group (null: no tumour evidence)", "group: IIIB"),
        "system": Key(
            "value",
            "staging system id (text key system.<ID>); null: not staged",
            "system: AJCC8_NET_PANCREAS",
        ),
        "not_staged": Key(
            "text",
            "reason code for not staging (text key not_staged.<CODE>)",
            "not_staged: NO_SYSTEM_FOR_SITE",
        ),
        "t_table": Key(
            "table", "table giving T for this system", "t_table: ED.STAGE.NET.PANCREAS.T"
        ),
        "t_descriptor_table": Key(
            "table",
            "lung: table giving T per descriptor",
            "t_descriptor_table: ED.STAGE.LUNG.T_DESC",
        ),
        "n_table": Key("table", "table giving N for this system", "n_table: ED.STAGE.NET.N"),
        "m_table": Key("table", "table giving M for this system", "m_table: ED.STAGE.NET.M"),
        "group_table": Key(
            "table", "table giving the stage group", "group_table: ED.STAGE.NET.GROUP"
        ),
        "code": _CODE,
        "fields": _FIELDS,
        "t_candidates": Key(
            "list[str]",
            "flags: T categories the flagged finding may also mean (T stays open between them "
            "and the T the other inputs give)",
            "t_candidates: [T4]",
        ),
        "unknown_facts": Key(
            "list[str]",
            "consistency rows: facts made unknown for every step",
            "unknown_facts: [node_status]",
        ),
    },
    "liver_metastasis": {
        "type": Key("str", "ENETS type I, II, III or unclassified", "type: II"),
        "code": _CODE,
    },
    "functional_syndromes": {
        "status": Key(
            "str",
            "syndrome status: confirmed, suspected, excluded, insufficient_data",
            "status: suspected",
        ),
        "met": Key(
            "list[str]", "criteria met (text keys criterion.<CODE>)", "met: [ZES_GASTRIN_ELEVATED]"
        ),
        "unmet": Key(
            "list[str]",
            "criteria not met (text keys criterion.<CODE>)",
            "unmet: [ZES_ACID_HYPERSECRETION]",
        ),
        "next_tests": Key(
            "list[str]", "confirmatory tests to do next", "next_tests: [ZES_GASTRIC_PH]"
        ),
        "caveats": Key(
            "list[str]",
            "warning issue codes raised with the status",
            "caveats: [ZES_NEVER_STOP_PPI]",
        ),
        "caveat": Key(
            "text", "carcinoid heart disease rows: warning issue code", "caveat: CHD_SCREEN_ECHO"
        ),
        "code": _CODE,
        "syndromes": Key(
            "list[str]",
            "interference rows: syndromes the caveat concerns",
            "syndromes: [gastrinoma]",
        ),
    },
    "workup": {
        "item": Key(
            "str", "work-up item code (text key workup.<CODE>)", "item: WU.EUS", required=True
        ),
        "reason": Key(
            "str",
            "reason code (text key workup_reason.<CODE>)",
            "reason: GASTRIC_1_2CM",
            required=True,
        ),
        "done_if_any": Key(
            "list[str]",
            "investigations (or lab:<token>) any of which satisfies the item",
            "done_if_any: [eus]",
        ),
        "done_if_all": Key(
            "list[str]", "investigations that together satisfy the item", "done_if_all: [ct, mri]"
        ),
    },
    "treatment": {
        "option": Key("option", "the option offered (options.yaml)", "option: SSA"),
        "also": Key(
            "list[option]", "further options offered by the same rule", "also: [EVEROLIMUS]"
        ),
        "mdt": Key(
            "text",
            "MDT-discussion reason raised (text key treatment.mdt.<CODE>)",
            "mdt: BORDERLINE_RESECTABLE",
        ),
        "site_default": Key(
            "map",
            "site policy -> the option listed first (site.yaml)",
            "site_default: {surgery: PANCREATECTOMY}",
        ),
        "setting": Key("str", "treatment setting (the 'setting' table)", "setting: metastatic"),
        "caveat": Key(
            "text",
            "caveat rows: caveat code (text key treatment.caveat.<CODE>)",
            "caveat: PRRT_RENAL",
        ),
        "applies_to": Key(
            "list[str]",
            "caveat rows: option codes or category:<name> it concerns",
            "applies_to: [PRRT]",
        ),
    },
    "follow_up": {
        "family": Key("str", "tumour family for follow-up", "family: net"),
        "exempt": Key("bool", "exempt from lifelong follow-up", "exempt: true"),
        "risk": Key("str", "risk group", "risk: low"),
        "schedule": Key(
            "str",
            "schedule id (parameters.schedules; text followup.schedule.<ID>)",
            "schedule: gastric_type1",
        ),
        "exam": Key(
            "str", "extra exam added to visits", "exam: echocardiography", needs=("every_months",)
        ),
        "every_months": Key("count", "interval of the extra exam, months", "every_months: 12"),
    },
    "hereditary": {
        "trigger": Key(
            "str",
            "trigger code (KNOWN_CARRIER and RELATIVE_VARIANT add the genes found)",
            "trigger: CLINICAL_MEN1",
        ),
        "test": Key(
            "str", "what to offer: counselling_and_testing", "test: counselling_and_testing"
        ),
        "syndromes": Key("list[str]", "syndromes suspected", "syndromes: [MEN1]"),
        "genes": Key("list[str]", "genes to test", "genes: [MEN1]"),
        "item": Key("str", "surveillance item", "item: annual_calcium_pth"),
        "syndrome": Key("str", "surveillance rows: the syndrome covered", "syndrome: MEN1"),
        "start_age": Key("int", "surveillance start age, years", "start_age: 5"),
    },
}

_SCALAR = (str, int, float, bool)


def _type_ok(t: str, v: Any, tables: set[str], options: set[str] | None) -> bool:
    if t == "value":
        return v is None or isinstance(v, _SCALAR)
    if t.startswith("list["):
        inner = t[5:-1]
        return isinstance(v, list) and all(_type_ok(inner, x, tables, options) for x in v)
    if t == "map":
        return isinstance(v, dict)
    if t == "bool":
        return isinstance(v, bool)
    if t == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "count":
        return isinstance(v, int) and not isinstance(v, bool) and v >= 1
    if t == "table":
        return isinstance(v, str) and v in tables
    if t == "option":
        return isinstance(v, str) and (options is None or v in options)
    return isinstance(v, str)  # str, text


def check_then(
    step: str,
    table_id: str,
    output: str,
    row_id: str,
    then: dict[str, Any],
    tables: set[str],
    options: set[str] | None,
) -> list[str]:
    """Errors of one row's ``then`` against the step's schema."""
    schema = THEN_KEYS.get(step)
    if schema is None:
        return [f"{table_id}: step '{step}' has no rule-language schema"]
    errors: list[str] = []
    for k, v in then.items():
        if k == output and k not in schema:
            continue  # the table's own output (a declared fact, for fact tables)
        spec = schema.get(k)
        if spec is None:
            allowed = ", ".join(sorted({*schema, output}))
            errors.append(
                f"{row_id}: 'then' key '{k}' is not in the {step} rule language ({allowed})"
            )
        elif not _type_ok(spec.type, v, tables, options):
            errors.append(f"{row_id}: 'then.{k}' must be {spec.type}, got {v!r}")
        if spec is not None:
            missing = [n for n in spec.needs if n not in then]
            errors += [f"{row_id}: 'then.{k}' needs 'then.{n}'" for n in missing]
    for k, spec in schema.items():
        if spec.required and k not in then:
            errors.append(f"{row_id}: 'then' lacks the required key '{k}'")
    return errors
