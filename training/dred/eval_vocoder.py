"""Evaluate the DRED vocoders on the heldout speakers: PESQ-WB, STOI, LSD, warm-up, speed.

    python -m training.dred.eval_vocoder [--files N] [--json out.json]

Rows: the trained neural vocoder (`dsp.dred.vocoder.Vocoder`), the same synthesis with the
network switched off (analytic envelope + voicing prior only; what training adds), and the
classical LPC baseline (`dsp.dred.lpc_vocoder.lpc_vocode`). Each file is resynthesized from
``compute_features(x)`` of the whole file ("clean"), and from the same features with every
cepstral coefficient perturbed by N(0, 0.1^2) ("perturbed", a coarse quantization stand-in).
Warm-up: log-spectral distance of the first 5 frames of 0.3 s segments synthesized from a zero
state, next to the LSD of the same frames in whole-file synthesis. Alignment: per file, the
lag of the cross-correlation peak of the 20 ms amplitude envelopes of source and output (no
phase is transmitted, so a waveform cross-correlation has nothing to lock on; where the energy
lands is what must line up). Speed: real-time factor of
`synthesize`: CPU seconds (all threads) per second of audio, and wall time.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np
import scipy.signal
from pesq import pesq
from pystoi import stoi

from dsp.dred.features import (
    FRAME_SIZE,
    NB_BANDS,
    SAMPLE_RATE,
    WINDOW_SIZE,
    compute_features,
    frame_spectra,
)
from dsp.dred.lpc_vocoder import lpc_vocode
from dsp.dred.vocoder import (
    DEFAULT_WEIGHTS,
    Vocoder,
    check_features,
    render,
    subframe_priors,
)
from sim.outputs import write_text
from training.dred.data import load

PERTURB_STD = 0.1
WARMUP_FRAMES = 5
SEGMENT_FRAMES = 30
ALIGN_SEEDS = 2


def lsd_db(x: np.ndarray, y: np.ndarray, active_db: float = -50.0) -> np.ndarray:
    """Per-frame log-spectral distance (dB) ``(n_frames,)`` between 320-point power spectra
    of ``x`` and ``y`` (same length); NaN for frames of ``x`` quieter than ``active_db``
    (re full-scale power per bin, i.e. silence)."""
    px, py = frame_spectra(x), frame_spectra(y)
    lx, ly = 10 * np.log10(px + 1e-3), 10 * np.log10(py + 1e-3)
    d = np.sqrt(np.mean((lx - ly) ** 2, axis=1))
    level = 10 * np.log10(px.mean(axis=1) / 32768.0**2 * 640 + 1e-20)
    return np.where(level > active_db, d, np.nan)


def envelope_lag(x: np.ndarray, y: np.ndarray, max_lag: int = 200) -> float:
    """Lag (samples, ``y`` late => positive) of the peak of the cross-correlation of the 20 ms
    Hann-smoothed amplitude envelopes of ``x`` and ``y``, parabolically refined."""
    k = np.hanning(WINDOW_SIZE) / np.hanning(WINDOW_SIZE).sum()
    a, b = (np.sqrt(np.convolve(s.astype(np.float64) ** 2, k, "same")) for s in (x, y))
    c = scipy.signal.correlate(b - b.mean(), a - a.mean(), "full", method="fft")
    c = c[a.size - 1 - max_lag:a.size + max_lag]
    i = int(np.argmax(c))
    return i - max_lag + 0.5 * (c[i - 1] - c[i + 1]) / (c[i - 1] - 2 * c[i] + c[i + 1])


def analytic(features: np.ndarray, seed: int = 0) -> np.ndarray:
    """The neural vocoder's synthesis with zero learned corrections (prior only)."""
    f = check_features(features)
    return np.clip(render(f, *subframe_priors(f), seed), -1, 1).astype(np.float32)


