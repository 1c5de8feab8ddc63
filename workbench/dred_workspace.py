"""The DRED part of the main window: the DRED dock (bottom, a tab beside Transfer) with its View
toggle, over the window's `SceneDocument`.

The dock starts hidden in a fresh layout and appears from View ▸ DRED. A running job is
cancelled and waited for when the window gets its close event (it stops at its next packet),
so the window needs no shutdown call.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

from workbench.dred_panel import DredPanel
from workbench.theme import SceneColors

DOCK_HEIGHT = 440
DOCK_WIDTH = 1100


class DredWorkspace(QObject):
    """Builds and wires the DRED UI of `window` (a MainWindow with `document`,
    `transfer_dock`)."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.panel = DredPanel(window.document)
        self.dock = QDockWidget("DRED", window)
        self.dock.setObjectName("dredDock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self._placed = QSettings().value("window/state") is not None
        if not self._placed:
            self.dock.hide()
        self.panel.message.connect(self._status)
        window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.shutdown()
        return False

    def populate_view_menu(self, menu: QMenu) -> None:
        action = self.dock.toggleViewAction()
        action.setObjectName("actionViewDred")
        action.triggered.connect(lambda on: self.show_dock() if on else None)
        menu.addAction(action)

    def show_dock(self) -> None:
        """Show and raise the dock (first time in a fresh layout: as a tab beside Transfer)."""
        w = self.window
        if not self._placed:
            self._placed = True
            w.tabifyDockWidget(w.transfer_dock, self.dock)
            self.dock.show()
            w.resizeDocks([self.dock], [DOCK_HEIGHT], Qt.Orientation.Vertical)
            # Settings, the table and the plots side by side need more than Transfer's share
            # of the bottom row (the plot docks beside it give some up).
            w.resizeDocks([self.dock], [max(DOCK_WIDTH, round(0.7 * w.width()))],
                          Qt.Orientation.Horizontal)
        self.dock.show()
        self.dock.raise_()

    def _status(self, text: str) -> None:
        if text:
            self.window.statusBar().showMessage(text, 10000)

    def apply_theme(self, colors: SceneColors) -> None:
        self.panel.apply_theme(colors)

    def shutdown(self) -> None:
        self.panel.shutdown()
