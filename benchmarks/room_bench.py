"""Room engine timings for a scene (default: the `default` preset).

Compares `sim.room.room_result` in its modes with plain pyroomacoustics calls on the same
geometry, and with a cache hit:

    python benchmarks/room_bench.py [--scene default] [--repeat 3]

Rows: full (hybrid ISM order 3 + ray tracing, measured ear and driver directivities), early
only (ISM order 3, 50 ms) with a cold and a warm directivity cache, early only after moving
the listener 10 cm (its ear directivities are rebuilt, the others reused), a cache hit, and
two plain pyroomacoustics baselines: ShoeBox from inverse_sabine (single-band absorption, the
Sabine image-source order, omni sources at the driver positions, 2 omni mics at the ears,
``compute_rir``) and the same room as hybrid (order 3 + ray tracing). Median of `--repeat` runs.

Last, the ratio the room engine is held to: a full run (hybrid, cold result cache; with warm and
with cold directivities) over the plain hybrid call, the two run alternately in the same
process `--repeat` times (the median of the per-pair ratios; on a loaded machine only ratios
measured side by side mean anything). Target: ≤ 0.5.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _median_time(fn, repeat: int, setup=None) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        if setup is not None:
            setup()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def plain_pyroomacoustics(scene, hybrid: bool) -> list:
    """Omni sources at the drivers, omni mics at the ears of the first listener."""
    import pyroomacoustics as pra

    from sim.head import ear_directions

    c, fs = scene.simulation.c_m_s, scene.simulation.fs_hz
    dims = list(scene.room.dimensions_m)
    e_abs, order = pra.inverse_sabine(scene.room.walls.rt60_s, dims, c=c)
    room = pra.ShoeBox(dims, fs=fs, materials=pra.Material(e_abs),
                       max_order=3 if hybrid else order,
                       air_absorption=scene.room.air_absorption, ray_tracing=hybrid)
    room.set_sound_speed(c)
    for p in scene.device.driver_positions():
        room.add_source(p)
    li = scene.listeners[0]
    ears = np.asarray(li.position_m) + li.head_radius_m * ear_directions(li.yaw_deg,
                                                                         li.ear_angles_deg)
    room.add_microphone_array(ears.T)
    room.compute_rir()
    return room.rir


def main(argv: list[str] | None = None) -> list[tuple[str, float, str]]:
    from sim import room as R
    from sim.room import grids
    from sim.scene_io import load_scene

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scene", default="default")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    scene = load_scene(args.scene)
    if scene.room.kind != "shoebox" or scene.room.walls.rt60_s is None:
        raise SystemExit("the plain pyroomacoustics baseline needs a shoebox with an rt60")
    R.room_result(scene, early_only=True, cache=R.RirCache())  # imports, pra start-up

    def cold():
        grids._DIRECTIVITY_CACHE.clear()
        grids._GRID_CACHE.clear()

    rows = []

    def row(name, seconds, result=None, note=""):
        if result is not None and hasattr(result, "ir"):
            note = note or f"{result.ir.shape[-1] / result.fs_hz:.2f} s IRs, {result.ir.shape}"
        rows.append((name, seconds, note))

    t, res = _median_time(lambda: R.room_result(scene, cache=R.RirCache()), args.repeat)
    stages = ", ".join(f"{k} {v:.2f}" for k, v in res.meta["timing_s"].items() if k != "total")
    row("full (hybrid, measured directivities)", t, res)
    rows.append(("  stages (s)", float("nan"), stages))
    t, res = _median_time(lambda: R.room_result(scene, early_only=True, cache=R.RirCache()),
                          args.repeat, setup=cold)
    row("early only, cold directivities", t, res)
    t, res = _median_time(lambda: R.room_result(scene, early_only=True, cache=R.RirCache()),
                          args.repeat)
    row("early only, warm directivities", t, res)
    li = scene.listeners[0]
    moved = [scene.with_listener(0, position_m=(li.position_m[0] + 0.1 * (k + 1),
                                                *li.position_m[1:]))
             for k in range(args.repeat)]
    it = iter(moved)
    t, res = _median_time(lambda: R.room_result(next(it), early_only=True, cache=R.RirCache()),
                          args.repeat)
    row("early only, listener moved 10 cm", t, res)
    cache = R.RirCache()
    R.room_result(scene, cache=cache)
    t, res = _median_time(lambda: R.room_result(scene, cache=cache), args.repeat)
    row("cache hit (full)", t, res, f"hits {res.meta['cache_hits']}")
    t, rir = _median_time(lambda: plain_pyroomacoustics(scene, hybrid=False), args.repeat)
    row("plain pra: ShoeBox(inverse_sabine), omni", t,
        note=f"{max(len(h) for m in rir for h in m) / scene.simulation.fs_hz:.2f} s RIRs")
    t, rir = _median_time(lambda: plain_pyroomacoustics(scene, hybrid=True), args.repeat)
    row("plain pra: hybrid order 3 + RT, omni", t,
        note=f"{max(len(h) for m in rir for h in m) / scene.simulation.fs_hz:.2f} s RIRs")

    ratios = full_vs_plain(scene, args.repeat)
    print(f"room engine, scene {args.scene!r} ({len(scene.device.drivers)} drivers, "
          f"{len(scene.listeners)} listener(s)), median of {args.repeat}")
    print(f"{'configuration':42s} {'time (s)':>9s}  notes")
    for name, seconds, note in rows:
        shown = "" if np.isnan(seconds) else f"{seconds:9.3f}"
        print(f"{name:42s} {shown:>9s}  {note}")
    for name, (ours, plain, ratio) in ratios.items():
        print(f"full run / plain hybrid ({name}): {ours:.3f} s / {plain:.3f} s = {ratio:.2f}"
              " (target ≤ 0.5)")
    return rows


def full_vs_plain(scene, repeat: int) -> dict[str, tuple[float, float, float]]:
    """Full room runs against the plain pyroomacoustics hybrid call, alternated: per
    directivity state ("warm", "cold"), the medians (ours s, plain s, ratio)."""
    from sim import room as R
    from sim.room import grids

    out = {}
    def cold():
        grids._DIRECTIVITY_CACHE.clear()
        grids._GRID_CACHE.clear()

    for name, setup in (("warm directivities", lambda: None), ("cold directivities", cold)):
        ours, plain = [], []
        for _ in range(repeat):
            plain.append(_median_time(lambda: plain_pyroomacoustics(scene, hybrid=True), 1)[0])
            ours.append(_median_time(lambda: R.room_result(scene, cache=R.RirCache()), 1,
                                     setup=setup)[0])
        ratio = statistics.median(o / p for o, p in zip(ours, plain, strict=True))
        out[name] = (statistics.median(ours), statistics.median(plain), ratio)
    return out


if __name__ == "__main__":
    main()
