"""The Voice Chain panel's settings: the widgets, and the `dsp.chain.ChainSettings` and input
files they describe (`ChainControls`, a mixin of the panel, so the controls are the panel's own
attributes, as the parity test with `awb chain` reads them).

Live (applied to the running chain within a block, `ChainGraph.submit`): SNR, noise on/off,
PercepNet strength, bitrate, LBRR, DRED on/off, depth and budget, neural PLC, the loss model
(bursty Gilbert–Elliott with rate and mean burst, random, none, or a 0/1 trace file). Fixed per
run (a Start applies them): the talker and noise files (a change while running restarts the
chain), the loss seed. The room engine is swapped while running by simulating the responses
again.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from dsp.chain import ChainSettings
from workbench.gui.shell.job_panel import AUDIO_FILES
from workbench.gui.shell.widgets import spin_box

LOSS_KINDS = (("Bursty (Gilbert–Elliott)", "ge"), ("Random (Bernoulli)", "bernoulli"),
              ("None", "none"), ("Trace file", "trace"))


class InputProblem(ValueError):
    """The panel's inputs cannot run (one sentence saying what to do)."""


def _row(*widgets: QWidget) -> QWidget:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        row.addWidget(w, 1 if isinstance(w, QLineEdit | QComboBox) else 0)
    holder = QWidget()
    holder.setLayout(row)
    return holder


