"""Room engine: driver → ear and talker → microphone impulse responses with pyroomacoustics.

How a scene becomes a pyroomacoustics (pra) simulation:

- Room: shoebox → ``pra.ShoeBox``; polygon floor → ``pra.Room.from_corners(...).extrude(h)``;
  anechoic → ``pra.AnechoicRoom`` (direct path only). Walls are always octave-band materials
  (a target RT60 becomes a flat octave-band ``Material`` from Sabine's formula, because measured
  directivities + ray tracing crash on single-band materials, research §F4.3).
- Heads: each ear is a microphone AT THE HEAD CENTRE whose ``MeasuredDirectivity`` holds the
  ear's impulse response for every direction of arrival, in the room frame (so no rotation):
  the far-field rigid sphere (`sim.head.sphere_hrtf`) on a Fibonacci grid of
  `EAR_GRID_POINTS` directions, plus the exact direction of every driver, whose IR uses the
  finite-range sphere at the true distance, so the direct sound equals the free-field engine's
  (pra looks responses up by nearest direction). A SOFA head uses its measured directions,
  turned by the listener's yaw, with the free-field engine's bulk-delay and level normalisation.
  Ear IRs are `EAR_TAPS` long at 48 kHz (SOFA heads: `SOFA_EAR_TAPS`) with a bulk delay of
  `EAR_TAPS` // 4 samples that is removed again from the simulated RIRs.
- Drivers are pra sources: omni → no directivity; cardioid → ``CardioidFamily`` along the
  room-frame axis; piston and SOFA → ``MeasuredDirectivity`` from the same gains as the
  free-field engine (`sim.freefield.transducer_gain`) on a grid plus the exact direction to the
  listener, `DRIVER_TAPS` long with a bulk delay of `DRIVER_TAPS` // 4 (SOFA: `EAR_TAPS`).
  ``gain_db`` scales the driver's IRs.
- Microphones (talker mode): omni or ``CardioidFamily``; talker/noise sources are omni.

Alignment: pra puts every arrival 40 samples late (its 81-tap fractional-delay filter), which
is `sim.transfer.T0_SAMPLES`; the directivity bulk delays are cut off the front of each RIR,
so the direct sound of a driver at distance d from the head centre lands at sample
40 + d / c · fs, exactly as in the free-field engine. Amplitudes follow pra's 1/r law. The ray
traced tail only sees the ear IR's delay (pra applies source directivities to rays as octave
band energies), so with a measured driver the tail sits DRIVER_TAPS // 4 samples (0.67 ms at
48 kHz) early relative to the image sources; irrelevant for a diffuse tail.

Engine modes (see `room_result`): full = hybrid ISM (order `Simulation.ism_order` or 3) + ray
tracing, or, without ray tracing, pure ISM at the Sabine order capped at `MAX_ISM_ORDER` (an
explicit `Simulation.ism_order` is honoured as given); early only = ISM order ≤ 3, no ray
tracing, IRs cut to t0 + early_ms with a 1 ms fade. Rays are traced for 1.5 × the longest
Sabine RT60 + 0.1 s (`rt_time_limit_s`) instead of pra's 10 s, which sizes pra's per-direction
receiver histograms and makes the hybrid 2–3× faster with directive ears.

pra's 10 Hz RIR high-pass (on by default since 0.9, applied with ``sosfiltfilt``) is switched
OFF for our runs: it is zero phase, so it leaks energy before the onset, and it makes the
room engine differ from the free-field engine below 20 Hz; DC and subsonic handling belongs
to the filter design (``dsp``), not to the acoustic transfer. The pra constants we touch (c,
the high-pass switch) are set under a module lock and restored afterwards; the ray tracer's
random generator is seeded from the result's cache key, so a recomputation is identical.

Caching: one entry per listener, keyed by `content_hash` of the room, the device's drivers and
pose, the listener, the simulation settings, the mode and `ENGINE_VERSION`; one entry for all
talker → microphone RIRs. Each listener is its own pra run (2 ear mics, all drivers as
sources), so moving one listener recomputes only that listener. New entries are committed
only when the whole job has finished, so a cancelled job leaves nothing in the cache.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyroomacoustics as pra

from sim.freefield import driver_frames, sofa_head_table, transducer_gain
from sim.geometry import polygon_area, yaw_matrix
from sim.head import ear_directions, sphere_hrtf
from sim.scene import SHOEBOX_SURFACES, Device, Listener, Room, Scene, content_hash
from sim.scene_io import atomic_write_bytes
from sim.task import TaskState, report
from sim.transfer import T0_SAMPLES, TransferResult

ENGINE_VERSION = "room-1"
"""Bumped whenever the engine's output for the same inputs changes (invalidates caches)."""

