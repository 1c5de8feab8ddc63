"""Crash recovery: an autosaved copy of the open scene, written after edits (debounced by the
main window) into the app data folder, removed on a clean save or a clean exit, and offered for
restore at the next start when the process that wrote it is gone.

Files: `autosave-<pid>.json` (the scene, `scene_to_json`) and `autosave-<pid>.meta.json`
({"path": original file or null, "name", "saved_at"}). One pair per running app process, so two
instances never overwrite each other's copy.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from sim.outputs import write_text
from sim.scene import Scene
from sim.scene_io import load_scene
from sim.scene_json import scene_to_json


def default_recovery_dir() -> Path:
    """`<AppDataLocation>/recovery` (tests redirect this)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "recovery"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own file is never "in use by another instance"
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class RecoveryFile:
    """An autosave left behind: the scene file, the document's original path and its time."""

    scene_file: Path
    meta_file: Path
    original_path: Path | None
    name: str
    saved_at: float

    def load(self) -> Scene:
        return load_scene(self.scene_file)

    def remove(self) -> None:
        self.scene_file.unlink(missing_ok=True)
        self.meta_file.unlink(missing_ok=True)


class Recovery:
    """Autosave slot of this process in `directory`."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory else default_recovery_dir()
        pid = os.getpid()
        self.scene_file = self.directory / f"autosave-{pid}.json"
        self.meta_file = self.directory / f"autosave-{pid}.meta.json"

    def write(self, scene: Scene, original_path: Path | None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        write_text(self.scene_file, scene_to_json(scene))
        meta = {"path": str(original_path) if original_path else None, "name": scene.name,
                "saved_at": time.time()}
        write_text(self.meta_file, json.dumps(meta, indent=2) + "\n")

    def clear(self) -> None:
        self.scene_file.unlink(missing_ok=True)
        self.meta_file.unlink(missing_ok=True)

    @property
    def exists(self) -> bool:
        return self.scene_file.is_file()

    def leftovers(self) -> list[RecoveryFile]:
        """Autosaves of processes that are gone (or of this one), newest first."""
        if not self.directory.is_dir():
            return []
        out = []
        for scene_file in self.directory.glob("autosave-*.json"):
            if scene_file.name.endswith(".meta.json"):
                continue
            try:
                pid = int(scene_file.stem.split("-", 1)[1])
            except ValueError:
                continue
            if _pid_alive(pid):
                continue
            meta_file = scene_file.with_name(f"{scene_file.stem}.meta.json")
            try:
                meta = json.loads(meta_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = {}
            original = meta.get("path")
            out.append(RecoveryFile(scene_file, meta_file, Path(original) if original else None,
                                    str(meta.get("name", scene_file.stem)),
                                    float(meta.get("saved_at", scene_file.stat().st_mtime))))
        return sorted(out, key=lambda r: r.saved_at, reverse=True)
