"""The device part of the main window: Edit ▸ Device Editor… and the Device menu (Save Device
As…, Replace Device from Library…), over the window's document.

Save Device As… writes the scene's device, validated, into the user's device library
(`sim.device_library`; a name the library already holds is replaced only when the user says
so). Replace Device from Library… puts a shipped or library device where the scene's device
stands (same position and yaw) as one undo command; a device that does not fit the room is
refused with the reason and the scene stays as it was.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow, QMessageBox

from sim import device_library
from sim.device_library import NameClash, OfferedDevice
from sim.scene_fields import SceneError
from sim.scene_io import load_device
from workbench.gui.device import library_dialogs
from workbench.gui.device.editor import DeviceEditor
from workbench.gui.shell.actions import Action
from workbench.gui.shell.theme import SceneColors

ACTIONS = (
    Action("actionDeviceEditor", "De&vice Editor…", lambda t: t.open_editor(),
           ("Ctrl+Shift+D",), "Edit the device's drivers and microphones", menu="edit",
           group=3, attr="action_editor"),
    Action("actionSaveDeviceAs", "&Save Device As…", lambda t: t.save_device_as(),
           tip="Save the scene's device in your device library", menu="device",
           attr="action_save_device"),
    Action("actionReplaceDevice", "&Replace Device from Library…", lambda t: t.replace_device(),
           tip="Put a shipped or library device in the scene in place of this one",
           menu="device", attr="action_replace_device"),
)
"""Owner: the `DeviceTools`."""


class DeviceTools(QObject):
    """The device editor and the library commands of `window` (a MainWindow with `document`
    and `registry`); follows the `panel_dock.Feature` pattern."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.editor: DeviceEditor | None = None
        window.registry.add(self, ACTIONS)

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 10000)

    def open_editor(self) -> DeviceEditor:
        """Show (making it the first time) and raise the device editor."""
        if self.editor is None:
            self.editor = DeviceEditor(self.document, self.window)
            self.editor.message.connect(self._status)
            self.editor.saveRequested.connect(self.save_device_as)
        self.editor.show()
        self.editor.raise_()
        self.editor.activateWindow()
        return self.editor

    def save_device_as(self) -> Path | None:
        """Device ▸ Save Device As…: the path written, or None (cancelled or refused)."""
        device = self.document.scene.device
        answer = library_dialogs.ask_library_name(self.window, device.name)
        if answer is None:
            return None
        name, description = answer
        try:
            try:
                path = device_library.save(device, name, description)
            except NameClash as clash:
                if QMessageBox.question(
                        self.window, "Replace library device?",
                        f"{clash}.\n\nReplace it with this device?",
                        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                        QMessageBox.StandardButton.No) != QMessageBox.StandardButton.Yes:
                    return None
                path = device_library.save(device, name, description, replace_existing=True)
        except (SceneError, OSError) as e:
            QMessageBox.critical(self.window, "Device not saved", str(e))
            self._status(f"Device not saved: {e}")
            return None
        self._status(f"Saved device ‘{name.strip()}’ to {path}")
        return path

    def replace_device(self, choice: OfferedDevice | None = None) -> bool:
        """Device ▸ Replace Device from Library… (`choice`: skip the dialog). True when the
        scene's device was replaced."""
        if choice is None:
            choice = library_dialogs.choose_device(self.window, device_library.scan())
            if choice is None:
                return False
        old = self.document.scene.device
        try:
            device = replace(load_device(str(choice.path)), position_m=old.position_m,
                             yaw_deg=old.yaw_deg, model=choice.name)
            self.document.push(replace(self.document.scene, device=device),
                               f"Replace Device with ‘{choice.name}’")
        except SceneError as e:
            QMessageBox.critical(self.window, "Device not replaced", str(e))
            self._status(f"Device not replaced: {e}")
            return False
        self._status(f"Device replaced with ‘{choice.name}’")
        return True

    # -- Feature ---------------------------------------------------------------------------------
    def apply_theme(self, colors: SceneColors) -> None:
        if self.editor is not None:
            self.editor.apply_theme(colors)

    def reset(self) -> None:
        """The editor follows the document itself (it shows the new scene's device)."""

    def shutdown(self) -> None:
        if self.editor is not None:
            self.editor.close()
