"""What the plots share: a "no data yet" placeholder over every empty pyqtgraph plot (instead of
axes from nowhere to nowhere); for the design plot docks a pane with a row of controls, a message
line and a plot; theme styling; logarithmic frequency ticks; series colours; Save Figure."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors

FREQ_MAJOR_HZ = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)
SERIES_COLORS = ("#4e9af1", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2",
                 "#edc948", "#ff9da7", "#9c755f", "#bab0ac")
"""Colours of per-driver curves (readable on the dark and the light background)."""

HEATMAP_COLORMAP = "inferno"
ZONE_COLORMAP = "viridis"
NO_DATA = "No data yet"


def plot_has_data(item: pg.PlotItem) -> bool:
    """True when a shown curve, scatter, image or bar graph of the plot holds anything (lines,
    regions, labels and legends are not data)."""
    for it in item.items:
        if not it.isVisible():
            continue
        if isinstance(it, pg.ImageItem):
            if it.image is not None:
                return True
        elif isinstance(it, (pg.PlotDataItem, pg.PlotCurveItem)):
            x = it.getData()[0]
            if x is not None and len(x):
                return True
        elif isinstance(it, pg.ScatterPlotItem):
            if len(it.data):
                return True
        elif isinstance(it, pg.BarGraphItem):
            return True
    return False


class EmptyPlotPlaceholder(QWidget):
    """A message (`text()`) covering a pyqtgraph plot, in the plot's colours, while the plot
    is empty. `is_empty()` decides (default: no `plot_has_data`); the placeholder asks again
    on `refresh()` and whenever the plot repaints (any change of what it shows repaints it
    while it is on screen). Not marked opaque, so the plot below still gets its paints."""

    def __init__(self, plot: pg.PlotWidget, text: str = NO_DATA, is_empty=None):
        super().__init__(plot)
        self.setObjectName("plotPlaceholder")
        self.plot = plot
        self._text = text
        self._is_empty = is_empty or (lambda: not plot_has_data(plot.getPlotItem()))
        self.setGeometry(plot.rect())
        plot.installEventFilter(self)
        plot.viewport().installEventFilter(self)
        self.refresh()

    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        self._text = text
        self.update()

    def refresh(self, *_changed) -> None:
        empty = bool(self._is_empty())
        if empty == self.isHidden():
            self.setHidden(not empty)
            if empty:
                self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.plot and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.plot.rect())
        elif event.type() == QEvent.Type.Paint and bool(self._is_empty()) == self.isHidden():
            QTimer.singleShot(0, self, self.refresh)  # not while the plot paints
        return False

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.plot.backgroundBrush())
        painter.setPen(self.plot.getAxis("bottom").textPen().color())
        painter.drawText(self.rect().adjusted(12, 8, -12, -8),
                         Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._text)


def install_placeholders(root: QWidget) -> None:
    """A placeholder over every pyqtgraph plot inside `root` that has none yet."""
    direct = Qt.FindChildOption.FindDirectChildrenOnly
    for plot in root.findChildren(pg.PlotWidget):
        if plot.findChild(EmptyPlotPlaceholder, options=direct) is None:
            EmptyPlotPlaceholder(plot)


def freq_ticks(lo_hz: float = 20.0, hi_hz: float = 24000.0) -> list:
    """pyqtgraph ticks for an axis in log10(Hz): labelled majors, unlabelled minors."""
    major = [f for f in FREQ_MAJOR_HZ if lo_hz <= f <= hi_hz]
    minor = [m * d for d in (10, 100, 1000) for m in (2, 3, 4, 5, 6, 7, 8, 9)
             if lo_hz <= m * d <= hi_hz and m * d not in FREQ_MAJOR_HZ]
    return [[(np.log10(f), f"{f // 1000}k" if f >= 1000 else str(f)) for f in major],
            [(np.log10(f), "") for f in minor]]


def set_freq_axis(plot: pg.PlotWidget, lo_hz: float = 20.0, hi_hz: float = 24000.0) -> None:
    axis = plot.getAxis("bottom")
    axis.enableAutoSIPrefix(False)
    axis.setLabel("frequency (Hz)")
    axis.setTicks(freq_ticks(lo_hz, hi_hz))


def input_color(colors: SceneColors, name: str, index: int) -> str:
    """Left input in the left-ear colour, right in the right-ear colour, others in turn."""
    if name == "left":
        return colors.left_ear
    if name == "right":
        return colors.right_ear
    return colors.listener if index == 0 else SERIES_COLORS[index % len(SERIES_COLORS)]


def set_combo_items(combo: QComboBox, names: list[str]) -> None:
    """Replace a combo's items when they differ, keeping the index (no signal)."""
    if [combo.itemText(i) for i in range(combo.count())] != names:
        keep = max(combo.currentIndex(), 0)
        combo.blockSignals(True)
        combo.clear()
        combo.addItems(names)
        combo.setCurrentIndex(min(keep, len(names) - 1))
        combo.blockSignals(False)


def print_colors() -> SceneColors:
    """Colours of exported figures (white paper whatever the app's theme)."""
    return scene_colors("light")


