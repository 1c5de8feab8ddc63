"""The Renderer panel's upmix and renderer parameters (its Settings tab), one control per
`awb render` option: the upmix (centre width, smoothing, floor, ambience, centre gain, frame),
the player's block, the networks (L/R and centre methods, taps, maximum effort, the design space
with its early window and crossover), the listener designed for and the listening-path engine.
They are sent to the `AuditionController` as the user changes them (upmix: live, crossfaded; the
frame, the networks and the listener: a rebuild in the background) and shown as it reports them
(`_sync_settings`); the controller remembers them (`render.remembered`) but the listener, which
is the open scene's.

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
from workbench.gui.shell.settings import (
    RENDERER_EARLY_WINDOW_MS,
    RENDERER_MAX_EFFORT_DB,
    RENDERER_ROOM_MAX_HZ,
    RENDERER_TAPS,
    UPMIX_CENTRE_GAIN_DB,
    UPMIX_CENTRE_WIDTH,
    UPMIX_FLOOR_DB,
    UPMIX_FRAME,
    UPMIX_SMOOTHING_MS,
)
from workbench.gui.shell.widgets import double_spin, show_names
from workbench.jobs.render import MODES

WIDTH_RANGE = tuple(math.log10(v) for v in UPMIX_CENTRE_WIDTH.limits)
"""Centre width slider: log10 of the width's range."""
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


def _combo(name: str, items: dict, tip: str = "") -> QComboBox:
    """A combo box of `items` (value → label), its object name and tool tip."""
    combo = QComboBox()
    combo.setObjectName(name)
    for value, label in items.items():
        combo.addItem(label, value)
    combo.setToolTip(tip)
    return combo


def _samples(values: tuple[int, ...]) -> dict[int, str]:
    return {n: f"{n} samples" for n in values}