EAR_GRID_POINTS = 1500
"""Fibonacci directions of an analytic ear directivity (mean spacing ≈ 5°)."""
DRIVER_GRID_POINTS = 600
"""Fibonacci directions of a piston / SOFA driver directivity (mean spacing ≈ 8°)."""
EAR_TAPS = 256
"""Ear (and SOFA driver) directivity IR length at 48 kHz; scaled up with the sample rate.
The bulk delay of ear IRs is EAR_TAPS // 4 (64 samples: room for the 12-sample lead of the
ipsilateral ear and the pre-ringing of its fractional delay)."""
SOFA_EAR_TAPS = 512
"""Ear IR length of a SOFA head at 48 kHz (measured HRIRs ring longer than the sphere's: the
MIT KEMAR set holds 99.9 % of its energy within ~350 samples of the onset)."""
DRIVER_TAPS = 128
"""Piston driver directivity IR length at 48 kHz (pra needs ≥ 128, research §F4.5)."""
MAX_ISM_ORDER = 12
"""Cap of the Sabine image-source order when ray tracing is off (measured directivities make
every image source cost an FFT convolution: order 12 ≈ 2 600 images per source)."""
EARLY_MAX_ORDER = 3
"""Image-source order of the early-only mode."""
MAX_RAYS = 50_000
"""Cap of pra's default ray count (20 hits per histogram bin, Vorländer)."""
RECEIVER_RADIUS_M = 0.5
"""Ray-tracing receiver radius (pra default)."""
EARLY_FADE_S = 1e-3
"""Half-cosine fade at the end of early-only IRs, s."""
OCTAVE_CENTERS_HZ = (125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)

_PRA_LOCK = threading.RLock()


# ---------------------------------------------------------------------------------------------
# Cache.


class RirCache:
    """Computed RIRs by content hash: an in-memory LRU, optionally backed by a folder of .npz.

    folder: where entries are also written as ``<key>.npz`` (created if missing) and looked up
    on a memory miss; None keeps everything in memory. max_bytes: memory budget of the LRU.
    An entry is a dict of arrays plus ``"meta"`` (a JSON-ready dict); arrays come back
    read-only.
    """

    def __init__(self, folder: str | os.PathLike | None = None, max_bytes: int = 512 << 20):
        self.folder = None if folder is None else Path(folder)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = int(max_bytes)
        self._mem: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _nbytes(entry: dict) -> int:
        return sum(v.nbytes for v in entry.values() if isinstance(v, np.ndarray))

    def __len__(self) -> int:
        return len(self._mem)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            if key in self._mem:
                return True
        return self.folder is not None and (self.folder / f"{key}.npz").is_file()

    def keys(self) -> list[str]:
        """Keys held in memory (oldest first)."""
        with self._lock:
            return list(self._mem)

    def clear(self, disk: bool = False) -> None:
        """Forget everything in memory (and the .npz files too with `disk`)."""
        with self._lock:
            self._mem.clear()
        if disk and self.folder is not None:
            for p in self.folder.glob("*.npz"):
                p.unlink(missing_ok=True)

    def get(self, key: str) -> dict | None:
        with self._lock:
            entry = self._mem.get(key)
            if entry is not None:
                self._mem.move_to_end(key)
                return entry
        if self.folder is None:
            return None
        path = self.folder / f"{key}.npz"
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                entry = {k: z[k] for k in z.files if k != "meta"}
                entry["meta"] = json.loads(str(z["meta"])) if "meta" in z.files else {}
        except (OSError, ValueError, KeyError):
            return None  # unreadable or half-written by another process: recompute
        self._remember(key, entry)
        return entry

    def put(self, key: str, entry: dict) -> None:
        entry = {k: (_readonly(v) if isinstance(v, np.ndarray) else v) for k, v in entry.items()}
        entry.setdefault("meta", {})
        self._remember(key, entry)
        if self.folder is not None:


            buf = io.BytesIO()
            arrays = {k: v for k, v in entry.items() if isinstance(v, np.ndarray)}
            np.savez(buf, meta=np.array(json.dumps(entry["meta"])), **arrays)
            atomic_write_bytes(self.folder / f"{key}.npz", buf.getvalue())

    def _remember(self, key: str, entry: dict) -> None:
        for v in entry.values():
            if isinstance(v, np.ndarray):
                v.setflags(write=False)
        with self._lock:
            self._mem[key] = entry
            self._mem.move_to_end(key)
            total = sum(self._nbytes(e) for e in self._mem.values())
            while total > self.max_bytes and len(self._mem) > 1:
                _, old = self._mem.popitem(last=False)
                total -= self._nbytes(old)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


DEFAULT_CACHE = RirCache()
"""Used by `room_result` when no cache is given."""


# ---------------------------------------------------------------------------------------------
# Directivities.


def _scaled_taps(base: int, fs_hz: int) -> int:
    """`base` taps at 48 kHz, doubled per octave of sample rate above that (never below)."""
    return base * 2 ** max(0, math.ceil(math.log2(fs_hz / 48000.0)))