def evaluate(n_files: int | None) -> dict:
    d = load("heldout")
    off = d["offsets"]
    voc = Vocoder.load()
    systems: dict[str, Callable[..., np.ndarray]] = {
        "neural": voc.synthesize, "analytic prior (no network)": analytic,
        "lpc baseline": lpc_vocode}
    rng = np.random.default_rng(7)
    keys = range(len(off) - 1) if n_files is None else range(min(n_files, len(off) - 1))
    scores = {(s, c): [] for s in systems for c in ("clean", "perturbed")}
    warm = {s: ([], []) for s in systems}
    lags: dict[str, list[float]] = {s: [] for s in systems}
    for k in keys:
        x = d["audio"][off[k]:off[k + 1]].astype(np.float64)
        clean = compute_features(x)
        pert = clean.copy()
        pert[:, :NB_BANDS] += PERTURB_STD * rng.standard_normal((clean.shape[0], NB_BANDS))
        for name, fn in systems.items():
            for cond, f in (("clean", clean), ("perturbed", pert)):
                y = fn(f)
                scores[name, cond].append((pesq(SAMPLE_RATE, x, y, "wb"), stoi(x, y, SAMPLE_RATE),
                                           np.nanmean(lsd_db(x, y))))
            whole = lsd_db(x, fn(clean))
            lags[name].append(np.mean([envelope_lag(x, fn(clean, seed))
                                       for seed in range(ALIGN_SEEDS)]))
            for s0 in range(0, clean.shape[0] - SEGMENT_FRAMES, 4 * SEGMENT_FRAMES):
                seg = slice(s0 * FRAME_SIZE, (s0 + SEGMENT_FRAMES) * FRAME_SIZE)
                part = lsd_db(x[seg], fn(clean[s0:s0 + SEGMENT_FRAMES]))[:WARMUP_FRAMES]
                warm[name][0].extend(part)
                warm[name][1].extend(whole[s0:s0 + WARMUP_FRAMES])
        print(f"file {k}: " + ", ".join(f"{n} {scores[n, 'clean'][-1][0]:.2f}" for n in systems),
              flush=True)
    out = {"files": len(keys), "seconds": float(sum(off[k + 1] - off[k] for k in keys) / 16000)}
    for (name, cond), v in scores.items():
        a = np.array(v)
        out[f"{name} / {cond}"] = {"pesq_wb": float(a[:, 0].mean()), "stoi": float(a[:, 1].mean()),
                                   "lsd_db": float(a[:, 2].mean())}
    for name, (seg, whole) in warm.items():
        out[f"{name} / warm-up LSD first {WARMUP_FRAMES} frames"] = {
            "from zero state": float(np.nanmean(seg)),
            "in whole-file run": float(np.nanmean(whole))}
    for name, v in lags.items():
        out[f"{name} / alignment lag (samples, mean +- s.e. over files)"] = (
            f"{np.mean(v):+.1f} +- {np.std(v) / np.sqrt(len(v)):.1f} (n={len(v)})")
    x = d["audio"][off[0]:off[0] + 10 * SAMPLE_RATE].astype(np.float64)
    f = compute_features(x)
    for name, fn in systems.items():
        fn(f[:50])
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(3):
            fn(f)
        # CPU time is the one-core cost even when other jobs share the cores; wall time too
        out[f"{name} / rtf"] = {"cpu": (time.process_time() - c0) / 3 / (x.size / SAMPLE_RATE),
                                "wall": (time.perf_counter() - t0) / 3 / (x.size / SAMPLE_RATE)}
    with np.load(DEFAULT_WEIGHTS) as z:
        n_params = int(sum(z[k].size for k in z.files if k not in ("meta", "in_mean", "in_std")))
    out["neural / parameters"] = n_params
    out["neural / weight file bytes"] = DEFAULT_WEIGHTS.stat().st_size
    out["neural / training"] = {k: voc.meta.get(k) for k in ("steps", "train_minutes")}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=None, help="first N heldout files only")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = ap.parse_args()
    res = evaluate(args.files)
    print(f"\nheldout: {res['files']} files, {res['seconds']:.0f} s")
    print(f"{'system / condition':44s} {'PESQ-WB':>8s} {'STOI':>6s} {'LSD dB':>7s}")
    for k, v in res.items():
        if isinstance(v, dict) and "pesq_wb" in v:
            print(f"{k:44s} {v['pesq_wb']:8.3f} {v['stoi']:6.3f} {v['lsd_db']:7.2f}")
    for k, v in res.items():
        if not (isinstance(v, dict) and "pesq_wb" in v) and k not in ("files", "seconds"):
            print(f"{k}: {v}")
    if args.json:
        write_text(args.json, json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
