"""The open scene document: the current Scene (the truth), its file path and its undo stack.

Views never edit the scene themselves: they call `SceneDocument.push()`, which validates the new
scene and pushes an undo command; every change (push, undo, redo, load) emits `changed` and the
views redraw from `scene`.

Undo: every edit of the scene is one `SceneEditCommand` that swaps an old Scene for a new one
(scenes are frozen dataclasses, so both are cheap to keep). Continuous gestures (a mouse drag,
wheel rotation, spin-box steps of one field) carry the same `merge_key`, and consecutive
commands with equal keys merge into one undo step. A gesture that ends where it began removes
its step (`setObsolete`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from sim.scene import Scene
from sim.scene_io import SceneError, save_scene, scene_from_dict
from sim.scene_json import scene_to_dict

MERGE_ID = 0x5CE1


def validate_scene(scene: Scene) -> None:
    """Raise SceneError unless `scene` could be saved and loaded back: a round trip through
    the reader checks every field range of the file format first (a floor whose edges cross
    says so, rather than that something left the crossed floor), then the cross-field checks
    (`sim.scene_io.check_scene`: everything inside the room, head clear of the device)."""
    scene_from_dict(scene_to_dict(scene))


class SceneEditCommand(QUndoCommand):
    """Replace the document's scene `old` by `new`; undo puts `old` back.

    merge_key: hashable key of a continuous gesture, e.g. ("move", "listener", 0, 7); None
    means the command never merges.
    """

    def __init__(self, document: SceneDocument, old: Scene, new: Scene, text: str,
                 merge_key: object = None):
        super().__init__(text)
        self.document, self.old, self.new, self.merge_key = document, old, new, merge_key

    def id(self) -> int:
        return MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SceneEditCommand) or other.document is not self.document:
            return False
        if self.merge_key is None or other.merge_key != self.merge_key:
            return False
        self.new = other.new
        self.setObsolete(self.new == self.old)
        return True

    def redo(self) -> None:
        self.document._apply(self.new)

    def undo(self) -> None:
        self.document._apply(self.old)


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