def fibonacci_directions(n: int) -> np.ndarray:
    """Quasi-uniform unit vectors (n, 3) on the sphere."""
    from pyroomacoustics.doa import fibonacci_spherical_sampling

    return np.ascontiguousarray(fibonacci_spherical_sampling(n).T)


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _grid_with_exact(n_grid: int, exact: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A Fibonacci grid with the `exact` unit directions (K, 3) appended.

    Grid points within 0.2° of an exact direction are dropped (nearly coincident points upset
    the spherical Voronoi areas pra computes). Returns (directions (G, 3), index (K,) of each
    exact direction in it; duplicates among the exact ones share one index).
    """
    grid = fibonacci_directions(n_grid)
    exact = _unit(np.atleast_2d(exact))
    uniq: list[np.ndarray] = []
    index = np.empty(len(exact), dtype=int)
    for k, e in enumerate(exact):
        for j, u in enumerate(uniq):
            if float(u @ e) > math.cos(math.radians(0.2)):
                index[k] = j
                break
        else:
            index[k] = len(uniq)
            uniq.append(e)
    extra = np.array(uniq).reshape(-1, 3)
    if len(extra):
        keep = np.max(grid @ extra.T, axis=1) < math.cos(math.radians(0.2))
        grid = grid[keep]
    return np.vstack([grid, extra]), index + len(grid)


def _measured_directivity(directions: np.ndarray, irs: np.ndarray, fs_hz: int):
    """A pra ``MeasuredDirectivity`` (identity orientation) from room-frame unit directions
    (G, 3) and IRs (G, N), with the per-direction octave-band energies computed in one
    vectorized pass (pra computes them direction by direction: ~0.3 ms each)."""
    from pyroomacoustics.acoustics import AntoniOctaveFilterBank
    from pyroomacoustics.directivities import MeasuredDirectivity, Rotation3D
    from pyroomacoustics.directivities.integration import robust_spherical_voronoi_areas
    from pyroomacoustics.doa import GridSphere
    from pyroomacoustics.parameters import constants

    class _FastMeasuredDirectivity(MeasuredDirectivity):
        def _compute_band_energies(self):
            bank = AntoniOctaveFilterBank(base_frequency=constants.get("octave_bands_base_freq"),
                                          fs=self.fs, n_fft=constants.get("octave_bands_n_fft"))
            self.areas = robust_spherical_voronoi_areas(self._original_grid.cartesian.T)
            norm = bank.get_bw() / np.sum(bank.get_bw())
            coeffs, _ = bank.wavelet_analysis(np.asarray(self._irs, dtype=float))
            band_energy = 2.0 * np.stack([np.sum(np.abs(w) ** 2, axis=-1) for w in coeffs], -1)
            self.energies = band_energy / norm
            self.energy_per_direction = self.energies.sum(axis=-1)
            self.total_energy = np.sum(self.energies * self.areas[:, None])
            self.energies_coeff_deterministic = self.energies
            scale = (self.energy_per_direction / self.total_energy)[:, None]
            self.energies_coeff_random = self.energies / scale

    grid = GridSphere(cartesian_points=np.ascontiguousarray(_unit(directions).T))
    irs = np.ascontiguousarray(irs, dtype=float)
    return _FastMeasuredDirectivity(Rotation3D([0.0, 0.0], "yz", degrees=True), grid, irs,
                                    int(fs_hz))


def _spectra_to_irs(h: np.ndarray, f: np.ndarray, fs_hz: int, n_taps: int,
                    delay: int) -> np.ndarray:
    """Causal IRs (..., n_taps) from transfer functions (..., F) on the rfft grid of 2·n_taps,
    delayed by `delay` samples, with a short fade-in (pre-ringing of fractional delays) and a
    half-Hann fade over the last quarter."""
    n_fft = 2 * (len(f) - 1)
    ir = np.fft.irfft(h * np.exp(-2j * np.pi * f * delay / fs_hz), n_fft, axis=-1)[..., :n_taps]
    win = np.ones(n_taps)
    rise = max(delay // 2, 1)
    win[:rise] = 0.5 - 0.5 * np.cos(np.pi * np.arange(rise) / rise)
    fall = n_taps // 4
    win[n_taps - fall:] = 0.5 + 0.5 * np.cos(np.pi * (np.arange(fall) + 1) / fall)
    return ir * win


_DIRECTIVITY_CACHE: OrderedDict[str, object] = OrderedDict()
_DIRECTIVITY_CACHE_SIZE = 64
_DIRECTIVITY_LOCK = threading.Lock()


def _cached_directivity(key: str, build):
    """Directivity objects by content hash (building one costs ~20–100 ms; pra's own
    constructor ~0.3 s per 500 directions)."""
    with _DIRECTIVITY_LOCK:
        obj = _DIRECTIVITY_CACHE.get(key)
        if obj is not None:
            _DIRECTIVITY_CACHE.move_to_end(key)
            return obj
    obj = build()  # outside the lock: two threads may build the same object, harmlessly
    with _DIRECTIVITY_LOCK:
        _DIRECTIVITY_CACHE[key] = obj
        while len(_DIRECTIVITY_CACHE) > _DIRECTIVITY_CACHE_SIZE:
            _DIRECTIVITY_CACHE.popitem(last=False)
    return obj


def _file_stamp(path: str | None) -> tuple | None:
    """(path, size, mtime) of a referenced file, so an edited file invalidates caches."""
    if not path:
        return None
    try:
        st = os.stat(path)
        return (str(path), st.st_size, st.st_mtime_ns)
    except OSError:
        return (str(path), None, None)


def ear_directivities(listener: Listener, sources_m: np.ndarray, fs_hz: int, c: float):
    """The two ear directivities of a listener, for pra microphones at the head centre.

    sources_m: (K, 3) room-frame positions of the drivers whose direct sound should be exact
    (their directions are added to the grid with finite-range responses).
    Returns (left, right, bulk_delay_samples).
    """
    n_taps = _scaled_taps(EAR_TAPS, fs_hz)
    delay = n_taps // 4
    head = np.asarray(listener.position_m, dtype=float)
    rel = np.asarray(sources_m, dtype=float).reshape(-1, 3) - head
    if listener.hrtf.type == "sofa":
        n_taps = _scaled_taps(SOFA_EAR_TAPS, fs_hz)
        key = content_hash("ear-sofa", ENGINE_VERSION, _file_stamp(listener.hrtf.file),
                           listener.yaw_deg, fs_hz, n_taps)
        pair = _cached_directivity(key, lambda: _sofa_ears(listener, fs_hz, n_taps, delay))
        return (*pair, delay)
    dist = np.linalg.norm(rel, axis=-1)
    key = content_hash("ear-sphere", ENGINE_VERSION, listener.head_radius_m,
                       list(listener.ear_angles_deg), listener.yaw_deg, np.round(rel, 9).tolist(),
                       fs_hz, c, n_taps, EAR_GRID_POINTS)

    def build():

        if np.any(dist <= listener.head_radius_m):
            raise ValueError(f"listener {listener.name!r}: a driver is inside the head")
        dirs, idx = _grid_with_exact(EAR_GRID_POINTS, rel / dist[:, None])
        f = np.fft.rfftfreq(2 * n_taps, 1.0 / fs_hz)
        ears = ear_directions(listener.yaw_deg, listener.ear_angles_deg)  # (2, 3)
        out = []
        for e in range(2):
            inc = np.arccos(np.clip(dirs @ ears[e], -1.0, 1.0))
            h = sphere_hrtf(f, inc, None, listener.head_radius_m, c)
            if len(dist):
                # Direct paths: finite-range sphere at the true distance (as the free field).
                h[idx] = sphere_hrtf(f, inc[idx], dist, listener.head_radius_m, c)
            out.append(_measured_directivity(dirs, _spectra_to_irs(h, f, fs_hz, n_taps, delay),
                                             fs_hz))
        return tuple(out)

    return (*_cached_directivity(key, build), delay)


def _sofa_ears(listener: Listener, fs_hz: int, n_taps: int, delay: int):
    """Ear directivities from a SOFA HRIR set: the free-field engine's table (bulk delay
    removed, low-frequency level normalised) turned into the room frame by the yaw."""

    dirs_head, spec, f = sofa_head_table(listener.hrtf.file, fs_hz, 2 * n_taps,
                                         listener.head_radius_m)
    dirs = _unit(dirs_head) @ yaw_matrix(listener.yaw_deg).T
    # Drop duplicate directions (the spherical Voronoi of pra cannot take them).
    _, first = np.unique(np.round(dirs, 6), axis=0, return_index=True)
    first = np.sort(first)
    irs = _spectra_to_irs(spec[first], f, fs_hz, n_taps, delay)  # (D, 2, n_taps)
    return tuple(_measured_directivity(dirs[first], irs[:, e], fs_hz) for e in range(2))


def driver_directivity(device: Device, k: int, frame: np.ndarray, toward_m: np.ndarray,
                       fs_hz: int, c: float):
    """pra directivity of driver k and its bulk delay in samples.

    frame: (3, 3) room-frame rotation whose column 0 is the driver axis; toward_m: (K, 3)
    room-frame points whose direction from the driver is added exactly to a measured grid.
    Returns (None | CardioidFamily | MeasuredDirectivity, delay_samples).
    """
    drv = device.drivers[k]
    d = drv.directivity
    if d.type == "omni":
        return None, 0
    if d.type == "cardioid":
        from pyroomacoustics.directivities import CardioidFamily

        return CardioidFamily(orientation=np.asarray(frame[:, 0], dtype=float), p=float(d.p)), 0
    if d.type not in ("piston", "sofa"):
        raise ValueError(f"driver {drv.name!r}: unknown directivity type {d.type!r}")
    n_taps = _scaled_taps(DRIVER_TAPS if d.type == "piston" else EAR_TAPS, fs_hz)
    delay = n_taps // 4
    pos = device.driver_positions()[k]
    rel = np.asarray(toward_m, dtype=float).reshape(-1, 3) - pos
    key = content_hash("driver", ENGINE_VERSION, d, _file_stamp(d.file),
                       np.round(frame, 12).tolist(), np.round(rel, 9).tolist(), fs_hz, c, n_taps,
                       DRIVER_GRID_POINTS)

    def build():

        dirs, _ = _grid_with_exact(DRIVER_GRID_POINTS, rel)
        f = np.fft.rfftfreq(2 * n_taps, 1.0 / fs_hz)
        g = transducer_gain(d, f, frame, dirs, c, fs_hz)  # (G, F)
        return _measured_directivity(dirs, _spectra_to_irs(g, f, fs_hz, n_taps, delay), fs_hz)

    return _cached_directivity(key, build), delay


# ---------------------------------------------------------------------------------------------
# Rooms and materials.


def _flat_material(alpha: float, scattering: float):

    bands = list(OCTAVE_CENTERS_HZ)
    return pra.Material({"coeffs": [float(alpha)] * len(bands), "center_freqs": bands},
                        {"coeffs": [float(scattering)] * len(bands), "center_freqs": bands})


def _named_material(name: str, scattering: float):

    m = pra.Material(name)
    absorption = dict(m.energy_absorption)
    if len(absorption["coeffs"]) == 1:  # a flat database entry: make it octave-band
        return _flat_material(float(absorption["coeffs"][0]), scattering)
    if scattering:
        sc = {"coeffs": [float(scattering)] * len(absorption["coeffs"]),
              "center_freqs": list(absorption["center_freqs"])}
        return pra.Material(absorption, sc)
    return m


def _surface_areas(room: Room) -> tuple[list[str], np.ndarray]:
    """Surface names (pra order for our own bookkeeping) and their areas in m²."""
    poly = room.floor_polygon()
    h = room.height
    if room.kind == "shoebox":
        lx, ly, lz = room.dimensions_m
        return list(SHOEBOX_SURFACES), np.array([ly * lz, ly * lz, lx * lz, lx * lz,
                                                 lx * ly, lx * ly])
    edges = np.linalg.norm(np.roll(poly, -1, axis=0) - poly, axis=1)

    floor = abs(polygon_area(poly))
    names = [f"wall{i}" for i in range(len(poly))] + ["floor", "ceiling"]
    return names, np.concatenate([edges * h, [floor, floor]])


def surface_materials(room: Room, c: float) -> dict[str, object]:
    """pra octave-band Material per surface name (see `_surface_areas`)."""

    w = room.walls
    names, areas = _surface_areas(room)
    if w.rt60_s is not None:
        # Sabine, exactly as pra.inverse_sabine (which only knows shoeboxes).
        alpha = 24.0 * math.log(10.0) * room.volume_m3() / (c * float(np.sum(areas)) * w.rt60_s)
        if alpha > 1.0:
            raise ValueError(f"RT60 {w.rt60_s} s is too short for this room (Sabine α > 1)")
        return {n: _flat_material(alpha, w.scattering) for n in names}
    if w.material is not None:
        return {n: _named_material(w.material, w.scattering) for n in names}
    if w.materials is not None:
        given = dict(w.materials)
        return {n: _named_material(given[n], w.scattering) for n in names}
    coeffs = [float(a) for a in w.absorption]
    if len(coeffs) == 1:
        return {n: _flat_material(coeffs[0], w.scattering) for n in names}
    freqs = [float(x) for x in w.center_freqs_hz]
    sc = {"coeffs": [float(w.scattering)] * len(coeffs), "center_freqs": freqs}
    return {n: pra.Material({"coeffs": coeffs, "center_freqs": freqs}, dict(sc)) for n in names}


def sabine_rt60_s(room: Room, c: float, longest: bool = False) -> float | None:
    """Sabine estimate of the room's RT60 in s: from the mean absorption over the octave
    bands, or with `longest` the longest of the per-band estimates (None in free field)."""
    if room.is_anechoic:
        return None
    if room.walls.rt60_s is not None:
        return room.walls.rt60_s
    names, areas = _surface_areas(room)
    mats = surface_materials(room, c)
    n_bands = max(len(mats[n].energy_absorption["coeffs"]) for n in names)
    alpha = np.array([np.resize(np.asarray(mats[n].energy_absorption["coeffs"], float), n_bands)
                      for n in names])  # (surfaces, bands)
    alpha = np.clip(alpha, 1e-3, 1.0)
    absorption = areas @ (alpha if longest else alpha.mean(axis=1, keepdims=True))
    return float(24.0 * math.log(10.0) * room.volume_m3() / (c * np.min(absorption)))


def sabine_ism_order(room: Room, c: float) -> int:
    """Image-source order that reaches c·RT60 (pra.inverse_sabine's rule on the bounding box)."""

    rt60 = sabine_rt60_s(room, c)
    if rt60 is None:
        return 0
    poly = room.floor_polygon()
    dims = [*(poly.max(axis=0) - poly.min(axis=0)), room.height]
    radius = min(a * b / math.hypot(a, b) for a, b in itertools.combinations(dims, 2))
    return max(math.ceil(c * rt60 / radius - 1), 1)


def _make_pra_room(room: Room, fs_hz: int, c: float, order: int, ray_tracing: bool):
    """An empty pra room (no sources/mics); ray tracing is switched on later (§F4.4)."""

    if room.is_anechoic:
        r = pra.AnechoicRoom(fs=fs_hz, air_absorption=bool(room.air_absorption))
    else:
        mats = surface_materials(room, c)
        if room.kind == "shoebox":
            r = pra.ShoeBox(list(room.dimensions_m), fs=fs_hz, materials=mats, max_order=order,
                            air_absorption=bool(room.air_absorption))
        else:
            poly = np.asarray(room.floor_m, dtype=float)
            n = len(poly)
            walls = [mats[f"wall{i}"] for i in range(n)]

            if polygon_area(poly) < 0:
                # pra wants counter-clockwise corners; reversed, pra edge j runs along our
                # edge n-2-j, so the wall materials follow.
                poly = poly[::-1]
                walls = [walls[(n - 2 - j) % n] for j in range(n)]
            r = pra.Room.from_corners(poly.T, fs=fs_hz, max_order=order, materials=walls,
                                      air_absorption=bool(room.air_absorption))
            r.extrude(room.height_m, materials={"floor": mats["floor"],
                                                "ceiling": mats["ceiling"]})
    r.set_sound_speed(float(c))
    return r


def rt_time_limit_s(scene: Scene) -> float:
    """How long rays are traced, s: 1.5 × the longest per-band Sabine RT60 + 0.1 s (past the
    -70 dB energy threshold), at least ir_length_s, at most pra's 10 s. pra allocates its
    receiver histograms for this whole span, per receiver direction, so its 10 s default
    makes directive receivers (1 500 directions) ~20 times slower than needed."""
    rt60 = sabine_rt60_s(scene.room, scene.simulation.c_m_s, longest=True) or 0.0
    limit = max(1.5 * rt60 + 0.1, scene.simulation.ir_length_s or 0.0)
    return float(min(limit, 10.0))


def _enable_ray_tracing(pra_room, scene: Scene, c: float, before_mics: bool = False) -> int:
    """Switch on pra's ray tracer; returns the ray count: pra's default (Vorländer, 20 hits
    per 4 ms histogram bin for a 0.5 m receiver), between 1 000 and MAX_RAYS.

    before_mics: only store the settings (the tracer is switched off again), so that the
    microphones added next get histograms sized by our time limit: pra sizes them when a mic
    is added, and directive mics cannot be added while ray tracing is on (§F4.4)."""
    k1 = pra_room.get_volume() / (math.pi * RECEIVER_RADIUS_M ** 2 * c * 0.004)
    n_rays = int(min(max(20 * k1, 1000), MAX_RAYS))
    pra_room.set_ray_tracing(n_rays=n_rays, receiver_radius=RECEIVER_RADIUS_M,
                             time_thres=rt_time_limit_s(scene))
    if before_mics:
        pra_room.unset_ray_tracing()
    return n_rays


class _PraSettings:
    """Context: pra constants for one of our runs (c, no RIR high-pass), restored afterwards,
    and a seeded random generator; holds the module lock (pra constants are global)."""

    def __init__(self, c: float, seed: int):
        self.c, self.seed = c, seed

    def __enter__(self):

        _PRA_LOCK.acquire()
        self._old = {k: pra.constants.get(k) for k in ("c", "rir_hpf_enable")}
        pra.constants.set("c", float(self.c))
        pra.constants.set("rir_hpf_enable", False)
        pra.random.seed(numpy=self.seed, libroom=self.seed)
        return self

    def __exit__(self, *exc):

        try:
            for k, v in self._old.items():
                pra.constants.set(k, v)
        finally:
            _PRA_LOCK.release()
        return False


# ---------------------------------------------------------------------------------------------
# Runs.


@dataclass(frozen=True)
class _Mode:
    early_only: bool
    order: int
    ray_tracing: bool
    n_taps: int | None  # forced common length (early_ms or ir_length_s), None: what pra gives


def _mode(scene: Scene, early_only: bool) -> _Mode:
    s, room = scene.simulation, scene.room
    if room.is_anechoic:
        order, rt = 0, False
    elif early_only:
        order, rt = min(EARLY_MAX_ORDER, 3 if s.ism_order is None else s.ism_order), False
    elif s.ray_tracing:
        order, rt = (3 if s.ism_order is None else s.ism_order), True
    else:
        order = s.ism_order if s.ism_order is not None else min(
            sabine_ism_order(room, s.c_m_s), MAX_ISM_ORDER)
        rt = False
    if early_only:
        n_taps = T0_SAMPLES + round(s.early_ms * 1e-3 * s.fs_hz)
    elif s.ir_length_s is not None:
        n_taps = round(s.ir_length_s * s.fs_hz)
    else:
        n_taps = None
    return _Mode(early_only, order, rt, n_taps)


def _seed(key: str) -> int:
    return int(key[:15], 16)


def _simulate(pra_room, mode: _Mode, c: float, state: TaskState | None,
              timing: dict) -> list[list[np.ndarray]]:
    """Run ISM, ray tracing and RIR assembly with progress between the stages."""
    report(state, 0.3, "image sources")
    t = time.perf_counter()
    pra_room.image_source_model()
    timing["ism"] = time.perf_counter() - t
    if mode.ray_tracing:
        report(state, 0.45, "ray tracing")
        t = time.perf_counter()
        pra_room.ray_tracing()
        timing["ray_tracing"] = time.perf_counter() - t
    report(state, 0.6, "RIR assembly")
    t = time.perf_counter()
    pra_room.compute_rir()
    timing["rir"] = time.perf_counter() - t
    return pra_room.rir


def _fit(ir: np.ndarray, n: int) -> np.ndarray:
    """Crop or zero-pad the last axis to n samples."""
    if ir.shape[-1] >= n:
        return ir[..., :n]
    pad = [(0, 0)] * (ir.ndim - 1) + [(0, n - ir.shape[-1])]
    return np.pad(ir, pad)


def _finish(irs: list[np.ndarray], mode: _Mode, fs_hz: int) -> np.ndarray:
    """Stack IRs (padding to the longest), cut to the mode's length, fade early-only ends."""
    n = mode.n_taps or max((len(h) for h in irs), default=2 * T0_SAMPLES)
    out = np.stack([_fit(np.asarray(h, dtype=float), n) for h in irs]) if irs else \
        np.zeros((0, n))
    if mode.early_only:
        fade = min(round(EARLY_FADE_S * fs_hz), n)
        out[:, n - fade:] *= 0.5 + 0.5 * np.cos(np.pi * (np.arange(fade) + 1) / fade)
    return out


def _listener_run(scene: Scene, li: Listener, mode: _Mode, key: str,
                  state: TaskState | None) -> dict:
    """Driver → ear RIRs of one listener: one pra run with 2 ear mics at the head centre."""

    s, dev = scene.simulation, scene.device
    fs, c = s.fs_hz, s.c_m_s
    timing: dict[str, float] = {}
    report(state, 0.0, f"{li.name}: directivities")
    t = time.perf_counter()
    head = np.asarray(li.position_m, dtype=float)
    positions = dev.driver_positions()
    left, right, ear_delay = ear_directivities(li, positions, fs, c)
    frames = driver_frames(dev)
    src_dirs = []
    for k in range(len(dev.drivers)):
        if state is not None:
            state.check()
        src_dirs.append(driver_directivity(dev, k, frames[k], head[None], fs, c))
    timing["directivities"] = time.perf_counter() - t
    report(state, 0.25, f"{li.name}: room")
    with _PraSettings(c, _seed(key)):
        r = _make_pra_room(scene.room, fs, c, mode.order, mode.ray_tracing)
        for k, (obj, _) in enumerate(src_dirs):
            # add_source drops directivities it does not know (§F4.1): add SoundSource objects.
            r.add_soundsource(pra.SoundSource(positions[k], directivity=obj))
        if mode.ray_tracing:
            _enable_ray_tracing(r, scene, c, before_mics=True)
        r.add_microphone_array(np.column_stack([head, head]), directivity=[left, right])
        n_rays = None
        if mode.ray_tracing:  # after the directive mics (§F4.4)
            n_rays = _enable_ray_tracing(r, scene, c)
        rir = _simulate(r, mode, c, state, timing)
    report(state, 0.9, f"{li.name}: alignment")
    t = time.perf_counter()
    irs = []
    for k, drv in enumerate(dev.drivers):
        g = 10.0 ** (drv.gain_db / 20.0)
        shift = ear_delay + src_dirs[k][1]
        for e in range(2):
            irs.append(g * np.asarray(rir[e][k], dtype=float)[shift:])
    ir = _finish(irs, mode, fs)
    ir = ir.reshape(len(dev.drivers), 2, ir.shape[-1])
    timing["assembly"] = time.perf_counter() - t
    meta = {"ism_order": mode.order, "ray_tracing": mode.ray_tracing, "n_rays": n_rays,
            "ear_bulk_delay": ear_delay, "timing_s": timing}
    return {"ir": ir, "meta": meta}


def _talker_run(scene: Scene, mode: _Mode, key: str, state: TaskState | None) -> dict:
    """Talker/noise source (omni) → device microphone RIRs: one pra run."""
    from pyroomacoustics.directivities import CardioidFamily

    s, dev = scene.simulation, scene.device
    fs, c = s.fs_hz, s.c_m_s
    n_src, n_mic = len(scene.sources), len(dev.microphones)
    timing: dict[str, float] = {}
    if n_src == 0 or n_mic == 0:
        n = mode.n_taps or 2 * T0_SAMPLES
        return {"ir": np.zeros((n_src, n_mic, n)), "meta": {"timing_s": timing}}
    report(state, 0.0, "talkers: room")
    mic_dirs = []
    axes = dev.mic_axes()
    for m, mic in enumerate(dev.microphones):
        d = mic.directivity
        if d.type == "omni":
            mic_dirs.append(None)
        elif d.type == "cardioid":
            mic_dirs.append(CardioidFamily(orientation=np.asarray(axes[m], float), p=float(d.p)))
        else:
            raise ValueError(f"microphone {mic.name!r}: directivity {d.type!r} not supported")
    with _PraSettings(c, _seed(key)):
        r = _make_pra_room(scene.room, fs, c, mode.order, mode.ray_tracing)
        for src in scene.sources:
            r.add_soundsource(pra.SoundSource(np.asarray(src.position_m, dtype=float)))
        directive = any(d is not None for d in mic_dirs)
        if mode.ray_tracing:
            _enable_ray_tracing(r, scene, c, before_mics=True)
        r.add_microphone_array(dev.mic_positions().T.copy(),
                               directivity=mic_dirs if directive else None)
        n_rays = None
        if mode.ray_tracing:
            n_rays = _enable_ray_tracing(r, scene, c)
        rir = _simulate(r, mode, c, state, timing)
    irs = [rir[m][k] for k in range(n_src) for m in range(n_mic)]
    ir = _finish(irs, mode, fs)
    ir = ir.reshape(n_src, n_mic, ir.shape[-1])
    return {"ir": ir, "meta": {"ism_order": mode.order, "ray_tracing": mode.ray_tracing,
                               "n_rays": n_rays, "timing_s": timing}}


def _sofa_stamps(scene: Scene) -> list:
    return [_file_stamp(d.directivity.file) for d in scene.device.drivers]


def listener_key(scene: Scene, index: int, early_only: bool = False) -> str:
    """Cache key of listener `index`'s driver → ear RIRs."""
    dev = replace(scene.device, microphones=(), name="", model="")
    li = replace(scene.listeners[index], name="")
    return content_hash("room-listener", ENGINE_VERSION, scene.room, dev, li,
                        _file_stamp(li.hrtf.file), _sofa_stamps(scene), scene.simulation,
                        bool(early_only))


def talker_key(scene: Scene, early_only: bool = False) -> str:
    """Cache key of the talker → microphone RIRs (source positions only: signal and level
    do not change a RIR)."""
    dev = scene.device
    return content_hash("room-talkers", ENGINE_VERSION, scene.room, dev.position_m, dev.yaw_deg,
                        dev.microphones, [s.position_m for s in scene.sources], scene.simulation,
                        bool(early_only))


def room_result(scene: Scene, *, talkers: bool = False, early_only: bool = False,
                state: TaskState | None = None, cache: RirCache | None = None) -> TransferResult:
    """Room-engine IRs of a scene.

    Returns a TransferResult with ir (n_drivers, n_listeners, 2, n_taps) float (left ear
    first), fs_hz = scene.simulation.fs_hz, t0_samples = T0_SAMPLES, engine "room", ir_mic
    (n_sources, n_mics, n_taps) with `talkers`, and meta: ism_order, ray_tracing, early_only,
    n_rays, n_taps, rir_length_s, hpf (False), grid sizes and tap counts, timing_s per stage
    (summed over the computed runs), cache_hits / cache_misses, cache keys.

    early_only: image sources up to order 3, no ray tracing, IRs cut to t0 + early_ms.
    cache: where per-listener and talker results are looked up and stored (default: the
    module's `DEFAULT_CACHE`). New results are stored only when the job completes.
    state: progress between listeners and stages; cancellation raises `sim.task.Cancelled`.
    """
    t_start = time.perf_counter()
    cache = DEFAULT_CACHE if cache is None else cache
    s = scene.simulation
    mode = _mode(scene, early_only)
    jobs: list[tuple[str, str, int]] = [("listener", listener_key(scene, i, early_only), i)
                                        for i in range(len(scene.listeners))]
    if talkers:
        jobs.append(("talkers", talker_key(scene, early_only), -1))
    hits = misses = 0
    entries: dict[str, dict] = {}
    new: dict[str, dict] = {}
    timing = {"directivities": 0.0, "ism": 0.0, "ray_tracing": 0.0, "rir": 0.0,
              "assembly": 0.0}
    n_rays = None
    report(state, 0.0, "room: starting")
    for j, (kind, key, i) in enumerate(jobs):
        sub = state.sub(j / len(jobs), (j + 1) / len(jobs)) if state is not None else None
        if key in entries or key in new:  # two identical listeners
            hits += 1
            continue
        entry = cache.get(key)
        if entry is not None:
            hits += 1
            entries[key] = entry
            report(sub, 1.0, "cached")
            continue
        misses += 1
        if kind == "listener":
            entry = _listener_run(scene, scene.listeners[i], mode, key, sub)
        else:
            entry = _talker_run(scene, mode, key, sub)
        for k, v in entry["meta"].get("timing_s", {}).items():
            timing[k] = timing.get(k, 0.0) + v
        n_rays = entry["meta"].get("n_rays") or n_rays
        new[key] = entry
        report(sub, 1.0, "done")
    if state is not None:
        state.check()
    for key, entry in new.items():  # commit only complete jobs
        cache.put(key, entry)
    entries.update(new)

    lkeys = [key for kind, key, _ in jobs if kind == "listener"]
    parts = [entries[k]["ir"] for k in lkeys]
    mic = entries[jobs[-1][1]]["ir"] if talkers else None
    n = mode.n_taps or max([p.shape[-1] for p in parts] + ([mic.shape[-1]] if talkers else []),
                           default=2 * T0_SAMPLES)
    n_drivers = len(scene.device.drivers)
    ir = np.zeros((n_drivers, len(parts), 2, n))
    for i, p in enumerate(parts):
        ir[:, i] = _fit(p, n)
    ir_mic = _fit(np.array(mic, dtype=float), n) if talkers else None
    timing["total"] = time.perf_counter() - t_start
    meta = {
        "engine": "room", "engine_version": ENGINE_VERSION, "fs": s.fs_hz, "c": s.c_m_s,
        "t0": T0_SAMPLES, "early_only": bool(early_only), "ism_order": mode.order,
        "ray_tracing": mode.ray_tracing, "n_rays": n_rays, "n_taps": n,
        "rir_length_s": n / s.fs_hz, "hpf": False, "anechoic": scene.room.is_anechoic,
        "early_fade_s": EARLY_FADE_S if early_only else 0.0,
        "rt_time_limit_s": rt_time_limit_s(scene) if mode.ray_tracing else None,
        "ear_grid_points": EAR_GRID_POINTS, "driver_grid_points": DRIVER_GRID_POINTS,
        "ear_taps": _scaled_taps(EAR_TAPS, s.fs_hz),
        "driver_taps": _scaled_taps(DRIVER_TAPS, s.fs_hz),
        "timing_s": timing, "cache_hits": hits, "cache_misses": misses,
        "cache_keys": [key for _, key, _ in jobs],
        "listener_meta": [entries[k]["meta"] for k in lkeys],
    }
    report(state, 1.0, "room: done")
    return TransferResult(ir=ir, fs_hz=s.fs_hz, t0_samples=T0_SAMPLES, engine="room",
                          meta=meta, ir_mic=ir_mic)
