"""The enhancement part of the main window: the Enhancement dock (bottom, a tab beside
Transfer) with its View toggle, over the window's `SceneDocument`.

The dock starts hidden in a fresh layout and appears from View ▸ Enhancement. A running
enhancement job is cancelled and waited for when the window gets its close event (the job is a
few seconds at most), so the window needs no shutdown call.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

from workbench.enhance_panel import EnhancePanel

DOCK_HEIGHT = 380


class EnhanceWorkspace(QObject):
    """Builds and wires the Enhancement UI of `window` (a MainWindow with `document`,
    `transfer_dock`)."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.panel = EnhancePanel(window.document)
        self.dock = QDockWidget("Enhancement", window)
        self.dock.setObjectName("enhanceDock")
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
        action.setObjectName("actionViewEnhancement")
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
        self.dock.show()
        self.dock.raise_()

    def _status(self, text: str) -> None:
        if text:
            self.window.statusBar().showMessage(text, 10000)

    def shutdown(self) -> None:
        self.panel.shutdown()
