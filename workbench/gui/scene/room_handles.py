"""The room's geometry edited in the floor plan: a shoebox's walls and a polygon's corners.

`RoomGestures` belongs to a `SceneView` and sees the mouse before the view picks items under
it, when nothing but the room is there:
- drag a shoebox wall: move it (the opposite wall stays put; one drag is one undo step);
- drag a polygon corner: move it; a floor whose edges would cross is refused with the reason;
- double-click a polygon wall: insert a corner there; right-click a corner: Delete Corner
  (the view's context menu asks `hit`).
Positions snap to the view's grid when snapping is on. The view refits to the room when the
room changes size, once a drag has ended.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from sim.scene import Scene
from workbench.gui.scene import edits, room_edits
from workbench.gui.scene.scene_items import ROOM_KEY, colors_of, cosmetic

CORNER_PX = 8.0
"""Pick radius of a corner, screen pixels."""
WALL_PX = 6.0
"""Pick distance of a wall, screen pixels."""
SHOEBOX_SIDES = ("south", "east", "north", "west")
"""The shoebox walls in the order of its floor polygon's edges."""


@dataclass(frozen=True)
class RoomHit:
    """What is under the cursor: a "corner" (index), a shoebox "wall" (side) or a polygon
    "edge" (index, closest point `xy` in m)."""

    kind: str
    index: int = -1
    side: str = ""
    xy: tuple[float, float] = (0.0, 0.0)


class CornerMarks(QGraphicsItem):
    """Small squares on the corners of a polygon room (where they can be grabbed)."""

    SIZE_PX = 4.5

    def __init__(self):
        super().__init__()
        self.setZValue(5)
        self._corners = np.zeros((0, 2))
        self._px_per_m = 100.0

    def sync(self, corners: np.ndarray, px_per_m: float) -> None:
        self.prepareGeometryChange()
        self._corners = corners
        self._px_per_m = px_per_m

    def boundingRect(self) -> QRectF:
        if not len(self._corners):
            return QRectF()
        pad = 2 * self.SIZE_PX / self._px_per_m
        lo, hi = self._corners.min(axis=0) - pad, self._corners.max(axis=0) + pad
        return QRectF(QPointF(*lo), QPointF(*hi))

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        c = colors_of(self)
        s = self.SIZE_PX / self._px_per_m
        painter.setPen(cosmetic(c.background, 1.0))
        painter.setBrush(QColor(c.room_outline))
        for x, y in self._corners:
            painter.drawRect(QRectF(x - s, y - s, 2 * s, 2 * s))


@dataclass
class _Drag:
    hit: RoomHit
    start: Scene
    gesture_id: int
    press_px: QPoint  # where the drag began, viewport pixels
    press_m: tuple[float, float]  # the room point there, in the frame of the drag's start
    shift: tuple[float, float] = (0.0, 0.0)  # how far the scene's frame has moved so far


