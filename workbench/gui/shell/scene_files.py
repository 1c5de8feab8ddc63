"""The main window's file handling: New (from a preset), Open, Save, Save As, the save-before-
drop question, the Open Recent menu and the autosave copy of a modified scene.

`SceneFiles` is a mixin of `MainWindow`: it uses the window's `document`, `view`,
`transfer_view`, `features`, `recovery`, `recent_menu` and autosave timer.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from sim.scene import Scene
from sim.scene_io import SceneError, load_scene
from workbench import APP_NAME
from workbench.gui.scene.contents import empty_room
from workbench.gui.shell.recent import add_recent_file, clear_recent_files, recent_files
from workbench.gui.shell.settings import LAST_DIR

log = logging.getLogger(__name__)

SCENE_FILTER = "Scene files (*.json);;All files (*)"


class SceneFiles:
    """New / Open / Save / Save As, recent files and autosave of a `MainWindow`."""

    # -- saving ----------------------------------------------------------------------------------
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
        return LAST_DIR.get()

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
        LAST_DIR.set(str(saved.parent))
        self._autosave_timer.stop()
        self.recovery.clear()
        self.statusBar().showMessage(f"Saved {saved}", 5000)
        log.info("saved %s", saved)
        return True

    # -- opening ---------------------------------------------------------------------------------
    def open_file(self, path: str | Path | None = None) -> bool:
        """Open a scene file (asks for one when `path` is None)."""
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
        LAST_DIR.set(str(path.parent))
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

    def new_empty_room(self) -> bool:
        """File ▸ New Empty Room: the default preset's room and device (every scene holds one
        device; Edit ▸ Add … fills the room), no listeners, no sources."""
        if not self.maybe_save():
            return False
        self._replace_document(empty_room(load_scene("default")), None)
        self.statusBar().showMessage("New empty room: add listeners and sources from the Edit"
                                     " menu or by right-clicking the floor plan", 8000)
        return True

    def _replace_document(self, scene: Scene, path: Path | None, modified: bool = False) -> None:
        """Another scene in the window: every feature drops what it showed for the old one."""
        self.view.select(None)
        self.document.reset(scene, path, modified=modified)
        self._result_scene = None
        self.properties.start_over()
        self.transfer_view.clear()
        self.transfer_view.show_message("New scene: press F5 to simulate.")
        for feature in self.features:
            feature.reset()
        self.sweep.panel.set_scene(scene)  # its parameter choices come from the scene
        self.view.fit_to_room()
        self._update_title()

    # -- recent files ----------------------------------------------------------------------------
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

    # -- autosave --------------------------------------------------------------------------------
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
