"""Graphics items of the top-view scene editor. They draw the model; they never edit it.

Item coordinates are room coordinates in metres (x right, y up: the view's transform flips y).
Small things (the device, heads, source symbols) are drawn at true size once they are big enough
on screen, and enlarged to a minimum on-screen size when zoomed out (`glyph_scale`), like map
symbols; positions stay exact. Labels are separate items that ignore the view transform, so text
stays upright and readable at every zoom.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from sim.scene import Device, Listener, Room, Source
from workbench.gui.shell.theme import SceneColors

ItemKey = tuple[str, int]
"""(kind, index): ("room", 0), ("device", 0), ("listener", i), ("source", i)."""

ROOM_KEY: ItemKey = ("room", 0)
DEVICE_KEY: ItemKey = ("device", 0)
ROTATABLE = ("device", "listener")


def cosmetic(color: str | QColor, width: float = 1.0, style=Qt.PenStyle.SolidLine) -> QPen:
    """A pen whose width is in screen pixels whatever the zoom."""
    pen = QPen(QColor(color), width, style)
    pen.setCosmetic(True)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def draw_grid(painter, rect: QRectF, lines: tuple[tuple[float, str], ...]) -> None:
    """Grid lines over `rect` (scene units) for each (step, colour) of `lines`, in order, one
    screen pixel wide."""
    for step, color in lines:
        painter.setPen(cosmetic(color, 1.0))
        x = math.floor(rect.left() / step) * step
        while x <= rect.right():
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            x += step
        y = math.floor(rect.top() / step) * step
        while y <= rect.bottom():
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            y += step


def colors_of(item: QGraphicsItem) -> SceneColors:
    return item.scene().colors  # EditorScene carries the theme's colours


class LabelItem(QGraphicsItem):
    """Upright text with a soft background, `offset_px` from its anchor point.

    align: where the anchor sits on the label: "top" (label below the point), "bottom" (above),
    "left" (label to the right), "right" (to the left).
    """

    def __init__(self, text: str = "", align: str = "top", offset_px: float = 4.0,
                 pick_key: ItemKey | None = None, bold: bool = False, small: bool = False):
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(60)
        self.align, self.offset_px, self.pick_key = align, offset_px, pick_key
        self.font = QFont()
        self.font.setPointSizeF(self.font.pointSizeF() * (0.85 if small else 0.95))
        self.font.setBold(bold)
        self._text = ""
        self._rect = QRectF()
        self.set_text(text)

    def set_align(self, align: str) -> None:
        if align != self.align:
            self.align = align
            self._rect = QRectF()
            self.set_text(self._text)

    def set_text(self, text: str) -> None:
        if text == self._text and not self._rect.isNull():
            return
        self.prepareGeometryChange()
        self._text = text
        fm = QFontMetricsF(self.font)
        lines = text.split("\n")
        w = max(fm.horizontalAdvance(s) for s in lines) + 8
        h = fm.height() * len(lines) + 4
        o = self.offset_px
        x, y = {"top": (-w / 2, o), "bottom": (-w / 2, -o - h), "left": (o, -h / 2),
                "right": (-o - w, -h / 2)}[self.align]
        self._rect = QRectF(x, y, w, h)

    def text(self) -> str:
        return self._text

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if not self._text:
            return
        c = colors_of(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_rgba(c.label_back))
        painter.drawRoundedRect(self._rect, 4, 4)
        painter.setPen(QColor(c.label_text))
        painter.setFont(self.font)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self._text)


def _rgba(hex_color: str) -> QColor:
    """'#rrggbb' or '#rrggbbaa' (CSS order) → QColor."""
    color = QColor(hex_color[:7])
    if len(hex_color) == 9:
        color.setAlpha(int(hex_color[7:9], 16))
    return color


def _with_alpha(color: str, alpha: int) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


class ModelItem(QGraphicsItem):
    """Base of the items that stand for one model object (room, device, listener, source)."""

    kind = ""
    min_px = 0.0  # smallest on-screen size (px) of the glyph's `extent_m`

    def __init__(self, index: int = 0):
        super().__init__()
        self.key: ItemKey = (self.kind, index)
        self.pick_key: ItemKey = self.key
        self.selected = False
        self.extent_m = 0.2
        self.label = LabelItem(pick_key=self.key)
        self.px_per_m = 100.0

    def set_selected(self, selected: bool) -> None:
        if selected != self.selected:
            self.selected = selected
            self.update()

    def set_view_scale(self, px_per_m: float) -> None:
        """Called by the view on zoom: apply the glyph enlargement and place the label."""
        self.px_per_m = px_per_m
        self.setScale(self.glyph_scale)
        self.place_label()

    @property
    def glyph_scale(self) -> float:
        if not self.min_px or self.extent_m <= 0:
            return 1.0
        return max(1.0, self.min_px / (self.extent_m * self.px_per_m))

    def place_label(self) -> None:
        r = self.extent_m / 2 * self.glyph_scale
        self.label.setPos(self.pos() + QPointF(0.0, -r))

    def set_position(self, x: float, y: float) -> None:
        self.setPos(x, y)
        self.place_label()


class RoomItem(ModelItem):
    """The room's outline (its floor is painted by the view's background, under the grid)."""

    kind = "room"

    def __init__(self):
        super().__init__(0)
        self.setZValue(0)
        self._poly = QPolygonF()
        self.label = LabelItem(align="bottom", offset_px=6, pick_key=self.key, bold=True)
        self.width_label = LabelItem(align="top", offset_px=6, pick_key=self.key, small=True)
        self.depth_label = LabelItem(align="right", offset_px=8, pick_key=self.key, small=True)

    def sync(self, room: Room) -> None:
        self.prepareGeometryChange()
        poly = room.floor_polygon()
        self._poly = QPolygonF([QPointF(float(x), float(y)) for x, y in poly]) if poly is not None \
            else QPolygonF()
        name = room.name or room.kind
        if room.is_anechoic:
            self.label.set_text(f"{name} (free field)")
            self.width_label.set_text("")
            self.depth_label.set_text("")
            self.label.setPos(0.0, 0.0)
            self.label.setVisible(False)
            return
        self.label.setVisible(True)
        parts = [name]
        if room.kind == "shoebox":
            lx, ly, lz = room.dimensions_m
            parts.append(f"{lx:.2f} × {ly:.2f} × {lz:.2f} m")
        else:
            parts.append(f"polygon, {len(poly)} walls, height {room.height:.2f} m")
        if room.walls.rt60_s is not None:
            parts.append(f"RT60 {room.walls.rt60_s:.2f} s")
        elif room.walls.material:
            parts.append(room.walls.material)
        self.label.set_text("  ·  ".join(parts))
        b = self._poly.boundingRect()
        self.label.setPos(b.left() + b.width() / 2, b.bottom())  # bottom = max y = far wall
        self.width_label.set_text(f"{b.width():.2f} m")
        self.width_label.setPos(b.center().x(), b.top())
        self.depth_label.set_text(f"{b.height():.2f} m")
        self.depth_label.setPos(b.left(), b.center().y())

    def set_view_scale(self, px_per_m: float) -> None:
        self.px_per_m = px_per_m

    def place_label(self) -> None:
        pass

    def boundingRect(self) -> QRectF:
        return self._poly.boundingRect().adjusted(-0.05, -0.05, 0.05, 0.05)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addPolygon(self._poly)
        path.closeSubpath()
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if self._poly.isEmpty():
            return
        c = colors_of(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self.selected:
            painter.setPen(cosmetic(_with_alpha(c.selection, 110), 7))
            painter.drawPolygon(self._poly)
        painter.setPen(cosmetic(c.room_outline, 2.5))
        painter.drawPolygon(self._poly)


class HandleItem(QGraphicsItem):
    """The rotation knob of a device or listener (a child placed on its front axis)."""

    RADIUS_PX = 6.5

    def __init__(self, owner: ModelItem):
        super().__init__(owner)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.pick_key: ItemKey = owner.key  # the view tells the handle apart by its type
        self.setZValue(100)
        self.setVisible(False)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Drag to rotate (wheel over the item rotates too)")

    def boundingRect(self) -> QRectF:
        r = self.RADIUS_PX + 3
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(self.boundingRect())
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        c = colors_of(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(cosmetic(c.background, 2))
        painter.setBrush(QColor(c.selection))
        r = self.RADIUS_PX
        painter.drawEllipse(QRectF(-r, -r, 2 * r, 2 * r))


class RotatableItem(ModelItem):
    """A model item with a yaw: the item is rotated by yaw, +x local is its front."""

    def __init__(self, index: int = 0):
        super().__init__(index)
        self.handle = HandleItem(self)
        self.handle_distance_m = 0.3

    def set_selected(self, selected: bool) -> None:
        super().set_selected(selected)
        self.handle.setVisible(selected)

    def set_handle_distance(self, distance_m: float) -> None:
        self.handle_distance_m = distance_m
        self.handle.setPos(distance_m, 0.0)

    def paint_handle_arm(self, painter: QPainter, start_m: float) -> None:
        if self.selected:
            c = colors_of(self)
            painter.setPen(cosmetic(c.selection, 1.3, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(start_m, 0.0), QPointF(self.handle_distance_m, 0.0))


class DeviceItem(RotatableItem):
    """Device body (bounding box of its transducers), drivers with their axis, microphones."""

    kind = "device"
    min_px = 60.0

    def __init__(self):
        super().__init__(0)
        self.setZValue(10)
        self.label = LabelItem(align="left", offset_px=6, pick_key=self.key, bold=True)
        self._device: Device | None = None
        self._body = QRectF(-0.1, -0.1, 0.2, 0.2)

    def sync(self, device: Device) -> None:
        self.prepareGeometryChange()
        self._device = device
        pts = [d.position_m[:2] for d in device.drivers]
        pts += [m.position_m[:2] for m in device.microphones]
        a = np.array(pts, dtype=float).reshape(-1, 2) if pts else np.zeros((1, 2))
        lo, hi = a.min(axis=0) - 0.03, a.max(axis=0) + 0.03
        size = np.maximum(hi - lo, 0.08)
        mid = (lo + hi) / 2
        self._body = QRectF(mid[0] - size[0] / 2, mid[1] - size[1] / 2, size[0], size[1])
        self.extent_m = float(max(size[0], size[1], 2 * max(abs(lo).max(), abs(hi).max())))
        self.set_handle_distance(self._body.right() + 0.12)
        self.setRotation(device.yaw_deg)
        self.set_position(*device.position_m[:2])
        self.label.set_text(device.name)
        lines = [f"Device {device.name}" + (f" (model {device.model})" if device.model else "")]
        lines += [f"  driver {d.name}: local {tuple(round(v, 3) for v in d.position_m)} m, "
                  f"axis {d.axis_deg[0]:g}°/{d.axis_deg[1]:g}°, {d.directivity.kind}"
                  for d in device.drivers]
        if device.microphones:
            lines.append(f"  {len(device.microphones)} microphones")
        self.setToolTip("\n".join(lines))
        self.set_view_scale(self.px_per_m)

    def place_label(self) -> None:
        # Beside the device (devices often stand against a wall, where a label below would
        # sit on the wall's dimension).
        r = self.extent_m / 2 * self.glyph_scale
        self.label.setPos(self.pos() + QPointF(r + 0.02, 0.0))

    def boundingRect(self) -> QRectF:
        r = max(self.handle_distance_m, self.extent_m) + 0.1
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self._body.adjusted(-0.01, -0.01, 0.01, 0.01), 0.03, 0.03)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if self._device is None:
            return
        c = colors_of(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        body = self._body
        corner = min(body.width(), body.height()) * 0.3
        if self.selected:
            painter.setPen(cosmetic(_with_alpha(c.selection, 150), 6))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(body, corner, corner)
        painter.setPen(cosmetic(c.device_outline, 1.6))
        painter.setBrush(QColor(c.device_fill))
        painter.drawRoundedRect(body, corner, corner)
        # Front marker: a chevron on the +x edge.
        f = body.right()
        h = min(body.height() * 0.18, 0.04)
        painter.setBrush(QColor(c.device_outline))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawPolygon(QPolygonF([QPointF(f + 0.006, h), QPointF(f + 0.006 + h, 0.0),
                                       QPointF(f + 0.006, -h)]))
        self.paint_handle_arm(painter, f + 0.006 + h)
        for m in self._device.microphones:
            x, y = m.position_m[0], m.position_m[1]
            s = 0.006
            painter.setBrush(QColor(c.mic))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawPolygon(QPolygonF([QPointF(x + s, y), QPointF(x, y + s),
                                           QPointF(x - s, y), QPointF(x, y - s)]))
        for d in self._device.drivers:
            self._paint_driver(painter, d, c)

    @staticmethod
    def _paint_driver(painter: QPainter, d, c: SceneColors) -> None:
        x, y = d.position_m[0], d.position_m[1]
        radius = d.directivity.radius_m or 0.015
        r = float(np.clip(radius * 0.55, 0.008, 0.022))
        az, el = d.axis_deg
        painter.setPen(cosmetic(c.background, 1.0))
        painter.setBrush(QColor(c.driver))
        painter.drawEllipse(QPointF(x, y), r, r)
        if abs(el) < 60.0:
            ux, uy = math.cos(math.radians(az)), math.sin(math.radians(az))
            length = 0.05 * math.cos(math.radians(el))
            tip = QPointF(x + ux * (r + length), y + uy * (r + length))
            painter.setPen(cosmetic(c.driver, 2.0))
            painter.drawLine(QPointF(x + ux * r, y + uy * r), tip)
            a = 0.014
            back = QPointF(tip.x() - ux * a, tip.y() - uy * a)
            nx, ny = -uy * a * 0.6, ux * a * 0.6
            painter.setBrush(QColor(c.driver))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawPolygon(QPolygonF([tip, back + QPointF(nx, ny), back - QPointF(nx, ny)]))
        elif el > 0:  # up-firing: a ring around the dot (⊙)
            painter.setPen(cosmetic(c.driver, 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(QPointF(x, y), r * 1.8, r * 1.8)
        else:  # down-firing: a cross in a ring (⊗)
            painter.setPen(cosmetic(c.driver, 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(QPointF(x, y), r * 1.8, r * 1.8)
            k = r * 1.25
            painter.drawLine(QPointF(x - k, y - k), QPointF(x + k, y + k))
            painter.drawLine(QPointF(x - k, y + k), QPointF(x + k, y - k))


class ListenerItem(RotatableItem):
    """A head of the model's radius, nose along yaw, ears at the ear angles, a gaze wedge."""

    kind = "listener"
    min_px = 26.0

    def __init__(self, index: int):
        super().__init__(index)
        self.setZValue(30)
        self._listener: Listener | None = None

    def sync(self, listener: Listener) -> None:
        self.prepareGeometryChange()
        self._listener = listener
        self.extent_m = 2 * listener.head_radius_m
        self.set_handle_distance(listener.head_radius_m + 0.22)
        self.setRotation(listener.yaw_deg)
        self.set_position(*listener.position_m[:2])
        self.label.set_text(listener.name)
        x, y, z = listener.position_m
        self.setToolTip(f"Listener {listener.name}: ({x:.3f}, {y:.3f}, {z:.3f}) m, "
                        f"yaw {listener.yaw_deg:.1f}°, head radius {listener.head_radius_m:.4f} m")
        self.set_view_scale(self.px_per_m)

    def place_label(self) -> None:
        # Behind the head, away from the nose, the gaze wedge and the rotation handle.
        r = self.extent_m / 2 * self.glyph_scale + 0.01
        a = math.radians(self.rotation() + 180.0)
        dx, dy = math.cos(a), math.sin(a)
        if abs(dy) >= abs(dx):
            self.label.set_align("bottom" if dy > 0 else "top")
        else:
            self.label.set_align("left" if dx > 0 else "right")
        self.label.setPos(self.pos() + QPointF(dx * r, dy * r))

    def boundingRect(self) -> QRectF:
        r = self.handle_distance_m + 0.1
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        r = (self._listener.head_radius_m if self._listener else 0.09) * 1.35
        path.addEllipse(QPointF(0, 0), r, r)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if self._listener is None:
            return
        c = colors_of(self)
        li = self._listener
        r = li.head_radius_m
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        # Gaze wedge (±30°), faint.
        wedge = QPainterPath()
        wedge.moveTo(0, 0)
        reach = r + 0.45
        wedge.arcTo(QRectF(-reach, -reach, 2 * reach, 2 * reach), -30.0, 60.0)
        wedge.closeSubpath()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_with_alpha(c.listener, 34))
        painter.drawPath(wedge)
        if self.selected:
            painter.setPen(cosmetic(_with_alpha(c.selection, 150), 6))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(QPointF(0, 0), r * 1.12, r * 1.12)
        self.paint_handle_arm(painter, r * 1.45)
        # Nose.
        painter.setPen(cosmetic(c.listener, 1.6))
        painter.setBrush(QColor(c.listener))
        painter.drawPolygon(QPolygonF([QPointF(r * 1.42, 0.0), QPointF(r * 0.85, r * 0.32),
                                       QPointF(r * 0.85, -r * 0.32)]))
        # Ears (left then right), small ellipses across the head's edge.
        for angle, color in zip(li.ear_angles_deg, (c.left_ear, c.right_ear), strict=True):
            painter.save()
            painter.rotate(angle)
            painter.setPen(cosmetic(c.background, 1.0))
            painter.setBrush(QColor(color))
            painter.drawEllipse(QPointF(r, 0.0), r * 0.2, r * 0.34)
            painter.restore()
        painter.setPen(cosmetic(c.listener, 2.0))
        painter.setBrush(QColor(c.listener_fill))
        painter.drawEllipse(QPointF(0, 0), r, r)


