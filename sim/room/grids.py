"""Directivities handed to pyroomacoustics (pra): the ears of each head and sampled drivers.

Heads: each ear is a pra microphone AT THE HEAD CENTRE whose ``MeasuredDirectivity`` holds the
ear's impulse response for every direction of arrival, in the room frame (so no rotation): the
far-field rigid sphere (`sim.head.sphere_hrtf`) on a Fibonacci grid of `EAR_GRID_POINTS`
directions, plus the exact direction of every driver, whose IR uses the finite-range sphere at
the true distance, so the direct sound equals the free-field engine's (pra looks responses up
by nearest direction). A SOFA head uses its measured directions, turned by the listener's yaw,
with the free-field engine's bulk-delay and level normalisation. Ear IRs are `EAR_TAPS` long at
48 kHz (SOFA heads: `SOFA_EAR_TAPS`) with a bulk delay of a quarter of their length.

Drivers: a kind with a pra form (`Directivity.grid_taps` None: omni, cardioid) is handed over
as that; any other kind's `Directivity.response` (the free-field engine's gains) is sampled on
a grid of `DRIVER_GRID_POINTS` directions plus the exact direction to the listener into IRs
`grid_taps` long with a bulk delay of a quarter of that.

Building a directivity costs 10–50 ms, so they are cached by content hash (in memory), and
so are the grid parts, which do not depend on where the listener is: a sweep over listener
positions builds only the exact directions per position. The octave-band energies pra
computes for every measured directivity (to draw a source's rays) are computed only when pra
reads them, so ears and image-source-only runs never pay for them.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict

import numpy as np

from sim.directivity.base import unit
from sim.freefield import sofa_head_table
from sim.geometry import yaw_matrix
from sim.head import ear_directions, sphere_hrtf
from sim.room.assembly import band_gains
from sim.room.cache import file_stamp
from sim.room.settings import (
    DRIVER_GRID_POINTS,
    EAR_GRID_POINTS,
    EAR_TAPS,
    ENGINE_VERSION,
    SOFA_EAR_TAPS,
    scaled_taps,
)
from sim.scene import Device, Listener, content_hash


@functools.lru_cache(maxsize=8)
def fibonacci_directions(n: int) -> np.ndarray:
    """Quasi-uniform unit vectors (n, 3) on the sphere (read-only, cached)."""
    from pyroomacoustics.doa import fibonacci_spherical_sampling

    out = np.ascontiguousarray(fibonacci_spherical_sampling(n).T)
    out.flags.writeable = False
    return out


def _split_grid(n_grid: int, exact: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Fibonacci grid of n_grid points against the `exact` directions (K, 3): (keep (n_grid,)
    bool, the grid points more than 0.2° from every exact direction; extra (U, 3), the unique
    exact unit directions; index (K,) of each exact direction in extra)."""
    exact = unit(np.atleast_2d(exact))
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
    keep = np.ones(n_grid, dtype=bool)
    if len(extra):
        keep = np.max(fibonacci_directions(n_grid) @ extra.T, axis=1) < math.cos(
            math.radians(0.2))
    return keep, extra, index


