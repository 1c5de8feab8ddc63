"""What the tool panels (Enhancement, DRED) share: one background job at a time over the
window's `SceneDocument`, with a progress bar, Cancel, a one-line error label and an atomic
WAV save.

A subclass sets its own attributes in `_init_state()`, builds its widgets in `_build()`
(calling `_add_job_controls` and creating `audition`), and implements `process()`,
`save_output()`, `_on_finished(outcome)`, `_on_cancelled()`, `_update_enabled()`,
`refresh_scene()` and `clear_results()`. `reset()` (another scene was opened) cancels the job
and clears what the panel shows; a job's result that arrives after its cancel is dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from workbench.gui.shell.worker import JobRunner


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
        self.runner.finished.connect(self._deliver)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)
        self.runner.done.connect(self._update_enabled)
        document.changed.connect(self.refresh_scene)
        self.refresh_scene()
        self._update_enabled()

    def _init_state(self) -> None:
        """Subclass attributes that `_build` needs (called before it)."""

    def _add_job_controls(self, layout, name: str, wrap_errors: bool = True) -> None:
        """Process / Cancel / Save Output buttons, the progress bar and the error label, added
        to `layout` (a QVBoxLayout) and wired; `name` prefixes the object names tests use
        (`<name>Process`, `<name>Error`); wrap_errors: word-wrap the error label."""
        buttons = QHBoxLayout()
        self.process_button = QPushButton("Process")
        self.process_button.setObjectName(f"{name}Process")
        self.cancel_button = QPushButton("Cancel")
        self.save_button = QPushButton("Save Output…")
        for b in (self.process_button, self.cancel_button, self.save_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.error_label = QLabel()
        self.error_label.setObjectName(f"{name}Error")
        self.error_label.setWordWrap(wrap_errors)
        self.error_label.setVisible(False)
        layout.addWidget(self.error_label)
        self.process_button.clicked.connect(self.process)
        self.cancel_button.clicked.connect(self.cancel)
        self.save_button.clicked.connect(lambda: self.save_output())

    def _start(self, job, request, label: str) -> bool:
        """Run `job(request, state=…)` in the background; False when one is already running."""
        self.show_error("")
        self.progress.setValue(0)
        self.progress.setVisible(True)
        started = self.runner.start(job, request, label=label)
        self._update_enabled()
        return started

    def _deliver(self, outcome) -> None:
        if not self.runner.is_cancelling:  # a job that ended as it was cancelled
            self._on_finished(outcome)

    def reset(self) -> None:
        """Another scene was opened: cancel the running job and show no result."""
        self.cancel()
        self.outcome = None
        self.progress.setVisible(False)
        self.show_error("")
        self.audition.set_clips(None)
        self.clear_results()
        self._update_enabled()

    def clear_results(self) -> None:
        """Empty the plots, tables and labels that show `outcome`."""
        raise NotImplementedError

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
                  default_name: str, inputs: tuple[Path, ...] = ()) -> Path | None:
        """Write `signal` (n,) or (n, channels) at fs_hz (Hz) as a 32-bit float WAV, atomically;
        asks for a path when None. A path that is one of `inputs` (the files the result was
        made from) or the open scene file is refused (the reason in the error label). Returns
        the path, or None (cancelled, refused or failed)."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, caption, str(Path.home() / default_name),
                                                  "WAV (*.wav)")
            if not path:
                return None
        from dsp.audio_io import write_audio
        from workbench.jobs.inputs import refuse_outputs_on_inputs

        path = Path(path)
        if path.suffix.lower() != ".wav":
            path = path.with_suffix(".wav")
        try:
            refuse_outputs_on_inputs([path], [*inputs, self.document.path])
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
