"""The structural edits of the floor plan: Edit ▸ Add Listener / Add Talker / Add Noise Source,
Delete, Duplicate, and the right-click menus of the view.

New objects go to the centre of the view (Edit menu) or to the clicked point (right-click on
the floor). Every edit is one undo command; one the model refuses (outside the room, head in
the device, the device or the room deleted) changes nothing and says why in the status bar
(`message`). The new or copied object becomes the selection.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, Signal
from PySide6.QtWidgets import QMenu

from sim.scene import Scene
from workbench.gui.scene import contents, edits
from workbench.gui.scene.scene_items import ItemKey
from workbench.gui.scene.scene_view import SceneView

ADD_LABELS = {"listener": "Listener", "talker": "Talker", "noise": "Noise Source"}


class SceneEditor(QObject):
    """Add / delete / duplicate on a `SceneView`'s document, and its context menus.

    show_properties: called by a menu's Properties… entry (brings the properties panel up).
    """

    message = Signal(str)

    def __init__(self, view: SceneView, show_properties: Callable[[], None],
                 parent: QObject | None = None):
        super().__init__(parent)
        self.view = view
        self.document = view.document
        self.show_properties = show_properties
        view.contextMenuRequested.connect(self._show_context_menu)

    def can_edit_selection(self) -> bool:
        """True when the selection can be deleted and duplicated (a listener or a source)."""
        key = self.view.selected_key
        return key is not None and key[0] in ("listener", "source")

    def view_centre(self) -> tuple[float, float]:
        """The room point (m) at the centre of the view."""
        return self.view.room_point(self.view.viewport().rect().center())

    def _push(self, new: Scene, text: str, select: ItemKey | None) -> bool:
        error = self.document.try_push(new, text)
        if error:
            self.message.emit(f"{text} refused: {error}")
            return False
        self.view.select(select)
        self.message.emit(text)
        return True

    def add(self, kind: str, xy: tuple[float, float] | None = None) -> bool:
        """Add a "listener", "talker" or "noise" source at `xy` (m; default the view's
        centre), snapped to the grid when snapping is on."""
        x, y = xy if xy is not None else self.view_centre()
        if self.view.snapping:
            x, y = edits.snap(x, edits.GRID_M), edits.snap(y, edits.GRID_M)
        scene = self.document.scene
        if kind == "listener":
            new, key = contents.add_listener(scene, (x, y))
        else:
            new, key = contents.add_source(scene, kind, (x, y))
        return self._push(new, f"Add {ADD_LABELS[kind].lower()} at ({x:.2f}, {y:.2f}) m", key)

    def delete(self, key: ItemKey | None = None) -> bool:
        """Delete `key` (default: the selection)."""
        return self._item_edit("Delete", key, lambda scene, k: (contents.remove(scene, k), None))

    def duplicate(self, key: ItemKey | None = None) -> bool:
        """Duplicate `key` (default: the selection) next to it; the copy becomes selected."""
        return self._item_edit("Duplicate", key, contents.duplicate)

    def _item_edit(self, verb: str, key: ItemKey | None,
                   edit: Callable[[Scene, ItemKey], tuple[Scene, ItemKey | None]]) -> bool:
        key = key if key is not None else self.view.selected_key
        scene = self.document.scene
        if not edits.exists(scene, key):
            self.message.emit(f"{verb}: nothing selected")
            return False
        label = edits.label_of(scene, key)
        try:
            new, select = edit(scene, key)
        except ValueError as e:
            self.message.emit(f"{verb} {label} refused: {e}")
            return False
        return self._push(new, f"{verb} {label}", select)

    # -- context menus -------------------------------------------------------------------------
    def _show_context_menu(self, view_pos: QPoint, global_pos: QPoint) -> None:
        menu = self.context_menu(view_pos)
        menu.exec(global_pos)
        menu.deleteLater()

    def context_menu(self, view_pos: QPoint) -> QMenu:
        """The right-click menu for `view_pos` (viewport pixels): an item's Delete / Duplicate
        / Properties…, a corner's Delete Corner, else Add … Here (and Insert Corner Here on a
        polygon wall). Built, not shown: the caller execs it."""
        menu = QMenu(self.view)
        menu.setObjectName("sceneContextMenu")
        key = self.view.key_at(view_pos)
        hit = self.view.room_gestures.hit(view_pos)
        if key is not None and key[0] in ("listener", "source", "device"):
            self.view.select(key)
            for text, slot in (("&Delete", self.delete), ("D&uplicate", self.duplicate)):
                action = menu.addAction(text, lambda k=key, f=slot: f(k))
                action.setEnabled(key[0] != "device")
            menu.addSeparator()
            menu.addAction("&Properties…", self.show_properties)
            return menu
        gestures = self.view.room_gestures
        if hit is not None and hit.kind == "corner":
            menu.addAction("&Delete Corner", lambda i=hit.index: gestures.delete_corner(i))
            return menu
        xy = self.view.room_point(view_pos)
        for kind, label in ADD_LABELS.items():
            menu.addAction(f"Add {label} Here", lambda k=kind: self.add(k, xy))
        if hit is not None and hit.kind == "edge":
            menu.addSeparator()
            menu.addAction("&Insert Corner Here",
                           lambda h=hit: gestures.insert_corner(h.index, h.xy))
        if self.document.scene.room.floor_polygon() is not None:
            menu.addSeparator()
            menu.addAction("Room &Properties…", lambda: (self.view.select(("room", 0)),
                                                         self.show_properties()))
        return menu
