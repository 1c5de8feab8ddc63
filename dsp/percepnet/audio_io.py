"""Reading audio for the enhancer and the evaluation harness (mono, resampled)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def load_mono(path: str | Path, fs_hz: int | None = None,
              start_s: float = 0.0, dur_s: float | None = None) -> tuple[np.ndarray, int]:
    """Read a file as float64 mono (mean of channels), optionally resampled to fs_hz.

    Returns (samples (n,), rate in Hz).
    """
    import soundfile as sf

    info = sf.info(str(path))
    start = int(start_s * info.samplerate)
    frames = -1 if dur_s is None else int(dur_s * info.samplerate)
    x, fs = sf.read(str(path), start=start, frames=frames, dtype="float64", always_2d=True)
    x = x.mean(axis=1)
    if fs_hz is not None and fs != fs_hz:
        import soxr

        x = soxr.resample(x, fs, fs_hz)
        fs = fs_hz
    return x, fs


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """clean + noise scaled to the given SNR (power over the whole clip); noise is tiled/cut."""
    if len(noise) < len(clean):
        noise = np.tile(noise, -(-len(clean) // len(noise)))
    noise = noise[: len(clean)]
    pc = np.mean(clean ** 2) + 1e-20
    pn = np.mean(noise ** 2) + 1e-20
    return clean + noise * np.sqrt(pc / pn / 10 ** (snr_db / 10))
