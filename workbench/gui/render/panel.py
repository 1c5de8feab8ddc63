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
  engine by a timer; the output device; the upmix and renderer parameters of `awb render`,
  applied while playing and remembered (among them "Design in": the networks' design space,
  free field or the room's early response, `dsp.renderer.RenderParams.design_space`, and the
  scene's listener they are designed for);
- the programme overview: L/R/C levels of the upmix or a spectrogram, with the play position;
- Render to Files… (offline, no audio device needed): drivers.wav, binaural_A/B/X.wav,
  report.json, in the background with progress and Cancel.

Without PortAudio or an output device the panel says why, Play is disabled and Render to
Files… is offered. The panel shows what the `AuditionController` holds and sends it the user's
requests; it computes nothing. Its transport (`render.transport`) and its parameters
(`render.parameters`) are mixins of its own; its commands are the Audio menu (`ACTIONS`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dsp.listening import PATHS
from workbench.gui.audio.meters import LevelMeters
from workbench.gui.audio.widgets import AudioProblemBox, choice_button_style
from workbench.gui.plots.programme import ProgrammeView
from workbench.gui.render.audition_controller import (
    AUDIO_FILTER,
    MODE_LABELS,
    PATH_LABELS,
    AuditionController,
    is_audio_file,
)
from workbench.gui.render.parameters import ParameterControls
from workbench.gui.render.render_dialog import OfflineRenderer
from workbench.gui.render.transport import TransportControls
from workbench.gui.shell.actions import Action, ActionSet
from workbench.gui.shell.settings import RENDERER_OPEN_DIR
from workbench.gui.shell.signals import connect_signals
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors

POLL_MS = 33
PATH_KEYS = {"A": ("1", "A"), "B": ("2", "B"), "X": ("3", "X")}


def audio_paths(mime) -> list[Path]:
    """Local audio files among a drag's URLs."""
    if mime is None or not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls()
            if u.isLocalFile() and is_audio_file(u.toLocalFile())]


def _has_programme(p: RendererPanel) -> bool:
    return p.controller.programme is not None


ACTIONS = (
    Action("actionOpenAudio", "&Open Audio File…", lambda p: p.open_file(), ("Ctrl+Shift+O",),
           "Open a WAV/FLAC file to audition", menu="audio", attr="action_open"),
    Action("actionPlayPause", "&Play", lambda p: p.play_pause(), ("Space",), "Play or pause",
           menu="audio", group=1, panel_only=True,
           enabled_when=lambda p: p.controller.can_play, attr="action_play"),
    Action("actionStopAudio", "&Stop", lambda p: p.controller.stop(), ("Shift+Space",),
           "Stop and go back to the start", menu="audio", group=1, panel_only=True,
           enabled_when=lambda p: (p.controller.player is not None
                                   and not p.controller.audio_problem), attr="action_stop"),
    *(Action(f"actionPath{path}", f"Listen to &{path}: {PATH_LABELS[path]}",
             lambda p, path=path: p.controller.select(path), PATH_KEYS[path],
             f"Switch to path {path}: {PATH_LABELS[path]}", menu="audio", group=2)
      for path in PATHS),
    Action("actionRenderFiles", "&Render to Files…", lambda p: p.render_to_files(),
           ("Ctrl+Shift+R",), "Render the programme offline: driver feeds, binaural A/B/X and"
           " a report", menu="audio", group=3,
           enabled_when=lambda p: _has_programme(p) and not p.offline.is_running,
           attr="action_render"),
    Action("actionRebuildPaths", "Re&build Paths", lambda p: p.controller.rebuild(),
           tip="Build the player again for the current scene", menu="audio", group=3,
           enabled_when=_has_programme, attr="action_rebuild"),
    Action("actionRescanDevices", "Rescan &Devices", lambda p: p.rescan_devices(),
           tip="Ask PortAudio for the output devices again", menu="audio", group=3,
           attr="action_rescan"),
)
"""The Audio menu (owner: the panel; Space and Shift+Space work while focus is in it)."""


class RendererPanel(TransportControls, ParameterControls, QWidget):
    """The audition UI over an `AuditionController`. `message` carries status-bar text."""

    message = Signal(str)

    def __init__(self, controller: AuditionController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("rendererPanel")
        self.setAcceptDrops(True)
        self.colors = scene_colors(current_theme())
        self.offline = OfflineRenderer(self)
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
        self.action_set = ActionSet(self, ACTIONS)
        self.path_actions = {p: self.action_set[f"actionPath{p}"] for p in PATHS}

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
        self.file_label.setWordWrap(True)  # never wider than the dock, never cut
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rebuild_button = QToolButton()
        self.rebuild_button.setDefaultAction(self.action_rebuild)
        self.render_button = QToolButton()
        self.render_button.setDefaultAction(self.action_render)

        self.audio_box = AudioProblemBox("audioBox", "audioProblem", "Render to Files Instead…",
                                         "renderInstead")
        self.audio_label, self.audio_render_button = self.audio_box.label, self.audio_box.button
        self.audio_render_button.clicked.connect(lambda: self.render_to_files())
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
        self._create_listen_widgets()
        self.meters = LevelMeters()
        self._create_parameter_widgets()
        self.view = ProgrammeView()
        self._create_transport_widgets()

    def _create_listen_widgets(self) -> None:
        """The A / B / X buttons, what is heard, the output device."""
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
        self.device_combo.setMinimumContentsLength(14)  # "System default" whole
        self.rescan_button = QToolButton()
        self.rescan_button.setDefaultAction(self.action_rescan)

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
        transport = self._transport_row()

        abx = QGroupBox("Listen")
        v = QVBoxLayout(abx)
        row = QHBoxLayout()
        for p in PATHS:
            row.addWidget(self.path_buttons[p])
        v.addLayout(row)
        # The free height goes to the label: its text wraps to up to three lines in the
        # narrow group, more than a label's size hint allows for beside the meters.
        self.hearing_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.hearing_label.setMinimumHeight(3 * self.hearing_label.fontMetrics().lineSpacing())
        v.addWidget(self.hearing_label, 1)
        dev = QHBoxLayout()
        dev.addWidget(self.device_combo, 1)
        dev.addWidget(self.rescan_button)
        v.addWidget(QLabel("Output"))
        v.addLayout(dev)

        meters_box = QGroupBox("Meters")
        QVBoxLayout(meters_box).addWidget(self.meters)
        meters_box.setMaximumWidth(220)

        # The overview and the parameters share the space beside the meters: a tab each
        # (the meters' L/R/C bars show a parameter's effect while the parameters are up).
        self.tabs = QTabWidget()
        self.tabs.setObjectName("rendererTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.view, "Programme")
        self.tabs.addTab(self._parameters_page(), "Settings")
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
        connect_signals(
            self.controller, programmeChanged=self._on_programme,
            playerChanged=lambda _p: self._update_enabled(), overviewChanged=self._on_overview,
            busyChanged=self._on_busy, progress=self._on_build_progress,
            stateChanged=self._on_state, pathChanged=self._on_path,
            audioProblemChanged=self._on_audio_problem, errorChanged=self._on_error,
            staleChanged=lambda _s: self._show_error_or_stale(),
            settingsChanged=self._sync_settings)
        self._connect_transport()
        self.device_combo.currentIndexChanged.connect(self._on_device_chosen)
        self._connect_parameters()
        connect_signals(self.offline, progress=self._on_render_progress,
                        finished=self._on_render_finished, failed=self._on_render_failed,
                        cancelled=self._on_render_cancelled)
        self.offline.runner.done.connect(self._on_render_done)

    # -- files -----------------------------------------------------------------------------------
    def open_file(self, path: str | Path | None = None) -> bool:
        """Open an audio file (asks when `path` is None)."""
        if path is None:
            start = RENDERER_OPEN_DIR.get()
            chosen, _ = QFileDialog.getOpenFileName(self, "Open Audio File", start,
                                                    AUDIO_FILTER)
            if not chosen:
                return False
            path = chosen
        path = Path(path)
        RENDERER_OPEN_DIR.set(str(path.parent))
        return self.controller.load(path)

    def reset(self) -> None:
        """Another scene was opened: back to no programme (a render to files under way goes
        on: its files were asked for)."""
        self.controller.reset()

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
            self._update_enabled()
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
        self._update_enabled()

    # -- controller → widgets --------------------------------------------------------------------
    def _on_programme(self, prog) -> None:
        c = self.controller
        if prog is None:
            self.file_label.setText("No programme: open or drop a WAV/FLAC file")
            self.file_label.setToolTip("")
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
        self.audio_box.show_problem(problem)
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
        self.action_set.refresh()
        self.position_slider.setEnabled(loaded)
        self.loop_check.setEnabled(loaded)
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

    # -- theme -----------------------------------------------------------------------------------
    def apply_theme(self, colors: SceneColors) -> None:
        self.colors = colors
        self.meters.apply_theme(colors)
        self.view.apply_theme(colors)
        for b in self.path_buttons.values():
            b.setStyleSheet(choice_button_style(colors))
        self.audio_box.apply_theme(colors)
        self._show_error_or_stale()
