"""Voice-chain speed on one core: the whole chain and each stage's own real-time factor.

    python benchmarks/chain.py [--seconds 20] [--repeat 3] [--engine room] [--scene default]

The chain is `dsp.chain.ChainGraph` as `awb chain` and the live runner drive it: room microphone
simulation (partitioned convolution of talker and noise), PercepNet, Opus + LBRR + DRED encoding,
the network (20 % Gilbert-Elliott loss, mean burst 8), the receiver (regular / LBRR / DRED /
neural PLC decoding) and the playback convolution to the listener's ears. Single-threaded BLAS,
best of ``--repeat`` runs; RTF = processing time / audio time: each stage's CPU time, the whole
chain's CPU time (its thread) and wall clock (what a loaded machine adds). Target: whole chain
(CPU) <= 0.5.

Audio: held-out speech from ../shared/data (cmu_arctic), or `dsp.signals.speech_like` when the
shared data is absent; noise: pink.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from dsp.chain import BLOCK, FS_HZ, ChainContext, ChainGraph, ChainSettings, Voice, scene_responses
from dsp.signals import pink_noise, speech_like
from sim.scene_io import load_scene

SHARED = Path(os.environ.get("AWB_SHARED_DATA",
                             Path(__file__).resolve().parents[1].parent / "shared" / "data"))
TARGET_RTF = 0.5


def talker(seconds: float) -> tuple[np.ndarray, str]:
    """``seconds`` of speech at 16 kHz and where it came from."""
    files = sorted((SHARED / "speech" / "cmu_arctic").glob("*.wav"))
    if not files:
        return 0.3 * speech_like(FS_HZ, seconds, seed=1), "speech_like (no shared data)"
    from dsp.audio_io import read_audio

    parts, n = [], 0
    for f in files:
        parts.append(read_audio(f, fs_hz=FS_HZ, channels=1)[0][:, 0])
        n += parts[-1].size
        if n >= seconds * FS_HZ:
            break
    return np.concatenate(parts)[:round(seconds * FS_HZ)], f"cmu_arctic ({len(parts)} files)"


def run_once(ctx: ChainContext, settings: ChainSettings, n_blocks: int) -> tuple[dict, float]:
    """The graph's snapshot stage RTFs (CPU) and wall RTF, and the whole chain's CPU RTF."""
    ctx.voice.pos = 0
    graph = ChainGraph(ctx, settings, history_s=1.0)
    t0 = time.thread_time()
    for _ in range(n_blocks):
        graph.step()
    cpu = (time.thread_time() - t0) / (n_blocks * BLOCK / FS_HZ)
    snap = graph.snapshot()
    return snap.stage_rtf | {"whole chain (wall)": snap.real_time_factor}, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--engine", default="room", choices=("room", "freefield"))
    ap.add_argument("--scene", default="default")
    args = ap.parse_args()
    x, source = talker(args.seconds)
    scene = load_scene(args.scene)
    responses = scene_responses(scene, args.engine)
    ctx = ChainContext(responses, Voice(x, pink_noise(x.size, seed=2)))
    settings = ChainSettings(snr_db=5.0, loss="ge:0.2,8")
    n_blocks = x.size // BLOCK
    run_once(ctx, settings, 50)  # warm-up: first calls into BLAS and the models
    runs = [run_once(ctx, settings, n_blocks) for _ in range(args.repeat)]
    best = {k: min(r[0][k] for r in runs) for k in runs[0][0]}
    cpu = min(r[1] for r in runs)
    print(f"voice chain speed, one core, {n_blocks * BLOCK / FS_HZ:.1f} s of {source}, scene "
          f"{args.scene} ({args.engine}, responses {responses.talker.size / FS_HZ:.2f} s), "
          f"best of {args.repeat}")
    print(f"{'stage':<24} {'RTF':>8}")
    for name, rtf in best.items():
        print(f"{name:<24} {rtf:8.4f}")
    print(f"{'whole chain (CPU)':<24} {cpu:8.4f}  target <= {TARGET_RTF}: "
          f"{'met' if cpu <= TARGET_RTF else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
