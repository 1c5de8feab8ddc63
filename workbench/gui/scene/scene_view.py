"""Top view of the scene: room outline, device, listeners and sources, edited with the mouse.

The view draws the document's scene and turns gestures into undo commands; it never keeps a
position of its own. Items are rebuilt from the model on every `SceneDocument.changed`.

Mouse and keys:
- left-drag an item: move it in x, y (z kept); one drag is one undo step
- drag the round handle of the selected device or listener, or turn the wheel over it (or
  Shift+wheel anywhere for the selected one): rotate its yaw; one gesture is one undo step
- wheel elsewhere or Ctrl+wheel: zoom about the cursor; middle-drag or Space+drag: pan
- arrow keys: nudge the selected item (grid step, Shift ×10); Del deletes it, Ctrl+D
  duplicates it
- drag a shoebox wall or a polygon corner: reshape the room; double-click a polygon wall:
  insert a corner; right-click: add here, delete, duplicate, delete a corner, properties
- snapping (toggle): positions to a 5 cm grid, yaw to 5°
Moves that would leave the room are clamped to the walls (or refused) with a message; the model
stays valid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPolygonF,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsView, QWidget

from sim.scene import Scene
from sim.scene_io import SceneError
from workbench.gui.scene import edits
from workbench.gui.scene.document import SceneDocument
from workbench.gui.scene.room_handles import RoomGestures
from workbench.gui.scene.scene_items import (
    DEVICE_KEY,
    ROOM_KEY,
    ROTATABLE,
    DeviceItem,
    HandleItem,
    ItemKey,
    LabelItem,
    ListenerItem,
    ModelItem,
    RoomItem,
    SourceItem,
    cosmetic,
    draw_grid,
)
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors

MIN_PX_PER_M, MAX_PX_PER_M = 4.0, 4000.0
WHEEL_GESTURE_MS = 700
_GRID_STEPS = ((0.05, 0.5), (0.1, 1.0), (0.25, 1.0), (0.5, 5.0), (1.0, 5.0), (2.0, 10.0),
               (5.0, 50.0), (10.0, 50.0))


class EditorScene(QGraphicsScene):
    """The QGraphicsScene of the editor; carries the theme colours the items paint with."""

    def __init__(self, colors: SceneColors, parent=None):
        super().__init__(parent)
        self.colors = colors
        self.setSceneRect(QRectF(-2000, -2000, 4000, 4000))
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)


@dataclass
class _Gesture:
    kind: str  # "move", "rotate", "pan"
    key: ItemKey | None = None
    start_scene: QPointF | None = None
    start_model: tuple[float, float, float] | None = None
    last_view: QPoint | None = None
    gesture_id: int = 0
    moved: bool = False


class SceneView(QGraphicsView):
    """The top-view editor of a SceneDocument.

    Signals: selectionChanged(key or None), cursorMoved(x_m, y_m), message(text) for the
    status bar (refused or clamped edits), resized() (overlays placed in the viewport follow),
    contextMenuRequested(view_pos, global_pos) (the `SceneEditor` builds the menu).
    """

    selectionChanged = Signal(object)
    cursorMoved = Signal(float, float)
    message = Signal(str)
    resized = Signal()
    contextMenuRequested = Signal(QPoint, QPoint)

    def __init__(self, document: SceneDocument, parent: QWidget | None = None):
        self.colors = scene_colors(current_theme())
        self._scene = EditorScene(self.colors)
        super().__init__(self._scene, parent)
        self.document = document
        self.snapping = True
        self._selected: ItemKey | None = None
        self._gesture: _Gesture | None = None
        self._gesture_counter = 0
        self._wheel_gesture: tuple[ItemKey, int] | None = None
        self._wheel_timer = QTimer(self)
        self._wheel_timer.setSingleShot(True)
        self._wheel_timer.setInterval(WHEEL_GESTURE_MS)
        self._wheel_timer.timeout.connect(self._end_wheel_gesture)
        self._wheel_accum = 0.0
        self._space_down = False
        self._auto_fit = True
        self._px_per_m = 100.0

        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(320, 240)
        self.setTransform(QTransform(self._px_per_m, 0, 0, -self._px_per_m, 0, 0))

        self.room_item = RoomItem()
        self._scene.addItem(self.room_item)
        for label in (self.room_item.label, self.room_item.width_label,
                      self.room_item.depth_label):
            self._scene.addItem(label)
        self._axis_labels = (LabelItem("x", align="top", offset_px=3, small=True),
                             LabelItem("y", align="right", offset_px=3, small=True))
        for label in self._axis_labels:
            self._scene.addItem(label)
        self._axis_labels[0].setPos(0.5, 0.0)
        self._axis_labels[1].setPos(0.0, 0.5)
        self.device_item: DeviceItem | None = None
        self.listener_items: list[ListenerItem] = []
        self.source_items: list[SourceItem] = []

        self.room_gestures = RoomGestures(self)
        document.changed.connect(self.sync)
        self.sync()

    # -- model → items -------------------------------------------------------------------------
    @property
    def scene_model(self) -> Scene:
        return self.document.scene

    def _add(self, item: ModelItem) -> ModelItem:
        self._scene.addItem(item)
        self._scene.addItem(item.label)
        return item

    def _remove(self, item: ModelItem) -> None:
        self._scene.removeItem(item.label)
        self._scene.removeItem(item)

    def sync(self) -> None:
        """Redraw every item from the document's scene."""
        scene = self.scene_model
        self.room_item.sync(scene.room)
        self.room_gestures.sync()
        if self.device_item is None:
            self.device_item = self._add(DeviceItem())
        self.device_item.sync(scene.device)
        for items, objects, cls in ((self.listener_items, scene.listeners, ListenerItem),
                                    (self.source_items, scene.sources, SourceItem)):
            while len(items) > len(objects):
                self._remove(items.pop())
            while len(items) < len(objects):
                items.append(self._add(cls(len(items))))
            for item, obj in zip(items, objects, strict=True):
                item.sync(obj)
        for item in self.model_items():
            item.set_view_scale(self._px_per_m)
        if self._selected is not None and not edits.exists(scene, self._selected):
            self.select(None)
        else:
            self._mark_selection()
        self.resetCachedContent()
        self.viewport().update()

    def model_items(self) -> list[ModelItem]:
        items: list[ModelItem] = [self.room_item]
        if self.device_item is not None:
            items.append(self.device_item)
        return items + self.listener_items + self.source_items

    def item_for(self, key: ItemKey) -> ModelItem | None:
        kind, i = key
        if kind == "room":
            return self.room_item
        if kind == "device":
            return self.device_item
        items = self.listener_items if kind == "listener" else self.source_items
        return items[i] if 0 <= i < len(items) else None

    # -- selection -----------------------------------------------------------------------------
    @property
    def selected_key(self) -> ItemKey | None:
        return self._selected

    def select(self, key: ItemKey | None) -> None:
        if key is not None and not edits.exists(self.scene_model, key):
            key = None
        if key == self._selected:
            return
        self._selected = key
        self._mark_selection()
        self.selectionChanged.emit(key)

    def _mark_selection(self) -> None:
        for item in self.model_items():
            item.set_selected(item.key == self._selected)

    # -- theme, zoom, fit ------------------------------------------------------------------------
    def set_colors(self, colors: SceneColors) -> None:
        self.colors = colors
        self._scene.colors = colors
        self.resetCachedContent()
        self._scene.update()
        self.viewport().update()

    @property
    def px_per_m(self) -> float:
        return self._px_per_m

    def _set_scale(self, px_per_m: float, anchor: QPointF | None = None) -> None:
        px_per_m = min(max(px_per_m, MIN_PX_PER_M), MAX_PX_PER_M)
        anchor = anchor if anchor is not None else QPointF(self.viewport().rect().center())
        before = self.mapToScene(anchor.toPoint())
        centre = self.mapToScene(self.viewport().rect().center())
        self._px_per_m = px_per_m
        self.setTransform(QTransform(px_per_m, 0, 0, -px_per_m, 0, 0))
        self.centerOn(centre)
        after = self.mapToScene(anchor.toPoint())
        self.centerOn(centre + (before - after))
        for item in self.model_items():
            item.set_view_scale(px_per_m)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self._auto_fit = False
        self._set_scale(self._px_per_m * factor, anchor)

    def content_rect(self) -> QRectF:
        """What 'fit' shows: the room's floor, or every item in free field, with a margin."""
        scene = self.scene_model
        poly = scene.room.floor_polygon()
        if poly is not None:
            xs, ys = poly[:, 0], poly[:, 1]
            margin = 0.12 * max(float(xs.max() - xs.min()), float(ys.max() - ys.min()), 1.0)
        else:
            pts = [scene.device.position_m] + [li.position_m for li in scene.listeners] + \
                  [s.position_m for s in scene.sources]
            xs = [float(p[0]) for p in pts] + [0.0]
            ys = [float(p[1]) for p in pts] + [0.0]
            margin = 0.6
        return QRectF(QPointF(min(xs) - margin, min(ys) - margin),
                      QPointF(max(xs) + margin, max(ys) + margin))

    def fit_to_room(self) -> None:
        rect = self.content_rect()
        vp = self.viewport().rect()
        if rect.width() <= 0 or rect.height() <= 0 or vp.width() < 10 or vp.height() < 10:
            return
        s = min(vp.width() / rect.width(), (vp.height() - 40) / rect.height())
        self._auto_fit = True
        self._px_per_m = min(max(s, MIN_PX_PER_M), MAX_PX_PER_M)
        self.setTransform(QTransform(self._px_per_m, 0, 0, -self._px_per_m, 0, 0))
        # A little lower than centre: the room's name label sits above the far wall.
        self.centerOn(rect.center() + QPointF(0.0, 12.0 / self._px_per_m))
        for item in self.model_items():
            item.set_view_scale(self._px_per_m)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit_to_room()
        self.resized.emit()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._auto_fit:
            self.fit_to_room()

    # -- coordinates -----------------------------------------------------------------------------
    def room_point(self, view_pos: QPoint | QPointF) -> tuple[float, float]:
        p = self.mapToScene(QPointF(view_pos).toPoint())
        return p.x(), p.y()

    def view_point(self, x_m: float, y_m: float) -> QPoint:
        """Viewport pixel position of a room point (for tests and overlays)."""
        return self.mapFromScene(QPointF(x_m, y_m))

    def handle_view_point(self, key: ItemKey) -> QPoint | None:
        item = self.item_for(key)
        if not isinstance(item, (DeviceItem, ListenerItem)):
            return None
        return self.mapFromScene(item.handle.scenePos())

    # -- drawing ---------------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        c = self.colors
        painter.fillRect(rect, QColor(c.background))
        poly = self.scene_model.room.floor_polygon()
        if poly is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(c.room_fill))
            painter.drawPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in poly]))
        minor, major = _GRID_STEPS[-1]
        for mi, ma in _GRID_STEPS:
            if mi * self._px_per_m >= 14:
                minor, major = mi, ma
                break
        draw_grid(painter, rect, ((minor, c.grid_minor), (major, c.grid_major)))
        # Room-frame axes at the origin.
        painter.setPen(cosmetic(c.axis, 1.6))
        painter.drawLine(QPointF(0, 0), QPointF(0.5, 0))
        painter.drawLine(QPointF(0, 0), QPointF(0, 0.5))

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        # A scale bar in the bottom-left corner, in viewport pixels.
        painter.save()
        painter.resetTransform()
        c = self.colors
        target = 110.0 / self._px_per_m
        length = next((v for v in (0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100)
                       if v >= target * 0.6), 100)
        px = length * self._px_per_m
        x0, y0 = 16.0, self.viewport().height() - 16.0
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(cosmetic(c.label_text, 2))
        painter.drawLine(QPointF(x0, y0), QPointF(x0 + px, y0))
        painter.drawLine(QPointF(x0, y0 - 5), QPointF(x0, y0 + 1))
        painter.drawLine(QPointF(x0 + px, y0 - 5), QPointF(x0 + px, y0 + 1))
        text = f"{length * 100:g} cm" if length < 1 else f"{length:g} m"
        painter.drawText(QRectF(x0, y0 - 22, px, 16), Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    # -- picking ---------------------------------------------------------------------------------
    def _pick(self, view_pos: QPoint) -> QGraphicsItem | None:
        """Topmost editable item under the cursor (3 px tolerance), labels count for their item."""
        area = QRect(view_pos - QPoint(3, 3), view_pos + QPoint(3, 3))
        for item in self.items(area, Qt.ItemSelectionMode.IntersectsItemShape):
            if not item.isVisible():
                continue
            if isinstance(item, HandleItem):
                return item
            key = getattr(item, "pick_key", None)
            if key is not None and edits.exists(self.scene_model, key):
                return item
        return None

    def _picked_key(self, item: QGraphicsItem | None) -> ItemKey | None:
        return None if item is None else item.pick_key

    def key_at(self, view_pos: QPoint) -> ItemKey | None:
        """The key of the item under `view_pos` (viewport pixels; the room's inside counts as
        the room), None over empty floor."""
        return self._picked_key(self._pick(view_pos))

    # -- mouse -----------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        pos = event.position().toPoint()
        if event.button() == Qt.MouseButton.MiddleButton or (
                event.button() == Qt.MouseButton.LeftButton and self._space_down):
            self._gesture = _Gesture("pan", last_view=pos)
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self._end_wheel_gesture()
        item = self._pick(pos)
        key = self._picked_key(item)
        self._gesture_counter += 1
        if key in (None, ROOM_KEY) and self.room_gestures.press(pos):
            event.accept()
            return
        if isinstance(item, HandleItem):
            self._gesture = _Gesture("rotate", key, gesture_id=self._gesture_counter)
        else:
            self.select(key)
            if key is not None and key[0] in ("device", "listener", "source"):
                self._gesture = _Gesture("move", key, start_scene=self.mapToScene(pos),
                                         start_model=edits.position_of(self.scene_model, key),
                                         gesture_id=self._gesture_counter)
                self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        x, y = self.room_point(pos)
        self.cursorMoved.emit(x, y)
        g = self._gesture
        if self.room_gestures.move(pos):
            return
        if g is None:
            item = self._pick(pos)
            room_cursor = self.room_gestures.cursor(pos)
            if isinstance(item, HandleItem):
                self.viewport().setCursor(Qt.CursorShape.CrossCursor)
            elif item is not None and item.pick_key[0] != "room":
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            elif room_cursor is not None:
                self.viewport().setCursor(room_cursor)
            else:
                self.viewport().unsetCursor()
            return
        if g.kind == "pan":
            delta = pos - g.last_view
            g.last_view = pos
            self._auto_fit = False
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
        elif g.kind == "move":
            p = self.mapToScene(pos)
            sx, sy, _z = g.start_model
            tx = sx + p.x() - g.start_scene.x()
            ty = sy + p.y() - g.start_scene.y()
            if self.snapping:
                tx, ty = edits.snap(tx, edits.GRID_M), edits.snap(ty, edits.GRID_M)
            g.moved = True
            self.move_item(g.key, (tx, ty), merge_key=("move", g.key, g.gesture_id))
        elif g.kind == "rotate":
            item = self.item_for(g.key)
            centre = item.pos()
            p = self.mapToScene(pos)
            yaw = math.degrees(math.atan2(p.y() - centre.y(), p.x() - centre.x()))
            if self.snapping:
                yaw = edits.snap(yaw, edits.YAW_STEP_DEG)
            self.rotate_item(g.key, yaw, merge_key=("rotate", g.key, g.gesture_id))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.room_gestures.release():
            event.accept()
            return
        if self._gesture is not None:
            self._gesture = None
            self._gesture_counter += 1
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self.fit_to_room()
            return
        if event.button() == Qt.MouseButton.LeftButton and \
                self.room_gestures.double_click(event.position().toPoint()):
            event.accept()
            return
        self.mousePressEvent(event)

    def contextMenuEvent(self, event) -> None:
        self.contextMenuRequested.emit(event.pos(), event.globalPos())
        event.accept()

    # -- wheel -----------------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        steps = (delta.y() or delta.x()) / 120.0  # Shift+wheel arrives as horizontal on some OSes
        if steps == 0:
            return
        mods = event.modifiers()
        pos = event.position()
        if mods & Qt.KeyboardModifier.ControlModifier:
            self.zoom_by(1.15 ** steps, pos)
        else:
            if mods & Qt.KeyboardModifier.ShiftModifier:
                key = self._selected
            else:
                item = self._pick(pos.toPoint())
                key = self._picked_key(item)
            if key is not None and key[0] in ROTATABLE:
                self._wheel_rotate(key, steps)
            else:
                self.zoom_by(1.15 ** steps, pos)
        event.accept()

    def _wheel_rotate(self, key: ItemKey, steps: float) -> None:
        if self._wheel_gesture is None or self._wheel_gesture[0] != key:
            self._gesture_counter += 1
            self._wheel_gesture = (key, self._gesture_counter)
            self._wheel_accum = 0.0
        self._wheel_timer.start()
        if key != self._selected:
            self.select(key)
        self._wheel_accum += steps
        whole = int(self._wheel_accum)  # 5° per notch; touchpads accumulate
        if whole == 0:
            return
        self._wheel_accum -= whole
        yaw = edits.yaw_of(self.scene_model, key) + whole * edits.YAW_STEP_DEG
        if self.snapping:
            yaw = edits.snap(yaw, edits.YAW_STEP_DEG)
        self.rotate_item(key, yaw, merge_key=("rotate", key, self._wheel_gesture[1]))

    def _end_wheel_gesture(self) -> None:
        self._wheel_gesture = None
        self._wheel_timer.stop()

    # -- keys ------------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        arrows = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, 1),
                  Qt.Key.Key_Down: (0, -1)}
        if key in arrows and self._selected and self._selected[0] != "room":
            step = edits.GRID_M if self.snapping else 0.01
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                step *= 10
            dx, dy = arrows[key]
            x, y, _ = edits.position_of(self.scene_model, self._selected)
            self.move_item(self._selected, (x + dx * step, y + dy * step))
            return
        if key == Qt.Key.Key_Escape:
            self.select(None)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self.viewport().unsetCursor()
            return
        super().keyReleaseEvent(event)

    # -- edits (through the document) ------------------------------------------------------------
    def move_item(self, key: ItemKey, target_xy: tuple[float, float],
                  merge_key: object = None) -> bool:
        """Move `key` towards `target_xy` (room metres, z kept) with one undo command; clamp at
        walls. Returns True when the model changed."""
        scene = self.scene_model
        (x, y), refused = edits.clamp_move(scene, key, target_xy)
        z = edits.position_of(scene, key)[2]
        label = edits.label_of(scene, key)
        try:
            changed = self.document.push(edits.with_position(scene, key, (x, y, z)),
                                         f"Move {label}", merge_key)
        except SceneError as e:
            self.message.emit(f"Move refused: {e}")
            return False
        if refused:
            self.message.emit(f"Kept {label} inside: {refused}")
        return changed

    def rotate_item(self, key: ItemKey, yaw_deg: float, merge_key: object = None) -> bool:
        """Set the yaw of the device or a listener with one undo command (refused when it would
        put a driver outside the room)."""
        scene = self.scene_model
        label = edits.label_of(scene, key)
        try:
            return self.document.push(edits.with_yaw(scene, key, edits.wrap_deg(yaw_deg)),
                                      f"Rotate {label}", merge_key)
        except SceneError as e:
            self.message.emit(f"Rotation refused: {e}")
            return False


__all__ = ["DEVICE_KEY", "ROOM_KEY", "SceneView"]
