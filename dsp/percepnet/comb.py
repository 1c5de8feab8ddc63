"""Pitch comb filter, pitch coherence and the comb-strength target.

Comb: ``p(n) = Σ_{k=−M..M} w_k · y(n − k·T)`` with Hann weights ``w_k ∝ 1 + cos(π k/(M+1))``
normalised to Σw = 1 (M = 3: 7 taps). For white noise the output power is ``κ = Σ w_k²`` times the
input's (M = 3: κ = 12/64 = 0.1875, −7.3 dB) while a signal of period T passes unchanged.
Non-causal: it reads M·T samples ahead (≤ 3H = 30 ms with T ≤ H).

Per band b, noisy Y and comb output P are mixed ``Z = (1 − r)·Y + r·P`` and Z's band energy is
renormalised to Y's. Targets (PercepNet): with q_y the coherence of Y with P and q_x the coherence
of the clean X with its comb output, ``q̂ = q_y / sqrt((1 − κ)q_y² + κ)`` is the coherence reachable
with r = 1; if q̂ < q_x then r = 1 and the band is attenuated by
``g_att = sqrt((1 + n0 − q_x²)/(1 + n0 − q̂²))``; otherwise
``a = q̂² − q_x², b = q̂·q_y·(1 − q_x²), c = q_x² − q_y², α = (sqrt(b² + a·c) − b)/a, r = α/(1 + α)``
(a and c clamped at 0 first).
"""

from __future__ import annotations

import numpy as np

from dsp.percepnet.bands import band_cross, band_energy, interp_gains
from dsp.percepnet.stft import hop_size, segment, vorbis_window

COMB_M = 3
N0 = 0.03
EPS = 1e-12


def comb_weights(m: int = COMB_M) -> np.ndarray:
    """Hann comb weights w_k for k = −m … m, summing to 1: (2m + 1,)."""
    k = np.arange(-m, m + 1)
    w = 1.0 + np.cos(np.pi * k / (m + 1))
    return w / w.sum()


def white_noise_gain(m: int = COMB_M) -> float:
    """κ = Σ w_k², the comb filter's output/input power ratio for white noise."""
    return float(np.sum(comb_weights(m) ** 2))


def comb_frames(x: np.ndarray, fs_hz: int, period: np.ndarray, m: int = COMB_M,
                first: int = 0) -> np.ndarray:
    """Comb-filtered, windowed frames first … first + n − 1: (n, 2H) for their periods (n,) int.

    Frame k's window ``[k·H − H, k·H + H)`` of ``p`` uses x up to ``k·H + H + m·T_k``; samples
    outside x are zero. Every frame is computed alone (a block equals the same rows of all).
    """
    hop = hop_size(fs_hz)
    n_frames = len(period)
    w = comb_weights(m)
    reach = m * int(max(np.max(period), 1)) if n_frames else 0
    lo = first * hop - hop - reach
    pad = segment(np.asarray(x, dtype=np.float64), lo, (first + n_frames) * hop + reach + 1)
    base = reach + np.arange(n_frames)[:, None] * hop + np.arange(2 * hop)[None, :]
    out = np.zeros((n_frames, 2 * hop))
    for i, k in enumerate(range(-m, m + 1)):
        out += w[i] * pad[base - k * period[:, None]]
    return out * vorbis_window(2 * hop)


def coherence(a: np.ndarray, b: np.ndarray, fs_hz: int) -> np.ndarray:
    """Band coherence Re⟨A, B⟩ / sqrt(E_A·E_B): spectra (…, n_bins) → (…, n_bands) in [−1, 1]."""
    return band_cross(a, b, fs_hz) / np.sqrt(
        band_energy(a, fs_hz) * band_energy(b, fs_hz) + EPS)


def strength_target(q_x: np.ndarray, q_y: np.ndarray, kappa: float | None = None,
                    n0: float = N0) -> tuple[np.ndarray, np.ndarray]:
    """Comb strength r and extra attenuation g_att from the coherences (same shapes, any).

    Returns (r, g_att), both in [0, 1].
    """
    kappa = white_noise_gain() if kappa is None else kappa
    qx = np.clip(q_x, 0.0, 0.999)
    qy = np.clip(q_y, 0.0, 0.999)
    qh = qy / np.sqrt((1 - kappa) * qy ** 2 + kappa)
    a = np.maximum(qh ** 2 - qx ** 2, 0.0)
    b = qh * qy * (1 - qx ** 2)
    c = np.maximum(qx ** 2 - qy ** 2, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(a > 1e-9, (np.sqrt(b ** 2 + a * c) - b) / np.maximum(a, 1e-9), np.inf)
    r = np.where(np.isinf(alpha), 1.0, alpha / (1 + np.where(np.isinf(alpha), 0.0, alpha)))
    short = qh < qx
    r = np.where(short, 1.0, np.clip(r, 0.0, 1.0))
    g_att = np.where(short, np.sqrt((1 + n0 - qx ** 2) / (1 + n0 - qh ** 2)), 1.0)
    return r, np.minimum(g_att, 1.0)


def mix_comb(y_spec: np.ndarray, p_spec: np.ndarray, r: np.ndarray, fs_hz: int) -> np.ndarray:
    """Z = (1 − r)·Y + r·P per bin (r interpolated from bands), band energy renormalised to Y.

    y_spec, p_spec: complex (…, n_bins); r: (…, n_bands). Returns complex (…, n_bins).
    """
    rb = interp_gains(r, fs_hz)
    z = (1 - rb) * y_spec + rb * p_spec
    norm = np.sqrt(band_energy(y_spec, fs_hz) / (band_energy(z, fs_hz) + EPS))
    return z * interp_gains(norm, fs_hz)
