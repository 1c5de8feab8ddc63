"""The Enhancement panel: speech enhancement (PercepNet, `dsp.percepnet.enhance`) of a talker
heard at a device microphone in the scene, or of an audio file.

Source: *Scene* simulates the chosen talker and noise sources at one device microphone (free-field
or room engine, 16 kHz; `dsp.mic_mix`), so the clean talker image is known; *File* reads a
WAV/FLAC file with an optional clean reference (same rate). Options: comb filter, postfilter
with its strength and SNR gate, int8 weights, and oracle gains (from the clean signal, when it
is known): every option of `awb enhance`. Process runs in the background
(progress, cancel); the panel then shows the spectrograms before and after on one dB scale,
PESQ-WB / STOI / SI-SDR of the input and the output when a clean reference exists, A/B playback
of Noisy / Enhanced (/ Clean when known), loudness-matched to the input, through the audition
engine (`gui.audio.clip_audition`; keys 1 2 3, Space), and Save Output writes the result as a
32-bit float WAV (atomically).

The job is `workbench.jobs.enhance` (Qt-free); this panel builds its request and shows the
outcome.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from dsp.percepnet.postfilter import STRENGTH
from workbench.gui.plots.base import style_plot
from workbench.gui.shell.job_panel import JobPanel, number_item
from workbench.gui.shell.theme import current_theme, scene_colors
from workbench.gui.shell.widgets import spin_box
from workbench.jobs import enhance as enhance_job
from workbench.jobs.enhance import EnhanceOutcome, EnhanceRequest

log = logging.getLogger(__name__)

DYNAMIC_RANGE_DB = 80.0
METRIC_ROWS = (("pesq_wb", "PESQ-WB", "{:.2f}"), ("stoi", "STOI", "{:.3f}"),
               ("si_sdr", "SI-SDR (dB)", "{:.1f}"))


class SpectrogramPlot(pg.PlotWidget):
    """A `dsp.spectrum.Spectrogram` on linear axes (time × frequency) as an ImageItem with a
    fixed colour map."""

    def __init__(self, title: str):
        super().__init__()
        self.setTitle(title)
        self.setLabel("bottom", "time", "s")
        self.setLabel("left", "frequency", "Hz")
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.addItem(self.image)
        self.setMouseEnabled(x=True, y=False)

    def show_spectrogram(self, spec, levels: tuple[float, float]) -> None:
        self.image.setImage(spec.level_db.T, levels=levels, autoLevels=False)
        t = spec.times_s
        dt = float(t[1] - t[0]) if len(t) > 1 else 2.0 * float(t[0])
        f0, f1 = float(spec.edges_hz[0]), float(spec.edges_hz[-1])
        self.image.setRect(QRectF(float(t[0]) - dt / 2, f0, dt * len(t), f1 - f0))
        self.autoRange()

    def clear_image(self) -> None:
        self.image.clear()


class EnhancePanel(JobPanel):
    """The panel over one `SceneDocument`. `message` carries status-bar text."""

    # -- construction ----------------------------------------------------------------------------
    def _build(self) -> None:
        left = QVBoxLayout()
        left.addWidget(self._input_box())
        left.addWidget(self._options_box())
        self._add_job_controls(left, "enhance", wrap_errors=False)
        self.metrics_table = QTableWidget(len(METRIC_ROWS), 2)
        self.metrics_table.setHorizontalHeaderLabels(["Input", "Output"])
        self.metrics_table.setVerticalHeaderLabels([r[1] for r in METRIC_ROWS])
        self.metrics_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.metrics_table.setMaximumHeight(120)
        left.addWidget(self.metrics_table)
        self.info_label = QLabel()
        self.info_label.setWordWrap(True)
        left.addWidget(self.info_label)
        left.addStretch(1)

        plots = QVBoxLayout()
        self.before_plot = SpectrogramPlot("Before")
        self.after_plot = SpectrogramPlot("After")
        self.after_plot.setXLink(self.before_plot)
        self.after_plot.setYLink(self.before_plot)
        plots.addWidget(self.before_plot)
        plots.addWidget(self.after_plot)
        self._add_audition(plots)
        self.apply_theme()

        row = QHBoxLayout(self)
        side = QWidget()
        side.setLayout(left)
        side.setMaximumWidth(380)
        row.addWidget(side)
        row.addLayout(plots, 1)

        self.clean_edit.textChanged.connect(self._update_enabled)
        self.postfilter_check.toggled.connect(self._update_enabled)
        self.browse_noisy.clicked.connect(lambda: self._browse(self.noisy_edit, "Open Noisy Audio"))
        self.browse_clean.clicked.connect(
            lambda: self._browse(self.clean_edit, "Open Clean Reference"))

    def _input_box(self) -> QGroupBox:
        """Scene (microphone, engine, talker, noise, length) or file (input, clean reference)."""
        src_box = QGroupBox("Input")
        src = QVBoxLayout(src_box)
        self._make_source_choice("Scene: talker + noise at a device microphone", "Audio file",
                                 scene_first=True)
        src.addWidget(self.radio_scene)
        scene_form = self._scene_source_form()
        self.noise_list = QListWidget()
        self.noise_list.setMaximumHeight(70)
        self.seconds_spin = spin_box(1.0, 30.0, 4.0, decimals=2, suffix=" s")
        scene_form.addRow("Noise", self.noise_list)
        scene_form.addRow("Length", self.seconds_spin)
        self.scene_widgets = QWidget()
        self.scene_widgets.setLayout(scene_form)
        src.addWidget(self.scene_widgets)
        src.addWidget(self.radio_file)
        file_grid = QGridLayout()
        self.noisy_edit = QLineEdit()
        self.noisy_edit.setPlaceholderText("noisy WAV/FLAC")
        self.clean_edit = QLineEdit()
        self.clean_edit.setPlaceholderText("clean reference (optional)")
        self.browse_noisy = QPushButton("Open…")
        self.browse_clean = QPushButton("Open…")
        file_grid.addWidget(QLabel("Input"), 0, 0)
        file_grid.addWidget(self.noisy_edit, 0, 1)
        file_grid.addWidget(self.browse_noisy, 0, 2)
        file_grid.addWidget(QLabel("Clean"), 1, 0)
        file_grid.addWidget(self.clean_edit, 1, 1)
        file_grid.addWidget(self.browse_clean, 1, 2)
        self.file_widgets = QWidget()
        self.file_widgets.setLayout(file_grid)
        src.addWidget(self.file_widgets)
        return src_box

    def _options_box(self) -> QGroupBox:
        """The processing options of `awb enhance`: comb, postfilter (strength, gate), int8
        weights, oracle gains."""
        opt_box = QGroupBox("Processing")
        opt = QVBoxLayout(opt_box)
        self.comb_check = QCheckBox("Comb filter")
        self.comb_check.setChecked(True)
        self.postfilter_check = QCheckBox("Postfilter")
        self.postfilter_check.setChecked(True)
        self.strength_spin = spin_box(
            0.0, 3.0, STRENGTH, decimals=2, step=0.1, name="enhanceStrength",
            tip=f"Postfilter warp exponent s in g·sin(πg/2)^s: 1 = the PercepNet paper's "
                f"warping, 0 = none ({STRENGTH:g}, the best measured)")
        self.gate_check = QCheckBox("SNR gate (fade out at high SNR)")
        self.gate_check.setToolTip("Fade the postfilter out where the gains imply a high SNR")
        postfilter_form = QFormLayout()
        postfilter_form.setContentsMargins(18, 0, 0, 0)
        postfilter_form.addRow("Strength", self.strength_spin)
        postfilter_form.addRow(self.gate_check)
        self.int8_check = QCheckBox("int8 weights")
        self.oracle_check = QCheckBox("Oracle gains (from the clean signal)")
        opt.addWidget(self.comb_check)
        opt.addWidget(self.postfilter_check)
        opt.addLayout(postfilter_form)
        opt.addWidget(self.int8_check)
        opt.addWidget(self.oracle_check)
        return opt_box

    def apply_theme(self, colors=None) -> None:
        colors = colors or scene_colors(current_theme())
        for plot in (self.before_plot, self.after_plot):
            style_plot(plot, colors)
        self.error_label.setStyleSheet(f"color: {colors.error}")
        self.audition.apply_theme(colors)

    def _browse(self, edit: QLineEdit, caption: str) -> None:
        path = self._ask_audio_file(caption, edit.text())
        if path:
            edit.setText(path)

    # -- scene choices ---------------------------------------------------------------------------
    def refresh_scene(self) -> None:
        """Fill the microphone, talker and noise choices from the document's scene (keeping the
        current picks where they still exist)."""
        self._refresh_scene_choices()
        unchecked = {self.noise_list.item(i).text() for i in range(self.noise_list.count())
                     if self.noise_list.item(i).checkState() != Qt.CheckState.Checked}
        self.noise_list.clear()
        for i, s in enumerate(self.document.scene.sources):
            if s.kind == "noise":
                item = QListWidgetItem(s.name)
                item.setData(Qt.ItemDataRole.UserRole, i)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked if s.name in unchecked
                                   else Qt.CheckState.Checked)
                self.noise_list.addItem(item)

    def request(self) -> EnhanceRequest:
        common = dict(use_comb=self.comb_check.isChecked(),
                      use_postfilter=self.postfilter_check.isChecked(),
                      postfilter_strength=self.strength_spin.value(),
                      postfilter_gate=self.gate_check.isChecked(),
                      int8=self.int8_check.isChecked(),
                      oracle=self.oracle_check.isChecked() and self.oracle_check.isEnabled())
        if self.radio_file.isChecked():
            return EnhanceRequest("file", noisy_path=self.noisy_edit.text().strip(),
                                  clean_path=self.clean_edit.text().strip(), **common)
        noises = [self.noise_list.item(i).data(Qt.ItemDataRole.UserRole)
                  for i in range(self.noise_list.count())
                  if self.noise_list.item(i).checkState() == Qt.CheckState.Checked]
        return EnhanceRequest("scene", scene=self.document.scene,
                              engine=self.engine_combo.currentData(),
                              mic=self.mic_combo.currentData(),
                              talker=self.talker_combo.currentData(), noises=tuple(noises),
                              seconds=self.seconds_spin.value(), **common)

    # -- processing ------------------------------------------------------------------------------
    def process(self) -> bool:
        """Start processing the chosen input; False (with a message) if it cannot start."""
        if self.runner.is_running:
            return False
        if self.radio_scene.isChecked():
            problem = self._scene_source_problem("process a file")
        else:
            problem = None if self.noisy_edit.text().strip() else "Choose an input file first."
        if problem:
            self.show_error(problem)
            return False
        return self._start(enhance_job.run, self.request(), "enhance")

    def _on_finished(self, outcome: EnhanceOutcome) -> None:
        self.progress.setVisible(False)
        self.outcome = outcome
        res = outcome.result
        top = float(max(np.max(res.before.level_db), np.max(res.after.level_db)))
        levels = (top - DYNAMIC_RANGE_DB, top)
        self.before_plot.show_spectrogram(res.before, levels)
        self.after_plot.show_spectrogram(res.after, levels)
        self.before_plot.setTitle(f"Before — {outcome.label}")
        self.after_plot.setTitle("After (oracle gains)" if outcome.oracle else "After")
        self._show_metrics(outcome)
        info = [f"{outcome.noisy.shape[0] / outcome.fs_hz:.2f} s at {outcome.fs_hz} Hz, "
                f"latency {res.latency_s * 1000:.0f} ms compensated, "
                f"{self.runner.elapsed_s:.1f} s"]
        self.info_label.setText("\n".join(info + outcome.notes))
        self.audition.set_clips(outcome.clips)
        self.message.emit(f"Enhanced {outcome.label}")
        self.processed.emit()

    def _show_metrics(self, outcome: EnhanceOutcome) -> None:
        for r, (key, _name, fmt) in enumerate(METRIC_ROWS):
            for c, m in enumerate((outcome.metrics_noisy, outcome.metrics_enhanced)):
                text = "—" if m is None else fmt.format(m[key])
                self.metrics_table.setItem(r, c, number_item(text))
        if outcome.metrics_noisy is None:
            self.metrics_table.setToolTip("No clean reference: no quality scores.")
        else:
            self.metrics_table.setToolTip("")

    def clear_results(self) -> None:
        for plot, title in ((self.before_plot, "Before"), (self.after_plot, "After")):
            plot.clear_image()
            plot.setTitle(title)
        self.metrics_table.clearContents()
        self.metrics_table.setToolTip("")
        self.info_label.setText("")

    def _on_cancelled(self) -> None:
        self.progress.setVisible(False)
        self.message.emit("Enhancement cancelled")
        self.info_label.setText("Cancelled.")

    def _update_enabled(self) -> None:
        super()._update_enabled()
        self.oracle_check.setEnabled(self.radio_scene.isChecked()
                                     or bool(self.clean_edit.text().strip()))
        postfilter = self.postfilter_check.isChecked()
        self.strength_spin.setEnabled(postfilter)
        self.gate_check.setEnabled(postfilter)

    # -- saving ----------------------------------------------------------------------------------
    def save_output(self, path: str | Path | None = None) -> Path | None:
        """Write the enhanced signal as a 32-bit float WAV (atomically, never over the files it
        was made from); asks for a path."""
        if self.outcome is None:
            return None
        return self._save_wav(path, self.outcome.result.output, self.outcome.fs_hz,
                              "Save Enhanced Audio", "enhanced.wav", self.outcome.inputs)