def grid_with_exact(n_grid: int, exact: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A Fibonacci grid with the `exact` unit directions (K, 3) appended.

    Grid points within 0.2° of an exact direction are dropped (nearly coincident points upset
    the spherical Voronoi areas pra computes). Returns (directions (G, 3), index (K,) of each
    exact direction in it; duplicates among the exact ones share one index).
    """
    keep, extra, index = _split_grid(n_grid, exact)
    return np.vstack([fibonacci_directions(n_grid)[keep], extra]), index + int(keep.sum())


_ENERGY_ATTRS = frozenset({"energies", "energy_per_direction", "energies_coeff_deterministic"})
_AREA_ATTRS = frozenset({"areas", "total_energy", "energies_coeff_random"})


@functools.cache
def _measured_class():
    """pra's ``MeasuredDirectivity`` with its per-direction octave-band energies (used only to
    draw a source's rays) computed when first read, from one FFT of all its IRs (pra runs its
    filter bank direction by direction: ~0.3 ms each), and the spherical Voronoi areas (used
    only by the random ray sampler, which our runs do not use) likewise. Ear directivities,
    and every directivity of an image-source-only run, never need either."""
    from pyroomacoustics.acoustics import AntoniOctaveFilterBank
    from pyroomacoustics.directivities import MeasuredDirectivity
    from pyroomacoustics.directivities.integration import robust_spherical_voronoi_areas
    from pyroomacoustics.directivities.measured import MeasuredDirectivityEnergyDistribution
    from pyroomacoustics.doa import GridSphere
    from pyroomacoustics.parameters import constants
    from scipy.spatial import cKDTree

    class LazyMeasuredDirectivity(MeasuredDirectivity):
        def _compute_band_energies(self):
            pass  # deferred: __getattr__ computes them on first read

        def _band_energies(self):
            # pra's Antoni analysis per band, by Parseval: the band's coefficient energy is
            # 2 Σ |G_b|² |X|² / n_fft on the analysis FFT grid (equal within 1e-15).
            bank = AntoniOctaveFilterBank(base_frequency=constants.get("octave_bands_base_freq"),
                                          fs=self.fs, n_fft=constants.get("octave_bands_n_fft"))
            irs = np.asarray(self._irs, dtype=float)
            n_fft = 2 ** math.ceil(math.log2(2 * irs.shape[-1]))
            power = np.abs(np.fft.rfft(irs, n=n_fft)) ** 2
            gains = band_gains(bank, bank.n_bands, n_fft)
            band_energy = 2.0 * np.einsum("gf,bf->gb", power, gains) / n_fft
            norm = bank.get_bw() / np.sum(bank.get_bw())
            self.energies = band_energy / norm
            self.energy_per_direction = self.energies.sum(axis=-1)
            self.energies_coeff_deterministic = self.energies

        def _areas(self):
            self.areas = robust_spherical_voronoi_areas(self._original_grid.cartesian.T)
            self.total_energy = np.sum(self.energies * self.areas[:, None])
            scale = (self.energy_per_direction / self.total_energy)[:, None]
            self.energies_coeff_random = self.energies / scale

        def set_orientation(self, orientation):
            # pra's, less the energy distribution (built on first read, below).
            self._orientation = orientation
            self._grid = GridSphere(
                cartesian_points=orientation.rotate(self._original_grid.cartesian))
            self._kdtree = cKDTree(self._grid.cartesian.T)
            self.__dict__.pop("energy_distribution", None)

        def __getattr__(self, name):  # only called for attributes not set yet
            if name in _ENERGY_ATTRS:
                self._band_energies()
            elif name in _AREA_ATTRS:
                self._areas()
            elif name == "energy_distribution":
                self.energy_distribution = MeasuredDirectivityEnergyDistribution(
                    self._kdtree, self.energy_per_direction, areas=self.areas)
            else:
                raise AttributeError(name)
            return self.__dict__[name]

    return LazyMeasuredDirectivity


def measured_directivity(directions: np.ndarray, irs: np.ndarray, fs_hz: int):
    """A pra ``MeasuredDirectivity`` (identity orientation) from room-frame unit directions
    (G, 3) and IRs (G, N); its octave-band energies are computed only if pra reads them."""
    from pyroomacoustics.directivities import Rotation3D
    from pyroomacoustics.doa import GridSphere

    grid = GridSphere(cartesian_points=np.ascontiguousarray(unit(directions).T))
    irs = np.ascontiguousarray(irs, dtype=float)
    return _measured_class()(Rotation3D([0.0, 0.0], "yz", degrees=True), grid, irs,
                             int(fs_hz))


def spectra_to_irs(h: np.ndarray, f: np.ndarray, fs_hz: int, n_taps: int,
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
_GRID_CACHE: OrderedDict[str, object] = OrderedDict()
_GRID_CACHE_SIZE = 8  # an ear grid's IRs take 6 MB
_CACHE_LOCK = threading.Lock()


def _cached(cache: OrderedDict, size: int, key: str, build):
    """An LRU entry by content hash, built on a miss (building one costs ~10–50 ms; pra's own
    directivity constructor ~0.3 s per 500 directions)."""
    with _CACHE_LOCK:
        obj = cache.get(key)
        if obj is not None:
            cache.move_to_end(key)
            return obj
    obj = build()  # outside the lock: two threads may build the same object, harmlessly
    with _CACHE_LOCK:
        cache[key] = obj
        while len(cache) > size:
            cache.popitem(last=False)
    return obj


def _cached_directivity(key: str, build):
    return _cached(_DIRECTIVITY_CACHE, _DIRECTIVITY_CACHE_SIZE, key, build)


def _far_ear_irs(listener: Listener, fs_hz: int, c: float, n_taps: int,
                 delay: int) -> np.ndarray:
    """Far-field ear IRs (2, G, n_taps) of a sphere head on the whole Fibonacci grid of
    EAR_GRID_POINTS: they do not depend on where the head is, so a sweep over positions
    computes them once per head (cached by radius, ear angles, yaw and settings)."""
    key = content_hash("ear-grid", ENGINE_VERSION, listener.head_radius_m,
                       list(listener.ear_angles_deg), listener.yaw_deg, fs_hz, c, n_taps,
                       EAR_GRID_POINTS)

    def build():
        grid = fibonacci_directions(EAR_GRID_POINTS)
        f = np.fft.rfftfreq(2 * n_taps, 1.0 / fs_hz)
        ears = ear_directions(listener.yaw_deg, listener.ear_angles_deg)  # (2, 3)
        out = np.empty((2, len(grid), n_taps))
        for e in range(2):
            inc = np.arccos(np.clip(grid @ ears[e], -1.0, 1.0))
            h = sphere_hrtf(f, inc, None, listener.head_radius_m, c)
            out[e] = spectra_to_irs(h, f, fs_hz, n_taps, delay)
        out.flags.writeable = False
        return out

    return _cached(_GRID_CACHE, _GRID_CACHE_SIZE, key, build)


def ear_directivities(listener: Listener, sources_m: np.ndarray, fs_hz: int, c: float):
    """The two ear directivities of a listener, for pra microphones at the head centre.

    sources_m: (K, 3) room-frame positions of the drivers whose direct sound should be exact
    (their directions are added to the grid with finite-range responses).
    Returns (left, right, bulk_delay_samples).
    """
    n_taps = scaled_taps(EAR_TAPS, fs_hz)
    delay = n_taps // 4
    head = np.asarray(listener.position_m, dtype=float)
    rel = np.asarray(sources_m, dtype=float).reshape(-1, 3) - head
    if listener.hrtf.type == "sofa":
        n_taps = scaled_taps(SOFA_EAR_TAPS, fs_hz)
        key = content_hash("ear-sofa", ENGINE_VERSION, file_stamp(listener.hrtf.file),
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
        keep, extra, idx = _split_grid(EAR_GRID_POINTS, rel / dist[:, None])
        far = _far_ear_irs(listener, fs_hz, c, n_taps, delay)
        dirs = np.vstack([fibonacci_directions(EAR_GRID_POINTS)[keep], extra])
        f = np.fft.rfftfreq(2 * n_taps, 1.0 / fs_hz)
        ears = ear_directions(listener.yaw_deg, listener.ear_angles_deg)  # (2, 3)
        out = []
        for e in range(2):
            irs = far[e][keep]
            if len(extra):
                # Direct paths: finite-range sphere at the true distance (as the free field).
                h = np.empty((len(extra), f.size), dtype=complex)
                inc = np.arccos(np.clip(extra[idx] @ ears[e], -1.0, 1.0))
                h[idx] = sphere_hrtf(f, inc, dist, listener.head_radius_m, c)
                irs = np.vstack([irs, spectra_to_irs(h, f, fs_hz, n_taps, delay)])
            out.append(measured_directivity(dirs, irs, fs_hz))
        return tuple(out)

    return (*_cached_directivity(key, build), delay)


def _sofa_ears(listener: Listener, fs_hz: int, n_taps: int, delay: int):
    """Ear directivities from a SOFA HRIR set: the free-field engine's table (bulk delay
    removed, low-frequency level normalised) turned into the room frame by the yaw."""
    dirs_head, spec, f = sofa_head_table(listener.hrtf.file, fs_hz, 2 * n_taps,
                                         listener.head_radius_m)
    dirs = unit(dirs_head) @ yaw_matrix(listener.yaw_deg).T
    # Drop duplicate directions (the spherical Voronoi of pra cannot take them).
    _, first = np.unique(np.round(dirs, 6), axis=0, return_index=True)
    first = np.sort(first)
    irs = spectra_to_irs(spec[first], f, fs_hz, n_taps, delay)  # (D, 2, n_taps)
    return tuple(measured_directivity(dirs[first], irs[:, e], fs_hz) for e in range(2))


def driver_directivity(device: Device, k: int, frame: np.ndarray, toward_m: np.ndarray,
                       fs_hz: int, c: float):
    """pra directivity of driver k and its bulk delay in samples.

    frame: (3, 3) room-frame rotation whose column 0 is the driver axis; toward_m: (K, 3)
    room-frame points whose direction from the driver is added exactly to a measured grid.
    Returns (the kind's pra form (None for omni) or a sampled MeasuredDirectivity,
    delay_samples).
    """
    d = device.drivers[k].directivity
    if d.grid_taps is None:
        return d.pra_pattern(frame[:, 0]), 0
    n_taps = scaled_taps(d.grid_taps, fs_hz)
    delay = n_taps // 4
    pos = device.driver_positions()[k]
    rel = np.asarray(toward_m, dtype=float).reshape(-1, 3) - pos
    key = content_hash("driver", ENGINE_VERSION, d, file_stamp(d.file),
                       np.round(frame, 12).tolist(), np.round(rel, 9).tolist(), fs_hz, c, n_taps,
                       DRIVER_GRID_POINTS)

    grid_key = content_hash("driver-grid", ENGINE_VERSION, d, file_stamp(d.file),
                            np.round(frame, 12).tolist(), fs_hz, c, n_taps, DRIVER_GRID_POINTS)
    f = np.fft.rfftfreq(2 * n_taps, 1.0 / fs_hz)

    def grid_irs():  # the grid's IRs do not depend on the listener: once per driver pose
        g = d.response(f, frame, fibonacci_directions(DRIVER_GRID_POINTS), c, fs_hz)
        irs = spectra_to_irs(g, f, fs_hz, n_taps, delay)
        irs.flags.writeable = False
        return irs

    def build():
        keep, extra, _ = _split_grid(DRIVER_GRID_POINTS, rel)
        irs = _cached(_GRID_CACHE, _GRID_CACHE_SIZE, grid_key, grid_irs)[keep]
        if len(extra):
            g = d.response(f, frame, extra, c, fs_hz)  # (U, F)
            irs = np.vstack([irs, spectra_to_irs(g, f, fs_hz, n_taps, delay)])
        dirs = np.vstack([fibonacci_directions(DRIVER_GRID_POINTS)[keep], extra])
        return measured_directivity(dirs, irs, fs_hz)

    return _cached_directivity(key, build), delay

