"""Run a Qt-free job function off the GUI thread (the Orange3 pattern).

A job is a plain callable taking keyword `state: sim.task.TaskState`; it reports progress through
`state.progress()` and stops with `Cancelled` once `state.cancel()` was called. `JobRunner` runs one
job at a time in a QThread and re-emits its outcome on the GUI thread (queued connections):
`progress(fraction, message)`, then exactly one of `finished(result)`, `failed(exception,
traceback_text)` or `cancelled()`, then `done()`.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from sim.task import Cancelled, TaskState

log = logging.getLogger(__name__)
_QUEUED = Qt.ConnectionType.QueuedConnection


class _Worker(QObject):
    """Lives in the job's thread; runs the function once."""

    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(object, str)
    cancelled = Signal()

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict):
        super().__init__()
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.state = TaskState(on_progress=self._report)

    def _report(self, fraction: float, message: str) -> None:
        self.progress.emit(fraction, message)

    @Slot()
    def run(self) -> None:
        try:
            result = self.fn(*self.args, state=self.state, **self.kwargs)
        except Cancelled:
            self.cancelled.emit()
        except BaseException as e:  # reported to the GUI, never lost in the thread
            self.failed.emit(e, traceback.format_exc())
        else:
            if self.state.cancelled:
                self.cancelled.emit()
            else:
                self.finished.emit(result)
        finally:
            QThread.currentThread().quit()


class JobRunner(QObject):
    """One background job at a time; signals arrive on the thread that owns the runner."""

    started = Signal(str)
    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(object, str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self.label = ""
        self.elapsed_s = 0.0
        self._t0 = 0.0

    @property
    def is_running(self) -> bool:
        return self._thread is not None

    @property
    def is_cancelling(self) -> bool:
        return self._worker is not None and self._worker.state.cancelled

    def start(self, fn: Callable[..., Any], *args: Any, label: str = "", **kwargs: Any) -> bool:
        """Run `fn(*args, state=..., **kwargs)` in a new thread. False if a job is running."""
        if self.is_running:
            return False
        self.label = label
        thread = QThread()
        thread.setObjectName(f"job: {label}" if label else "job")
        worker = _Worker(fn, args, kwargs)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self._on_progress, _QUEUED)
        worker.finished.connect(self._on_finished, _QUEUED)
        worker.failed.connect(self._on_failed, _QUEUED)
        worker.cancelled.connect(self._on_cancelled, _QUEUED)
        thread.finished.connect(self._on_thread_finished, _QUEUED)
        self._thread, self._worker = thread, worker
        self._t0 = time.perf_counter()
        thread.start()
        self.started.emit(label)
        return True

    def cancel(self) -> None:
        """Ask the running job to stop (it stops at its next `state.check()`)."""
        if self._worker is not None:
            self._worker.state.cancel()

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Block until the job's thread ended (for shutdown). True when it did."""
        if self._thread is None:
            return True
        return self._thread.wait(timeout_ms)

    # -- slots (GUI thread) ----------------------------------------------------------------------
    @Slot(float, str)
    def _on_progress(self, fraction: float, message: str) -> None:
        if self._worker is not None and not self._worker.state.cancelled:
            self.progress.emit(fraction, message)

    @Slot(object)
    def _on_finished(self, result: object) -> None:
        self.elapsed_s = time.perf_counter() - self._t0
        self.finished.emit(result)

    @Slot(object, str)
    def _on_failed(self, error: object, text: str) -> None:
        self.elapsed_s = time.perf_counter() - self._t0
        log.error("job %r failed:\n%s", self.label, text)
        self.failed.emit(error, text)

    @Slot()
    def _on_cancelled(self) -> None:
        self.elapsed_s = time.perf_counter() - self._t0
        log.info("job %r cancelled", self.label)
        self.cancelled.emit()

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self._thread
        if thread is not None:
            thread.wait()
        # Both are Python-owned (no parent): dropping the references deletes them. Every queued
        # signal of the worker was delivered before this one (same sender thread, FIFO).
        self._thread = self._worker = None
        self.done.emit()


class BusyFlag:
    """Mixin of a QObject that declares `busyChanged = Signal(bool)`: `is_busy`, and
    `_set_busy` that signals a change (and only a change)."""

    _busy = False

    @property
    def is_busy(self) -> bool:
        return self._busy

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)
