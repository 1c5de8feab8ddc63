"""Room engine runs: driver → ear and talker → microphone impulse responses with
pyroomacoustics (pra).

How a scene becomes a pra simulation:

- Room: shoebox → ``pra.ShoeBox``; polygon floor → ``pra.Room.from_corners(...).extrude(h)``;
  anechoic → ``pra.AnechoicRoom`` (direct path only), with octave-band materials
  (`sim.room.materials`).
- Heads: each ear is a microphone at the head centre with a measured directivity holding the
  ear's IRs for every direction of arrival; drivers are pra sources with their kind's pra
  pattern or a sampled one, scaled by ``gain_db`` (`sim.room.grids`).
- Microphones (talker mode): their kind's pra pattern (omni or ``CardioidFamily``); talker and
  noise sources are omni.

Alignment: pra puts every arrival 40 samples late (its 81-tap fractional-delay filter), which
is `sim.transfer_result.T0_SAMPLES`; the directivity bulk delays are cut off the front of each
RIR, so the direct sound of a driver at distance d from the head centre lands at sample
40 + d / c · fs, exactly as in the free-field engine. Amplitudes follow pra's 1/r law. The ray
traced tail only sees the ear IR's delay (pra applies source directivities to rays as octave
band energies), so with a sampled driver the tail sits a quarter of its IR length (0.67 ms for
a piston at 48 kHz) early relative to the image sources; irrelevant for a diffuse tail.

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
the high-pass switch, the thread count: one, so that the output does not depend on the
machine's core count) are set under a module lock and restored afterwards; the ray tracer's
random generator is seeded from the result's cache key, so a recomputation is identical.

RIR assembly (`sim.room.assembly`): pra's ``compute_rir`` with a vectorized ray-traced tail
(same random draws, IRs within 1e-11 of pra's); the early part (image sources) is pra's own.

Caching (`sim.room.cache`): one entry per listener, keyed by `content_hash` of the room, the
device's drivers and pose, the listener, the simulation settings, the mode and
`ENGINE_VERSION`; one entry for all talker → microphone RIRs. Each listener is its own pra run
(2 ear mics, all drivers as sources), so moving one listener recomputes only that listener.
New entries are committed only when the whole job has finished, so a cancelled job leaves
nothing in the cache.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pyroomacoustics as pra

from sim.freefield import driver_frames
from sim.room.assembly import compute_rirs
from sim.room.cache import DEFAULT_CACHE, RirCache, file_stamp
from sim.room.grids import driver_directivity, ear_directivities
from sim.room.materials import make_pra_room, sabine_ism_order, sabine_rt60_s
from sim.room.settings import (
    DRIVER_GRID_POINTS,
    EAR_GRID_POINTS,
    EAR_TAPS,
    EARLY_FADE_S,
    EARLY_MAX_ORDER,
    ENGINE_VERSION,
    MAX_ISM_ORDER,
    MAX_RAYS,
    RECEIVER_RADIUS_M,
    scaled_taps,
)
from sim.scene import Listener, Scene, content_hash
from sim.task import TaskState, report
from sim.transfer_result import T0_SAMPLES, TransferResult

_PRA_LOCK = threading.RLock()


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
    """Context: pra constants for one of our runs (c, no RIR high-pass, one thread), restored
    afterwards, and a seeded random generator; holds the module lock (pra constants are
    global). One thread: pra's image-source delay-and-sum adds in float32 in per-thread
    parts, so its last bits (~1e-7 of the peak) would depend on the machine's core count."""

    def __init__(self, c: float, seed: int):
        self.c, self.seed = c, seed

    def __enter__(self):
        _PRA_LOCK.acquire()
        self._old = {k: pra.constants.get(k) for k in ("c", "rir_hpf_enable", "num_threads")}
        pra.constants.set("c", float(self.c))
        pra.constants.set("rir_hpf_enable", False)
        pra.constants.set("num_threads", 1)
        pra.random.seed(numpy=self.seed, libroom=self.seed)
        return self

    def __exit__(self, *exc):
        try:
            for k, v in self._old.items():
                pra.constants.set(k, v)
        finally:
            _PRA_LOCK.release()
        return False


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
    rirs = compute_rirs(pra_room)
    timing["rir"] = time.perf_counter() - t
    return rirs


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
        r = make_pra_room(scene.room, fs, c, mode.order, mode.ray_tracing)
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
        if mic.directivity.grid_taps is not None:  # pra microphones take only its own patterns
            raise ValueError(f"microphone {mic.name!r}: directivity {mic.directivity.kind!r}"
                             " not supported")
        mic_dirs.append(mic.directivity.pra_pattern(axes[m]))
    with _PraSettings(c, _seed(key)):
        r = make_pra_room(scene.room, fs, c, mode.order, mode.ray_tracing)
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


def _driver_file_stamps(scene: Scene) -> list:
    return [file_stamp(d.directivity.file) for d in scene.device.drivers]


def listener_key(scene: Scene, index: int, early_only: bool = False) -> str:
    """Cache key of listener `index`'s driver → ear RIRs."""
    dev = replace(scene.device, microphones=(), name="", model="")
    li = replace(scene.listeners[index], name="")
    return content_hash("room-listener", ENGINE_VERSION, scene.room, dev, li,
                        file_stamp(li.hrtf.file), _driver_file_stamps(scene), scene.simulation,
                        bool(early_only))


def talker_key(scene: Scene, early_only: bool = False) -> str:
    """Cache key of the talker → microphone RIRs (source positions only: signal and level
    do not change a RIR)."""
    dev = scene.device
    return content_hash("room-talkers", ENGINE_VERSION, scene.room, dev.position_m, dev.yaw_deg,
                        dev.microphones, [s.position_m for s in scene.sources], scene.simulation,
                        bool(early_only))


