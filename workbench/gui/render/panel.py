"""Renderer panel: audition a programme through the spatial renderer, A/B/X, as heard at the
listener of the open scene.

- Open… or drop a WAV/FLAC/AIFF/OGG file (any rate: resampled to the scene's with soxr) on the
  panel or the window; the player is built in the background (progress, Cancel); a bad file's
  one-line reason is shown and the previous programme stays;
- transport: Play/Pause (Space while the panel has focus), Stop, a position slider (drag or
  click to seek; clicking the overview seeks too), a loop region (spin boxes or drag its edges
  in the overview);
- A / B / X (keys 1 2 3 or A B X anywhere in the window): plain stereo through the device,
  the spatial renderer, the reference stereo pair; the switch is a short crossfade, and the
  indicator shows the path being heard;
- meters (peak/RMS after the −1 dBFS limiter, gain reduction, upmix L/R/C) polled from the
  engine by a timer; the output device; upmix and renderer parameters, applied while playing
  (among them "Design in": the networks' design space, free field or the room's early
  response, `dsp.renderer.RenderParams.design_space`);
- the programme overview: L/R/C levels of the upmix or a spectrogram, with the play position;
- Render to Files… (offline, no audio device needed): drivers.wav, binaural_A/B/X.wav,
  report.json, in the background with progress and Cancel.

Without PortAudio or an output device the panel says why, Play is disabled and Render to
Files… is offered. The panel shows what the `AuditionController` holds and sends it the user's
requests; it computes nothing.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSlider,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dsp.listening import PATHS
from dsp.renderer import C_METHODS, DESIGN_SPACES, LR_METHODS
from workbench.gui.audio.meters import LevelMeters
from workbench.gui.plots.programme import ProgrammeView
from workbench.gui.render.audition_controller import (
    AUDIO_FILTER,
    BLOCKS,
    MODE_LABELS,
    PATH_LABELS,
    AuditionController,
    is_audio_file,
)
from workbench.gui.render.render_dialog import OfflineRenderer
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors
from workbench.gui.shell.widgets import double_spin
from workbench.jobs.render import MODES, format_time

POLL_MS = 33
OPEN_DIR_KEY = "renderer/openDir"
PATH_KEYS = {"A": ("1", "A"), "B": ("2", "B"), "X": ("3", "X")}
WIDTH_RANGE = (-3.0, -1.0)   # centre width slider: log10 of 0.001 .. 0.1
WIDTH_STEPS = 100
LR_LABELS = {"virtualizer": "Virtualizer + CTC", "ctc": "CTC / null steering",
             "direct": "Direct (matrix)"}
C_LABELS = {"auto": "Auto (beam if ≥ 3 drivers)", "beam": "Beam", "phantom": "Phantom (L+R)",
            "direct": "Direct (matrix)"}
SPACE_LABELS = {"freefield": "Free field", "room_early": "Room (early, < 2 kHz)"}


def audio_paths(mime) -> list[Path]:
    """Local audio files among a drag's URLs."""
    if mime is None or not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls()
            if u.isLocalFile() and is_audio_file(u.toLocalFile())]


def _width_to_slider(width: float) -> int:
    lo, hi = WIDTH_RANGE
    v = (math.log10(max(width, 1e-6)) - lo) / (hi - lo)
    return round(min(max(v, 0.0), 1.0) * WIDTH_STEPS)


def _slider_to_width(v: int) -> float:
    lo, hi = WIDTH_RANGE
    return float(f"{10.0 ** (lo + (hi - lo) * v / WIDTH_STEPS):.2g}")


def _action(parent: QWidget, text: str, slot, shortcuts=(), tip: str = "", name: str = "",
            context=Qt.ShortcutContext.WindowShortcut) -> QAction:
    action = QAction(text, parent)
    action.setShortcuts([QKeySequence(s) for s in shortcuts])
    action.setShortcutContext(context)
    keys = " / ".join(QKeySequence(s).toString(QKeySequence.SequenceFormat.NativeText)
                      for s in shortcuts)
    tip = tip or text.replace("&", "").rstrip(".…")
    action.setStatusTip(tip)
    action.setToolTip(f"{tip} ({keys})" if keys else tip)
    if name:
        action.setObjectName(name)
    action.triggered.connect(slot)
    parent.addAction(action)
    return action


