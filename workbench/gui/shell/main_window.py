"""The main window: scene editor in the centre, properties, history and transfer docks, status
bar, crash recovery and the transfer simulations run in the background. Around it:
the commands (menus and toolbar) are declared in `actions`, the docks and their layout live in
`docks`, the file handling in `scene_files`; the features — the filter design
(`DesignWorkspace`), the audition (`RendererWorkspace`), the Enhancement, DRED, Voice Chain and
Sweep tool panels (`PanelDock`) — each follow the `panel_dock.Feature` pattern.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QToolBar,
    QToolButton,
    QUndoView,
    QWidget,
)

from dsp.room_acoustics import decay_times
from sim.scene import Scene
from sim.scene_io import SceneError
from workbench import APP_NAME, __version__
from workbench.gui.chain.panel import ChainPanel
from workbench.gui.design.transfer_view import TransferView
from workbench.gui.design.workspace import DesignWorkspace
from workbench.gui.device.feature import DeviceTools
from workbench.gui.dred.panel import DredPanel
from workbench.gui.enhance.panel import EnhancePanel
from workbench.gui.plots.base import install_placeholders
from workbench.gui.render.workspace import RendererWorkspace
from workbench.gui.scene import edits
from workbench.gui.scene.document import SceneDocument
from workbench.gui.scene.editor import SceneEditor
from workbench.gui.scene.properties import PropertiesPanel
from workbench.gui.scene.scene_view import SceneView
from workbench.gui.shell.actions import ActionRegistry, window_actions
from workbench.gui.shell.docks import Docks, Place
from workbench.gui.shell.panel_dock import PanelDock, tool_place
from workbench.gui.shell.recovery import Recovery, RecoveryFile
from workbench.gui.shell.scene_files import SceneFiles
from workbench.gui.shell.settings import SNAP, THEME
from workbench.gui.shell.signals import connect_signals
from workbench.gui.shell.theme import THEMES, apply_theme, scene_colors
from workbench.gui.shell.worker import JobRunner
from workbench.gui.sweep.floor_overlay import SweepFloorOverlay
from workbench.gui.sweep.panel import SweepPanel
from workbench.jobs import transfer as transfer_job
from workbench.jobs.transfer import TransferRequest

log = logging.getLogger(__name__)

MAX_DECAY_RESPONSES = 16
"""Responses of a room simulation whose decay times the room's RT60 table averages (the
first listener's first; enough for a mean, quick on the GUI thread)."""
ENGINE_LABELS = {("freefield", False): "Free-field simulation",
                 ("room", False): "Room simulation",
                 ("room", True): "Room simulation (early part)"}


