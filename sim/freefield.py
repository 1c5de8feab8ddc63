"""Free-field (anechoic, analytic) transfer: the fast engine behind design and plots.

Driver → ear: driver directivity toward the head centre × exp(-j2πf r/c)/r (r = driver to head
centre, 1/r law as in pyroomacoustics) × the head's ear transfer (rigid sphere, finite range, or
a SOFA HRTF by nearest direction). Everything is vectorized over frequencies, drivers and
listener positions: no loops over frequency or position.
"""

from __future__ import annotations

import functools

import numpy as np

from sim.constants import DEFAULT_HEAD_RADIUS_M, SPEED_OF_SOUND_M_S
from sim.geometry import yaw_matrix
from sim.head import sphere_hrtf
from sim.scene import Device, Directivity, Listener, Scene
from sim.task import TaskState, report
from sim.transfer_result import T0_SAMPLES, TransferResult


def driver_frames(device: Device) -> np.ndarray:
    """Room-frame rotation (n_drivers, 3, 3) of each driver: column 0 is its axis."""
    out = []
    for d in device.drivers:
        az, el = np.deg2rad(d.axis_deg)
        rz = yaw_matrix(np.rad2deg(az))
        ry = np.array([[np.cos(el), 0.0, -np.sin(el)], [0.0, 1.0, 0.0],
                       [np.sin(el), 0.0, np.cos(el)]])
        out.append(yaw_matrix(device.yaw_deg) @ rz @ ry)
    return np.array(out).reshape(-1, 3, 3)


def driver_gains(device: Device, freqs_hz: np.ndarray, directions: np.ndarray, c: float,
                 fs_hz: int) -> np.ndarray:
    """Gain of every driver toward per-driver room-frame unit directions (..., n_drivers, 3).

    Returns (..., n_drivers, F), including each driver's gain_db.
    """
    frames = driver_frames(device)
    out = np.empty((*directions.shape[:-1], np.size(freqs_hz)), dtype=complex)
    for k, d in enumerate(device.drivers):  # a handful of drivers, each vectorized
        out[..., k, :] = d.directivity.response(freqs_hz, frames[k], directions[..., k, :], c,
                                                fs_hz)
        out[..., k, :] *= 10.0 ** (d.gain_db / 20.0)
    return out


def _ear_vectors(yaw_deg: np.ndarray, ear_angles_deg) -> np.ndarray:
    """(L, 2, 3) room-frame unit vectors to the left/right ear of L heads."""
    az = np.deg2rad(np.asarray(yaw_deg, dtype=float)[:, None] + np.asarray(ear_angles_deg))
    return np.stack([np.cos(az), np.sin(az), np.zeros_like(az)], axis=-1)


@functools.lru_cache(maxsize=8)
def sofa_head_table(file: str, fs_hz: int, n_fft: int, radius_m: float = DEFAULT_HEAD_RADIUS_M,
                    c: float = SPEED_OF_SOUND_M_S):
    """Head-frame directions (D, 3) and spectra (D, 2, F) of a SOFA HRIR set on the rfft grid
    of n_fft, with the bulk delay removed and low-frequency gain normalized to 1, so it is
    relative to the free-field pressure at the head centre like the sphere model."""
    from sim.sofa import load_hrir

    hrir = load_hrir(file, fs_hz)
    ir = hrir.ir
    env = np.abs(ir)
    onset = np.argmax(env >= 0.2 * env.max(axis=-1, keepdims=True), axis=-1)  # (D, 2)
    # The earliest ipsilateral onset leads the head centre by about a/c.
    bulk = onset.min() / fs_hz - radius_m / c
    f = np.fft.rfftfreq(n_fft, 1.0 / fs_hz)
    spec = np.fft.rfft(ir, n_fft, axis=-1) * np.exp(2j * np.pi * f * bulk)
    low = (f >= 150.0) & (f <= 400.0)
    front = int(np.argmax(hrir.directions[:, 0]))
    spec /= np.mean(np.abs(spec[front][:, low]))
    return hrir.directions, spec, f


