"""Azimuth-frequency heatmap of the design's far-field level with a colour bar, frequency on a
log axis: dB re on-axis for a beam, dB re the input for the CTC family (switchable).

The map is the redesign's `AzimuthMap` (360 azimuths × 513 rfft bins). For the log axis each
display column takes the nearest map bin to its log-spaced frequency (a selection, no
interpolation: below ~150 Hz neighbouring columns repeat a bin). The colour scale spans 30 dB
below the largest level shown: deeper values are clipped, as the model's deepest nulls are
artefacts no real room or head reproduces (research note spatial.md, takeaway 4).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QWidget

from workbench.gui.plots.base import HEATMAP_COLORMAP, PlotPane, set_combo_items, set_freq_axis
from workbench.gui.plots.polar import direction_in_device_frame
from workbench.gui.shell.theme import SceneColors

F_LO_HZ, F_HI_HZ = 50.0, 20000.0
N_COLUMNS = 320
SPAN_DB = 30.0


def display_columns(freqs_hz: np.ndarray, lo_hz: float, hi_hz: float,
                    n: int = N_COLUMNS) -> tuple[np.ndarray, np.ndarray]:
    """(column edges in log10 Hz (n + 1,), map bin index per column (n,)) for a log axis."""
    hi_hz = min(hi_hz, float(freqs_hz[-1]))
    edges = np.linspace(np.log10(lo_hz), np.log10(hi_hz), n + 1)
    centres = 10.0 ** (0.5 * (edges[:-1] + edges[1:]))
    idx = np.clip(np.searchsorted(freqs_hz, centres), 1, freqs_hz.size - 1)
    nearer_left = (centres - freqs_hz[idx - 1]) < (freqs_hz[idx] - centres)
    return edges, idx - nearer_left


def color_levels(values: np.ndarray, span_db: float = SPAN_DB) -> tuple[float, float]:
    """(low, high): high = the largest finite value rounded up to 5 dB, low = high − span."""
    finite = values[np.isfinite(values)]
    top = 5.0 * np.ceil(float(finite.max()) / 5.0) if finite.size else 0.0
    return top - span_db, top


class AzimuthMapView(PlotPane):
    """Heatmap of one input's level over azimuth (device frame) and frequency."""

    figure_name = "azimuth-map"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.image_db: np.ndarray | None = None  # (columns, azimuths) what is drawn
        self.edges: np.ndarray | None = None
        self.levels = (-SPAN_DB, 0.0)
        self._method = ""
        self.input_combo = QComboBox()
        self.input_combo.setObjectName("mapInput")
        self.input_combo.setMinimumContentsLength(6)
        self.normalize_check = QCheckBox("re on-axis")
        self.normalize_check.setChecked(True)
        self.normalize_check.setToolTip("Levels relative to the on-axis level at each frequency")
        self.controls.addWidget(QLabel("Input"))
        self.controls.addWidget(self.input_combo)
        self.controls.addSpacing(8)
        self.controls.addWidget(self.normalize_check)
        self.finish_controls()

        p = self.plot
        p.setObjectName("azimuthMapPlot")
        p.showGrid(x=False, y=False)
        p.setMenuEnabled(False)
        p.setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="col-major")
        p.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=self.levels, colorMap=pg.colormap.get(
            HEATMAP_COLORMAP), interactive=False, width=14)
        self.colorbar.setImageItem(self.image, insert_in=p.getPlotItem())
        set_freq_axis(p, F_LO_HZ, F_HI_HZ)
        left = p.getAxis("left")
        left.setLabel("azimuth (°, device frame)")
        left.setTicks([[(a, f"{a}°") for a in range(-180, 181, 45)]])
        p.setXRange(np.log10(F_LO_HZ), np.log10(F_HI_HZ), padding=0)
        p.setYRange(-180, 180, padding=0)
        self.marks: list[pg.InfiniteLine] = []
        self.input_combo.currentIndexChanged.connect(lambda _i: self.redraw())
        self.normalize_check.toggled.connect(lambda _c: self.redraw())
        self.apply_theme(self.colors)
        self.show_message("No design yet.")

    def prepare(self, outcome) -> None:
        if outcome.params.method != self._method:
            # A beam is read against its on-axis level; the CTC family against the input
            # (their on-axis direction, between the ears, is no reference).
            self._method = outcome.params.method
            self.normalize_check.blockSignals(True)
            self.normalize_check.setChecked(self._method == "beam")
            self.normalize_check.blockSignals(False)
        set_combo_items(self.input_combo, outcome.filters.input_names)

    def erase(self) -> None:
        self.image_db = None
        self.image.clear()
        self._clear_marks()

    def _clear_marks(self) -> None:
        for line in self.marks:
            self.plot.removeItem(line)
        self.marks = []

    def redraw(self) -> None:
        o = self.outcome
        if o is None:
            return
        amap = o.redesign.azimuth
        i = max(self.input_combo.currentIndex(), 0)
        edges, idx = display_columns(amap.freqs_hz, F_LO_HZ, F_HI_HZ)
        level = amap.level_db[i]
        if self.normalize_check.isChecked():
            level = level - amap.on_axis_db[i][:, None]
        self.image_db = level[idx]  # (columns, A)
        self.edges = edges
        self.levels = color_levels(self.image_db)
        self.image.setImage(self.image_db, autoLevels=False)
        self.colorbar.setLevels(self.levels)
        self.colorbar.getAxis("left").setLabel("dB re on-axis" if self.normalize_check
                                               .isChecked() else "dB re input")
        step = amap.azimuths_deg[1] - amap.azimuths_deg[0]
        self.image.setRect(QRectF(edges[0], amap.azimuths_deg[0] - step / 2,
                                  edges[-1] - edges[0], step * amap.azimuths_deg.size))
        self._clear_marks()
        scene, p = o.scene, o.params
        marks = []
        if 0 <= p.listener < len(scene.listeners):
            marks.append((direction_in_device_frame(scene, scene.listeners[p.listener]
                                                    .position_m), self.colors.listener))
        if p.method == "beam":
            marks += [(((a + 180.0) % 360.0) - 180.0, self.colors.selection)
                      for a in p.null_angles_deg]
        for angle, color in marks:
            line = pg.InfiniteLine(pos=angle, angle=0, movable=False,
                                   pen=pg.mkPen(color, width=1.2, style=Qt.PenStyle.DashLine))
            self.plot.addItem(line)
            self.marks.append(line)

    def restyle(self, colors: SceneColors) -> None:
        for name in ("left", "right", "top", "bottom"):
            axis = self.colorbar.getAxis(name)
            axis.setPen(pg.mkPen(colors.plot_foreground))
            axis.setTextPen(pg.mkPen(colors.plot_foreground))

    def figure(self):
        from workbench.gui.plots.figure_export import heatmap_figure

        o = self.outcome
        amap = o.redesign.azimuth
        step = amap.azimuths_deg[1] - amap.azimuths_deg[0]
        y_edges = np.append(amap.azimuths_deg - step / 2, amap.azimuths_deg[-1] + step / 2)
        name = self.input_combo.currentText()
        ref = "re on-axis" if self.normalize_check.isChecked() else "re input"
        return heatmap_figure(self.image_db.T, 10.0 ** self.edges, y_edges,
                              title=f"{o.scene.name}: {o.params.method}, {name} input",
                              xlabel="frequency (Hz)", ylabel="azimuth (°, device frame)",
                              cbar_label=f"level (dB {ref})", vmin=self.levels[0],
                              vmax=self.levels[1], cmap=HEATMAP_COLORMAP, logx=True,
                              yticks=range(-180, 181, 45))
