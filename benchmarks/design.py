"""Redesign speed: design + azimuth-frequency map (360 × 513) + listening-zone map (50 × 40),
beside a straightforward per-frequency loop baseline in the same run.

    python benchmarks/design.py [--repeat N]

Cases: CTC on design-stereo-2 (2 drivers) and null steering on design-soundbar-8 (8 drivers),
1024 taps at 48 kHz, `redesign(..., with_cancellation=False)`. Rows:

- drag: a listener is dragged (a new position on every call), what the GUI sees while
  dragging; targets ≤ 20 ms (2 drivers), ≤ 60 ms (8 drivers);
- device: a driver is dragged (a new device on every call: its far-field circle and the
  design plant are rebuilt; the head and driver-pattern tables, which depend only on the
  head radius, the driver types and axes and the frequencies, are kept);
- slider: the scene stays, a design parameter (effort cap) moves: plants are reused;
- first: every cache cleared (the first redesign of a session, tables built).

Wall time best / median of N calls and best CPU time of the process (cpu: what a call costs
when it is not waiting for a core, i.e. the wall time on a quiet machine), with the load
average before and after: other jobs share the machine, so compare figures taken at similar
load. The `+canc` column adds the sweet-spot cancellation report (exact series at 1/3-octave
grids) that the GUI also shows.

Baseline: the same design done the textbook way, one frequency at a time (SVD, scalar
bisection of β for the effort cap and for the target, per-frequency filters), the azimuth map
one frequency at a time, and the zone map with the exact series per frequency.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import replace

import numpy as np

from dsp import analysis, design, fir, inverse, plant_table
from dsp.design import redesign
from dsp.fir import design_freqs, realize
from dsp.params import DesignParams
from dsp.plant import design_plant
from sim import freefield, head
from sim.freefield import ear_transfer_at, farfield_circle
from sim.scene_io import load_scene


def clear_caches() -> None:
    """Forget every cached table and plant (a fresh session)."""
    for cached in (analysis._circle, analysis._zone_heads, analysis._zone_plant,
                   plant_table._sphere_table, plant_table._pattern_table, inverse._inversion,
                   head._surface_weights_cached, freefield._circle_pattern, design._scene_hash):
        cached.cache_clear()
    fir._DFT_CACHE.clear()


def timed(fn, repeat: int, before=None) -> tuple[float, float, float]:
    """(best, median) wall time and best CPU time of this process, in ms, over `repeat` calls
    after one warm-up; `before` runs untimed ahead of each call. CPU time is what the call
    costs when it is not waiting for a core: the wall time on a quiet machine."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        if before is not None:
            before()
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return 1e3 * min(wall), 1e3 * statistics.median(wall), 1e3 * min(cpu)


