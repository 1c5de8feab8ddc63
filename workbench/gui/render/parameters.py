"""The Renderer panel's upmix and renderer parameters (its Settings tab): centre width,
smoothing, ambience, centre gain, block, the L/R and centre methods, the design space and the
listening-path engine, sent to the `AuditionController` as the user changes them and shown as
it reports them (`_sync_settings`).

`ParameterControls` is a mixin of `RendererPanel` (it uses the panel's `controller` and
`_show_error`).
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSlider,
    QWidget,
)

from dsp.renderer import C_METHODS, DESIGN_SPACES, LR_METHODS
from workbench.gui.render.audition_controller import BLOCKS, MODE_LABELS
from workbench.gui.shell.widgets import double_spin
from workbench.jobs.render import MODES

WIDTH_RANGE = (-3.0, -1.0)   # centre width slider: log10 of 0.001 .. 0.1
WIDTH_STEPS = 100
LR_LABELS = {"virtualizer": "Virtualizer + CTC", "ctc": "CTC / null steering",
             "direct": "Direct (matrix)"}
C_LABELS = {"auto": "Auto (beam if ≥ 3 drivers)", "beam": "Beam", "phantom": "Phantom (L+R)",
            "direct": "Direct (matrix)"}
SPACE_LABELS = {"freefield": "Free field", "room_early": "Room (early, < 2 kHz)"}


def _width_to_slider(width: float) -> int:
    lo, hi = WIDTH_RANGE
    v = (math.log10(max(width, 1e-6)) - lo) / (hi - lo)
    return round(min(max(v, 0.0), 1.0) * WIDTH_STEPS)


def _slider_to_width(v: int) -> float:
    lo, hi = WIDTH_RANGE
    return float(f"{10.0 ** (lo + (hi - lo) * v / WIDTH_STEPS):.2g}")


def _slider_row(slider: QSlider, value: QLabel) -> QHBoxLayout:
    """A slider and the label that shows its value."""
    row = QHBoxLayout()
    row.addWidget(slider, 1)
    row.addWidget(value)
    return row


class ParameterControls:
    """The parameter widgets of a `RendererPanel` and their wiring."""

    def _create_parameter_widgets(self) -> None:
        self.width_slider = QSlider(Qt.Orientation.Horizontal)
        self.width_slider.setObjectName("centreWidth")
        self.width_slider.setRange(0, WIDTH_STEPS)
        self.width_slider.setToolTip("Centre width ξ: wider puts more of the half-panned "
                                     "sources in C; narrower is more selective")
        self.width_value = QLabel()
        self.width_value.setMinimumWidth(44)
        self.smoothing_spin = double_spin(0.0, 500.0, 5.0, " ms", 0, name="smoothing")
        self.smoothing_spin.setToolTip("Time constant of the cross-spectrum smoothing")
        self.ambience_slider = QSlider(Qt.Orientation.Horizontal)
        self.ambience_slider.setObjectName("ambience")
        self.ambience_slider.setRange(0, 100)
        self.ambience_slider.setToolTip("How far incoherent (ambient) sound is kept out of C")
        self.ambience_value = QLabel()
        self.ambience_value.setMinimumWidth(44)
        self.centre_gain_spin = double_spin(-20.0, 12.0, 0.5, " dB", 1, name="centreGain")
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

    def _parameters_page(self) -> QScrollArea:
        """The form in a scroll area, as wide as the form needs."""
        params = QWidget()
        form = QFormLayout(params)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(4, 2, 4, 2)
        rows = (("Centre width", _slider_row(self.width_slider, self.width_value)),
                ("Smoothing", self.smoothing_spin),
                ("Ambience", _slider_row(self.ambience_slider, self.ambience_value)),
                ("Centre gain", self.centre_gain_spin), ("Block", self.block_combo),
                ("L / R", self.lr_combo), ("Centre", self.c_combo),
                ("Design in", self.space_combo), ("Paths", self.mode_combo))
        for label, field in rows:
            form.addRow(label, field)
        scroll = QScrollArea()
        scroll.setObjectName("rendererParams")
        scroll.setWidget(params)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # The form never cut: the panel is as wide as it needs (a narrower dock scrolls).
        scroll.setMinimumWidth(params.minimumSizeHint().width()
                               + scroll.verticalScrollBar().sizeHint().width())
        return scroll

    def _connect_parameters(self) -> None:
        c = self.controller
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
