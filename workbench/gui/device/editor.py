"""Edit ▸ Device Editor…: the scene's device close up — top and front views on a mm grid,
the table of drivers and microphones, the selected part's directivity parameters and its
polar map — editing the document's scene.

Every edit is one command on the scene's undo stack (`SceneDocument.push`, which validates
it: field ranges of the file format, unique names, drivers apart, everything in the room);
a new driver is also checked against the free-field budget (`sim.budget`). A refused edit
changes nothing: the reason shows in red under the table and in the window's status bar, and
every field shows the model's value again. The dialog is not modal and follows the document
(undo, redo, another scene).
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sim.directivity import directivity_class
from sim.scene import Scene
from sim.scene_fields import SceneError
from workbench.gui.device import parts
from workbench.gui.device.canvas import DeviceCanvas
from workbench.gui.device.part_polar import PartPolarView, part_polar
from workbench.gui.device.parts import Part
from workbench.gui.device.table import COLUMNS, ParameterForm, PartsTable, field_unit
from workbench.gui.scene.document import SceneDocument
from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors
from workbench.gui.shell.widgets import push_button


def _float(text: str) -> float:
    return float(text.strip().replace(",", "."))


CELL_SETTERS = {
    1: lambda s, p, t: parts.with_part(s, p, name=t.strip()),
    2: lambda s, p, t: parts.with_position_mm(s, p, 0, _float(t)),
    3: lambda s, p, t: parts.with_position_mm(s, p, 1, _float(t)),
    4: lambda s, p, t: parts.with_position_mm(s, p, 2, _float(t)),
    5: lambda s, p, t: parts.with_axis(s, p, azimuth_deg=_float(t)),
    6: lambda s, p, t: parts.with_axis(s, p, elevation_deg=_float(t)),
    8: lambda s, p, t: parts.with_part(s, p, gain_db=parts.finite(_float(t), "gain")),
}
"""Table column → (scene, part, typed text) → new scene (ValueError: not a number)."""


def ask_path(parent: QWidget, field: dataclasses.Field, kind: str) -> str:
    """A file (a folder, for a folder field) for a directivity parameter; "" when cancelled."""
    title = f"{kind} directivity: {field.name}"
    if parts.is_folder(field):
        return QFileDialog.getExistingDirectory(parent, title)
    return QFileDialog.getOpenFileName(parent, title)[0]


class DeviceEditor(QDialog):
    """The editor over `document`'s device. `message(text)`: status-bar text;
    `saveRequested`: its Save Device As… button (the window's Device menu command)."""

    message = Signal(str)
    saveRequested = Signal()

    def __init__(self, document: SceneDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("deviceEditor")
        self.setWindowTitle("Device Editor")
        self.document = document
        self.selected: Part | None = None
        self.error = ""
        self._polar_key: tuple | None = None
        self._shown: tuple | None = None
        self.top_view = DeviceCanvas("top")
        self.front_view = DeviceCanvas("front")
        self.polar = PartPolarView()
        self.table = PartsTable()
        self.params = ParameterForm()
        self.add_driver_button = push_button("Add &Driver", "addDriver",
                                             "Add an omni driver at a free place")
        self.add_mic_button = push_button("Add &Microphone", "addMicrophone",
                                          "Add an omni microphone at a free place")
        self.remove_button = push_button("&Remove", "removePart",
                                         "Remove the selected driver or microphone")
        self.save_button = push_button("Save Device As…", "saveDevice",
                                       "Save this device in your device library")
        self.close_button = push_button("Close", "closeDeviceEditor", "Close the editor")
        self.error_label = QLabel()
        self.error_label.setObjectName("deviceEditorError")
        self.error_label.setWordWrap(True)
        self._layout()
        self._add_keys()
        self._connect()
        self.apply_theme(scene_colors(current_theme()))
        self.refresh()

    def _layout(self) -> None:
        views = QSplitter(Qt.Orientation.Horizontal)
        for title, widget in (("Top (front up)", self.top_view),
                              ("Front (seen from the front)", self.front_view),
                              ("Polar map of the selected part", self.polar)):
            box = QWidget()
            lay = QVBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(QLabel(title))
            lay.addWidget(widget, 1)
            views.addWidget(box)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.table)
        lower.addWidget(self.params)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 1)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(views)
        body.addWidget(lower)
        buttons = QHBoxLayout()
        for b in (self.add_driver_button, self.add_mic_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(body, 1)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        self.setMinimumSize(900, 560)
        self.resize(1220, 700)

    def _add_keys(self) -> None:
        """Undo and redo of the scene's stack, and Delete for the selected part, work in this
        window too (the main window's keys do not reach another window)."""
        stack = self.document.undo_stack
        for action, keys in ((stack.createUndoAction(self), QKeySequence.StandardKey.Undo),
                             (stack.createRedoAction(self), QKeySequence.StandardKey.Redo)):
            action.setShortcuts(keys)
            self.addAction(action)
        remove = QAction("Remove Part", self)
        remove.setObjectName("actionRemovePart")
        remove.setShortcuts(QKeySequence.StandardKey.Delete)
        remove.triggered.connect(self.remove)
        self.addAction(remove)

    def _connect(self) -> None:
        self.document.changed.connect(self.refresh)
        for canvas in (self.top_view, self.front_view):
            canvas.partClicked.connect(self.select)
            canvas.moveRequested.connect(
                lambda p, pos: self.apply(lambda s: parts.with_part(s, p, position_m=pos),
                                          f"Move {parts.label(self.document.scene, p)}"))
            canvas.aimRequested.connect(
                lambda p, axis: self.apply(lambda s: parts.with_axis(s, p, *axis),
                                           f"Aim {parts.label(self.document.scene, p)}"))
        self.table.partSelected.connect(self.select)
        self.table.cellEdited.connect(self._on_cell)
        self.table.kindChosen.connect(self.set_kind)
        self.params.parameterEdited.connect(self._on_parameter)
        self.params.browseRequested.connect(self._on_browse)
        self.add_driver_button.clicked.connect(lambda: self.add("driver"))
        self.add_mic_button.clicked.connect(lambda: self.add("mic"))
        self.remove_button.clicked.connect(self.remove)
        self.save_button.clicked.connect(self.saveRequested)
        self.close_button.clicked.connect(self.close)

    # -- model → view ----------------------------------------------------------------------------
    @property
    def scene(self) -> Scene:
        return self.document.scene

    def refresh(self, force: bool = False) -> None:
        """Show the document's device (on every change of the scene: redrawn only when the
        device, the speed of sound or the selection changed, unless `force`)."""
        scene = self.scene
        if not parts.exists(scene, self.selected):
            self.selected = parts.all_parts(scene)[0] if parts.all_parts(scene) else None
        shown = (scene.device, scene.simulation, self.selected)
        if shown == self._shown and not force:
            return  # a listener dragged on the floor plan: nothing here changed
        self._shown = shown
        self.setWindowTitle(f"Device Editor — {scene.device.name}")
        for canvas in (self.top_view, self.front_view):
            canvas.set_model(scene, self.selected)
        self.table.show_model(scene, self.selected)
        part = parts.part_of(scene, self.selected) if self.selected else None
        self.params.show_directivity(parts.label(scene, self.selected) if part else "",
                                     part.directivity if part else None)
        self.remove_button.setEnabled(part is not None)
        self._update_polar(scene, part)

    def _update_polar(self, scene: Scene, part) -> None:
        key = (part, scene.simulation.c_m_s, scene.simulation.fs_hz)
        if key == self._polar_key:
            return
        self._polar_key = key
        if part is None:
            self.polar.clear("Select a driver or a microphone.")
            return
        try:
            self.polar.set_outcome(part_polar(scene, part))
        except (SceneError, OSError, ValueError) as e:
            self.polar.clear(f"No polar map: {e}", error=True)

    def select(self, part: Part) -> None:
        if part != self.selected and parts.exists(self.scene, part):
            self.selected = part
            self.refresh()

    def apply_theme(self, colors: SceneColors) -> None:
        for canvas in (self.top_view, self.front_view):
            canvas.apply_theme(colors)
        self.polar.apply_theme(colors)
        self.error_label.setStyleSheet(f"color: {colors.error};")

    # -- view → model ----------------------------------------------------------------------------
    def apply(self, change, text: str, merge_key: object = None) -> bool:
        """Push `change(scene)` as one command named `text`; a refusal (ValueError or
        SceneError) is shown and every field shows the model again. True when applied."""
        try:
            self.document.push(change(self.scene), text, merge_key)
        except (SceneError, ValueError, TypeError) as e:
            return self.refuse(str(e))
        self.error = ""
        self.error_label.setText("")
        self.refresh(force=True)  # also when nothing changed: a drag put back, a retyped cell
        return True

    def refuse(self, reason: str) -> bool:
        """Show why an edit was not applied and the model's values again; returns False."""
        self.error = reason
        self.error_label.setText(f"Not applied: {reason}")
        self.message.emit(f"Not applied: {reason}")
        self.refresh(force=True)
        return False

    def _on_cell(self, part: Part, column: int, text: str) -> None:
        what = COLUMNS[column].split(" (")[0].lower()
        self.apply(lambda s: CELL_SETTERS[column](s, part, text),
                   f"Set {what} of {parts.label(self.scene, part)}")

    def set_kind(self, part: Part, kind: str) -> bool:
        """Give the part a `kind` directivity with its defaults; the files or folders it
        reads (`parts.is_path` fields) are asked for first."""
        cls = directivity_class(kind)
        needed = {}
        for f in filter(parts.is_path, parts.parameters(cls)):
            path = ask_path(self, f, kind)
            if not path:
                self.refresh(force=True)
                return False
            needed[f.name] = path
        return self.apply(lambda s: parts.with_directivity_kind(s, part, kind, **needed),
                          f"Make {parts.label(self.scene, part)} {kind}")

    def set_parameter(self, name: str, value) -> bool:
        """Set one directivity field of the selected part (model units)."""
        part = self.selected
        label, _suffix, _scale = field_unit(name)
        return self.apply(lambda s: parts.with_parameter(s, part, name, value),
                          f"Set {label} of {parts.label(self.scene, part)}")

    def _on_parameter(self, name: str, text: str) -> None:
        current = getattr(parts.part_of(self.scene, self.selected).directivity, name)
        _label, _suffix, scale = field_unit(name)
        try:
            value = (_float(text) / scale if isinstance(current, float)
                     else int(text) if isinstance(current, int) else text.strip())
        except ValueError as e:
            self.refuse(f"{name}: {e}")
            return
        self.set_parameter(name, value)

    def _on_browse(self, name: str) -> None:
        d = parts.part_of(self.scene, self.selected).directivity
        path = ask_path(self, next(f for f in parts.parameters(d) if f.name == name), d.kind)
        if path:
            self.set_parameter(name, path)

    def add(self, kind: str) -> bool:
        """Add a driver ("driver") or a microphone ("mic") and select it."""
        new, part = parts.add_part(self.scene, kind)
        budget = parts.added_error(new) if kind == "driver" else None
        if budget:
            return self.refuse(budget)
        self.selected = part  # a refused part does not exist: refresh selects another
        return self.apply(lambda _s: new, f"Add {parts.label(new, part)}")

    def remove(self) -> bool:
        """Remove the selected part."""
        part = self.selected
        if part is None:
            return False
        return self.apply(lambda s: parts.remove_part(s, part),
                          f"Remove {parts.label(self.scene, part)}")
