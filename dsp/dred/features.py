"""LPCNet-style acoustic features: 20 per 10 ms frame at 16 kHz, and the inverse path.

Per frame: 18 Bark-band cepstral coefficients (DCT of log10 band energies, LPCNet's band
layout), a pitch feature and a pitch-correlation feature (``NB_FEATURES = 20``).

Analysis follows LPCNet (``freq.c``/``lpcnet_enc.c``): a 20 ms power-complementary (Vorbis)
window every 10 ms, 320-point FFT scaled by 1/N on int16-scale samples, triangular bands on
``EBAND_5MS * 4`` bins (50 Hz per bin), ``log10(1e-2 + E)`` with LPCNet's follow/floor
smoothing, orthonormal DCT-II, ``c0 -= 4``. Pitch is our own normalized cross-correlation
search (LPCNet 1.5 uses a small PitchDNN we do not have): periods 32..256 samples
(62.5..500 Hz) on the low-passed LPC residual, octave-error penalty, fixed-lag Viterbi
(20 ms), parabolic refinement.

Inverse (what a vocoder needs): cepstra -> log band energies -> band energies -> per-bin
spectral envelope (linear interpolation between band centres, LPCNet ``interp_band_gain``)
-> LPC via autocorrelation of the envelope.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.linalg
import scipy.signal

from dsp.percepnet.pitch import PitchRange, ViterbiTracker, octave_scores
from sim.task import TaskState, check

SAMPLE_RATE = 16000
FRAME_SIZE = 160  # 10 ms hop
WINDOW_SIZE = 2 * FRAME_SIZE  # 20 ms analysis window
FREQ_SIZE = WINDOW_SIZE // 2 + 1  # 161 bins, 50 Hz apart
NB_BANDS = 18
NB_FEATURES = 20
PITCH_MIN_PERIOD = 32
PITCH_MAX_PERIOD = 256
LPC_ORDER = 16
# LPCNet eband5ms: band edges in units of 4 bins (200 Hz) of the 320-point FFT.
EBAND_5MS = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 34, 40])
BAND_EDGES = EBAND_5MS * 4  # bins; last edge 160 = 8 kHz
INT16_SCALE = 32768.0  # LPCNet features assume int16-scale samples
C0_OFFSET = 4.0
# Pitch feature normalization: f18 = (T - PITCH_CENTER) / PITCH_SCALE, T in samples @16 kHz.
PITCH_CENTER = 100.0
PITCH_SCALE = 50.0
# Correlation window for the pitch search (samples): one 20 ms window per 10 ms frame.
_PITCH_WIN = WINDOW_SIZE
# Viterbi decision lag (frames): a frame's period is final 20 ms after the frame ends.
PITCH_LAG = 2
_PITCH_RANGE = PitchRange(SAMPLE_RATE, PITCH_MIN_PERIOD, PITCH_MAX_PERIOD)
_PITCH_LPC_ORDER = 8
_PITCH_LOWPASS = scipy.signal.butter(4, 1500.0, fs=SAMPLE_RATE, output="sos")
CHECK_FRAMES = 100  # frames between cancellation checks in the per-frame loops (a few ms)


def analysis_window() -> np.ndarray:
    """Power-complementary Vorbis window ``(320,)``: w[n]^2 + w[n+160]^2 = 1."""
    n = np.arange(FRAME_SIZE)
    half = np.sin(0.5 * np.pi * np.sin(np.pi * (n + 0.5) / (2 * FRAME_SIZE)) ** 2)
    return np.concatenate([half, half[::-1]])


def band_matrix() -> np.ndarray:
    """Triangular band weights ``(NB_BANDS, FREQ_SIZE)`` exactly as LPCNet's compute_band_energy.

    Bin j in band segment i (edges e_i <= j < e_{i+1}) gives weight 1 - frac to band i and frac
    to band i + 1, frac = (j - e_i) / (e_{i+1} - e_i); the first and last bands are doubled
    because they only receive half a triangle. The Nyquist bin gets no weight (as in LPCNet).
    """
    w = np.zeros((NB_BANDS, FREQ_SIZE))
    for i in range(NB_BANDS - 1):
        lo, hi = BAND_EDGES[i], BAND_EDGES[i + 1]
        frac = (np.arange(lo, hi) - lo) / (hi - lo)
        w[i, lo:hi] += 1.0 - frac
        w[i + 1, lo:hi] += frac
    w[0] *= 2.0
    w[-1] *= 2.0
    return w


def interp_matrix() -> np.ndarray:
    """Band gains -> per-bin gains ``(FREQ_SIZE, NB_BANDS)`` (LPCNet interp_band_gain)."""
    m = np.zeros((FREQ_SIZE, NB_BANDS))
    for i in range(NB_BANDS - 1):
        lo, hi = BAND_EDGES[i], BAND_EDGES[i + 1]
        frac = (np.arange(lo, hi) - lo) / (hi - lo)
        m[lo:hi, i] = 1.0 - frac
        m[lo:hi, i + 1] = frac
    m[BAND_EDGES[-1]:, -1] = 1.0  # Nyquist bin: hold the last band
    return m


_WINDOW = analysis_window()
_BANDS = band_matrix()
_INTERP = interp_matrix()


def frame_spectra(x: np.ndarray) -> np.ndarray:
    """Power spectra ``(n_frames, FREQ_SIZE)`` of float audio ``(n,)`` in [-1, 1].

    Frame t covers samples ``[t*160 - 160, t*160 + 160)`` (zeros before the start), i.e. it
    is centred on the boundary between 10 ms frames t-1 and t, LPCNet's half-window lag.
    ``n_frames = ceil(n / 160)``.
    """
    x = np.asarray(x, dtype=np.float64) * INT16_SCALE
    n_frames = -(-x.size // FRAME_SIZE)
    padded = np.zeros((n_frames + 1) * FRAME_SIZE)
    padded[FRAME_SIZE:FRAME_SIZE + x.size] = x
    idx = np.arange(n_frames)[:, None] * FRAME_SIZE + np.arange(WINDOW_SIZE)[None, :]
    spec = scipy.fft.rfft(padded[idx] * _WINDOW, axis=1) / WINDOW_SIZE  # LPCNet's 1/N scaling
    return spec.real**2 + spec.imag**2


def band_energies(power: np.ndarray) -> np.ndarray:
    """Band energies ``(..., NB_BANDS)`` from power spectra ``(..., FREQ_SIZE)``."""
    return power @ _BANDS.T


def band_energies_to_cepstrum(energy: np.ndarray, smooth: bool = True) -> np.ndarray:
    """log10 band energies -> 18 cepstra ``(..., NB_BANDS)`` (orthonormal DCT-II, c0 - 4).

    ``smooth`` applies LPCNet's dynamic-range floor (nothing more than 8 decades below the
    frame's maximum) and follow rule (each band at least the previous one minus 2.5 decades),
    which keeps the cepstrum from modelling deep nulls. It is the only lossy step.
    """
    ly = np.log10(1e-2 + np.asarray(energy, dtype=np.float64))
    if smooth:
        ly = ly.copy()
        log_max = np.full(ly.shape[:-1], -2.0)
        follow = np.full(ly.shape[:-1], -2.0)
        for i in range(NB_BANDS):  # sequential over 18 bands, vectorized over frames
            ly[..., i] = np.maximum(log_max - 8.0, np.maximum(follow - 2.5, ly[..., i]))
            log_max = np.maximum(log_max, ly[..., i])
            follow = np.maximum(follow - 2.5, ly[..., i])
    cep = scipy.fft.dct(ly, type=2, norm="ortho", axis=-1)
    cep[..., 0] -= C0_OFFSET
    return cep


def cepstrum_to_log_energies(cep: np.ndarray) -> np.ndarray:
    """18 cepstra ``(..., 18)`` -> log10(1e-2 + band energy) ``(..., 18)`` (exact inverse DCT)."""
    c = np.array(cep, dtype=np.float64, copy=True)
    c[..., 0] += C0_OFFSET
    return scipy.fft.idct(c, type=2, norm="ortho", axis=-1)


def cepstrum_to_band_energies(cep: np.ndarray) -> np.ndarray:
    """18 cepstra -> band energies ``(..., 18)`` (int16-scale power, >= 0)."""
    return np.maximum(10.0 ** cepstrum_to_log_energies(cep) - 1e-2, 0.0)


def band_energies_to_envelope(energy: np.ndarray) -> np.ndarray:
    """Band energies ``(..., 18)`` -> per-bin power envelope ``(..., FREQ_SIZE)``.

    Band energy is a *sum* over its triangle, so we divide by the triangle's total weight to
    get a mean per-bin power before interpolating; for a flat spectrum the envelope is flat
    and equal to the per-bin power (checked in tests).
    """
    per_bin = np.asarray(energy, dtype=np.float64) / _BANDS.sum(axis=1)
    return per_bin @ _INTERP.T


def envelope_to_lpc(envelope: np.ndarray, order: int = LPC_ORDER,
                    lag_window: bool = True, state: TaskState | None = None) -> np.ndarray:
    """Power envelope ``(..., FREQ_SIZE)`` -> LPC ``a`` ``(..., order + 1)``, a[0] = 1.

    Synthesis filter 1 / A(z) with A(z) = sum a_k z^-k. Autocorrelation is the inverse real FFT
    of the power envelope; a Gaussian lag window and a -40 dB white-noise floor keep the
    Levinson recursion well conditioned (as LPCNet does).
    Solved with scipy's Levinson-based ``solve_toeplitz`` per frame (17x16, cheap);
    ``state`` is checked for cancellation every `CHECK_FRAMES` frames.
    """
    env = np.atleast_2d(np.asarray(envelope, dtype=np.float64))
    r = scipy.fft.irfft(env, n=WINDOW_SIZE, axis=-1)[..., : order + 1]
    r[..., 0] = r[..., 0] * 1.0001 + 1e-12  # -40 dB white-noise floor
    if lag_window:
        k = np.arange(order + 1)
        r = r * np.exp(-0.5 * (2 * np.pi * 60.0 * k / SAMPLE_RATE) ** 2)  # 60 Hz bandwidth
    a = np.empty((*r.shape[:-1], order + 1))
    for i, idx in enumerate(np.ndindex(r.shape[:-1])):
        if i % CHECK_FRAMES == 0:
            check(state)
        sol = scipy.linalg.solve_toeplitz(r[idx][:order], -r[idx][1:order + 1])
        a[idx] = np.concatenate([[1.0], sol])
    return a.reshape((*np.shape(envelope)[:-1], order + 1))


def _lag_correlations(x: np.ndarray, n_frames: int, state: TaskState | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Normalized cross-correlation per frame for lags 31..257 ``(n_frames, 227)``, and the lags.

    For frame t: the 20 ms window ending where frame t ends, against the same window T samples
    earlier (vectorized over frames, one pass per lag; ``state`` is checked before each).
    """
    hist = PITCH_MAX_PERIOD + 1 + _PITCH_WIN
    padded = np.zeros(hist + n_frames * FRAME_SIZE)
    m = min(x.size, n_frames * FRAME_SIZE)
    padded[hist - FRAME_SIZE:hist - FRAME_SIZE + m] = x[:m]
    starts = hist + np.arange(n_frames) * FRAME_SIZE - _PITCH_WIN
    lags = np.arange(PITCH_MIN_PERIOD - 1, PITCH_MAX_PERIOD + 2)  # +-1 for parabolic fit
    seg = padded[starts[:, None] + np.arange(_PITCH_WIN)[None, :]]  # (F, W)
    cs = np.concatenate([[0.0], np.cumsum(padded**2)])
    e0 = cs[starts + _PITCH_WIN] - cs[starts]
    corr = np.empty((n_frames, lags.size))
    for j, lag in enumerate(lags):  # 227 lags, each a vectorized (F, W) product
        check(state)
        lagged = padded[(starts - lag)[:, None] + np.arange(_PITCH_WIN)[None, :]]
        num = np.einsum("fw,fw->f", seg, lagged)
        el = cs[starts - lag + _PITCH_WIN] - cs[starts - lag]
        corr[:, j] = num / np.sqrt(e0 * el + 1e-9)
    return corr, lags


