"""The polar map of one driver or microphone: the design's `PolarView` (rings, angle labels,
frequency choice, Save Figure…) fed with that part's own far-field pattern instead of a design.

The pattern is `sim.freefield.farfield_circle` of the part alone (its directivity, axis and
gain), in the device's horizontal plane, as dB re a unit-gain omni; the dashed ray is the
part's axis azimuth. Drawn in the device frame seen from above, front up, as every polar plot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from dsp.analysis import AzimuthMap
from sim.freefield import farfield_circle
from sim.scene import Device, Driver, Scene, Transducer
from workbench.gui.plots.polar import CHOICES, RING_STEP_DB, PolarView, radius, to_xy

AZIMUTHS_DEG = np.arange(-180.0, 180.0, 1.0)
FREQS_HZ = np.unique(np.r_[np.geomspace(200.0, 10000.0, 48),
                           [f for _label, lo, hi in CHOICES for f in (lo, hi)]])
"""Map frequencies: a log grid and every frequency the polar's choices name exactly."""


@dataclass(frozen=True)
class PartPolar:
    """What the view draws: the part's `name`, its axis azimuth (deg) and its map (one input)."""

    name: str
    axis_az_deg: float
    azimuth: AzimuthMap


def part_polar(scene: Scene, part: Transducer) -> PartPolar:
    """The far-field map of `part` alone (placed at the device origin, unturned)."""
    driver = part if isinstance(part, Driver) else Driver(part.name, (0.0, 0.0, 0.0),
                                                          part.axis_deg, part.directivity)
    alone = Device(part.name, (0.0, 0.0, 0.0), drivers=(driver,))
    h = farfield_circle(alone, FREQS_HZ, AZIMUTHS_DEG, c=scene.simulation.c_m_s,
                        fs_hz=scene.simulation.fs_hz)  # (F, 1, A)
    level = 20.0 * np.log10(np.abs(h[:, 0, :]) + 1e-12)[None]
    return PartPolar(part.name, float(part.axis_deg[0]),
                     AzimuthMap(FREQS_HZ, AZIMUTHS_DEG, level))


class PartPolarView(PolarView):
    """Polar cut of one part at the chosen frequency or band (`set_outcome(PartPolar)`)."""

    figure_name = "driver-polar"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.choice_combo.setObjectName("partPolarFrequency")
        self.plot.setObjectName("partPolarPlot")
        self.clear("Select a driver or a microphone.")

    @property
    def normalized(self) -> bool:
        return False  # re a unit omni: an aimed part's cut is not re the device front

    def redraw(self) -> None:
        o = self.outcome
        if o is None:
            return
        lo, hi = self.band
        amap = o.azimuth
        cut = amap.polar(lo, False) if lo == hi else amap.polar_band(lo, hi, False)
        self.cut_db = cut
        self.top_db = RING_STEP_DB * np.ceil(float(np.max(cut)) / RING_STEP_DB)
        self._label_rings()
        for key in [k for k in self.curves if k != "part"]:
            self.remove_curve(key)
        if "part" not in self.curves:
            self.curves["part"] = self.plot.plot()
        az = np.append(amap.azimuths_deg, amap.azimuths_deg[:1] + 360.0)
        x, y = to_xy(az, radius(np.append(cut[0], cut[0, :1]), self.top_db))
        self.curves["part"].setData(x, y, pen=pg.mkPen(self.colors.listener, width=2.2))
        if not self.rays:
            self.rays.append(self.plot.plot())
        x, y = to_xy(np.array([o.axis_az_deg] * 2), np.array([0.0, 1.0]))
        self.rays[0].setData(x, y, pen=pg.mkPen(self.colors.selection, width=1.2,
                                                style=Qt.PenStyle.DashLine))
        self.info_label.setText(f"{o.name}: dB re omni")

    def figure(self):
        from workbench.gui.plots.base import print_colors
        from workbench.gui.plots.figure_export import Series, polar_figure

        o = self.outcome
        lo, hi = self.band
        freq = f"{lo:g} Hz" if lo == hi else f"{lo:g}–{hi:g} Hz band"
        return polar_figure(o.azimuth.azimuths_deg,
                            [Series(o.azimuth.azimuths_deg, self.cut_db[0], o.name,
                                    print_colors().listener, 2.0)],
                            r_min_db=self.top_db - 40.0, r_max_db=self.top_db,
                            rays=[(o.axis_az_deg, "axis")],
                            title=f"{o.name}: polar response, {freq} (dB re omni)")
