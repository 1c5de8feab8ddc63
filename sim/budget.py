"""Resource estimate of a transfer simulation, checked before anything large is allocated.

`check_budget(scene, engine, ...)` estimates the peak memory and the run time of
`sim.transfer.simulate` from the quantities that drive them, and raises `SceneError` naming
the field to change when either is past its limit, for example::

    room.walls.rt60 = 20 s: ray tracing its 10 s tail needs ~4.1 GB (limit 2 GB,
    AWB_SIM_MEMORY_GB) for the room transfer of 5 drivers and 1 listener: lower the
    reverberation or set simulation.ray_tracing to false

Free field: one spectrum of n_taps / 2 + 1 bins per driver and ear (n_taps from
`simulation.ir_length` × fs, or from the farthest listener) times the rigid-sphere series,
whose order grows with fs. Room (pyroomacoustics, one run per listener): the ray tracer keeps
a histogram per ear direction (~1 500), driver and octave band over the traced tail (RT60 or
`ir_length`, at most 10 s), and draws one reflection per 0.1 ms of tail against all of those
directions; every image source costs an FFT convolution per driver and ear; polygon rooms test
walls^order image candidates against every wall.

Limits: `Limits()` (2 GB and 120 s: the transfer shares the machine with the GUI, the audio
stream and the design) or the environment variables AWB_SIM_MEMORY_GB and AWB_SIM_TIME_S, or
the `limits` argument. The constants are fitted to measured runs (pyroomacoustics 0.10, numpy
FFT) and err high; the estimate is a guard against runs that cannot finish, not a prediction.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

import numpy as np

from sim.scene import Scene
from sim.scene_fields import SceneError

DEFAULT_MEMORY_GB = 2.0
DEFAULT_TIME_S = 120.0

# Fitted constants (measured on a loaded 2-core machine; see the module docstring).
_FF_SERIES_S = 2.5e-8  # s per (frequency bin × sphere order × driver × ear)
_FF_SPECTRA = 6.0  # complex (F, driver, ear) arrays alive while one listener is computed
_FF_KEPT = 4.0  # complex (F, driver, ear) arrays per listener kept until the IRs are done
_IMAGE_BYTES = 190e3  # transient bytes per image source in one RIR (1 024-tap convolution)
_IMAGE_S = 2.5e-4  # s per image source, driver and ear (1 024-tap convolution)
_CANDIDATE_S = 3.5e-9  # s per polygon image candidate, wall (visibility test), driver, ear
_REFLECTION_S = 3e-9  # s per ray reflection and wall
_HIT_S = 7e-9  # s per ray hit on an ear and ear direction
_DRAW_S = 4e-8  # s per tail reflection and ear direction (direction drawing)
_DRAW_COPIES = 1.3  # float64 (directions, reflections) arrays alive while drawing
_TAIL_RATE_HZ = 10_000.0  # pra's cap on the reflection density of the synthesized tail
_HIST_BIN_S = 0.004  # pra's histogram bin
_BANDS = 7  # octave bands of pra's materials
_RECEIVER_DIRECTIONS = 720  # pra's direction grid of a non-measured directive microphone
_EAR_TABLES = 4.0  # complex (directions, ears, taps) arrays alive while ear tables are built
_EAR_SERIES_S = 1e-9  # s per (direction × ear × sphere order × tap) of the ear tables
_RUN_S = 0.3  # s of set-up per pra run


@dataclass(frozen=True)
class Limits:
    """Largest accepted estimate: memory_bytes of peak memory, time_s of run time."""

    memory_bytes: float = DEFAULT_MEMORY_GB * 1e9
    time_s: float = DEFAULT_TIME_S

    @classmethod
    def from_env(cls) -> Limits:
        """Defaults, overridden by AWB_SIM_MEMORY_GB and AWB_SIM_TIME_S (positive numbers)."""
        values = {}
        for name, key, scale in (("AWB_SIM_MEMORY_GB", "memory_bytes", 1e9),
                                 ("AWB_SIM_TIME_S", "time_s", 1.0)):
            text = os.environ.get(name)
            if text is None:
                continue
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not (math.isfinite(value) and value > 0):
                raise SceneError(f"environment variable {name} = {text!r} must be a positive"
                                 " number")
            values[key] = value * scale
        return cls(**values)


@dataclass(frozen=True)
class Part:
    """One cost of a simulation: bytes and seconds, and the field whose value drives it.

    what: the field and its value as the user wrote it ("simulation.ir_length = 10 s at
    192000 Hz"); advice: what to change ("shorten it or lower simulation.fs").
    """

    memory_bytes: float
    time_s: float
    field: str
    what: str
    advice: str


@dataclass(frozen=True)
class Estimate:
    """Peak memory (bytes) and run time (s) of a simulation, and its costs part by part."""

    memory_bytes: float
    time_s: float
    parts: tuple[Part, ...]


def estimate(scene: Scene, engine: str, *, talkers: bool = False,
             early_only: bool = False) -> Estimate:
    """Estimate `sim.transfer.simulate(scene, engine, talkers=..., early_only=...)`."""
    if engine == "freefield":
        return _freefield(scene, talkers)
    return _room(scene, talkers, early_only)


def check_budget(scene: Scene, engine: str, *, talkers: bool = False, early_only: bool = False,
                 limits: Limits | None = None) -> Estimate:
    """Raise SceneError naming the field to change when the estimate is past `limits`
    (default: `Limits.from_env()`); returns the estimate otherwise."""
    limits = Limits.from_env() if limits is None else limits
    est = estimate(scene, engine, talkers=talkers, early_only=early_only)
    if est.memory_bytes > limits.memory_bytes:
        worst = max(est.parts, key=lambda p: p.memory_bytes)
        need = f"~{_gb(est.memory_bytes)} (limit {_gb(limits.memory_bytes)}, AWB_SIM_MEMORY_GB)"
    elif est.time_s > limits.time_s:
        worst = max(est.parts, key=lambda p: p.time_s)
        need = f"~{_seconds(est.time_s)} (limit {_seconds(limits.time_s)}, AWB_SIM_TIME_S)"
    else:
        return est
    name = "free-field" if engine == "freefield" else engine
    raise SceneError(f"{worst.what} needs {need} for the {name} transfer of {_counts(scene)}:"
                     f" {worst.advice}", worst.field)


def _gb(n: float) -> str:
    return f"{n / 1e9:.2g} GB" if n >= 1e8 else f"{n / 1e6:.2g} MB"


def _seconds(t: float) -> str:
    return f"{t:.0f} s" if t < 600 else f"{t / 60:.0f} min"


def _counts(scene: Scene) -> str:
    n_d, n_l = len(scene.device.drivers), len(scene.listeners)
    return f"{n_d} driver{'s' * (n_d != 1)} and {n_l} listener{'s' * (n_l != 1)}"


# ---------------------------------------------------------------------------------------------
# Free field.


def _farthest(scene: Scene, talkers: bool) -> tuple[float, str]:
    """Largest driver → listener (talkers: and source → driver/mic) distance, m, and the
    field of that listener or source."""
    dev = scene.device
    ends = dev.driver_positions()
    if talkers and len(dev.microphones):
        ends = np.vstack([ends, dev.mic_positions()])
    points = [(li.position_m, f"listeners[{i}].position") for i, li in enumerate(scene.listeners)]
    if talkers:
        points += [(s.position_m, f"sources[{i}].position") for i, s in enumerate(scene.sources)]
    best = (1.0, "listeners")
    for p, field in points:
        far = float(np.max(np.linalg.norm(ends - np.asarray(p), axis=1)))
        best = max(best, (far, field))
    return best


def _freefield(scene: Scene, talkers: bool) -> Estimate:
    from sim.freefield import _n_taps
    from sim.head import _n_terms

    s, dev = scene.simulation, scene.device
    far, far_field = _farthest(scene, talkers)
    n_bins = _n_taps(scene, far) + 1
    radius = max((li.head_radius_m for li in scene.listeners), default=0.0875)
    n_terms = _n_terms(math.pi * s.fs_hz * radius / s.c_m_s, math.inf)
    n_ears = 2 * len(scene.listeners)
    # Kept spectra per driver: every ear, and with talkers every source → mic pair.
    kept = n_ears + (len(scene.sources) * len(dev.microphones) / len(dev.drivers) if talkers
                     else 0.0)
    memory = 16.0 * n_bins * (1.3 * n_terms + len(dev.drivers) * (2 * _FF_SPECTRA
                                                                    + _FF_KEPT * kept))
    time_s = _FF_SERIES_S * n_bins * n_terms * len(dev.drivers) * max(n_ears, 1)
    return Estimate(memory, time_s, (_length_part(scene, far, far_field, memory, time_s),))


def _length_part(scene: Scene, far: float, far_field: str, memory: float,
                 time_s: float) -> Part:
    """A cost that grows with the IR length: blame ir_length if set, else the farthest
    listener or source."""
    s = scene.simulation
    if s.ir_length_s is not None:
        return Part(memory, time_s, "simulation.ir_length",
                    f"simulation.ir_length = {s.ir_length_s:g} s at {s.fs_hz} Hz",
                    "shorten it or lower simulation.fs")
    return Part(memory, time_s, far_field,
                f"{far_field} ({far:.0f} m from the device, at {s.fs_hz} Hz)",
                "move it closer, set a short simulation.ir_length, or lower simulation.fs")


# ---------------------------------------------------------------------------------------------
# Room.


def _image_counts(order: int, n_walls: int, shoebox: bool) -> tuple[float, float]:
    """(image sources, candidates pra tries) up to `order`: in a shoebox both are the lattice
    points; a polygon room tries n_walls·(n_walls-1)^(k-1) candidates of order k, of which
    about as many as in a shoebox are valid (three times that, to err high)."""
    lattice = (2 * order + 1) * (2 * order**2 + 2 * order + 3) / 3
    if shoebox:
        return lattice, lattice
    tried = 1.0 + sum(n_walls * (n_walls - 1.0) ** (k - 1) for k in range(1, order + 1))
    return min(3 * lattice, tried), tried


def _tail_reflections(tail_s: float, volume_m3: float, c: float) -> float:
    """Reflections pra draws for a tail of tail_s: density 4πc³t²/V, capped at _TAIL_RATE_HZ."""
    k = 4.0 * math.pi * c**3 / volume_m3
    t_cap = math.sqrt(_TAIL_RATE_HZ / k)
    if tail_s <= t_cap:
        return k * tail_s**3 / 3.0
    return k * t_cap**3 / 3.0 + _TAIL_RATE_HZ * (tail_s - t_cap)


def _ear_directions(scene: Scene) -> int:
    from sim.room import settings as R

    n = R.EAR_GRID_POINTS + len(scene.device.drivers)
    for li in scene.listeners:
        if li.hrtf.type == "sofa":
            n = max(n, _sofa_directions(li.hrtf.file) + len(scene.device.drivers))
    return n


def _sofa_directions(file: str) -> int:
    from sim.sofa import load_hrir

    return load_hrir(file, 48000).directions.shape[0]


def _walls_field(scene: Scene) -> tuple[str, str]:
    w = scene.room.walls
    if w.rt60_s is not None:
        return "room.walls.rt60", f"room.walls.rt60 = {w.rt60_s:g} s"
    from sim.room import sabine_rt60_s

    rt60 = sabine_rt60_s(scene.room, scene.simulation.c_m_s, longest=True)
    return "room.walls", f"room.walls (RT60 up to {rt60:.1f} s)"


def _ear_part(scene: Scene, n_dirs: int) -> Part:
    """Building one listener's ear tables: (directions, ears, taps) spectra and IRs."""
    from sim.head import _n_terms
    from sim.room import settings as R

    s = scene.simulation
    sofa = any(li.hrtf.type == "sofa" for li in scene.listeners)
    n_taps = R.scaled_taps(R.SOFA_EAR_TAPS if sofa else R.EAR_TAPS, s.fs_hz)
    radius = max(li.head_radius_m for li in scene.listeners)
    series = _n_terms(math.pi * s.fs_hz * radius / s.c_m_s, math.inf)
    return Part(16.0 * _EAR_TABLES * n_dirs * 2 * n_taps,
                _RUN_S + _EAR_SERIES_S * n_dirs * 2 * series * n_taps,
                "simulation.fs", f"simulation.fs = {s.fs_hz} Hz", "lower it")


def _image_part(scene: Scene, order: int, pairs: int) -> Part:
    """Image sources: one FFT convolution per image and pair, candidates tested per wall."""
    from sim.room import settings as R

    s, room = scene.simulation, scene.room
    driver_taps = max((d.directivity.grid_taps or 0 for d in scene.device.drivers), default=0)
    taps = R.scaled_taps(R.EAR_TAPS + driver_taps, s.fs_hz) + 81 + 512  # + delay, bands
    conv = 2 ** math.ceil(math.log2(taps)) / 1024
    n_walls = 6 if room.kind == "shoebox" else len(room.floor_m) + 2
    images, tried = _image_counts(order, n_walls, room.kind == "shoebox")
    memory = _IMAGE_BYTES * conv * images
    time_s = pairs * (_IMAGE_S * conv * images + _CANDIDATE_S * tried * n_walls)
    walls = f" ({n_walls - 2} walls in room.floor)" if room.kind == "polygon" else ""
    if s.ism_order is not None:
        return Part(memory, time_s, "simulation.ism_order",
                    f"simulation.ism_order = {s.ism_order}{walls}", "lower it")
    if room.kind == "polygon":
        return Part(memory, time_s, "room.floor", f"room.floor with {n_walls - 2} walls",
                    "simplify the floor plan or set a low simulation.ism_order")
    field, what = _walls_field(scene)
    return Part(memory, time_s, field, f"{what} (image-source order {order})",
                "set a low simulation.ism_order, or simulation.ray_tracing to true")


def _ray_part(scene: Scene, pairs: int, n_dirs: int, n_sources: int) -> Part:
    """Ray tracing: histograms per pair and receiver direction, tail synthesis per pair."""
    from sim.room import engine as RE
    from sim.room import settings as R
    from sim.room.materials import sabine_rt60_s

    s, room = scene.simulation, scene.room
    c = s.c_m_s
    tail = RE.rt_time_limit_s(scene)
    n_bins = math.ceil(tail / _HIST_BIN_S)
    volume, area = room.volume_m3(), room.surface_m2()
    draws = _tail_reflections(tail, volume, c)
    memory = 8.0 * _BANDS * n_bins * n_dirs * pairs  # the histograms
    memory += 8.0 * n_dirs * (_DRAW_COPIES * draws + _BANDS * n_bins)  # drawing directions
    memory += 8.0 * 4 * _BANDS * tail * s.fs_hz  # band signals of the tail
    n_rays = min(max(20 * volume / (math.pi * R.RECEIVER_RADIUS_M**2 * c * _HIST_BIN_S), 1000),
                 R.MAX_RAYS)
    alpha = 24.0 * math.log(10.0) * volume / (c * area * sabine_rt60_s(room, c))
    mean_free_path = 4.0 * volume / area
    path_m = min(tail * c, 16.1 / min(alpha, 1.0) * mean_free_path)  # rays stop at 1e-7
    hits = path_m * math.pi * R.RECEIVER_RADIUS_M**2 / volume
    n_walls = 6 if room.kind == "shoebox" else len(room.floor_m) + 2
    trace = n_sources * n_rays * (path_m / mean_free_path * n_walls * _REFLECTION_S
                                  + hits * pairs / n_sources * n_dirs * _HIT_S)
    time_s = trace + pairs * _DRAW_S * n_dirs * draws
    if s.ir_length_s is not None and s.ir_length_s >= tail - 1e-9:
        return Part(memory, time_s, "simulation.ir_length",
                    f"simulation.ir_length = {s.ir_length_s:g} s",
                    "shorten it or set simulation.ray_tracing to false")
    field, what = _walls_field(scene)
    return Part(memory, time_s, field, f"{what}: ray tracing its {tail:.3g} s tail",
                "lower the reverberation or set simulation.ray_tracing to false")


def _room_run(scene: Scene, mode, pairs: int, n_dirs: int, n_sources: int) -> list[Part]:
    """Costs of one pra run with `pairs` source-receiver pairs and `n_dirs` directions per
    receiver; parts of one run overlap in memory."""
    parts = []
    if not scene.room.is_anechoic:
        parts.append(_image_part(scene, mode.order, pairs))
    if mode.ray_tracing:
        parts.append(_ray_part(scene, pairs, n_dirs, n_sources))
    return parts


def _room(scene: Scene, talkers: bool, early_only: bool) -> Estimate:
    from sim.room import engine as RE

    s, dev = scene.simulation, scene.device
    mode = RE._mode(scene, early_only)
    n_d = len(dev.drivers)
    n_dirs = _ear_directions(scene)
    # One pra run per distinct listener (2 ears, every driver), one for the talkers.
    runs = [[_ear_part(scene, n_dirs), *_room_run(scene, mode, 2 * n_d, n_dirs, n_d)]
            for _ in {replace(li, name="") for li in scene.listeners}]
    pairs = 2 * n_d * len(runs)
    if talkers and scene.sources and dev.microphones:
        directive = any(m.directivity.kind != "omni" for m in dev.microphones)
        talker_pairs = len(scene.sources) * len(dev.microphones)
        runs.append(_room_run(scene, mode, talker_pairs,
                              _RECEIVER_DIRECTIONS if directive else 1, len(scene.sources)))
        pairs += talker_pairs
    # Every run's IRs, (pairs, n_taps) float64, are kept and stacked once more at the end.
    far, far_field = _farthest(scene, talkers)
    if mode.n_taps is not None:
        n_taps = mode.n_taps
    else:
        tail_s = RE.rt_time_limit_s(scene) if mode.ray_tracing else 0.0
        n_taps = (tail_s + far / s.c_m_s) * s.fs_hz
    result = _length_part(scene, far, far_field, 2 * 8.0 * pairs * n_taps, 0.0)
    # Runs follow one another: memory peaks in the largest run on top of the results kept
    # so far; times add up.
    memory = max((sum(p.memory_bytes for p in run) for run in runs), default=0.0)
    parts = (*(p for run in runs for p in run), result)
    return Estimate(memory + result.memory_bytes, sum(p.time_s for p in parts), parts)
