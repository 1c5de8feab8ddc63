"""Undo commands. Every edit of the scene is one `SceneEditCommand` that swaps an old Scene for a
new one (scenes are frozen dataclasses, so both are cheap to keep).

Continuous gestures (a mouse drag, wheel rotation, spin-box steps of one field) carry the same
`merge_key`, and consecutive commands with equal keys merge into one undo step. A gesture that
ends where it began removes its step (`setObsolete`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

if TYPE_CHECKING:
    from sim.scene import Scene
    from workbench.gui.scene.document import SceneDocument

MERGE_ID = 0x5CE1


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
