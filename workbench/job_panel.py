"""What the tool panels (Enhancement, DRED) share: one background job at a time over the
window's `SceneDocument`, with a progress bar, Cancel, a one-line error label and an atomic
WAV save.

A subclass sets its own attributes in `_init_state()`, builds its widgets in `_build()`
(creating `progress`, `error_label`, `audition` and the process / cancel / save buttons), and
implements `_on_finished(outcome)`, `_on_cancelled()`, `_update_enabled()` and
`refresh_scene()`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from workbench.worker import JobRunner


def one_line(error: BaseException) -> str:
    """The first line of an error's message (its type name when empty), at most 300 chars."""
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]


class JobPanel(QWidget):
    """Base of a panel over one `SceneDocument`. `message` carries status-bar text;
    `processed` fires after a result is shown."""

    message = Signal(str)
    processed = Signal()

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.runner = JobRunner(self)
        self.outcome = None
        self._init_state()
        self._build()
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)
        self.runner.done.connect(self._update_enabled)
        document.changed.connect(self.refresh_scene)
        self.refresh_scene()
        self._update_enabled()

    def _init_state(self) -> None:
        """Subclass attributes that `_build` needs (called before it)."""

    def _start(self, job, request, label: str) -> bool:
        """Run `job(request, state=…)` in the background; False when one is already running."""
        self.show_error("")
        self.progress.setValue(0)
        self.progress.setVisible(True)
        started = self.runner.start(job, request, label=label)
        self._update_enabled()
        return started

    def cancel(self) -> None:
        if self.runner.is_running:
            self.runner.cancel()
            self.progress.setFormat("Cancelling …")

    def _on_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(round(100 * fraction))
        self.progress.setFormat(f"{text} %p%" if text else "%p%")

    def _on_failed(self, error: BaseException, text: str) -> None:
        self.progress.setVisible(False)
        self.show_error(one_line(error))

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setToolTip(text)
        self.error_label.setVisible(bool(text))
        if text:
            self.message.emit(text)

    def _save_wav(self, path: str | Path | None, signal: np.ndarray, fs_hz: int, caption: str,
                  default_name: str) -> Path | None:
        """Write `signal` (n,) or (n, channels) at fs_hz (Hz) as a 32-bit float WAV, atomically;
        asks for a path when None. Returns the path, or None (cancelled or failed)."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, caption, str(Path.home() / default_name),
                                                  "WAV (*.wav)")
            if not path:
                return None
        from dsp.audio_io import write_audio

        path = Path(path)
        if path.suffix.lower() != ".wav":
            path = path.with_suffix(".wav")
        try:
            write_audio(path, signal, fs_hz)
        except (OSError, RuntimeError) as e:
            self.show_error(f"Not saved: {one_line(e)}")
            return None
        self.message.emit(f"Saved {path}")
        return path

    def shutdown(self) -> None:
        self.audition.shutdown()
        if self.runner.is_running:
            self.runner.cancel()
            self.runner.wait()
