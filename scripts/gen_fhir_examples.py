#!/usr/bin/env python3
"""Write the demo patients as FHIR R4 Bundles to src/nenguide/examples/fhir/ (run after changing
a demo case or the FHIR mapping; tests/test_fhir_examples.py fails while they are stale).

Usage: .venv/bin/python scripts/gen_fhir_examples.py
"""

from __future__ import annotations

import nenguide
from nenguide.interop.fhir.demo import FHIR_EXAMPLES, render_examples


def main() -> None:
    FHIR_EXAMPLES.mkdir(exist_ok=True)
    files = render_examples(nenguide.load_knowledge().analytes)
    for stale in FHIR_EXAMPLES.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        (FHIR_EXAMPLES / name).write_text(text, encoding="utf-8")
        print(f"wrote {FHIR_EXAMPLES / name}")


if __name__ == "__main__":
    main()
