"""A close-up of the device in one projection (top or front) on a millimetre grid, where parts
are selected, dragged and aimed.

Projections (scene units are mm, Qt's y grows downwards):
- "top", seen from above with the front up, as the polar plot has it: screen x = −y,
  screen y = −x. Dragging a part sets its x and y; dragging its aim handle sets the azimuth.
- "front", seen from the front (from +x): screen x = +y, screen y = −z. Dragging a part sets
  its y and z; dragging its aim handle sets the elevation (the azimuth kept).

Drivers are circles of their radiating radius (or 6 mm), microphones small squares; each has
a line along its axis ending in a round handle. A drag shows where the part goes and commits
one edit when the mouse is released (`moveRequested`, `aimRequested`), snapped to 1 mm and
0.5°; the editor pushes it, and a refused edit is redrawn where the model has it. Where a
handle lies on a part (its axis along the line of sight) the part is grabbed: aim it in the
other view.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsView, QWidget

from sim.geometry import direction_from_angles
from sim.scene import Scene
from workbench.gui.device import parts
from workbench.gui.device.parts import Part
from workbench.gui.scene.scene_items import draw_grid
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors

HANDLE_MM = 40.0
"""Length of the aim line from a part to its handle."""
MIN_HALF_SPAN_MM = 120.0
MINOR_MM, MAJOR_MM = 5.0, 50.0
SNAP_DEG = 0.5


def to_screen(view: str, p_m) -> QPointF:
    """Scene point (mm) of a device-frame point (m) in projection `view`."""
    x, y, z = (1000.0 * float(v) for v in p_m)
    return QPointF(-y, -x) if view == "top" else QPointF(y, -z)


def from_screen(view: str, point: QPointF, old_m) -> tuple[float, float, float]:
    """Device-frame point (m) for a scene point of `view`, snapped to 1 mm; the coordinate the
    projection does not show is kept from `old_m`."""
    sx, sy = round(point.x()), round(point.y())
    x, _y, z = old_m
    if view == "top":
        return (-sy / 1000.0, -sx / 1000.0, z)
    return (x, sx / 1000.0, -sy / 1000.0)


def aim_from_screen(view: str, offset: QPointF, axis_deg) -> tuple[float, float]:
    """[azimuth, elevation] (deg, snapped to SNAP_DEG) for a handle dragged to `offset` (mm)
    from its part: the top view sets the azimuth, the front view the elevation."""
    az, el = axis_deg
    if view == "top":
        az = math.degrees(math.atan2(-offset.x(), -offset.y()))
    else:
        el = math.degrees(math.asin(max(-1.0, min(1.0, -offset.y() / HANDLE_MM))))
    return tuple(round(a / SNAP_DEG) * SNAP_DEG + 0.0 for a in (az, el))


def _axis_offset(view: str, axis_deg) -> QPointF:
    """Scene offset (mm) from a part to its aim handle."""
    return to_screen(view, direction_from_angles(*axis_deg) * HANDLE_MM / 1000.0)


class DeviceCanvas(QGraphicsView):
    """One projection of the scene's device. `selected` follows the editor; signals carry the
    user's gestures as new values: `partClicked(part)`, `moveRequested(part, position_m)`,
    `aimRequested(part, axis_deg)`."""

    partClicked = Signal(object)
    moveRequested = Signal(object, object)
    aimRequested = Signal(object, object)

    def __init__(self, view: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = view
        self.setObjectName(f"deviceCanvas_{view}")
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumSize(220, 180)
        self.colors = scene_colors(current_theme())
        self.model: Scene | None = None
        self.selected: Part | None = None
        self.markers: dict[Part, QGraphicsItem] = {}
        self.handles: dict[Part, QGraphicsItem] = {}
        self._drag: tuple[str, Part, QGraphicsItem, QPointF] | None = None
        self._extent = QRectF()

    # -- drawing ----------------------------------------------------------------------------------
    def set_model(self, scene: Scene, selected: Part | None) -> None:
        """Draw `scene`'s device with `selected` highlighted (refits when the extent grew)."""
        self.model, self.selected = scene, selected
        s = self.scene()
        s.clear()
        self.markers, self.handles = {}, {}
        for part in parts.all_parts(scene):
            self._draw_part(part)
        extent = self._wanted_extent()
        s.setSceneRect(extent.adjusted(-2000, -2000, 2000, 2000))
        if extent != self._extent:
            self._extent = extent
            self.fit()

    def _draw_part(self, part: Part) -> None:
        t = parts.part_of(self.model, part)
        c = self.colors
        chosen = part == self.selected
        color = QColor(c.driver if part[0] == "driver" else c.mic)
        pen = QPen(QColor(c.selection) if chosen else color.darker(140), 2.0 if chosen else 1.0)
        pen.setCosmetic(True)
        at = to_screen(self.view, t.position_m)
        s = self.scene()
        if part[0] == "driver":
            r = 1000.0 * (t.directivity.radius_m or 0.006)
            marker = s.addEllipse(-r, -r, 2 * r, 2 * r, pen, QBrush(color))
        else:
            marker = s.addRect(-3.0, -3.0, 6.0, 6.0, pen, QBrush(color))
        marker.setPos(at)
        marker.setZValue(2 if chosen else 1)
        marker.setData(0, ("part", part))
        tip = _axis_offset(self.view, t.axis_deg)
        line_pen = QPen(QColor(c.selection if chosen else c.axis), 1.5)
        line_pen.setCosmetic(True)
        s.addLine(at.x(), at.y(), at.x() + tip.x(), at.y() + tip.y(), line_pen).setZValue(0)
        handle = s.addEllipse(-3.5, -3.5, 7.0, 7.0, line_pen, QBrush(QColor(c.selection)))
        handle.setPos(at + tip)
        handle.setZValue(3)
        handle.setData(0, ("handle", part))
        text = s.addSimpleText(t.name)
        text.setBrush(QBrush(QColor(c.label_text)))
        text.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        text.setPos(at + QPointF(4.0, 4.0))
        self.markers[part], self.handles[part] = marker, handle

    def _wanted_extent(self) -> QRectF:
        pts = [to_screen(self.view, parts.part_of(self.model, p).position_m)
               for p in parts.all_parts(self.model)]
        xs = np.array([p.x() for p in pts] + [0.0])
        ys = np.array([p.y() for p in pts] + [0.0])
        half = max(MIN_HALF_SPAN_MM, float(np.max(np.abs(np.r_[xs, ys]))) + 2 * HANDLE_MM)
        half = MAJOR_MM * math.ceil(half / MAJOR_MM)
        return QRectF(-half, -half, 2 * half, 2 * half)

    def fit(self) -> None:
        self.fitInView(self._extent, Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit()

    def apply_theme(self, colors: SceneColors) -> None:
        self.colors = colors
        self.setBackgroundBrush(QColor(colors.background))
        if self.model is not None:
            self.set_model(self.model, self.selected)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, QColor(self.colors.background))
        draw_grid(painter, rect, ((MINOR_MM, self.colors.grid_minor),
                                  (MAJOR_MM, self.colors.grid_major)))
        pen = QPen(QColor(self.colors.axis), 0)
        painter.setPen(pen)
        painter.drawLine(QPointF(-10.0, 0.0), QPointF(10.0, 0.0))  # the device origin
        painter.drawLine(QPointF(0.0, -10.0), QPointF(0.0, 10.0))

    # -- gestures --------------------------------------------------------------------------------
    def _hit(self, pos) -> tuple[str, Part] | None:
        """The part or handle under viewport `pos`: parts first (the selected one on top), so a
        handle drawn over a part (an axis along the line of sight) never hides it."""
        hits = [item.data(0) for item in self.items(pos) if item.data(0)]
        return next((h for h in hits if h[0] == "part"), hits[0] if hits else None)

    def mousePressEvent(self, event) -> None:
        hit = self._hit(event.position().toPoint())
        if hit is None or event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        what, part = hit
        self.partClicked.emit(part)
        item = (self.markers if what == "part" else self.handles).get(part)
        if item is not None:
            self._drag = (what, part, item, self.mapToScene(event.position().toPoint()))
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if self._drag is None:
            super().mouseMoveEvent(event)
            return
        what, part, item, start = self._drag
        now = self.mapToScene(event.position().toPoint())
        item.setPos(item.pos() + now - start)
        self._drag = (what, part, item, now)

    def mouseReleaseEvent(self, event) -> None:
        if self._drag is None:
            super().mouseReleaseEvent(event)
            return
        what, part, item, _ = self._drag
        self._drag = None
        self.drop(what, part, item.pos())

    def drop(self, what: str, part: Part, point: QPointF) -> None:
        """A part (what "part") or its handle ("handle") released at scene point `point`."""
        t = parts.part_of(self.model, part)
        if what == "part":
            self.moveRequested.emit(part, from_screen(self.view, point, t.position_m))
        else:
            offset = point - to_screen(self.view, t.position_m)
            self.aimRequested.emit(part, aim_from_screen(self.view, offset, t.axis_deg))
