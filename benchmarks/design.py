"""Redesign speed: design + azimuth-frequency map (360 × 513) + listening-zone map (50 × 40),
beside a straightforward per-frequency loop baseline in the same run.

    python benchmarks/design.py [--repeat N]

Cases: CTC on design-stereo-2 (2 drivers) and null steering on design-soundbar-8 (8 drivers),
1024 taps at 48 kHz. "cold" clears every cache (a driver was dragged: new device); "drag"
keeps the caches that do not depend on the listener (device far-field plant, sphere and
pattern tables), which is what the GUI sees while a listener is dragged. Targets: ≤ 20 ms
(2 drivers), ≤ 60 ms (8 drivers). Best of N.

Baseline: the same design done the textbook way, one frequency at a time (SVD, scalar
bisection of β for the effort cap and for the target, per-frequency filters), the azimuth map
one frequency at a time, and the zone map with the exact series per frequency.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from dsp import analysis, plant_table
from dsp.design import redesign
from dsp.fir import design_freqs, realize
from dsp.params import DesignParams
from dsp.plant import design_plant
from sim.freefield import ear_transfer_at, farfield_circle
from sim.scene_io import load_scene


def clear_caches() -> None:
    analysis._circle.cache_clear()
    plant_table._sphere_table.cache_clear()
    plant_table._pattern_table.cache_clear()


def best_ms(fn, repeat: int, cold: bool) -> float:
    fn()
    times = []
    for _ in range(repeat):
        if cold:
            clear_caches()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * min(times)


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
    fir, _ = realize(np.transpose(resp, (2, 1, 0)), n_fft, params.n_taps)
    fm = np.fft.rfftfreq(1024, 1 / fs)
    az = np.arange(-180.0, 180.0)
    cf = np.fft.rfft(fir, 1024, axis=-1)
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
        c = np.exp(-2j * np.pi * fz * np.arange(params.n_taps) / fs) @ fir.transpose(0, 2, 1).T
        np.einsum("dle,di->lei", h, c)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cases = [("CTC, stereo-speaker-2 (2 drivers)", "design-stereo-2", "ctc", 20.0),
             ("null steering, soundbar-8 (8 drivers)", "design-soundbar-8", "nullsteer", 60.0)]
    print(f"{'case':<40} {'drag ms':>8} {'cold ms':>8} {'target':>7} {'baseline ms':>12}"
          f" {'speed-up':>9}")
    for name, preset, method, target in cases:
        scene = load_scene(preset)
        params = DesignParams(method=method)

        def run(scene=scene, params=params):
            # a listener drag: a new position each call
            moved = scene.with_listener(0, position_m=(2.0, rng.uniform(-0.02, 0.02), 0.0))
            return redesign(moved, params, with_cancellation=False)

        drag = best_ms(run, args.repeat, cold=False)
        cold = best_ms(run, args.repeat, cold=True)
        base = best_ms(lambda scene=scene, params=params: baseline(scene, params), 1, cold=True)
        r = run()
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r.timing_ms.items())
        print(f"{name:<40} {drag:8.1f} {cold:8.1f} {target:7.0f} {base:12.1f}"
              f" {base / drag:8.0f}x")
        print(f"    stages (one drag call, ms): {stages}")


if __name__ == "__main__":
    main()