def ear_transfer_at(scene: Scene, freqs_hz: np.ndarray, head_pos_m: np.ndarray,
                    yaw_deg: np.ndarray | float, listener: Listener | None = None) -> np.ndarray:
    """Driver → ear transfer for heads at arbitrary positions (all sharing one head model).

    freqs_hz: (F,); head_pos_m: (L, 3) m; yaw_deg: scalar or (L,); listener: supplies head
    radius, ear angles and HRTF (default: the scene's first listener, else a default head).
    Returns H (F, n_drivers, L, 2) complex, left ear = index 0.
    """
    li = listener or (scene.listeners[0] if scene.listeners else Listener("probe", (0, 0, 0)))
    f = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
    c, fs = scene.simulation.c_m_s, scene.simulation.fs_hz
    heads = np.atleast_2d(np.asarray(head_pos_m, dtype=float))
    yaw = np.broadcast_to(np.asarray(yaw_deg, dtype=float), heads.shape[:1])
    drivers = scene.device.driver_positions()
    rel = drivers[None, :, :] - heads[:, None, :]  # (L, D, 3) head centre → driver
    dist = np.linalg.norm(rel, axis=-1)
    if np.any(dist <= li.head_radius_m):
        raise ValueError("a head position overlaps a driver (distance ≤ head radius)")
    unit = rel / dist[..., None]
    gains = driver_gains(scene.device, f, -unit, c, fs)  # radiated toward the head: (L, D, F)
    if li.hrtf.type == "sofa":
        head = _sofa_head(li, f, unit, yaw, fs)
    else:
        cos_inc = np.einsum("ldk,lek->lde", unit, _ear_vectors(yaw, li.ear_angles_deg))
        inc = np.arccos(np.clip(cos_inc, -1.0, 1.0))
        head = sphere_hrtf(f, inc, dist[..., None], li.head_radius_m, c)  # (L, D, 2, F)
    spread = np.exp(-2j * np.pi * f * (dist[..., None] / c)) / dist[..., None]  # (L, D, F)
    h = head * (gains * spread)[:, :, None, :]
    return np.transpose(h, (3, 1, 0, 2))


def _sofa_head(li: Listener, f: np.ndarray, unit: np.ndarray, yaw: np.ndarray,
               fs: int) -> np.ndarray:
    """SOFA ear spectra (L, D, 2, F) by nearest measured direction, interpolated onto f."""
    n_fft = 2048
    dirs, spec, grid = sofa_head_table(li.hrtf.file, fs, n_fft, li.head_radius_m)
    rot = np.array([yaw_matrix(y) for y in yaw])  # head → room, (L, 3, 3)
    local = np.einsum("lki,ldk->ldi", rot, unit)  # room → head frame
    idx = np.argmax(local @ dirs.T, axis=-1)  # (L, D)
    table = spec[idx]  # (L, D, 2, Fg)
    re = np.apply_along_axis(lambda v: np.interp(f, grid, v), -1, table.real)
    im = np.apply_along_axis(lambda v: np.interp(f, grid, v), -1, table.imag)
    return re + 1j * im


def ear_transfer(scene: Scene, freqs_hz: np.ndarray) -> np.ndarray:
    """H[f, driver, listener, ear] for every listener of the scene, complex
    (F, n_drivers, n_listeners, 2)."""
    f = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
    out = np.empty((f.size, len(scene.device.drivers), len(scene.listeners), 2), dtype=complex)
    for i, li in enumerate(scene.listeners):  # heads may differ in model, radius, ears
        out[:, :, i:i + 1, :] = ear_transfer_at(scene, f, np.array([li.position_m]),
                                                li.yaw_deg, li)
    return out


