"""The dialog shape of the jobs that write a folder of files (Export Filters, Render to Files):
the folder (a line edit with Browse…) as the first row of a form, the job's own rows below it,
an optional summary on top and OK / Cancel at the bottom."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class FolderDialog(QDialog):
    """`folder_edit` (Browse… asks with `browse_caption`) in the first row of `form`. A
    subclass adds its rows to `form`, then calls `finish(summary, *below)`."""

    def __init__(self, parent: QWidget | None, title: str, folder: Path, browse_caption: str):
        super().__init__(parent)
        self.setWindowTitle(title)
        self._browse_caption = browse_caption
        self.folder_edit = QLineEdit(str(folder))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        self.form = QFormLayout()
        self.form.addRow("Folder", row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def finish(self, summary: str, *below: QWidget | QLayout) -> None:
        """Lay out: `summary` (when not empty, wrapped), the form, `below` in order, the
        buttons."""
        layout = QVBoxLayout(self)
        if summary:
            label = QLabel(summary)
            label.setWordWrap(True)
            layout.addWidget(label)
        layout.addLayout(self.form)
        for item in below:
            if isinstance(item, QLayout):
                layout.addLayout(item)
            else:
                layout.addWidget(item)
        layout.addWidget(self.buttons)

    def folder(self) -> Path:
        return Path(self.folder_edit.text()).expanduser()

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, self._browse_caption,
                                                  self.folder_edit.text())
        if chosen:
            self.folder_edit.setText(chosen)
