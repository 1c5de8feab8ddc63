"""The Enhancement panel: speech enhancement (PercepNet, `dsp.percepnet.enhance`) of a talker
heard at a device microphone in the scene, or of an audio file.

Source: *Scene* simulates the chosen talker and noise sources at one device microphone (free-field
or room engine, 16 kHz; `dsp.mic_mix`), so the clean talker image is known; *File* reads a
WAV/FLAC file with an optional clean reference. Options: comb filter, postfilter, int8 weights,
and oracle gains (from the clean signal, when it is known). Process runs in the background
(progress, cancel); the panel then shows the spectrograms before and after on one dB scale,
PESQ-WB / STOI / SI-SDR of the input and the output when a clean reference exists, A/B playback
of Noisy / Enhanced (/ Clean when known), loudness-matched to the input, through the audition
engine (`gui.audio.clip_audition`; keys 1 2 3, Space), and Save Output writes the result as a
32-bit float WAV (atomically).

The job (`run_enhance`) is Qt-free and only calls `sim` and `dsp`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dsp.clip_paths import ClipSet, make_clips
from sim.scene import Scene
from workbench.gui.audio.clip_audition import ClipAudition
from workbench.gui.shell.job_panel import JobPanel
from workbench.gui.shell.theme import current_theme, scene_colors

log = logging.getLogger(__name__)

SCENE_FS_HZ = 16000
"""Rate of the simulated microphone signal: the model's own rate (fast, no resampling)."""
DYNAMIC_RANGE_DB = 80.0
METRIC_ROWS = (("pesq_wb", "PESQ-WB", "{:.2f}"), ("stoi", "STOI", "{:.3f}"),
               ("si_sdr", "SI-SDR (dB)", "{:.1f}"))


@dataclass
class EnhanceRequest:
    """What to process. source "scene": scene, engine, mic, talker (source index), noises
    (source indices), seconds; source "file": noisy_path and optional clean_path."""

    source: str
    scene: Scene | None = None
    engine: str = "freefield"
    mic: int = 0
    talker: int | None = None
    noises: list[int] = field(default_factory=list)
    seconds: float = 4.0
    noisy_path: str = ""
    clean_path: str = ""
    use_comb: bool = True
    use_postfilter: bool = True
    int8: bool = False
    oracle: bool = False


@dataclass
class EnhanceOutcome:
    noisy: np.ndarray
    clean: np.ndarray | None
    fs_hz: int
    result: object  # dsp.percepnet.enhance.EnhanceResult
    metrics_noisy: dict | None
    metrics_enhanced: dict | None
    label: str
    notes: list[str]
    clips: ClipSet


def _mono(x: np.ndarray) -> np.ndarray:
    return x if x.ndim == 1 else x[:, 0]


def _playable(x: np.ndarray) -> np.ndarray:
    """Mono or stereo as it is; more channels: the first (the one the spectrograms show)."""
    return x if x.ndim == 1 or x.shape[1] <= 2 else x[:, 0]


def enhance_clips(noisy: np.ndarray, enhanced: np.ndarray, clean: np.ndarray | None,
                  fs_hz: int) -> ClipSet:
    """Noisy / Enhanced (/ Clean) for A/B listening, loudness-matched to the noisy input."""
    clips = {"Noisy": _playable(noisy), "Enhanced": _playable(enhanced)}
    if clean is not None:
        clips["Clean"] = clean
    return make_clips(clips, fs_hz, match_loudness=True)


