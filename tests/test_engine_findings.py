"""Issue 7: each finding of the engine review has a test that failed before the fix.

Finding 1 (shared mutable results) is here; the others follow the same pattern: reproduce the
observed behaviour on a real case, then assert the fixed behaviour.
"""

from __future__ import annotations

import copy
import datetime as dt
import pickle
from pathlib import Path

import pytest
import yaml

from nenguide import assess
from nenguide.engine.kb import Knowledge
from nenguide.model.case import Case

AS_OF = dt.date(2026, 11, 23)
EXAMPLES = Path(__file__).resolve().parent.parent / "src" / "nenguide" / "examples"


def _case(name: str) -> Case:
    data = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    return Case.model_validate(data.get("case", data))


# --- finding 1: shared mutable results ------------------------------------------------------


def test_mutating_a_result_cannot_change_a_later_assessment(kb: Knowledge) -> None:
    case = _case("pnet-g2-liver.yaml")
    a = assess(case, kb, as_of=AS_OF)
    before = a.model_dump(mode="json")
    assert a.issues and a.trace and a.treatment
    # every part a caller could format in place refuses the change ...
    with pytest.raises(TypeError):
        a.issues[0]["message"] = "X"
    with pytest.raises(TypeError):
        a.trace[0]["inputs"]["x"] = 1
    with pytest.raises(TypeError):
        a.trace[0]["rule_ids"].append("X")
    with pytest.raises(TypeError):
        a.issues.append(a.issues[0])
    with pytest.raises(TypeError):
        a.treatment[0]["caveats"].append("X")
    with pytest.raises(TypeError):
        a.stage.possible["t"] = ["T9"]
    # ... and the next assessment of the same case is unchanged
    b = assess(case, kb, as_of=AS_OF)
    assert b.model_dump(mode="json") == before
    assert b.issues[0]["message"] != "X"


def test_frozen_results_copy_pickle_and_serialise(kb: Knowledge) -> None:
    a = assess(_case("gastric-net-type1.yaml"), kb, as_of=AS_OF)
    mutable = copy.deepcopy(a.model_dump())
    mutable["issues"].append({"code": "X"})  # a plain copy is the caller's to change
    assert pickle.loads(pickle.dumps(a)).model_dump() == a.model_dump()
    assert a.model_dump_json()  # no serializer warnings turned into errors
