"""Progress and cancellation for long work, without Qt (the Orange3 TaskState pattern).

A long job is a plain function taking `state: TaskState | None`. It reports progress with
`state.progress(fraction, message)` and calls `state.check()` between steps, which raises
`Cancelled` once someone called `state.cancel()` (the GUI's Cancel button, Ctrl+C in the CLI).
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Cancelled(Exception):
    """Raised inside a job when its TaskState was cancelled."""


class TaskState:
    """Thread-safe progress sink and cancellation flag shared by a job and its caller.

    on_progress: called as on_progress(fraction 0..1, message) from the job's thread.
    """

    def __init__(self, on_progress: Callable[[float, str], None] | None = None):
        self._cancel = threading.Event()
        self._on_progress = on_progress
        self.fraction = 0.0
        self.message = ""

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise Cancelled if the job should stop."""
        if self._cancel.is_set():
            raise Cancelled()

    def progress(self, fraction: float, message: str = "") -> None:
        self.check()
        self.fraction, self.message = min(max(fraction, 0.0), 1.0), message
        if self._on_progress is not None:
            self._on_progress(self.fraction, message)

    def sub(self, start: float, stop: float) -> TaskState:
        """A view that maps 0..1 progress of a sub-step onto start..stop of this state."""
        parent = self

        class _Sub(TaskState):
            def cancel(self) -> None:
                parent.cancel()

            @property
            def cancelled(self) -> bool:
                return parent.cancelled

            def check(self) -> None:
                parent.check()

            def progress(self, fraction: float, message: str = "") -> None:
                parent.progress(start + (stop - start) * min(max(fraction, 0.0), 1.0), message)

        return _Sub()


def report(state: TaskState | None, fraction: float, message: str = "") -> None:
    """Progress on an optional state (no-op for None)."""
    if state is not None:
        state.progress(fraction, message)
