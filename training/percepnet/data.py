"""Training data: on-the-fly mixing of ../shared/data speech and noise with augmentation.

Speech: LibriSpeech train-clean-100 and CMU ARCTIC (all LibriSpeech test-other speakers are
held out for validation/tests). Noise: the first `noise_train_fraction` of every recording of
shared/data/noise (the rest is kept for evaluation), plus synthesized babble (summed training
speakers), coloured noise, fan noise and mains hum. Reverberation: shoebox rooms simulated here with
pyroomacoustics; the target keeps the direct path and early reflections (first `early_ms`), so the
model also de-reverberates. Level and spectral-tilt augmentation on speech and noise.

Each item yields model inputs (frames + look-ahead, n_features), target gains g and strengths r
(frames, n_bands), all float32; `write_shards` stores them as npz shards for the trainer.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve, lfilter, resample_poly, sosfilt

from dsp.percepnet.audio_io import load_mono
from dsp.percepnet.features import analyze_frames, model_inputs
from dsp.percepnet.oracle import oracle_targets
from sim.outputs import write_npz

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED = Path(os.environ.get("AWB_SHARED_DATA", REPO.parent / "shared" / "data"))
CACHE = REPO / ".cache" / "percepnet"
HELD_OUT_DIR = "speech/librispeech_test-other"


def load_settings(path: Path | None = None) -> dict:
    """The training settings (settings.json next to this file)."""
    return json.loads((path or HERE / "settings.json").read_text())


def speech_files(split: str) -> list[Path]:
    """'train': train-clean-100 + CMU ARCTIC; 'heldout': LibriSpeech test-other (never trained)."""
    if split == "train":
        return (sorted((SHARED / "speech/librispeech_train-clean-100").glob("*.flac"))
                + sorted((SHARED / "speech/cmu_arctic").glob("*.wav")))
    if split == "heldout":
        return sorted((SHARED / HELD_OUT_DIR).glob("*/*.flac"))
    raise ValueError(split)


def noise_files() -> list[Path]:
    """Recorded noises in shared/data/noise."""
    d = SHARED / "noise"
    return sorted(list(d.glob("*.wav")) + list(d.glob("*.flac")))


def noise_segment(x: np.ndarray, split: str, train_fraction: float) -> np.ndarray:
    """The training (first part) or evaluation (last part) segment of a noise recording."""
    cut = int(len(x) * train_fraction)
    return x[:cut] if split == "train" else x[cut:]


def make_rooms(n: int, fs_hz: int, seed: int,
               early_ms: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """n random shoebox rooms: (full RIR, early RIR) pairs, direct path at sample 16 (1 ms)."""
    import pyroomacoustics as pra

    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        dims = rng.uniform([3.0, 3.0, 2.4], [9.0, 8.0, 4.0])
        rt60 = rng.uniform(0.15, 0.7)
        try:
            absorption, order = pra.inverse_sabine(rt60, dims)
        except ValueError:
            continue
        room = pra.ShoeBox(dims, fs=fs_hz, materials=pra.Material(absorption),
                           max_order=min(order, 14), air_absorption=False)
        mic = rng.uniform([0.5, 0.5, 0.8], dims - 0.5)
        while True:
            src = rng.uniform([0.5, 0.5, 1.0], dims - [0.5, 0.5, 0.6])
            if 0.4 < np.linalg.norm(src - mic) < 3.5:
                break
        room.add_source(src)
        room.add_microphone(mic)
        room.compute_rir()
        h = np.asarray(room.rir[0][0], dtype=np.float64)
        d = int(np.argmax(np.abs(h)))
        start = max(0, d - int(0.001 * fs_hz))
        h = h[start:start + int(1.2 * rt60 * fs_hz) + 1]
        h = h / (np.abs(h).max() + 1e-12)
        early = h.copy()
        cut = d - start + int(early_ms * 1e-3 * fs_hz)
        fade = min(int(0.005 * fs_hz), max(len(early) - cut, 0))
        if cut < len(early):
            early[cut:cut + fade] *= np.linspace(1, 0, fade)
            early[cut + fade:] = 0.0
        out.append((h, early))
    return out


def _tilt(x: np.ndarray, db_per_oct: float, fs_hz: int) -> np.ndarray:
    """Gentle spectral tilt: first-order shelf around 1 kHz, ±db_per_oct·3 at the extremes."""
    if abs(db_per_oct) < 0.1:
        return x
    from scipy.signal import iirfilter

    g = 10 ** (db_per_oct / 20)
    b, a = iirfilter(1, 1000 / (fs_hz / 2), btype="high", ftype="butter")
    hp = lfilter(b, a, x)
    return x + (g - 1) * hp


class Mixer:
    """Random mixtures for one split; `item(rng)` returns (noisy, target) at fs."""

    def __init__(self, settings: dict, split: str = "train", seed: int = 0):
        self.s = settings
        self.fs = settings["fs_hz"]
        self.split = split
        self.speech = [load_mono(p, self.fs)[0] for p in speech_files(split)]
        frac = settings["noise_train_fraction"]
        self.noises = [noise_segment(load_mono(p, self.fs)[0], split, frac) for p in noise_files()]
        cache = CACHE / f"rooms_{self.fs}_{settings['n_rooms']}_{split}.npz"
        if cache.is_file():
            z = np.load(cache, allow_pickle=True)
            self.rooms = list(zip(z["full"], z["early"], strict=True))
        else:
            room_seed = seed + (0 if split == "train" else 99)
            self.rooms = make_rooms(settings["n_rooms"], self.fs, room_seed, settings["early_ms"])
            cache.parent.mkdir(parents=True, exist_ok=True)
            full = np.empty(len(self.rooms), dtype=object)
            early = np.empty(len(self.rooms), dtype=object)
            for i, (h, e) in enumerate(self.rooms):
                full[i], early[i] = h, e
            write_npz(cache, {"full": full, "early": early})

    def _speed(self, rng) -> tuple[int, int]:
        """Speed perturbation as a resampling ratio (up, down): (1, 1) or, with probability
        settings["p_speed"], down/up uniform in settings["speed_range"] (tempo and pitch together,
        new voices from the few hours of training speech)."""
        p = self.s.get("p_speed", 0.0)
        if not p or rng.random() >= p:  # p = 0 draws nothing: the base run's shards reproduce
            return 1, 1
        up = 40
        return up, round(up * rng.uniform(*self.s["speed_range"]))

    def _speech(self, rng, n: int, pool: list[np.ndarray]) -> np.ndarray:
        out = np.zeros(n)
        pos = 0
        while pos < n:
            u = pool[rng.integers(len(pool))]
            up, down = self._speed(rng)
            if down != up:
                u = resample_poly(u, up, down)
            u = u / (np.sqrt(np.mean(u ** 2)) + 1e-9)
            take = min(len(u), n - pos)
            off = rng.integers(0, len(u) - take + 1)
            out[pos:pos + take] = u[off:off + take]
            pos += take + int(rng.integers(0, int(0.3 * self.fs)))
        return out

    def _noise(self, rng, n: int) -> np.ndarray:
        kinds = list(self.s["noise_mix"])
        p = np.array([self.s["noise_mix"][k] for k in kinds])
        kind = kinds[rng.choice(len(kinds), p=p / p.sum())]
        fs = self.fs
        if kind == "recorded":
            x = self.noises[rng.integers(len(self.noises))]
            up, down = self._speed(rng)
            m = n if up == down else -(-n * down // up) + 1  # input samples for n outputs
            if len(x) < m:
                x = np.tile(x, -(-m // len(x)) + 1)
            off = rng.integers(0, len(x) - m + 1)
            y = x[off:off + m].copy()
            if down != up:
                y = resample_poly(y, up, down)
            y = y[:n]
        elif kind == "babble":
            y = sum(self._speech(rng, n, self.speech) for _ in range(rng.integers(3, 8)))
        elif kind == "coloured":
            w = rng.standard_normal(n)
            slope = rng.uniform(-6.0, 3.0)  # dB per octave
            f = np.fft.rfftfreq(n, 1 / fs)
            shape = (np.maximum(f, 20.0) / 1000.0) ** (slope / 6.02)
            y = np.fft.irfft(np.fft.rfft(w) * shape, n)
        elif kind == "fan":
            from scipy.signal import butter

            w = rng.standard_normal(n)
            sos = butter(2, [rng.uniform(80, 300), rng.uniform(1000, 4000)], "bandpass", fs=fs,
                         output="sos")
            y = sosfilt(sos, w)
            f0 = rng.uniform(20, 120)
            t = np.arange(n) / fs
            for h in range(1, 6):
                amp = rng.uniform(0, 0.5) * np.std(y)
                y += amp * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.3))
        else:  # mains hum with harmonics and a little hiss
            f0 = 50.0 if rng.random() < 0.5 else 60.0
            t = np.arange(n) / fs
            y = sum(rng.uniform(0, 1) / h * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.3))
                    for h in range(1, 12))
            y = y + 0.05 * rng.standard_normal(n)
        y = _tilt(y, rng.uniform(-self.s["tilt_db"], self.s["tilt_db"]), fs)
        return y / (np.sqrt(np.mean(y ** 2)) + 1e-12)

    def item(self, rng) -> tuple[np.ndarray, np.ndarray]:
        """(noisy, target) float64 (n,) for one random mixture."""
        n = int(self.s["item_s"] * self.fs)
        s = self._speech(rng, n, self.speech)
        s = _tilt(s, rng.uniform(-self.s["tilt_db"], self.s["tilt_db"]), self.fs)
        if rng.random() < self.s["p_reverb"]:
            h, e = self.rooms[rng.integers(len(self.rooms))]
            target = fftconvolve(s, e)[:n]
            s = fftconvolve(s, h)[:n]
        else:
            target = s
        noise = self._noise(rng, n)
        if rng.random() < self.s["p_second_noise"]:
            noise = noise + rng.uniform(0.2, 1.0) * self._noise(rng, n)
        if rng.random() < self.s["p_high_snr"]:
            snr = rng.uniform(*self.s["high_snr_db"])
        else:
            snr = rng.uniform(*self.s["snr_db"])
        ps = np.mean(s ** 2) + 1e-12
        noise = noise * np.sqrt(ps / (np.mean(noise ** 2) + 1e-12) / 10 ** (snr / 10))
        noisy = s + noise
        level = 10 ** (rng.uniform(*self.s["level_dbfs"]) / 20)
        level /= np.sqrt(np.mean(noisy ** 2)) + 1e-12
        noisy, target = noisy * level, target * level
        peak = np.abs(noisy).max()
        if peak > 0.99:
            noisy, target = noisy * 0.99 / peak, target * 0.99 / peak
        return noisy, target


def item_arrays(noisy: np.ndarray, target: np.ndarray, fs_hz: int):
    """(inputs (n+L, n_features), g (n, n_bands), r (n, n_bands)) float32 for one mixture."""
    fa = analyze_frames(noisy, fs_hz)
    g, r = oracle_targets(fa, target)
    return (model_inputs(fa).astype(np.float32), g.astype(np.float32), r.astype(np.float32))


def write_shard(mixer: Mixer, path: Path, seed: int, n_items: int) -> None:
    """One npz shard of n_items mixtures (atomic write)."""
    rng = np.random.default_rng(seed)
    xs, gs, rs = [], [], []
    for _ in range(n_items):
        x, g, r = item_arrays(*mixer.item(rng), mixer.fs)
        xs.append(x)
        gs.append(g)
        rs.append(r)
    # The temp file is hidden (".shard_…"): the trainer's shard_*.npz glob never sees it.
    write_npz(path, {"x": np.stack(xs), "g": np.stack(gs), "r": np.stack(rs)})


STAGES = ("finetune", "finetune2")


def stage_settings(settings: dict, stage: str | None) -> dict:
    """The settings of a training stage: the top level overridden by the blocks of every stage up
    to and including `stage` (STAGES order); None = the base run."""
    out = dict(settings)
    if stage is None:
        return out
    if stage not in STAGES or stage not in settings:
        raise ValueError(f"settings.json has no stage {stage!r} (stages: {STAGES})")
    for name in STAGES[:STAGES.index(stage) + 1]:
        out.update(settings[name])
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="write training/validation shards")
    ap.add_argument("--split", choices=("train", "heldout"), default="train")
    ap.add_argument("--stage", choices=STAGES, default=None,
                    help="a fine-tuning stage's data (its shards folder, data_seed, augmentation)")
    ap.add_argument("--shards", type=int, default=None,
                    help="stop after this many (default: settings)")
    args = ap.parse_args(argv)
    base = load_settings()
    s = stage_settings(base, args.stage)
    out = CACHE / s.get("shards", "shards") / args.split
    out.mkdir(parents=True, exist_ok=True)
    mixer = Mixer(s, args.split, base["seed"])  # the rooms are the base run's
    total = args.shards or s["max_shards"]
    first = s.get("data_seed", s["seed"]) * 100000 + (0 if args.split == "train" else 50000)
    for i in range(total):
        path = out / f"shard_{i:05d}.npz"
        if path.is_file():
            continue  # resumable
        t = time.time()
        write_shard(mixer, path, first + i, s["items_per_shard"])
        print(f"{path.name} {time.time() - t:.1f}s", flush=True)


if __name__ == "__main__":
    main()