def pitch_excitation(x: np.ndarray, power: np.ndarray | None = None,
                     state: TaskState | None = None) -> np.ndarray:
    """The signal the pitch search runs on: order-8 LPC residual, low-passed at 1.5 kHz ``(n,)``.

    Whitening removes formant peaks, which otherwise correlate at their own period (a strong
    500 Hz F1 reads as a 500 Hz "pitch" in a male voice); the low-pass keeps the harmonics that
    carry the period. Each 10 ms frame is filtered with the LPC of the analysis window centred
    on it. ``power`` are the frame spectra of ``x`` when already computed; ``state`` is checked
    for cancellation.
    """
    x = np.asarray(x, dtype=np.float64)
    if power is None:
        power = frame_spectra(x)
    n = power.shape[0]
    a = envelope_to_lpc(power, order=_PITCH_LPC_ORDER, state=state)
    frame = np.minimum(np.arange(n * FRAME_SIZE) // FRAME_SIZE + 1, n - 1)
    xp = np.zeros(_PITCH_LPC_ORDER + n * FRAME_SIZE)
    xp[_PITCH_LPC_ORDER:_PITCH_LPC_ORDER + min(x.size, n * FRAME_SIZE)] = x[: n * FRAME_SIZE]
    res = np.zeros(n * FRAME_SIZE)
    for k in range(_PITCH_LPC_ORDER + 1):
        res += a[frame, k] * xp[_PITCH_LPC_ORDER - k:_PITCH_LPC_ORDER - k + n * FRAME_SIZE]
    return scipy.signal.sosfilt(_PITCH_LOWPASS, res)[: x.size]


def pitch_search(x: np.ndarray, n_frames: int | None = None, state: TaskState | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Pitch period (samples @16 kHz, fractional) and correlation per 10 ms frame.

    Run it on `pitch_excitation` (as `compute_features` does), not on raw speech.
    Normalized cross-correlation for every integer period 32..256 (62.5..500 Hz), an
    octave-error penalty (a period whose half or third correlates almost as well is a multiple
    of the true one) and the fixed-lag Viterbi of the PercepNet tracker (``PITCH_LAG`` frames of
    look-ahead, so a streaming encoder decides the same periods 20 ms late), then a parabolic
    refinement around the chosen period. Returns ``(period, corr)``, each ``(n_frames,)``;
    corr in [-1, 1]. ``state`` is checked for cancellation as it runs.
    """
    x = np.asarray(x, dtype=np.float64)
    if n_frames is None:
        n_frames = -(-x.size // FRAME_SIZE)
    n_ext = n_frames + PITCH_LAG
    corr, lags = _lag_correlations(x, n_ext, state)
    inner = corr[:, 1:-1]
    score = octave_scores(inner, _PITCH_RANGE)
    tracker = ViterbiTracker(_PITCH_RANGE, lag=PITCH_LAG)
    j = np.zeros(n_ext, dtype=np.int64)
    for t in range(n_ext):
        if t % CHECK_FRAMES == 0:
            check(state)
        s = tracker.step(score[t])
        if t >= PITCH_LAG:
            j[t - PITCH_LAG] = s
    # the path picks the octave; the peak itself is the best lag within +-2 of it
    rows = np.arange(n_frames)
    near = np.clip(j[:n_frames, None] + np.arange(-2, 3)[None, :], 0, inner.shape[1] - 1)
    j = near[rows, np.argmax(inner[rows[:, None], near], axis=1)]
    ym, y0, yp = corr[rows, j], corr[rows, j + 1], corr[rows, j + 2]
    denom = ym - 2 * y0 + yp
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (ym - yp) / np.where(denom == 0, 1, denom), 0)
    shift = np.clip(shift, -0.5, 0.5)
    period = lags[j + 1] + shift
    return period, np.clip(y0, -1.0, 1.0)


def compute_features(x: np.ndarray, state: TaskState | None = None) -> np.ndarray:
    """Features ``(n_frames, 20)`` of float audio ``(n,)`` at 16 kHz in [-1, 1].

    Columns 0..17: Bark cepstra; 18: (T - 100) / 50 with T the pitch period in samples;
    19: pitch correlation - 0.5 (LPCNet's centring). ``state`` (:class:`sim.task.TaskState`)
    is checked for cancellation every few milliseconds of work (no progress is reported).
    """
    power = frame_spectra(x)
    cep = band_energies_to_cepstrum(band_energies(power))
    period, corr = pitch_search(pitch_excitation(x, power, state), n_frames=power.shape[0],
                                state=state)
    return np.column_stack([cep, (period - PITCH_CENTER) / PITCH_SCALE, corr - 0.5])


def pitch_period(features: np.ndarray) -> np.ndarray:
    """Pitch period in samples @16 kHz ``(...,)`` from features ``(..., 20)``."""
    return np.asarray(features)[..., NB_BANDS] * PITCH_SCALE + PITCH_CENTER


def pitch_correlation(features: np.ndarray) -> np.ndarray:
    """Pitch correlation ``(...,)`` from features ``(..., 20)``."""
    return np.asarray(features)[..., NB_BANDS + 1] + 0.5


def features_to_envelope(features: np.ndarray) -> np.ndarray:
    """Per-bin power envelope ``(..., FREQ_SIZE)`` (int16 scale, 1/N FFT) from features."""
    cep = np.asarray(features)[..., :NB_BANDS]
    return band_energies_to_envelope(cepstrum_to_band_energies(cep))


def features_to_lpc(features: np.ndarray, order: int = LPC_ORDER) -> np.ndarray:
    """LPC ``(..., order + 1)`` for the vocoder's spectral envelope, from features."""
    return envelope_to_lpc(features_to_envelope(features), order)
