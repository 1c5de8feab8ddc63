"""Tikhonov-regularized least squares, batched over frequency, with β(f) from an effort cap.

For a plant G(f) (M ears × D drivers) and desired at-ear responses Dd(f) (M × K), the
regularized solution is C = (GᴴG + βI)⁻¹ GᴴDd = V diag(σ/(σ² + β)) UᴴDd (SVD G = UΣVᴴ), and
the realized at-ear response is GC = U diag(σ²/(σ² + β)) UᴴDd. Each eigen-channel's filter
gain σ/(σ² + β) never exceeds 1/(2√β) (spatial.md §B1), so β sets the effort. Everything
here works on (F, ...) stacks with one batched SVD; β searches bisect all frequencies at once.
"""

from __future__ import annotations

import numpy as np


def thin_svd(G: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """U (F, M, r), σ (F, r) descending, Vh (F, r, D) of G (F, M, D), r = min(M, D).

    Two rows (the sweet-spot plant: two ears) in closed form, which is several times faster
    than LAPACK's per-matrix calls: GGᴴ = [[a, b], [b*, d]] has λ₁ = (a+d)/2 + √(((a−d)/2)² +
    |b|²) with eigenvector u₁, λ₂ = det(GGᴴ)/λ₁ with det from the 2 × 2 minors of G
    (Cauchy–Binet: no a·d − |b|² cancellation), u₂ ⟂ u₁, and Vh = Σ⁻¹UᴴG. Accuracy as LAPACK's
    where it matters: σ₂ to ~ε·σ₁, Vh rows orthonormal to ~ε·κ² (≈1e-11 for the design plants,
    κ ≤ 500). Other shapes: LAPACK.
    """
    if G.shape[-2] != 2 or G.shape[-1] < 2:
        return np.linalg.svd(G, full_matrices=False)
    g0, g1 = G[:, 0, :], G[:, 1, :]
    a = np.sum(g0.real**2 + g0.imag**2, axis=-1)
    d = np.sum(g1.real**2 + g1.imag**2, axis=-1)
    b = np.sum(g0 * np.conj(g1), axis=-1)
    i, j = np.triu_indices(G.shape[-1], 1)
    minors = g0[:, i] * g1[:, j] - g0[:, j] * g1[:, i]
    det = np.sum(minors.real**2 + minors.imag**2, axis=-1)
    lam1 = 0.5 * (a + d) + np.sqrt((0.5 * (a - d)) ** 2 + np.abs(b) ** 2)
    lam2 = det / np.where(lam1 > 0.0, lam1, 1.0)
    # (GGᴴ − λ₁)u₁ = 0: of the two candidate vectors take the one that cannot vanish unless
    # GGᴴ is a multiple of I (then any unit vector is an eigenvector).
    first = a >= d
    v0 = np.where(first, lam1 - d, b)
    v1 = np.where(first, np.conj(b), lam1 - a)
    norm = np.sqrt(np.abs(v0) ** 2 + np.abs(v1) ** 2)
    some = norm > 0.0
    norm = np.where(some, norm, 1.0)
    v0, v1 = np.where(some, v0 / norm, 1.0), np.where(some, v1 / norm, 0.0)
    U = np.stack([np.stack([v0, -np.conj(v1)], axis=-1),
                  np.stack([v1, np.conj(v0)], axis=-1)], axis=-2)  # (F, 2, 2)
    s = np.sqrt(np.stack([lam1, lam2], axis=-1))
    inv_s = np.divide(1.0, s, out=np.zeros_like(s), where=s > 0.0)  # rank 1: that row is 0
    Vh = (np.conj(np.swapaxes(U, -1, -2)) @ G) * inv_s[..., None]
    return U, s, Vh


class Tikhonov:
    """Regularized inverse of G (F, M, D) toward desired responses Dd (F, M, K).

    Precomputes the SVD and Q = UᴴDd (F, r, K), so that filters, at-ear responses and the
    filter gain for any β (F,) cost only (F, r, K)-sized work.
    """

    def __init__(self, G: np.ndarray, Dd: np.ndarray, _svd=None):
        self.U, self.s, self.Vh = _svd if _svd is not None else thin_svd(G)
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


class AtEarEnergy:
    """Energies of the regularized at-ear response as quadratic forms in the channel gains
    g_r(β) = σ_r²/(σ_r² + β): energy j of input k is Σ_{e ∈ rows[j][k]} |(G C(β))[e, k]|².

    G C(β) = U diag(g) Q, so entry (e, k) is Σ_r g_r U[e, r] Q[r, k] and its energy summed over
    a row set is gᵀ B g with B[r, r'] = Re Σ_e U[e, r] Q[r, k] conj(U[e, r'] Q[r', k]). The forms
    (J, K, r², F) are built once per plant, frequency last; a β search then costs a few
    elementwise operations on them per step instead of a matrix product per frequency.
    """

    def __init__(self, t: Tikhonov, rows: list[list[np.ndarray]]):
        self.s2 = np.ascontiguousarray(t.s.T**2)  # (r, F)
        forms = []
        for per_input in rows:
            bk = []
            for k, idx in enumerate(per_input):
                a = t.U[:, idx, :] * t.Q[:, None, :, k]  # (F, E, r)
                b = np.einsum("fex,fey->xyf", a, np.conj(a)).real  # (r, r, F)
                bk.append(b.reshape(-1, b.shape[-1]))
            forms.append(bk)
        self.forms = np.ascontiguousarray(np.array(forms))  # (J, K, r², F)

    def __call__(self, beta: np.ndarray) -> np.ndarray:
        """Energies (J, K, F) at regularization β (F,)."""
        g = self.s2 / (self.s2 + beta)  # (r, F)
        gg = (g[:, None, :] * g[None, :, :]).reshape(-1, g.shape[-1])  # (r², F)
        return np.add.reduce(self.forms * gg, axis=2)


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
    return lo, where pred(hi) fails return hi. Bisection is in log β: β spans decades. Every
    step halves every frequency's bracket, so only its lower end is kept (its width is known).
    """
    a = np.log(lo)
    half = 0.5 * (np.log(hi) - a)
    ok_lo = pred(lo)
    for _ in range(iters):
        m = a + half
        a = np.where(pred(np.exp(m)), a, m)
        half *= 0.5
    return np.where(ok_lo, lo, np.exp(a + 2.0 * half))


def beta_for_gain(t: Tikhonov, max_gain: np.ndarray) -> np.ndarray:
    """Smallest β (F,) with gain(β) ≤ max_gain (F,); 0 where the unregularized C complies."""
    s2 = t.s_max**2
    free = t.gain(np.zeros_like(s2)) <= max_gain
    cap_sq = np.asarray(max_gain) ** 2
    lo, hi = 1e-14 * s2 + 1e-300, 1e6 * s2 + 1e-300
    # Inside the search β > 0, so σ/(σ² + β) needs no guard: the column energies of
    # diag(w)Q are evaluated from σ and |Q|² laid out frequency last, a few elementwise
    # operations per step.
    sigma = np.ascontiguousarray(t.s.T)  # (r, F)
    sigma2 = sigma**2
    q2 = np.ascontiguousarray(np.moveaxis(np.abs(t.Q) ** 2, 0, -1))  # (r, K, F)

    def within(b):
        w = sigma / (sigma2 + b)
        return np.maximum.reduce(np.add.reduce((w * w)[:, None] * q2), axis=0) <= cap_sq

    beta = bisect_beta(within, lo, hi)
    return np.where(free, 0.0, beta)


def beta_ceiling(t: Tikhonov, strong_loss_db: float = 0.8) -> np.ndarray:
    """Largest β (F,) that costs the strongest channel at most `strong_loss_db` of at-ear
    gain: σ²/(σ² + β) ≥ 10^(-loss/20). Target normalization stays below it, so asking for
    0 dB cancellation gives the plain (summed) response rather than silence."""
    g = 10.0 ** (-strong_loss_db / 20.0)
    return t.s_max**2 * (1.0 - g) / g
