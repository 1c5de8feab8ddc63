"""The panel pattern: a feature part of the main window (`Feature`), and `PanelDock`, the
feature made of one tool panel (Enhancement, DRED; the Renderer's workspace builds on it) in a
bottom dock that joins Transfer's tabs when first shown from its View menu entry.

A tool panel is any QWidget with a `message(str)` signal (status-bar text), `apply_theme(colors)`,
`reset()` (the scene was replaced: drop the results of the old one) and `shutdown()` (the window
closes: stop its jobs and audio).
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMainWindow, QWidget

from workbench.gui.shell.actions import Action
from workbench.gui.shell.docks import Place
from workbench.gui.shell.theme import SceneColors


class Feature(Protocol):
    """What the main window asks of each feature (Design, Renderer, a tool panel)."""

    def apply_theme(self, colors: SceneColors) -> None: ...

    def reset(self) -> None:
        """Another scene was opened (or a new one made): drop what was shown for the old one."""

    def shutdown(self) -> None:
        """The window closes: stop jobs and audio."""


def tool_place(height: int, width_share: float = 0.0) -> Place:
    """A tool panel's place: a tab beside Transfer, `height` px high, as wide as its content's
    minimum or `width_share` of the window (settings, tables and plots side by side need more
    than Transfer's share of the bottom row)."""
    return Place(Qt.DockWidgetArea.BottomDockWidgetArea, tab_with="transferDock", tool=True,
                 height=height, width_share=width_share)


class PanelDock(QObject):
    """One tool panel's dock in `window` (a MainWindow with `docks` and `registry`): `title` is
    the dock's and its View entry's text, `dock_name` the dock's objectName (kept in the saved
    layout), `action_id` its View entry's."""

    def __init__(self, window: QMainWindow, panel: QWidget, title: str, dock_name: str,
                 action_id: str, place: Place):
        super().__init__(window)
        self.window = window
        self.panel = panel
        self.name = dock_name
        self.dock = window.docks.add(title, dock_name, panel, place)
        window.registry.add(self, (Action(
            action_id, handler=lambda pd, on: pd.show_dock() if on else None, menu="view",
            make=lambda pd: pd.dock.toggleViewAction()),))
        panel.message.connect(self._status)

    def show_dock(self) -> None:
        """Show and raise the dock (first time since the default layout: as a tab beside
        Transfer)."""
        self.window.docks.show_tool(self.name)

    def _status(self, text: str) -> None:
        if text:
            self.window.statusBar().showMessage(text, 10000)

    def apply_theme(self, colors: SceneColors) -> None:
        self.panel.apply_theme(colors)

    def reset(self) -> None:
        self.panel.reset()

    def shutdown(self) -> None:
        self.panel.shutdown()
