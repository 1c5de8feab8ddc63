"""The two dialogs of the device library: the name (and description) a device is saved under,
and the choice of a shipped or library device to put in the scene. A library file that does
not load is listed under the choices as one line naming the file; it hides no other device."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sim.device_library import Library, OfferedDevice, offered
from sim.user_data import library_dir


def _buttons(dialog: QDialog, ok_text: str) -> tuple[QPushButton, QPushButton, QHBoxLayout]:
    ok, cancel = QPushButton(ok_text), QPushButton("Cancel")
    ok.setDefault(True)
    ok.clicked.connect(dialog.accept)
    cancel.clicked.connect(dialog.reject)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(ok)
    row.addWidget(cancel)
    return ok, cancel, row


class SaveDeviceDialog(QDialog):
    """Asks the library name and a description of the device being saved."""

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("saveDeviceDialog")
        self.setWindowTitle("Save Device As")
        self.name_edit = QLineEdit(name)
        self.description_edit = QLineEdit()
        self.description_edit.setPlaceholderText("what the device is (optional)")
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Description", self.description_edit)
        note = QLabel(f"Saved in your device library:\n{library_dir()}")
        note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.ok_button, self.cancel_button, row = _buttons(self, "Save")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addLayout(row)
        self.setMinimumWidth(460)


def ask_library_name(parent: QWidget, name: str) -> tuple[str, str] | None:
    """(name, description) for Device ▸ Save Device As…, or None when cancelled."""
    dialog = SaveDeviceDialog(name, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.name_edit.text(), dialog.description_edit.text().strip()


class LibraryDialog(QDialog):
    """The shipped device presets and the library's devices (marked), and the library files
    that do not load."""

    def __init__(self, library: Library, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("deviceLibraryDialog")
        self.setWindowTitle("Replace Device from Library")
        self.choices = offered(library)
        self.device_list = QListWidget()
        self.device_list.setObjectName("deviceChoices")
        for choice in self.choices:
            mark = "  [library]" if choice.library else ""
            item = QListWidgetItem(f"{choice.name}{mark} — {choice.description}")
            item.setToolTip(str(choice.path))
            self.device_list.addItem(item)
        self.device_list.setCurrentRow(0)
        self.device_list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.problems_label = QLabel("\n".join(f"Not loaded: {p}" for p in library.problems))
        self.problems_label.setObjectName("libraryProblems")
        self.problems_label.setWordWrap(True)
        self.problems_label.setVisible(bool(library.problems))
        self.ok_button, self.cancel_button, row = _buttons(self, "Replace Device")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Shipped devices, then yours ({library_dir()}):"))
        layout.addWidget(self.device_list, 1)
        layout.addWidget(self.problems_label)
        layout.addLayout(row)
        self.resize(640, 420)

    def chosen(self) -> OfferedDevice | None:
        row = self.device_list.currentRow()
        return self.choices[row] if 0 <= row < len(self.choices) else None


def choose_device(parent: QWidget, library: Library) -> OfferedDevice | None:
    """The device picked for Device ▸ Replace Device from Library…, or None when cancelled."""
    dialog = LibraryDialog(library, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.chosen()
