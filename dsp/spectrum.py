"""Spectra of impulse responses for display and analysis."""

from __future__ import annotations

import numpy as np


def magnitude_db(ir: np.ndarray, fs_hz: float, n_fft: int | None = None,
                 floor_db: float = -240.0) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude response of an IR.

    ir: (..., n_taps); n_fft: FFT length (default: the next power of two ≥ n_taps, at least
    4096, for a smooth curve). Returns (f, level): f (F,) in Hz without the DC bin (so it plots
    on a log axis) and level (..., F) = 20·log10|H| in dB, floored at `floor_db`.
    """
    ir = np.asarray(ir, dtype=float)
    n = n_fft or max(4096, 1 << int(np.ceil(np.log2(max(ir.shape[-1], 1)))))
    spectrum = np.fft.rfft(ir, n, axis=-1)
    f = np.fft.rfftfreq(n, 1.0 / fs_hz)
    level = 20.0 * np.log10(np.maximum(np.abs(spectrum), 10.0 ** (floor_db / 20.0)))
    return f[1:], level[..., 1:]