class ParameterControls:
    """The parameter widgets of a `RendererPanel` and their wiring."""

    def _create_parameter_widgets(self) -> None:
        self._create_upmix_widgets()
        self._create_network_widgets()
        self.mode_combo = _combo("pathsEngine", {m: MODE_LABELS[m] for m in MODES},
                                 "How the device and the reference pair are heard: the room "
                                 "simulation or free field (changing it rebuilds)")

    def _create_upmix_widgets(self) -> None:
        self.width_slider = QSlider(Qt.Orientation.Horizontal)
        self.width_slider.setObjectName("centreWidth")
        self.width_slider.setRange(0, WIDTH_STEPS)
        self.width_slider.setToolTip("Centre width ξ: wider puts more of the half-panned "
                                     "sources in C; narrower is more selective")
        self.width_value = QLabel()
        self.width_value.setMinimumWidth(44)
        self.smoothing_spin = double_spin(*UPMIX_SMOOTHING_MS.limits, 5.0, " ms", 0,
                                          name="smoothing")
        self.smoothing_spin.setToolTip("Time constant of the cross-spectrum smoothing")
        self.floor_spin = double_spin(*UPMIX_FLOOR_DB.limits, 1.0, " dB", 0, name="upmixFloor")
        self.floor_spin.setToolTip("Lowest centre mask gain: a higher floor limits musical "
                                   "noise but lets a little of every side source into C")
        self.ambience_slider = QSlider(Qt.Orientation.Horizontal)
        self.ambience_slider.setObjectName("ambience")
        self.ambience_slider.setRange(0, 100)
        self.ambience_slider.setToolTip("How far incoherent (ambient) sound is kept out of C")
        self.ambience_value = QLabel()
        self.ambience_value.setMinimumWidth(44)
        self.centre_gain_spin = double_spin(*UPMIX_CENTRE_GAIN_DB.limits, 0.5, " dB", 1,
                                            name="centreGain")
        self.centre_gain_spin.setToolTip("Gain of C (dialogue lift); 0 dB reconstructs the "
                                         "input exactly")
        self.frame_combo = _combo("upmixFrame", _samples(UPMIX_FRAME.choices),
                                  "STFT length of the upmix: longer separates finer and adds "
                                  "latency (changing it rebuilds)")
        self.block_combo = _combo("blockSize", _samples(BLOCKS),
                                  "Processing block of the player (latency of commands, CPU)")

    def _create_network_widgets(self) -> None:
        self.lr_combo = _combo("lrMethod", {m: LR_LABELS.get(m, m) for m in LR_METHODS})
        self.c_combo = _combo("cMethod", {m: C_LABELS.get(m, m) for m in C_METHODS})
        self.taps_combo = _combo("renderTaps", {n: str(n) for n in RENDERER_TAPS.choices},
                                 "FIR length of the networks' filters")
        self.effort_spin = double_spin(*RENDERER_MAX_EFFORT_DB.limits, 0.5, " dB", 1,
                                       name="renderEffort")
        self.effort_spin.setToolTip("Maximum filter effort: drive per input relative to one "
                                    "driver playing it alone")
        self.space_combo = _combo(
            "designSpace", {m: SPACE_LABELS.get(m, m) for m in DESIGN_SPACES},
            "Plant the filters are designed on. Room: also compensates the room's first "
            "reflections at the listener below the crossover — exact in the simulated early "
            "room, fragile where the room holds more than that model")
        self.early_window_spin = double_spin(*RENDERER_EARLY_WINDOW_MS.limits, 1.0, " ms", 0,
                                             name="earlyWindow")
        self.early_window_spin.setToolTip("Room design: reflections compensated up to this long"
                                          " after the direct sound")
        self.room_max_spin = double_spin(*RENDERER_ROOM_MAX_HZ.limits, 100.0, " Hz", 0,
                                         name="roomMaxHz")
        self.room_max_spin.setToolTip("Room design: crossover to the free-field filters (at "
                                      "most half the scene's rate)")
        self.listener_combo = _combo("renderListener", {},
                                     "The scene's listener the networks are designed for and "
                                     "the paths are heard at")

    def _parameters_page(self) -> QScrollArea:
        """The form in a scroll area, as wide as the form needs."""
        params = QWidget()
        form = QFormLayout(params)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(4, 2, 4, 2)
        rows = (("Centre width", _slider_row(self.width_slider, self.width_value)),
                ("Smoothing", self.smoothing_spin), ("Floor", self.floor_spin),
                ("Ambience", _slider_row(self.ambience_slider, self.ambience_value)),
                ("Centre gain", self.centre_gain_spin), ("Frame", self.frame_combo),
                ("Block", self.block_combo), ("L / R", self.lr_combo), ("Centre", self.c_combo),
                ("Taps", self.taps_combo), ("Max effort", self.effort_spin),
                ("Design in", self.space_combo), ("Early window", self.early_window_spin),
                ("Room up to", self.room_max_spin), ("Listener", self.listener_combo),
                ("Paths", self.mode_combo))
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
        self.ambience_slider.valueChanged.connect(self._on_ambience)
        for spin, name in ((self.smoothing_spin, "smoothing_ms"),
                           (self.floor_spin, "floor_db"),
                           (self.centre_gain_spin, "centre_gain_db")):
            spin.valueChanged.connect(lambda v, name=name: self._set_upmix(**{name: float(v)}))
        self.frame_combo.currentIndexChanged.connect(
            lambda _i: self._set_upmix(frame=self.frame_combo.currentData()))
        self.block_combo.currentIndexChanged.connect(
            lambda _i: c.set_block(self.block_combo.currentData()))
        for combo, name in ((self.lr_combo, "lr_method"), (self.c_combo, "c_method"),
                            (self.taps_combo, "n_taps"), (self.space_combo, "design_space")):
            combo.currentIndexChanged.connect(
                lambda _i, combo=combo, name=name: c.set_render(**{name: combo.currentData()}))
        for spin, name in ((self.effort_spin, "max_effort_db"),
                           (self.early_window_spin, "early_window_ms"),
                           (self.room_max_spin, "room_max_hz")):
            spin.valueChanged.connect(lambda v, name=name: c.set_render(**{name: float(v)}))
        self.listener_combo.currentIndexChanged.connect(
            lambda i: c.set_render(listener=i) if i >= 0 else None)
        self.mode_combo.currentIndexChanged.connect(
            lambda _i: c.set_mode(self.mode_combo.currentData()))
        c.document.changed.connect(self._sync_listeners)
        self._sync_listeners()

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

    def _sync_listeners(self) -> None:
        """The scene's listeners in the combo; a listener index the scene no longer has goes
        back to the first listener."""
        c = self.controller
        listeners = c.document.scene.listeners
        if c.settings.params.listener >= max(len(listeners), 1):
            c.set_render(listener=0)
        show_names(self.listener_combo, [li.name for li in listeners],
                   c.settings.params.listener)
        self.listener_combo.setEnabled(len(listeners) > 1)

    def _sync_settings(self, settings) -> None:
        """Show the controller's settings (no signals back)."""
        p, up = settings.params, settings.params.upmix
        shown = ((self.smoothing_spin, up.smoothing_ms), (self.floor_spin, up.floor_db),
                 (self.centre_gain_spin, up.centre_gain_db), (self.frame_combo, up.frame),
                 (self.block_combo, settings.block), (self.lr_combo, p.lr_method),
                 (self.c_combo, p.c_method), (self.taps_combo, p.n_taps),
                 (self.effort_spin, p.max_effort_db), (self.space_combo, p.design_space),
                 (self.early_window_spin, p.early_window_ms),
                 (self.room_max_spin, p.room_max_hz), (self.mode_combo, settings.mode))
        widgets = (self.width_slider, self.ambience_slider, self.listener_combo,
                   *(w for w, _ in shown))
        for w in widgets:
            w.blockSignals(True)
        try:
            if _slider_to_width(self.width_slider.value()) != up.centre_width:
                self.width_slider.setValue(_width_to_slider(up.centre_width))
            self.width_value.setText(f"{up.centre_width:.2g}")
            self.ambience_slider.setValue(round(100 * up.ambience))
            self.ambience_value.setText(f"{up.ambience:.2f}")
            for w, value in shown:
                if isinstance(w, QComboBox):
                    w.setCurrentIndex(w.findData(value))
                else:
                    w.setValue(value)
            if p.listener < self.listener_combo.count():
                self.listener_combo.setCurrentIndex(p.listener)
        finally:
            for w in widgets:
                w.blockSignals(False)
        for w in (self.early_window_spin, self.room_max_spin):  # their tips say so
            w.setEnabled(p.design_space == "room_early")
