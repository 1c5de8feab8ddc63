"""Free-field driver → ear transfer for many head positions at once, from cached tables.

`sim.freefield.ear_transfer_at` sums the Duda–Martens series for every position, which is
right for one head but far too slow for a 50 × 40 listening-zone grid while a listener is
dragged. Here the sphere's ear response is tabulated once per (frequencies, radius) over
incidence angle (1/6° steps) and inverse range a/r (linear in a/r from 0 to a/0.2 m, 65
nodes), and the axisymmetric driver patterns (omni, cardioid, piston) over their off-axis
angle; a position then costs a few bilinear look-ups. Same geometry and conventions as
`ear_transfer_at` (1/r spreading, phase e^{-j2πf r/c}, left ear first). SOFA heads or SOFA
driver patterns fall back to the exact engine.

Accuracy (error re the rms over drivers of each ear's exact response, heads ≥ 0.4 m from the
drivers): below −40 dB up to 16 kHz and below −50 dB up to 8 kHz, pinned by
`tests/test_design_maps.py` (measured on the design presets: about −47 dB at 16 kHz, −58 dB
at 8 kHz). The error is the linear interpolation, across a/r, where the near-field phase
k·a²/(2r) turns, and across angle in the shadow. That leaves room for single precision:
tables and results are complex64 (rounding ~1e-7), which halves the memory traffic.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse

from sim.freefield import driver_frames, ear_transfer_at
from sim.head import sphere_hrtf
from sim.scene import Directivity, Listener, Scene

N_ANGLE = 1081
MIN_RANGE_M = 0.2
N_RANGE = 65


@functools.lru_cache(maxsize=16)
def _sphere_table(freqs: tuple, radius_m: float, c: float) -> np.ndarray:
    """(N_ANGLE · N_RANGE, F) complex64 sphere response on a grid of incidence × a/r; row
    i · N_RANGE + j is incidence iπ/(N_ANGLE − 1) at a/r = j (a/MIN_RANGE_M)/(N_RANGE − 1)."""
    f = np.array(freqs)
    theta = np.linspace(0.0, np.pi, N_ANGLE)
    u = np.linspace(0.0, radius_m / MIN_RANGE_M, N_RANGE)
    out = np.empty((N_ANGLE, N_RANGE, f.size), dtype=np.complex64)
    out[:, 0] = sphere_hrtf(f, theta, None, radius_m, c)
    out[:, 1:] = sphere_hrtf(f, theta[:, None], radius_m / u[None, 1:], radius_m, c)
    out = out.reshape(-1, f.size)
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=64)
def _pattern_table(directivity: Directivity, freqs: tuple, c: float, fs: int) -> np.ndarray:
    """(N_ANGLE, F) float32 axisymmetric pattern over the off-axis angle 0..180° (the
    `Directivity.axisymmetric` patterns are real)."""
    theta = np.linspace(0.0, np.pi, N_ANGLE)
    dirs = np.stack([np.cos(theta), np.sin(theta), np.zeros_like(theta)], axis=-1)
    out = np.asarray(directivity.response(np.array(freqs), np.eye(3), dirs, c, fs),
                     dtype=np.float32)
    out.flags.writeable = False
    return out


def _angle_index(angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower table row (int32) and float32 weight of the next row for angles in rad."""
    x = np.clip(angle, 0.0, np.pi) * ((N_ANGLE - 1) / np.pi)
    i = np.minimum(x.astype(np.int32), N_ANGLE - 2)
    return i, (x - i).astype(np.float32)


def tabulated_ok(scene: Scene, listener: Listener) -> bool:
    """True when the tables apply (sphere head, axisymmetric driver patterns)."""
    return listener.hrtf.type == "sphere" and all(
        d.directivity.axisymmetric for d in scene.device.drivers)


def ear_transfer_grid(scene: Scene, freqs_hz: np.ndarray, heads_m: np.ndarray,
                      yaw_deg: np.ndarray, listener: Listener) -> np.ndarray:
    """H (F, D, L, 2) for L heads (L, 3) with yaws (L,), like `ear_transfer_at` (complex64
    from the tables, complex128 from the exact engine where they do not apply).

    Heads closer than 0.2 m to a driver are evaluated at 0.2 m of range in the sphere table
    (the caller masks positions that close anyway).
    """
    return np.transpose(grid_plant(scene, freqs_hz, heads_m, yaw_deg, listener),
                        (0, 3, 1, 2))