def style_plot(plot: pg.PlotWidget, colors: SceneColors) -> None:
    plot.setBackground(colors.plot_background)
    item = plot.getPlotItem()
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(colors.plot_foreground))
        axis.setTextPen(pg.mkPen(colors.plot_foreground))
    item.titleLabel.setText(item.titleLabel.text, color=colors.plot_foreground)
    if item.legend is not None:
        item.legend.setLabelTextColor(colors.plot_foreground)


class PlotPane(QWidget):
    """A control row (`controls`, with a Save Figure… button at its end), a message line and
    a `plot`, showing one design `Outcome`.

    Subclasses draw `self.outcome` in `redraw()` (curves they keep between redraws go in
    `curves`, by key), empty the plot in `erase()`, update their
    controls for a new outcome in `prepare(outcome)`, restyle in `restyle(colors)` and give
    their data to matplotlib in `figure()`. A pane that is hidden (a tab behind another)
    redraws when it is shown (`showEvent`, or `ensure_drawn` from its dock's visibility
    signal), not on every redesign.
    """

    figure_name = "plot"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.colors = scene_colors(current_theme())
        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(8, 4, 8, 0)
        self.save_button = QToolButton()
        self.save_button.setText("Save Figure…")
        self.save_button.setToolTip("Save this plot as PNG or PDF")
        self.save_button.setEnabled(False)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setVisible(False)
        self._message_is_error = False
        self.outcome = None
        self._stale = False
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(150)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        # Empty until there is an outcome (the polar grid is drawn even then).
        self.placeholder = EmptyPlotPlaceholder(self.plot, is_empty=lambda: self.outcome is None)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.addLayout(self.controls)
        layout.addWidget(self.message_label)
        layout.addWidget(self.plot, 1)
        self.save_button.clicked.connect(self._on_save_clicked)

    def add_info_label(self, name: str = "") -> QLabel:
        """A label in the control row that never widens the dock (long text is cut)."""
        label = QLabel()
        if name:
            label.setObjectName(name)
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        label.setMinimumWidth(40)
        self.controls.addWidget(label, 1)
        return label

    def finish_controls(self) -> None:
        """Call after adding the controls: the Save Figure… button at the end of the row."""
        self.controls.addStretch(0)
        self.controls.addWidget(self.save_button)

    # -- content ---------------------------------------------------------------------------------
    def set_outcome(self, outcome) -> None:
        """Show a design outcome (drawn now if visible, else when shown)."""
        self.outcome = outcome
        self.prepare(outcome)
        self.show_message("")
        self.save_button.setEnabled(True)
        self._stale = True
        self.placeholder.refresh()
        if self.on_screen():
            self.ensure_drawn()

    def clear(self, message: str = "", error: bool = False) -> None:
        """No design: an empty plot and `message` (a refusal in red when error)."""
        self.outcome = None
        self._stale = False
        self.erase()
        self.save_button.setEnabled(False)
        self.show_message(message, error)
        self.placeholder.refresh()

    def on_screen(self) -> bool:
        """Shown to the user. (A dock behind another tab stays `isVisible()` in Qt 6.11, only
        moved out of the window, so the visible region decides.)"""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def ensure_drawn(self) -> None:
        if self._stale and self.outcome is not None:
            self._stale = False
            self.redraw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.ensure_drawn()

    def remove_curve(self, key: str) -> None:
        """Take curve `key` off the plot and its legend."""
        curve = self.curves.pop(key)
        legend = self.plot.getPlotItem().legend
        if legend is not None:
            legend.removeItem(curve)
        self.plot.removeItem(curve)

    def prepare(self, outcome) -> None:
        """Controls that depend on the outcome (input lists…), before drawing."""

    def erase(self) -> None:
        """Remove the drawn data."""

    def show_message(self, text: str, error: bool = False) -> None:
        self._message_is_error = error
        c = self.colors
        self.message_label.setStyleSheet(
            f"color: {c.error if error else c.plot_foreground}; padding: 2px 8px;")
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    def apply_theme(self, colors: SceneColors) -> None:
        self.colors = colors
        style_plot(self.plot, colors)
        self.restyle(colors)
        if self.message_label.text():
            self.show_message(self.message_label.text(), self._message_is_error)
        self.redraw()

    def restyle(self, colors: SceneColors) -> None:
        """Pens and brushes of the subclass's items for `colors`."""

    def redraw(self) -> None:
        """Draw the current data."""

    def figure(self):
        raise NotImplementedError

    def _on_save_clicked(self) -> None:
        try:
            path = self.save_figure()
        except (OSError, ValueError) as e:
            self.show_message(f"Figure not saved: {e}", error=True)
            return
        if path is not None:
            self.show_message(f"Saved {path}")

    def save_figure(self, path=None):
        """Save the plot through matplotlib (asks for the file unless `path` is given)."""
        from workbench.gui.plots.figure_export import ask_figure_path, save_figure

        if path is None:
            path = ask_figure_path(self, f"{self.figure_name}.png")
            if path is None:
                return None
        self.ensure_drawn()
        return save_figure(self.figure(), path)
