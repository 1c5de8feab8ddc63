"""The main window: scene editor in the centre, properties and transfer docks, menus, status bar,
file handling (new/open/save, recent files, autosave and crash recovery) and simulations run
in the background. The filter design (panel, plot docks, zone overlay, Design menu) is a
`DesignWorkspace` built into the window; the audition (Renderer dock, Audio menu, audio files
dropped on the window) a `RendererWorkspace`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QToolBar,
    QToolButton,
    QUndoView,
    QWidget,
)

from sim.presets import list_presets
from sim.scene import Scene
from sim.scene_io import SceneError, load_scene
from workbench import APP_NAME, __version__
from workbench.gui.design.transfer_view import TransferView
from workbench.gui.design.workspace import DesignWorkspace
from workbench.gui.dred.panel import DredPanel
from workbench.gui.enhance.panel import EnhancePanel
from workbench.gui.render.workspace import RendererWorkspace
from workbench.gui.scene import edits
from workbench.gui.scene.document import SceneDocument
from workbench.gui.scene.properties import PropertiesPanel
from workbench.gui.scene.scene_view import SceneView
from workbench.gui.shell.panel_dock import PanelDock
from workbench.gui.shell.recent import add_recent_file, clear_recent_files, recent_files
from workbench.gui.shell.recovery import Recovery, RecoveryFile
from workbench.gui.shell.theme import THEMES, apply_theme, current_theme, save_theme, scene_colors
from workbench.gui.shell.worker import JobRunner
from workbench.jobs import transfer as transfer_job
from workbench.jobs.transfer import TransferRequest

log = logging.getLogger(__name__)

SCENE_FILTER = "Scene files (*.json);;All files (*)"
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


class MainWindow(QMainWindow):
    """The application window over one SceneDocument."""

    AUTOSAVE_MS = 1000

    def __init__(self, scene: Scene, path: str | Path | None = None, *,
                 recovery_dir: str | Path | None = None):
        super().__init__()
        self.setObjectName("MainWindow")
        self.document = SceneDocument(scene, path, self)
        self.view = SceneView(self.document, self)
        self.view.setObjectName("sceneView")
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

        self._create_docks()
        self.design = DesignWorkspace(self)
        self.renderer = RendererWorkspace(self)
        self.enhance = PanelDock(self, EnhancePanel(self.document), "Enhancement", "enhanceDock",
                                 "actionViewEnhancement", height=380)
        self.dred = PanelDock(self, DredPanel(self.document), "DRED", "dredDock", "actionViewDred",
                              height=440, min_width=1100)
        self._create_actions()
        self._create_menus()
        self._create_toolbar()
        self._create_status_bar()
        self._connect()
        self.setAcceptDrops(True)
        self.resize(1380, 880)
        self._restore_settings()
        self._update_title()
        self._update_selection_status()

    # -- construction ------------------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _create_docks(self) -> None:
        right = Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.properties_dock = self._dock("Properties", "propertiesDock", self.properties, right)
        self.history_dock = self._dock("History", "historyDock", self.history_view, right)
        self.tabifyDockWidget(self.properties_dock, self.history_dock)
        self.properties_dock.raise_()
        self.transfer_dock = self._dock("Transfer", "transferDock", self.transfer_view, bottom)
        self.resizeDocks([self.properties_dock], [330], Qt.Orientation.Horizontal)
        self.resizeDocks([self.transfer_dock], [250], Qt.Orientation.Vertical)

    def _action(self, text: str, slot=None, shortcut=None, tip: str = "", name: str = "",
                checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                action.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                action.setShortcut(QKeySequence(shortcut))
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        tip = tip or text.replace("&", "").rstrip(".…")
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.setCheckable(checkable)
        if name:
            action.setObjectName(name)
        if slot is not None:
            (action.toggled if checkable else action.triggered).connect(slot)
        return action

    def _create_actions(self) -> None:
        ks = QKeySequence.StandardKey
        self.action_new = self._action("&New", lambda: self.new_from_preset("default"), ks.New,
                                       "New scene from the default preset", "actionNew")
        self.action_open = self._action("&Open…", lambda: self.open_file(), ks.Open,
                                        "Open a scene file", "actionOpen")
        self.action_save = self._action("&Save", self.save, ks.Save, "Save the scene",
                                        "actionSave")
        self.action_save_as = self._action("Save &As…", self.save_as, ks.SaveAs,
                                           "Save the scene to a new file", "actionSaveAs")
        if self.action_save_as.shortcut().isEmpty():
            self.action_save_as.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.action_quit = self._action("&Quit", self.close, ks.Quit, "Quit the application",
                                        "actionQuit")
        if self.action_quit.shortcut().isEmpty():
            self.action_quit.setShortcut(QKeySequence("Ctrl+Q"))

        stack = self.document.undo_stack
        self.action_undo = stack.createUndoAction(self, "&Undo")
        self.action_undo.setObjectName("actionUndo")
        self.action_undo.setShortcuts(QKeySequence.keyBindings(ks.Undo))
        self.action_redo = stack.createRedoAction(self, "&Redo")
        self.action_redo.setObjectName("actionRedo")
        redo_keys = QKeySequence.keyBindings(ks.Redo)
        if QKeySequence("Ctrl+Y") not in redo_keys:
            redo_keys.append(QKeySequence("Ctrl+Y"))
        self.action_redo.setShortcuts(redo_keys)

        self.action_snap = self._action("&Snap to Grid (5 cm, 5°)", self._set_snapping, "Ctrl+G",
                                        "Snap moves to a 5 cm grid and rotations to 5°",
                                        "actionSnap", checkable=True)
        self.action_fit = self._action("&Fit to Room", self.view.fit_to_room, "Ctrl+0",
                                       "Zoom to show the whole room", "actionFit")
        self.action_zoom_in = self._action("Zoom &In", lambda: self.view.zoom_by(1.25),
                                           ks.ZoomIn, "Zoom in", "actionZoomIn")
        self.action_zoom_out = self._action("Zoom &Out", lambda: self.view.zoom_by(0.8),
                                            ks.ZoomOut, "Zoom out", "actionZoomOut")
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for theme in THEMES:
            action = self._action(f"&{theme.capitalize()}", None, None,
                                  f"Switch to the {theme} theme", f"actionTheme_{theme}",
                                  checkable=True)
            action.triggered.connect(lambda _c=False, t=theme: self.set_theme(t))
            self.theme_group.addAction(action)
            self.theme_actions[theme] = action

        self.action_sim_free = self._action("&Free Field", lambda: self.simulate("freefield"),
                                            "F5", "Simulate the free-field transfer",
                                            "actionSimulateFreeField")
        self.action_sim_room = self._action("&Room (full)", lambda: self.simulate("room"),
                                            "Ctrl+F5", "Simulate the room (image sources + "
                                            "ray tracing)", "actionSimulateRoom")
        self.action_sim_early = self._action(
            "Room (&early only)", lambda: self.simulate("room", early_only=True), "Shift+F5",
            "Simulate the early part of the room response (fast)", "actionSimulateRoomEarly")
        self.action_stop = self._action("&Stop", self.cancel_job, "Ctrl+.",
                                        "Cancel the running simulation", "actionStop")
        self.action_stop.setEnabled(False)
        self.action_about = self._action(f"&About {APP_NAME}", self._about, None, "",
                                         "actionAbout")
        self.action_help_mouse = self._action("&Mouse and Keys", self._mouse_help, "F1", "",
                                              "actionMouseHelp")

    def _create_menus(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        m.addAction(self.action_new)
        self.preset_menu = m.addMenu("New from &Preset")
        self.preset_menu.setObjectName("menuNewFromPreset")
        for info in list_presets("scene"):
            action = self.preset_menu.addAction(info.name)
            action.setObjectName(f"actionPreset_{info.name}")
            action.setStatusTip(info.description)
            action.setToolTip(info.description)
            action.triggered.connect(lambda _c=False, n=info.name: self.new_from_preset(n))
        m.addSeparator()
        m.addAction(self.action_open)
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.setObjectName("menuRecent")
        self.recent_menu.aboutToShow.connect(self._rebuild_recent_menu)
        self._rebuild_recent_menu()
        m.addSeparator()
        m.addAction(self.action_save)
        m.addAction(self.action_save_as)
        m.addSeparator()
        m.addAction(self.action_quit)

        m = bar.addMenu("&Edit")
        m.addAction(self.action_undo)
        m.addAction(self.action_redo)

        m = bar.addMenu("&View")
        m.addAction(self.properties_dock.toggleViewAction())
        m.addAction(self.transfer_dock.toggleViewAction())
        m.addAction(self.history_dock.toggleViewAction())
        self.design.populate_view_menu(m)
        self.renderer.populate_view_menu(m)
        self.enhance.populate_view_menu(m)
        self.dred.populate_view_menu(m)
        m.addSeparator()
        m.addAction(self.action_snap)
        m.addAction(self.action_fit)
        m.addAction(self.action_zoom_in)
        m.addAction(self.action_zoom_out)
        m.addSeparator()
        theme_menu = m.addMenu("&Theme")
        for action in self.theme_actions.values():
            theme_menu.addAction(action)

        m = bar.addMenu("&Simulate")
        m.addAction(self.action_sim_free)
        m.addAction(self.action_sim_room)
        m.addAction(self.action_sim_early)
        m.addSeparator()
        m.addAction(self.action_stop)

        m = bar.addMenu("&Design")
        m.setObjectName("menuDesign")
        self.design.populate_design_menu(m)

        m = bar.addMenu("&Audio")
        m.setObjectName("menuAudio")
        self.renderer.populate_audio_menu(m)

        m = bar.addMenu("&Help")
        m.addAction(self.action_help_mouse)
        m.addAction(self.action_about)

    def _create_toolbar(self) -> None:
        tb = QToolBar("Main", self)
        tb.setObjectName("mainToolBar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.action_open, self.action_save, None, self.action_undo,
                       self.action_redo, None, self.action_snap, self.action_fit, None,
                       self.action_sim_free, self.action_sim_early, self.action_sim_room,
                       self.action_stop, None, self.design.action_redesign,
                       self.design.action_export):
            if action is None:
                tb.addSeparator()
            else:
                tb.addAction(action)
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
        sb.addPermanentWidget(self.progress_bar)
        sb.addPermanentWidget(self.cancel_button)
        sb.addPermanentWidget(self.selection_label)
        sb.addPermanentWidget(self.cursor_label)
        sb.addPermanentWidget(self.audio_label)

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
        r = self.runner
        r.progress.connect(self._on_job_progress)
        r.finished.connect(self._on_job_finished)
        r.failed.connect(self._on_job_failed)
        r.cancelled.connect(self._on_job_cancelled)
        r.done.connect(self._on_job_done)

    # -- settings ----------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        s = QSettings()
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = s.value("window/state")
        if state is not None:
            self.restoreState(state)
        snap = s.value("view/snap", True)
        snap = snap if isinstance(snap, bool) else str(snap).lower() == "true"
        self.action_snap.blockSignals(True)  # no "Snapping on" message at start
        self.action_snap.setChecked(snap)
        self.action_snap.blockSignals(False)
        self.view.snapping = snap
        self.theme_actions[current_theme()].setChecked(True)

    def _save_settings(self) -> None:
        s = QSettings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("view/snap", self.view.snapping)

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

    def _on_cursor_moved(self, x: float, y: float) -> None:
        self.cursor_label.setText(f"cursor  x {x:7.3f}  y {y:7.3f} m")

    def set_audio_status(self, problem: str | None) -> None:
        """Show whether audio playback is available (None: it is)."""
        self.audio_label.setVisible(problem is not None)
        if problem:
            self.audio_label.setText("No audio")
            self.audio_label.setToolTip(problem)
            self.statusBar().showMessage(problem, 15000)

    # -- file handling -----------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """True when it is fine to drop the current document (saved, discarded or unmodified)."""
        if not self.document.is_modified:
            return True
        answer = QMessageBox.warning(
            self, APP_NAME,
            f"The scene “{self.document.display_name}” has unsaved changes.\n"
            "Do you want to save them?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def _start_dir(self) -> str:
        if self.document.path:
            return str(self.document.path.parent)
        return str(QSettings().value("file/lastDir", str(Path.home())))

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._write(self.document.path)

    def save_as(self) -> bool:
        suggestion = str(Path(self._start_dir()) / f"{self.document.display_name}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save Scene As", suggestion, SCENE_FILTER)
        if not path:
            return False
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".json")
        return self._write(path)

    def _write(self, path: Path) -> bool:
        try:
            saved = self.document.save(path)
        except (SceneError, OSError) as e:
            log.error("saving %s failed: %s", path, e)
            QMessageBox.critical(self, "Save failed", f"The scene was not saved.\n\n{e}")
            return False
        self.remember_recent(saved)
        QSettings().setValue("file/lastDir", str(saved.parent))
        self._autosave_timer.stop()
        self.recovery.clear()
        self.statusBar().showMessage(f"Saved {saved}", 5000)
        log.info("saved %s", saved)
        return True

    def open_file(self, path: str | Path | None = None) -> bool:
        if not self.maybe_save():
            return False
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(self, "Open Scene", self._start_dir(),
                                                    SCENE_FILTER)
            if not chosen:
                return False
            path = chosen
        path = Path(path)
        try:
            scene = load_scene(path)
        except SceneError as e:
            log.error("opening %s failed: %s", path, e)
            QMessageBox.critical(self, "Cannot open scene", str(e))
            return False
        self._replace_document(scene, path)
        self.remember_recent(path)
        QSettings().setValue("file/lastDir", str(path.parent))
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def new_from_preset(self, name: str) -> bool:
        if not self.maybe_save():
            return False
        try:
            scene = load_scene(name)
        except SceneError as e:
            QMessageBox.critical(self, "Cannot load preset", str(e))
            return False
        self._replace_document(scene, None)
        self.statusBar().showMessage(f"New scene from preset “{name}”", 5000)
        return True

    def _replace_document(self, scene: Scene, path: Path | None, modified: bool = False) -> None:
        self.view.select(None)
        self.document.reset(scene, path, modified=modified)
        self._result_scene = None
        self.transfer_view.clear()
        self.transfer_view.show_message("New scene: press F5 to simulate.")
        self.design.scene_replaced()
        self.view.fit_to_room()
        self._update_title()

    def _rebuild_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        files = recent_files()
        for i, path in enumerate(files):
            action = menu.addAction(f"&{(i + 1) % 10} {path.name}  —  {path.parent}")
            action.setData(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _c=False, p=path: self.open_file(p))
        if files:
            menu.addSeparator()
        clear = menu.addAction("&Clear Menu")
        clear.setObjectName("actionClearRecent")
        clear.setEnabled(bool(files))
        clear.triggered.connect(self._clear_recent)

    def remember_recent(self, path: str | Path) -> None:
        """Put `path` first in the recent files (settings and menu)."""
        add_recent_file(path)
        self._rebuild_recent_menu()

    def recent_paths(self) -> list[Path]:
        """The files the Open Recent menu lists."""
        return [Path(a.data()) for a in self.recent_menu.actions() if a.data()]

    def _clear_recent(self) -> None:
        clear_recent_files()
        self._rebuild_recent_menu()

    # -- autosave / recovery -----------------------------------------------------------------------
    def _schedule_autosave(self) -> None:
        if self.document.is_modified:
            self._autosave_timer.start()
        else:
            self._autosave_timer.stop()
            self.recovery.clear()

    def autosave_now(self) -> None:
        """Write (or, when clean, remove) the recovery copy of the document."""
        try:
            if self.document.is_modified:
                self.recovery.write(self.document.scene, self.document.path)
            else:
                self.recovery.clear()
        except OSError as e:
            if not self._autosave_error_logged:
                log.error("autosave to %s failed: %s", self.recovery.directory, e)
                self.statusBar().showMessage(f"Autosave failed: {e}", 8000)
                self._autosave_error_logged = True

    def offer_recovery(self) -> bool:
        """Offer to restore autosaves left by sessions that did not end cleanly, newest first.
        Declined copies are deleted. True when one was restored."""
        for leftover in self.recovery.leftovers():
            if not ask_restore_recovery(self, leftover):
                leftover.remove()
                continue
            try:
                scene = leftover.load()
            except SceneError as e:
                log.error("recovery file %s is unreadable: %s", leftover.scene_file, e)
                QMessageBox.critical(self, "Cannot restore", str(e))
                leftover.remove()
                continue
            self._replace_document(scene, leftover.original_path, modified=True)
            leftover.remove()
            self.autosave_now()
            self.statusBar().showMessage("Restored the autosaved scene; save it to keep it.", 8000)
            log.info("restored autosave %s", leftover.scene_file)
            return True
        return False

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
        for action in (self.action_sim_free, self.action_sim_room, self.action_sim_early):
            action.setEnabled(False)
        self.action_stop.setEnabled(True)
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
        for action in (self.action_sim_free, self.action_sim_room, self.action_sim_early):
            action.setEnabled(True)
        self.action_stop.setEnabled(False)
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)

    # -- view options ------------------------------------------------------------------------------
    def _set_snapping(self, on: bool) -> None:
        self.view.snapping = on
        QSettings().setValue("view/snap", on)
        self.statusBar().showMessage("Snapping " + ("on: 5 cm, 5°" if on else "off"), 3000)

    def set_theme(self, theme: str) -> None:
        app = QApplication.instance()
        theme = apply_theme(app, theme)
        save_theme(theme)
        colors = scene_colors(theme)
        self.view.set_colors(colors)
        self.transfer_view.apply_theme(colors)
        self.design.apply_theme(colors)
        self.renderer.apply_theme(colors)
        self.enhance.apply_theme(colors)
        self.dred.apply_theme(colors)
        self.properties.refresh()
        self.theme_actions[theme].setChecked(True)

    # -- help --------------------------------------------------------------------------------------
    def _about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b> {__version__}<br>Loudspeaker devices, listeners "
                          "and rooms: transfer, filter design, rendering.")

    def _mouse_help(self) -> None:
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
        self.design.window_shown()

    # -- closing -----------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        if self.runner.is_running:
            self.runner.cancel()
            if not self.runner.wait(10000):
                log.warning("the background job did not stop within 10 s")
        self.design.shutdown()
        self.renderer.shutdown()
        self._autosave_timer.stop()
        self._save_settings()
        self.recovery.clear()
        event.accept()
