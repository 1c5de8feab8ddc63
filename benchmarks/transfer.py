"""Transfer engine speed, each figure beside a straightforward baseline run in the same process.

    python benchmarks/transfer.py [--quick]

Free field: 8 drivers × 2 ears × 513 frequencies (one listener), and 8 drivers × 360 azimuths
× 513 frequencies (far-field circle); targets ≤ 10 ms each. The sphere series keeps its
frequency-only factor per frequency grid (a grid repeats from call to call in use): a second
row times the first call on a new grid. The circle is timed from scratch (its cache of driver
patterns cleared before every call) and, on a second row, as after a driver drag (same driver
types and axes: patterns reused, phases recomputed). Baselines: the textbook per-frequency
Duda–Martens series with scipy's spherical Bessel functions, and a per-azimuth loop. Room: the
default scene, full (hybrid ISM + ray tracing) and early-only, beside a plain
pyroomacoustics call with omni sources and microphones at the same places, and a cache hit.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.special import eval_legendre, j1, spherical_jn, spherical_yn

from sim import freefield, head
from sim.freefield import ear_transfer, farfield_circle
from sim.head import ear_incidence
from sim.scene_io import load_scene

FS = 48000


def best_ms(fn, repeat: int, before=None) -> float:
    """Best wall time of `repeat` calls in ms (after one warm-up call); `before` runs untimed
    ahead of each call."""
    fn()
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * min(times)


def baseline_ear_transfer(scene, f):
    """Per-frequency, per-driver textbook loop (far-field series as in spatial.md D1)."""
    li = scene.listeners[0]
    a, c = li.head_radius_m, scene.simulation.c_m_s
    pos = scene.device.driver_positions()
    inc, dist = ear_incidence(li.position_m, li.yaw_deg, pos, li.ear_angles_deg)
    out = np.zeros((f.size, len(pos), 2), complex)
    for i, fi in enumerate(f):
        mu = max(2 * np.pi * fi * a / c, 1e-9)
        for d in range(len(pos)):
            s = 0j
            for m in range(int(mu) + 40):
                dh = spherical_jn(m, mu, True) + 1j * spherical_yn(m, mu, True)
                with np.errstate(all="ignore"):  # overflowed high orders become 0
                    s = s + np.nan_to_num((-1j) ** (m - 1) * (2 * m + 1) / dh
                                          * eval_legendre(m, np.cos(inc[d])))
            out[i, d] = np.conj(s / mu**2) * np.exp(-2j * np.pi * fi * dist[d] / c) / dist[d]
    return out


def baseline_circle(device, f, az_deg, c=343.0):
    """Per-azimuth loop: piston pattern and plane-wave phase of every driver."""
    offsets = device.driver_positions() - np.asarray(device.position_m)
    axes = device.driver_axes()
    radii = np.array([d.directivity.radius_m for d in device.drivers])
    out = np.zeros((f.size, len(offsets), az_deg.size), complex)
    for j, az in enumerate(np.deg2rad(az_deg + device.yaw_deg)):
        u = np.array([np.cos(az), np.sin(az), 0.0])
        theta = np.arccos(np.clip(axes @ u, -1, 1))
        x = 2 * np.pi * f[:, None] * radii * np.sin(theta) / c
        with np.errstate(invalid="ignore", divide="ignore"):
            pattern = np.where(x == 0, 1.0, 2 * j1(x) / x)
        out[:, :, j] = pattern * np.exp(2j * np.pi * f[:, None] * (offsets @ u) / c)
    return out


def freefield_rows(repeat: int) -> list[tuple[str, float, float]]:
    scene = load_scene("design-soundbar-8")
    f = np.fft.rfftfreq(1024, 1 / FS)  # 513 bins
    az = np.arange(360.0)
    fast_ear = best_ms(lambda: ear_transfer(scene, f), repeat)
    new_grid_ear = best_ms(lambda: ear_transfer(scene, f), repeat,
                           before=head._surface_weights_cached.cache_clear)
    base_ear = best_ms(lambda: baseline_ear_transfer(scene, f), 1)
    fast_circle = best_ms(lambda: farfield_circle(scene.device, f, az), repeat,
                          before=freefield._circle_pattern.cache_clear)
    warm_circle = best_ms(lambda: farfield_circle(scene.device, f, az), repeat)
    base_circle = best_ms(lambda: baseline_circle(scene.device, f, az), max(1, repeat // 4))
    return [
        ("free field, 8 drivers × 2 ears × 513 f (finite-range sphere)", fast_ear, base_ear),
        ("  the same, first call on a new frequency grid", new_grid_ear, base_ear),
        ("free field, 8 drivers × 360 az × 513 f (piston, far field)", fast_circle, base_circle),
        ("  the same after a driver drag (patterns reused)", warm_circle, base_circle),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no room engine")
    args = parser.parse_args()
    rows = freefield_rows(3 if args.quick else 20)
    print(f"{'case':<64} {'ours ms':>9} {'baseline ms':>12} {'speed-up':>9}")
    for name, ours, base in rows:
        b = f"{base:12.1f}" if base is not None else f"{'-':>12}"
        s = f"{base / ours:8.1f}x" if base is not None else f"{'-':>9}"
        print(f"{name:<64} {ours:9.2f} {b} {s}")
    print("baselines: textbook per-frequency sphere series; per-azimuth loop\n")
    if not args.quick:
        import room_bench  # the room half, also runnable alone

        room_bench.main(["--repeat", "3"])


if __name__ == "__main__":
    main()
