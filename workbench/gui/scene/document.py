"""The open scene document: the current Scene (the truth), its file path and its undo stack.

Views never edit the scene themselves: they call `SceneDocument.push()`, which validates the new
scene and pushes an undo command; every change (push, undo, redo, load) emits `changed` and the
views redraw from `scene`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from sim.scene import Scene
from sim.scene_io import SceneError, check_scene, save_scene, scene_from_dict, scene_to_dict
from workbench.gui.scene.commands import SceneEditCommand


def validate_scene(scene: Scene) -> None:
    """Raise SceneError unless `scene` could be saved and loaded back: the cross-field checks
    (`check_scene`: everything inside the room, head clear of the device) and every field range
    of the file format (a round trip through the reader)."""
    check_scene(scene)
    scene_from_dict(scene_to_dict(scene))


class SceneDocument(QObject):
    """Owns the current Scene, its path and the QUndoStack.

    Signals: `changed` (the scene was replaced: edit, undo, redo or load), `pathChanged`,
    `modifiedChanged(bool)` (from the stack's clean state), `edited` (the stack index moved:
    drives autosave).
    """

    changed = Signal()
    pathChanged = Signal()
    modifiedChanged = Signal(bool)
    edited = Signal()

    def __init__(self, scene: Scene, path: str | Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._scene = scene
        self._path = Path(path) if path else None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.undo_stack.indexChanged.connect(self._on_index_changed)

    def _on_clean_changed(self, clean: bool) -> None:
        self.modifiedChanged.emit(not clean)

    def _on_index_changed(self, _index: int) -> None:
        self.edited.emit()

    # -- state ---------------------------------------------------------------------------------
    @property
    def scene(self) -> Scene:
        return self._scene

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def is_modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        """The file name without extension, or the scene's name for an unsaved document."""
        return self._path.stem if self._path else (self._scene.name or "untitled")

    # -- editing -------------------------------------------------------------------------------
    def push(self, new: Scene, text: str, merge_key: object = None) -> bool:
        """Validate `new` and make it the current scene through one undo command.

        Returns False (nothing pushed) when `new` equals the current scene; raises SceneError
        (naming the field) when `new` is invalid, leaving the document untouched.
        """
        if new == self._scene:
            return False
        validate_scene(new)
        self.undo_stack.push(SceneEditCommand(self, self._scene, new, text, merge_key))
        return True

    def try_push(self, new: Scene, text: str, merge_key: object = None) -> str | None:
        """Like `push`, but return the SceneError message instead of raising (None on success)."""
        try:
            self.push(new, text, merge_key)
        except SceneError as e:
            return str(e)
        return None

    def _apply(self, scene: Scene) -> None:
        """Set the scene (called only by undo commands and `reset`)."""
        self._scene = scene
        self.changed.emit()

    # -- whole-document operations ----------------------------------------------------------
    def reset(self, scene: Scene, path: str | Path | None = None, *,
              modified: bool = False) -> None:
        """Start over on `scene` (new, open, restore): empty undo history, new path.

        modified: mark the document as having unsaved changes (a restored autosave).
        """
        self.undo_stack.clear()
        self._path = Path(path) if path else None
        self._apply(scene)
        self.pathChanged.emit()
        if modified:
            # A clean index that no undo step can reach: the document stays modified until saved.
            self.undo_stack.resetClean()
        else:
            self.undo_stack.setClean()
        self.modifiedChanged.emit(self.is_modified)
        self.edited.emit()

    def save(self, path: str | Path | None = None) -> Path:
        """Write the scene to `path` (default: the current path) atomically and mark it clean.

        Raises SceneError (the file on disk is then untouched) or OSError.
        """
        target = Path(path) if path else self._path
        if target is None:
            raise ValueError("no file name: use save(path)")
        save_scene(self._scene, target)
        if target != self._path:
            self._path = target
            self.pathChanged.emit()
        self.undo_stack.setClean()
        return target
