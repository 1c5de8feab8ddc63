"""Design panel: method and parameters of the filter design (live: every change redesigns),
the target-curve editor, the headline numbers of the latest redesign, its warnings or the
reason it was refused, and the Redesign and Export… buttons.

The panel edits the `DesignController`'s parameters and shows what it reports; it computes
nothing itself.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dsp.params import METHODS, DesignParams
from dsp.summary import worst_cancellation_db
from workbench.gui.design.controller import METHOD_LABELS, DesignController
from workbench.gui.design.target_curve_editor import TargetCurveEditor
from workbench.gui.shell.theme import current_theme, scene_colors
from workbench.gui.shell.widgets import double_spin, push_button, show_names
from workbench.jobs.design import DesignOutcome, parse_angles

TAPS = (128, 256, 512, 1024, 2048, 4096, 8192)
EFFORT_STEPS_PER_DB = 2  # slider resolution 0.5 dB
EFFORT_MAX_DB = 40.0


READINGS = (
    # (attribute, object name, row title, attribute of the row's label when it hides)
    ("effort_label", "effortReading", "Effort", ""),
    ("fir_label", "firErrorReading", "FIR error", ""),
    ("zone_label", "zoneAreaReading", "Zone", ""),
    ("cancel_label", "cancellationReading", "Sweet spot", "cancel_row_label"),
    ("probe_reading", "probeReading", "Probe", "probe_row_label"),
    ("beam_label", "beamReading", "Nulls", "beam_row_label"),
    ("lobe_label", "lobeReading", "Main lobe", "lobe_row_label"),
    ("virtual_label", "virtualReading", "vs reference", "virtual_row_label"),
    ("timing_label", "timingReading", "Timing", ""),
    ("state_label", "designState", "State", ""),
)
"""The Result box's rows, in order."""


def _spin(lo: float, hi: float, step: float, suffix: str, decimals: int = 1,
          special: str = "", name: str = "", tip: str = "") -> QDoubleSpinBox:
    w = double_spin(lo, hi, step, suffix, decimals, special=special, name=name)
    if tip:
        w.setToolTip(tip)
    return w


def _value_label(name: str) -> QLabel:
    label = QLabel("—")
    label.setObjectName(name)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _group(title: str, layout) -> QGroupBox:
    box = QGroupBox(title)
    box.setLayout(layout)
    return box


