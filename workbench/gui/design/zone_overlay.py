"""The listening-zone map drawn on the floor of the top-view editor, under the scene's items,
with a colour-bar legend in the view's bottom-right corner. Toggled by View ▸ Listening Zone.

The map is the redesign's `ZoneMap` (cancellation in dB for CTC and null steering;
attenuation re on-axis for a beam; the ILD error against the reference pair for the
virtualizer) on a 50 × 40 grid. Cells are coloured from the scale's dim end to its bright end
(0 to 25 dB of cancellation: the real-head ceiling, spatial.md takeaway 4; 0 to 30 dB for a
beam; 6 down to 0 dB of ILD error) and get more opaque toward the bright end, so the zone
stands out on the floor and the grid stays visible elsewhere; cells where no head fits (NaN)
are left clear. The Sweep's floor-map overlay (`workbench.gui.sweep.floor_overlay`) draws with
a `ZoneOverlay` too.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from workbench.gui.plots.base import ZONE_COLORMAP
from workbench.gui.shell.theme import SceneColors, current_theme

SCALE_DB = {"cancellation": (0.0, 25.0), "beam": (0.0, 30.0), "virtualization": (6.0, 0.0)}
"""Colour scale (value at the dim end, value at the bright end) per zone kind: the
virtualization's ILD error is better low, so its scale runs backwards."""
TITLES = {"cancellation": "Cancellation", "beam": "Attenuation re on-axis",
          "virtualization": "ILD error vs the reference pair"}
ALPHA_MAX = 0.85
ALPHA_MIN = {"dark": 0.3, "light": 0.1}
"""Opacity of the lowest values: enough to show the map's extent, not to drown the floor."""


def zone_rgba(values_db: np.ndarray, lo: float, hi: float, colormap: str = ZONE_COLORMAP,
              alpha_min: float = ALPHA_MIN["dark"]) -> np.ndarray:
    """RGBA bytes (ny, nx, 4) of a zone map: colour and opacity rise with the value; NaN
    cells are transparent."""
    t = np.clip((np.nan_to_num(values_db, nan=lo) - lo) / (hi - lo), 0.0, 1.0)
    rgba = pg.colormap.get(colormap).map(t.ravel(), mode="byte").reshape(*t.shape, 4)
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    alpha = 255 * (alpha_min + (ALPHA_MAX - alpha_min) * t)
    rgba[..., 3] = np.where(np.isfinite(values_db), alpha, 0).astype(np.uint8)
    return rgba


class ZoneImageItem(QGraphicsItem):
    """The zone map as an image over its grid's extent (room metres), below every item."""

    def __init__(self):
        super().__init__()
        self.setZValue(-5)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.image: QImage | None = None
        self._rect = QRectF()

    def set_image(self, rgba: np.ndarray | None, rect: QRectF) -> None:
        self.prepareGeometryChange()
        if rgba is None:
            self.image, self._rect = None, QRectF()
        else:
            h, w = rgba.shape[:2]
            self.image = QImage(rgba.tobytes(), w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
            self._rect = rect
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if self.image is None:
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        # Row 0 of the image is the smallest y: the view's flipped y puts it at the bottom.
        painter.drawImage(self._rect, self.image)


class ZoneLegend(QWidget):
    """Colour bar with ticks, a title and the zone's area, painted over the view."""

    WIDTH, HEIGHT = 236, 74

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("zoneLegend")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFixedSize(self.WIDTH, self.HEIGHT)
        self.title = ""
        self.note = ""
        self.levels = SCALE_DB["cancellation"]
        self.threshold_db: float | None = None
        self.colors: SceneColors | None = None
        self.alpha_min = ALPHA_MIN["dark"]

    def paintEvent(self, event) -> None:
        if self.colors is None:
            return
        c = self.colors
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        back = QColor(c.background)
        back.setAlpha(215)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(back)
        p.drawRoundedRect(QRectF(self.rect()), 6, 6)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 0.85)
        p.setFont(font)
        p.setPen(QColor(c.label_text))
        p.drawText(QRectF(10, 4, self.WIDTH - 20, 16), Qt.AlignmentFlag.AlignLeft, self.title)
        bar = QRectF(10, 24, self.WIDTH - 20, 11)
        lo, hi = self.levels
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        stops = np.linspace(0.0, 1.0, 9)
        rgba = zone_rgba(lo + stops * (hi - lo), lo, hi, alpha_min=self.alpha_min)
        for s, (r, g, b, a) in zip(stops, rgba, strict=True):
            grad.setColorAt(float(s), QColor(int(r), int(g), int(b), int(a)))
        p.setBrush(grad)
        p.setPen(QPen(QColor(c.label_text), 0.6))
        p.drawRect(bar)
        low, high = min(lo, hi), max(lo, hi)
        for v in np.arange(low, high + 0.1, 5.0 if high - low > 10.0 else 2.0):
            x = bar.left() + (v - lo) / (hi - lo) * bar.width()
            p.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 3))
            p.drawText(QRectF(x - 15, bar.bottom() + 3, 30, 14), Qt.AlignmentFlag.AlignCenter,
                       f"{v:g}")
        if self.threshold_db is not None and low < self.threshold_db < high:
            x = bar.left() + (self.threshold_db - lo) / (hi - lo) * bar.width()
            p.setPen(QPen(QColor(c.selection), 2.0))
            p.drawLine(QPointF(x, bar.top() - 2), QPointF(x, bar.bottom() + 2))
        p.setPen(QColor(c.label_text))
        p.drawText(QRectF(10, 54, self.WIDTH - 20, 16), Qt.AlignmentFlag.AlignLeft, self.note)
        p.end()