class RoomGestures:
    """Wall and corner gestures of one `SceneView` (see the module doc)."""

    def __init__(self, view):
        self.view = view
        self.marks = CornerMarks()
        view.scene().addItem(self.marks)
        self._drag: _Drag | None = None
        self._counter = 0
        self._bounds: tuple[float, ...] | None = self._extent()

    @property
    def dragging(self) -> bool:
        return self._drag is not None

    def sync(self) -> None:
        """Follow the model: corner marks, and a refit when the room's extent changed."""
        room = self.view.scene_model.room
        poly = room.floor_polygon()
        self.marks.sync(poly if room.kind == "polygon" else np.zeros((0, 2)),
                        self.view.px_per_m)
        bounds = self._extent()
        if bounds != self._bounds and not self.dragging:
            self._bounds = bounds
            self.view.fit_to_room()

    def _extent(self) -> tuple[float, ...] | None:
        poly = self.view.scene_model.room.floor_polygon()
        return None if poly is None else tuple(float(v) for v in (*poly.min(axis=0),
                                                                  *poly.max(axis=0)))

    # -- picking ---------------------------------------------------------------------------------
    def hit(self, view_pos: QPoint) -> RoomHit | None:
        """The corner, wall or polygon edge under `view_pos` (viewport pixels), if any."""
        room = self.view.scene_model.room
        poly = room.floor_polygon()
        if poly is None:
            return None
        px = self.view.px_per_m
        x, y = self.view.room_point(view_pos)
        if room.kind == "polygon":
            d = np.hypot(poly[:, 0] - x, poly[:, 1] - y)
            i = int(np.argmin(d))
            if d[i] * px <= CORNER_PX:
                return RoomHit("corner", index=i)
        edge, dist, xy = room_edits.nearest_edge(poly, (x, y))
        if dist * px > WALL_PX:
            return None
        if room.kind == "shoebox":
            return RoomHit("wall", index=edge, side=SHOEBOX_SIDES[edge])
        return RoomHit("edge", index=edge, xy=xy)

    def cursor(self, view_pos: QPoint) -> Qt.CursorShape | None:
        """The hover cursor over a room handle (None: not over one)."""
        h = self.hit(view_pos)
        if h is None or h.kind == "edge":
            return None
        if h.kind == "corner":
            return Qt.CursorShape.SizeAllCursor
        return (Qt.CursorShape.SizeHorCursor if h.side in ("east", "west")
                else Qt.CursorShape.SizeVerCursor)

    # -- mouse -----------------------------------------------------------------------------------
    def press(self, view_pos: QPoint) -> bool:
        """Start a wall or corner drag under `view_pos`; True when one started."""
        h = self.hit(view_pos)
        if h is None or h.kind == "edge":
            return False
        self._counter += 1
        self._drag = _Drag(h, self.view.scene_model, self._counter, QPoint(view_pos),
                           self.view.room_point(view_pos))
        self.view.select(ROOM_KEY)
        return True

    def _point(self, view_pos: QPoint) -> tuple[float, float]:
        """The room point under `view_pos` in the frame of the drag's start: from the mouse's
        travel in pixels, so the view's panning (whole pixels) adds no error."""
        g = self._drag
        px = self.view.px_per_m
        x = g.press_m[0] + (view_pos.x() - g.press_px.x()) / px
        y = g.press_m[1] - (view_pos.y() - g.press_px.y()) / px  # the view flips y
        if self.view.snapping:
            x, y = edits.snap(x, edits.GRID_M), edits.snap(y, edits.GRID_M)
        return x, y

    def move(self, view_pos: QPoint) -> bool:
        """Follow the drag; True while one is going on."""
        g = self._drag
        if g is None:
            return False
        x, y = self._point(view_pos)
        if g.hit.kind == "corner":
            self._push(room_edits.move_corner(self.view.scene_model, g.hit.index, (x, y)),
                       f"Move corner {g.hit.index}")
            return True
        coordinate = x if g.hit.side in ("east", "west") else y
        new = room_edits.move_shoebox_wall(g.start, g.hit.side, coordinate)
        if self._push(new, f"Move {g.hit.side} wall"):
            shift = {"west": (-coordinate, 0.0), "south": (0.0, -coordinate)}.get(g.hit.side,
                                                                                    (0.0, 0.0))
            self._pan(shift[0] - g.shift[0], shift[1] - g.shift[1])
            g.shift = shift
        return True

    def release(self) -> bool:
        """End the drag (refit to the room if it changed size); True when one ended."""
        if self._drag is None:
            return False
        self._drag = None
        self.sync()
        return True

    def double_click(self, view_pos: QPoint) -> bool:
        """Insert a corner on the polygon wall under `view_pos`; True when there was one."""
        h = self.hit(view_pos)
        if h is None or h.kind != "edge":
            return False
        self.insert_corner(h.index, h.xy)
        return True

    # -- edits -----------------------------------------------------------------------------------
    def insert_corner(self, edge: int, xy: tuple[float, float]) -> bool:
        return self._push(room_edits.insert_corner(self.view.scene_model, edge, xy),
                          f"Insert corner on wall {edge}")

    def delete_corner(self, index: int) -> bool:
        try:
            new = room_edits.delete_corner(self.view.scene_model, index)
        except ValueError as e:
            self.view.message.emit(f"Corner not deleted: {e}")
            return False
        return self._push(new, f"Delete corner {index}")

    def _push(self, new: Scene, text: str) -> bool:
        g = self._drag
        merge = ("room-drag", g.gesture_id) if g is not None else None
        error = self.view.document.try_push(new, text, merge)
        if error:
            self.view.message.emit(f"{text} refused: {error}")
            return False
        return True

    def _pan(self, dx: float, dy: float) -> None:
        """Keep the drawing still on screen while the scene's frame moves by (dx, dy) m."""
        if dx or dy:
            centre = self.view.mapToScene(self.view.viewport().rect().center())
            self.view.centerOn(QPointF(centre.x() + dx, centre.y() + dy))