class ChainControls:
    """Mixin of the panel (a QWidget): `_voice_box`, `_network_box`, `_codec_box` make the
    widgets; `settings()` and `inputs_files()` read them; `live_changed()` is called on every
    live change, `files_changed()` when a file or the engine changes (the panel implements
    both)."""

    def _voice_box(self) -> QGroupBox:
        defaults = ChainSettings()
        box = QGroupBox("Talker and noise")
        form = QFormLayout(box)
        self.talker_edit = QLineEdit()
        self.talker_edit.setObjectName("chainTalker")
        self.talker_edit.setPlaceholderText("speech WAV/FLAC, 16 kHz or more")
        self.browse_talker = QPushButton("Browse…")
        self.noise_edit = QLineEdit()
        self.noise_edit.setObjectName("chainNoise")
        self.noise_edit.setPlaceholderText("noise WAV/FLAC, 16 kHz or more")
        self.browse_noise = QPushButton("Browse…")
        self.noise_check = QCheckBox("Noise, SNR")
        self.noise_check.setChecked(defaults.noise)
        self.snr_spin = spin_box(-20.0, 50.0, defaults.snr_db, decimals=1, suffix=" dB",
                                 name="chainSnr", tip="Talker-to-noise ratio at the microphone")
        self.engine_combo = QComboBox()
        self.engine_combo.setObjectName("chainEngine")
        self.engine_combo.addItem("Room", "room")
        self.engine_combo.addItem("Free field", "freefield")
        self.engine_combo.setToolTip("How the responses to the microphone are simulated (again "
                                     "after each scene edit while the chain runs)")
        self.strength_spin = spin_box(0.0, 1.0, defaults.percepnet_strength, decimals=2,
                                      step=0.1, name="chainStrength",
                                      tip="PercepNet's wet/dry mix: 0 = its input, 1 = enhanced")
        form.addRow("Talker", _row(self.talker_edit, self.browse_talker))
        form.addRow("Noise", _row(self.noise_edit, self.browse_noise))
        form.addRow(self.noise_check, self.snr_spin)
        form.addRow("Engine", self.engine_combo)
        form.addRow("PercepNet", self.strength_spin)
        self.browse_talker.clicked.connect(lambda: self._browse(self.talker_edit, "Talker"))
        self.browse_noise.clicked.connect(lambda: self._browse(self.noise_edit, "Noise"))
        for edit in (self.talker_edit, self.noise_edit):
            edit.editingFinished.connect(self.files_changed)
        self.engine_combo.currentIndexChanged.connect(lambda _i: self.files_changed())
        self.noise_check.toggled.connect(lambda _on: self.live_changed())
        for spin in (self.snr_spin, self.strength_spin):
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(lambda _v: self.live_changed())
        return box

    def _network_box(self) -> QGroupBox:
        box = QGroupBox("Network")
        form = QFormLayout(box)
        self.loss_combo = QComboBox()
        self.loss_combo.setObjectName("chainLoss")
        for text, kind in LOSS_KINDS:
            self.loss_combo.addItem(text, kind)
        self.loss_spin = spin_box(0.0, 95.0, 20.0, decimals=1, suffix=" %", name="chainLossRate",
                                  tip="Share of packets lost")
        self.burst_spin = spin_box(1.0, 50.0, 8.0, decimals=1, suffix=" packets",
                                   name="chainBurst", tip="Mean length of a loss burst (20 ms "
                                                          "packets)")
        self.trace_edit = QLineEdit()
        self.trace_edit.setObjectName("chainTrace")
        self.trace_edit.setPlaceholderText("0/1 per line, 1 = lost")
        self.browse_trace = QPushButton("Browse…")
        self.seed_spin = spin_box(0, 99999, 0, name="chainSeed",
                                  tip="Seed of the loss draws (applies at the next Start)")
        form.addRow("Loss", self.loss_combo)
        form.addRow("Rate", self.loss_spin)
        form.addRow("Mean burst", self.burst_spin)
        form.addRow("Trace", _row(self.trace_edit, self.browse_trace))
        form.addRow("Seed", self.seed_spin)
        self.browse_trace.clicked.connect(self._browse_trace)
        self.trace_edit.editingFinished.connect(self.live_changed)
        self.loss_combo.currentIndexChanged.connect(lambda _i: self.live_changed())
        for spin in (self.loss_spin, self.burst_spin):
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(lambda _v: self.live_changed())
        return box

    def _codec_box(self) -> QGroupBox:
        defaults = ChainSettings()
        box = QGroupBox("Opus and redundancy")
        form = QFormLayout(box)
        self.bitrate_spin = spin_box(6, 510, defaults.bitrate // 1000, suffix=" kb/s",
                                     name="chainBitrate", tip="Opus target bitrate")
        self.lbrr_check = QCheckBox("LBRR (in-band FEC)")
        self.lbrr_check.setChecked(defaults.lbrr)
        self.dred_check = QCheckBox("Deep redundancy (DRED)")
        self.dred_check.setChecked(defaults.dred)
        self.depth_spin = spin_box(0, 1040, defaults.dred_ms, step=40, suffix=" ms",
                                   name="chainDredDepth",
                                   tip="How far back each packet's redundancy reaches")
        self.budget_spin = spin_box(0.0, 64.0, 0.0, decimals=1, step=0.5, suffix=" kb/s",
                                    special="auto", name="chainDredBudget",
                                    tip="DRED budget; auto: libopus's quality for the bitrate")
        self.plc_check = QCheckBox("Neural PLC (else Opus PLC)")
        self.plc_check.setChecked(defaults.neural_plc)
        form.addRow("Bitrate", self.bitrate_spin)
        form.addRow("", self.lbrr_check)
        form.addRow("", self.dred_check)
        form.addRow("DRED depth", self.depth_spin)
        form.addRow("DRED budget", self.budget_spin)
        form.addRow("", self.plc_check)
        for check in (self.lbrr_check, self.dred_check, self.plc_check):
            check.toggled.connect(lambda _on: self.live_changed())
        for spin in (self.bitrate_spin, self.depth_spin, self.budget_spin):
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(lambda _v: self.live_changed())
        return box

    def _browse(self, edit: QLineEdit, what: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Open {what}",
                                              edit.text() or str(Path.home()), AUDIO_FILES)
        if path:
            edit.setText(path)
            self.files_changed()

    def _browse_trace(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open Loss Trace",
                                              self.trace_edit.text() or str(Path.home()),
                                              "Loss traces (*.txt);;All files (*)")
        if path:
            self.trace_edit.setText(path)
            self.loss_combo.setCurrentIndex(self.loss_combo.findData("trace"))
            self.live_changed()

    # -- reading ---------------------------------------------------------------------------
    def loss_spec(self) -> str:
        """The loss model the widgets describe (`dsp.dred.loss.parse_loss` syntax)."""
        kind = self.loss_combo.currentData()
        rate = self.loss_spin.value() / 100.0
        if kind == "ge":
            return f"ge:{rate:g},{self.burst_spin.value():g}"
        if kind == "bernoulli":
            return f"bernoulli:{rate:g}"
        if kind == "trace":
            path = self.trace_edit.text().strip()
            if not path:
                raise InputProblem("Choose a loss trace file (Browse…) or another loss model.")
            return f"trace:{path}"
        return "none"

    def settings(self, bypass: frozenset[str]) -> ChainSettings:
        """The chain settings of the widgets with `bypass`, validated (ChainSettingsError,
        InputProblem)."""
        budget = self.budget_spin.value()
        return ChainSettings(
            snr_db=self.snr_spin.value(), noise=self.noise_check.isChecked(),
            percepnet_strength=self.strength_spin.value(),
            bitrate=1000 * self.bitrate_spin.value(), lbrr=self.lbrr_check.isChecked(),
            dred=self.dred_check.isChecked(), dred_ms=self.depth_spin.value(),
            dred_kbps=budget if budget > 0 else None, neural_plc=self.plc_check.isChecked(),
            loss=self.loss_spec(), bypass=bypass, seed=self.seed_spin.value()).validate()

    def voice_files(self) -> tuple[Path, Path]:
        """The talker and noise files (InputProblem: not chosen or not there)."""
        files = []
        for what, edit in (("talker", self.talker_edit), ("noise", self.noise_edit)):
            text = edit.text().strip()
            if not text:
                raise InputProblem(f"Choose a {what} file (Browse…).")
            if not Path(text).is_file():
                raise InputProblem(f"{what} {text}: no such file")
            files.append(Path(text))
        return files[0], files[1]

    def update_controls(self, running: bool) -> None:
        """Enable what applies now: the loss widgets of the chosen model, DRED's settings while
        DRED is on, the seed only while stopped."""
        kind = self.loss_combo.currentData()
        self.loss_spin.setEnabled(kind in ("ge", "bernoulli"))
        self.burst_spin.setEnabled(kind == "ge")
        self.trace_edit.setEnabled(kind == "trace")
        dred = self.dred_check.isChecked()
        self.depth_spin.setEnabled(dred)
        self.budget_spin.setEnabled(dred)
        self.seed_spin.setEnabled(not running)
        self.strength_spin.setEnabled(not self.bypass_checks["percepnet"].isChecked())
