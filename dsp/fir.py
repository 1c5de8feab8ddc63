"""Frequency responses → causal FIRs with a modelling delay, and FIR responses back.

A design is sampled on the rfft grid of n_fft = oversample · n_taps points with its modelling
delay already applied (target e^{-j2πfΔ}); the inverse FFT is then cut to n_taps samples with
half-Hann fades at both ends (Kirkeby et al.: the window removes the circular wrap of the
periodic inverse). What the window removes is the realization error, reported in dB relative
to the designed energy (Parseval on the design grid).
"""

from __future__ import annotations

import numpy as np

_DFT_CACHE: dict = {}


def design_freqs(n_taps: int, fs_hz: float, oversample: int = 2) -> tuple[int, np.ndarray]:
    """(n_fft, freqs (n_fft//2 + 1,)) of the design grid for FIRs of n_taps."""
    n_fft = int(oversample) * int(n_taps)
    return n_fft, np.fft.rfftfreq(n_fft, 1.0 / fs_hz)


def taper(n_taps: int, fade: int) -> np.ndarray:
    """Flat window (n_taps,) with half-Hann fades of `fade` samples at both ends."""
    w = np.ones(n_taps)
    if fade > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)
        w[:fade] = ramp
        w[n_taps - fade:] = ramp[::-1]
    return w


def realize(response: np.ndarray, n_fft: int, n_taps: int,
            fade: int | None = None) -> tuple[np.ndarray, float]:
    """Causal FIRs from frequency responses that already carry the modelling delay.

    response: (..., n_fft//2 + 1) complex on the rfft grid of n_fft; n_taps: FIR length;
    fade: half-Hann fade length in samples at each end (default n_taps // 16).
    Returns (fir (..., n_taps) float64, error_db): 10·log10 of the energy the cut and window
    removed relative to the whole designed response (all channels together).
    """
    h = np.fft.irfft(response, n_fft, axis=-1)
    fade = max(n_taps // 16, 1) if fade is None else fade
    fir = h[..., :n_taps] * taper(n_taps, fade)
    err = np.sum((h[..., :n_taps] - fir) ** 2) + np.sum(h[..., n_taps:] ** 2)
    total = np.sum(h**2)
    return fir, float(10.0 * np.log10(max(err, 1e-300) / max(total, 1e-300)))


def fir_response(fir: np.ndarray, fs_hz: float, freqs_hz: np.ndarray) -> np.ndarray:
    """Frequency response (..., F) of FIRs (..., N) at arbitrary frequencies (F,) in Hz.

    A real product with the DTFT matrix, its cos/−sin columns interleaved so the result is
    the complex response's memory layout. The matrix is cached (analysis grids repeat from
    redraw to redraw), and the product is an einsum: a BLAS product this size (e.g. 16 × 1024
    × 2·368 for the report grid) is split over threads, which stall for milliseconds when
    other jobs load the machine, while one core does it in about one.
    """
    f = np.asarray(freqs_hz, dtype=float)
    n = fir.shape[-1]
    key = (f.tobytes(), n, float(fs_hz))
    mat = _DFT_CACHE.get(key)
    if mat is None:
        if len(_DFT_CACHE) > 32:
            _DFT_CACHE.clear()
        phase = -2.0 * np.pi * np.outer(np.arange(n), f) / fs_hz  # (N, F)
        mat = np.stack([np.cos(phase), np.sin(phase)], axis=-1).reshape(n, -1)  # (N, 2F)
        _DFT_CACHE[key] = mat
    out = np.einsum("...n,nx->...x", np.asarray(fir, dtype=float), mat)
    return out.view(complex)


def fir_response_uniform(fir: np.ndarray, n_fft: int) -> np.ndarray:
    """Response (..., n_fft//2 + 1) of FIRs on the rfft grid of n_fft (≥ n_taps)."""
    return np.fft.rfft(fir, n_fft, axis=-1)
