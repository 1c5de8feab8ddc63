"""The recent-files list (at most 10, most recent first, de-duplicated) kept in QSettings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 10
SETTINGS_KEY = "file/recent"


def _read() -> list[str]:
    value = QSettings().value(SETTINGS_KEY, [])
    if isinstance(value, str):  # QSettings gives a bare string for a one-element list
        value = [value]
    return [str(v) for v in value or []]


def recent_files() -> list[Path]:
    """Existing recent files, most recent first; missing ones are pruned from the settings."""
    paths = _read()
    kept = [p for p in paths if Path(p).is_file()]
    if kept != paths:
        QSettings().setValue(SETTINGS_KEY, kept)
    return [Path(p) for p in kept]


def add_recent_file(path: str | Path) -> None:
    p = str(Path(path).resolve())
    paths = [p] + [q for q in _read() if q != p]
    QSettings().setValue(SETTINGS_KEY, paths[:MAX_RECENT])


def clear_recent_files() -> None:
    QSettings().setValue(SETTINGS_KEY, [])
