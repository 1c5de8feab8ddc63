"""Sweep throughput: the same sweep serially and on a LocalCluster, in one run.

    python benchmarks/sweep.py [--spec benchmarks/sweep_200.json] [--workers 2]

Default: the 200-case acceptance sweep (listener position 5 × 4 × head radius 2 draws × RT60
5 values, room_early engine, null-steering designed once at the default scene). Prints cases/s
serially (in this process, first, so its caches start cold) and on a LocalCluster of
`--workers` processes (fresh, cold; cluster start-up included), the same after the first 10
cases (the rate once the workers run: Dask's start-up, ~4 s of worker processes importing
numpy, scipy and pyroomacoustics, is a fixed cost), the speed-ups, the largest metric
difference between the two runs (identical required, ≤ 1e-9 relative) and the load average
before and after (a shared machine's other work slows both runs).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _max_rel_diff(a_folder: Path, b_folder: Path) -> float:
    from dsp.sweep.results import read_results

    a, info = read_results(a_folder)
    b, _ = read_results(b_folder)
    keys = ["case", "listener", "band_hz"]
    a = a.sort_values(keys).reset_index(drop=True)
    b = b.sort_values(keys).reset_index(drop=True)
    worst = 0.0
    for m in info["metrics"]:
        x, y = a[m].to_numpy(float), b[m].to_numpy(float)
        if not np.array_equal(np.isnan(x), np.isnan(y)):
            return float("inf")
        scale = np.nanmax(np.abs(y)) or 1.0
        worst = max(worst, float(np.nanmax(np.abs(x - y), initial=0.0)) / scale)
    return worst


def main(argv: list[str] | None = None) -> dict:
    from sim.task import TaskState
    from workbench.jobs.sweep import SweepRequest, run

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=str(HERE / "sweep_200.json"))
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    load_before = os.getloadavg()
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, kw in (("serial", {"serial": True}), ("cluster", {"workers": args.workers})):
            t0, marks = time.perf_counter(), []
            state = TaskState(lambda f, m, marks=marks, t0=t0: marks.append(
                time.perf_counter() - t0))
            outcome = run(SweepRequest(spec=args.spec, out=Path(tmp) / f"{name}.parquet", **kw),
                          state)
            steady = (len(marks) - 10) / (marks[-1] - marks[9]) if len(marks) > 20 else 0.0
            runs[name] = (outcome, steady, marks[0] if marks else 0.0)
        diff = _max_rel_diff(Path(tmp) / "serial.parquet", Path(tmp) / "cluster.parquet")
    load_after = os.getloadavg()
    serial, cluster = runs["serial"][0], runs["cluster"][0]
    print(f"sweep {args.spec}: {serial.n_cases} cases ({serial.n_failed} failed), "
          f"{os.cpu_count()} CPUs, load average {load_before[0]:.1f} before")
    for o, steady, first in runs.values():
        print(f"  {o.mode:26s} {o.n_computed:5d} cases in {o.seconds:6.1f} s: {o.cases_per_s:6.2f}"
              f" cases/s (first case after {first:.1f} s; after the 10th: {steady:6.2f} cases/s)")
    speedup = cluster.cases_per_s / serial.cases_per_s
    steady_speedup = runs["cluster"][1] / runs["serial"][1] if runs["serial"][1] else 0.0
    print(f"  speed-up {speedup:.2f}x (after start-up: {steady_speedup:.2f}x); metrics serial vs"
          f" cluster: max |diff| / max |value| = {diff:.1e}; load average after"
          f" {load_after[0]:.1f} (1, 5, 15 min: {', '.join(f'{v:.1f}' for v in load_after)})")
    return {"serial_cases_per_s": serial.cases_per_s, "cluster_cases_per_s": cluster.cases_per_s,
            "speedup": speedup, "steady_speedup": steady_speedup, "max_rel_diff": diff,
            "load_before": load_before, "load_after": load_after}


if __name__ == "__main__":
    main()