@dataclass
class _Runs:
    """What a list of jobs gave: entries by cache key, cache statistics, stage timings (s,
    summed over the computed runs) and the ray count."""

    entries: dict[str, dict] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0
    timing: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("directivities", "ism", "ray_tracing", "rir", "assembly"), 0.0))
    n_rays: int | None = None


def _run_jobs(scene: Scene, jobs: list[tuple[str, str, int]], mode: _Mode, cache: RirCache,
              state: TaskState | None) -> _Runs:
    """Look each job (kind, key, listener index) up in the cache or compute it; commit the
    new entries only once all are done (a cancelled job leaves nothing behind)."""
    runs = _Runs()
    new: dict[str, dict] = {}
    for j, (kind, key, i) in enumerate(jobs):
        sub = state.sub(j / len(jobs), (j + 1) / len(jobs)) if state is not None else None
        if key in runs.entries or key in new:  # two identical listeners
            runs.hits += 1
            continue
        entry = cache.get(key)
        if entry is not None:
            runs.hits += 1
            runs.entries[key] = entry
            report(sub, 1.0, "cached")
            continue
        runs.misses += 1
        if kind == "listener":
            entry = _listener_run(scene, scene.listeners[i], mode, key, sub)
        else:
            entry = _talker_run(scene, mode, key, sub)
        for k, v in entry["meta"].get("timing_s", {}).items():
            runs.timing[k] = runs.timing.get(k, 0.0) + v
        runs.n_rays = entry["meta"].get("n_rays") or runs.n_rays
        new[key] = entry
        report(sub, 1.0, "done")
    if state is not None:
        state.check()
    for key, entry in new.items():
        cache.put(key, entry)
    runs.entries.update(new)
    return runs


def room_result(scene: Scene, *, talkers: bool = False, early_only: bool = False,
                state: TaskState | None = None, cache: RirCache | None = None) -> TransferResult:
    """Room-engine IRs of a scene.

    Returns a TransferResult with ir (n_drivers, n_listeners, 2, n_taps) float (left ear
    first), fs_hz = scene.simulation.fs_hz, t0_samples = T0_SAMPLES, engine "room", ir_mic
    (n_sources, n_mics, n_taps) with `talkers`, and meta: ism_order, ray_tracing, early_only,
    n_rays, n_taps, rir_length_s, hpf (False), grid sizes and tap counts, timing_s per stage
    (summed over the computed runs), cache_hits / cache_misses, cache keys.

    early_only: image sources up to order 3, no ray tracing, IRs cut to t0 + early_ms.
    cache: where per-listener and talker results are looked up and stored (default:
    `sim.room.cache.DEFAULT_CACHE`). New results are stored only when the job completes.
    state: progress between listeners and stages; cancellation raises `sim.task.Cancelled`.
    """
    t_start = time.perf_counter()
    s = scene.simulation
    mode = _mode(scene, early_only)
    jobs: list[tuple[str, str, int]] = [("listener", listener_key(scene, i, early_only), i)
                                        for i in range(len(scene.listeners))]
    if talkers:
        jobs.append(("talkers", talker_key(scene, early_only), -1))
    report(state, 0.0, "room: starting")
    runs = _run_jobs(scene, jobs, mode, DEFAULT_CACHE if cache is None else cache, state)

    lkeys = [key for kind, key, _ in jobs if kind == "listener"]
    parts = [runs.entries[k]["ir"] for k in lkeys]
    mic = runs.entries[jobs[-1][1]]["ir"] if talkers else None
    n = mode.n_taps or max([p.shape[-1] for p in parts] + ([mic.shape[-1]] if talkers else []),
                           default=2 * T0_SAMPLES)
    n_drivers = len(scene.device.drivers)
    ir = np.zeros((n_drivers, len(parts), 2, n))
    for i, p in enumerate(parts):
        ir[:, i] = _fit(p, n)
    ir_mic = _fit(np.array(mic, dtype=float), n) if talkers else None
    runs.timing["total"] = time.perf_counter() - t_start
    meta = {
        "engine": "room", "engine_version": ENGINE_VERSION, "fs": s.fs_hz, "c": s.c_m_s,
        "t0": T0_SAMPLES, "early_only": bool(early_only), "ism_order": mode.order,
        "ray_tracing": mode.ray_tracing, "n_rays": runs.n_rays, "n_taps": n,
        "rir_length_s": n / s.fs_hz, "hpf": False, "anechoic": scene.room.is_anechoic,
        "early_fade_s": EARLY_FADE_S if early_only else 0.0,
        "rt_time_limit_s": rt_time_limit_s(scene) if mode.ray_tracing else None,
        "ear_grid_points": EAR_GRID_POINTS, "driver_grid_points": DRIVER_GRID_POINTS,
        "ear_taps": scaled_taps(EAR_TAPS, s.fs_hz),
        "driver_taps": [scaled_taps(d.directivity.grid_taps, s.fs_hz)
                        if d.directivity.grid_taps else 0 for d in scene.device.drivers],
        "timing_s": runs.timing, "cache_hits": runs.hits, "cache_misses": runs.misses,
        "cache_keys": [key for _, key, _ in jobs],
        "listener_meta": [runs.entries[k]["meta"] for k in lkeys],
    }
    report(state, 1.0, "room: done")
    return TransferResult(ir=ir, fs_hz=s.fs_hz, t0_samples=T0_SAMPLES, engine="room",
                          meta=meta, ir_mic=ir_mic)
