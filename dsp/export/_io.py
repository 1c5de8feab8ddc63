"""Shared helper of the exporters: safe file names. (Every file goes through `sim.outputs`.)"""

from __future__ import annotations

import re

__all__ = ["safe"]


def safe(name: str) -> str:
    """A file-name-safe version of a channel or driver name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "x"