class DesignPanel(QWidget):
    """Parameters, numbers and messages of the design. `exportRequested` asks the window to
    export the current filters, `plantRequested` to choose a measured plant."""

    exportRequested = Signal()
    plantRequested = Signal()

    def __init__(self, controller: DesignController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("designPanel")
        self.message_label = QLabel()
        self.message_label.setObjectName("designMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setVisible(False)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(6, 6, 6, 6)
        for w in (self._params_box(), self._results_box(), self.message_label):
            layout.addWidget(w)
        layout.addLayout(self._buttons())
        layout.addWidget(self.export_progress)
        for w in (self._beam_box(), self._virtual_box(), self._target_box()):
            layout.addWidget(w)
        layout.addStretch(1)
        content.setMinimumWidth(330)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll_area.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll_area)

        self.sync_params(controller.params)
        self.sync_listeners()
        self._connect()

    # -- construction ----------------------------------------------------------------------------
    def _params_box(self) -> QGroupBox:
        """Method, listener, effort cap, taps, modelling delay, robustness and probe."""
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("designMethod")
        for m in METHODS:
            self.method_combo.addItem(METHOD_LABELS[m], m)
        self.listener_combo = QComboBox()
        self.listener_combo.setObjectName("designListener")
        self.effort_slider = QSlider(Qt.Orientation.Horizontal)
        self.effort_slider.setObjectName("effortSlider")
        self.effort_slider.setRange(0, int(EFFORT_MAX_DB * EFFORT_STEPS_PER_DB))
        self.effort_slider.setPageStep(2 * EFFORT_STEPS_PER_DB)
        self.effort_slider.setToolTip("Maximum filter effort: drive per input relative to one "
                                      "average driver alone (0 dB)")
        self.effort_value = QLabel()
        self.effort_value.setMinimumWidth(52)
        self.effort_value.setAlignment(Qt.AlignmentFlag.AlignRight
                                       | Qt.AlignmentFlag.AlignVCenter)
        self.taps_combo = QComboBox()
        self.taps_combo.setObjectName("designTaps")
        for n in TAPS:
            self.taps_combo.addItem(str(n), n)
        self.delay_spin = QSpinBox()
        self.delay_spin.setObjectName("designDelay")
        self.delay_spin.setRange(0, 65535)
        self.delay_spin.setSpecialValueText("auto (taps / 2)")
        self.delay_spin.setSuffix(" samples")
        self.delay_spin.setKeyboardTracking(False)
        self.delay_spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.robust_spin = _spin(0.0, 20.0, 1.0, " cm", special="off", name="designRobust",
                                 tip="Optimize over head positions within ± this lateral "
                                     "displacement (a larger zone, less peak cancellation)")
        self.probe_spin = _spin(0.0, 20.0, 1.0, " cm", special="off", name="designProbe",
                                tip="Also show the cancellation with the head moved ± this far "
                                    "sideways (worst side)")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Method", self.method_combo)
        self.listener_label = QLabel("Listener")
        form.addRow(self.listener_label, self.listener_combo)
        effort_row = QHBoxLayout()
        effort_row.addWidget(self.effort_slider, 1)
        effort_row.addWidget(self.effort_value)
        form.addRow("Effort cap", effort_row)
        form.addRow("Taps", self.taps_combo)
        form.addRow("Modelling delay", self.delay_spin)
        self.robust_label = QLabel("Robust ±")
        form.addRow(self.robust_label, self.robust_spin)
        self.probe_label = QLabel("Probe ±")
        form.addRow(self.probe_label, self.probe_spin)
        form.addRow("Plant", self._plant_row())
        return _group("Design", form)

    def _plant_row(self) -> QVBoxLayout:
        """Which plant the design inverts (the indicator, on a line of its own: a measured
        plant's name and timing need the panel's width) and the buttons that switch it."""
        self.plant_label = QLabel("simulated")
        self.plant_label.setObjectName("designPlant")
        self.plant_label.setWordWrap(True)
        self.plant_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plant_button = push_button("Measured…", "measuredPlantButton",
                                        "Design on measured driver → ear responses: a SOFA "
                                        "file or a folder of <driver>.wav (Design ▸ Use "
                                        "Measured Plant…)")
        self.simulated_button = push_button("Simulated", "simulatedPlantButton",
                                            "Design on the simulated plant again")
        buttons = QHBoxLayout()
        buttons.addWidget(self.plant_button)
        buttons.addWidget(self.simulated_button)
        buttons.addStretch(1)
        column = QVBoxLayout()
        column.addWidget(self.plant_label)
        column.addLayout(buttons)
        return column

    def _beam_box(self) -> QGroupBox:
        self.null_edit = QLineEdit()
        self.null_edit.setObjectName("beamNulls")
        self.null_edit.setToolTip("Null directions in degrees, device frame, counter-clockwise "
                                  "(e.g. 90, -90)")
        self.lobe_spin = _spin(5.0, 80.0, 5.0, "°", 0)
        self.null_gain_spin = _spin(-80.0, 0.0, 5.0, " dB", 0,
                                    tip="Level asked for at the nulls, relative to on-axis")
        beam_form = QFormLayout()
        beam_form.addRow("Nulls at", self.null_edit)
        beam_form.addRow("Main lobe ±", self.lobe_spin)
        beam_form.addRow("Null level", self.null_gain_spin)
        self.beam_box = _group("Beam", beam_form)
        return self.beam_box

    def _virtual_box(self) -> QGroupBox:
        self.virtual_spin = _spin(1.0, 90.0, 5.0, "°", 0)
        virtual_form = QFormLayout()
        virtual_form.addRow("Virtual pair ±", self.virtual_spin)
        self.virtual_box = _group("Virtualizer", virtual_form)
        return self.virtual_box

    def _target_box(self) -> QGroupBox:
        self.target_editor = TargetCurveEditor()
        self.target_editor.setMinimumHeight(160)
        target_layout = QVBoxLayout()
        target_layout.setContentsMargins(4, 4, 4, 4)
        target_layout.addWidget(self.target_editor)
        self.target_box = _group("Target cancellation", target_layout)
        return self.target_box

    def _results_box(self) -> QGroupBox:
        """The headline numbers (READINGS), each a selectable label in a form row."""
        numbers = QFormLayout()
        for attr, name, title, row_attr in READINGS:
            label = _value_label(name)
            setattr(self, attr, label)
            if row_attr:
                setattr(self, row_attr, QLabel(title))
                numbers.addRow(getattr(self, row_attr), label)
            else:
                numbers.addRow(title, label)
        return _group("Result", numbers)

    def _buttons(self) -> QHBoxLayout:
        """Redesign and Export… in a row; the export's progress bar (under it)."""
        self.redesign_button = push_button("Redesign", "redesignButton", "Redesign now (F6)")
        self.export_button = push_button("Export…", "exportButton",
                                         "Write the filters in the chosen formats")
        self.export_button.setEnabled(False)
        self.export_progress = QProgressBar()
        self.export_progress.setRange(0, 100)
        self.export_progress.setVisible(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.redesign_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        return buttons

    # -- wiring ----------------------------------------------------------------------------------
    def _connect(self) -> None:
        c = self.controller
        self.method_combo.currentIndexChanged.connect(
            lambda _i: c.set_params(method=self.method_combo.currentData()))
        self.listener_combo.currentIndexChanged.connect(
            lambda i: c.set_params(listener=i) if i >= 0 else None)
        self.effort_slider.valueChanged.connect(self._on_effort)
        self.taps_combo.currentIndexChanged.connect(
            lambda _i: c.set_params(n_taps=self.taps_combo.currentData()))
        self.delay_spin.valueChanged.connect(
            lambda v: c.set_params(delay_samples=v or None))
        self.robust_spin.valueChanged.connect(lambda v: c.set_params(robust_cm=float(v)))
        self.probe_spin.valueChanged.connect(lambda v: c.set_probe_cm(float(v)))
        self.null_edit.editingFinished.connect(self._on_nulls)
        self.lobe_spin.valueChanged.connect(
            lambda v: c.set_params(lobe_half_width_deg=float(v)))
        self.null_gain_spin.valueChanged.connect(lambda v: c.set_params(null_gain_db=float(v)))
        self.virtual_spin.valueChanged.connect(
            lambda v: c.set_params(virtual_angle_deg=float(v)))
        self.target_editor.curveChanged.connect(lambda curve: c.set_params(target=curve))
        self.redesign_button.clicked.connect(c.redesign_now)
        self.plant_button.clicked.connect(self.plantRequested)
        self.simulated_button.clicked.connect(lambda: c.set_params(plant=None))
        self.export_button.clicked.connect(self.exportRequested)
        c.paramsChanged.connect(self.sync_params)
        c.outcomeChanged.connect(self.show_outcome)
        c.errorChanged.connect(self.show_error)
        c.busyChanged.connect(lambda _b: self._update_state())
        c.document.changed.connect(self.sync_listeners)

    def _on_effort(self, value: int) -> None:
        db = value / EFFORT_STEPS_PER_DB
        self.effort_value.setText(f"{db:.1f} dB")
        self.controller.set_params(max_effort_db=db)

    def _on_nulls(self) -> None:
        angles = parse_angles(self.null_edit.text())
        if angles is None:
            self.null_edit.setText(", ".join(f"{a:g}" for a in
                                             self.controller.params.null_angles_deg))
            self.show_error("Nulls: enter angles in degrees separated by commas, e.g. 90, -90")
            return
        self.controller.set_params(null_angles_deg=angles)

    # -- parameters → widgets --------------------------------------------------------------------
    def sync_params(self, p: DesignParams) -> None:
        widgets = (self.method_combo, self.effort_slider, self.taps_combo, self.delay_spin,
                   self.robust_spin, self.lobe_spin, self.null_gain_spin, self.virtual_spin,
                   self.listener_combo)
        for w in widgets:
            w.blockSignals(True)
        self.method_combo.setCurrentIndex(max(self.method_combo.findData(p.method), 0))
        self.effort_slider.setValue(round(p.max_effort_db * EFFORT_STEPS_PER_DB))
        self.effort_value.setText(f"{p.max_effort_db:.1f} dB")
        k = self.taps_combo.findData(p.n_taps)
        if k < 0:
            self.taps_combo.addItem(str(p.n_taps), p.n_taps)
            k = self.taps_combo.count() - 1
        self.taps_combo.setCurrentIndex(k)
        self.delay_spin.setValue(p.delay_samples or 0)
        self.robust_spin.setValue(p.robust_cm)
        self.lobe_spin.setValue(p.lobe_half_width_deg)
        self.null_gain_spin.setValue(p.null_gain_db)
        self.virtual_spin.setValue(p.virtual_angle_deg)
        if p.listener < self.listener_combo.count():
            self.listener_combo.setCurrentIndex(p.listener)
        for w in widgets:
            w.blockSignals(False)
        self.probe_spin.blockSignals(True)
        self.probe_spin.setValue(self.controller.probe_cm)
        self.probe_spin.blockSignals(False)
        if not self.null_edit.hasFocus():
            self.null_edit.setText(", ".join(f"{a:g}" for a in p.null_angles_deg))
        self.target_editor.set_curve(p.target_curve)
        beam = p.method == "beam"
        self.beam_box.setVisible(beam)
        self.virtual_box.setVisible(p.method == "virtualizer")
        self.target_box.setVisible(not beam)
        for w in (self.robust_label, self.robust_spin, self.probe_label, self.probe_spin):
            w.setVisible(not beam)
        self._show_plant(p)

    def _show_plant(self, p: DesignParams) -> None:
        """The plant indicator: plain "simulated", or the measured file and its timing
        (`dsp.plant_timing`) in the highlight colour with its path and hash in the tool tip."""
        m = p.plant
        self.simulated_button.setEnabled(m is not None)
        if m is None:
            self.plant_label.setText("simulated")
            self.plant_label.setStyleSheet("")
            self.plant_label.setToolTip("The design inverts the simulated driver → ear "
                                        "responses")
            return
        self.plant_label.setText(f"measured: {m.label}, {m.timing.value} timing")
        self.plant_label.setStyleSheet(
            f"color: {scene_colors(current_theme()).selection}; font-weight: bold;")
        self.plant_label.setToolTip(f"{m.path}\nSHA-256 {m.sha256}\n{len(m.drivers)} drivers"
                                    f" × 2 ears, {m.ir.shape[-1]} samples at {m.fs_hz} Hz\n"
                                    "Timing between drivers: Design ▸ Keep Measured Timing"
                                    " Between Drivers")

    def sync_listeners(self) -> None:
        names = [li.name for li in self.controller.document.scene.listeners]
        show_names(self.listener_combo, names, self.controller.params.listener)
        many = len(names) > 1
        self.listener_label.setVisible(many)
        self.listener_combo.setVisible(many)

    # -- results → labels ------------------------------------------------------------------------
    def show_outcome(self, o: DesignOutcome | None) -> None:
        rows = (self.cancel_row_label, self.cancel_label, self.probe_row_label,
                self.probe_reading, self.beam_row_label, self.beam_label, self.lobe_row_label,
                self.lobe_label, self.virtual_row_label, self.virtual_label)
        if o is None:
            for label in (self.effort_label, self.fir_label, self.zone_label, self.cancel_label,
                          self.probe_reading, self.beam_label, self.lobe_label,
                          self.virtual_label, self.timing_label):
                label.setText("—")
            for w in rows:
                w.setVisible(False)
            self._update_state()
            return
        s = o.summary
        self.effort_label.setText(f"{s.effort_db:.1f} dB (cap {o.params.max_effort_db:g} dB)")
        self.fir_label.setText(f"{s.fir_error_db:.1f} dB")
        self.zone_label.setText(f"{s.zone_area_m2:.2f} m² {s.zone_criterion}")
        beam = s.method == "beam"
        for w in rows[:2]:
            w.setVisible(not beam)
        for w in rows[2:4]:
            w.setVisible(not beam and s.probe_db is not None)
        for w in rows[4:8]:
            w.setVisible(beam)
        for w in rows[8:]:
            w.setVisible(o.virtual is not None)
        lo, hi = s.cancellation_band_hz
        if s.cancellation_db is not None:
            text = f"≥ {s.cancellation_db:.1f} dB, {lo:g} Hz–{hi / 1000:g} kHz"
            if o.redesign.simulated is not None:
                sim = worst_cancellation_db(o.redesign.simulated, s.cancellation_band_hz)
                text += f" (measured plant; simulated ≥ {sim:.1f} dB)"
            self.cancel_label.setText(text)
        if s.probe_db is not None:
            self.probe_reading.setText(f"≥ {s.probe_db:.1f} dB at ±{o.probe_cm:g} cm")
        if beam:
            depth = ", ".join(f"{a:+g}° {v:.1f}" for a, v in s.null_depth_db.items())
            blo, bhi = s.beam_band_hz
            self.beam_label.setText(f"{depth} dB deep, {blo / 1000:g}–{bhi / 1000:g} kHz")
            self.lobe_label.setText(f"±{o.params.lobe_half_width_deg:g}° within "
                                    f"{s.lobe_deviation_db:.1f} dB")
        if o.virtual is not None:
            ild = o.virtual["ild_error_db"]
            worst = max(max(abs(v) for v in ild["left"]), max(abs(v) for v in ild["right"]))
            self.virtual_label.setText(f"ITD {o.virtual['itd_error_us']:.0f} µs · ILD "
                                       f"≤ {worst:.1f} dB")
        t = o.redesign.timing_ms
        self.timing_label.setText(f"{t['total']:.0f} ms (design {t.get('design', 0):.0f}, "
                                  f"maps {t.get('azimuth_map', 0) + t.get('zone_map', 0):.0f})")
        self.timing_label.setToolTip("redesign stages (ms): " + ", ".join(
            f"{k} {v:.1f}" for k, v in t.items()) + f"; with probe and summary {o.wall_ms:.0f}")
        warnings = o.redesign.design.warnings
        self._set_message("\n".join(warnings), error=False)
        self._update_state()

    def show_error(self, message: str) -> None:
        self._set_message(message, error=bool(message))
        self._update_state()

    def _set_message(self, text: str, error: bool) -> None:
        c = scene_colors(current_theme())
        color = c.error if error else c.selection
        self.message_label.setStyleSheet(f"color: {color}; padding: 4px 2px;")
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    def _update_state(self) -> None:
        c = self.controller
        o = c.outcome
        if c.error:
            text = "refused" if o is None else "error"
        elif c.is_busy or (o is not None and not o.current):
            text = "updating…"
        elif o is None:
            text = "—"
        else:
            text = "up to date"
        self.state_label.setText(text)
        self.export_button.setEnabled(o is not None and o.current and not c.is_busy)

    def apply_theme(self) -> None:
        self.target_editor.apply_theme(scene_colors(current_theme()))
        if self.message_label.text():
            self._set_message(self.message_label.text(), bool(self.controller.error))
