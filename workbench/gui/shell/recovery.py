"""Crash recovery: an autosaved copy of the open scene, written after edits (debounced by the
main window) into the app data folder, removed on a clean save or a clean exit, and offered for
restore at the next start when the process that wrote it is gone.

Files: `autosave-<pid>.json` (the scene, `scene_to_json`) and `autosave-<pid>.meta.json`
({"path": original file or null, "name", "saved_at": seconds since the epoch}). One pair per
running app process, so two instances never overwrite each other's copy.

What a crashed or tampered session leaves is hostile input: `scan()` loads every leftover in
full before anything is offered, and a pair it cannot use (a scene that does not load, meta
that is not the object written here, a folder where a file should be, meta without its scene)
is set aside — renamed `<name>.bad-<YYYYmmdd-HHMMSS>`, never deleted — and reported, so a bad
autosave never stops start-up and the next start is clean. A scene without its meta (a crash
between the two writes) is still offered, dated by the file.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from sim.outputs import write_text
from sim.scene import Scene
from sim.scene_io import load_scene
from sim.scene_json import scene_to_json

BAD_SUFFIX = ".bad-"
MAX_META_BYTES = 64 * 1024  # the meta written here is ~150 bytes
MAX_PATH_CHARS = 4096
MAX_PID = 2**31 - 1  # wider than any kernel's pid_t: a larger number names no process


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


def _pid_of(scene_file: Path) -> int | None:
    """The writer's process id in `autosave-<pid>.json`, None when the name is not ours."""
    digits = scene_file.name[len("autosave-"):-len(".json")]
    if not digits.isdigit() or not 0 < int(digits) <= MAX_PID:
        return None
    return int(digits)


class BadRecovery(ValueError):
    """A leftover that cannot be offered; the message says why, in a few words."""


@dataclass(frozen=True)
class RecoveryFile:
    """An autosave left behind, loaded: the scene, the document's original path and when it
    was saved (seconds since the epoch, a date `datetime` can show)."""

    scene_file: Path
    meta_file: Path
    scene: Scene
    original_path: Path | None
    name: str
    saved_at: float

    def remove(self) -> None:
        self.scene_file.unlink(missing_ok=True)
        self.meta_file.unlink(missing_ok=True)


@dataclass(frozen=True)
class SetAside:
    """Recovery files that could not be used, kept under new names: `files` maps each old
    path to its new one (None: it could not be renamed, `error` says why)."""

    files: dict[Path, Path | None]
    reason: str
    error: str = ""

    def describe(self) -> str:
        """One line for the log and the status bar."""
        old = ", ".join(p.name for p in self.files)
        kept = [p for p in self.files.values() if p is not None]
        where = (f"; kept as {', '.join(p.name for p in kept)} in {kept[0].parent}" if kept
                 else "")
        failed = f"; could not move it aside: {self.error}" if self.error else ""
        return f"Autosave {old} could not be used ({self.reason}){where}{failed}"


@dataclass
class Scan:
    """What `Recovery.scan` found: autosaves to offer (newest first) and what it set aside."""

    found: list[RecoveryFile] = field(default_factory=list)
    set_aside: list[SetAside] = field(default_factory=list)


def _check_saved_at(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRecovery(f"saved_at is {type(value).__name__}, not a number")
    t = float(value)
    if not math.isfinite(t):
        raise BadRecovery(f"saved_at = {t} is not a time")
    try:
        datetime.datetime.fromtimestamp(t)
    except (OverflowError, OSError, ValueError):
        raise BadRecovery(f"saved_at = {t:g} is not a date") from None
    return t


def _read_meta(meta_file: Path, scene_file: Path) -> tuple[Path | None, str, float]:
    """(original path, name, saved_at) from the meta file; without one, the scene file's
    name and time."""
    if not os.path.lexists(meta_file):
        return None, scene_file.stem, scene_file.stat().st_mtime
    try:
        if meta_file.stat().st_size > MAX_META_BYTES:
            raise ValueError("too large")
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, ValueError, RecursionError) as e:
        raise BadRecovery(f"{meta_file.name} is unreadable: {type(e).__name__}") from None
    if not isinstance(meta, dict):
        raise BadRecovery(f"{meta_file.name} holds a {type(meta).__name__}, not an object")
    original = meta.get("path")
    if original is not None and not (isinstance(original, str) and 0 < len(original)
                                     <= MAX_PATH_CHARS and "\0" not in original):
        raise BadRecovery("its original path is not a file name")
    name = meta.get("name", scene_file.stem)
    if not isinstance(name, str):
        raise BadRecovery(f"its name is {type(name).__name__}, not text")
    saved_at = _check_saved_at(meta["saved_at"]) if "saved_at" in meta \
        else scene_file.stat().st_mtime
    return (Path(original) if original else None), name, saved_at


def _load(scene_file: Path, meta_file: Path) -> RecoveryFile:
    """The leftover pair, loaded and checked; raises BadRecovery."""
    if not scene_file.is_file():
        raise BadRecovery(f"{scene_file.name} is not a file")
    original, name, saved_at = _read_meta(meta_file, scene_file)
    try:
        scene = load_scene(scene_file)
    except Exception as e:  # hostile input: whatever loading it does, start-up goes on
        raise BadRecovery(f"the scene does not load: {str(e)[:200]}") from None
    return RecoveryFile(scene_file, meta_file, scene, original, name, saved_at)


def set_aside(paths: list[Path], reason: str) -> SetAside:
    """Rename the existing `paths` to `<name>.bad-<time>` beside them."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    moved: dict[Path, Path | None] = {}
    error = ""
    for path in paths:
        if not os.path.lexists(path):
            continue
        target = path.with_name(f"{path.name}{BAD_SUFFIX}{stamp}")
        n = 1
        while os.path.lexists(target):
            n += 1
            target = path.with_name(f"{path.name}{BAD_SUFFIX}{stamp}-{n}")
        try:
            path.rename(target)
        except OSError as e:
            moved[path], error = None, f"{path}: {e.strerror or e}"
        else:
            moved[path] = target
    return SetAside(moved, reason, error)


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

    def scan(self) -> Scan:
        """Autosaves of processes that are gone (or of this one), loaded, newest first; the
        unusable ones set aside."""
        out = Scan()
        if not self.directory.is_dir():
            return out
        pairs: dict[int, tuple[Path, Path]] = {}
        for path in self.directory.glob("autosave-*.json"):
            scene_file = path.with_name(path.name.removesuffix(".meta.json") + ".json") \
                if path.name.endswith(".meta.json") else path
            pid = _pid_of(scene_file)
            if pid is not None and not _pid_alive(pid):
                pairs[pid] = (scene_file, scene_file.with_name(f"autosave-{pid}.meta.json"))
        for scene_file, meta_file in pairs.values():
            try:
                if not os.path.lexists(scene_file):
                    raise BadRecovery(f"{meta_file.name} has no scene file beside it")
                out.found.append(_load(scene_file, meta_file))
            except (BadRecovery, OSError) as e:
                out.set_aside.append(set_aside([scene_file, meta_file], str(e)))
        out.found.sort(key=lambda r: r.saved_at, reverse=True)
        return out
