"""Free-field driver → ear transfer for many head positions at once, from cached tables.

`sim.freefield.ear_transfer_at` sums the Duda–Martens series for every position, which is
right for one head but far too slow for a 50 × 40 listening-zone grid while a listener is
dragged. Here the sphere's ear response is tabulated once per (frequencies, radius) over
incidence angle (0.25° steps) and inverse range a/r (linear in a/r from 0 to a/0.2 m), and the
axisymmetric driver patterns (omni, cardioid, piston) over their off-axis angle; a position
then costs a few bilinear look-ups. Same geometry and conventions as `ear_transfer_at`
(1/r spreading, phase e^{-j2πf r/c}, left ear first). SOFA heads or SOFA driver patterns fall
back to the exact engine.
"""

from __future__ import annotations

import functools

import numpy as np

from sim.freefield import driver_frames, ear_transfer_at, transducer_gain
from sim.head import sphere_hrtf
from sim.scene import Directivity, Listener, Scene

N_ANGLE = 721
MIN_RANGE_M = 0.2
N_RANGE = 25


@functools.lru_cache(maxsize=16)
def _sphere_table(freqs: tuple, radius_m: float, c: float) -> np.ndarray:
    """(N_ANGLE, N_RANGE, F) complex sphere response on a grid of incidence × a/r."""
    f = np.array(freqs)
    theta = np.linspace(0.0, np.pi, N_ANGLE)
    u = np.linspace(0.0, radius_m / MIN_RANGE_M, N_RANGE)
    dist = np.where(u > 0, radius_m / np.maximum(u, 1e-12), np.inf)
    out = np.empty((N_ANGLE, N_RANGE, f.size), dtype=complex)
    out[:, 0] = sphere_hrtf(f, theta, None, radius_m, c)
    out[:, 1:] = sphere_hrtf(f, theta[:, None], dist[None, 1:], radius_m, c)
    return out


@functools.lru_cache(maxsize=64)
def _pattern_table(directivity: Directivity, freqs: tuple, c: float, fs: int) -> np.ndarray:
    """(N_ANGLE, F) axisymmetric pattern over the off-axis angle 0..180°."""
    theta = np.linspace(0.0, np.pi, N_ANGLE)
    dirs = np.stack([np.cos(theta), np.sin(theta), np.zeros_like(theta)], axis=-1)
    return np.asarray(transducer_gain(directivity, np.array(freqs), np.eye(3), dirs, c, fs),
                      dtype=complex)


def _lerp_angle(table: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Linear interpolation of table (N_ANGLE, ..., F) at angles (...) rad → (..., F)."""
    x = np.clip(angle, 0.0, np.pi) * ((N_ANGLE - 1) / np.pi)
    i = np.minimum(x.astype(int), N_ANGLE - 2)
    t = (x - i)[..., None]
    return table[i] * (1 - t) + table[i + 1] * t


def tabulated_ok(scene: Scene, listener: Listener) -> bool:
    """True when the tables apply (sphere head, axisymmetric driver patterns)."""
    return listener.hrtf.type == "sphere" and all(
        d.directivity.type in ("omni", "cardioid", "piston") for d in scene.device.drivers)


def ear_transfer_grid(scene: Scene, freqs_hz: np.ndarray, heads_m: np.ndarray,
                      yaw_deg: np.ndarray, listener: Listener) -> np.ndarray:
    """H (F, D, L, 2) for L heads (L, 3) with yaws (L,), like `ear_transfer_at`.

    Heads closer than 0.2 m to a driver are evaluated at 0.2 m of range in the sphere table
    (the caller masks positions that close anyway).
    """
    f = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
    heads = np.atleast_2d(np.asarray(heads_m, dtype=float))
    yaw = np.broadcast_to(np.asarray(yaw_deg, dtype=float), heads.shape[:1])
    if not tabulated_ok(scene, listener):
        return ear_transfer_at(scene, f, heads, yaw, listener)
    c, fs = scene.simulation.c_m_s, scene.simulation.fs_hz
    a = listener.head_radius_m
    key = tuple(f.tolist())
    sph = _sphere_table(key, a, c)
    drivers = scene.device.driver_positions()
    rel = drivers[None, :, :] - heads[:, None, :]  # (L, D, 3) head → driver
    dist = np.linalg.norm(rel, axis=-1)
    unit = rel / np.maximum(dist, 1e-12)[..., None]
    # Driver patterns toward the head: angle between each driver axis and -unit.
    axes = driver_frames(scene.device)[:, :, 0]  # (D, 3)
    off = np.arccos(np.clip(-np.einsum("ldk,dk->ld", unit, axes), -1.0, 1.0))
    gains = np.empty(dist.shape + f.shape, dtype=complex)
    for k, d in enumerate(scene.device.drivers):  # a handful of drivers
        g = _lerp_angle(_pattern_table(d.directivity, key, c, fs), off[:, k])
        gains[:, k] = g * 10.0 ** (d.gain_db / 20.0)
    # Sphere: bilinear in incidence angle and a/r.
    ear_az = np.deg2rad(yaw[:, None] + np.asarray(listener.ear_angles_deg, dtype=float))
    ears = np.stack([np.cos(ear_az), np.sin(ear_az), np.zeros_like(ear_az)], axis=-1)
    inc = np.arccos(np.clip(np.einsum("ldk,lek->lde", unit, ears), -1.0, 1.0))  # (L, D, 2)
    u = np.clip(a / np.maximum(dist, MIN_RANGE_M), 0.0, a / MIN_RANGE_M) * (
        (N_RANGE - 1) / (a / MIN_RANGE_M))
    j = np.minimum(u.astype(int), N_RANGE - 2)
    tu = (u - j)[..., None, None]  # (L, D, 1, 1)
    x = inc * ((N_ANGLE - 1) / np.pi)
    i = np.minimum(x.astype(int), N_ANGLE - 2)
    ti = (x - i)[..., None]
    jj = j[..., None]
    head = ((sph[i, jj] * (1 - ti) + sph[i + 1, jj] * ti) * (1 - tu)
            + (sph[i, jj + 1] * (1 - ti) + sph[i + 1, jj + 1] * ti) * tu)  # (L, D, 2, F)
    spread = np.exp(-2j * np.pi * f * (dist[..., None] / c)) / dist[..., None]
    h = head * (gains * spread)[:, :, None, :]
    return np.transpose(h, (3, 1, 0, 2))
