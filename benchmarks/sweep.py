"""Sweep throughput: the same sweep serially and on a LocalCluster, in one run.

    python benchmarks/sweep.py [--spec benchmarks/sweep_200.json] [--workers 2] [--repeat 3]

Default: the 200-case acceptance sweep (listener position 5 × 4 × head radius 2 draws × RT60
5 values, room_early engine, null-steering designed once at the default scene). Every run is a
fresh Python process (as `awb sweep` is: cold caches, nothing inherited from an earlier run),
serial and cluster alternately, `--repeat` times each. Per mode it prints the medians of: the
job's wall time (`workbench.jobs.sweep.run`, start-up included), its start-up (until the
executor is ready: for the cluster, Dask's scheduler and worker processes), cases/s with and
without the start-up, and the CPU seconds of the run's processes (the job's process, and its
worker processes). Then the speed-ups (with and without start-up), the largest metric
difference between the two modes' results (identical required, ≤ 1e-9 relative) and the load
average before and after (a shared machine's other work slows both modes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

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


def _cpu_s(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _run_one(spec: str, out: str, mode: str, workers: int) -> dict:
    """One sweep in this process (a child of `main`): its figures as a dict."""
    from workbench.jobs.sweep import SweepRequest, run

    t0, ready = time.perf_counter(), []
    kw = {"serial": True} if mode == "serial" else {"workers": workers}
    outcome = run(SweepRequest(spec=spec, out=out, notify=lambda m: ready.append(
        time.perf_counter() - t0) if m.startswith("running on") else None, **kw))
    return {"mode": outcome.mode, "n": outcome.n_computed, "failed": outcome.n_failed,
            "wall_s": outcome.seconds, "startup_s": ready[0],
            "cpu_job_s": _cpu_s(resource.RUSAGE_SELF),
            "cpu_workers_s": _cpu_s(resource.RUSAGE_CHILDREN)}


def _child(args, mode: str, out: Path) -> dict:
    """`_run_one` in a fresh Python process."""
    cmd = [sys.executable, __file__, "--one", mode, "--spec", args.spec, "--workers",
           str(args.workers), "--out", str(out)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _print_mode(runs: list[dict]) -> None:
    r = runs[0]
    walls = ", ".join(f"{x['wall_s']:.2f}" for x in runs)
    wall, start = median(x["wall_s"] for x in runs), median(x["startup_s"] for x in runs)
    print(f"  {r['mode']:26s} {r['n']:4d} cases: wall {wall:5.2f} s (start-up {start:4.2f} s),"
          f" {r['n'] / wall:5.2f} cases/s, {r['n'] / (wall - start):5.2f} without start-up;"
          f" CPU {median(x['cpu_job_s'] for x in runs):5.2f} s job +"
          f" {median(x['cpu_workers_s'] for x in runs):5.2f} s workers"
          f" (walls {walls})")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=str(HERE / "sweep_200.json"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--one", choices=("serial", "cluster"), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(_run_one(args.spec, args.out, args.one, args.workers)))
        return {}
    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {"serial": [], "cluster": []}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeat):
            for mode in ("serial", "cluster") if k % 2 == 0 else ("cluster", "serial"):
                runs[mode].append(_child(args, mode, Path(tmp) / f"{mode}{k}.parquet"))
        diff = _max_rel_diff(Path(tmp) / "serial0.parquet", Path(tmp) / "cluster0.parquet")
    load_after = os.getloadavg()
    s, c = runs["serial"], runs["cluster"]
    print(f"sweep {args.spec}: {s[0]['n']} cases ({s[0]['failed']} failed), {os.cpu_count()}"
          f" CPUs, medians of {args.repeat} runs each, load average {load_before[0]:.1f} before")
    _print_mode(s)
    _print_mode(c)
    wall = {m: median(x["wall_s"] for x in r) for m, r in runs.items()}
    net = {m: median(x["wall_s"] - x["startup_s"] for x in r) for m, r in runs.items()}
    speedup, net_speedup = wall["serial"] / wall["cluster"], net["serial"] / net["cluster"]
    print(f"  speed-up {speedup:.2f}x (without start-up: {net_speedup:.2f}x); metrics serial vs"
          f" cluster: max |diff| / max |value| = {diff:.1e}; load average after"
          f" {load_after[0]:.1f} (1, 5, 15 min: {', '.join(f'{v:.1f}' for v in load_after)})")
    return {"serial_cases_per_s": s[0]["n"] / wall["serial"],
            "cluster_cases_per_s": c[0]["n"] / wall["cluster"], "speedup": speedup,
            "net_speedup": net_speedup, "max_rel_diff": diff, "load_before": load_before,
            "load_after": load_after}


if __name__ == "__main__":
    main()
