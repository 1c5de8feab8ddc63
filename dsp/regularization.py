"""Tikhonov-regularized least squares, batched over frequency, with β(f) from an effort cap.

For a plant G(f) (M ears × D drivers) and desired at-ear responses Dd(f) (M × K), the
regularized solution is C = (GᴴG + βI)⁻¹ GᴴDd = V diag(σ/(σ² + β)) UᴴDd (SVD G = UΣVᴴ), and
the realized at-ear response is GC = U diag(σ²/(σ² + β)) UᴴDd. Each eigen-channel's filter
gain σ/(σ² + β) never exceeds 1/(2√β) (spatial.md §B1), so β sets the effort. Everything
here works on (F, ...) stacks with one batched SVD; β searches bisect all frequencies at once.
"""

from __future__ import annotations

import numpy as np


class Tikhonov:
    """Regularized inverse of G (F, M, D) toward desired responses Dd (F, M, K).

    Precomputes the SVD and Q = UᴴDd (F, r, K), so that filters, at-ear responses and the
    filter gain for any β (F,) cost only (F, r, K)-sized work.
    """

    def __init__(self, G: np.ndarray, Dd: np.ndarray, _svd=None):
        self.U, self.s, self.Vh = _svd if _svd is not None else np.linalg.svd(
            G, full_matrices=False)
        self.Q = np.conj(np.swapaxes(self.U, -1, -2)) @ Dd  # (F, r, K)

    def with_desired(self, Dd: np.ndarray) -> Tikhonov:
        """The same plant (SVD reused) toward other desired responses Dd (F, M, K')."""
        return Tikhonov(None, Dd, _svd=(self.U, self.s, self.Vh))

    @property
    def s_max(self) -> np.ndarray:
        return self.s[:, 0]

    def _w(self, beta: np.ndarray) -> np.ndarray:
        b = np.asarray(beta, dtype=float).reshape(-1, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = self.s / (self.s**2 + b)
        return np.where(np.isfinite(w), w, 0.0)

    def filters(self, beta: np.ndarray) -> np.ndarray:
        """C (F, D, K) for regularization β (F,)."""
        x = self._w(beta)[..., None] * self.Q
        return np.conj(np.swapaxes(self.Vh, -1, -2)) @ x

    def at_ear(self, beta: np.ndarray) -> np.ndarray:
        """G·C (F, M, K) for regularization β (F,)."""
        b = np.asarray(beta, dtype=float).reshape(-1, 1)
        g = self.s**2 / (self.s**2 + b)
        return self.U @ (g[..., None] * self.Q)

    def gain(self, beta: np.ndarray) -> np.ndarray:
        """Largest column norm of C (F,): the total driver gain one input needs. Vh has
        orthonormal rows, so the column norms of C equal those of diag(w)Q."""
        x = self._w(beta)[..., None] * self.Q
        return np.sqrt(np.max(np.sum(np.abs(x) ** 2, axis=-2), axis=-1))

    def spectral_gain(self, beta: np.ndarray) -> np.ndarray:
        """Spectral norm of C (F,) (≥ gain; ≤ max σ/(σ² + β) ≤ 1/(2√β) for unit Dd)."""
        return spectral_norm(self._w(beta)[..., None] * self.Q)


def spectral_norm(x: np.ndarray) -> np.ndarray:
    """Largest singular value of each (F, r, K) matrix (closed form for K ≤ 2)."""
    k = x.shape[-1]
    if k == 1:
        return np.sqrt(np.sum(np.abs(x[..., 0]) ** 2, axis=-1))
    gram = np.conj(np.swapaxes(x, -1, -2)) @ x  # (F, K, K) Hermitian
    if k == 2:
        a, d = gram[:, 0, 0].real, gram[:, 1, 1].real
        b2 = np.abs(gram[:, 0, 1]) ** 2
        lam = 0.5 * (a + d) + np.sqrt(0.25 * (a - d) ** 2 + b2)
        return np.sqrt(np.maximum(lam, 0.0))
    return np.sqrt(np.maximum(np.linalg.eigvalsh(gram)[:, -1], 0.0))


def bisect_beta(pred, lo: np.ndarray, hi: np.ndarray, iters: int = 40) -> np.ndarray:
    """Smallest β in [lo, hi] (per frequency) for which pred(β) (F,) is True.

    pred must be False→True as β grows (monotone); frequencies where pred(lo) already holds
    return lo, where pred(hi) fails return hi. Bisection is in log β: β spans decades.
    """
    a, b = np.log(lo), np.log(hi)
    ok_lo = pred(lo)
    for _ in range(iters):
        m = 0.5 * (a + b)
        ok = pred(np.exp(m))
        b = np.where(ok, m, b)
        a = np.where(ok, a, m)
    return np.where(ok_lo, lo, np.exp(b))


def beta_for_gain(t: Tikhonov, max_gain: np.ndarray) -> np.ndarray:
    """Smallest β (F,) with gain(β) ≤ max_gain (F,); 0 where the unregularized C complies."""
    s2 = t.s_max**2
    beta0 = np.zeros_like(s2)
    free = t.gain(beta0) <= max_gain
    lo, hi = 1e-14 * s2 + 1e-300, 1e6 * s2 + 1e-300
    beta = bisect_beta(lambda b: t.gain(b) <= max_gain, lo, hi)
    return np.where(free, 0.0, beta)


def beta_ceiling(t: Tikhonov, strong_loss_db: float = 0.8) -> np.ndarray:
    """Largest β (F,) that costs the strongest channel at most `strong_loss_db` of at-ear
    gain: σ²/(σ² + β) ≥ 10^(-loss/20). Target normalization stays below it, so asking for
    0 dB cancellation gives the plain (summed) response rather than silence."""
    g = 10.0 ** (-strong_loss_db / 20.0)
    return t.s_max**2 * (1.0 - g) / g
