"""Export the current design: a dialog for the folder, file stem and formats, and the export job
(`workbench.jobs.export`: every file written atomically, progress per format) run in the
background. The design report goes beside the filters as report.json, the same report
`awb design --report` writes.

The last folder and formats are remembered (`EXPORT_DIR`, `EXPORT_FORMATS` of
`gui.shell.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QGridLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from dsp.export import export_formats, format_names
from workbench.gui.shell.folder_dialog import FolderDialog, FolderJob, failure_message
from workbench.gui.shell.settings import EXPORT_DIR, EXPORT_FORMATS
from workbench.jobs import export as export_job
from workbench.jobs.design import DesignOutcome
from workbench.jobs.export import REPORT_NAME, ExportRequest


@dataclass
class ExportChoice:
    """What the dialog asks: the folder, the formats (`dsp.export.format_names()`), the stem."""

    folder: Path
    formats: list[str]
    stem: str = "filters"


class ExportDialog(FolderDialog):
    """Folder, stem and format check boxes."""

    def __init__(self, parent: QWidget | None, folder: Path, formats: list[str], stem: str,
                 summary: str = ""):
        super().__init__(parent, "Export Filters", folder, "Export Folder")
        self.stem_edit = QLineEdit(stem)
        self.form.addRow("File stem", self.stem_edit)
        grid = QGridLayout()
        self.checks: dict[str, QCheckBox] = {}
        for k, fmt in enumerate(export_formats()):
            box = QCheckBox(fmt.label)
            box.setChecked(fmt.name in formats)
            grid.addWidget(box, k // 2, k % 2)
            self.checks[fmt.name] = box
        self.finish(summary, QLabel("Formats"), grid)

    def choice(self) -> ExportChoice:
        return ExportChoice(self.folder(),
                            [f for f, box in self.checks.items() if box.isChecked()],
                            self.stem_edit.text().strip() or "filters")


def ask_export(parent: QWidget | None, suggestion: Path, summary: str = ""
               ) -> ExportChoice | None:
    """Ask where and in which formats to export (tests replace this); None when cancelled."""
    folder = Path(EXPORT_DIR.get() or suggestion)
    saved = EXPORT_FORMATS.get()
    names = format_names()
    formats = [f for f in saved if f in names] if saved else list(names)
    dialog = ExportDialog(parent, folder, formats, "filters", summary)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    choice = dialog.choice()
    EXPORT_DIR.set(str(choice.folder))
    EXPORT_FORMATS.set(tuple(choice.formats))
    return choice


class FilterExporter(FolderJob):
    """Asks for the export and runs it in the background, one at a time.

    Signals: progress(fraction, message), finished(dict format → paths, report.json not
    counted), failed(message).
    """

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.request: ExportRequest | None = None
        self.runner.finished.connect(lambda outcome: self.finished.emit(outcome.written))
        self.runner.failed.connect(lambda error, _text: self.failed.emit(failure_message(
            "Export", error, self.request.folder if self.request else None)))

    def start(self, parent: QWidget | None, design: DesignOutcome, suggestion: Path,
              summary: str = "", reads: tuple[Path, ...] = ()) -> bool:
        """Ask, then write in the background (the job refuses a file that would replace one of
        `reads`, the scene file, or of the scene's files, writing nothing). False when
        cancelled or already running."""
        choice = self._ask(ask_export, parent, suggestion, summary)
        if choice is None:
            return False
        if not choice.formats:
            return self._refuse("Export: no format chosen.")
        self.request = ExportRequest(design, choice.folder, tuple(choice.formats), choice.stem,
                                     report_path=choice.folder / REPORT_NAME, reads=reads)
        return self.runner.start(export_job.run, self.request, label="Export")
