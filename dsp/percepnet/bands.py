"""Triangular ERB bands on the 50 Hz STFT grid; band energies and gain interpolation.

Layout (derived from the sample rate): starting at 20 kHz and stepping down by the ERB width
``24.7·(4.37·f/kHz + 1)`` Hz rounded to whole 50 Hz bins, at least 2 bins (100 Hz), gives the
35 edge points ``0 2 4 … 18 21 24 28 … 317 356 400`` (×50 Hz) of RNNoise 0.2's recipe. The band
centres are these points below 20 kHz and below the Nyquist frequency (less 2 bins); each band is
a triangle rising from the previous centre and falling to the next one, the last band staying flat
up to Nyquist. So 48 kHz has 34 bands (0 … 17.8 kHz), 16 kHz has 27 bands (0 … 7.85 kHz), and
the 16 kHz layout is exactly the lower part of the 48 kHz one. The triangles sum to 1 at every
bin, so interpolated unit gains are exactly unit gains.
"""

from __future__ import annotations

from functools import cache

import numpy as np

BIN_HZ = 50.0
TOP_HZ = 20000.0
MIN_BINS = 2


def erb_hz(f_hz: float) -> float:
    """Equivalent rectangular bandwidth (Glasberg & Moore) in Hz at f_hz."""
    return 24.7 * (4.37 * f_hz / 1000.0 + 1.0)


@cache
def _edge_points() -> tuple[int, ...]:
    pts = [int(TOP_HZ / BIN_HZ)]
    while pts[-1] > 0:
        step = max(MIN_BINS, round(erb_hz(pts[-1] * BIN_HZ) / BIN_HZ))
        pts.append(max(0, pts[-1] - step))
    return tuple(sorted(pts))


def band_centres_bins(fs_hz: int) -> np.ndarray:
    """Band centres in 50 Hz bins for sample rate fs_hz: int (n_bands,)."""
    nyq_bins = int(fs_hz / 2 / BIN_HZ)
    pts = [p for p in _edge_points() if p < TOP_HZ / BIN_HZ and p <= nyq_bins - MIN_BINS]
    return np.asarray(pts, dtype=int)


def n_bands(fs_hz: int) -> int:
    """Number of bands at fs_hz (34 at 48 kHz, 27 at 16 kHz)."""
    return len(band_centres_bins(fs_hz))


@cache
def _band_matrix(fs_hz: int) -> np.ndarray:
    c = band_centres_bins(fs_hz)
    n_bins = int(fs_hz / 2 / BIN_HZ) + 1
    k = np.arange(n_bins, dtype=float)
    m = np.zeros((len(c), n_bins))
    for b in range(len(c)):
        if b > 0:
            lo = c[b - 1]
            sel = (k >= lo) & (k <= c[b])
            m[b, sel] = (k[sel] - lo) / (c[b] - lo)
        else:
            m[b, k <= c[0]] = 1.0
        if b < len(c) - 1:
            hi = c[b + 1]
            sel = (k > c[b]) & (k < hi)
            m[b, sel] = (hi - k[sel]) / (hi - c[b])
        else:
            m[b, k > c[b]] = 1.0
    m.setflags(write=False)
    return m


def band_matrix(fs_hz: int) -> np.ndarray:
    """Triangular band weights, float64 (n_bands, n_bins), n_bins = fs/100 + 1; columns sum to 1."""
    return _band_matrix(int(fs_hz))


def band_energy(spec: np.ndarray, fs_hz: int) -> np.ndarray:
    """Band energies Σ_k W[b,k]·|S[…,k]|²: (…, n_bins) complex → (…, n_bands) float."""
    p = spec.real ** 2 + spec.imag ** 2
    return p @ band_matrix(fs_hz).T


def band_cross(a: np.ndarray, b: np.ndarray, fs_hz: int) -> np.ndarray:
    """Band cross energies Σ_k W[b,k]·Re(A·conj(B)): (…, n_bins) → (…, n_bands)."""
    return (a.real * b.real + a.imag * b.imag) @ band_matrix(fs_hz).T


def interp_gains(g: np.ndarray, fs_hz: int) -> np.ndarray:
    """Band values (…, n_bands) to bins (…, n_bins) by the triangles (linear between centres)."""
    return g @ band_matrix(fs_hz)
