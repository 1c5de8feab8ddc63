"""The programme at a glance: the upmix's L, R, C levels over time or a spectrogram, with the
play position and the loop region.

Data come from `dsp.programme_view` and `dsp.spectrum` (computed by the audition's jobs); this
view only draws them. Click in the plot to seek; drag the loop region's edges to move the loop.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from workbench.gui.plots.base import (
    HEATMAP_COLORMAP,
    NO_DATA,
    EmptyPlotPlaceholder,
    freq_ticks,
    style_plot,
)
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors

MODES = ("levels", "spectrogram")
MODE_LABELS = {"levels": "L / R / C levels", "spectrogram": "Spectrogram"}
LEVEL_FLOOR_DB = -60.0
SPEC_SPAN_DB = 80.0


class ProgrammeView(QWidget):
    """Levels or spectrogram of the programme over time. Signals: seekRequested(seconds),
    loopEdited(start_s, end_s)."""

    seekRequested = Signal(float)
    loopEdited = Signal(float, float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.colors = scene_colors(current_theme())
        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("programmeViewMode")
        for m in MODES:
            self.mode_combo.addItem(MODE_LABELS[m], m)
        self.info_label = QLabel()
        self.info_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.info_label.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.mode_combo)
        row.addWidget(self.info_label, 1)
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("programmePlot")
        self.plot.setMinimumHeight(110)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "time (s)")
        self.plot.getPlotItem().hideButtons()
        self.plot.addLegend(offset=(-6, 4), colCount=3)
        self.curves = {name: self.plot.plot([], [], name=name) for name in ("L", "R", "C")}
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(pg.colormap.get(HEATMAP_COLORMAP))
        self.plot.addItem(self.image)
        self.playhead = pg.InfiniteLine(pos=0.0, angle=90, movable=False)
        self.playhead.setZValue(20)
        self.plot.addItem(self.playhead)
        self.region = pg.LinearRegionItem(values=(0.0, 1.0), movable=True)
        self.region.setZValue(10)
        self.region.setVisible(False)
        self.plot.addItem(self.region)
        self.region.sigRegionChangeFinished.connect(self._on_region_edited)
        self.placeholder = EmptyPlotPlaceholder(self.plot)
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self.mode_combo.currentIndexChanged.connect(lambda _i: self.redraw())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)
        self.levels = None
        self.spectrogram = None
        self.duration_s = 0.0
        self._setting_region = False
        self.apply_theme(self.colors)
        self.clear("Open or drop a WAV/FLAC file to audition it.")

    @property
    def mode(self) -> str:
        return self.mode_combo.currentData()

    def set_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(MODES.index(mode))

    # -- data ------------------------------------------------------------------------------------
    def set_overview(self, levels, spectrogram, duration_s: float) -> None:
        """levels: dsp.programme_view.LevelTrack; spectrogram: dsp.spectrum.Spectrogram."""
        self.levels, self.spectrogram, self.duration_s = levels, spectrogram, float(duration_s)
        self.plot.setLimits(xMin=0.0, xMax=max(self.duration_s, 1e-3))
        self.plot.setXRange(0.0, max(self.duration_s, 1e-3), padding=0.0)
        self.redraw()

    def clear(self, message: str = "") -> None:
        self.levels = self.spectrogram = None
        self.duration_s = 0.0
        for curve in self.curves.values():
            curve.setData([], [])
        self.image.clear()
        self.region.setVisible(False)
        self.info_label.setText("")
        self.placeholder.set_text(message or NO_DATA)  # wraps where the info line would cut

    def redraw(self) -> None:
        levels_mode = self.mode == "levels"
        for curve in self.curves.values():
            curve.setVisible(levels_mode)
        self.image.setVisible(not levels_mode)
        legend = self.plot.getPlotItem().legend
        if legend is not None:
            legend.setVisible(levels_mode)
        left = self.plot.getAxis("left")
        if levels_mode:
            left.setTicks(None)
            self.plot.setLabel("left", "RMS (dBFS)")
            self.plot.setYRange(LEVEL_FLOOR_DB, 0.0, padding=0.02)
            if self.levels is not None:
                t = self.levels.times_s
                for k, name in enumerate(("L", "R", "C")):
                    self.curves[name].setData(t, np.maximum(self.levels.levels_db[k],
                                                            LEVEL_FLOOR_DB))
                self.info_label.setText("Upmix output (the player's settings), RMS per"
                                        f" {1e3 * self.levels.window_s:.0f} ms")
        else:
            s = self.spectrogram
            self.plot.setLabel("left", "frequency (Hz)")
            if s is not None:
                lo, hi = np.log10(s.edges_hz[0]), np.log10(s.edges_hz[-1])
                left.setTicks(freq_ticks(s.edges_hz[0], s.edges_hz[-1]))
                top = float(np.max(s.level_db))
                self.image.setImage(s.level_db.T, autoLevels=False,
                                    levels=(top - SPEC_SPAN_DB, top))
                self.image.setRect(QRectF(0.0, lo, max(self.duration_s, 1e-3), hi - lo))
                self.plot.setYRange(lo, hi, padding=0.0)
                self.info_label.setText(f"Mid (L+R)/2, {SPEC_SPAN_DB:.0f} dB range")

    # -- position and loop -----------------------------------------------------------------------
    def set_position(self, seconds: float) -> None:
        self.playhead.setPos(seconds)

    def set_loop(self, loop: tuple[float, float] | None) -> None:
        self._setting_region = True
        try:
            self.region.setVisible(loop is not None)
            if loop is not None:
                self.region.setRegion(loop)
        finally:
            self._setting_region = False

    def _on_region_edited(self) -> None:
        if not self._setting_region and self.region.isVisible():
            a, b = self.region.getRegion()
            self.loopEdited.emit(float(a), float(b))

    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.duration_s <= 0:
            return
        vb = self.plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        x = vb.mapSceneToView(event.scenePos()).x()
        self.seekRequested.emit(float(np.clip(x, 0.0, self.duration_s)))

    # -- theme -----------------------------------------------------------------------------------
    def apply_theme(self, colors: SceneColors) -> None:
        self.colors = colors
        style_plot(self.plot, colors)
        pens = {"L": colors.left_ear, "R": colors.right_ear, "C": colors.talker}
        for name, curve in self.curves.items():
            curve.setPen(pg.mkPen(pens[name], width=1.4))
        self.playhead.setPen(pg.mkPen(colors.selection, width=2))
        fill = QColor(colors.listener)
        fill.setAlpha(40)
        self.region.setBrush(pg.mkBrush(fill))
        self.info_label.setStyleSheet(f"color: {colors.plot_foreground};")
        self.redraw()
