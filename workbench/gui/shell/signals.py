"""Wiring a QObject's signals to their handlers by name, in one call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject


def connect_signals(source: QObject, **handlers: Callable[..., Any]) -> None:
    """Connect each signal of `source` named by a keyword to its handler, e.g.
    `connect_signals(runner, finished=self._on_done, failed=self._on_failed)`."""
    for name, handler in handlers.items():
        getattr(source, name).connect(handler)
