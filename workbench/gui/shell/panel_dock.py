"""A bottom dock holding one tool panel (Enhancement, DRED): a tab beside Transfer with its View
toggle, over the window's `SceneDocument`.

The dock starts hidden in a fresh layout and appears from its View menu entry. The panel's
running job is cancelled and waited for when the window gets its close event (the jobs stop
at their next step), so the window needs no shutdown call. A panel is any QWidget with a
`message(str)` signal, `apply_theme(colors)` and `shutdown()`.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QWidget

from workbench.gui.shell.theme import SceneColors


class PanelDock(QObject):
    """Builds and wires one panel's dock in `window` (a MainWindow with `transfer_dock`).

    title: dock and View menu text; dock_name, action_name: object names (the dock's is kept
    in the saved window layout); height: first-show height in px; min_width: first-show width
    in px (0 = Transfer's share of the bottom row; otherwise the larger of it and 70 % of the
    window).
    """

    def __init__(self, window: QMainWindow, panel: QWidget, title: str, dock_name: str,
                 action_name: str, height: int, min_width: int = 0):
        super().__init__(window)
        self.window = window
        self.panel = panel
        self.action_name = action_name
        self.height, self.min_width = height, min_width
        self.dock = QDockWidget(title, window)
        self.dock.setObjectName(dock_name)
        self.dock.setWidget(panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self._placed = QSettings().value("window/state") is not None
        if not self._placed:
            self.dock.hide()
        panel.message.connect(self._status)
        window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.shutdown()
        return False

    def populate_view_menu(self, menu: QMenu) -> None:
        action = self.dock.toggleViewAction()
        action.setObjectName(self.action_name)
        action.triggered.connect(lambda on: self.show_dock() if on else None)
        menu.addAction(action)

    def show_dock(self) -> None:
        """Show and raise the dock (first time in a fresh layout: as a tab beside Transfer)."""
        w = self.window
        if not self._placed:
            self._placed = True
            w.tabifyDockWidget(w.transfer_dock, self.dock)
            self.dock.show()
            w.resizeDocks([self.dock], [self.height], Qt.Orientation.Vertical)
            if self.min_width:
                # settings, table and plots side by side need more than Transfer's share of the
                # bottom row (the plot docks beside it give some up)
                w.resizeDocks([self.dock], [max(self.min_width, round(0.7 * w.width()))],
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
