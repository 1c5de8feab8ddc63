"""Reading and writing audio files for rendering: any rate (resampled with soxr), any channel
count, integer or float samples, with one clear sentence for every file that cannot be used.

`read_audio` returns float64 samples (n, channels) in −1 .. 1 full scale (integer formats are
scaled by libsndfile; float files keep their values, which may exceed 1). `write_audio` writes
atomically (temporary file + rename), 32-bit float WAV by default so nothing clips.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

RESAMPLE_QUALITY = "VHQ"
"""soxr quality for rate conversion: very high (passband to 0.91·Nyquist, > 170 dB rejection)."""

SILENCE_DBFS = -120.0


class AudioFileError(ValueError):
    """A file that cannot be read or used; the message starts with the file name."""


def read_audio(path: str | os.PathLike, fs_hz: int | None = None,
               channels: int | None = 2) -> tuple[np.ndarray, int]:
    """Read a WAV/FLAC/AIFF/OGG file → (samples (n, channels) float64, sample rate in Hz).

    fs_hz: resample to this rate (soxr, very high quality) unless it already matches.
    channels: 2 makes a stereo pair (mono is duplicated; more than two channels is an error,
    since a downmix would be a guess); None keeps the file's channels.
    Raises AudioFileError for a missing/unreadable file, an empty or silent file, or one
    containing NaN or infinite samples.
    """
    import soundfile as sf

    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise AudioFileError(f"{name}: no such file")
    try:
        data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise AudioFileError(f"{name}: not a readable audio file ({e})") from None
    if data.shape[0] == 0:
        raise AudioFileError(f"{name}: the file holds no samples")
    bad = ~np.isfinite(data)
    if bad.any():
        row = int(np.argmax(bad.any(axis=1)))
        kind = "NaN" if np.isnan(data).any() else "infinite"
        count = int(bad.sum())
        raise AudioFileError(f"{name}: {count} {kind} sample{'s' if count != 1 else ''} (first at"
                             f" {row / rate:.3f} s); the file is damaged")
    peak = float(np.max(np.abs(data)))
    if peak <= 10.0 ** (SILENCE_DBFS / 20.0):
        raise AudioFileError(f"{name}: the file is silent (peak below {SILENCE_DBFS:g} dBFS)")
    if channels is not None:
        if data.shape[1] == 1 and channels == 2:
            data = np.repeat(data, 2, axis=1)
        elif data.shape[1] != channels:
            raise AudioFileError(f"{name}: {data.shape[1]} channels; expected {channels}"
                                 + (" (stereo)" if channels == 2 else ""))
    if fs_hz is not None and int(fs_hz) != rate:
        data = resample(data, rate, int(fs_hz))
        rate = int(fs_hz)
    return np.ascontiguousarray(data), int(rate)


def resample(x: np.ndarray, fs_in: int, fs_out: int) -> np.ndarray:
    """Resample x (n, channels) from fs_in to fs_out Hz with soxr (very high quality)."""
    import soxr

    if fs_in == fs_out:
        return np.asarray(x, dtype=float)
    return np.asarray(soxr.resample(np.asarray(x, dtype=float), fs_in, fs_out,
                                    quality=RESAMPLE_QUALITY), dtype=float)


def write_audio(path: str | os.PathLike, x: np.ndarray, fs_hz: int,
                subtype: str = "FLOAT") -> None:
    """Write x (n, channels) or (n,) to a WAV file atomically (32-bit float by default)."""
    import soundfile as sf

    path = Path(path)
    x = np.asarray(x, dtype=float)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".wav", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a written file gets the usual mode
    try:
        sf.write(tmp, x, int(fs_hz), subtype=subtype, format="WAV")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