class RendererPanel(QWidget):
    """The audition UI over an `AuditionController`. `message` carries status-bar text."""

    message = Signal(str)

    def __init__(self, controller: AuditionController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("rendererPanel")
        self.setAcceptDrops(True)
        self.colors = scene_colors(current_theme())
        self.offline = OfflineRenderer(self)
        self._slider_dragging = False
        self._create_actions()
        self._create_widgets()
        self._layout()
        self._connect()
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll)
        self._sync_settings(controller.settings)
        self._refresh_devices()
        self._on_audio_problem(controller.audio_problem)
        self._on_programme(controller.programme)
        self._on_path(controller.path)
        self._on_state(controller.state)
        self.apply_theme(self.colors)

    # -- construction ----------------------------------------------------------------------------
    def _create_actions(self) -> None:
        c = self.controller
        panel_only = Qt.ShortcutContext.WidgetWithChildrenShortcut
        self.action_open = _action(self, "&Open Audio File…", lambda: self.open_file(),
                                   ["Ctrl+Shift+O"], "Open a WAV/FLAC file to audition",
                                   "actionOpenAudio")
        self.action_play = _action(self, "&Play", lambda: self.play_pause(), ["Space"],
                                   "Play or pause", "actionPlayPause", panel_only)
        self.action_stop = _action(self, "&Stop", c.stop, ["Shift+Space"],
                                   "Stop and go back to the start", "actionStopAudio",
                                   panel_only)
        self.path_actions: dict[str, QAction] = {}
        for p in PATHS:
            self.path_actions[p] = _action(self, f"Listen to &{p}: {PATH_LABELS[p]}",
                                           lambda _c=False, p=p: c.select(p), PATH_KEYS[p],
                                           f"Switch to path {p}: {PATH_LABELS[p]}",
                                           f"actionPath{p}")
        self.action_render = _action(self, "&Render to Files…", lambda: self.render_to_files(),
                                     ["Ctrl+Shift+R"], "Render the programme offline: driver"
                                     " feeds, binaural A/B/X and a report", "actionRenderFiles")
        self.action_rebuild = _action(self, "Re&build Paths", lambda: c.rebuild(), [],
                                      "Build the player again for the current scene",
                                      "actionRebuildPaths")
        self.action_rescan = _action(self, "Rescan &Devices", lambda: self.rescan_devices(),
                                     [], "Ask PortAudio for the output devices again",
                                     "actionRescanDevices")

    def _create_widgets(self) -> None:
        for action, text in ((self.action_open, "Open…"), (self.action_rebuild, "Rebuild"),
                             (self.action_render, "Render to Files…"),
                             (self.action_play, "▶ Play"), (self.action_stop, "■ Stop"),
                             (self.action_rescan, "↻")):
            action.setIconText(text)
        self.open_button = QToolButton()
        self.open_button.setDefaultAction(self.action_open)
        self.file_label = QLabel("No programme")
        self.file_label.setObjectName("programmeLabel")
        self.file_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rebuild_button = QToolButton()
        self.rebuild_button.setDefaultAction(self.action_rebuild)
        self.render_button = QToolButton()
        self.render_button.setDefaultAction(self.action_render)

        self.audio_label = QLabel()
        self.audio_label.setObjectName("audioProblem")
        self.audio_label.setWordWrap(True)
        self.audio_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.audio_render_button = QPushButton("Render to Files Instead…")
        self.audio_render_button.setObjectName("renderInstead")
        self.audio_render_button.clicked.connect(lambda: self.render_to_files())
        self.audio_box = QFrame()
        self.audio_box.setObjectName("audioBox")
        box = QHBoxLayout(self.audio_box)
        box.setContentsMargins(6, 2, 6, 2)
        box.addWidget(self.audio_label, 1)
        box.addWidget(self.audio_render_button)
        self.error_label = QLabel()
        self.error_label.setObjectName("rendererError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setVisible(False)

        self.build_progress = QProgressBar()
        self.build_progress.setObjectName("buildProgress")
        self.build_progress.setRange(0, 100)
        self.build_cancel = QPushButton("Cancel")
        self.build_cancel.setObjectName("cancelBuild")
        self.build_cancel.clicked.connect(self.controller.cancel_build)
        self.render_progress = QProgressBar()
        self.render_progress.setObjectName("renderProgress")
        self.render_progress.setRange(0, 100)
        self.render_cancel = QPushButton("Cancel")
        self.render_cancel.setObjectName("cancelRender")
        self.render_cancel.clicked.connect(self.cancel_render)

        self.play_button = QToolButton()
        self.play_button.setObjectName("playButton")
        self.play_button.setDefaultAction(self.action_play)
        self.play_button.setMinimumWidth(64)
        self.stop_button = QToolButton()
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setDefaultAction(self.action_stop)
        self.position_slider = QSlider(Qt.Orientation.Horizontal)
        self.position_slider.setObjectName("positionSlider")
        self.position_slider.setRange(0, 0)
        self.position_slider.setPageStep(5000)
        self.position_slider.setSingleStep(1000)
        self.time_label = QLabel("0:00.0 / 0:00.0")
        self.time_label.setObjectName("timeLabel")
        self.time_label.setMinimumWidth(110)
        self.loop_check = QCheckBox("Loop")
        self.loop_check.setObjectName("loopCheck")
        self.loop_start = self._seconds_spin("loopStart")
        self.loop_end = self._seconds_spin("loopEnd")

        self.path_group = QButtonGroup(self)
        self.path_group.setExclusive(True)
        self.path_buttons: dict[str, QPushButton] = {}
        for p in PATHS:
            b = QPushButton(p)
            b.setObjectName(f"pathButton{p}")
            b.setCheckable(True)
            b.setMinimumSize(44, 36)
            b.setToolTip(self.path_actions[p].toolTip())
            f = b.font()
            f.setBold(True)
            f.setPointSizeF(f.pointSizeF() + 3)
            b.setFont(f)
            b.clicked.connect(lambda _c=False, p=p: self.controller.select(p))
            self.path_group.addButton(b)
            self.path_buttons[p] = b
        self.hearing_label = QLabel()
        self.hearing_label.setObjectName("hearingLabel")
        self.hearing_label.setWordWrap(True)
        self.device_combo = QComboBox()
        self.device_combo.setObjectName("deviceCombo")
        self.device_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device_combo.setMinimumContentsLength(12)
        self.rescan_button = QToolButton()
        self.rescan_button.setDefaultAction(self.action_rescan)

        self.meters = LevelMeters()

        self.width_slider = QSlider(Qt.Orientation.Horizontal)
        self.width_slider.setObjectName("centreWidth")
        self.width_slider.setRange(0, WIDTH_STEPS)
        self.width_slider.setToolTip("Centre width ξ: wider puts more of the half-panned "
                                     "sources in C; narrower is more selective")
        self.width_value = QLabel()
        self.width_value.setMinimumWidth(44)
        self.smoothing_spin = self._spin("smoothing", 0.0, 500.0, 5.0, " ms", 0)
        self.smoothing_spin.setToolTip("Time constant of the cross-spectrum smoothing")
        self.ambience_slider = QSlider(Qt.Orientation.Horizontal)
        self.ambience_slider.setObjectName("ambience")
        self.ambience_slider.setRange(0, 100)
        self.ambience_slider.setToolTip("How far incoherent (ambient) sound is kept out of C")
        self.ambience_value = QLabel()
        self.ambience_value.setMinimumWidth(44)
        self.centre_gain_spin = self._spin("centreGain", -20.0, 12.0, 0.5, " dB", 1)
        self.centre_gain_spin.setToolTip("Gain of C (dialogue lift); 0 dB reconstructs the "
                                         "input exactly")
        self.block_combo = QComboBox()
        self.block_combo.setObjectName("blockSize")
        for n in BLOCKS:
            self.block_combo.addItem(f"{n} samples", n)
        self.block_combo.setToolTip("Processing block of the player (latency of commands, CPU)")
        self.lr_combo = QComboBox()
        self.lr_combo.setObjectName("lrMethod")
        for m in LR_METHODS:
            self.lr_combo.addItem(LR_LABELS.get(m, m), m)
        self.c_combo = QComboBox()
        self.c_combo.setObjectName("cMethod")
        for m in C_METHODS:
            self.c_combo.addItem(C_LABELS.get(m, m), m)
        self.space_combo = QComboBox()
        self.space_combo.setObjectName("designSpace")
        for m in DESIGN_SPACES:
            self.space_combo.addItem(SPACE_LABELS.get(m, m), m)
        self.space_combo.setToolTip("Plant the filters are designed on. Room: also compensates"
                                    " the room's first reflections at the listener below 2 kHz"
                                    " — exact in the simulated early room, fragile where the"
                                    " room holds more than that model")
        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("pathsEngine")
        for m in MODES:
            self.mode_combo.addItem(MODE_LABELS[m], m)
        self.mode_combo.setToolTip("How the device and the reference pair are heard: the "
                                   "room simulation or free field (changing it rebuilds)")

        self.view = ProgrammeView()

    def _seconds_spin(self, name: str) -> QDoubleSpinBox:
        w = self._spin(name, 0.0, 0.0, 0.5, " s", 2)
        w.setEnabled(False)
        return w

    def _spin(self, name: str, lo: float, hi: float, step: float, suffix: str,
              decimals: int) -> QDoubleSpinBox:
        return double_spin(lo, hi, step, suffix, decimals, name=name)

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.file_label, 1)
        top.addWidget(self.rebuild_button)
        top.addWidget(self.render_button)
        jobs = QHBoxLayout()
        jobs.addWidget(self.build_progress, 1)
        jobs.addWidget(self.build_cancel)
        jobs.addWidget(self.render_progress, 1)
        jobs.addWidget(self.render_cancel)
        for w in (self.build_progress, self.build_cancel, self.render_progress,
                  self.render_cancel):
            w.setVisible(False)
        transport = QHBoxLayout()
        transport.addWidget(self.play_button)
        transport.addWidget(self.stop_button)
        transport.addWidget(self.position_slider, 1)
        transport.addWidget(self.time_label)
        transport.addSpacing(8)
        transport.addWidget(self.loop_check)
        transport.addWidget(self.loop_start)
        transport.addWidget(QLabel("–"))
        transport.addWidget(self.loop_end)

        abx = QGroupBox("Listen")
        v = QVBoxLayout(abx)
        row = QHBoxLayout()
        for p in PATHS:
            row.addWidget(self.path_buttons[p])
        v.addLayout(row)
        v.addWidget(self.hearing_label)
        v.addStretch(1)
        dev = QHBoxLayout()
        dev.addWidget(self.device_combo, 1)
        dev.addWidget(self.rescan_button)
        v.addWidget(QLabel("Output"))
        v.addLayout(dev)
        abx.setMinimumWidth(150)
        abx.setMaximumWidth(210)

        meters_box = QGroupBox("Meters")
        QVBoxLayout(meters_box).addWidget(self.meters)
        meters_box.setMaximumWidth(220)

        params = QWidget()
        form = QFormLayout(params)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(4, 2, 4, 2)
        width_row = QHBoxLayout()
        width_row.addWidget(self.width_slider, 1)
        width_row.addWidget(self.width_value)
        form.addRow("Centre width", width_row)
        form.addRow("Smoothing", self.smoothing_spin)
        amb_row = QHBoxLayout()
        amb_row.addWidget(self.ambience_slider, 1)
        amb_row.addWidget(self.ambience_value)
        form.addRow("Ambience", amb_row)
        form.addRow("Centre gain", self.centre_gain_spin)
        form.addRow("Block", self.block_combo)
        form.addRow("L / R", self.lr_combo)
        form.addRow("Centre", self.c_combo)
        form.addRow("Design in", self.space_combo)
        form.addRow("Paths", self.mode_combo)
        scroll = QScrollArea()
        scroll.setObjectName("rendererParams")
        scroll.setWidget(params)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # The overview and the parameters share the space beside the meters: a tab each
        # (the meters' L/R/C bars show a parameter's effect while the parameters are up).
        self.tabs = QTabWidget()
        self.tabs.setObjectName("rendererTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.view, "Programme")
        self.tabs.addTab(scroll, "Settings")
        self.tabs.setTabToolTip(1, "Upmix and renderer parameters")

        main = QHBoxLayout()
        main.addWidget(abx)
        main.addWidget(meters_box)
        main.addWidget(self.tabs, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.audio_box)
        layout.addWidget(self.error_label)
        layout.addLayout(jobs)
        layout.addLayout(transport)
        layout.addLayout(main, 1)

    def _connect(self) -> None:
        c = self.controller
        c.programmeChanged.connect(self._on_programme)
        c.playerChanged.connect(lambda _p: self._update_enabled())
        c.overviewChanged.connect(self._on_overview)
        c.busyChanged.connect(self._on_busy)
        c.progress.connect(self._on_build_progress)
        c.stateChanged.connect(self._on_state)
        c.pathChanged.connect(self._on_path)
        c.audioProblemChanged.connect(self._on_audio_problem)
        c.errorChanged.connect(self._on_error)
        c.staleChanged.connect(lambda _s: self._show_error_or_stale())
        c.settingsChanged.connect(self._sync_settings)
        s = self.position_slider
        s.sliderPressed.connect(self._on_slider_pressed)
        s.sliderReleased.connect(self._on_slider_released)
        s.sliderMoved.connect(lambda v: self._show_time(v / 1000.0))
        s.actionTriggered.connect(self._on_slider_action)
        self.loop_check.toggled.connect(self._on_loop_toggled)
        self.loop_start.valueChanged.connect(lambda _v: self._apply_loop())
        self.loop_end.valueChanged.connect(lambda _v: self._apply_loop())
        self.view.seekRequested.connect(self.seek)
        self.view.loopEdited.connect(self._on_loop_dragged)
        self.device_combo.currentIndexChanged.connect(self._on_device_chosen)
        self.width_slider.valueChanged.connect(self._on_width)
        self.smoothing_spin.valueChanged.connect(
            lambda v: self._set_upmix(smoothing_ms=float(v)))
        self.ambience_slider.valueChanged.connect(self._on_ambience)
        self.centre_gain_spin.valueChanged.connect(
            lambda v: self._set_upmix(centre_gain_db=float(v)))
        self.block_combo.currentIndexChanged.connect(
            lambda _i: c.set_block(self.block_combo.currentData()))
        self.lr_combo.currentIndexChanged.connect(
            lambda _i: c.set_render(lr_method=self.lr_combo.currentData()))
        self.c_combo.currentIndexChanged.connect(
            lambda _i: c.set_render(c_method=self.c_combo.currentData()))
        self.space_combo.currentIndexChanged.connect(
            lambda _i: c.set_render(design_space=self.space_combo.currentData()))
        self.mode_combo.currentIndexChanged.connect(
            lambda _i: c.set_mode(self.mode_combo.currentData()))
        o = self.offline
        o.progress.connect(self._on_render_progress)
        o.finished.connect(self._on_render_finished)
        o.failed.connect(self._on_render_failed)
        o.cancelled.connect(self._on_render_cancelled)
        o.runner.done.connect(self._on_render_done)

    # -- files -----------------------------------------------------------------------------------
    def open_file(self, path: str | Path | None = None) -> bool:
        """Open an audio file (asks when `path` is None)."""
        if path is None:
            start = str(QSettings().value(OPEN_DIR_KEY, str(Path.home())))
            chosen, _ = QFileDialog.getOpenFileName(self, "Open Audio File", start,
                                                    AUDIO_FILTER)
            if not chosen:
                return False
            path = chosen
        path = Path(path)
        QSettings().setValue(OPEN_DIR_KEY, str(path.parent))
        return self.controller.load(path)

    def dragEnterEvent(self, event) -> None:
        if audio_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        paths = audio_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.open_file(paths[0])
        else:
            event.ignore()

    # -- transport -------------------------------------------------------------------------------
    def play_pause(self) -> None:
        self.controller.play_pause()

    def seek(self, seconds: float) -> None:
        self.controller.seek(seconds)
        self._show_position(self.controller.position_s)

    def _on_slider_pressed(self) -> None:
        self._slider_dragging = True

    def _on_slider_released(self) -> None:
        self._slider_dragging = False
        self.seek(self.position_slider.value() / 1000.0)

    def _on_slider_action(self, action: int) -> None:
        if action != QAbstractSlider.SliderAction.SliderMove.value:
            QTimer.singleShot(0, lambda: self.seek(self.position_slider.value() / 1000.0))

    def _on_loop_toggled(self, on: bool) -> None:
        self.loop_start.setEnabled(on)
        self.loop_end.setEnabled(on)
        if on:
            if self.loop_end.value() <= self.loop_start.value():
                self._set_loop_spins(0.0, self.controller.duration_s)
            self._apply_loop()
        else:
            self.controller.clear_loop()
            self.view.set_loop(None)

    def _apply_loop(self) -> None:
        if not self.loop_check.isChecked():
            return
        problem = self.controller.set_loop(self.loop_start.value(), self.loop_end.value())
        if problem:
            self.message.emit(problem)
            self._show_error(problem)
        else:
            self._show_error_or_stale()
        self.view.set_loop(self.controller.loop)

    def _on_loop_dragged(self, start: float, end: float) -> None:
        self._set_loop_spins(start, end)
        self._apply_loop()

    def _set_loop_spins(self, start: float, end: float) -> None:
        for spin, value in ((self.loop_start, start), (self.loop_end, end)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)

    # -- settings --------------------------------------------------------------------------------
    def _set_upmix(self, **changes) -> None:
        problem = self.controller.set_upmix(**changes)
        if problem:
            self._show_error(f"Upmix: {problem}")

    def _on_width(self, v: int) -> None:
        width = _slider_to_width(v)
        self.width_value.setText(f"{width:.2g}")
        self._set_upmix(centre_width=width)

    def _on_ambience(self, v: int) -> None:
        self.ambience_value.setText(f"{v / 100:.2f}")
        self._set_upmix(ambience=v / 100.0)

    def _sync_settings(self, settings) -> None:
        """Show the controller's settings (no signals back)."""
        up = settings.params.upmix
        widgets = (self.width_slider, self.smoothing_spin, self.ambience_slider,
                   self.centre_gain_spin, self.block_combo, self.lr_combo, self.c_combo,
                   self.space_combo, self.mode_combo)
        for w in widgets:
            w.blockSignals(True)
        try:
            if _slider_to_width(self.width_slider.value()) != up.centre_width:
                self.width_slider.setValue(_width_to_slider(up.centre_width))
            self.width_value.setText(f"{up.centre_width:.2g}")
            self.smoothing_spin.setValue(up.smoothing_ms)
            self.ambience_slider.setValue(round(100 * up.ambience))
            self.ambience_value.setText(f"{up.ambience:.2f}")
            self.centre_gain_spin.setValue(up.centre_gain_db)
            self.block_combo.setCurrentIndex(self.block_combo.findData(settings.block))
            self.lr_combo.setCurrentIndex(self.lr_combo.findData(settings.params.lr_method))
            self.c_combo.setCurrentIndex(self.c_combo.findData(settings.params.c_method))
            self.space_combo.setCurrentIndex(
                self.space_combo.findData(settings.params.design_space))
            self.mode_combo.setCurrentIndex(self.mode_combo.findData(settings.mode))
        finally:
            for w in widgets:
                w.blockSignals(False)

    # -- devices ---------------------------------------------------------------------------------
    def _refresh_devices(self) -> None:
        c = self.controller
        combo = self.device_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("System default", None)
        for d in c.devices():
            combo.addItem(f"{d['name']} ({d['hostapi']})", d["index"])
        index = combo.findData(c.device) if c.device is not None else 0
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)

    def _on_device_chosen(self, _index: int) -> None:
        self.controller.set_device(self.device_combo.currentData())

    def rescan_devices(self) -> None:
        problem = self.controller.refresh_audio(rescan=True)
        self._refresh_devices()
        n = self.device_combo.count() - 1
        self.message.emit(problem or f"{n} output device{'s' if n != 1 else ''}; audio ready.")

    # -- offline render --------------------------------------------------------------------------
    def render_to_files(self) -> bool:
        c = self.controller
        prog = c.programme
        if prog is None:
            self.message.emit("Open an audio file first: Render to Files renders it.")
            return False
        scene = c.document.scene
        s = c.settings
        summary = (f"{prog.describe()}\nScene “{scene.name}”, paths: {MODE_LABELS[s.mode]},"
                   f" L/R {s.params.lr_method}, centre {s.params.c_method}, block {s.block}.")
        suggestion = prog.path.parent / f"{prog.path.stem}-render"
        path = c.document.path
        started = self.offline.start(self, scene, prog, s, suggestion, summary,
                                     reads=(path,) if path else ())
        if started:
            self.render_progress.setValue(0)
            self.render_progress.setFormat("Render: %p%")
            for w in (self.render_progress, self.render_cancel):
                w.setVisible(True)
            self.render_cancel.setEnabled(True)
            self.action_render.setEnabled(False)
            self.audio_render_button.setEnabled(False)
            self.message.emit(f"Rendering {prog.name} to {self.offline.choice.folder}…")
        return started

    def cancel_render(self) -> None:
        if self.offline.is_running:
            self.offline.cancel()
            self.render_cancel.setEnabled(False)
            self.message.emit("Cancelling the render…")

    def _on_render_progress(self, fraction: float, text: str) -> None:
        self.render_progress.setValue(round(100 * fraction))
        if text:
            self.render_progress.setFormat(f"Render: {text} %p%")

    def _on_render_finished(self, report: dict) -> None:
        folder = self.offline.choice.folder
        files = ", ".join([*report["files"], "report.json"])
        rtf = report["rtf"]["total"]
        self.message.emit(f"Rendered {files} to {folder} (real-time factor {rtf:.3f})")
        self._show_error_or_stale()

    def _on_render_failed(self, message: str) -> None:
        self._show_error(message)
        self.message.emit(message)

    def _on_render_cancelled(self) -> None:
        self.message.emit("Render cancelled; nothing was written.")

    def _on_render_done(self) -> None:
        for w in (self.render_progress, self.render_cancel):
            w.setVisible(False)
        self.action_render.setEnabled(True)
        self.audio_render_button.setEnabled(True)

    # -- controller → widgets --------------------------------------------------------------------
    def _on_programme(self, prog) -> None:
        c = self.controller
        if prog is None:
            self.file_label.setText("No programme: open or drop a WAV/FLAC file")
            self.view.clear("Open or drop a WAV/FLAC file to audition it.")
        else:
            self.file_label.setText(prog.describe())
            self.file_label.setToolTip(str(prog.path))
            self._on_overview()
        dur = c.duration_s
        self.position_slider.setRange(0, round(1000 * dur))
        for spin in (self.loop_start, self.loop_end):
            spin.setMaximum(dur)
        if c.loop is None and self.loop_check.isChecked():
            self.loop_check.blockSignals(True)
            self.loop_check.setChecked(False)
            self.loop_check.blockSignals(False)
            self._on_loop_toggled(False)
        self._show_position(c.position_s)
        self._update_enabled()

    def _on_overview(self) -> None:
        c = self.controller
        if c.levels is not None and c.spectrogram is not None:
            self.view.set_overview(c.levels, c.spectrogram, c.duration_s)
            self.view.set_loop(c.loop)

    def _on_busy(self, busy: bool) -> None:
        for w in (self.build_progress, self.build_cancel):
            w.setVisible(busy)
        self.build_cancel.setEnabled(busy)
        if busy:
            self.build_progress.setValue(0)
        self._update_enabled()

    def _on_build_progress(self, fraction: float, text: str) -> None:
        self.build_progress.setValue(round(100 * fraction))
        self.build_progress.setFormat(f"{text}: %p%" if text else "%p%")

    def _on_state(self, state: str) -> None:
        playing = state == "playing"
        self.action_play.setText("&Pause" if playing else "&Play")
        self.action_play.setIconText("❚❚ Pause" if playing else "▶ Play")
        if self.controller.engine is not None:
            self._poll.start()
        else:
            self._after_engine_closed()
        if state == "stopped":
            self._show_position(self.controller.position_s)
        self._update_enabled()

    def _after_engine_closed(self) -> None:
        self._poll.stop()
        self.meters.reset()
        self._show_hearing(self.controller.path, heard=False)

    def _on_path(self, path: str) -> None:
        self.path_buttons[path].setChecked(True)
        self._show_hearing(self.controller.heard_path(), heard=self.controller.engine is not None)

    def _show_hearing(self, path: str, heard: bool) -> None:
        verb = "Hearing" if heard and self.controller.state == "playing" else "Selected"
        self.hearing_label.setText(f"{verb} <b>{path}</b>: {PATH_LABELS[path]}")

    def _on_audio_problem(self, problem: str) -> None:
        self.audio_label.setText(problem)
        self.audio_box.setVisible(bool(problem))
        if problem:
            self.message.emit(problem)
            if self.controller.engine is None:
                self._after_engine_closed()
        self._update_enabled()

    def _on_error(self, message: str) -> None:
        self._show_error_or_stale()

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setStyleSheet(f"color: {self.colors.error};")
        self.error_label.setVisible(bool(text))

    def _show_error_or_stale(self) -> None:
        c = self.controller
        if c.error:
            self._show_error(c.error)
        elif c.stale:
            self.error_label.setText("The scene changed since the paths were built: Rebuild to"
                                     " hear the new one.")
            self.error_label.setStyleSheet(f"color: {self.colors.selection};")
            self.error_label.setVisible(True)
        else:
            self._show_error("")

    def _update_enabled(self) -> None:
        c = self.controller
        loaded = c.player is not None
        self.action_play.setEnabled(c.can_play)
        self.action_stop.setEnabled(loaded and not c.audio_problem)
        self.position_slider.setEnabled(loaded)
        self.loop_check.setEnabled(loaded)
        self.action_rebuild.setEnabled(c.programme is not None)
        self.action_render.setEnabled(c.programme is not None and not self.offline.is_running)
        self.audio_render_button.setEnabled(c.programme is not None
                                            and not self.offline.is_running)
        self.audio_render_button.setToolTip("" if c.programme is not None else
                                            "Open an audio file first")

    # -- polling ---------------------------------------------------------------------------------
    def _on_poll(self) -> None:
        c = self.controller
        if c.engine is None:
            self._after_engine_closed()
            return
        self.meters.set_meter(c.meter())
        self._show_position(c.position_s)
        self._show_hearing(c.heard_path(), heard=True)

    def _show_position(self, seconds: float) -> None:
        if not self._slider_dragging:
            self.position_slider.blockSignals(True)
            self.position_slider.setValue(round(1000 * seconds))
            self.position_slider.blockSignals(False)
            self._show_time(seconds)
        self.view.set_position(seconds)

    def _show_time(self, seconds: float) -> None:
        self.time_label.setText(f"{format_time(seconds)} / "
                                f"{format_time(self.controller.duration_s)}")

    # -- theme -----------------------------------------------------------------------------------
    def apply_theme(self, colors: SceneColors) -> None:
        self.colors = colors
        self.meters.apply_theme(colors)
        self.view.apply_theme(colors)
        for b in self.path_buttons.values():
            b.setStyleSheet(f"QPushButton:checked {{ background: {colors.listener};"
                            f" color: {colors.background}; border-radius: 3px; }}")
        self.audio_box.setStyleSheet(
            f"#audioBox {{ border: 1px solid {colors.error}; border-radius: 3px; }}"
            f" #audioProblem {{ color: {colors.error}; }}")
        self._show_error_or_stale()
