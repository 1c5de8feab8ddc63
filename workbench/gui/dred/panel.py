"""The DRED panel: speech through Opus with deep redundancy over a lossy channel
(`dsp.dred.chain.simulate`), compared with plain Opus LBRR + PLC under the same losses.

Input: a speech file (any rate and channel count: the chain takes a 16 kHz mono mix) or the
scene's talker simulated at a device microphone (free field or room, 16 kHz, no noise;
`dsp.mic_mix`). Settings: bitrate, LBRR, the loss the encoder expects (default: the loss
model's rate, as `awb dred simulate` does), DRED on/off with its depth and kb/s budget, neural
PLC, the loss model (`none`, `bernoulli:RATE`, `ge:RATE,MEAN_BURST`, `trace:PATH`) and its seed.
A bad loss spec or setting is refused before anything runs, naming what is expected, and the
previous result stays.

Process runs two simulations in the background (progress, cancel) with one loss mask: the
chosen settings, and the same with DRED and the neural PLC off (the "Opus LBRR + PLC"
baseline). The panel then shows clean vs decoded (waveform and spectrogram of the chosen
settings' output) with every lost 20 ms packet shaded by how it was filled (LBRR, DRED, neural
PLC, Opus PLC; the legend counts them), a table of PESQ-WB / STOI against the clean input, bit
rates, DRED reach and frame counts for both runs, A/B playback of Clean / baseline / chosen
(`workbench.gui.audio.clip_audition`), and Save Output (32-bit float WAV at 16 kHz, atomic).

The job is `workbench.jobs.dred` (Qt-free); this panel builds its request and shows the
outcome.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dsp.dred.loss import SPEC_SYNTAX, burst_stats
from dsp.dred.sender import DredSettings
from workbench.gui.enhance.panel import SpectrogramPlot
from workbench.gui.plots.base import style_plot
from workbench.gui.shell.job_panel import JobPanel, number_item
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors
from workbench.gui.shell.widgets import settings_column, spin_box
from workbench.jobs import dred as dred_job
from workbench.jobs.dred import (
    BASELINE_LABEL,
    DEFAULT_LOSS,
    FILLED,
    FS_HZ,
    DredInputError,
    DredOutcome,
    DredRequest,
    chain_settings,
    check_loss,
    settings_label,
)

DYNAMIC_RANGE_DB = 80.0
LOSS_PRESETS = ("none", "bernoulli:0.1", "bernoulli:0.2", "ge:0.2,10", "ge:0.3,5")
FILL_LABELS = {"lbrr": "LBRR", "dred": "DRED", "plc": "neural PLC", "opus_plc": "Opus PLC"}
FILL_COLORS = {"lbrr": "#58a6ff", "dred": "#3fb950", "plc": "#d29922", "opus_plc": "#f85149"}
FILL_ALPHA = 90
ROWS = (("pesq_wb", "PESQ-WB", "{:.2f}"), ("stoi", "STOI", "{:.3f}"),
        ("kbps_total", "Total kb/s", "{:.1f}"), ("kbps_opus", "  Opus kb/s", "{:.1f}"),
        ("kbps_dred", "  DRED kb/s", "{:.1f}"), ("kbps_container", "  container kb/s",
                                                 "{:.2f}"),
        ("reach_ms", "DRED reach (ms)", "{:.0f}"), ("lost", "Lost packets", "{:d}"),
        ("lbrr", "  by LBRR", "{:d}"), ("dred", "  by DRED", "{:d}"),
        ("plc", "  by neural PLC", "{:d}"), ("opus_plc", "  by Opus PLC", "{:d}"),
        ("rtf_decode", "Decode RTF", "{:.3f}"))


def _header(label: str) -> str:
    """A table column title on two lines where it has two words (the columns are narrow)."""
    return label.replace(" ", "\n", 1)


def _column(run, metrics: dict | None) -> dict:
    """One table column's values of a run."""
    lost = int(np.count_nonzero(run.lost))
    values = {"kbps_total": run.kbps["total"], "kbps_opus": run.kbps["opus"],
              "kbps_dred": run.kbps["dred"], "kbps_container": run.kbps["container"],
              "reach_ms": run.mean_dred_reach_ms, "lost": lost,
              "rtf_decode": run.rtf_decode}
    values.update({k: int(run.counters.get(k, 0)) for k in FILLED})
    values.update(metrics or {})
    return values


