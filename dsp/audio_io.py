"""Reading and writing audio files: the one reader every runtime path uses (any rate from
`MIN_FS_HZ` up, resampled with soxr; any channel count; 8/16/24/32-bit integer or float
samples; a window of the file), with one error type, `AudioFileError`, whose one-line message
starts with the file name and says what was expected.

`read_audio` returns float64 samples (n, channels) in −1 .. 1 full scale (integer formats are
scaled by libsndfile; float files keep their values, which may exceed 1); `audio_info` tells
what a file holds without reading it. `write_audio` writes through `sim.outputs.write_file`
(atomic, the existing file's mode kept, read-only targets refused), 32-bit float WAV by
default so nothing clips.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.outputs import write_file

MIN_FS_HZ = 8000
"""Lowest file rate accepted: telephone band. A lower rate is a damaged or mislabelled header
(a 1 Hz WAV would otherwise be resampled into minutes of audio)."""

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
    Raises AudioFileError for a missing/unreadable file, a rate below `MIN_FS_HZ`, an empty
    (or, unless allowed, silent) file, or one containing NaN or infinite samples.
    """
    import soundfile as sf

    path = _existing(path)
    try:
        with sf.SoundFile(str(path)) as f:
            rate = int(f.samplerate)
            if rate < MIN_FS_HZ:
                raise AudioFileError(f"{path}: sample rate {rate} Hz; expected at least"
                                     f" {MIN_FS_HZ} Hz (a damaged or mislabelled header?)")
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
                subtype: str | None = "FLOAT") -> Path:
    """Write x (n, channels) or (n,) at fs_hz to `path` through `sim.outputs.write_file`; returns
    the path. The container follows the suffix (.wav, .flac, .ogg, .aiff; WAV for any other);
    `subtype` is the sample format ("FLOAT", "PCM_16", …): None, or one the container cannot
    hold (FLOAT in FLAC), takes the finest it holds: PCM_24 (FLAC, AIFF), else its default."""
    import soundfile as sf

    path = Path(path)
    fmt = path.suffix.lstrip(".").upper()
    if fmt not in sf.available_formats():
        fmt = "WAV"
    if subtype is None or not sf.check_format(fmt, subtype):
        subtype = "PCM_24" if sf.check_format(fmt, "PCM_24") else None
    x = np.asarray(x, dtype=float)
    return write_file(path, lambda tmp: sf.write(str(tmp), x, int(fs_hz), subtype=subtype,
                                                 format=fmt))
