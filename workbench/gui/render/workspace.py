"""The audition part of the main window: the Renderer dock (bottom, a tab beside Transfer),
the Audio menu, the View toggle, audio files dropped on the window, and the status bar's
audio report, wired to one `AuditionController`.

The dock starts hidden in a fresh layout and appears when a file is opened or dropped, or from
View ▸ Renderer.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

from workbench.gui.render.audition_controller import AuditionController
from workbench.gui.render.panel import RendererPanel, audio_paths
from workbench.gui.shell.theme import SceneColors

DOCK_HEIGHT = 330
DOCK_WIDTH = 760


class RendererWorkspace(QObject):
    """Builds and wires the Renderer UI of `window` (a MainWindow with `document`,
    `transfer_dock`, `set_audio_status`)."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.controller = AuditionController(window.document, self)
        self.panel = RendererPanel(self.controller)
        self.dock = QDockWidget("Renderer", window)
        self.dock.setObjectName("rendererDock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self._arrange = QSettings().value("window/state") is None
        if self._arrange:
            self.dock.hide()
        self._placed = not self._arrange
        self._reported = False
        self.panel.message.connect(self._status)
        self.controller.message.connect(self._status)
        self.controller.audioProblemChanged.connect(self._report_audio)
        # After build_window's own PortAudio check (which would hide a device problem).
        QTimer.singleShot(0, lambda: self._report_audio(self.controller.audio_problem))

    # -- menus -----------------------------------------------------------------------------------
    def populate_audio_menu(self, menu: QMenu) -> None:
        p = self.panel
        menu.addAction(p.action_open)
        menu.addSeparator()
        menu.addAction(p.action_play)
        menu.addAction(p.action_stop)
        menu.addSeparator()
        for action in p.path_actions.values():
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(p.action_render)
        menu.addAction(p.action_rebuild)
        menu.addAction(p.action_rescan)
        p.action_open.triggered.connect(lambda: self.show_dock())
        p.action_render.triggered.connect(lambda: self.show_dock())

    def populate_view_menu(self, menu: QMenu) -> None:
        action = self.dock.toggleViewAction()
        action.setObjectName("actionViewRenderer")
        action.triggered.connect(lambda on: self.show_dock() if on else None)
        menu.addAction(action)

    # -- the dock --------------------------------------------------------------------------------
    def show_dock(self) -> None:
        """Show and raise the Renderer dock (first time in a fresh layout: as a tab beside
        Transfer, taller and wider)."""
        w = self.window
        if not self._placed:
            self._placed = True
            w.tabifyDockWidget(w.transfer_dock, self.dock)
            self.dock.show()
            # Wider than Transfer's share of the bottom row: the panel needs the room (the
            # plot docks beside it give some up; the user's later layout is kept).
            w.resizeDocks([self.dock], [DOCK_HEIGHT], Qt.Orientation.Vertical)
            w.resizeDocks([self.dock], [max(DOCK_WIDTH, round(0.6 * w.width()))],
                          Qt.Orientation.Horizontal)
        self.dock.show()
        self.dock.raise_()

    # -- files dropped on the window -------------------------------------------------------------
    def accepts_drop(self, mime) -> bool:
        return bool(audio_paths(mime))

    def drop(self, mime) -> bool:
        """Open the first audio file of a drop on the window."""
        paths = audio_paths(mime)
        if not paths:
            return False
        self.show_dock()
        return self.panel.open_file(paths[0])

    def open_audio(self, path: str | Path) -> bool:
        self.show_dock()
        return self.panel.open_file(path)

    # -- status ----------------------------------------------------------------------------------
    def _status(self, text: str) -> None:
        if text:
            self.window.statusBar().showMessage(text, 10000)

    def _report_audio(self, problem: str) -> None:
        """The status bar's "No audio" marker. A report already there (the app's PortAudio
        check at start) is the same cause in other words, and stays."""
        if self.window.audio_label.isVisible() and not self._reported:
            return
        self._reported = bool(problem)
        self.window.set_audio_status(problem or None)

    # -- theme and shutdown ----------------------------------------------------------------------
    def apply_theme(self, colors: SceneColors) -> None:
        self.panel.apply_theme(colors)

    def shutdown(self) -> None:
        self.controller.shutdown()
        if self.panel.offline.is_running:
            self.panel.offline.cancel()
            self.panel.offline.wait()