def grid_plant(scene: Scene, freqs_hz: np.ndarray, heads_m: np.ndarray, yaw_deg: np.ndarray,
               listener: Listener) -> np.ndarray:
    """`ear_transfer_grid` laid out (F, L, 2, D), C-contiguous: the layout in which the ear
    pressure of filters C (F, D, I) is one stack of (2L × D)·(D × I) products."""
    f = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
    heads = np.atleast_2d(np.asarray(heads_m, dtype=float))
    yaw = np.broadcast_to(np.asarray(yaw_deg, dtype=float), heads.shape[:1])
    if not tabulated_ok(scene, listener):
        h = ear_transfer_at(scene, f, heads, yaw, listener)
        return np.ascontiguousarray(np.transpose(h, (0, 2, 3, 1)))
    c, fs = scene.simulation.c_m_s, scene.simulation.fs_hz
    a = listener.head_radius_m
    key = tuple(f.tolist())
    drivers = scene.device.driver_positions()
    n_l, n_d = heads.shape[0], drivers.shape[0]
    rel = drivers[None, :, :] - heads[:, None, :]  # (L, D, 3) head → driver
    dist = np.linalg.norm(rel, axis=-1)
    unit = rel / np.maximum(dist, 1e-12)[..., None]

    # Driver patterns toward the head (angle between each driver axis and -unit), one
    # gather per distinct directivity (line arrays repeat one driver type).
    axes = driver_frames(scene.device)[:, :, 0]  # (D, 3)
    i, t = _angle_index(np.arccos(np.clip(-np.einsum("ldk,dk->ld", unit, axes), -1.0, 1.0)))
    gains = np.empty((n_l, n_d, f.size), dtype=np.float32)
    level = np.array([10.0 ** (d.gain_db / 20.0) for d in scene.device.drivers], np.float32)
    for directivity in {d.directivity for d in scene.device.drivers}:
        k = [n for n, d in enumerate(scene.device.drivers) if d.directivity == directivity]
        table = _pattern_table(directivity, key, c, fs)
        tk = t[:, k, None]
        gains[:, k] = table[i[:, k]] * (1 - tk) + table[i[:, k] + 1] * tk
    # Spreading e^{-j2πf r/c}/r: the phase is reduced to one turn in double precision, then
    # sin/cos run in single precision (vectorized, unlike the complex exponential).
    cycles = dist[..., None] * (f / c)
    turn = (2.0 * np.pi * (cycles - np.round(cycles))).astype(np.float32)
    scale = gains * (level[:, None] / dist[..., None]).astype(np.float32)  # (L, D, F)
    drive = np.empty((n_l, n_d, f.size), dtype=np.complex64)
    drive.real = np.cos(turn) * scale
    drive.imag = -np.sin(turn) * scale

    # Sphere: bilinear in incidence angle and a/r, as one sparse (rows × table) product
    # with rows ordered (head, ear, driver) and four weights per row.
    ear_az = np.deg2rad(yaw[:, None] + np.asarray(listener.ear_angles_deg, dtype=float))
    ears = np.stack([np.cos(ear_az), np.sin(ear_az), np.zeros_like(ear_az)], axis=-1)
    inc = np.arccos(np.clip(np.einsum("ldk,lek->led", unit, ears), -1.0, 1.0))  # (L, 2, D)
    ia, ta = _angle_index(inc)
    u = np.clip(a / np.maximum(dist, MIN_RANGE_M), 0.0, a / MIN_RANGE_M) * (
        (N_RANGE - 1) / (a / MIN_RANGE_M))
    j = np.minimum(u.astype(np.int32), N_RANGE - 2)[:, None, :]  # (L, 1, D)
    tr = (u[:, None, :] - j).astype(np.float32)
    row = (ia * N_RANGE + j).ravel()
    ta, tr = ta.ravel(), np.broadcast_to(tr, ia.shape).ravel()
    cols = np.stack([row, row + N_RANGE, row + 1, row + N_RANGE + 1], axis=-1).ravel()
    w = np.stack([(1 - ta) * (1 - tr), ta * (1 - tr), (1 - ta) * tr, ta * tr], axis=-1)
    sph = _sphere_table(key, a, c)
    interp = scipy.sparse.csr_matrix(
        (w.ravel().astype(np.complex64), cols, np.arange(0, cols.size + 1, 4, dtype=np.int32)),
        shape=(row.size, sph.shape[0]))
    head = (interp @ sph).reshape(n_l, 2, n_d, f.size)
    h = head * drive[:, None]  # (L, 2, D, F)
    return np.ascontiguousarray(np.transpose(h, (3, 0, 1, 2)))
