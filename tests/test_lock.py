"""The dependency lock (issue 10, defect 12): constraints.txt pins an exact version of every
dependency that pyproject.toml declares, for the core and every extra, and the Makefile (hence
CI) installs from it. After changing dependencies, run 'make lock'."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    m = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert m, requirement
    return m.group(0).lower().replace("_", "-").replace(".", "-")


def test_every_declared_dependency_is_pinned() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_name(r) for r in project["dependencies"]}
    for reqs in project.get("optional-dependencies", {}).values():
        declared |= {_name(r) for r in reqs}
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), line
            pins[name.replace(".", "-")] = version
    missing = sorted(declared - set(pins))
    assert missing == [], f"not in constraints.txt (run 'make lock'): {missing}"


def test_the_makefile_installs_from_the_lock() -> None:
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-c constraints.txt" in make and "scripts/lock.py" in make and "pip-audit" in make
