"""The Voice Chain panel (issue #14): the scene's talker and noise at the device microphone,
through PercepNet, Opus + LBRR + DRED, a lossy network and the receiver to the far end (and back
through the device to the listener's ears), live, steerable while it plays.

Left: the settings (`workbench.gui.chain.controls`), Start / Stop, Save Run… and the one-line
messages. Right: the chain as its stages (`StageStrip`: click a stage to hear its output,
switched without a click; Bypass per stage), two scrolling spectrograms of chosen taps, the
timeline of the last packets' fates (received / lost / recovered by LBRR, DRED, PLC) and, beside
them, each tap's level, PESQ-WB and STOI over the last seconds (scored in a worker process) and
the counters, bit rates, DRED reach, latency and real-time factor (per stage in its tip).

Every live change goes to the running graph at once (`ChainGraph.submit`, applied at its next
20 ms block); an edit of the scene while it runs simulates the responses again in the
background (`ChainSession.scene_changed`). Without an audio output the chain runs silently and
the panel says why in one line. Save Run… writes what `awb chain` writes (`workbench.jobs.chain`)
in the background, with progress and Cancel. Bad input (a missing, silent, non-finite or
unusable talker or noise file, a loss trace with a line other than 0 or 1, a scene without a
microphone or a talker) is one line in the panel, never an exception.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dsp.chain import REFERENCE, STAGES, ChainSettingsError
from workbench.gui.chain.controls import ChainControls, InputProblem
from workbench.gui.chain.session import ChainInputs, ChainSession, describe_failure
from workbench.gui.chain.stages import StageStrip
from workbench.gui.chain.views import (
    FateTimeline,
    ScrollingSpectrogram,
    TapTable,
    fate_legend,
)
from workbench.gui.plots.base import style_plot
from workbench.gui.shell.job_panel import one_line, show_line
from workbench.gui.shell.signals import connect_signals
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors
from workbench.gui.shell.widgets import settings_column, spin_box
from workbench.gui.shell.worker import JobRunner

POLL_MS = 100
QUALITY_EVERY_S = 3.0
TAPS = (REFERENCE, *(cls.tap for cls in STAGES.values()))
SPECTROGRAM_TAPS = ("mic", "output")


class ChainPanel(ChainControls, QWidget):
    """The panel over one `SceneDocument`; `message` carries status-bar text."""

    message = Signal(str)

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.colors = scene_colors(current_theme())
        self.session = ChainSession(self)
        self.save_runner = JobRunner(self)
        self._last_quality = 0.0
        self._build()
        connect_signals(self.session, started=self._on_started, stopped=self._on_stopped,
                        failed=self._on_start_failed, responsesFailed=self.show_error,
                        quality=self.tap_table.show_quality)
        connect_signals(self.save_runner, progress=self._on_save_progress,
                        finished=self._on_saved, failed=self._on_save_failed,
                        cancelled=lambda: self.show_error("Save Run cancelled; nothing written."),
                        done=self._update_enabled)
        self.session.build_runner.done.connect(self._update_enabled)
        document.changed.connect(self._on_scene_changed)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.refresh)
        self.apply_theme(self.colors)
        self._update_enabled()

    # -- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        side = QWidget()
        left = QVBoxLayout(side)
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self._voice_box())
        left.addWidget(self._network_box())
        left.addWidget(self._codec_box())
        left.addStretch(1)
        scroll = settings_column(side, 270, 340)

        self.strip = StageStrip()
        self.tap_buttons, self.bypass_checks = self.strip.tap_buttons, self.strip.bypass_checks
        self.strip.show_tap(self.session.tap)
        self.strip.tapSelected.connect(self.select_tap)
        self.strip.bypassChanged.connect(self.live_changed)

        right = QVBoxLayout()
        right.addLayout(self._run_row())
        right.addWidget(self.strip)
        right.addLayout(self._plots(), 1)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 4, 4, 4)
        row.addWidget(scroll)
        row.addLayout(right, 1)
        row.addLayout(self._metrics())

    def _run_row(self) -> QVBoxLayout:
        self.start_button = QPushButton("▶ Start")
        self.start_button.setObjectName("chainStart")
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setObjectName("chainStop")
        self.save_run_button = QPushButton("Save Run…")
        self.save_run_button.setObjectName("chainSaveRun")
        self.save_run_button.setToolTip("Run the whole talker through the chain offline and "
                                        "write every tap and report.json (as awb chain)")
        self.cancel_save_button = QPushButton("Cancel")
        self.cancel_save_button.setObjectName("chainCancelSave")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.state_label = QLabel()
        self.state_label.setObjectName("chainState")
        buttons = QHBoxLayout()
        for w in (self.start_button, self.stop_button, self.save_run_button,
                  self.cancel_save_button):
            buttons.addWidget(w)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.state_label, 1)
        self.error_label = QLabel()
        self.error_label.setObjectName("chainError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setVisible(False)
        self.audio_label = QLabel()
        self.audio_label.setObjectName("chainAudioProblem")
        self.audio_label.setWordWrap(True)
        self.audio_label.setVisible(False)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.save_run_button.clicked.connect(lambda: self.save_run())
        self.cancel_save_button.clicked.connect(self.save_runner.cancel)
        box = QVBoxLayout()
        box.addLayout(buttons)
        box.addWidget(self.error_label)
        box.addWidget(self.audio_label)
        return box

    def _plots(self) -> QVBoxLayout:
        grid = QGridLayout()
        self.spec_combos: dict[str, QComboBox] = {}
        self.spectrograms: list[ScrollingSpectrogram] = []
        for col, (key, tap) in enumerate(zip(("a", "b"), SPECTROGRAM_TAPS, strict=True)):
            combo = QComboBox()
            combo.setObjectName(f"chainSpectrogramTap_{key}")
            combo.addItems(TAPS)
            combo.setCurrentText(tap)
            combo.setToolTip("The tap this spectrogram shows")
            plot = ScrollingSpectrogram(f"chainSpectrogram_{key}")
            grid.addWidget(combo, 0, col)
            grid.addWidget(plot, 1, col)
            self.spec_combos[key] = combo
            self.spectrograms.append(plot)
        self.timeline = FateTimeline("chainFates")
        self.fates_label = QLabel()
        self.fates_label.setObjectName("chainFateLegend")
        self.fates_label.setWordWrap(True)
        box = QVBoxLayout()
        box.addLayout(grid, 1)
        box.addWidget(self.timeline)
        box.addWidget(self.fates_label)
        return box

    def _metrics(self) -> QVBoxLayout:
        self.tap_table = TapTable(TAPS, "chainTaps")
        self.tap_table.setMinimumWidth(210)
        self.tap_table.setMaximumWidth(300)
        self.quality_spin = spin_box(2.0, 10.0, 5.0, decimals=1, suffix=" s",
                                     name="chainQualitySeconds",
                                     tip="PESQ-WB and STOI are scored over this many seconds")
        form = QFormLayout()
        form.addRow("Scores over", self.quality_spin)
        self.info_label = QLabel()
        self.info_label.setObjectName("chainInfo")
        self.info_label.setWordWrap(True)
        self.info_label.setMaximumWidth(300)
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box = QVBoxLayout()
        box.addWidget(self.tap_table, 1)
        box.addLayout(form)
        box.addWidget(self.info_label)
        return box

    # -- theme -----------------------------------------------------------------------------
    def apply_theme(self, colors: SceneColors | None = None) -> None:
        self.colors = c = colors or scene_colors(current_theme())
        for plot in (*self.spectrograms, self.timeline):
            style_plot(plot, c)
        self.strip.apply_theme(c)
        self.error_label.setStyleSheet(f"color: {c.error}")
        self.audio_label.setStyleSheet(f"color: {c.error}")

    # -- running ---------------------------------------------------------------------------
    def start(self) -> bool:
        """Build and play the chain of the current settings; False (the reason shown) when
        they cannot run."""
        if self.session.busy:
            return False
        chosen = self._chosen()
        if chosen is None:
            return False
        talker, noise, settings = chosen
        inputs = ChainInputs(self.document.scene, talker, noise, self.engine_combo.currentData())
        started = self.session.start(inputs, settings)
        self.state_label.setText("Starting …")
        self._update_enabled()
        return started

    def _chosen(self):
        """(talker, noise, settings) the widgets describe, the error line cleared; None, the
        reason shown, when they cannot run."""
        try:
            chosen = (*self.voice_files(), self.settings(self.strip.bypass()))
        except (InputProblem, ChainSettingsError) as e:
            self.show_error(one_line(e))
            return None
        self.show_error("")
        return chosen

    def stop(self) -> None:
        self.session.stop()
        self._update_enabled()

    def _on_started(self, mode: str) -> None:
        problem = self.session.audio_problem if mode == "silent" else ""
        show_line(self.audio_label, problem)
        self.state_label.setText("Running" + (" silently" if mode == "silent" else ""))
        self._last_quality = time.monotonic()
        if self.session.inputs.scene != self.document.scene:  # edited while it was built
            self.session.scene_changed(self.document.scene)
        self.tap_table.clear_values()
        self._poll.start()
        self._update_enabled()
        self.message.emit("Voice chain running" + (" silently" if problem else ""))

    def _on_stopped(self) -> None:
        self._poll.stop()
        self.refresh()
        self.state_label.setText("Stopped")
        self._update_enabled()

    def _on_start_failed(self, text: str) -> None:
        self.state_label.setText("")
        self.show_error(text)
        self._update_enabled()

    def select_tap(self, tap: str) -> None:
        """Hear `tap` (a stage's output, or the clean reference)."""
        self.session.select(tap)
        self.strip.show_tap(tap)
        self.message.emit(f"Voice chain: hearing {tap}")

    def live_changed(self) -> None:
        """A live setting changed: to the running graph now; a bad one is refused (shown)."""
        self.update_controls(self.session.running)
        try:
            settings = self.settings(self.strip.bypass())
            if self.session.running:
                self.session.submit(settings)
        except (InputProblem, ChainSettingsError) as e:
            self.show_error(one_line(e))
            return
        self.show_error("")

    def files_changed(self) -> None:
        """A voice file or the engine may have changed (a line edit also says so when it loses
        the focus): while running, another file restarts the chain and another engine simulates
        the responses again."""
        inputs = self.session.inputs
        if not self.session.running or inputs is None:
            return
        files = (Path(self.talker_edit.text().strip()), Path(self.noise_edit.text().strip()))
        engine = self.engine_combo.currentData()
        if files != (inputs.talker, inputs.noise):
            self.start()
        elif engine != inputs.engine:
            self.session.scene_changed(self.document.scene, engine)

    def _on_scene_changed(self) -> None:
        self.session.scene_changed(self.document.scene)

    # -- display ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the graph's meters, spectrograms and packet fates; score now and then."""
        graph = self.session.graph
        if graph is None:
            return
        snap = graph.snapshot()
        self.tap_table.show_levels(snap.levels_db)
        for key, plot in zip(("a", "b"), self.spectrograms, strict=True):
            plot.show_signal(graph.recent(self.spec_combos[key].currentText()))
        self.timeline.show_fates(snap.fates)
        self.fates_label.setText(fate_legend(self.timeline.counts))
        c, k = snap.counters, snap.kbps
        self.info_label.setText(
            f"{snap.seconds:.1f} s; frames: regular {c['regular']}, LBRR {c['lbrr']}, "
            f"DRED {c['dred']}, PLC {c['plc']}\n"
            f"{k['total']:.1f} kb/s (Opus {k['opus']:.1f} + DRED {k['dred']:.1f}); "
            f"DRED reach {snap.dred_reach_ms:.0f} ms\n"
            f"latency {snap.latency_ms:.0f} ms; real-time factor {snap.real_time_factor:.2f}")
        self.info_label.setToolTip("Real-time factor per stage: " + ", ".join(
            f"{name} {rtf:.3f}" for name, rtf in snap.stage_rtf.items()))
        now = time.monotonic()
        if now - self._last_quality >= QUALITY_EVERY_S and \
                self.session.poll_quality(self.quality_spin.value()):
            self._last_quality = now

    def _update_enabled(self) -> None:
        running, busy = self.session.running, self.session.busy
        saving = self.save_runner.is_running
        self.start_button.setEnabled(not running and not busy)
        self.stop_button.setEnabled(running)
        self.save_run_button.setEnabled(not saving)
        self.cancel_save_button.setEnabled(saving)
        self.update_controls(running)

    def show_error(self, text: str) -> None:
        show_line(self.error_label, text)
        if text:
            self.message.emit(text)

    # -- Save Run --------------------------------------------------------------------------
    def save_run(self, folder: str | Path | None = None) -> bool:
        """Write the run of the current settings over the whole talker into `folder` (asked
        when None) as `awb chain` does, in the background; False when it cannot start."""
        from workbench.jobs import chain as chain_job

        if self.save_runner.is_running:
            return False
        chosen = self._chosen()
        if chosen is None:
            return False
        talker, noise, settings = chosen
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Save Run Into", str(Path.home()))
            if not folder:
                return False
        path = self.document.path
        request = chain_job.ChainRequest(
            scene=self.document.scene, talker=talker, noise=noise, settings=settings,
            out_dir=Path(folder), engine=self.engine_combo.currentData(),
            reads=(Path(path),) if path else ())
        self.progress.setValue(0)
        self.progress.setVisible(True)
        started = self.save_runner.start(chain_job.run, request, label="save voice chain run")
        self._update_enabled()
        return started

    def _on_save_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(round(100 * fraction))
        self.progress.setFormat(f"{text} %p%" if text else "%p%")

    def _on_saved(self, outcome) -> None:
        self.progress.setVisible(False)
        out = outcome.report["stages"]["output"]
        folder = outcome.files[0].parent if outcome.files else ""
        self.message.emit(f"Saved {len(outcome.files)} files in {folder}; output PESQ-WB "
                          f"{out['pesq_wb']}, STOI {out['stoi']}")

    def _on_save_failed(self, error: BaseException, _text: str) -> None:
        self.progress.setVisible(False)
        self.show_error(describe_failure(error, "Save Run"))

    # -- the Feature protocol ---------------------------------------------------------------
    def reset(self) -> None:
        """Another scene was opened: stop, cancel Save Run, clear what is shown."""
        self.session.reset()
        if self.save_runner.is_running:
            self.save_runner.cancel()
        self._poll.stop()
        for plot in self.spectrograms:
            plot.clear_image()
        self.timeline.clear_fates()
        self.fates_label.setText("")
        self.tap_table.clear_values()
        self.info_label.setText("")
        self.state_label.setText("")
        self.audio_label.setVisible(False)
        self.progress.setVisible(False)
        self.show_error("")
        self._update_enabled()

    def shutdown(self) -> None:
        self._poll.stop()
        self.session.shutdown()
        if self.save_runner.is_running:
            self.save_runner.cancel()
            self.save_runner.wait()
