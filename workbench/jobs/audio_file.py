"""Audio files as the jobs are given them: samples at the file's own rate and channel count,
through the one reader (`dsp.audio_io.read_audio`), mono as a vector.

The job's own processing decides what it can use (rate, length, silence), so silence is let
through here and refused, if at all, in the job's words.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dsp.audio_io import read_audio


def read_samples(path: str | Path) -> tuple[np.ndarray, int]:
    """Samples ((n,) mono or (n, channels), float64) and rate (Hz) of an audio file.
    AudioFileError naming the file when it is missing, unreadable or holds NaN/inf."""
    x, fs = read_audio(path, channels=None, allow_silent=True)
    return (x[:, 0] if x.shape[1] == 1 else x), fs