def baseline(scene, params: DesignParams) -> None:
    """Per-frequency loops throughout."""
    fs = scene.simulation.fs_hz
    n_fft, f = design_freqs(params.n_taps, fs, params.oversample)
    plant = design_plant(scene, f)
    cap = 10 ** (params.max_effort_db / 20) / plant.g_ref
    target = 10 ** (params.target_curve.at(f) / 10)
    resp = np.zeros((f.size, plant.G.shape[2], 2), complex)
    for k in range(f.size):
        g = plant.G[k]
        u, s, vh = np.linalg.svd(g, full_matrices=False)

        def filt(b, u=u, s=s, vh=vh):
            return vh.conj().T @ np.diag(s / (s**2 + b)) @ u.conj().T

        def canc(b, g=g, filt=filt):
            m = g @ filt(b)
            return min(abs(m[0, 0]) ** 2 / abs(m[1, 0]) ** 2, abs(m[1, 1]) ** 2 / abs(m[0, 1]) ** 2)

        lo, hi = np.log(1e-14 * s[0] ** 2), np.log(1e6 * s[0] ** 2)
        for _ in range(40):
            m = 0.5 * (lo + hi)
            ok = np.max(np.linalg.norm(filt(np.exp(m)), axis=0)) <= cap[k]
            lo, hi = (lo, m) if ok else (m, hi)
        be = np.exp(hi)
        lo, hi = np.log(1e-14 * s[0] ** 2), np.log(max(0.2 * s[0] ** 2, be))
        for _ in range(40):
            m = 0.5 * (lo + hi)
            ok = canc(np.exp(m)) < target[k]
            lo, hi = (lo, m) if ok else (m, hi)
        resp[k] = filt(max(be, np.exp(hi))) * np.exp(-2j * np.pi * f[k] * params.delay / fs)
    taps, _ = realize(np.transpose(resp, (2, 1, 0)), n_fft, params.n_taps)
    fm = np.fft.rfftfreq(1024, 1 / fs)
    az = np.arange(-180.0, 180.0)
    cf = np.fft.rfft(taps, 1024, axis=-1)
    for k in range(fm.size):  # azimuth map, one frequency at a time
        a = farfield_circle(scene.device, fm[k:k + 1], az)[0]  # (D, A)
        np.abs(cf[:, :, k] @ a)
    li = scene.listeners[0]
    xs, ys, z = analysis.zone_grid(scene)
    gx, gy = np.meshgrid(xs, ys)
    heads = np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, z)], axis=-1)
    d = np.linalg.norm(heads[:, None] - scene.device.driver_positions()[None], axis=-1)
    heads = heads[d.min(axis=1) > li.head_radius_m + 0.05]  # as the zone map masks them
    yaw = np.degrees(np.arctan2(-heads[:, 1], -heads[:, 0]))
    for fz in analysis.third_octave_centres(400, 8000):  # zone map, exact, per frequency
        h = ear_transfer_at(scene, np.array([fz]), heads, yaw, li)[0]  # (D, L, 2)
        c = np.exp(-2j * np.pi * fz * np.arange(params.n_taps) / fs) @ taps.transpose(0, 2, 1).T
        np.einsum("dle,di->lei", h, c)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    load_before = os.getloadavg()
    cases = [("CTC, stereo-speaker-2 (2 drivers)", "design-stereo-2", "ctc", 20.0),
             ("null steering, soundbar-8 (8 drivers)", "design-soundbar-8", "nullsteer", 60.0)]
    print(f"ms per redesign, wall best/median (cpu best) of {args.repeat} calls; load average"
          f" (1, 5, 15 min) before: {', '.join(f'{v:.2f}' for v in load_before)} on"
          f" {os.cpu_count()} CPUs")
    print(f"{'case':<38} {'drag':>17} {'+canc':>6} {'device':>17} {'slider':>17} {'first':>6}"
          f" {'target':>6} {'baseline':>9} {'speed-up':>8}")
    for name, preset, method, target in cases:
        scene = load_scene(preset)
        params = DesignParams(method=method)
        d0 = scene.device.drivers[0]

        def listener_moved(scene=scene):
            return scene.with_listener(0, position_m=(2.0, rng.uniform(-0.02, 0.02), 0.0))

        def drag(params=params, canc=False):
            return redesign(listener_moved(), params, with_cancellation=canc)

        def device(scene=scene, params=params, d0=d0):
            x, y, z = d0.position_m
            moved = replace(d0, position_m=(x, y + rng.uniform(-0.005, 0.005), z))
            return redesign(scene.with_device(drivers=(moved, *scene.device.drivers[1:])),
                            params, with_cancellation=False)

        def slider(scene=scene, params=params):
            cap = params.max_effort_db - rng.uniform(0.0, 2.0)
            return redesign(scene, replace(params, max_effort_db=cap), with_cancellation=False)

        def cell(t):
            return f"{t[0]:5.1f}/{t[1]:<5.1f}({t[2]:4.1f})"

        drag_t = timed(drag, args.repeat)
        canc_t = timed(lambda drag=drag: drag(canc=True), args.repeat)
        device_t = timed(device, args.repeat)
        slider_t = timed(slider, args.repeat)
        first_t = timed(drag, max(1, args.repeat // 5), before=clear_caches)
        base = timed(lambda scene=scene, params=params: baseline(scene, params), 1)[0]
        stages: dict = {}
        for _ in range(args.repeat):
            for k, v in drag().timing_ms.items():
                stages[k] = min(stages.get(k, np.inf), v)
        print(f"{name:<38} {cell(drag_t)} {canc_t[0]:6.1f} {cell(device_t)} {cell(slider_t)}"
              f" {first_t[0]:6.0f} {target:6.0f} {base:9.0f} {base / drag_t[0]:7.0f}x")
        print("    drag stages (best of each, wall ms): "
              + ", ".join(f"{k} {v:.1f}" for k, v in stages.items() if k != "cancellation"))
    print(f"load average after: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
