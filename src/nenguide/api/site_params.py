"""The site parameters in effect for the MDT service: a YAML file an administrator edits.

Same format as the CLI's ``--site`` file (:mod:`nenguide.model.site`, documented in
docs/site-parameters.md). ``/api/v1/assess``, stored assessments and the web pages pass it
to ``assess(site=...)``, exactly as the CLI does with ``--site``. The file is re-read when its
modification time changes, so several worker processes see an edit at their next request.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import yaml

from nenguide.model.site import SiteParameters, load_site_file


class SiteParameterFile:
    """The site-parameter file of this service (absent file = the package defaults)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._cache: tuple[float, SiteParameters | None] | None = None

    def current(self) -> SiteParameters | None:
        """The hospital's parameters, or None when none were saved (package defaults apply)."""
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return None
        cached = self._cache
        if cached is not None and cached[0] == mtime:
            return cached[1]
        params = load_site_file(self.path)
        with self._lock:
            self._cache = (mtime, params)
        return params

    def save(self, params: SiteParameters) -> None:
        """Write the parameters atomically (a reader never sees half a file)."""
        data: dict[str, Any] = params.model_dump(mode="json", exclude_none=True)
        data["items"] = {
            k: {kk: vv for kk, vv in v.items() if vv not in (None, [], ())}
            for k, v in data.get("items", {}).items()
        }
        if not data.get("unavailable"):
            data.pop("unavailable", None)
        text = (
            "# Site parameters of this nenguide service (format: docs/site-parameters.md).\n"
            "# Edited on the 'Site parameters' page by an administrator; every save is audited.\n"
            + yaml.safe_dump(data, allow_unicode=True, sort_keys=True)
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".site-", suffix=".yaml")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, self.path)
        with self._lock:
            self._cache = None
