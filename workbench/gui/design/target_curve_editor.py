"""Editor of the target cancellation-gain curve (`dsp.target_curve.TargetCurve`): draggable
points on a dB-over-log-frequency plot.

Drag a point to move it (kept between its neighbours and within 0..60 dB); double-click empty
space to add a point there, double-click a point to remove it (two at least). Undo steps back
through the editor's own history, one step per gesture; Reset returns to the default curve.
`curveChanged(TargetCurve)` is emitted while dragging (the design controller coalesces the
redesigns) and after every other edit.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from dsp.target_curve import TargetCurve
from workbench.gui.plots.base import set_freq_axis, style_plot
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors
from workbench.gui.shell.widgets import push_button

F_MIN_HZ, F_MAX_HZ = 20.0, 24000.0
GAIN_MIN_DB, GAIN_MAX_DB = 0.0, 60.0
MIN_GAP_DECADES = 0.02
SHOWN_DB = (0.0, 40.0)


class _Handles(pg.ScatterPlotItem):
    """The curve's points; dragging one moves it, double-clicking one removes it."""

    def __init__(self, editor: TargetCurveEditor):
        super().__init__(size=11, pxMode=True)
        self.editor = editor
        self._dragged: int | None = None

    def mouseDragEvent(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            hit = self.pointsAt(ev.buttonDownPos())
            if len(hit) == 0:
                ev.ignore()
                return
            self._dragged = hit[0].index()
            self.editor.begin_gesture()
        elif self._dragged is None:
            ev.ignore()
            return
        pos = ev.pos()
        self.editor.move_point(self._dragged, 10.0 ** pos.x(), pos.y(), record=False)
        if ev.isFinish():
            self._dragged = None
        ev.accept()

    def mouseClickEvent(self, ev) -> None:
        hit = self.pointsAt(ev.pos())
        if ev.double() and ev.button() == Qt.MouseButton.LeftButton and len(hit):
            self.editor.remove_point(hit[0].index())
            ev.accept()
        else:
            ev.ignore()


class TargetCurveEditor(QWidget):
    """Plot with draggable points, Undo and Reset buttons."""

    curveChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._curve = TargetCurve.default()
        self._history: list[TargetCurve] = []
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("targetCurvePlot")
        self.plot.setMinimumHeight(150)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        set_freq_axis(self.plot, F_MIN_HZ, 20000.0)
        self.plot.setLabel("left", "target (dB)")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setXRange(np.log10(F_MIN_HZ), np.log10(F_MAX_HZ), padding=0.02)
        self.plot.setYRange(*SHOWN_DB, padding=0.05)
        self.line = self.plot.plot()
        self.handles = _Handles(self)
        self.plot.addItem(self.handles)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_click)
        self.undo_button = push_button("Undo", "targetUndo",
                                       "Undo the last edit of the target curve")
        self.reset_button = push_button("Reset", "targetReset", "Back to the default target curve")
        self.undo_button.clicked.connect(self.undo)
        self.reset_button.clicked.connect(self.reset)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addStretch(1)
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addLayout(buttons)
        self.setToolTip("Drag points; double-click to add or remove one")
        self.apply_theme(scene_colors(current_theme()))
        self._redraw()

    # -- model -----------------------------------------------------------------------------------
    def curve(self) -> TargetCurve:
        return self._curve

    def set_curve(self, curve: TargetCurve) -> None:
        """Show `curve` (from the parameters) without emitting or recording a step."""
        if curve != self._curve:
            self._curve = curve
            self._redraw()

    def points(self) -> list[tuple[float, float]]:
        return list(zip(self._curve.freqs_hz, self._curve.gains_db, strict=True))

    def _commit(self, freqs, gains, record: bool) -> None:
        new = TargetCurve(tuple(float(f) for f in freqs), tuple(float(g) for g in gains))
        if new == self._curve:
            return
        if record:
            self._history.append(self._curve)
        self._curve = new
        self._redraw()
        self.curveChanged.emit(new)

    def begin_gesture(self) -> None:
        """Start of a drag: the curve before it becomes one undo step."""
        self._history.append(self._curve)

    def move_point(self, index: int, freq_hz: float, gain_db: float, record: bool = True) -> None:
        """Move point `index`, kept between its neighbours (log frequency) and in 0..60 dB."""
        f = list(self._curve.freqs_hz)
        g = list(self._curve.gains_db)
        lx = np.log10(np.clip(freq_hz, F_MIN_HZ, F_MAX_HZ))
        lo = np.log10(f[index - 1]) + MIN_GAP_DECADES if index > 0 else np.log10(F_MIN_HZ)
        hi = np.log10(f[index + 1]) - MIN_GAP_DECADES if index < len(f) - 1 \
            else np.log10(F_MAX_HZ)
        f[index] = round(float(10.0 ** np.clip(lx, lo, hi)), 1)
        g[index] = round(float(np.clip(gain_db, GAIN_MIN_DB, GAIN_MAX_DB)), 1)
        self._commit(f, g, record)

    def add_point(self, freq_hz: float, gain_db: float) -> None:
        f = float(np.clip(freq_hz, F_MIN_HZ, F_MAX_HZ))
        pts = self.points()
        if any(abs(np.log10(f) - np.log10(pf)) < MIN_GAP_DECADES for pf, _g in pts):
            return
        pts.append((round(f, 1), round(float(np.clip(gain_db, GAIN_MIN_DB, GAIN_MAX_DB)), 1)))
        pts.sort()
        self._commit([p[0] for p in pts], [p[1] for p in pts], True)

    def remove_point(self, index: int) -> None:
        pts = self.points()
        if len(pts) <= 2:
            return
        del pts[index]
        self._commit([p[0] for p in pts], [p[1] for p in pts], True)

    def undo(self) -> None:
        while self._history:
            previous = self._history.pop()
            if previous != self._curve:
                self._curve = previous
                self._redraw()
                self.curveChanged.emit(previous)
                return

    def reset(self) -> None:
        default = TargetCurve.default()
        self._commit(default.freqs_hz, default.gains_db, True)

    # -- view ------------------------------------------------------------------------------------
    def _on_scene_click(self, ev) -> None:
        if not ev.double() or ev.button() != Qt.MouseButton.LeftButton or ev.isAccepted():
            return
        vb = self.plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = vb.mapSceneToView(ev.scenePos())
        if len(self.handles.pointsAt(self.handles.mapFromScene(ev.scenePos()))):
            return
        self.add_point(10.0 ** p.x(), p.y())

    def _redraw(self) -> None:
        x = np.log10(np.array(self._curve.freqs_hz))
        y = np.array(self._curve.gains_db)
        ends_x = np.concatenate([[np.log10(F_MIN_HZ)], x, [np.log10(F_MAX_HZ)]])
        ends_y = np.concatenate([y[:1], y, y[-1:]])  # held constant beyond the end points
        self.line.setData(ends_x, ends_y)
        self.handles.setData(x, y)
        self.undo_button.setEnabled(bool(self._history))

    def apply_theme(self, colors: SceneColors) -> None:
        style_plot(self.plot, colors)
        self.line.setPen(pg.mkPen(colors.selection, width=2.0))
        self.handles.setBrush(pg.mkBrush(colors.selection))
        self.handles.setPen(pg.mkPen(colors.background, width=1.5))
