"""Export the current filters: a dialog for the folder, file stem and formats, and the job that
writes them through `dsp.export` (every file written atomically) with progress per format.

The last folder and formats are remembered (`EXPORT_DIR`, `EXPORT_FORMATS` of
`gui.shell.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dsp.export import FORMATS, export
from dsp.filterset import FilterSet
from workbench.gui.shell.settings import EXPORT_DIR, EXPORT_FORMATS
from workbench.gui.shell.worker import JobRunner

FORMAT_LABELS = {
    "wav": "WAV (float32, per input + matrix)", "csv": "CSV (one column per path)",
    "npz": "NPZ (fir, fs, delay, meta)", "json": "JSON with metadata",
    "c": "C header", "camilladsp": "CamillaDSP YAML + raw FIRs",
    "eqapo": "Equalizer APO config + WAVs", "sofa": "SOFA GeneralFIR",
}


@dataclass
class ExportRequest:
    folder: Path
    formats: list[str]
    stem: str = "filters"


def run_export(filters: FilterSet, request: ExportRequest, *, state) -> dict[str, list[Path]]:
    """The job: create the folder, write each format in turn (progress per format)."""
    request.folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {}
    n = len(request.formats)
    for k, fmt in enumerate(request.formats):
        state.check()
        state.progress(k / n, f"writing {fmt}")
        written.update(export(filters, request.folder, [fmt], stem=request.stem))
    state.progress(1.0, "done")
    return written


class ExportDialog(QDialog):
    """Folder, stem and format check boxes."""

    def __init__(self, parent: QWidget | None, folder: Path, formats: list[str], stem: str,
                 summary: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Export Filters")
        self.folder_edit = QLineEdit(str(folder))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        self.stem_edit = QLineEdit(stem)
        form = QFormLayout()
        form.addRow("Folder", row)
        form.addRow("File stem", self.stem_edit)
        grid = QGridLayout()
        self.checks: dict[str, QCheckBox] = {}
        for k, fmt in enumerate(FORMATS):
            box = QCheckBox(FORMAT_LABELS.get(fmt, fmt))
            box.setChecked(fmt in formats)
            grid.addWidget(box, k // 2, k % 2)
            self.checks[fmt] = box
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if summary:
            layout.addWidget(QLabel(summary))
        layout.addLayout(form)
        layout.addWidget(QLabel("Formats"))
        layout.addLayout(grid)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Export Folder", self.folder_edit.text())
        if chosen:
            self.folder_edit.setText(chosen)

    def request(self) -> ExportRequest:
        return ExportRequest(Path(self.folder_edit.text()).expanduser(),
                             [f for f, box in self.checks.items() if box.isChecked()],
                             self.stem_edit.text().strip() or "filters")


def ask_export(parent: QWidget | None, suggestion: Path, summary: str = ""
               ) -> ExportRequest | None:
    """Ask where and in which formats to export (tests replace this); None when cancelled."""
    folder = Path(EXPORT_DIR.get() or suggestion)
    saved = EXPORT_FORMATS.get()
    formats = [f for f in saved if f in FORMATS] if saved else list(FORMATS)
    dialog = ExportDialog(parent, folder, formats, "filters", summary)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    request = dialog.request()
    EXPORT_DIR.set(str(request.folder))
    EXPORT_FORMATS.set(tuple(request.formats))
    return request


class FilterExporter(QObject):
    """Asks for the export and runs it in the background, one at a time.

    Signals: progress(fraction, message), finished(dict format → paths), failed(message).
    """

    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = JobRunner(self)
        self.request: ExportRequest | None = None
        self.runner.progress.connect(self.progress)
        self.runner.finished.connect(self.finished)
        self.runner.failed.connect(self._on_failed)

    @property
    def is_running(self) -> bool:
        return self.runner.is_running

    def start(self, parent: QWidget | None, filters: FilterSet, suggestion: Path,
              summary: str = "") -> bool:
        """Ask, then write in the background. False when cancelled or already running."""
        if self.runner.is_running:
            return False
        request = ask_export(parent, suggestion, summary)
        if request is None:
            return False
        if not request.formats:
            self.failed.emit("Export: no format chosen.")
            return False
        self.request = request
        return self.runner.start(run_export, filters, request, label="Export")

    def _on_failed(self, error: BaseException, _text: str) -> None:
        if isinstance(error, OSError):
            where = error.filename or (self.request.folder if self.request else "")
            self.failed.emit(f"Export failed: {where}: {error.strerror or error}")
        else:
            self.failed.emit(f"Export failed: {type(error).__name__}: {error}")

    def wait(self, timeout_ms: int = 10000) -> bool:
        return self.runner.wait(timeout_ms)