class SourceItem(ModelItem):
    """A talker (speech-bubble-like circle with wave arcs) or a noise source (zig-zag box)."""

    kind = "source"
    min_px = 24.0

    def __init__(self, index: int):
        super().__init__(index)
        self.setZValue(20)
        self.extent_m = 0.16
        self._source: Source | None = None

    def sync(self, source: Source) -> None:
        self.prepareGeometryChange()
        self._source = source
        self.set_position(*source.position_m[:2])
        self.label.set_text(f"{source.name}")
        x, y, z = source.position_m
        self.setToolTip(f"{source.kind.capitalize()} source {source.name}: "
                        f"({x:.3f}, {y:.3f}, {z:.3f}) m, {source.level_db:.1f} dB SPL @ 1 m, "
                        f"{source.signal}")
        self.update()
        self.set_view_scale(self.px_per_m)

    def place_label(self) -> None:
        r = self.extent_m / 2 * self.glyph_scale
        self.label.setPos(self.pos() + QPointF(0.0, -r - 0.04 * self.glyph_scale))

    def boundingRect(self) -> QRectF:
        return QRectF(-0.14, -0.14, 0.28, 0.28)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(QPointF(0, 0), 0.1, 0.1)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if self._source is None:
            return
        c = colors_of(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        talker = self._source.kind == "talker"
        color = c.talker if talker else c.noise
        if self.selected:
            painter.setPen(cosmetic(_with_alpha(c.selection, 150), 6))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(QPointF(0, 0), 0.1, 0.1)
        if talker:
            painter.setPen(cosmetic(_with_alpha(color, 150), 1.4))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for rr in (0.1, 0.13):
                painter.drawArc(QRectF(-rr, -rr, 2 * rr, 2 * rr), -40 * 16, 80 * 16)
                painter.drawArc(QRectF(-rr, -rr, 2 * rr, 2 * rr), 140 * 16, 80 * 16)
            painter.setPen(cosmetic(c.background, 1.2))
            painter.setBrush(QColor(color))
            painter.drawEllipse(QPointF(0, 0), 0.07, 0.07)
            painter.setPen(cosmetic(c.background, 1.6))
            painter.drawLine(QPointF(-0.03, -0.015), QPointF(0.03, -0.015))
            painter.drawLine(QPointF(-0.03, 0.015), QPointF(0.015, 0.015))
        else:
            painter.setPen(cosmetic(c.background, 1.2))
            painter.setBrush(QColor(color))
            painter.drawRoundedRect(QRectF(-0.07, -0.07, 0.14, 0.14), 0.02, 0.02)
            painter.setPen(cosmetic(c.background, 1.6))
            zig = QPolygonF([QPointF(-0.05 + 0.02 * i, 0.025 * (1 if i % 2 else -1))
                             for i in range(6)])
            painter.drawPolyline(zig)
