"""The Sweep panel's plots (pyqtgraph): percentile curves per band and the floor map.

`PercentilePlot.show_bands(bands)` draws P10–P90 as a band and P50 as a line per metric
(`dsp.sweep.summary.BandPercentiles`) on a log-frequency axis. `FloorPlot.show_map(fmap,
scene)` draws the room's floor plan, the device and one square per swept position coloured by
the median (or P10) of the per-listener cancellation; a click on a square emits
`position_clicked(x_m, y_m)` with that position.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from workbench.gui.plots.base import SERIES_COLORS, ZONE_COLORMAP, set_freq_axis, style_plot
from workbench.gui.shell.theme import current_theme, scene_colors


class PercentilePlot(pg.PlotWidget):
    """P10–P90 band and P50 line per metric vs log frequency."""

    def __init__(self, ylabel: str, parent=None):
        super().__init__(parent)
        self.colors = scene_colors(current_theme())
        style_plot(self, self.colors)
        self.setMinimumHeight(140)
        self.showGrid(x=True, y=True, alpha=0.25)
        self.setLabel("left", ylabel)
        set_freq_axis(self, 80.0, 20000.0)
        self.addLegend(offset=(-10, 10))
        self.curves: dict[str, pg.PlotDataItem] = {}

    def show_bands(self, bands: list) -> None:
        """Draw BandPercentiles items (one colour each); an empty list clears the plot."""
        self.clear()
        self.curves.clear()
        for k, bp in enumerate(bands):
            color = SERIES_COLORS[k % len(SERIES_COLORS)]
            x = np.log10(bp.band_hz)
            lo = pg.PlotDataItem(x, bp.p10, pen=pg.mkPen(color, width=0.5))
            hi = pg.PlotDataItem(x, bp.p90, pen=pg.mkPen(color, width=0.5))
            shade = pg.mkColor(color)
            shade.setAlpha(70)
            fill = pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(shade))
            for item in (lo, hi, fill):
                self.addItem(item)
            self.curves[bp.metric] = self.plot(x, bp.p50, pen=pg.mkPen(color, width=2),
                                               name=f"{bp.metric} P50 (P10–P90)")


class FloorPlot(pg.PlotWidget):
    """Swept listener positions on the floor plan, coloured by a metric."""

    position_clicked = Signal(float, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.colors = scene_colors(current_theme())
        style_plot(self, self.colors)
        self.setMinimumHeight(180)
        self.setAspectLocked(True)
        self.setLabel("bottom", "x (m)")
        self.setLabel("left", "y (m)")
        self.points = pg.ScatterPlotItem(symbol="s", size=12, pen=None)
        self.points.sigClicked.connect(self._on_clicked)
        self.values = np.zeros(0)

    def show_map(self, fmap, scene, which: str = "median") -> tuple[float, float] | None:
        """Draw `fmap` (dsp.sweep.summary.FloorMap) over the floor plan of `scene` (a
        sim.scene.Scene); which: "median" or "p10". fmap None: floor plan only. Returns the
        value range the colours span (None when nothing is drawn)."""
        self.clear()
        room = scene.room
        if not room.is_anechoic:
            floor = np.asarray(room.floor_m if room.kind != "shoebox" else
                               [(0, 0), (room.dimensions_m[0], 0),
                                (room.dimensions_m[0], room.dimensions_m[1]),
                                (0, room.dimensions_m[1])], dtype=float)
            ring = np.vstack([floor, floor[:1]])
            self.plot(ring[:, 0], ring[:, 1], pen=pg.mkPen(self.colors.room_outline))
        dev = scene.device.position_m
        self.plot([dev[0]], [dev[1]], pen=None, symbol="s", symbolSize=10,
                  symbolBrush=self.colors.device_fill)
        self.addItem(self.points)
        if fmap is None or fmap.x_m.size == 0:
            self.points.setData([], [])
            self.values = np.zeros(0)
            return None
        self.values = getattr(fmap, which)
        finite = self.values[np.isfinite(self.values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        cmap = pg.colormap.get(ZONE_COLORMAP)
        t = (self.values - lo) / max(hi - lo, 1e-9)
        brushes = [pg.mkBrush(cmap.map(float(np.nan_to_num(v)), mode="qcolor")) for v in t]
        self.points.setData(fmap.x_m, fmap.y_m, brush=brushes,
                            data=list(zip(fmap.x_m, fmap.y_m, strict=True)))
        return lo, hi

    def _on_clicked(self, _item, points, _event=None) -> None:
        if len(points):
            x, y = points[0].data()
            self.position_clicked.emit(float(x), float(y))
