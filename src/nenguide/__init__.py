"""nenguide: decision support for the neuroendocrine-neoplasm MDT (CSCO 2021 NEN guideline).

The public surface is small: :func:`assess`, :func:`load_knowledge`, the :class:`Case` and
:class:`Assessment` models, and the validation helpers in :mod:`nenguide.errors`.
"""

from __future__ import annotations

from nenguide._version import __version__

__all__ = ["Assessment", "Case", "__version__", "assess", "load_knowledge"]

from nenguide.engine.assess import assess
from nenguide.knowledge import load as load_knowledge
from nenguide.model.assessment import Assessment
from nenguide.model.case import Case
