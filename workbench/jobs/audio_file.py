"""Audio files as the jobs are given them: samples as they are (any rate, channel count and
sample format), with a one-line error naming the file.

Unlike `dsp.audio_io.read_audio` (the programme reader: stereo, resampled, silence refused),
nothing is changed or judged here; the job's own processing decides what it can use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dsp.audio_io import AudioFileError


def read_samples(path: str | Path) -> tuple[np.ndarray, int]:
    """Samples ((n,) mono or (n, channels), float64) and rate (Hz) of an audio file.
    AudioFileError naming the file when it is missing or unreadable."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"{path}: no such file")
    try:
        x, fs = sf.read(str(path), dtype="float64")
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioFileError(f"{path}: cannot read audio ({e})") from None
    return x, int(fs)
