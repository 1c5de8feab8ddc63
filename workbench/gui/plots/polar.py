"""Polar plot of the design's far-field response at a chosen frequency or band.

The cut comes from the redesign's azimuth-frequency map (`AzimuthMap.polar` /
`polar_band`): for a beam in dB re on-axis (its reference direction), for the CTC family in
dB re the input (their on-axis direction is a point between the ears, not a reference). The
radial scale spans 40 dB below its top ring. Drawn in the device frame seen from above: 0°
(the device's front) at the top, angles counter-clockwise, so the device's left is on the
left. Dashed rays mark the listener's direction and, for a beam, the null angles.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from workbench.gui.plots.base import PlotPane, input_color, print_colors
from workbench.gui.shell.theme import SceneColors

SPAN_DB = 40.0
RING_STEP_DB = 10.0
ON_AXIS_TOP_DB = 10.0
RING_LABEL_AZ_DEG = -163.0
CHOICES: tuple[tuple[str, float, float], ...] = (
    ("250 Hz", 250.0, 250.0), ("500 Hz", 500.0, 500.0), ("1 kHz", 1000.0, 1000.0),
    ("2 kHz", 2000.0, 2000.0), ("4 kHz", 4000.0, 4000.0), ("8 kHz", 8000.0, 8000.0),
    ("0.5–2 kHz band", 500.0, 2000.0), ("1–4 kHz band", 1000.0, 4000.0),
    ("0.4–8 kHz band", 400.0, 8000.0),
)
DEFAULT_CHOICE = 2  # 1 kHz


def radius(db: np.ndarray, top_db: float) -> np.ndarray:
    """Plot radius (0 at top − SPAN_DB, 1 at top) of levels in dB, clipped to the range."""
    return np.clip((np.asarray(db) - top_db) / SPAN_DB + 1.0, 0.0, 1.0)


def to_xy(az_deg: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Screen coordinates: 0° up, counter-clockwise positive (device frame from above)."""
    a = np.radians(az_deg)
    return -r * np.sin(a), r * np.cos(a)


def direction_in_device_frame(scene, point) -> float:
    """Azimuth (deg, device frame) of a room point seen from the device."""
    dx, dy = point[0] - scene.device.position_m[0], point[1] - scene.device.position_m[1]
    a = math.degrees(math.atan2(dy, dx)) - scene.device.yaw_deg
    return (a + 180.0) % 360.0 - 180.0


