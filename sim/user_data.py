"""Where the per-user data lives: the environment variable AWB_DATA_DIR when set (tests point
it at a temporary folder), else the platform's per-user data folder
(`platformdirs.user_data_dir`, e.g. ~/.local/share/acoustic-workbench on Linux). Nothing here
creates a folder; the writers do when they first write."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "AWB_DATA_DIR"
APP_DIR = "acoustic-workbench"


def data_dir() -> Path:
    """The per-user data folder (AWB_DATA_DIR, else the platform's)."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_DIR, appauthor=False))


def library_dir() -> Path:
    """The user's device library: one `<name>.json` device file per device."""
    return data_dir() / "devices"
