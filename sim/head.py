"""Rigid-sphere head model (Duda & Martens, JASA 104(5), 1998).

All quantities are SI (Hz, m, s, rad unless a name says ``_deg``).  Transfer functions use
the numpy-FFT sign convention: a delay ``tau`` is ``exp(-1j * 2 * pi * f * tau)``.

Room frame: x and y horizontal, z up.  Yaw is the direction the nose points, counter-clockwise
from +x in degrees; ear angles are azimuths relative to the nose, positive to the left.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from sim.constants import DEFAULT_HEAD_RADIUS_M, SPEED_OF_SOUND_M_S

DEFAULT_EAR_ANGLES_DEG = (100.0, -100.0)

# Stacking the per-order coefficients lets one matmul do the Legendre sum; above this many
# complex elements the memory cost outweighs that and the sum is accumulated order by order.
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

    stack = (1 if far else rho.size) * n * f.size <= _MAX_STACKED
    legendre, coefs = [], []
    acc = None if stack else np.zeros(shape + f.shape, dtype=complex)
    static = np.zeros(shape)

    with np.errstate(all="ignore"):
        # Spherical Hankel functions (first kind) of mu by upward recursion; the Bessel part
        # lost at m >> mu is negligible next to the growing Neumann part.
        inv_mu = 1.0 / mu
        h_a = np.exp(1j * mu) / (1j * mu)
        h_b = h_a * (inv_mu - 1j)
        if not far:
            # g_m = exp(-i mu rho) h_m(mu rho): same recursion, but free of the fast phase.
            inv_z = inv_mu / rho[..., None]
            g_a = -1j * inv_z
            g_b = g_a * (inv_z - 1j)
        p_a, p_b = np.ones_like(x), x
        for m in range(n):
            dh = m * inv_mu * h_a - h_b
            if far:
                coef = ((2 * m + 1) * (-1j) ** (m - 1)) / (mu * mu * dh)
            else:
                coef = g_a * ((2 * m + 1) / dh)
                static = static + (2 * m + 1) / (m + 1) * p_a * rho**-m
            if stack:
                legendre.append(p_a)
                coefs.append(coef)
            else:
                acc += p_a[..., None] * _finite(coef)
            h_a, h_b = h_b, (2 * m + 3) * inv_mu * h_b - h_a
            if not far:
                g_a, g_b = g_b, (2 * m + 3) * inv_z * g_b - g_a
            p_a, p_b = p_b, ((2 * m + 3) * x * p_b - (m + 1) * p_a) / (m + 2)

        if stack:
            p = np.stack(legendre, axis=-1)
            cm = _finite(np.stack(coefs, axis=-2))
            acc = p @ cm if far else (p[..., None, :] @ cm)[..., 0, :]
    if not far:
        acc = acc * (-rho[..., None] / mu)
    h = np.broadcast_to(np.conj(acc), shape + f.shape).copy()
    h[..., dc] = 1.0 if far else static[..., None]
    return h


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
