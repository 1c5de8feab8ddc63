"""The recent-files list (at most 10, most recent first, de-duplicated) kept in
`settings.RECENT_FILES`."""

from __future__ import annotations

from pathlib import Path

from workbench.gui.shell import settings

MAX_RECENT = 10


def recent_files() -> list[Path]:
    """Existing recent files, most recent first; missing ones are pruned from the settings."""
    paths = settings.RECENT_FILES.get()
    kept = tuple(p for p in paths if Path(p).is_file())
    if kept != paths:
        settings.RECENT_FILES.set(kept)
    return [Path(p) for p in kept]


def add_recent_file(path: str | Path) -> None:
    p = str(Path(path).resolve())
    paths = (p, *(q for q in settings.RECENT_FILES.get() if q != p))
    settings.RECENT_FILES.set(paths[:MAX_RECENT])


def clear_recent_files() -> None:
    settings.RECENT_FILES.set(())
