"""Rigid-sphere head model (Duda & Martens, JASA 104(5), 1998).

All quantities are SI (Hz, m, s, rad unless a name says ``_deg``).  Transfer functions use
the numpy-FFT sign convention: a delay ``tau`` is ``exp(-1j * 2 * pi * f * tau)``.

Room frame: x and y horizontal, z up.  Yaw is the direction the nose points, counter-clockwise
from +x in degrees; ear angles are azimuths relative to the nose, positive to the left.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import ArrayLike

from sim.constants import DEFAULT_HEAD_RADIUS_M, SPEED_OF_SOUND_M_S

DEFAULT_EAR_ANGLES_DEG = (100.0, -100.0)

# The near-field coefficients of all orders are kept in one (distances, orders, F) array so
# that a single contraction does the Legendre sum; above this many complex elements the memory
# cost outweighs that and the sum is accumulated order by order.
_MAX_STACKED = 1 << 22


def _n_terms(mu_max: float, rho_min: float) -> int:
    # Terms decay super-exponentially once m > mu; a finite source adds a rho**-m factor that
    # only converges slowly when the source is close to the surface, so add enough orders
    # for rho**-m < 1e-10 there (capped: a source on the surface is singular anyway).
    extra = 40
    if math.isfinite(rho_min):
        extra = min(max(extra, math.ceil(23.0 / math.log(rho_min))), 400)
    return math.ceil(mu_max) + extra


def _finite(a: np.ndarray) -> np.ndarray:
    # Orders whose Hankel values overflowed (small mu, large m) contribute nothing physically.
    return np.where(np.isfinite(a), a, 0.0)


def _legendre(x: np.ndarray, n: int) -> np.ndarray:
    """P_0..P_{n-1}(x), shape x.shape + (n,), by the three-term recursion."""
    p = np.empty((*x.shape, n))
    p[..., 0] = 1.0
    if n > 1:
        p[..., 1] = x
    for m in range(1, n - 1):
        p[..., m + 1] = ((2 * m + 1) * x * p[..., m] - m * p[..., m - 1]) / (m + 1)
    return p


def _surface_weights(mu: np.ndarray, n: int) -> np.ndarray:
    """(2m+1) / h_m'(mu) for m < n, shape (n, F), read-only: the frequency-only factor of
    every order. Cached: design and analysis grids repeat from call to call, and the complex
    recursion over a long grid costs as much as the rest of a one-head series."""
    return _surface_weights_cached(np.ascontiguousarray(mu, dtype=float).tobytes(), n)


@functools.lru_cache(maxsize=16)
def _surface_weights_cached(mu_bytes: bytes, n: int) -> np.ndarray:
    # Spherical Hankel functions (first kind) by upward recursion; the Bessel part lost at
    # m >> mu is negligible next to the growing Neumann part. Overflowed orders give 0.
    mu = np.frombuffer(mu_bytes)
    w = np.empty((n, mu.size), dtype=complex)
    with np.errstate(all="ignore"):
        inv_mu = 1.0 / mu
        h_a = np.exp(1j * mu) / (1j * mu)
        h_b = h_a * (inv_mu - 1j)
        for m in range(n):
            w[m] = (2 * m + 1) / (m * inv_mu * h_a - h_b)
            h_a, h_b = h_b, (2 * m + 3) * inv_mu * h_b - h_a
    w = _finite(w)
    w.flags.writeable = False
    return w


def _contract(p: np.ndarray, c: np.ndarray) -> np.ndarray:
    """sum_m p[..., m] c[..., m, f] with broadcasting: real p (Sp + (n,)), complex c
    (Sc + (n, F)) → complex broadcast(Sp, Sc) + (F,).

    Done on the real view of c by einsum: a real sum of products that never calls the BLAS,
    whose worker threads stall when the machine is loaded and cost more than this small sum.
    """
    f = c.shape[-1]
    out = np.einsum("...n,...nx->...x", p, c.view(float))
    return out.view(complex).reshape(*out.shape[:-1], f)


def sphere_hrtf(
    freqs_hz: ArrayLike,
    incidence_rad: ArrayLike,
    distance_m: ArrayLike | None = None,
    radius_m: float = DEFAULT_HEAD_RADIUS_M,
    c: float = SPEED_OF_SOUND_M_S,
) -> np.ndarray:
    """Pressure on a rigid sphere relative to the free-field pressure at its centre.

    Duda & Martens' series (far field: plane wave; finite range: point source), conjugated
    from their exp(-i w t) convention to numpy's.  Orders: ceil(mu_max) + 40, more for
    sources near the surface (converged down to about 6 % of the radius above it).

    Args:
        freqs_hz: frequencies, shape (F,), Hz, >= 0.
        incidence_rad: angle between the ear's position vector and the direction to the
            source (0 = source on the ear axis), rad; shape Si.
        distance_m: source distance from the sphere centre, m, shape Sd broadcastable with
            Si; ``None`` or ``inf`` gives the far-field (plane-wave) response.  Must exceed
            ``radius_m``.
        radius_m: sphere radius, m.
        c: speed of sound, m/s.

    Returns:
        Complex array of shape broadcast(Si, Sd) + (F,).  Far field tends to 1 as f -> 0;
        at finite range the f = 0 value is the static limit sum((2m+1)/(m+1) P_m rho**-m),
        which the series approaches continuously.
    """
    f = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
    x = np.cos(np.asarray(incidence_rad, dtype=float))
    if distance_m is None:
        rho = np.asarray(np.inf)
    else:
        rho = np.asarray(distance_m, dtype=float) / radius_m
        if np.any(rho <= 1.0):
            raise ValueError("source distance must exceed the sphere radius")
    far = bool(np.all(np.isinf(rho)))
    if not far:
        # Mixed far/near input: a huge radius is numerically the plane-wave limit.
        rho = np.where(np.isinf(rho), 1e12, rho)
    shape = np.broadcast_shapes(x.shape, rho.shape)

    mu_true = 2.0 * np.pi * f * radius_m / c
    dc = mu_true == 0.0
    mu = np.where(dc, 1.0, mu_true)  # DC is filled in from its closed-form limit below
    n = _n_terms(float(mu_true.max(initial=0.0)), float(rho.min()))
    p = _legendre(x, n)  # (Si, n)
    w = _surface_weights(mu, n)  # (n, F)
    if far:
        acc = _plane_wave_sum(p, w, mu)
        static = np.ones(())  # the far field tends to 1 as f -> 0
    else:
        acc = _point_source_sum(p, w, mu, rho, shape)
        orders = np.arange(n)
        static = np.einsum("...n,...n->...", p, (2 * orders + 1) / (orders + 1)
                           * rho[..., None] ** -orders.astype(float))
    h = np.broadcast_to(np.conj(acc), shape + f.shape).copy()
    h[..., dc] = static[..., None]
    return h


def _plane_wave_sum(p: np.ndarray, w: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """The far-field series before conjugation: sum_m P_m w_m (-i)**(m-1) / mu², shape
    Si + (F,), from Legendre values p (Si + (n,)), surface weights w (n, F) and mu (F,)."""
    n = p.shape[-1]
    phase = np.array([1j, 1.0, -1j, -1.0])[np.arange(n) % 4]  # (-i)**(m-1), exactly
    coef = w * phase[:, None] / (mu * mu)
    if n * mu.size <= _MAX_STACKED:
        return (p.reshape(-1, n) @ coef).reshape(p.shape[:-1] + mu.shape)
    return sum(p[..., m, None] * coef[m] for m in range(n))


def _point_source_sum(p: np.ndarray, w: np.ndarray, mu: np.ndarray, rho: np.ndarray,
                      shape: tuple) -> np.ndarray:
    """The finite-range series before conjugation, shape `shape` + (F,), for distances rho
    (Sd, in radii) broadcast with the Legendre values p (Si + (n,)) into `shape`.

    Order m carries g_m = exp(-i mu rho) h_m(mu rho) (the Hankel recursion free of the fast
    phase) per distance and frequency, times the surface weight w_m (n, F)."""
    n, f_size = p.shape[-1], mu.size
    stack = rho.size * n * f_size <= _MAX_STACKED
    if stack:
        coef = np.empty((*rho.shape, n, f_size), dtype=complex)
    else:
        acc = np.zeros((*shape, f_size), dtype=complex)
    with np.errstate(all="ignore"):
        inv_z = (1.0 / mu) / rho[..., None]  # (Sd, F)
        g_a = -1j * inv_z
        g_b = g_a * (inv_z - 1j)
        for m in range(n):
            if stack:
                np.multiply(g_a, w[m], out=coef[..., m, :])
            else:
                acc += p[..., m, None] * _finite(g_a * w[m])
            g_a, g_b = g_b, (2 * m + 3) * inv_z * g_b - g_a
    if stack:
        # g_m overflows only for tiny mu*rho, and then stays non-finite for every higher
        # order: a finite last order means a finite stack.
        if not np.all(np.isfinite(coef[..., -1, :])):
            coef = _finite(coef)
        acc = _contract(p, coef)
    return acc * (-rho[..., None] / mu)


def ear_directions(
    yaw_deg: float, ear_angles_deg: tuple[float, float] = DEFAULT_EAR_ANGLES_DEG
) -> np.ndarray:
    """Unit vectors from the head centre to the left and right ear, room frame.

    Args:
        yaw_deg: nose direction, degrees counter-clockwise from +x.
        ear_angles_deg: (left, right) ear azimuths relative to the nose, degrees, positive
            to the left.

    Returns:
        Array (2, 3); row 0 is the left ear.  The ears lie in the horizontal plane.
    """
    az = np.deg2rad(yaw_deg + np.asarray(ear_angles_deg, dtype=float))
    return np.stack([np.cos(az), np.sin(az), np.zeros_like(az)], axis=-1)


def ear_incidence(
    head_pos_m: ArrayLike,
    yaw_deg: float,
    source_pos_m: ArrayLike,
    ear_angles_deg: tuple[float, float] = DEFAULT_EAR_ANGLES_DEG,
) -> tuple[np.ndarray, np.ndarray]:
    """Incidence angle at each ear and distance from the head centre for point sources.

    Args:
        head_pos_m: head centre, shape (3,), m.
        yaw_deg: nose direction, degrees counter-clockwise from +x.
        source_pos_m: source positions, shape (..., 3), m.
        ear_angles_deg: (left, right) ear azimuths relative to the nose, degrees.

    Returns:
        ``(incidence_rad, distance_m)`` with shapes (..., 2) (left, right) and (...,).
    """
    rel = np.asarray(source_pos_m, dtype=float) - np.asarray(head_pos_m, dtype=float)
    dist = np.linalg.norm(rel, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos_inc = (rel @ ear_directions(yaw_deg, ear_angles_deg).T) / dist[..., None]
    return np.arccos(np.clip(cos_inc, -1.0, 1.0)), dist


def head_transfer(
    freqs_hz: ArrayLike,
    head_pos_m: ArrayLike,
    yaw_deg: float,
    source_pos_m: ArrayLike,
    radius_m: float = DEFAULT_HEAD_RADIUS_M,
    ear_angles_deg: tuple[float, float] = DEFAULT_EAR_ANGLES_DEG,
    c: float = SPEED_OF_SOUND_M_S,
) -> np.ndarray:
    """Point-source-to-ear transfer functions of a rigid-sphere head.

    ``exp(-j 2 pi f r / c) / r * sphere_hrtf(f, incidence, r)`` with r the distance from the
    source to the head centre: the 1/r amplitude law of pyroomacoustics (not 1/(4 pi r)).

    Args:
        freqs_hz: frequencies, shape (F,), Hz.
        head_pos_m: head centre, shape (3,), m.
        yaw_deg: nose direction, degrees counter-clockwise from +x.
        source_pos_m: source positions, shape (..., 3), m, outside the sphere.
        radius_m: head radius, m.
        ear_angles_deg: (left, right) ear azimuths relative to the nose, degrees.
        c: speed of sound, m/s.

    Returns:
        Complex array (..., 2, F); index 0 of the ear axis is the left ear.
    """
    f = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
    inc, dist = ear_incidence(head_pos_m, yaw_deg, source_pos_m, ear_angles_deg)
    h = sphere_hrtf(f, inc, dist[..., None], radius_m, c)
    free = np.exp(-2j * np.pi * f * (dist[..., None] / c)) / dist[..., None]
    return h * free[..., None, :]
