"""The designed filters of one input, one curve per driver: magnitude, phase (modelling
delay removed), impulse response, and the realized effort over frequency against its cap.

Data: `dsp.analysis.filter_responses` (computed with the redesign, in the worker) and the
design's `effort_db` on its frequency grid.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from workbench.gui.plots.base import (
    SERIES_COLORS,
    PlotPane,
    print_colors,
    set_combo_items,
    set_freq_axis,
)
from workbench.gui.shell.theme import SceneColors

KINDS = (("magnitude", "Magnitude"), ("phase", "Phase"), ("impulse", "Impulse response"),
         ("effort", "Effort"))
F_LO_HZ = 20.0


class FilterView(PlotPane):
    """Filter responses of the chosen input, or the design's effort."""

    figure_name = "filters"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("filterKind")
        for key, label in KINDS:
            self.kind_combo.addItem(label, key)
        self.input_combo = QComboBox()
        self.input_combo.setObjectName("filterInput")
        self.input_combo.setMinimumContentsLength(6)
        self.controls.addWidget(self.kind_combo)
        self.controls.addSpacing(8)
        self.input_label = QLabel("Input")
        self.controls.addWidget(self.input_label)
        self.controls.addWidget(self.input_combo)
        self.controls.addSpacing(8)
        self.info_label = self.add_info_label()
        self.finish_controls()
        self.plot.setObjectName("filterPlot")
        self.plot.addLegend(offset=(-10, 10))
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self._drawn_kind = ""
        self.cap_line = pg.InfiniteLine(angle=0, movable=False)
        self.kind_combo.currentIndexChanged.connect(lambda _i: self.redraw())
        self.input_combo.currentIndexChanged.connect(lambda _i: self.redraw())
        self.apply_theme(self.colors)
        self.show_message("No design yet.")

    @property
    def kind(self) -> str:
        return self.kind_combo.currentData()

    def prepare(self, outcome) -> None:
        set_combo_items(self.input_combo, outcome.filters.input_names)

    def erase(self) -> None:
        for key in list(self.curves):
            self.remove_curve(key)
        self.series = {}
        self._drawn_kind = ""
        if self.cap_line.scene() is not None:
            self.plot.removeItem(self.cap_line)
        self.info_label.setText("")

    def _series(self) -> tuple[dict, dict]:
        """{label: (x, y)} of the chosen kind and input, and the axes' settings."""
        o = self.outcome
        fr = o.responses
        i = min(max(self.input_combo.currentIndex(), 0), o.filters.n_inputs - 1)
        drivers = o.filters.driver_names
        kind = self.kind
        if kind == "effort":
            d = o.redesign.design
            band = d.freqs_hz > 0
            return ({"effort": (d.freqs_hz[band], d.effort_db[band])},
                    {"log": True, "y": "effort (dB re one driver)", "cap": d.params.max_effort_db})
        if kind == "impulse":
            t_ms = 1e3 * fr.t_s
            return ({name: (t_ms, fr.impulse[i, k]) for k, name in enumerate(drivers)},
                    {"log": False, "x": "time (ms)", "y": "amplitude"})
        band = fr.freqs_hz > 0
        f = fr.freqs_hz[band]
        if kind == "phase":
            return ({name: (f, np.degrees(fr.phase_rad[i, k][band]))
                     for k, name in enumerate(drivers)},
                    {"log": True, "y": "phase (°, modelling delay removed)"})
        return ({name: (f, fr.magnitude_db[i, k][band]) for k, name in enumerate(drivers)},
                {"log": True, "y": "magnitude (dB)"})

    def redraw(self) -> None:
        o = self.outcome
        if o is None:
            return
        series, axes = self._series()
        self.series = series
        p = self.plot
        for key in [k for k in self.curves if k not in series]:
            self.remove_curve(key)
        kind_changed = self.kind != self._drawn_kind
        if kind_changed:
            self._drawn_kind = self.kind
            p.setLogMode(x=axes["log"], y=False)
            bottom = p.getAxis("bottom")
            if axes["log"]:
                set_freq_axis(p, F_LO_HZ, o.filters.fs_hz / 2)
            else:
                bottom.setTicks(None)
                bottom.setLabel(axes["x"])
            p.setLabel("left", axes["y"])
            self.input_label.setVisible(self.kind != "effort")
            self.input_combo.setVisible(self.kind != "effort")
        for k, (name, (x, y)) in enumerate(series.items()):
            if name not in self.curves:
                self.curves[name] = p.plot(name=name)
            color = self.colors.driver if name == "effort" else SERIES_COLORS[k % 10]
            self.curves[name].setData(x, y, pen=pg.mkPen(color, width=1.6))
        has_cap = "cap" in axes
        if has_cap:
            self.cap_line.setPos(axes["cap"])
        if has_cap and self.cap_line.scene() is None:
            p.addItem(self.cap_line)
        elif not has_cap and self.cap_line.scene() is not None:
            p.removeItem(self.cap_line)
        d = o.redesign.design
        self.info_label.setText(f"{o.filters.n_taps} taps · delay {o.filters.delay_samples}"
                                f" · effort {d.max_effort_db:.1f} dB")
        if kind_changed:
            p.enableAutoRange()
            if axes["log"]:
                p.setXRange(np.log10(F_LO_HZ), np.log10(o.filters.fs_hz / 2), padding=0)
        if self.kind == "magnitude":
            top = 5.0 * np.ceil(max(float(np.max(y)) for _x, y in series.values()) / 5.0 + 0.2)
            p.setYRange(top - 60.0, top, padding=0)

    def restyle(self, colors: SceneColors) -> None:
        self.cap_line.setPen(pg.mkPen(colors.error, width=1.2, style=Qt.PenStyle.DashLine))

    def figure(self):
        from workbench.gui.plots.figure_export import Series, curves_figure

        o = self.outcome
        series, axes = self._series()
        c = print_colors()
        lines = [Series(x, y, name, c.driver if name == "effort" else SERIES_COLORS[k % 10],
                        1.4) for k, (name, (x, y)) in enumerate(series.items())]
        what = self.kind_combo.currentText().lower()
        title = f"{o.scene.name}: {o.params.method} filters, {what}"
        if self.kind != "effort":
            title += f", {self.input_combo.currentText()} input"
        return curves_figure(lines, title=title, ylabel=axes["y"], logx=axes["log"],
                             xlabel="" if axes["log"] else axes["x"],
                             xlim=(F_LO_HZ, o.filters.fs_hz / 2) if axes["log"] else None,
                             hlines=[(axes["cap"], "effort cap")] if "cap" in axes else ())
