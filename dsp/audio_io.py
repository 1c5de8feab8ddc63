"""Reading and writing audio files: the one reader every runtime path uses (any rate, resampled
with soxr; any channel count; integer or float samples; a window of the file), with one error
type, `AudioFileError`, whose message starts with the file name.

`read_audio` returns float64 samples (n, channels) in −1 .. 1 full scale (integer formats are
scaled by libsndfile; float files keep their values, which may exceed 1); `audio_info` tells
what a file holds without reading it. `write_audio` writes atomically (temporary file +
rename), 32-bit float WAV by default so nothing clips.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RESAMPLE_QUALITY = "VHQ"
"""soxr quality for rate conversion: very high (passband to 0.91·Nyquist, > 170 dB rejection)."""

SILENCE_DBFS = -120.0


class AudioFileError(ValueError):
    """A file that cannot be read or used; the message starts with the file name."""


@dataclass(frozen=True)
class AudioInfo:
    """What an audio file holds: rate, channels, frames, libsndfile subtype ("PCM_16",
    "FLOAT", …) and container format ("WAV", "FLAC", …)."""

    fs_hz: int
    channels: int
    frames: int
    subtype: str
    format: str


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """The header of an audio file; AudioFileError for a missing or unreadable file."""
    import soundfile as sf

    path = _existing(path)
    try:
        i = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise AudioFileError(f"{path}: not a readable audio file ({e})") from None
    return AudioInfo(int(i.samplerate), int(i.channels), int(i.frames), str(i.subtype),
                     str(i.format))


def read_audio(path: str | os.PathLike, fs_hz: int | None = None, channels: int | None = 2, *,
               start_s: float = 0.0, dur_s: float | None = None, allow_silent: bool = False,
               quality: str = RESAMPLE_QUALITY) -> tuple[np.ndarray, int]:
    """Read a WAV/FLAC/AIFF/OGG file → (samples (n, channels) float64, sample rate in Hz).

    fs_hz: resample to this rate (soxr at `quality`) unless it already matches.
    channels: 2 makes a stereo pair (mono is duplicated; more than two channels is an error,
    since a downmix would be a guess); 1 makes mono, the mean of the channels; None keeps the
    file's channels.
    start_s, dur_s: read only this window of the file (s, at the file's rate; None: to the end).
    allow_silent: accept a file (window) whose peak is below `SILENCE_DBFS`.
    Raises AudioFileError for a missing/unreadable file, an empty (or, unless allowed, silent)
    file, or one containing NaN or infinite samples.
    """
    import soundfile as sf

    path = _existing(path)
    try:
        with sf.SoundFile(str(path)) as f:
            rate = int(f.samplerate)
            f.seek(min(int(start_s * rate), f.frames))
            frames = -1 if dur_s is None else int(dur_s * rate)
            data = f.read(frames, dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise AudioFileError(f"{path}: not a readable audio file ({e})") from None
    _check_samples(path, data, rate, allow_silent)
    data = _layout(path, data, channels)
    if fs_hz is not None and int(fs_hz) != rate:
        data = resample(data, rate, int(fs_hz), quality)
        rate = int(fs_hz)
    return np.ascontiguousarray(data), rate


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"{path}: no such file")
    return path


def _check_samples(path: Path, data: np.ndarray, rate: int, allow_silent: bool) -> None:
    if data.shape[0] == 0:
        raise AudioFileError(f"{path}: the file holds no samples")
    bad = ~np.isfinite(data)
    if bad.any():
        row = int(np.argmax(bad.any(axis=1)))
        kind = "NaN" if np.isnan(data).any() else "infinite"
        count = int(bad.sum())
        raise AudioFileError(f"{path}: {count} {kind} sample{'s' if count != 1 else ''} (first at"
                             f" {row / rate:.3f} s); the file is damaged")
    if not allow_silent and float(np.max(np.abs(data))) <= 10.0 ** (SILENCE_DBFS / 20.0):
        raise AudioFileError(f"{path}: the file is silent (peak below {SILENCE_DBFS:g} dBFS)")


def _layout(path: Path, data: np.ndarray, channels: int | None) -> np.ndarray:
    """data (n, file channels) as (n, channels) (see `read_audio`)."""
    if channels == 1:
        return data.mean(axis=1, keepdims=True)
    if channels is not None:
        if data.shape[1] == 1 and channels == 2:
            return np.repeat(data, 2, axis=1)
        if data.shape[1] != channels:
            raise AudioFileError(f"{path}: {data.shape[1]} channels; expected {channels}"
                                 + (" (stereo)" if channels == 2 else ""))
    return data


def resample(x: np.ndarray, fs_in: int, fs_out: int,
             quality: str = RESAMPLE_QUALITY) -> np.ndarray:
    """Resample x (n, channels) or (n,) from fs_in to fs_out Hz with soxr at `quality`."""
    import soxr

    if fs_in == fs_out:
        return np.asarray(x, dtype=float)
    return np.asarray(soxr.resample(np.asarray(x, dtype=float), fs_in, fs_out,
                                    quality=quality), dtype=float)


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
