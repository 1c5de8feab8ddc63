"""Streaming render speed: real-time factor (RTF = compute time / audio time) of the uniformly
partitioned convolver for 48 kHz stereo → 8 driver feeds with 2048-tap filters, block 256, on
one core, beside `scipy.signal.oaconvolve` run per block (overlap-add of each block's full
convolution) in the same run. Target: RTF ≤ 0.01.

    python benchmarks/render.py [--seconds 10] [--repeat 5]

The filters are a real design: the stereo virtualizer for `design-soundbar-8` (2 inputs × 8
drivers × 2048 taps). The process is pinned to one CPU and BLAS/FFT threads are set to 1
before numpy loads. Other jobs share the machine, so each figure is the best of N runs (wall
time), with the CPU time of the process and the load average before and after; compare
figures taken at similar load. Also shown: other block sizes, per-block worst case against the
block's duration, and the whole renderer (upmix + 3 → 8 network) at block 256.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy.signal import oaconvolve  # noqa: E402

from dsp.convolver import PartitionedConvolver, convolve_offline  # noqa: E402

FS = 48000


def pin_one_core() -> str:
    """Pin this process to one CPU (the last one); returns a description."""
    try:
        cpu = max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity)"


def upols(x: np.ndarray, fir: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Stream x through a PartitionedConvolver; (output, per-block seconds)."""
    conv = PartitionedConvolver(fir, block)
    n = len(x) // block
    out = np.empty((n * block, fir.shape[1]))
    times = np.empty(n)
    clock = time.perf_counter
    for k in range(n):
        t0 = clock()
        out[k * block:(k + 1) * block] = conv.process(x[k * block:(k + 1) * block])
        times[k] = clock() - t0
    return out, times


def oaconvolve_per_block(x: np.ndarray, fir: np.ndarray, block: int) -> np.ndarray:
    """Baseline: each block's full MIMO convolution by scipy.signal.oaconvolve, overlap-added
    into the output (what a block-wise renderer without partitioning does)."""
    n = len(x) // block
    taps = fir.shape[-1]
    acc = np.zeros((n * block + taps - 1, fir.shape[1]))
    for k in range(n):
        xb = x[k * block:(k + 1) * block].T[:, None, :]            # (I, 1, B)
        yb = oaconvolve(xb, fir, axes=-1).sum(axis=0)               # (O, B + taps − 1)
        acc[k * block:k * block + block + taps - 1] += yb.T
    return acc[:n * block]


def best_of(fn, repeat: int) -> tuple[float, float, object]:
    """(best wall s, best CPU s, last result) over `repeat` calls after one warm-up."""
    fn()
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from dsp.design import design
    from dsp.params import DesignParams
    from dsp.renderer import build_network, stream_drivers
    from dsp.signals import music_like, speech_like
    from sim.scene_io import load_scene

    pinned = pin_one_core()
    load0 = os.getloadavg()
    scene = load_scene("design-soundbar-8")
    fir = design(scene, DesignParams(method="virtualizer", n_taps=2048)).filters.fir
    s = speech_like(FS, args.seconds, seed=1)
    x = 0.1 * np.stack([s + music_like(FS, args.seconds, seed=2),
                        s + music_like(FS, args.seconds, seed=3)], 1)
    dur = len(x) / FS
    print(f"filters {fir.shape} (inputs, drivers, taps) at {FS} Hz; {dur:.1f} s stereo; {pinned};"
          f" best of {args.repeat}; load {load0[0]:.2f}")

    block = 256
    wall, cpu, (y, per_block) = best_of(lambda: upols(x, fir, block), args.repeat)
    ref = convolve_offline(x, fir)[:len(y)]
    err = float(np.max(np.abs(y - ref)))
    base_wall, base_cpu, yb = best_of(lambda: oaconvolve_per_block(x, fir, block),
                                      max(1, args.repeat // 2))
    err_b = float(np.max(np.abs(yb - ref[:len(yb)])))
    print(f"\nblock {block}: RTF (wall best / CPU best)")
    print(f"  partitioned (UPOLS)          {wall / dur:.5f} / {cpu / dur:.5f}   target ≤ 0.01"
          f"   max |y − direct| = {err:.1e}")
    print(f"  oaconvolve per block (scipy) {base_wall / dur:.5f} / {base_cpu / dur:.5f}"
          f"   max |y − direct| = {err_b:.1e}")
    print(f"  speed-up ×{base_wall / wall:.1f}; per block: median {1e6 * np.median(per_block):.0f}"
          f" µs, 99.9 % {1e6 * np.quantile(per_block, 0.999):.0f} µs, worst"
          f" {1e6 * per_block.max():.0f} µs of {1e6 * block / FS:.0f} µs")

    print("\nother blocks (partitioned, wall best / CPU best RTF):")
    for b in (64, 128, 512, 1024):
        w, c, _ = best_of(lambda b=b: upols(x, fir, b), max(1, args.repeat // 2))
        print(f"  block {b:4d}: {w / dur:.5f} / {c / dur:.5f}")

    net = build_network(scene)
    w, c, _ = best_of(lambda: stream_drivers(x, net, block), max(1, args.repeat // 2))
    print(f"\nwhole renderer (upmix + network {net.filters.fir.shape}), block {block}:"
          f" RTF {w / dur:.5f} wall / {c / dur:.5f} CPU")
    load1 = os.getloadavg()
    print(f"\nload average before {load0[0]:.2f}, after {load1[0]:.2f} (CPUs: {os.cpu_count()})")


if __name__ == "__main__":
    main()