def farfield_circle(device: Device, freqs_hz: np.ndarray, azimuths_deg: np.ndarray,
                    elevation_deg: float = 0.0, c: float = 343.0,
                    fs_hz: int = 48000) -> np.ndarray:
    """Far-field radiation H[f, driver, azimuth] on a circle around the device.

    Azimuths are in the device frame (0° = device front, counter-clockwise). Phase is
    referenced to the device origin (plane-wave delay of each driver's offset); no 1/r.
    Returns complex (F, n_drivers, n_az), C-contiguous: each frequency's (D × A) block is
    what a beam or a map multiplies filters into.
    """
    f = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
    az = np.atleast_1d(np.asarray(azimuths_deg, dtype=float))
    el = np.deg2rad(elevation_deg)
    a = np.deg2rad(az + device.yaw_deg)
    u = np.stack([np.cos(el) * np.cos(a), np.cos(el) * np.sin(a),
                  np.full_like(a, np.sin(el))], axis=-1)  # (A, 3) room frame
    offsets = device.driver_positions() - np.asarray(device.position_m)  # (D, 3)
    frames = driver_frames(device)
    tau = (u @ offsets.T) / c  # (A, D) lead of each driver over the origin
    out = np.empty((f.size, len(device.drivers), az.size), dtype=complex)
    f_key, u_key = f.tobytes(), u.tobytes()
    for k, d in enumerate(device.drivers):
        pattern = _circle_pattern(d.directivity, tuple(np.round(frames[k], 12).ravel()), f_key,
                                  u_key, c, fs_hz)
        np.multiply(_phase_ramp(f, tau[:, k]), pattern, out=out[:, k, :])
        if d.gain_db:
            out[:, k, :] *= 10.0 ** (d.gain_db / 20.0)
    return out


