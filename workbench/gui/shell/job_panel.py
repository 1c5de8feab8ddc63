"""What the tool panels (Enhancement, DRED) share: one background job at a time over the
window's `SceneDocument`, with a progress bar, Cancel, a one-line error label and an atomic
WAV save; an input that is a file or the scene's talker at a device microphone; the clip
strip that plays the results.

A subclass sets its own attributes in `_init_state()`, builds its widgets in `_build()`
(calling `_add_job_controls`, `_make_source_choice`, `_scene_source_form` and
`_add_audition`, and making `scene_widgets` and `file_widgets`), and implements `process()`,
`save_output()`, `_on_finished(outcome)`, `_on_cancelled()`, `refresh_scene()` and
`clear_results()`; it extends `_update_enabled()`. `reset()` (another scene was opened)
cancels the job and clears what the panel shows; a job's result that arrives after its cancel
is dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTableWidgetItem,
    QWidget,
)

from workbench.gui.audio.clip_audition import ClipAudition
from workbench.gui.shell.signals import connect_signals
from workbench.gui.shell.worker import JobRunner

AUDIO_FILES = "Audio (*.wav *.flac *.ogg *.aiff);;All files (*)"


def one_line(error: BaseException) -> str:
    """The first line of an error's message (its type name when empty), at most 300 chars."""
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]


def show_line(label: QLabel, text: str) -> None:
    """Show `text` in `label` and as its tool tip (the whole of it where the label cuts it);
    "" hides the label."""
    label.setText(text)
    label.setToolTip(text)
    label.setVisible(bool(text))


def refill_combo(combo: QComboBox, items) -> None:
    """Replace a combo's items by (text, data) pairs, keeping the current pick where an item
    of its text is still there."""
    text = combo.currentText()
    combo.clear()
    for label, data in items:
        combo.addItem(label, data)
    k = combo.findText(text)
    if k >= 0:
        combo.setCurrentIndex(k)


def number_item(text: str) -> QTableWidgetItem:
    """A table cell for a number (right-aligned)."""
    item = QTableWidgetItem(text)
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


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
        connect_signals(self.runner, progress=self._on_progress, finished=self._deliver,
                        failed=self._on_failed, cancelled=self._on_cancelled,
                        done=self._update_enabled)
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

    def _make_source_choice(self, scene_text: str, file_text: str, scene_first: bool) -> None:
        """`radio_scene` and `radio_file`, exclusive, the scene checked when scene_first;
        a change enables the chosen source's widgets."""
        self.radio_scene = QRadioButton(scene_text)
        self.radio_file = QRadioButton(file_text)
        (self.radio_scene if scene_first else self.radio_file).setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.radio_scene)
        group.addButton(self.radio_file)
        self.radio_scene.toggled.connect(self._update_enabled)

    def _scene_source_form(self) -> QFormLayout:
        """The scene source's choices (`mic_combo`, `engine_combo`: free field or room,
        `talker_combo`) as the rows of a form; `_refresh_scene_choices` fills them."""
        self.mic_combo = QComboBox()
        self.engine_combo = QComboBox()
        self.engine_combo.addItem("Free field", "freefield")
        self.engine_combo.addItem("Room", "room")
        self.talker_combo = QComboBox()
        form = QFormLayout()
        form.addRow("Microphone", self.mic_combo)
        form.addRow("Engine", self.engine_combo)
        form.addRow("Talker", self.talker_combo)
        return form

    def _refresh_scene_choices(self) -> None:
        """Fill the microphone and talker choices from the scene (keeping current picks)."""
        scene = self.document.scene
        refill_combo(self.mic_combo, ((m.name, i) for i, m in enumerate(scene.device.microphones)))
        refill_combo(self.talker_combo, ((s.name, i) for i, s in enumerate(scene.sources)
                                         if s.kind == "talker"))

    def _scene_source_problem(self, otherwise: str) -> str | None:
        """Why the scene cannot be the input (None when it can); `otherwise` says what to do
        instead."""
        if not self.document.scene.device.microphones:
            return f"The device has no microphones: add one, or {otherwise}."
        if self.talker_combo.count() == 0:
            return f"The scene has no talker: add one, or {otherwise}."
        return None

    def _ask_audio_file(self, caption: str, start: str) -> str:
        """An audio file the user picks ("" when cancelled), starting at `start` or home."""
        path, _ = QFileDialog.getOpenFileName(self, caption, start or str(Path.home()),
                                              AUDIO_FILES)
        return path

    def _add_audition(self, layout) -> None:
        """The clip strip (`audition`) at the end of `layout`; its keys work in the whole
        panel, and where audio cannot play it offers Save Output."""
        self.audition = ClipAudition()
        self.audition.set_shortcut_scope(self)
        layout.addWidget(self.audition)
        self.audition.saveRequested.connect(lambda: self.save_output())
        self.audition.message.connect(self.message)

    def _update_enabled(self) -> None:
        """The input widgets of the chosen source, and the job buttons."""
        busy = self.runner.is_running
        scene = self.radio_scene.isChecked()
        self.scene_widgets.setEnabled(scene)
        self.file_widgets.setEnabled(not scene)
        self.process_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.save_button.setEnabled(not busy and self.outcome is not None)

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
        show_line(self.error_label, text)
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