class DredPanel(JobPanel):
    """The panel over one `SceneDocument`. `message` carries status-bar text; `processed`
    fires after a result is shown."""

    def _init_state(self) -> None:
        self.colors = scene_colors(current_theme())
        self.shading: dict[str, pg.BarGraphItem] = {}
        self.spec_shading: dict[str, pg.BarGraphItem] = {}

    # -- construction ----------------------------------------------------------------------------
    def _build(self) -> None:
        left = QVBoxLayout()
        left.addWidget(self._input_box())
        left.addWidget(self._settings_box())
        self._add_job_controls(left, "dred")
        left.addStretch(1)
        side = QWidget()
        side.setLayout(left)
        scroll = settings_column(side, 280, 360)

        middle = QVBoxLayout()
        self.table = QTableWidget(len(ROWS), 2)
        self.table.setObjectName("dredMetrics")
        self.table.setHorizontalHeaderLabels([_header(BASELINE_LABEL), "Chosen"])
        self.table.setVerticalHeaderLabels([r[1] for r in ROWS])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Process to compare the chosen settings with Opus LBRR + PLC")
        middle.addWidget(self.table, 1)
        self.info_label = QLabel()
        self.info_label.setObjectName("dredInfo")
        self.info_label.setWordWrap(True)
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        middle.addWidget(self.info_label)
        mid = QWidget()
        mid.setLayout(middle)
        mid.setMinimumWidth(250)
        mid.setMaximumWidth(340)

        plots = QVBoxLayout()
        self.legend_label = QLabel()
        self.legend_label.setObjectName("dredLegend")
        self.legend_label.setWordWrap(True)
        plots.addWidget(self.legend_label)
        self.wave_plot = pg.PlotWidget()
        self.wave_plot.setObjectName("dredWaveform")
        self.wave_plot.setLabel("bottom", "time", "s")
        self.wave_plot.setMouseEnabled(x=True, y=False)
        self.wave_plot.setClipToView(True)
        self.wave_plot.setDownsampling(auto=True, mode="peak")
        self.clean_curve = self.wave_plot.plot()
        self.decoded_curve = self.wave_plot.plot()
        self.spec_plot = SpectrogramPlot("")
        self.spec_plot.setTitle(None)
        self.spec_plot.setXLink(self.wave_plot)
        self.view_tabs = QTabWidget()
        self.view_tabs.setObjectName("dredViews")
        self.view_tabs.setDocumentMode(True)
        self.view_tabs.addTab(self.wave_plot, "Waveform")
        self.view_tabs.addTab(self.spec_plot, "Spectrogram (decoded)")
        plots.addWidget(self.view_tabs, 1)
        self._add_audition(plots)

        row = QHBoxLayout(self)
        row.setContentsMargins(4, 4, 4, 4)
        row.addWidget(scroll)
        row.addWidget(mid)
        row.addLayout(plots, 1)

        self.dred_check.toggled.connect(self._update_enabled)
        self.browse_file.clicked.connect(self._browse_speech)
        self.browse_trace.clicked.connect(self._browse_trace)
        self.apply_theme(self.colors)

    def _input_box(self) -> QGroupBox:
        box = QGroupBox("Speech")
        v = QVBoxLayout(box)
        self._make_source_choice("Scene: talker at a device microphone",
                                 "Audio file (any rate; mono mix)", scene_first=False)
        v.addWidget(self.radio_file)
        file_row = QHBoxLayout()
        self.file_edit = QLineEdit()
        self.file_edit.setObjectName("dredFile")
        self.file_edit.setPlaceholderText("speech WAV/FLAC")
        self.browse_file = QPushButton("Open…")
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(self.browse_file)
        self.file_widgets = QWidget()
        self.file_widgets.setLayout(file_row)
        v.addWidget(self.file_widgets)
        v.addWidget(self.radio_scene)
        self.scene_widgets = QWidget()
        self.scene_widgets.setLayout(self._scene_source_form())
        v.addWidget(self.scene_widgets)
        length = QFormLayout()
        self.seconds_spin = spin_box(1.0, 60.0, 8.0, decimals=2, suffix=" s", name="dredSeconds",
                                     tip="At most this much of the file; the scene's talker "
                                         "is simulated this long")
        length.addRow("Length", self.seconds_spin)
        v.addLayout(length)
        return box

    def _settings_box(self) -> QGroupBox:
        box = QGroupBox("Opus and redundancy")
        form = QFormLayout(box)
        defaults = DredSettings()
        self.bitrate_spin = spin_box(
            6, 510, defaults.bitrate // 1000, suffix=" kb/s", name="dredBitrate",
            tip="Opus target bitrate (LBRR comes out of it; DRED is added)")
        self.lbrr_check = QCheckBox("LBRR (in-band FEC)")
        self.lbrr_check.setChecked(defaults.lbrr)
        self.expect_spin = spin_box(
            -1, 100, -1, suffix=" %", special="from the loss model", name="dredExpectedLoss",
            tip="The loss the encoder is told to expect (sizes LBRR)")
        self.dred_check = QCheckBox("Deep redundancy (DRED)")
        self.dred_check.setChecked(True)
        self.depth_spin = spin_box(
            40, 1040, defaults.dred_ms, step=40, suffix=" ms", name="dredDepth",
            tip="How far back each packet's redundancy reaches (rounded to whole 40 ms chunks)")
        self.budget_spin = spin_box(
            0.0, 64.0, 0.0, decimals=1, step=0.5, suffix=" kb/s",
            special="auto (libopus quality)", name="dredBudget",
            tip="DRED budget: each packet takes the finest quality that fits; auto: libopus's "
                "quality for the bitrate")
        self.plc_check = QCheckBox("Neural PLC (else Opus PLC)")
        self.plc_check.setChecked(True)
        self.loss_combo = QComboBox()
        self.loss_combo.setObjectName("dredLoss")
        self.loss_combo.setEditable(True)
        self.loss_combo.addItems(LOSS_PRESETS)
        self.loss_combo.setCurrentText(DEFAULT_LOSS)
        self.loss_combo.setToolTip(f"Packet loss: {SPEC_SYNTAX}; ge = Gilbert–Elliott bursts "
                                   "(mean burst in 20 ms packets)")
        self.browse_trace = QPushButton("Trace…")
        loss_row = QHBoxLayout()
        loss_row.addWidget(self.loss_combo, 1)
        loss_row.addWidget(self.browse_trace)
        self.seed_spin = spin_box(0, 99999, 0, name="dredSeed")
        form.addRow("Bitrate", self.bitrate_spin)
        form.addRow("", self.lbrr_check)
        form.addRow("Expected loss", self.expect_spin)
        form.addRow("", self.dred_check)
        form.addRow("DRED depth", self.depth_spin)
        form.addRow("DRED budget", self.budget_spin)
        form.addRow("", self.plc_check)
        form.addRow("Loss model", loss_row)
        form.addRow("Loss seed", self.seed_spin)
        return box

    def _browse_speech(self) -> None:
        path = self._ask_audio_file("Open Speech", self.file_edit.text())
        if path:
            self.file_edit.setText(path)
            self.radio_file.setChecked(True)

    def _browse_trace(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open Loss Trace", str(Path.home()),
                                              "Loss traces (*.txt);;All files (*)")
        if path:
            self.loss_combo.setCurrentText(f"trace:{path}")

    # -- theme -----------------------------------------------------------------------------------
    def apply_theme(self, colors: SceneColors | None = None) -> None:
        self.colors = c = colors or scene_colors(current_theme())
        for plot in (self.wave_plot, self.spec_plot):
            style_plot(plot, c)
        clean = pg.mkColor(c.plot_foreground)
        clean.setAlpha(150)
        self.clean_curve.setPen(pg.mkPen(clean, width=1))
        self.decoded_curve.setPen(pg.mkPen(c.listener, width=1))
        self.error_label.setStyleSheet(f"color: {c.error}")
        self.audition.apply_theme(c)
        self._show_legend()

    # -- scene choices ---------------------------------------------------------------------------
    def refresh_scene(self) -> None:
        """Fill the microphone and talker choices from the scene (keeping current picks)."""
        self._refresh_scene_choices()

    # -- the request -----------------------------------------------------------------------------
    def request(self) -> DredRequest:
        """The request the widgets describe; DredInputError (one sentence) when they cannot
        be run."""
        spec = self.loss_combo.currentText().strip()
        model = check_loss(spec)
        expect = self.expect_spin.value()
        budget = self.budget_spin.value()
        settings = chain_settings(DredSettings(
            bitrate=1000 * self.bitrate_spin.value(), lbrr=self.lbrr_check.isChecked(),
            dred_ms=self.depth_spin.value(), dred_kbps=budget if budget > 0 else None,
            neural_plc=self.plc_check.isChecked(), dred=self.dred_check.isChecked()),
            model, None if expect < 0 else expect)
        common = dict(seconds=self.seconds_spin.value(), settings=settings, loss=spec,
                      seed=self.seed_spin.value())
        if self.radio_file.isChecked():
            path = self.file_edit.text().strip()
            if not path:
                raise DredInputError("Choose a speech file first (or the scene's talker).")
            return DredRequest("file", path=path, **common)
        problem = self._scene_source_problem("use a file")
        if problem:
            raise DredInputError(problem)
        return DredRequest("scene", scene=self.document.scene,
                           engine=self.engine_combo.currentData(), mic=self.mic_combo.currentData(),
                           talker=self.talker_combo.currentData(), **common)

    # -- processing ------------------------------------------------------------------------------
    def process(self) -> bool:
        """Start processing; False (with the reason shown, the previous result kept) if the
        settings cannot run or a job is running."""
        if self.runner.is_running:
            return False
        try:
            req = self.request()
        except DredInputError as e:
            self.show_error(str(e))
            return False
        return self._start(dred_job.run, req, "dred")

    def _on_finished(self, outcome: DredOutcome) -> None:
        self.progress.setVisible(False)
        self.outcome = outcome
        self._show_plots(outcome)
        self._show_table(outcome)
        run = outcome.run
        stats = burst_stats(run.lost)
        k = run.kbps
        lines = [f"{outcome.label}: {run.clean16.size / FS_HZ:.2f} s, {run.loss}"
                 f" (seed {self.seed_spin.value()})",
                 f"{stats['n']} packets, {100 * stats['rate']:.1f} % lost in"
                 f" {stats['n_bursts']} bursts (mean {stats['mean_burst']:.1f},"
                 f" longest {stats['max_burst']} packets)",
                 f"Chosen: {settings_label(run.settings)}, {k['total']:.1f} kb/s"
                 f" (Opus {k['opus']:.1f} + DRED {k['dred']:.1f} + container"
                 f" {k['container']:.2f}), DRED reach {run.mean_dred_reach_ms:.0f} ms",
                 f"Processed in {self.runner.elapsed_s:.1f} s"]
        self.info_label.setText("\n".join(lines + outcome.notes))
        self.audition.set_clips(outcome.clips, selected=outcome.run_label)
        self.message.emit(f"DRED: {outcome.label} processed")
        self.processed.emit()

    def _show_legend(self) -> None:
        """The line above the plots: what the curves are and how many lost packets each
        colour marks."""
        c = self.colors
        if self.outcome is None:
            self.legend_label.setText("Process to see clean vs decoded speech, with every lost"
                                      " 20 ms packet shaded by how it was filled.")
            return
        run = self.outcome.run
        def swatch(color: str, text: str) -> str:  # one unbreakable legend entry
            return f'<span style="color:{color}">{text.replace(" ", "&nbsp;")}</span>'

        parts = [swatch(c.plot_foreground, "━ clean"),
                 swatch(c.listener, f"━ decoded ({settings_label(run.settings)})"),
                 "&nbsp;&nbsp;lost:"]
        parts += [swatch(FILL_COLORS[n], f"■ {FILL_LABELS[n]} {run.counters[n]}")
                  for n in FILLED if n in self.shading]
        if not self.shading:
            parts.append("none")
        self.legend_label.setText(" ".join(parts))

    def _show_plots(self, o: DredOutcome) -> None:
        from dsp.spectrum import speech_spectrogram

        run = o.run
        t = np.arange(run.clean16.size) / FS_HZ
        self.clean_curve.setData(t, run.clean16)
        self.decoded_curve.setData(t, run.decoded)
        peak = float(max(np.max(np.abs(run.clean16)), np.max(np.abs(run.decoded)), 1e-6))
        spec = speech_spectrogram(run.decoded.astype(np.float64), FS_HZ)
        top = float(np.max(spec.level_db))
        self.spec_plot.show_spectrogram(spec, (top - DYNAMIC_RANGE_DB, top))
        self._remove_shading()
        f_top = FS_HZ / 2
        for name in FILLED:
            starts, widths = o.spans[name]
            if not starts.size:
                continue
            color = pg.mkColor(FILL_COLORS[name])
            color.setAlpha(FILL_ALPHA)
            bars = pg.BarGraphItem(x0=starts, width=widths, y0=-1.05 * peak, height=2.1 * peak,
                                   brush=color, pen=pg.mkPen(None))
            bars.setZValue(-10)  # under the curves
            self.wave_plot.addItem(bars)
            self.shading[name] = bars
            # On the spectrogram a strip along the top: shading would tint what it shows.
            strip = pg.BarGraphItem(x0=starts, width=widths, y0=0.92 * f_top,
                                    height=0.08 * f_top, brush=FILL_COLORS[name],
                                    pen=pg.mkPen(None))
            self.spec_plot.addItem(strip)
            self.spec_shading[name] = strip
        self.wave_plot.setYRange(-1.05 * peak, 1.05 * peak, padding=0)
        self.wave_plot.setXRange(0.0, t[-1] if t.size else 1.0, padding=0.01)
        self._show_legend()

    def _remove_shading(self) -> None:
        for item in self.shading.values():
            self.wave_plot.removeItem(item)
        for item in self.spec_shading.values():
            self.spec_plot.removeItem(item)
        self.shading, self.spec_shading = {}, {}

    def clear_results(self) -> None:
        self.clean_curve.setData([], [])
        self.decoded_curve.setData([], [])
        self.spec_plot.clear_image()
        self._remove_shading()
        self.table.clearContents()
        self.table.setHorizontalHeaderLabels([_header(BASELINE_LABEL), "Chosen"])
        self.info_label.setText("")
        self._show_legend()

    def _show_table(self, o: DredOutcome) -> None:
        columns = (_column(o.baseline, o.metrics["baseline"]), _column(o.run, o.metrics["run"]))
        self.table.setHorizontalHeaderLabels([_header(BASELINE_LABEL), _header(o.run_label)])
        for r, (key, _name, fmt) in enumerate(ROWS):
            for c, values in enumerate(columns):
                value = values.get(key)
                self.table.setItem(r, c, number_item("—" if value is None
                                                     else fmt.format(value)))
        self.table.setToolTip(
            f"Both columns saw the same {int(np.count_nonzero(o.run.lost))} lost packets;"
            " PESQ-WB and STOI against the clean 16 kHz input")

    def _on_cancelled(self) -> None:
        self.progress.setVisible(False)
        self.message.emit("DRED processing cancelled")
        self.show_error("Cancelled; the previous result is kept." if self.outcome else
                        "Cancelled.")

    def _update_enabled(self) -> None:
        super()._update_enabled()
        dred = self.dred_check.isChecked()
        self.depth_spin.setEnabled(dred)
        self.budget_spin.setEnabled(dred)

    # -- saving ----------------------------------------------------------------------------------
    def save_output(self, path: str | Path | None = None) -> Path | None:
        """Write the chosen settings' decoded speech (16 kHz) as a 32-bit float WAV
        (atomically, never over the files it was made from); asks for a path."""
        if self.outcome is None:
            return None
        return self._save_wav(path, self.outcome.run.decoded, FS_HZ, "Save Decoded Speech",
                              "dred-decoded.wav", self.outcome.inputs)
