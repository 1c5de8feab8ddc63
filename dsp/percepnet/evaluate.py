"""Noise-suppression evaluation harness: noisy, oracle ladder, model (float16/int8), RNNoise.

Mixtures: `max_files` clean speech files (spread over the sorted list, so several speakers), each
normalised to −26 dBFS RMS and mixed with one noise recording (cycling through the noise folder;
a random excerpt from the last `noise_tail` fraction of the file, mono) at every SNR. Everything
is scored at 16 kHz against the clean signal with PESQ-WB, STOI and SI-SDR. The postfilter runs
at `postfilter_strength`; when that is not 1, the paper's full warping (strength 1) is scored
beside it (``oracle:band+comb+pf(s=1)``, ``model-pf(s=1)``) so the report shows both.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from dsp.percepnet.audio_io import load_mono, mix_at_snr
from dsp.percepnet.enhance import process
from dsp.percepnet.features import analyze_frames
from dsp.percepnet.metrics import score_all
from dsp.percepnet.model import WEIGHT_FILES, load_model
from dsp.percepnet.oracle import RUNGS, apply_gains, oracle_ladder, oracle_targets
from dsp.percepnet.postfilter import STRENGTH
from sim.task import TaskState, check, report

FS = 16000
AUDIO = (".wav", ".flac")


@dataclass
class EvalSettings:
    snrs_db: tuple[float, ...] = (0.0, 5.0, 10.0, 15.0)
    max_files: int = 10
    noise_tail: float = 0.25
    seed: int = 0
    rnnoise: bool = False
    int8: bool = True
    max_seconds: float = 12.0
    postfilter_strength: float = STRENGTH
    weights_dir: str | None = None  # folder with percepnet16k_{f16,int8}.npz; None = shipped


def _audio(d: Path) -> list[Path]:
    return sorted(p for p in d.rglob("*") if p.suffix.lower() in AUDIO)


def _load(path: Path) -> np.ndarray:
    """Mono 16 kHz samples of an evaluation file; ValueError naming the file if unusable."""
    try:
        x, _ = load_mono(path, FS)
    except Exception as e:  # libsndfile raises several types
        raise ValueError(f"{path}: cannot read audio ({e})") from None
    if len(x) < FS // 2 or not np.all(np.isfinite(x)) or not np.any(x):
        raise ValueError(f"{path}: empty, silent, shorter than 0.5 s or not finite")
    return x


def rnnoise_denoise(x: np.ndarray, fs_hz: int) -> np.ndarray:
    """RNNoise (pyrnnoise's bundled library, 48 kHz) on x, resampled there and back, delay removed.

    The 480-sample frames add a fixed 10 ms delay and RNNoise 0.2's look-ahead another 10 ms;
    the delay is measured per call by cross-correlation with the input and removed.
    """
    import ctypes

    import soxr
    from pyrnnoise import rnnoise as rn

    y48 = soxr.resample(x, fs_hz, 48000).astype(np.float32) * 32768.0
    n = len(y48)
    frames = -(-n // rn.FRAME_SIZE) + 3
    buf = np.zeros(frames * rn.FRAME_SIZE, np.float32)
    buf[:n] = y48
    st = rn.create()
    try:
        for i in range(frames):
            f = np.ascontiguousarray(buf[i * rn.FRAME_SIZE:(i + 1) * rn.FRAME_SIZE])
            rn.lib.rnnoise_process_frame(st, f.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                         f.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
            buf[i * rn.FRAME_SIZE:(i + 1) * rn.FRAME_SIZE] = f
    finally:
        rn.destroy(st)
    out = soxr.resample(buf.astype(np.float64) / 32768.0, 48000, fs_hz)
    d = measure_delay(x, out, int(0.06 * fs_hz))
    return out[d:d + len(x)]


def measure_delay(reference: np.ndarray, delayed: np.ndarray, max_lag: int) -> int:
    """Lag in samples (0 … max_lag) maximising the cross-correlation of delayed with reference."""
    n = len(reference)
    nfft = 1 << int(np.ceil(np.log2(2 * (n + max_lag))))
    spec = np.fft.rfft(delayed[: n + max_lag], nfft) * np.conj(np.fft.rfft(reference, nfft))
    c = np.fft.irfft(spec, nfft)
    return int(np.argmax(c[: max_lag + 1]))


def _full_warp_rung(noisy: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """Oracle band+comb+pf with the paper's postfilter strength (1)."""
    fa = analyze_frames(noisy, FS)
    g, r = oracle_targets(fa, clean)
    return apply_gains(fa, g, r, len(noisy), use_postfilter=True, strength=1.0)


def _models(s: EvalSettings):
    """(float16 model, int8 model or None): the shipped ones or those in s.weights_dir."""
    kinds = ("float16", "int8") if s.int8 else ("float16",)
    if s.weights_dir is None:
        models = [load_model(k) for k in kinds]
    else:
        models = [load_model(Path(s.weights_dir) / WEIGHT_FILES[k]) for k in kinds]
    return models[0], (models[1] if s.int8 else None)


def evaluate(speech_dir: Path, noise_dir: Path, settings: EvalSettings | None = None,
             state: TaskState | None = None) -> dict:
    """Scores per system and SNR.

    Returns {'settings', 'items', 'systems': {name: {snr or 'mean': {metric: mean}}}}.
    state (:class:`sim.task.TaskState`): progress per speech file (the message names it and
    the time so far), cancellation between systems.
    """
    s = settings or EvalSettings()
    speech, noises = _audio(Path(speech_dir)), _audio(Path(noise_dir))
    if not speech:
        raise ValueError(f"no audio files under {speech_dir}")
    if not noises:
        raise ValueError(f"no audio files under {noise_dir}")
    pick = np.unique(np.linspace(0, len(speech) - 1, min(s.max_files, len(speech))).astype(int))
    rng = np.random.default_rng(s.seed)
    model, model8 = _models(s)
    pfs = s.postfilter_strength
    rows: dict[str, dict[float, list]] = {}
    items = []
    t0 = time.time()
    for i, fi in enumerate(pick):
        clean = _load(speech[fi])
        clean = clean[: int(s.max_seconds * FS)]
        clean = clean / (np.sqrt(np.mean(clean ** 2)) + 1e-12) * 10 ** (-26 / 20)
        nf = noises[i % len(noises)]
        noise = _load(nf)
        noise = noise[int(len(noise) * (1 - s.noise_tail)):]
        if len(noise) > len(clean):
            off = rng.integers(0, len(noise) - len(clean) + 1)
            noise = noise[off:off + len(clean)]
        items.append({"speech": speech[fi].name, "noise": nf.name})
        for snr in s.snrs_db:
            check(state)
            noisy = mix_at_snr(clean, noise, snr)
            outs = {"noisy": noisy}
            ladder = oracle_ladder(noisy, clean, FS, strength=pfs)
            outs.update({f"oracle:{k}": v for k, v in ladder.items()})
            if pfs != 1.0:
                outs["oracle:band+comb+pf(s=1)"] = _full_warp_rung(noisy, clean)
            outs["model"] = process(noisy, model, strength=pfs)[0]
            outs["model-no-pf"] = process(noisy, model, use_postfilter=False)[0]
            if pfs != 1.0:
                outs["model-pf(s=1)"] = process(noisy, model, strength=1.0)[0]
            outs["model-pf-gate"] = process(noisy, model, gate=True, strength=pfs)[0]
            outs["model-no-comb"] = process(noisy, model, use_comb=False, strength=pfs)[0]
            if model8 is not None:
                outs["model-int8"] = process(noisy, model8, strength=pfs)[0]
            if s.rnnoise:
                outs["rnnoise"] = rnnoise_denoise(noisy, FS)
            for name, y in outs.items():
                check(state)
                rows.setdefault(name, {}).setdefault(snr, []).append(score_all(clean, y, FS))
        report(state, (i + 1) / len(pick), f"{i + 1}/{len(pick)} {speech[fi].name} + {nf.name} "
               f"({time.time() - t0:.0f} s)")
    systems = {}
    for name, per in rows.items():
        systems[name] = {str(snr): {m: float(np.mean([r[m] for r in lst])) for m in lst[0]}
                         for snr, lst in per.items()}
        allr = [r for lst in per.values() for r in lst]
        systems[name]["mean"] = {m: float(np.mean([r[m] for r in allr])) for m in allr[0]}
    return {"settings": asdict(s), "items": items, "systems": systems,
            "oracle_rungs": list(RUNGS)}


def format_table(report: dict) -> str:
    """Plain-text table: one row per system, PESQ-WB / STOI / SI-SDR per SNR and the mean."""
    systems = report["systems"]
    cols = list(next(iter(systems.values())))
    head = f"{'system':<26}" + "".join(f"{c + (' dB' if c != 'mean' else ''):>22}" for c in cols)
    lines = [head, f"{'':<26}" + "".join(f"{'PESQ  STOI  SI-SDR':>22}" for _ in cols)]
    for name, per in systems.items():
        cells = "".join(f"{per[c]['pesq_wb']:>8.3f}{per[c]['stoi']:>6.3f}{per[c]['si_sdr']:>8.2f}"
                        for c in cols)
        lines.append(f"{name:<26}{cells}")
    return "\n".join(lines)