@functools.lru_cache(maxsize=8)
def _circle_pattern(directivity: Directivity, frame: tuple, f_key: bytes, u_key: bytes, c: float,
                    fs_hz: int) -> np.ndarray:
    """Pattern (F, A) of one driver type and orientation toward directions u (A, 3), read-only.
    Line arrays repeat one driver type and axis, and a dragged driver keeps both: the pattern
    (Bessel functions on the whole grid) is computed once, only the phases move."""
    u = np.frombuffer(u_key).reshape(-1, 3)
    g = directivity.response(np.frombuffer(f_key), np.reshape(frame, (3, 3)), u, c, fs_hz)
    out = np.ascontiguousarray(np.broadcast_to(g, (u.shape[0], len(f_key) // 8)).T)
    out.flags.writeable = False
    return out


def _phase_ramp(f: np.ndarray, tau_s: np.ndarray) -> np.ndarray:
    """exp(+j2πf·tau) of shape (F,) + tau.shape.

    On a uniform grid from 0 Hz (every rfft grid) bin n = B·q + r factors the ramp into
    an outer product of two short ramps, so only 2·sqrt(F) complex exps per delay are needed.
    """
    n = f.size
    df = f[1] - f[0] if n > 1 else 0.0
    if n > 16 and f[0] == 0.0 and np.allclose(np.diff(f), df, rtol=0, atol=1e-9 * df):
        b = int(np.ceil(np.sqrt(n)))
        step = 2j * np.pi * df * tau_s
        lo = np.exp(np.multiply.outer(np.arange(b), step))  # (B, ...)
        hi = np.exp(np.multiply.outer(b * np.arange(-(-n // b)), step))  # (Q, ...)
        return (hi[:, None] * lo[None]).reshape((-1, *np.shape(tau_s)))[:n]
    return np.exp(2j * np.pi * np.multiply.outer(f, tau_s))


def point_transfer(freqs_hz: np.ndarray, src_pos_m: np.ndarray, rcv_pos_m: np.ndarray,
                   c: float) -> np.ndarray:
    """Omni point source → omni point receiver, exp(-j2πf r/c)/r, shape (S, R, F)."""
    f = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
    r = np.linalg.norm(np.asarray(src_pos_m)[:, None, :] - np.asarray(rcv_pos_m)[None], axis=-1)
    return np.exp(-2j * np.pi * f * (r[..., None] / c)) / r[..., None]


def _n_taps(scene: Scene, max_dist_m: float) -> int:
    s = scene.simulation
    if s.ir_length_s is not None:
        return max(round(s.ir_length_s * s.fs_hz), 2 * T0_SAMPLES)
    need = T0_SAMPLES + max_dist_m / s.c_m_s * s.fs_hz + 512  # head and directivity ringing
    return int(2 ** np.ceil(np.log2(need)))


def _to_ir(h: np.ndarray, f: np.ndarray, fs: int, n_fft: int, n_taps: int) -> np.ndarray:
    """IRs (..., n_taps) from spectra (..., F) on the rfft grid of n_fft, delayed by T0."""
    ir = np.fft.irfft(h * np.exp(-2j * np.pi * f * T0_SAMPLES / fs), n_fft, axis=-1)
    return ir[..., :n_taps]


def freefield_result(scene: Scene, talkers: bool = False,
                     state: TaskState | None = None) -> TransferResult:
    """Free-field IRs of the scene (layout of `sim.transfer.TransferResult`)."""
    import time

    s = scene.simulation
    t_start = time.perf_counter()
    drivers = scene.device.driver_positions()
    points = [li.position_m for li in scene.listeners]
    if talkers:
        points += [src.position_m for src in scene.sources]
    far = max((float(np.max(np.linalg.norm(drivers - np.asarray(p), axis=1))) for p in points),
              default=1.0)
    if talkers and scene.sources and len(scene.device.microphones):
        mics = scene.device.mic_positions()
        far = max(far, float(np.max(np.linalg.norm(
            np.array([x.position_m for x in scene.sources])[:, None] - mics[None], axis=-1))))
    n_taps = _n_taps(scene, far)
    # Twice the length keeps the wrapped-around sinc tails of fractional delays negligible.
    n_fft = 2 * n_taps
    f = np.fft.rfftfreq(n_fft, 1.0 / s.fs_hz)
    report(state, 0.1, "free-field transfer")
    h = ear_transfer(scene, f)  # (F, D, L, 2)
    ir = _to_ir(np.moveaxis(h, 0, -1), f, s.fs_hz, n_fft, n_taps)
    ir_mic = None
    if talkers:
        report(state, 0.6, "talker → microphone transfer")
        ir_mic = _to_ir(_mic_transfer(scene, f), f, s.fs_hz, n_fft, n_taps)
    report(state, 1.0, "done")
    meta = {"n_taps": n_taps, "fs": s.fs_hz, "c": s.c_m_s, "t0": T0_SAMPLES,
            "timing_ms": {"total": 1e3 * (time.perf_counter() - t_start)}}
    return TransferResult(ir=ir, fs_hz=s.fs_hz, t0_samples=T0_SAMPLES, engine="freefield",
                          meta=meta, ir_mic=ir_mic)


def _mic_transfer(scene: Scene, f: np.ndarray) -> np.ndarray:
    """Source (omni) → device microphone spectra (S, M, F) with the microphones' patterns."""
    dev = scene.device
    src = np.array([x.position_m for x in scene.sources]).reshape(-1, 3)
    mics = dev.mic_positions()
    h = point_transfer(f, src, mics, scene.simulation.c_m_s)
    if not len(mics) or not len(src):
        return h
    rel = src[:, None, :] - mics[None]  # mic → source
    unit = rel / np.linalg.norm(rel, axis=-1, keepdims=True)
    axes = dev.mic_axes()
    for m, mic in enumerate(dev.microphones):
        frame = np.eye(3)
        frame[:, 0] = axes[m]
        h[:, m] *= mic.directivity.response(f, frame, unit[:, m], scene.simulation.c_m_s,
                                            scene.simulation.fs_hz)
    return h