class ZoneOverlay(QObject):
    """A map image and its legend on a SceneView (`view`): the listening zone (`set_zone`) or
    any values on a regular floor grid (`show_grid`: the Sweep's floor map); `values_db` is
    what is drawn. legend_row: the legend's place counted up from the bottom-right corner
    (overlays shown together stack their legends)."""

    MARGIN_PX = 10

    def __init__(self, view, colors: SceneColors, legend_row: int = 0):
        super().__init__(view)
        self.view = view
        self.legend_row = legend_row
        self.item = ZoneImageItem()
        view.scene().addItem(self.item)
        self.legend = ZoneLegend(view.viewport())
        self.legend.colors = colors
        self.legend.alpha_min = ALPHA_MIN[current_theme()]
        self.zone = None
        self.values_db: np.ndarray | None = None
        self._grid: tuple = (None,)  # show_grid's arguments, to redraw in another theme
        self.enabled = True
        self.item.setVisible(False)
        self.legend.setVisible(False)
        view.resized.connect(self._place_legend)
        self._place_legend()

    def _place_legend(self) -> None:
        vp = self.view.viewport()
        # Bottom right: the scale bar is bottom left, the room's name label at the top.
        step = self.legend.height() + self.MARGIN_PX
        self.legend.move(vp.width() - self.legend.width() - self.MARGIN_PX,
                         vp.height() - step * (self.legend_row + 1))

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        self._update_visibility()

    def _update_visibility(self) -> None:
        shown = self.enabled and self.values_db is not None
        self.item.setVisible(shown)
        self.legend.setVisible(shown)

    def set_zone(self, zone, updating: bool = False) -> None:
        """Show a `dsp.analysis.ZoneMap` (None: nothing); updating: a newer one is coming."""
        self.zone = zone
        if zone is None:
            self.show_grid(None)
            return
        self.show_grid(zone.value_db, zone.x_m, zone.y_m,
                       SCALE_DB.get(zone.kind, SCALE_DB["cancellation"]),
                       f"{TITLES.get(zone.kind, zone.kind)} (dB), {zone.band_hz[0]:g} Hz–"
                       f"{zone.band_hz[1] / 1000:g} kHz",
                       f"{zone.criterion}: {zone.area_m2:.2f} m²"
                       + ("  · updating…" if updating else ""), zone.threshold_db)

    def show_grid(self, values_db: np.ndarray | None, x_m: np.ndarray | None = None,
                  y_m: np.ndarray | None = None, levels: tuple[float, float] = (0.0, 1.0),
                  title: str = "", note: str = "", threshold_db: float | None = None) -> None:
        """Draw values_db (ny, nx) on the floor cells centred on x_m (nx,), y_m (ny,) (equal
        steps, m), coloured from levels[0] to levels[1] dB, with the legend's title, note and
        threshold mark; values_db None: nothing."""
        self._grid = (values_db, x_m, y_m, levels, title, note, threshold_db)
        self.values_db = values_db
        if values_db is None:
            self.item.set_image(None, QRectF())
        else:
            dx = x_m[1] - x_m[0] if x_m.size > 1 else 0.1
            dy = y_m[1] - y_m[0] if y_m.size > 1 else 0.1
            rect = QRectF(x_m[0] - dx / 2, y_m[0] - dy / 2, dx * x_m.size, dy * y_m.size)
            self.item.set_image(zone_rgba(values_db, *levels, alpha_min=self.legend.alpha_min),
                                rect)
            lg = self.legend
            lg.levels, lg.threshold_db, lg.title, lg.note = levels, threshold_db, title, note
            lg.update()
        self._update_visibility()
        self.view.viewport().update()

    def apply_theme(self, colors: SceneColors) -> None:
        self.legend.colors = colors
        self.legend.alpha_min = ALPHA_MIN[current_theme()]
        self.show_grid(*self._grid)

    def figure(self, scene, method: str):
        """The zone map as a matplotlib figure, with the room, drivers and listeners."""
        from workbench.gui.plots.base import print_colors
        from workbench.gui.plots.figure_export import Marker, zone_figure

        z = self.zone
        lo, hi = SCALE_DB.get(z.kind, SCALE_DB["cancellation"])
        # matplotlib wants vmin < vmax: a backwards scale is the reversed colour map.
        cmap = ZONE_COLORMAP if lo < hi else f"{ZONE_COLORMAP}_r"
        c = print_colors()
        markers = [Marker(float(x), float(y), "", c.driver, "o")
                   for x, y, _z in scene.device.driver_positions()]
        markers += [Marker(li.position_m[0], li.position_m[1], li.name, c.listener, "s")
                    for li in scene.listeners]
        return zone_figure(z.value_db, z.x_m, z.y_m, title=f"{scene.name}: {method} listening"
                           f" zone ({z.criterion}: {z.area_m2:.2f} m²)",
                           cbar_label=f"{TITLES.get(z.kind, z.kind).lower()} (dB), "
                                      f"{z.band_hz[0]:g}–{z.band_hz[1]:g} Hz",
                           vmin=min(lo, hi), vmax=max(lo, hi), cmap=cmap, markers=markers,
                           outline=scene.room.floor_polygon())
