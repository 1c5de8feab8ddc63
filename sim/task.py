"""Progress and cancellation for long work, without Qt (the Orange3 TaskState pattern): the one
protocol of the whole project.

It lives in sim/ because sim/ is the lowest layer: sim/ (transfer, room runs) and dsp/ (design,
rendering, PercepNet, DRED, the evaluation harnesses) both take it, and so do the jobs of
`workbench.jobs`, the CLI (Ctrl+C cancels) and the GUI's worker threads (the Cancel button).

A long job is a plain function taking `state: TaskState | None`. It reports progress with
`state.progress(fraction, message)` (or `report(state, …)`, a no-op for None) and, inside loops
that report nothing, calls `state.check()` (or `check(state)`) between steps; both raise
`Cancelled` once someone called `state.cancel()`. A step that takes part of the work hands
`state.sub(start, stop, label)` down, so its own 0..1 lands on start..stop of the caller's.
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

    def sub(self, start: float, stop: float, label: str = "") -> TaskState:
        """A view that maps 0..1 progress of a sub-step onto start..stop of this state.

        label: prefixed to the sub-step's messages ("label: message"; the label alone where the
        sub-step gives none), so a caller can say what the step is for.
        """
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
                text = f"{label}: {message}" if label and message else (label or message)
                parent.progress(start + (stop - start) * min(max(fraction, 0.0), 1.0), text)

        return _Sub()


def report(state: TaskState | None, fraction: float, message: str = "") -> None:
    """Progress on an optional state (no-op for None)."""
    if state is not None:
        state.progress(fraction, message)


def check(state: TaskState | None) -> None:
    """Cancellation point on an optional state (no-op for None)."""
    if state is not None:
        state.check()


def sub(state: TaskState | None, start: float, stop: float, label: str = "") -> TaskState | None:
    """`state.sub(start, stop, label)` on an optional state (None for None)."""
    return None if state is None else state.sub(start, stop, label)
