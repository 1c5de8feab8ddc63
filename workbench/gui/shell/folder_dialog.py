"""The shape of the jobs that write a folder of files (Export Filters, Render to Files): their
dialog — the folder (a line edit with Browse…) as the first row of a form, the job's own rows
below it, an optional summary on top and OK / Cancel at the bottom — and `FolderJob`, which asks
with it and runs the job in the background, one at a time."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
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

from workbench.gui.shell.signals import connect_signals
from workbench.gui.shell.worker import JobRunner


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


def failure_message(what: str, error: BaseException, folder: Path | None) -> str:
    """One line for a failed folder job (`what`: "Export", "Render"): the file (else the
    folder) and the system's reason, or the error's type and message."""
    if isinstance(error, OSError):
        where = error.filename or folder or ""
        return f"{what} failed: {where}: {error.strerror or error}"
    return f"{what} failed: {type(error).__name__}: {error}"


class FolderJob(QObject):
    """Asks with a dialog, then runs its job in the background, one at a time.

    Signals: progress(fraction, message), finished(result), failed(message), cancelled(). A
    subclass connects `runner.finished` and `runner.failed`, and in its `start` asks through
    `_ask` and turns a choice it cannot run down with `_refuse`."""

    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = JobRunner(self)
        connect_signals(self.runner, progress=self.progress, cancelled=self.cancelled)

    @property
    def is_running(self) -> bool:
        return self.runner.is_running

    def _ask(self, ask, *args):
        """The choice `ask(*args)` returns; None while a job runs or when the user cancelled."""
        return None if self.runner.is_running else ask(*args)

    def _refuse(self, message: str) -> bool:
        """Report why a choice cannot run (`failed`); returns False for `start` to return."""
        self.failed.emit(message)
        return False

    def cancel(self) -> None:
        self.runner.cancel()

    def wait(self, timeout_ms: int = 10000) -> bool:
        return self.runner.wait(timeout_ms)
