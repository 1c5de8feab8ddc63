"""Quantized-Laplace models for DRED latents: pmf tables, ideal bit costs, a dead-zone quantizer.

Parametrization follows libopus's DRED statistics (``ec_laplace_encode_p0``): per dimension a
probability of zero ``p0`` and a decay ``r`` in (0, 1):

    P(0) = p0,   P(+-k) = (1 - p0) / 2 * (1 - r) * r**(k - 1)   for k >= 1.

The alphabet is bounded to ``-max_abs..max_abs`` and the tail mass beyond it is folded onto
the two end symbols, so every table sums to exactly 1 and every symbol is codable.
Symbols ``s`` map to table indices ``s + max_abs``.
"""

from __future__ import annotations

import numpy as np

DEFAULT_MAX_ABS = 15  # 31 symbols; libopus clamps latents to a similar small range


def laplace_pmf(p0: np.ndarray, r: np.ndarray, max_abs: int = DEFAULT_MAX_ABS) -> np.ndarray:
    """Probability tables ``(..., 2*max_abs + 1)`` for parameters ``p0``, ``r`` of shape ``(...)``.

    ``p0`` is clipped to [1e-6, 1 - 1e-6] and ``r`` to [1e-6, 1 - 1e-6] so no symbol has zero
    probability (an impossible symbol would be uncodable).
    """
    p0 = np.clip(np.asarray(p0, dtype=np.float64), 1e-6, 1 - 1e-6)[..., None]
    r = np.clip(np.asarray(r, dtype=np.float64), 1e-6, 1 - 1e-6)[..., None]
    k = np.arange(1, max_abs + 1, dtype=np.float64)
    side = 0.5 * (1.0 - p0) * (1.0 - r) * r ** (k - 1.0)
    side[..., -1] = 0.5 * (1.0 - p0[..., 0]) * r[..., 0] ** (max_abs - 1.0)  # tail folded in
    return np.concatenate([side[..., ::-1], p0, side], axis=-1)


def ideal_bits(symbols: np.ndarray, pmf: np.ndarray, max_abs: int = DEFAULT_MAX_ABS) -> float:
    """Total ideal cost ``sum -log2 P(s)`` in bits.

    ``symbols`` ``(n,)`` signed, ``pmf`` ``(n, 2*max_abs + 1)``.
    """
    s = np.asarray(symbols, dtype=np.int64) + max_abs
    return float(-np.log2(pmf[np.arange(s.size), s]).sum())


def fit_laplace(symbols: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood ``(p0, r)`` per dimension from signed integer ``symbols``.

    p0 is the fraction of zeros; |s| - 1 of the non-zeros is geometric with ML decay
    r = m / (1 + m), m its mean (ignores the tail folding, which is negligible for sane r).
    """
    a = np.abs(np.asarray(symbols, dtype=np.float64))
    n = a.shape[axis]
    nz = np.count_nonzero(a, axis=axis)
    p0 = (n - nz + 0.5) / (n + 1.0)  # add-half smoothing: never exactly 0 or 1
    m = np.where(nz > 0, (a.sum(axis=axis) - nz) / np.maximum(nz, 1), 0.0)
    r = np.clip(m / (1.0 + m), 1e-3, 0.999)
    return p0, r


def dead_zone_quantize(x: np.ndarray, scale: np.ndarray, dead_zone: np.ndarray,
                       max_abs: int = DEFAULT_MAX_ABS) -> np.ndarray:
    """libopus-style soft dead-zone quantizer: ``round(x*s - d*tanh(x*s / (d + 0.1)))``.

    ``x`` ``(..., dims)``, ``scale`` and ``dead_zone`` broadcastable to it (per dimension,
    per quality level). Larger ``dead_zone`` pulls small values to 0 (cheaper, coarser).
    Returns int64 symbols clipped to ``-max_abs..max_abs``.
    """
    xs = np.asarray(x, dtype=np.float64) * scale
    d = np.asarray(dead_zone, dtype=np.float64)
    y = xs - d * np.tanh(xs / (d + 0.1))
    return np.clip(np.rint(y), -max_abs, max_abs).astype(np.int64)


def dequantize(symbols: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Inverse of the quantizer's scaling (the dead-zone shrink is not undone, as in libopus)."""
    return np.asarray(symbols, dtype=np.float64) / scale
