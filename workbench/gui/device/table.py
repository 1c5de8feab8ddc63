"""The device editor's table of parts and the parameter form of the selected part's
directivity. Both show the model and report what the user typed as text (`cellEdited`,
`parameterEdited`); the editor turns it into an edit, and a refused one is shown again from
the model, so a field never keeps a value the model did not take.

The directivity column offers every registered kind (`sim.directivity.kind_names`; a
microphone only those it can have), and the form one field per dataclass field of the kind,
so a new kind needs no change here: numbers and text are edited (a file or folder field,
`parts.is_path`, with a Browse… button), other fields are shown. Field units come from the
field's name: `_m` shown in mm, `_db` in dB, `_deg` in °, `_hz` in Hz.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QWidget,
)

from sim.directivity import Directivity, kind_names
from sim.scene import Driver, Scene
from workbench.gui.device import parts
from workbench.gui.device.parts import Part

COLUMNS = ("Part", "Name", "x (mm)", "y (mm)", "z (mm)", "Azimuth (°)", "Elevation (°)",
           "Directivity", "Gain (dB)")
"""Column titles; the editor's setters are keyed by column index."""
KIND_COLUMN = 7
UNITS = {"_m": (" (mm)", 1000.0), "_db": (" (dB)", 1.0), "_deg": (" (°)", 1.0),
         "_hz": (" (Hz)", 1.0)}


def field_unit(name: str) -> tuple[str, str, float]:
    """(label, unit suffix, display scale) of a directivity field: radius_m → ("radius",
    " (mm)", 1000)."""
    for ending, (suffix, scale) in UNITS.items():
        if name.endswith(ending):
            return name[: -len(ending)].replace("_", " "), suffix, scale
    return name.replace("_", " "), "", 1.0


def _number(v: float) -> str:
    return f"{v:.6g}"


def cells(part: Part, t) -> list[str]:
    """The table's texts of one part (the directivity column holds a combo)."""
    x, y, z = (1000.0 * v for v in t.position_m)
    gain = _number(t.gain_db) if isinstance(t, Driver) else "—"
    return ["driver" if part[0] == "driver" else "microphone", t.name, _number(x), _number(y),
            _number(z), _number(t.axis_deg[0]), _number(t.axis_deg[1]), t.directivity.kind,
            gain]


class PartsTable(QTableWidget):
    """One row per part (drivers, then microphones): `partSelected(part)`,
    `cellEdited(part, column, text)`, `kindChosen(part, kind)`."""

    partSelected = Signal(object)
    cellEdited = Signal(object, int, str)
    kindChosen = Signal(object, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("deviceParts")
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.rows: list[Part] = []
        self._filling = False
        self.itemChanged.connect(self._on_item_changed)
        self.itemSelectionChanged.connect(self._on_selection)

    def show_model(self, scene: Scene, selected: Part | None) -> None:
        self._filling = True
        try:
            self.rows = parts.all_parts(scene)
            self.setRowCount(len(self.rows))
            for r, part in enumerate(self.rows):
                t = parts.part_of(scene, part)
                for c, text in enumerate(cells(part, t)):
                    if c == KIND_COLUMN:
                        self._kind_combo(r, part, text)
                        continue
                    item = QTableWidgetItem(text)
                    if c == 0 or text == "—":
                        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    self.setItem(r, c, item)
            self.resizeColumnsToContents()
            if selected in self.rows:
                self.selectRow(self.rows.index(selected))
        finally:
            self._filling = False

    def _kind_combo(self, row: int, part: Part, kind: str) -> None:
        combo = self.cellWidget(row, KIND_COLUMN)
        names = list(kind_names(microphone=part[0] == "mic"))
        if not isinstance(combo, QComboBox) or combo.property("part") != part:
            combo = QComboBox()
            combo.setProperty("part", part)
            combo.textActivated.connect(lambda text, p=part: self.kindChosen.emit(p, text))
            self.setCellWidget(row, KIND_COLUMN, combo)
        combo.blockSignals(True)
        if [combo.itemText(i) for i in range(combo.count())] != names:
            combo.clear()
            combo.addItems(names)
        combo.setCurrentText(kind)
        combo.blockSignals(False)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if not self._filling:
            self.cellEdited.emit(self.rows[item.row()], item.column(), item.text())

    def _on_selection(self) -> None:
        rows = {i.row() for i in self.selectedIndexes()}
        if not self._filling and len(rows) == 1:
            self.partSelected.emit(self.rows[rows.pop()])


class ParameterForm(QGroupBox):
    """The selected part's directivity parameters, one line edit per field (`fields[name]`),
    a Browse… button beside text fields (`browse_buttons[name]`): `parameterEdited(name,
    text)`, `browseRequested(name)`."""

    parameterEdited = Signal(str, str)
    browseRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Directivity parameters", parent)
        self.setObjectName("deviceParameters")
        self.form = QFormLayout(self)
        self.fields: dict[str, QLineEdit] = {}
        self.browse_buttons: dict[str, QToolButton] = {}
        self._shape: tuple | None = None
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.form.addRow(self.note)

    def show_directivity(self, title: str, d: Directivity | None) -> None:
        """Fields for `d`'s kind (rebuilt when the kind changed), showing its values."""
        shape = None if d is None else (type(d), tuple(f.name for f in parts.parameters(d)))
        if shape != self._shape:
            self._rebuild(d)
            self._shape = shape
        self.setTitle(f"Directivity of {title}" if d is not None else "Directivity parameters")
        if d is None:
            self.note.setText("Select a driver or a microphone.")
            return
        self.note.setText(f"{d.kind}: no parameters" if not self.fields else d.describe())
        for f in parts.parameters(d):
            value = getattr(d, f.name)
            _label, _suffix, scale = field_unit(f.name)
            text = _number(value * scale) if isinstance(value, float) else str(value)
            self.fields[f.name].setText(text)
            self.fields[f.name].setCursorPosition(0)

    def _rebuild(self, d: Directivity | None) -> None:
        while self.form.rowCount() > 1:
            self.form.removeRow(1)
        self.fields, self.browse_buttons = {}, {}
        for f in (parts.parameters(d) if d is not None else ()):
            self._add_field(f, type(getattr(d, f.name)) in parts.EDITABLE)

    def _add_field(self, f: dataclasses.Field, editable: bool) -> None:
        label, suffix, _scale = field_unit(f.name)
        edit = QLineEdit()
        edit.setObjectName(f"deviceParameter_{f.name}")
        edit.setReadOnly(not editable)
        edit.editingFinished.connect(lambda n=f.name, e=edit: self._edited(n, e))
        self.fields[f.name] = edit
        row: QWidget = edit
        if editable and parts.is_path(f):
            button = QToolButton()
            button.setText("Browse…")
            button.clicked.connect(lambda _c=False, n=f.name: self.browseRequested.emit(n))
            self.browse_buttons[f.name] = button
            row = QWidget()
            lay = QHBoxLayout(row)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(edit, 1)
            lay.addWidget(button)
        self.form.addRow(f"{label.capitalize()}{suffix}", row)

    def _edited(self, name: str, edit: QLineEdit) -> None:
        if edit.isModified():
            edit.setModified(False)
            self.parameterEdited.emit(name, edit.text())
