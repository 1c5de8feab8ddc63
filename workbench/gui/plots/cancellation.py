"""Cancellation spectrum at the sweet spot: 1/3-octave ipsi/contra ratio of the left and the
right input, the worst of ± the probe displacement (dashed) and the design's target curve
(dotted); for a design on a measured plant, the same design on the simulated plant too
(dash-dotted). For a beam, the null depth (on-axis over null direction) per frequency instead.

A dotted line marks 25 dB: measured crosstalk cancellation with real heads tops out there
(research note spatial.md, takeaway 4); model figures above it are not to be trusted.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from dsp.summary import null_depth_spectrum, worst_cancellation_db
from workbench.gui.plots.base import (
    SERIES_COLORS,
    PlotPane,
    input_color,
    print_colors,
    set_freq_axis,
)
from workbench.gui.shell.theme import SceneColors

CEILING_DB = 25.0
BEAM_GOAL_DB = 15.0
F_LO_HZ, F_HI_HZ = 80.0, 20000.0
INPUTS = ("left", "right")


class CancellationView(PlotPane):
    """Cancellation (CTC family) or null depth (beam) over frequency."""

    figure_name = "cancellation"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.series: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # what is drawn
        self.info_label = self.add_info_label("cancellationInfo")
        self.finish_controls()
        p = self.plot
        p.setObjectName("cancellationPlot")
        p.setLogMode(x=True, y=False)
        set_freq_axis(p, F_LO_HZ, F_HI_HZ)
        p.setLabel("left", "cancellation (dB)")
        p.addLegend(offset=(-10, -10), colCount=2)
        self.reference = pg.InfiniteLine(pos=CEILING_DB, angle=0, movable=False)
        p.addItem(self.reference)
        self.apply_theme(self.colors)
        self.show_message("No design yet.")

    # -- curves, kept between redesigns (only their data changes while dragging) ---------------
    def _styles(self, o) -> dict[str, tuple[str, dict]]:
        """{key: (legend label, setData style)} of the curves for outcome o."""
        c = self.colors
        if o.params.method == "beam":
            return {f"null {a:+g}°": (f"null at {a:+g}°", {
                "pen": pg.mkPen(SERIES_COLORS[k % len(SERIES_COLORS)], width=2.0)})
                for k, a in enumerate(o.params.null_angles_deg)}
        styles = {}
        for k, name in enumerate(INPUTS):
            color = input_color(c, name, k)
            styles[name] = (f"{name} input", {
                # Left drawn wider underneath: equal curves (listener on axis) stay visible.
                "pen": pg.mkPen(color, width=3.2 if name == "left" else 1.8), "symbol": "o",
                "symbolSize": 5, "symbolBrush": color, "symbolPen": None})
        if o.probe is not None:
            for k, name in enumerate(INPUTS):
                styles[f"probe {name}"] = (f"±{o.probe_cm:g} cm, {name}", {
                    "pen": pg.mkPen(input_color(c, name, k), width=1.3,
                                    style=Qt.PenStyle.DashLine)})
        if o.redesign.simulated is not None:
            for k, name in enumerate(INPUTS):
                styles[f"simulated {name}"] = (f"simulated plant, {name}", {
                    "pen": pg.mkPen(input_color(c, name, k), width=1.3,
                                    style=Qt.PenStyle.DashDotLine)})
        styles["target"] = ("target", {"pen": pg.mkPen(c.plot_foreground, width=1.2,
                                                         style=Qt.PenStyle.DotLine)})
        return styles

    def _data(self, o) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        if o.params.method == "beam":
            amap = o.redesign.azimuth
            depth = null_depth_spectrum(amap, o.params.null_angles_deg)
            f = amap.freqs_hz[1:]
            return {f"null {a:+g}°": (f, depth[k, 1:])
                    for k, a in enumerate(o.params.null_angles_deg)}
        r = o.redesign.cancellation
        data = {name: (r.band_hz, getattr(r, name)) for name in INPUTS}
        if o.probe is not None:
            data.update({f"probe {name}": (o.probe.band_hz, getattr(o.probe, name))
                         for name in INPUTS})
        sim = o.redesign.simulated
        if sim is not None:
            data.update({f"simulated {name}": (sim.band_hz, getattr(sim, name))
                         for name in INPUTS})
        data["target"] = (r.band_hz, o.params.target_curve.at(r.band_hz))
        return data

    def erase(self) -> None:
        for key in list(self.curves):
            self.remove_curve(key)
        self.series = {}
        self.info_label.setText("")

    def redraw(self) -> None:
        o = self.outcome
        if o is None:
            return
        styles = self._styles(o)
        for key in [k for k in self.curves if k not in styles]:
            self.remove_curve(key)
        self.series = self._data(o)
        for key, (label, style) in styles.items():
            if key not in self.curves:
                self.curves[key] = self.plot.plot(name=label)
            x, y = self.series[key]
            self.curves[key].setData(x, y, **style)
        s = o.summary
        if o.params.method == "beam":
            worst = ", ".join(f"{a:+g}° {v:.1f}" for a, v in s.null_depth_db.items())
            self.info_label.setText(
                f"worst ⅓ octave {s.beam_band_hz[0] / 1000:g}–{s.beam_band_hz[1] / 1000:g} kHz:"
                f" {worst} dB · lobe ±{o.params.lobe_half_width_deg:g}° within "
                f"{s.lobe_deviation_db:.1f} dB")
            self.plot.setLabel("left", "null depth (dB)")
            self.reference.setPos(BEAM_GOAL_DB)
            self.plot.setYRange(-10.0, 60.0, padding=0)
        else:
            lo, hi = s.cancellation_band_hz
            text = f"sweet spot ≥ {s.cancellation_db:.1f} dB over {lo:g} Hz–{hi / 1000:g} kHz"
            if s.probe_db is not None:
                text += f" · ±{o.probe_cm:g} cm ≥ {s.probe_db:.1f} dB"
            if o.redesign.simulated is not None:
                sim = worst_cancellation_db(o.redesign.simulated, s.cancellation_band_hz)
                text = f"measured plant: {text} · simulated plant ≥ {sim:.1f} dB"
            self.info_label.setText(text)
            self.plot.setLabel("left", "cancellation (dB)")
            self.reference.setPos(CEILING_DB)
            self.plot.setYRange(-5.0, 45.0, padding=0)
        self.plot.setXRange(np.log10(F_LO_HZ), np.log10(F_HI_HZ), padding=0)

    def restyle(self, colors: SceneColors) -> None:
        self.reference.setPen(pg.mkPen(colors.plot_foreground, width=1.0,
                                       style=Qt.PenStyle.DotLine))

    def figure(self):
        from workbench.gui.plots.figure_export import Series, curves_figure

        o = self.outcome
        c = print_colors()
        series = []
        for k, (key, (x, y)) in enumerate(self.series.items()):
            name = key.split()[-1]
            if key == "target":
                series.append(Series(x, y, "target", "#5b6573", 1.2, ":"))
            elif key.startswith("probe"):
                series.append(Series(x, y, f"±{o.probe_cm:g} cm, {name}",
                                     input_color(c, name, k), 1.2, "--"))
            elif key.startswith("simulated"):
                series.append(Series(x, y, f"simulated plant, {name}",
                                     input_color(c, name, k), 1.2, "-."))
            elif key.startswith("null"):
                series.append(Series(x, y, f"null at {key.split()[1]}",
                                     SERIES_COLORS[k % len(SERIES_COLORS)], 1.8))
            else:
                series.append(Series(x, y, f"{name} input", input_color(c, name, k), 2.0,
                                     marker="o"))
        beam = o.params.method == "beam"
        return curves_figure(
            series, title=f"{o.scene.name}: {o.params.method}, "
                          + ("null depth" if beam else "cancellation at the sweet spot"),
            ylabel="null depth (dB)" if beam else "cancellation, ipsi/contra (dB)", logx=True,
            xlim=(F_LO_HZ, F_HI_HZ), ylim=(-10.0, 60.0) if beam else (-5.0, 45.0),
            hlines=[(BEAM_GOAL_DB, "15 dB goal")] if beam
            else [(CEILING_DB, "≈ real-head ceiling")])
