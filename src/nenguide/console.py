"""The Rich console every ``nenguide`` command prints through."""

from __future__ import annotations

import sys

from rich.console import Console


def console(stderr: bool = False) -> Console:
    """Fixed width when not on a terminal, so piped output is stable; errors are not
    hard-wrapped, so paths and values stay whole for copy and paste."""
    return Console(
        stderr=stderr,
        width=None if sys.stdout.isatty() else 100,
        highlight=False,
        soft_wrap=stderr,
    )
