"""FHIR R4 (mCODE-aligned) import and export.

- :func:`import_bundle`: a Bundle -> a nenguide case, plus everything not mapped and why;
- :func:`case_to_bundle`: a case -> a Bundle (demo patients, round-trip tests);
- :func:`assessment_to_bundle`: an assessment -> Observations (classification, grade, TNM), a
  RequestGroup of the recommendations and a GuidanceResponse.

Needs the ``[fhir]`` extra (fhir.resources, R4B models). Code-to-field mappings are data:
``nenguide/interop/fhir_map.yaml``.
"""

from nenguide.interop.fhir.assemble import BundleError, import_bundle
from nenguide.interop.fhir.export import assessment_to_bundle
from nenguide.interop.fhir.result import ImportResult, Note, PatientInfo, Unmapped
from nenguide.interop.fhir.write import case_to_bundle

__all__ = [
    "BundleError",
    "ImportResult",
    "Note",
    "PatientInfo",
    "Unmapped",
    "assessment_to_bundle",
    "case_to_bundle",
    "import_bundle",
]
