"""The signal at a device microphone: talker and noise sources convolved with their simulated
source → microphone impulse responses (`sim.transfer.TransferResult.ir_mic`) at their levels.

Source signals (`source_signal`): "builtin:pink-noise", "builtin:white-noise",
"builtin:speech-shaped-noise" (white noise with the long-term spectrum of `dsp.signals.
speech_like`), "builtin:speech-like" (`dsp.signals.speech_like` itself), or an audio file (mono
mixdown, resampled, looped or cut to length). A *talker* whose signal is speech-shaped noise gets
speech-like instead when `talker_speech` is set: an enhancer needs something speech-like to keep.

Levels are dB SPL at 1 m; the IRs are 1.0 at 1 m, so a source at `level_db` contributes a unit-RMS
signal times 10^(level_db / 20) before propagation. The whole mixture is then scaled by one factor
so its peak sits at `peak_dbfs`, which keeps the talker-to-noise ratio at the microphone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import oaconvolve

from dsp.signals import pink_noise, speech_like

BUILTIN_PREFIX = "builtin:"
TALKER, NOISE = "talker", "noise"


def speech_shaped_noise(fs_hz: float, seconds: float, seed: int = 0) -> np.ndarray:
    """Unit-RMS Gaussian noise with the (smoothed) long-term spectrum of `speech_like`."""
    n = max(1, round(fs_hz * seconds))
    rng = np.random.default_rng(seed + 7919)
    shape = np.abs(np.fft.rfft(speech_like(fs_hz, max(seconds, 1.0), seed=seed), n))
    width = max(1, round(shape.size / 200))
    shape = np.convolve(shape, np.ones(width) / width, mode="same")  # remove the harmonics
    y = np.fft.irfft(shape * np.fft.rfft(rng.standard_normal(n)), n)
    rms = float(np.sqrt(np.mean(y * y)))
    return y / rms if rms > 0 else y


def source_signal(ref: str, fs_hz: int, seconds: float, seed: int = 0) -> np.ndarray:
    """A unit-RMS mono signal (n,) of `seconds` at fs_hz for a source's signal reference."""
    n = max(1, round(fs_hz * seconds))
    if ref.startswith(BUILTIN_PREFIX):
        name = ref[len(BUILTIN_PREFIX):]
        if name == "pink-noise":
            return pink_noise(n, seed=seed)
        if name == "white-noise":
            w = np.random.default_rng(seed).standard_normal(n)
            return w / np.sqrt(np.mean(w * w))
        if name == "speech-shaped-noise":
            return speech_shaped_noise(fs_hz, seconds, seed=seed)
        if name == "speech-like":
            return speech_like(fs_hz, seconds, seed=seed)
        raise ValueError(f"unknown builtin signal {ref!r}")
    from dsp.audio_io import read_audio

    x, _ = read_audio(ref, fs_hz=fs_hz, channels=None)
    x = x.mean(axis=1)
    x = np.tile(x, -(-n // len(x)))[:n]
    rms = float(np.sqrt(np.mean(x * x)))
    return x / rms if rms > 0 else x


@dataclass
class MicMix:
    """clean: the talkers' image at the microphone; noise: the noise sources' image; mixture:
    clean + noise (all (n,) at fs_hz, same scale); snr_db: talker-to-noise power ratio there."""

    mixture: np.ndarray
    clean: np.ndarray
    noise: np.ndarray
    fs_hz: int
    snr_db: float


def mic_mixture(ir_mic: np.ndarray, signals: list[np.ndarray], levels_db: list[float],
                kinds: list[str], mic: int = 0, t0_samples: int = 0,
                peak_dbfs: float = -3.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mixture, clean, noise) at microphone `mic` from ir_mic (n_sources, n_mics, n_taps).

    signals[i] (n,) unit-RMS source signals, levels_db[i] dB SPL at 1 m, kinds[i] "talker" or
    "noise" (other sources, e.g. with level None, are skipped by giving them kind ""). The first
    t0_samples (the IRs' modelling delay) are dropped so the output is aligned with the sources.
    """
    if ir_mic.ndim != 3 or len(signals) != ir_mic.shape[0]:
        raise ValueError(f"ir_mic {ir_mic.shape} does not match {len(signals)} source signals")
    if not 0 <= mic < ir_mic.shape[1]:
        raise ValueError(f"microphone {mic} out of range (device has {ir_mic.shape[1]})")
    n = max(len(s) for s in signals) if signals else 0
    clean, noise = np.zeros(n), np.zeros(n)
    for sig, level, kind, ir in zip(signals, levels_db, kinds, ir_mic[:, mic], strict=True):
        if kind not in (TALKER, NOISE):
            continue
        img = oaconvolve(np.asarray(sig, float) * 10.0 ** (level / 20.0), ir)
        img = np.pad(img[t0_samples:], (0, n))[:n]
        if kind == TALKER:
            clean += img
        else:
            noise += img
    mixture = clean + noise
    peak = float(np.max(np.abs(mixture))) if n else 0.0
    if peak > 0:
        k = 10.0 ** (peak_dbfs / 20.0) / peak
        mixture, clean, noise = mixture * k, clean * k, noise * k
    return mixture, clean, noise


def scene_mic_mix(scene, transfer, mic: int = 0, seconds: float = 4.0,
                  talker: int | None = None, noises: list[int] | None = None,
                  talker_speech: bool = True, seed: int = 0) -> MicMix:
    """The mixture at device microphone `mic` for a `sim.scene.Scene` and its TransferResult
    (simulated with talkers=True). talker: index into scene.sources of the one talker to use
    (None: every talker); noises: indices of the noise sources to use (None: all)."""
    if transfer.ir_mic is None:
        raise ValueError("the transfer result has no source → microphone responses")
    fs = int(transfer.fs_hz)
    signals, levels, kinds = [], [], []
    for i, src in enumerate(scene.sources):
        ref = src.signal
        if src.kind == TALKER and talker_speech and ref == "builtin:speech-shaped-noise":
            ref = "builtin:speech-like"
        use = (src.kind == TALKER and (talker is None or i == talker)) or \
              (src.kind == NOISE and (noises is None or i in noises))
        signals.append(source_signal(ref, fs, seconds, seed=seed + i) if use
                       else np.zeros(round(fs * seconds)))
        levels.append(src.level_db)
        kinds.append(src.kind if use else "")
    if not any(k == TALKER for k in kinds):
        raise ValueError("the scene has no talker to simulate")
    mixture, clean, noise = mic_mixture(transfer.ir_mic, signals, levels, kinds, mic,
                                        transfer.t0_samples)
    pc, pn = float(np.mean(clean ** 2)), float(np.mean(noise ** 2))
    snr = float("inf") if pn == 0 else 10 * np.log10(max(pc, 1e-30) / pn)
    return MicMix(mixture, clean, noise, fs, snr)