def run_enhance(req: EnhanceRequest, *, state) -> EnhanceOutcome:
    """The background job: simulate or read the input, enhance it, score it."""
    from dsp.percepnet.enhance import EnhanceOptions, enhance
    from dsp.percepnet.metrics import score_all

    state.check()
    notes: list[str] = []
    if req.source == "scene":
        from dsp.mic_mix import scene_mic_mix
        from sim.transfer import simulate

        state.progress(0.0, f"Simulating ({req.engine}) …")
        tr = simulate(req.scene, req.engine, fs_hz=SCENE_FS_HZ, talkers=True,
                      state=state.sub(0.0, 0.4))
        state.check()
        state.progress(0.4, "Mixing at the microphone …")
        mix = scene_mic_mix(req.scene, tr, mic=req.mic, seconds=req.seconds, talker=req.talker,
                            noises=req.noises)
        noisy, clean, fs = mix.mixture, mix.clean, mix.fs_hz
        mic_name = req.scene.device.microphones[req.mic].name
        label = f"{mic_name}, {req.engine}, SNR {mix.snr_db:.1f} dB"
    else:
        from dsp.audio_io import read_audio

        state.progress(0.0, "Reading …")
        noisy, fs = read_audio(req.noisy_path, channels=None)
        noisy = noisy[:, 0] if noisy.shape[1] == 1 else noisy
        clean = None
        if req.clean_path:
            c, _ = read_audio(req.clean_path, fs_hz=fs, channels=None)
            c = c.mean(axis=1)
            if abs(len(c) - noisy.shape[0]) > fs // 10:
                notes.append(f"clean reference is {len(c) / fs:.2f} s, the input "
                             f"{noisy.shape[0] / fs:.2f} s: cut/padded to the input")
            clean = np.pad(c, (0, max(0, noisy.shape[0] - len(c))))[:noisy.shape[0]]
        label = Path(req.noisy_path).name
    state.check()
    oracle = req.oracle and clean is not None
    opts = EnhanceOptions(use_comb=req.use_comb, use_postfilter=req.use_postfilter,
                          weights="int8" if req.int8 else "float16",
                          oracle_clean=clean if oracle else None)
    state.progress(0.5, "Enhancing (oracle gains) …" if oracle else "Enhancing …")
    result = enhance(noisy, fs, opts)
    state.check()
    m_noisy = m_enh = None
    if clean is not None:
        state.progress(0.8, "Scoring …")
        m_noisy = score_all(clean, _mono(noisy), fs)
        state.check()
        m_enh = score_all(clean, _mono(result.output), fs)
    state.progress(0.95, "Matching loudness for listening …")
    clips = enhance_clips(noisy, result.output, clean, fs)
    state.progress(1.0, "Done")
    return EnhanceOutcome(noisy, clean, fs, result, m_noisy, m_enh, label,
                          notes + list(result.notes), clips)


class SpectrogramPlot(pg.PlotWidget):
    """A dB spectrogram (time × frequency) as an ImageItem with a fixed colour map."""

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
        db = np.asarray(spec.db)
        self.image.setImage(db, levels=levels, autoLevels=False)
        t0 = float(spec.times_s[0]) if len(spec.times_s) else 0.0
        dt = float(spec.times_s[1] - spec.times_s[0]) if len(spec.times_s) > 1 else 0.01
        df = float(spec.freqs_hz[1] - spec.freqs_hz[0]) if len(spec.freqs_hz) > 1 else 1.0
        self.image.setRect(QRectF(t0, 0.0, dt * db.shape[0], df * db.shape[1]))
        self.autoRange()

    def clear_image(self) -> None:
        self.image.clear()


