"""The columnar backend's contexts make no notes (its rows hold no trace): the steps give the
same outputs and issues as with notes, and only the notes are missing from the trace."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from nenguide import load_knowledge
from nenguide.engine.assess import steps
from nenguide.engine.context import Context
from nenguide.engine.fact_layer import case_facts
from nenguide.errors import parse_case

AS_OF = dt.date(2026, 11, 23)
VIGNETTES = Path(__file__).resolve().parent.parent / "vignettes"


def _run(notes: bool, name: str) -> tuple[tuple[object, ...], Context]:
    kb = load_knowledge()
    kb.memo.clear()  # each run makes its own entries (a note is memoised once made)
    case = parse_case(yaml.safe_load((VIGNETTES / name).read_text(encoding="utf-8"))["case"])
    ctx = Context(kb, "en", notes=notes)
    out = steps(ctx, case, case_facts(ctx, case), AS_OF, None)
    return out, ctx


def test_without_notes_the_steps_give_the_same_outputs_and_issues() -> None:
    # metastasis status unknown: the treatment step runs each candidate setting in a
    # sub-context, which must not make notes either
    name = "039-pancreas-metastasis-status-unknown.yaml"
    with_notes, full = _run(True, name)
    without, lean = _run(False, name)
    assert without == with_notes
    assert lean.issues == full.issues
    notes = [e for e in full.trace if e["table"] is None]
    assert {e["step"] for e in notes} >= {"facts", "treatment", "hereditary"}
    assert not [e for e in lean.trace if e["table"] is None]
    assert lean.trace == [e for e in full.trace if e["table"] is not None]
