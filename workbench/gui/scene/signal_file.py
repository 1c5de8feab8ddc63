"""A source's signal file: its level, and the Browse… row of the source's properties.

The level is read through `dsp.audio_io.read_audio` (all channels, at the file's own rate):
RMS and peak in dBFS over the whole file. A file that cannot be used (missing, unreadable,
silent, NaN) gives one line naming it and what was wrong, and the scene stays as it was.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from dsp.audio_io import AudioFileError, read_audio
from workbench.gui.shell.job_panel import AUDIO_FILES
from workbench.gui.shell.settings import LAST_DIR


@dataclass(frozen=True)
class FileLevel:
    """Level of an audio file: rms_dbfs, peak_dbfs (dB re full scale), fs_hz, channels,
    duration_s."""

    rms_dbfs: float
    peak_dbfs: float
    fs_hz: int
    channels: int
    duration_s: float

    def describe(self) -> str:
        return (f"RMS {self.rms_dbfs:.1f} dBFS, peak {self.peak_dbfs:.1f} dBFS · "
                f"{self.duration_s:.2f} s, {self.channels} ch, {self.fs_hz} Hz")


@functools.lru_cache(maxsize=16)
def _level(path: str, _stamp: tuple[float, int]) -> FileLevel:
    data, fs = read_audio(path, channels=None)
    rms = float(np.sqrt(np.mean(data ** 2)))
    peak = float(np.max(np.abs(data)))
    return FileLevel(20.0 * math.log10(rms), 20.0 * math.log10(peak), int(fs),
                     int(data.shape[1]), data.shape[0] / fs)


def file_level(path: str | os.PathLike) -> FileLevel:
    """The level of the audio file at `path` (cached while the file is unchanged). Raises
    AudioFileError with a one-line message naming the file."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise AudioFileError(f"{path}: cannot read the file ({e.strerror or e})") from None
    return _level(str(path), (st.st_mtime, st.st_size))


def level_text(signal: str) -> str:
    """What the level readout shows for a source's `signal` reference."""
    if signal.startswith("builtin:"):
        return "built-in signal (level set by Level @ 1 m)"
    try:
        return file_level(signal).describe()
    except AudioFileError as e:
        return str(e)


class SignalBrowser(QWidget):
    """A Browse… button and the level readout under the source's signal field.

    choose(path) is called with the file the user picked, after its level was read; a file
    that cannot be read goes to `refuse(message)` instead.
    """

    def __init__(self, choose: Callable[[str], None], refuse: Callable[[str], None],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self._choose, self._refuse = choose, refuse
        self.button = QPushButton("Browse…")
        self.button.setObjectName("browseSignal")
        self.button.setToolTip("Choose an audio file as this source's signal")
        self.button.clicked.connect(lambda: self.browse())
        self.level = QLabel()
        self.level.setObjectName("signalLevel")
        self.level.setWordWrap(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.button)
        row.addWidget(self.level, 1)

    def show_signal(self, signal: str) -> None:
        self.level.setText(level_text(signal))

    def browse(self, path: str | None = None) -> bool:
        """Ask for a file (or take `path`), read its level, hand it on. True when chosen."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Choose Signal File", LAST_DIR.get(),
                                                  AUDIO_FILES)
            if not path:
                return False
        try:
            file_level(path)
        except AudioFileError as e:
            self._refuse(f"Signal not changed: {e}")
            return False
        self._choose(str(Path(path).resolve()))
        return True