class EnhancePanel(JobPanel):
    """The panel over one `SceneDocument`. `message` carries status-bar text."""

    def _init_state(self) -> None:
        self._request: EnhanceRequest | None = None

    # -- construction ----------------------------------------------------------------------------
    def _build(self) -> None:
        left = QVBoxLayout()
        src_box = QGroupBox("Input")
        src = QVBoxLayout(src_box)
        self.radio_scene = QRadioButton("Scene: talker + noise at a device microphone")
        self.radio_file = QRadioButton("Audio file")
        self.radio_scene.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.radio_scene)
        group.addButton(self.radio_file)
        src.addWidget(self.radio_scene)
        scene_form = QFormLayout()
        self.mic_combo = QComboBox()
        self.engine_combo = QComboBox()
        self.engine_combo.addItem("Free field", "freefield")
        self.engine_combo.addItem("Room", "room")
        self.talker_combo = QComboBox()
        self.noise_list = QListWidget()
        self.noise_list.setMaximumHeight(70)
        self.seconds_spin = QDoubleSpinBox()
        self.seconds_spin.setRange(1.0, 30.0)
        self.seconds_spin.setValue(4.0)
        self.seconds_spin.setSuffix(" s")
        scene_form.addRow("Microphone", self.mic_combo)
        scene_form.addRow("Engine", self.engine_combo)
        scene_form.addRow("Talker", self.talker_combo)
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
        left.addWidget(src_box)

        opt_box = QGroupBox("Processing")
        opt = QVBoxLayout(opt_box)
        self.comb_check = QCheckBox("Comb filter")
        self.comb_check.setChecked(True)
        self.postfilter_check = QCheckBox("Postfilter")
        self.postfilter_check.setChecked(True)
        self.int8_check = QCheckBox("int8 weights")
        self.oracle_check = QCheckBox("Oracle gains (from the clean signal)")
        for w in (self.comb_check, self.postfilter_check, self.int8_check, self.oracle_check):
            opt.addWidget(w)
        left.addWidget(opt_box)

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
        self.audition = ClipAudition()
        self.audition.set_shortcut_scope(self)
        plots.addWidget(self.audition)
        self.apply_theme()

        row = QHBoxLayout(self)
        side = QWidget()
        side.setLayout(left)
        side.setMaximumWidth(380)
        row.addWidget(side)
        row.addLayout(plots, 1)

        self.radio_scene.toggled.connect(self._update_enabled)
        self.clean_edit.textChanged.connect(self._update_enabled)
        self.browse_noisy.clicked.connect(lambda: self._browse(self.noisy_edit, "Open Noisy Audio"))
        self.browse_clean.clicked.connect(
            lambda: self._browse(self.clean_edit, "Open Clean Reference"))
        self.audition.saveRequested.connect(lambda: self.save_output())
        self.audition.message.connect(self.message)

    def apply_theme(self, colors=None) -> None:
        colors = colors or scene_colors(current_theme())
        for plot in (self.before_plot, self.after_plot):
            plot.setBackground(colors.plot_background)
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setPen(colors.plot_foreground)
                plot.getAxis(axis).setTextPen(colors.plot_foreground)
        self.error_label.setStyleSheet(f"color: {colors.error}")
        self.audition.apply_theme(colors)

    def _browse(self, edit: QLineEdit, caption: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, caption, edit.text() or str(Path.home()),
                                              "Audio (*.wav *.flac *.ogg *.aiff);;All files (*)")
        if path:
            edit.setText(path)

    # -- scene choices ---------------------------------------------------------------------------
    def refresh_scene(self) -> None:
        """Fill the microphone, talker and noise choices from the document's scene (keeping the
        current picks where they still exist)."""
        scene = self.document.scene
        mic, talker = self.mic_combo.currentText(), self.talker_combo.currentText()
        unchecked = {self.noise_list.item(i).text() for i in range(self.noise_list.count())
                     if self.noise_list.item(i).checkState() != Qt.CheckState.Checked}
        self.mic_combo.clear()
        for i, m in enumerate(scene.device.microphones):
            self.mic_combo.addItem(m.name, i)
        self.talker_combo.clear()
        self.noise_list.clear()
        for i, s in enumerate(scene.sources):
            if s.kind == "talker":
                self.talker_combo.addItem(s.name, i)
            elif s.kind == "noise":
                item = QListWidgetItem(s.name)
                item.setData(Qt.ItemDataRole.UserRole, i)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked if s.name in unchecked
                                   else Qt.CheckState.Checked)
                self.noise_list.addItem(item)
        for combo, text in ((self.mic_combo, mic), (self.talker_combo, talker)):
            k = combo.findText(text)
            if k >= 0:
                combo.setCurrentIndex(k)

    def _scene_problem(self) -> str | None:
        scene = self.document.scene
        if not scene.device.microphones:
            return "The device has no microphones: add one, or process a file."
        if self.talker_combo.count() == 0:
            return "The scene has no talker: add one, or process a file."
        return None

    def request(self) -> EnhanceRequest:
        common = dict(use_comb=self.comb_check.isChecked(),
                      use_postfilter=self.postfilter_check.isChecked(),
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
                              talker=self.talker_combo.currentData(), noises=noises,
                              seconds=self.seconds_spin.value(), **common)

    # -- processing ------------------------------------------------------------------------------
    def process(self) -> bool:
        """Start processing the chosen input; False (with a message) if it cannot start."""
        if self.runner.is_running:
            return False
        if self.radio_scene.isChecked():
            problem = self._scene_problem()
        else:
            problem = None if self.noisy_edit.text().strip() else "Choose an input file first."
        if problem:
            self.show_error(problem)
            return False
        self._request = self.request()
        return self._start(run_enhance, self._request, "enhance")

    def _on_finished(self, outcome: EnhanceOutcome) -> None:
        self.progress.setVisible(False)
        self.outcome = outcome
        res = outcome.result
        top = float(max(np.max(res.before.db), np.max(res.after.db)))
        levels = (top - DYNAMIC_RANGE_DB, top)
        self.before_plot.show_spectrogram(res.before, levels)
        self.after_plot.show_spectrogram(res.after, levels)
        self.before_plot.setTitle(f"Before — {outcome.label}")
        oracle = self._request is not None and self._request.oracle and outcome.clean is not None
        self.after_plot.setTitle("After (oracle gains)" if oracle else "After")
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
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.metrics_table.setItem(r, c, item)
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
        busy = self.runner.is_running
        scene = self.radio_scene.isChecked()
        self.scene_widgets.setEnabled(scene)
        self.file_widgets.setEnabled(not scene)
        self.oracle_check.setEnabled(scene or bool(self.clean_edit.text().strip()))
        self.process_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.save_button.setEnabled(not busy and self.outcome is not None)

    # -- saving ----------------------------------------------------------------------------------
    def save_output(self, path: str | Path | None = None) -> Path | None:
        """Write the enhanced signal as a 32-bit float WAV (atomically); asks for a path."""
        if self.outcome is None:
            return None
        return self._save_wav(path, self.outcome.result.output, self.outcome.fs_hz,
                              "Save Enhanced Audio", "enhanced.wav")