class PolarView(PlotPane):
    """Polar cuts of every input at the chosen frequency / band."""

    figure_name = "polar"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.cut_db: np.ndarray | None = None  # (I, A) what is drawn, dB
        self.top_db = ON_AXIS_TOP_DB
        self.choice_combo = QComboBox()
        self.choice_combo.setObjectName("polarFrequency")
        for label, lo, hi in CHOICES:
            self.choice_combo.addItem(label, (lo, hi))
        self.choice_combo.setCurrentIndex(DEFAULT_CHOICE)
        self.controls.addWidget(QLabel("At"))
        self.controls.addWidget(self.choice_combo)
        self.controls.addSpacing(8)
        self.info_label = self.add_info_label()
        self.finish_controls()

        p = self.plot
        p.setObjectName("polarPlot")
        p.showGrid(x=False, y=False)
        p.setAspectLocked(True)
        for name in ("left", "bottom"):
            p.hideAxis(name)
        p.setMenuEnabled(False)
        p.addLegend(offset=(-4, 4))
        self._grid_items: list = []
        self._labels: list[pg.TextItem] = []
        self._ring_labels: list[pg.TextItem] = []
        self._build_grid()
        self.rays: list[pg.PlotDataItem] = []
        p.setRange(xRange=(-1.15, 1.75), yRange=(-1.15, 1.15), padding=0)
        self.choice_combo.currentIndexChanged.connect(lambda _i: self.redraw())
        self.apply_theme(self.colors)
        self.show_message("No design yet.")

    def _build_grid(self) -> None:
        t = np.linspace(0.0, 360.0, 241)
        n_rings = int(SPAN_DB / RING_STEP_DB)
        for k in range(1, n_rings + 1):
            r = k / n_rings
            x, y = to_xy(t, np.full(t.size, r))
            self._grid_items.append(self.plot.plot(x, y))
            if k == n_rings:
                break  # the outer ring's level is in the scale note (its label would hit 180°)
            label = pg.TextItem("", anchor=(0.0, 0.5))
            lx, ly = to_xy(np.array([RING_LABEL_AZ_DEG]), np.array([r]))
            label.setPos(float(lx[0]), float(ly[0]))
            self.plot.addItem(label)
            self._ring_labels.append(label)
        for a in range(0, 360, 30):
            x, y = to_xy(np.array([float(a), float(a)]), np.array([0.0, 1.0]))
            self._grid_items.append(self.plot.plot(x, y))
            shown = a if a <= 180 else a - 360
            label = pg.TextItem(f"{shown}°", anchor=(0.5, 0.5))
            lx, ly = to_xy(np.array([float(a)]), np.array([1.08]))
            label.setPos(float(lx[0]), float(ly[0]))
            self.plot.addItem(label)
            self._labels.append(label)
        # The outer ring's level, pinned to the plot's bottom-left corner.
        self.scale_note = pg.LabelItem("", justify="left", size="8pt")
        self.scale_note.setParentItem(self.plot.getPlotItem().getViewBox())
        self.scale_note.anchor(itemPos=(0, 1), parentPos=(0, 1), offset=(4, -4))
        self._label_rings()

    def _label_rings(self) -> None:
        n = len(self._ring_labels) + 1
        for k, label in enumerate(self._ring_labels, start=1):
            db = self.top_db - (n - k) * RING_STEP_DB
            label.setText(f"{db:+g} dB" if db else "0 dB")
        self.scale_note.setText(f"outer ring {self.top_db:+g} dB<br>{RING_STEP_DB:g} dB / ring",
                                color=self.colors.plot_foreground)

    # -- data ------------------------------------------------------------------------------------
    @property
    def band(self) -> tuple[float, float]:
        return self.choice_combo.currentData()

    @property
    def normalized(self) -> bool:
        """dB re on-axis (beam) rather than re the input."""
        return self.outcome is not None and self.outcome.params.method == "beam"

    def erase(self) -> None:
        self.cut_db = None
        for curve in self.curves.values():
            curve.setData([], [])
        for ray in self.rays:
            self.plot.removeItem(ray)
        self.rays = []
        self.info_label.setText("")

    def redraw(self) -> None:
        o = self.outcome
        if o is None:
            return
        amap = o.redesign.azimuth
        lo, hi = self.band
        norm = self.normalized
        cut = amap.polar(lo, norm) if lo == hi else amap.polar_band(lo, hi, norm)
        self.cut_db = cut
        self.top_db = ON_AXIS_TOP_DB if norm else \
            RING_STEP_DB * math.ceil(float(np.max(cut)) / RING_STEP_DB)
        self._label_rings()
        names = o.filters.input_names
        for name in list(self.curves):
            if name not in names:
                self.plot.removeItem(self.curves.pop(name))
        az = np.append(amap.azimuths_deg, amap.azimuths_deg[:1] + 360.0)
        for i, name in enumerate(names):
            if name not in self.curves:
                self.curves[name] = self.plot.plot(name=f"{name} input")
            x, y = to_xy(az, radius(np.append(cut[i], cut[i, :1]), self.top_db))
            self.curves[name].setData(x, y)
            self.curves[name].setPen(pg.mkPen(input_color(self.colors, name, i), width=2.2))
        wanted = self._ray_angles()
        while len(self.rays) > len(wanted):
            self.plot.removeItem(self.rays.pop())
        while len(self.rays) < len(wanted):
            self.rays.append(self.plot.plot())
        for ray, (angle, _kind, color, style) in zip(self.rays, wanted, strict=True):
            x, y = to_xy(np.array([angle, angle]), np.array([0.0, 1.0]))
            ray.setData(x, y, pen=pg.mkPen(color, width=1.2, style=style))
        self.info_label.setText(f"dB re {'on-axis' if norm else 'input'}")

    def _ray_angles(self) -> list[tuple[float, str, str, Qt.PenStyle]]:
        """(angle, "listener" or "null", colour, pen style) of the marked directions."""
        o = self.outcome
        rays = []
        scene, p = o.scene, o.params
        if 0 <= p.listener < len(scene.listeners):
            rays.append((direction_in_device_frame(scene, scene.listeners[p.listener].position_m),
                         "listener", self.colors.listener, Qt.PenStyle.DashLine))
        if p.method == "beam":
            rays += [(float(a), "null", self.colors.error, Qt.PenStyle.DotLine)
                     for a in p.null_angles_deg]
        return rays

    # -- theme and figure --------------------------------------------------------------------------
    def restyle(self, colors: SceneColors) -> None:
        grid = pg.mkColor(colors.plot_foreground)
        grid.setAlpha(70)
        for item in self._grid_items:
            item.setPen(pg.mkPen(grid, width=1.0))
        for label in self._labels + self._ring_labels:
            label.setColor(colors.plot_foreground)
        self._label_rings()

    def figure(self):
        from workbench.gui.plots.figure_export import Series, polar_figure

        o = self.outcome
        amap = o.redesign.azimuth
        series = [Series(amap.azimuths_deg, self.cut_db[i], f"{name} input",
                         input_color(print_colors(), name, i), 2.0)
                  for i, name in enumerate(o.filters.input_names)]
        rays = [(a, kind) for a, kind, _c, _s in self._ray_angles()]
        lo, hi = self.band
        freq = f"{lo:g} Hz" if lo == hi else f"{lo:g}–{hi:g} Hz band"
        ref = "re on-axis" if self.normalized else "re input"
        return polar_figure(amap.azimuths_deg, series, r_min_db=self.top_db - SPAN_DB,
                            r_max_db=self.top_db, rays=rays,
                            title=f"{o.scene.name}: {o.params.method} polar response, {freq}"
                                  f" (dB {ref})")
