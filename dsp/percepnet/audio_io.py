"""Reading audio for the enhancer and the evaluation harness (mono, resampled)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dsp.audio_io import read_audio


def load_mono(path: str | Path, fs_hz: int | None = None,
              start_s: float = 0.0, dur_s: float | None = None) -> tuple[np.ndarray, int]:
    """Read a file as float64 mono (mean of channels), optionally resampled to fs_hz, through
    `dsp.audio_io.read_audio` (AudioFileError naming the file; silence is allowed here).

    Returns (samples (n,), rate in Hz).
    """
    # soxr's default quality: the evaluation harnesses' published figures were made with it.
    x, fs = read_audio(path, fs_hz, channels=1, start_s=start_s, dur_s=dur_s,
                       allow_silent=True, quality="HQ")
    return x[:, 0], fs


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """clean + noise scaled to the given SNR (power over the whole clip); noise is tiled/cut."""
    if len(noise) < len(clean):
        noise = np.tile(noise, -(-len(clean) // len(noise)))
    noise = noise[: len(clean)]
    pc = np.mean(clean ** 2) + 1e-20
    pn = np.mean(noise ** 2) + 1e-20
    return clean + noise * np.sqrt(pc / pn / 10 ** (snr_db / 10))