def ask_restore_recovery(parent: QWidget, leftover: RecoveryFile) -> bool:
    """Ask whether to restore an autosave left by a crashed session (tests replace this)."""
    import datetime

    when = datetime.datetime.fromtimestamp(leftover.saved_at).strftime("%Y-%m-%d %H:%M:%S")
    origin = str(leftover.original_path) if leftover.original_path else "an unsaved scene"
    answer = QMessageBox.question(
        parent, "Restore unsaved work?",
        f"{APP_NAME} did not close normally. An autosaved copy of “{leftover.name}” "
        f"({origin}) from {when} was found.\n\nRestore it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes


def describe_job_error(error: BaseException, what: str) -> str:
    """A message for users about a failed job."""
    if isinstance(error, ImportError):
        missing = getattr(error, "name", None) or str(error)
        return (f"{what} is not available in this build: the module {missing} is missing "
                f"({error}). The other engines still work.")
    if isinstance(error, SceneError):
        return f"{what} refused the scene: {error}"
    return f"{what} failed: {type(error).__name__}: {error}"


class MainWindow(SceneFiles, QMainWindow):
    """The application window over one SceneDocument."""

    AUTOSAVE_MS = 1000

    def __init__(self, scene: Scene, path: str | Path | None = None, *,
                 recovery_dir: str | Path | None = None):
        super().__init__()
        self.setObjectName("MainWindow")
        self.document = SceneDocument(scene, path, self)
        self.view = SceneView(self.document, self)
        self.view.setObjectName("sceneView")
        self.view.snapping = SNAP.get()
        self.setCentralWidget(self.view)
        self.properties = PropertiesPanel(self.document)
        self.transfer_view = TransferView()
        self.history_view = QUndoView(self.document.undo_stack)
        self.history_view.setEmptyLabel("<opened>")
        self.runner = JobRunner(self)
        self.recovery = Recovery(recovery_dir)
        self._result_scene: Scene | None = None
        self._job_scene: Scene | None = None
        self._job_label = ""
        self._autosave_error_logged = False
        self._autosave_timer = QTimer(self)
        self._autosave_timer.setSingleShot(True)
        self._autosave_timer.setInterval(self.AUTOSAVE_MS)
        self._autosave_timer.timeout.connect(self.autosave_now)

        self.docks = Docks(self)
        self._create_docks()
        self.scene_editor = SceneEditor(self.view, self.show_properties, self)
        self.registry = ActionRegistry()
        self.registry.add(self, window_actions())
        self.theme_actions = {t: self.registry[f"actionTheme_{t}"] for t in THEMES}
        self.design = DesignWorkspace(self)
        self.renderer = RendererWorkspace(self)
        self.enhance = PanelDock(self, EnhancePanel(self.document), "Enhancement", "enhanceDock",
                                 "actionViewEnhancement", tool_place(height=380))
        self.dred = PanelDock(self, DredPanel(self.document), "DRED", "dredDock",
                              "actionViewDred", tool_place(440, width_share=0.7))
        self.chain = PanelDock(self, ChainPanel(self.document), "Voice Chain", "chainDock",
                               "actionViewVoiceChain", tool_place(440, width_share=0.8))
        self.sweep = PanelDock(self, SweepPanel(), "Sweep", "sweepDock", "actionViewSweep",
                               tool_place(440, width_share=0.7))
        self.sweep.panel.set_scene(self.document.scene)
        self.device_tools = DeviceTools(self)
        self.sweep_overlay = SweepFloorOverlay(self, self.sweep.panel)
        self.features = (self.design, self.renderer, self.enhance, self.dred, self.chain,
                         self.sweep, self.sweep_overlay, self.device_tools)
        self.registry.build_menus(self.menuBar())
        self.recent_menu = self.registry.menus["file/recent"]
        self.recent_menu.aboutToShow.connect(self._rebuild_recent_menu)
        self._rebuild_recent_menu()
        self._create_toolbar()
        self._create_status_bar()
        self._connect()
        install_placeholders(self)
        self.setAcceptDrops(True)
        self.docks.restore()
        self._update_title()
        self._update_selection_status()

    # -- construction ------------------------------------------------------------------------------
    def _create_docks(self) -> None:
        right = Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.properties_dock = self.docks.add("Properties", "propertiesDock", self.properties,
                                              Place(right, front=True, width=330))
        self.history_dock = self.docks.add("History", "historyDock", self.history_view,
                                           Place(right, tab_with="propertiesDock"))
        self.transfer_dock = self.docks.add("Transfer", "transferDock", self.transfer_view,
                                            Place(bottom, width=480, height=250))

    def _create_toolbar(self) -> None:
        tb = QToolBar("Main", self)
        tb.setObjectName("mainToolBar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.registry.build_toolbar(tb)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.toolbar = tb

    def _create_status_bar(self) -> None:
        sb = self.statusBar()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setMaximumWidth(180)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setObjectName("cancelJob")
        self.cancel_button.clicked.connect(self.cancel_job)
        self.cancel_button.setVisible(False)
        self.selection_label = QLabel()
        self.selection_label.setObjectName("selectionStatus")
        self.cursor_label = QLabel()
        self.cursor_label.setObjectName("cursorStatus")
        self.cursor_label.setMinimumWidth(170)
        self.audio_label = QLabel()
        self.audio_label.setObjectName("audioStatus")
        self.audio_label.setVisible(False)
        for w in (self.progress_bar, self.cancel_button, self.selection_label, self.cursor_label,
                  self.audio_label):
            sb.addPermanentWidget(w)

    def _connect(self) -> None:
        doc = self.document
        doc.changed.connect(self._on_scene_changed)
        doc.modifiedChanged.connect(lambda _m: self._update_title())
        doc.pathChanged.connect(self._update_title)
        doc.edited.connect(self._schedule_autosave)
        self.view.selectionChanged.connect(self._on_selection_changed)
        self.view.cursorMoved.connect(self._on_cursor_moved)
        self.view.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.properties.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.scene_editor.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        doc.changed.connect(self.registry.refresh)  # Delete / Duplicate follow the selection
        # A clicked sweep case becomes the scene as one undoable edit; the next sweep starts
        # from whatever the scene is when Run is pressed.
        self.sweep.panel.scene_requested.connect(lambda s: doc.push(s, "Load Sweep Case"))
        doc.changed.connect(lambda: setattr(self.sweep.panel, "scene", doc.scene))
        connect_signals(self.runner, progress=self._on_job_progress,
                        finished=self._on_job_finished, failed=self._on_job_failed,
                        cancelled=self._on_job_cancelled, done=self._on_job_done)

    # -- title, status -----------------------------------------------------------------------------
    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document.display_name}[*] — {APP_NAME}")
        self.setWindowModified(self.document.is_modified)

    def _on_scene_changed(self) -> None:
        self._update_selection_status()
        if self._result_scene is not None:
            self.transfer_view.set_stale(self.document.scene != self._result_scene)

    def _on_selection_changed(self, key) -> None:
        self.properties.set_target(key)
        self.registry.refresh()
        if key is not None and key[0] == "listener":
            self.transfer_view.select_listener(key[1])
        self._update_selection_status()

    def _update_selection_status(self) -> None:
        key = self.view.selected_key
        scene = self.document.scene
        if key is None or not edits.exists(scene, key):
            self.selection_label.setText("")
            return
        text = edits.label_of(scene, key)
        pos = edits.position_of(scene, key)
        if pos is not None:
            text += f"  x {pos[0]:.3f}  y {pos[1]:.3f}  z {pos[2]:.3f} m"
        yaw = edits.yaw_of(scene, key)
        if yaw is not None:
            text += f"  yaw {yaw:.1f}°"
        self.selection_label.setText(text)

    def show_properties(self) -> None:
        """Bring the properties of the selection forward (a context menu's Properties…)."""
        self.properties_dock.show()
        self.properties_dock.raise_()

    def _on_cursor_moved(self, x: float, y: float) -> None:
        self.cursor_label.setText(f"cursor  x {x:7.3f}  y {y:7.3f} m")

    def set_audio_status(self, problem: str | None) -> None:
        """Show whether audio playback is available (None: it is)."""
        self.audio_label.setVisible(problem is not None)
        if problem:
            self.audio_label.setText("No audio")
            self.audio_label.setToolTip(problem)
            self.statusBar().showMessage(problem, 15000)

    # -- crash recovery --------------------------------------------------------------------------
    def offer_recovery(self) -> bool:
        """Offer to restore autosaves left by sessions that did not end cleanly, newest first.
        Declined copies are deleted; unusable ones were set aside (renamed, kept) by the scan
        and are reported in the log and the status bar. True when one was restored."""
        scan = self.recovery.scan()
        for bad in scan.set_aside:
            log.warning("%s", bad.describe())
        note = ""
        if scan.set_aside:
            more = f" (and {len(scan.set_aside) - 1} more)" if len(scan.set_aside) > 1 else ""
            note = scan.set_aside[0].describe() + more
        restored = False
        for leftover in scan.found:
            if not ask_restore_recovery(self, leftover):
                leftover.remove()
                continue
            self._replace_document(leftover.scene, leftover.original_path, modified=True)
            leftover.remove()
            self.autosave_now()
            log.info("restored autosave %s", leftover.scene_file)
            note = " ".join(("Restored the autosaved scene; save it to keep it.", note))
            restored = True
            break
        if note:
            self.statusBar().showMessage(note.strip(), 15000)
        return restored

    # -- simulation --------------------------------------------------------------------------------
    def simulate(self, engine: str, early_only: bool = False) -> bool:
        """Start a transfer simulation of the current scene in the background."""
        if self.runner.is_running:
            self.statusBar().showMessage("A simulation is already running.", 4000)
            return False
        label = ENGINE_LABELS[(engine, early_only)]
        self._job_scene = self.document.scene
        self._job_label = label
        self.runner.start(transfer_job.run,
                          TransferRequest(self._job_scene, engine, early_only=early_only),
                          label=label)
        self.registry.refresh()
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(f"{label}: %p%")
        self.progress_bar.setVisible(True)
        self.cancel_button.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.statusBar().showMessage(f"{label} running…")
        return True

    def cancel_job(self) -> None:
        if self.runner.is_running:
            self.runner.cancel()
            self.cancel_button.setEnabled(False)
            self.statusBar().showMessage(f"Cancelling {self._job_label.lower()}…")

    def _on_job_progress(self, fraction: float, message: str) -> None:
        self.progress_bar.setValue(round(100 * fraction))
        if message:
            self.statusBar().showMessage(f"{self._job_label}: {message}")

    def _on_job_finished(self, result) -> None:
        self._result_scene = self._job_scene
        self.transfer_view.set_result(result, self._job_scene)
        key = self.view.selected_key
        if key is not None and key[0] == "listener":
            self.transfer_view.select_listener(key[1])
        self.transfer_view.set_stale(self.document.scene != self._result_scene)
        if result.engine == "room" and not result.meta.get("early_only"):
            irs = result.ir.reshape(-1, result.ir.shape[-1])[:MAX_DECAY_RESPONSES]
            self.properties.set_measured(decay_times(irs, result.fs_hz), self._job_scene.room)
        self.transfer_dock.show()
        self.transfer_dock.raise_()
        self.statusBar().showMessage(
            f"{self._job_label} finished in {self.runner.elapsed_s:.2f} s", 8000)

    def _on_job_failed(self, error: BaseException, text: str) -> None:
        message = describe_job_error(error, self._job_label)
        log.error("%s", message)
        self.transfer_view.show_message(message, error=True)
        self.statusBar().showMessage(message, 10000)
        QMessageBox.critical(self, "Simulation failed", message)

    def _on_job_cancelled(self) -> None:
        self.statusBar().showMessage(f"{self._job_label} cancelled.", 8000)
        self.transfer_view.show_message(f"{self._job_label} cancelled.")

    def _on_job_done(self) -> None:
        self.registry.refresh()
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)

    # -- view options ------------------------------------------------------------------------------
    def set_snapping(self, on: bool) -> None:
        """View ▸ Snap to Grid (remembered)."""
        self.view.snapping = on
        SNAP.set(on)
        self.statusBar().showMessage("Snapping " + ("on: 5 cm, 5°" if on else "off"), 3000)

    def set_theme(self, theme: str) -> None:
        app = QApplication.instance()
        theme = apply_theme(app, theme)
        THEME.set(theme)
        colors = scene_colors(theme)
        self.view.set_colors(colors)
        self.transfer_view.apply_theme(colors)
        for feature in self.features:
            feature.apply_theme(colors)
        self.properties.refresh()
        self.theme_actions[theme].setChecked(True)

    # -- help --------------------------------------------------------------------------------------
    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b> {__version__}<br>Loudspeaker devices, listeners "
                          "and rooms: transfer, filter design, rendering.")

    def show_mouse_help(self) -> None:
        from workbench.gui.scene import scene_view

        QMessageBox.information(self, "Mouse and Keys", scene_view.__doc__.split("Mouse and keys:")
                                [1].split("Moves that")[0].strip())

    # -- drag and drop of scene files (and audio files, for the Renderer) -------------------------
    def dragEnterEvent(self, event) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if any(u.toLocalFile().lower().endswith(".json") for u in urls) \
                or self.renderer.accepts_drop(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        if self.renderer.accepts_drop(event.mimeData()):
            event.acceptProposedAction()
            self.renderer.drop(event.mimeData())
            return
        for url in event.mimeData().urls():
            if url.toLocalFile().lower().endswith(".json"):
                event.acceptProposedAction()
                self.open_file(url.toLocalFile())
                return

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.docks.window_shown()

    # -- closing -----------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.shut_down()
        self.docks.save()
        self.recovery.clear()
        event.accept()

    def shut_down(self) -> None:
        """Stop every job and the audio and wait for their threads: on close, and again (a
        no-op then) by `app.main` after the event loop, for a quit that closed no window."""
        self._autosave_timer.stop()
        if self.runner.is_running:
            self.runner.cancel()
            if not self.runner.wait(10000):
                log.warning("the background job did not stop within 10 s")
        for feature in self.features:
            feature.shutdown()
