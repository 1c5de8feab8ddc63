"""The audition part of the main window: the Renderer dock (a tool panel, `PanelDock`: a tab
beside Transfer once shown, with its View toggle), the Audio menu (the panel's actions), audio
files dropped on the window, and the status bar's audio report, wired to one
`AuditionController`.

The dock starts hidden in the default layout and appears when a file is opened or dropped, or
from View ▸ Renderer.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMainWindow

from workbench.gui.render.audition_controller import AuditionController
from workbench.gui.render.panel import RendererPanel, audio_paths
from workbench.gui.shell.panel_dock import PanelDock, tool_place

PLACE = tool_place(height=330, width_share=0.45)
"""Taller and wider than Transfer's share of the bottom row: the panel needs the room (the plot
docks beside it give some up)."""


class RendererWorkspace(PanelDock):
    """Builds and wires the Renderer UI of `window` (a MainWindow with `document`, `docks`,
    `registry`, `set_audio_status`)."""

    def __init__(self, window: QMainWindow):
        controller = AuditionController(window.document)
        super().__init__(window, RendererPanel(controller), "Renderer", "rendererDock",
                         "actionViewRenderer", PLACE)
        controller.setParent(self)
        self.controller = controller
        window.registry.include(self.panel.action_set)
        self.panel.action_open.triggered.connect(lambda: self.show_dock())
        self.panel.action_render.triggered.connect(lambda: self.show_dock())
        self._reported = False
        self.controller.message.connect(self._status)
        self.controller.audioProblemChanged.connect(self._report_audio)
        # After build_window's own PortAudio check (which would hide a device problem).
        # With self as context: dropped when the window is deleted before the event loop runs.
        QTimer.singleShot(0, self, lambda: self._report_audio(self.controller.audio_problem))

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
    def _report_audio(self, problem: str) -> None:
        """The status bar's "No audio" marker. A report already there (the app's PortAudio
        check at start) is the same cause in other words, and stays."""
        if self.window.audio_label.isVisible() and not self._reported:
            return
        self._reported = bool(problem)
        self.window.set_audio_status(problem or None)

    # -- the feature pattern ---------------------------------------------------------------------
    def shutdown(self) -> None:
        self.controller.shutdown()
        if self.panel.offline.is_running:
            self.panel.offline.cancel()
            self.panel.offline.wait()
