"""Column mappings: ICD-O-3 codes, local labels, units, unknowns; errors name the column."""

from __future__ import annotations

from pathlib import Path

import pytest

from nenguide.batch.mapping import (
    Mapper,
    MappingError,
    MappingFile,
    RowError,
    load_mapping,
    morphology,
    topography,
)
from nenguide.errors import parse_case

MAPPING = """
id_column: patient_no
missing: ["99", "NA"]
constants: {staging_basis: pathological}
fields:
  tumour.primary_site: {column: topo, codes: icdo3_topography}
  pathology: {column: morph, codes: icdo3_morphology}
  pathology.ki67_percent: {column: ki67}
  tumour.size_cm: {column: size_mm, unit: mm}
  metastases.status: {column: m, values: {"0": none, "1": present, "9": unknown}}
  regional_nodes.status: {column: n, values: {"0": negative, "1": positive}, missing: ["X"]}
  patient.sex: {column: sex, values: {"男": male, "女": female}}
labs:
  - {analyte: chromogranin_a, column: cga, unit: ug/L, reference_high: 100}
care:
  year: {column: dx_year}
  procedures:
    {column: procs, separator: "+", values: {ESD: endoscopic_resection, OP: surgical_resection}}
"""


@pytest.fixture()
def mapper(tmp_path: Path) -> Mapper:
    p = tmp_path / "m.yaml"
    p.write_text(MAPPING, encoding="utf-8")
    return Mapper(load_mapping(p))


def row(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "patient_no": "P1",
        "topo": "C20.9",
        "morph": "8240/3",
        "ki67": "1.5",
        "size_mm": "8",
        "m": "0",
        "n": "0",
        "sex": "男",
        "cga": "",
        "dx_year": "2021",
        "procs": "ESD",
    }
    base.update(kw)
    return base


def test_registry_row_becomes_a_valid_case(mapper: Mapper) -> None:
    m = mapper.map_row(row())
    case = parse_case(m.case)
    assert m.id == "P1"
    assert case.tumour.primary_site.value == "rectum"
    assert case.tumour.size_cm == pytest.approx(0.8)  # 8 mm -> 0.8 cm
    assert (
        case.pathology.differentiation is not None
        and case.pathology.differentiation.value == "well"
    )
    assert case.metastases is not None and case.metastases.status.value == "none"
    assert case.patient.sex is not None and case.patient.sex.value == "male"
    assert case.staging_basis is not None and case.staging_basis.value == "pathological"
    assert m.care == {"year": "2021", "procedures": ["endoscopic_resection"]}


def test_missing_codes_and_blank_cells_leave_the_field_unknown(mapper: Mapper) -> None:
    m = mapper.map_row(row(ki67="99", n="X", size_mm="NA"))
    assert "ki67_percent" not in m.case["pathology"]
    assert "regional_nodes" not in m.case
    assert "size_cm" not in m.case["tumour"]


def test_labs_are_mapped_with_their_unit(mapper: Mapper) -> None:
    case = parse_case(mapper.map_row(row(cga="310")).case)
    lab = case.clinical.labs[0]
    assert (lab.analyte, lab.value, lab.unit, lab.reference_high) == (
        "chromogranin_a",
        310,
        "ug/L",
        100,
    )


@pytest.mark.parametrize(
    ("kw", "field", "column", "words"),
    [
        ({"m": "2"}, "metastases.status", "m", "value '2' is not in the mapping"),
        ({"topo": "C17.9"}, "tumour.primary_site", "topo", "jejunum or ileum"),
        ({"topo": "C99"}, "tumour.primary_site", "topo", "not a site nenguide maps"),
        ({"topo": "rectum"}, "tumour.primary_site", "topo", "not an ICD-O-3 topography code"),
        ({"morph": "8244/3"}, "pathology", "morph", "component shares"),
        ({"morph": "8140/3"}, "pathology", "morph", "not a neuroendocrine code"),
        ({"size_mm": "big"}, "tumour.size_cm", "size_mm", "not a number"),
    ],
)
def test_unknown_values_reject_the_row_naming_column_and_value(
    mapper: Mapper, kw: dict[str, str], field: str, column: str, words: str
) -> None:
    with pytest.raises(RowError) as err:
        mapper.map_row(row(**kw))
    assert err.value.field == field and err.value.column == column
    assert words in err.value.message


def test_icdo3_tables() -> None:
    assert topography("C25.1") == "pancreas" and topography("c251") == "pancreas"
    assert topography("C18.1") == "appendix" and topography("C18.7") == "colon"
    assert topography("C34.1") == "lung" and topography("C17.2") == "ileum"
    assert morphology("8246/3") == {"differentiation": "poor"}
    assert morphology("80413") == {"differentiation": "poor", "morphology": "small_cell"}
    assert morphology("8013") == {"differentiation": "poor", "morphology": "large_cell"}
    with pytest.raises(ValueError, match="behaviour /0"):
        morphology("8240/0")


def test_mapping_file_errors_name_the_entry(tmp_path: Path) -> None:
    bad_unit = tmp_path / "u.yaml"
    bad_unit.write_text("fields:\n  tumour.size_cm: {column: s, unit: furlongs_per_fortnight}\n")
    with pytest.raises(MappingError, match=r"fields\.tumour\.size_cm\.unit"):
        load_mapping(bad_unit)
    no_unit = tmp_path / "n.yaml"
    no_unit.write_text("fields:\n  metastases.status: {column: m, unit: mm}\n")
    with pytest.raises(MappingError, match="has no unit"):
        load_mapping(no_unit)
    typo = tmp_path / "t.yaml"
    typo.write_text("feilds: {}\n")
    with pytest.raises(MappingError, match="feilds"):
        load_mapping(typo)


def test_column_missing_from_input_is_a_row_error() -> None:
    m = Mapper(MappingFile.model_validate({"fields": {"tumour.primary_site": {"column": "site"}}}))
    with pytest.raises(RowError, match="column 'site' is not in the input"):
        m.map_row({"other": 1})


def test_without_a_mapping_columns_are_dotted_case_paths() -> None:
    m = Mapper().map_row(
        {
            "case_id": "A",
            "tumour.primary_site": "pancreas",
            "pathology.ki67_percent": "4",
            "care.year": "2020",
            "x": None,
        }
    )
    assert parse_case(m.case).pathology.ki67_percent == 4
    assert m.care == {"year": "2020"}
