"""Transfer dock: impulse responses and magnitude responses of one driver to both ears of one
listener, from a `sim.transfer.TransferResult`, and over them (dashed) the measured plant the
design uses (`dsp.measured_plant.AlignedPlant`) for the listener it was measured at.

The plot shows what the engine returned and the measured IRs on the same time axis (time after
emission: each driver's measurement moved onto the scene's timing); the display spectrum comes
from `dsp.spectrum`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from dsp.measured_plant import PRE_SAMPLES
from dsp.spectrum import magnitude_db
from sim.scene import Scene
from workbench.gui.plots.base import set_combo_items, set_freq_axis, style_plot
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors

EAR_NAMES = ("left", "right")


class TransferView(QWidget):
    """Two plots (IR, magnitude) with listener and driver pickers."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result = None
        self.scene: Scene | None = None
        self.measured = None  # AlignedPlant shown over the simulation, or None
        self.measured_listener = 0
        self.stale = False

        self.listener_combo = QComboBox()
        self.listener_combo.setObjectName("transferListener")
        self.listener_combo.setMinimumContentsLength(10)
        self.driver_combo = QComboBox()
        self.driver_combo.setObjectName("transferDriver")
        self.driver_combo.setMinimumContentsLength(10)
        self.info_label = QLabel()
        self.info_label.setObjectName("transferInfo")
        self.message_label = QLabel()
        self.message_label.setObjectName("transferMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        controls = QHBoxLayout()
        controls.setContentsMargins(8, 4, 8, 0)
        controls.addWidget(QLabel("Listener"))
        controls.addWidget(self.listener_combo)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Driver"))
        controls.addWidget(self.driver_combo)
        controls.addSpacing(12)
        controls.addWidget(self.info_label, 1)

        self.ir_plot = pg.PlotWidget()
        self.ir_plot.setObjectName("irPlot")
        self.mag_plot = pg.PlotWidget()
        self.mag_plot.setObjectName("magnitudePlot")
        for plot, corner in ((self.ir_plot, (-10, 10)), (self.mag_plot, (10, -10))):
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.addLegend(offset=corner)  # IR: top right; magnitude: bottom left
            plot.setMinimumHeight(150)
        self.ir_plot.setTitle("Impulse response")
        self.ir_plot.setLabel("bottom", "time after emission", units="s")
        self.ir_plot.setLabel("left", "amplitude (1 m → 1)")
        self.mag_plot.setTitle("Magnitude")
        self.mag_plot.setLabel("left", "level", units="dB")
        self.mag_plot.setLogMode(x=True, y=False)
        self.ir_plot.getAxis("left").enableAutoSIPrefix(False)
        set_freq_axis(self.mag_plot, 20.0, 20000.0)
        self.ir_curves = {ear: self.ir_plot.plot(name=f"{ear} ear") for ear in EAR_NAMES}
        self.mag_curves = {ear: self.mag_plot.plot(name=f"{ear} ear") for ear in EAR_NAMES}
        self.measured_ir_curves = {ear: self.ir_plot.plot(name=f"{ear} ear, measured")
                                   for ear in EAR_NAMES}
        self.measured_mag_curves = {ear: self.mag_plot.plot(name=f"{ear} ear, measured")
                                    for ear in EAR_NAMES}

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.ir_plot)
        splitter.addWidget(self.mag_plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.addLayout(controls)
        layout.addWidget(self.message_label)
        layout.addWidget(splitter, 1)

        self.listener_combo.currentIndexChanged.connect(lambda _i: self.redraw())
        self.driver_combo.currentIndexChanged.connect(lambda _i: self.redraw())
        self.apply_theme(scene_colors(current_theme()))
        self.show_message("No simulation yet: Simulate ▸ Free field (F5) computes the driver → "
                          "ear responses of the scene.")

    # -- content -----------------------------------------------------------------------------------
    def set_result(self, result, scene: Scene) -> None:
        """Show a TransferResult computed for `scene`."""
        self.result, self.scene, self.stale = result, scene, False
        set_combo_items(self.listener_combo, [li.name for li in scene.listeners])
        set_combo_items(self.driver_combo, [d.name for d in scene.device.drivers])
        n_taps = result.ir.shape[-1]
        self.info_label.setText(f"{result.engine} engine · {result.fs_hz} Hz · {n_taps} taps "
                                f"({n_taps / result.fs_hz * 1000:.1f} ms)")
        self.show_message("")
        self.redraw()

    def set_measured(self, aligned, listener: int, scene: Scene) -> None:
        """Overlay a measured plant (`AlignedPlant`, None: none) for listener index `listener`
        of `scene`; without a simulation the pickers come from that scene."""
        self.measured, self.measured_listener = aligned, listener
        if self.result is None and aligned is not None:
            set_combo_items(self.listener_combo, [li.name for li in scene.listeners])
            set_combo_items(self.driver_combo, [d.name for d in scene.device.drivers])
            self.select_listener(listener)
        self.redraw()

    def select_listener(self, index: int) -> None:
        if 0 <= index < self.listener_combo.count():
            self.listener_combo.setCurrentIndex(index)

    def set_stale(self, stale: bool) -> None:
        if self.result is None or stale == self.stale:
            return
        self.stale = stale
        self.show_message("The scene changed since this simulation: press F5 to update."
                          if stale else "")

    def show_message(self, text: str, error: bool = False) -> None:
        colors = scene_colors(current_theme())
        self.message_label.setStyleSheet(
            f"color: {colors.error if error else colors.plot_foreground}; padding: 2px 8px;")
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    def clear(self) -> None:
        self.result = self.scene = self.measured = None
        for curves in (self.ir_curves, self.mag_curves, self.measured_ir_curves,
                       self.measured_mag_curves):
            for curve in curves.values():
                curve.setData([], [])
        self.info_label.setText("")

    def has_data(self) -> bool:
        return all(c.xData is not None and len(c.xData) > 0 for c in self.ir_curves.values())

    def has_measured(self) -> bool:
        return all(c.xData is not None and len(c.xData) > 0
                   for c in self.measured_ir_curves.values())

    def _responses(self, li: int, d: int) -> list:
        """[(IR curves, magnitude curves, t (N,) s after emission, irs (2, N), fs)] of what
        there is to draw for listener li, driver d."""
        out = []
        r, m = self.result, self.measured
        if r is not None and li < r.ir.shape[1] and d < r.ir.shape[0]:
            t = (np.arange(r.ir.shape[-1]) - r.t0_samples) / float(r.fs_hz)
            out.append((self.ir_curves, self.mag_curves, t, r.ir[d, li], r.fs_hz))
        if m is not None and li == self.measured_listener and d < m.ir.shape[0]:
            t = (np.arange(m.ir.shape[-1]) - PRE_SAMPLES) / float(m.fs_hz) + m.bulk_delay_s
            out.append((self.measured_ir_curves, self.measured_mag_curves, t, m.ir[d], m.fs_hz))
        return out

    def redraw(self) -> None:
        li = self.listener_combo.currentIndex()
        d = self.driver_combo.currentIndex()
        for curves in (self.measured_ir_curves, self.measured_mag_curves):
            for curve in curves.values():
                curve.setData([], [])
        shown = self._responses(li, d) if li >= 0 and d >= 0 else []
        if not shown:
            return
        f_hi = 20000.0
        peak = -np.inf
        for ir_curves, mag_curves, t, irs, fs in shown:
            f_hi = min(f_hi, fs / 2)
            for e, ear in enumerate(EAR_NAMES):
                ir = np.asarray(irs[e], dtype=float)
                ir_curves[ear].setData(t, ir)
                f, db = magnitude_db(ir, fs)
                mag_curves[ear].setData(f, db)
                band = (f >= 20.0) & (f <= f_hi)
                if np.any(band):
                    peak = max(peak, float(np.max(db[band])))
        self.ir_plot.enableAutoRange()
        self.mag_plot.setXRange(np.log10(20.0), np.log10(f_hi), padding=0)
        if np.isfinite(peak):  # a fixed 45 dB window: ripple is not blown up
            top = 5.0 * np.ceil((peak + 3.0) / 5.0)
            self.mag_plot.setYRange(top - 45.0, top, padding=0)

    # -- theme -------------------------------------------------------------------------------------
    def apply_theme(self, colors: SceneColors) -> None:
        for plot in (self.ir_plot, self.mag_plot):
            style_plot(plot, colors)
        for curves in (self.ir_curves, self.mag_curves):
            # Left drawn wider underneath: equal responses (a listener on axis) stay visible.
            curves["left"].setPen(pg.mkPen(colors.left_ear, width=3.0))
            curves["right"].setPen(pg.mkPen(colors.right_ear, width=1.3))
        for curves in (self.measured_ir_curves, self.measured_mag_curves):
            for ear, color in (("left", colors.left_ear), ("right", colors.right_ear)):
                curves[ear].setPen(pg.mkPen(color, width=1.6, style=Qt.PenStyle.DashLine))
        if self.message_label.text():
            self.show_message(self.message_label.text())
