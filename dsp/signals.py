"""Generated test programme: pink noise, speech-like and music-like signals (seeded, mono).

These stand in for recordings in tests, benchmarks and cue measurements. The speech-like and
music-like signals are sparse in time and frequency the way real speech and music are (a few
harmonic partials at a time, pauses, note onsets), which is what a time-frequency upmix relies
on; pink noise is the dense counter-example. All return float64 (n,) at unit RMS.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter, sosfilt

_VOWEL_FORMANTS_HZ = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480),
                      (570, 840, 2410), (660, 1720, 2410), (490, 1350, 1690))
"""Peterson & Barney (1952) average male formants F1–F3 of seven English vowels."""


def _unit_rms(y: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(y * y)))
    return y / rms if rms > 0 else y


def pink_noise(n: int, seed: int = 0) -> np.ndarray:
    """Gaussian noise with a 1/f power spectrum (−3 dB/octave) from 20 Hz up, n samples."""
    rng = np.random.default_rng(seed)
    spec = np.fft.rfft(rng.standard_normal(n))
    k = np.arange(spec.size, dtype=float)
    # 1/√f amplitude; bins below ~20 Hz at 48 kHz (k < n·20/48000) are held at that level.
    spec *= 1.0 / np.sqrt(np.maximum(k, max(1.0, n * 20.0 / 48000.0)))
    spec[0] = 0.0
    return _unit_rms(np.fft.irfft(spec, n))


def music_like(fs_hz: float, seconds: float, seed: int = 0, notes_per_s: float = 3.0,
               brightness: float = 1.2) -> np.ndarray:
    """Random harmonic notes (C major scale, three octaves from C3) with decaying partials.

    notes_per_s: onsets per second (higher = denser, less sparse); brightness: partial h has
    amplitude h^−brightness.
    """
    rng = np.random.default_rng(seed)
    n = round(fs_hz * seconds)
    y = np.zeros(n)
    scale = np.array([0, 2, 4, 5, 7, 9, 11])
    for _ in range(max(1, int(notes_per_s * seconds))):
        onset = int(rng.uniform(0.0, max(seconds - 0.2, 0.0)) * fs_hz)
        midi = 48 + 12 * int(rng.integers(0, 3)) + int(scale[rng.integers(0, 7)])
        f0 = 440.0 * 2.0 ** ((midi - 69) / 12.0)
        length = min(int(rng.uniform(0.3, 1.0) * fs_hz), n - onset)
        if length <= 0:
            continue
        h = np.arange(1, int(min(30, 0.45 * fs_hz // f0)) + 1)
        amp = h ** (-brightness) * rng.uniform(0.5, 1.0, h.size)
        tau = rng.uniform(0.15, 0.6) / (1.0 + 0.15 * (h - 1))  # higher partials die faster
        phase = rng.uniform(0.0, 2 * np.pi, h.size)
        level = rng.uniform(0.5, 1.0)
        for k in range(h.size):
            # Each partial only until it has decayed by 60 dB (e^−7): most of the cost saved.
            m = min(length, int(7.0 * tau[k] * fs_hz) + 1)
            t = np.arange(m) / fs_hz
            env = np.exp(-t / tau[k]) * np.minimum(1.0, t / 0.005)
            y[onset:onset + m] += (level * amp[k]) * env * np.sin(2 * np.pi * f0 * h[k] * t
                                                                  + phase[k])
    return _unit_rms(y)


def _resonator(f_hz: float, bw_hz: float, fs_hz: float) -> np.ndarray:
    """Second-order section (6,) of a unit-peak resonance at f_hz with bandwidth bw_hz."""
    r = np.exp(-np.pi * bw_hz / fs_hz)
    th = 2 * np.pi * f_hz / fs_hz
    return np.array([1 - r, 0.0, 0.0, 1.0, -2 * r * np.cos(th), r * r])


def speech_like(fs_hz: float, seconds: float, seed: int = 0) -> np.ndarray:
    """Voiced 'syllables' of 120–300 ms: a glottal pulse train with a gliding pitch (≈140 Hz)
    through three formant resonators of a random vowel, a sine-shaped syllable envelope, and a
    pause in about one syllable out of four."""
    rng = np.random.default_rng(seed)
    n = round(fs_hz * seconds)
    t = np.arange(n) / fs_hz
    f0 = 140.0 * np.exp(0.15 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 2 * np.pi))
                        + 0.05 * np.sin(2 * np.pi * 3.1 * t))
    pulses = np.diff(np.floor(np.cumsum(f0 / fs_hz)), prepend=0.0)
    excitation = lfilter([1.0], [1.0, -0.96], pulses)  # glottal spectral tilt
    excitation -= excitation.mean()
    y = np.zeros(n)
    zi = np.zeros((3, 2))
    pos = 0
    while pos < n:
        stop = min(n, pos + int(rng.uniform(0.12, 0.3) * fs_hz))
        vowel = _VOWEL_FORMANTS_HZ[rng.integers(len(_VOWEL_FORMANTS_HZ))]
        sos = np.stack([_resonator(f, bw, fs_hz) for f, bw in zip(vowel, (80, 100, 140),
                                                                   strict=True)])
        seg, zi = sosfilt(sos, excitation[pos:stop], zi=zi)
        m = stop - pos
        env = np.sin(np.pi * np.arange(m) / m) ** 0.7
        if rng.random() < 0.25:
            env = env * 0.0
        y[pos:stop] = seg * env
        pos = stop
    return _unit_rms(y)
