"""The demo patients (``nenguide/examples/*.yaml``) as FHIR Bundles (``examples/fhir/*.json``).

``scripts/gen_fhir_examples.py`` writes them; a test checks the shipped files are current.
"""

from __future__ import annotations

import json
from pathlib import Path

from nenguide.errors import load_case_file
from nenguide.interop.fhir.write import case_to_bundle
from nenguide.units import AnalyteCatalogue

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FHIR_EXAMPLES = EXAMPLES / "fhir"


def render_examples(catalogue: AnalyteCatalogue) -> dict[str, str]:
    """File name -> JSON text of the Bundle of each demo case (invented patients)."""
    out: dict[str, str] = {}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        case = load_case_file(path)
        bundle = case_to_bundle(
            case,
            catalogue,
            patient_name=f"Demo patient {path.stem} (invented)",
            mrn=f"DEMO-{path.stem}",
        )
        out[f"{path.stem}.json"] = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    return out
