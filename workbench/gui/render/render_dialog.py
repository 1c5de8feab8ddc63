"""Render to files: the offline render of the loaded programme (what `awb render` writes) with a
dialog for the folder and the paths, run in the background with progress and cancel.

The work is the render job (`workbench.jobs.render.run`: drivers.wav, binaural_A/B/X.wav as
asked, report.json). It needs no audio device, which makes it the way to listen when PortAudio
or an output is missing. The last folder, paths and cue choice are remembered
(`RENDER_DIR`, `RENDER_PATHS`, `RENDER_CUES` of `gui.shell.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from dsp.listening import PATHS
from dsp.params import DesignError
from dsp.renderer import RenderError
from sim.scene import Scene
from workbench.gui.shell.folder_dialog import FolderDialog, FolderJob, failure_message
from workbench.gui.shell.settings import RENDER_CUES, RENDER_DIR, RENDER_PATHS
from workbench.jobs import render as render_job
from workbench.jobs.render import AuditionSettings, Programme, RenderRequest

PATH_TEXT = {"A": "A — plain stereo through the device", "B": "B — spatial renderer",
             "X": "X — reference stereo pair"}


@dataclass
class RenderChoice:
    """What the dialog asks: the output folder, the binaural paths, the cue report."""

    folder: Path
    paths: tuple[str, ...] = PATHS
    cues: bool = True


class RenderDialog(FolderDialog):
    """Folder, path check boxes, the cue report."""

    def __init__(self, parent: QWidget | None, choice: RenderChoice, summary: str = ""):
        super().__init__(parent, "Render to Files", choice.folder, "Render Folder")
        self.path_checks: dict[str, QCheckBox] = {}
        paths = QVBoxLayout()
        for p in PATHS:
            box = QCheckBox(PATH_TEXT[p])
            box.setChecked(p in choice.paths)
            paths.addWidget(box)
            self.path_checks[p] = box
        self.form.addRow("Binaural", paths)
        self.cues_check = QCheckBox("Interaural cues in report.json (≈ 1 s more)")
        self.cues_check.setChecked(choice.cues)
        self.form.addRow("", self.cues_check)
        note = QLabel("drivers.wav (every driver feed) and report.json are always written.")
        note.setWordWrap(True)
        self.finish(summary, note)

    def choice(self) -> RenderChoice:
        return RenderChoice(self.folder(),
                            tuple(p for p, box in self.path_checks.items() if box.isChecked()),
                            self.cues_check.isChecked())


def ask_render(parent: QWidget | None, suggestion: Path, summary: str = "") -> RenderChoice | None:
    """Ask where to render and which paths (tests replace this); None when cancelled."""
    folder = Path(RENDER_DIR.get() or suggestion)
    saved = RenderChoice(folder, RENDER_PATHS.get(), RENDER_CUES.get())
    dialog = RenderDialog(parent, saved, summary)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    choice = dialog.choice()
    RENDER_DIR.set(str(choice.folder))
    RENDER_PATHS.set(choice.paths)
    RENDER_CUES.set(choice.cues)
    return choice


def describe_render_error(error: BaseException, folder: Path | None) -> str:
    if isinstance(error, (RenderError, DesignError)):
        return f"Cannot render: {error}"
    return failure_message("Render", error, folder)


class OfflineRenderer(FolderJob):
    """Asks, then renders in the background, one at a time.

    Signals: progress(fraction, message), finished(report dict), failed(message), cancelled().
    """

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.choice: RenderChoice | None = None
        self.runner.finished.connect(self.finished)
        self.runner.failed.connect(
            lambda e, _t: self.failed.emit(describe_render_error(
                e, self.choice.folder if self.choice else None)))

    def start(self, parent: QWidget | None, scene: Scene, programme: Programme,
              settings: AuditionSettings, suggestion: Path, summary: str = "",
              reads: tuple[Path, ...] = ()) -> bool:
        """Ask, then render `programme` for `scene` with `settings` (renderer parameters,
        block, path engine); reads: other files the render must not replace (the scene file),
        besides the programme and the scene's files. False when cancelled, refused (the reason
        goes to `failed`; the job refuses an output on an input before any work) or already
        running."""
        choice = self._ask(ask_render, parent, suggestion, summary)
        if choice is None:
            return False
        if not choice.paths:
            return self._refuse("Render: no path chosen (A, B or X).")
        if choice.folder.exists() and not choice.folder.is_dir():
            return self._refuse(f"Render: {choice.folder} exists and is not a folder.")
        if not scene.listeners:
            return self._refuse(f"Render: scene {scene.name!r} has no listener to render for.")
        self.choice = choice
        engine, early = settings.engine
        request = RenderRequest(scene, programme, choice.folder, params=settings.params,
                                block=settings.block, engine=engine, early_only=early,
                                paths=choice.paths, cues=choice.cues, reads=reads)
        return self.runner.start(render_job.run, request, label="Render to files")
