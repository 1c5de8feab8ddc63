"""Acoustic Workbench: the desktop app (PySide6) over `sim` and `dsp`.

This package's top level stays Qt-free, so the command line (`workbench.cli`) can import it
without PySide6; only the GUI modules (`app`, `main_window`, views, panels) import Qt.
"""

from __future__ import annotations

from importlib import metadata

APP_NAME = "Acoustic Workbench"
ORG_NAME = "acoustic-workbench"

try:
    __version__ = metadata.version("acoustic-workbench")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["APP_NAME", "ORG_NAME", "__version__"]
