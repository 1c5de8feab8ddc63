"""DRED vocoder: pitch-aware harmonic-plus-noise synthesis with learned frame-rate filters.

Features ``(n_frames, 20)`` (10 ms frames at 16 kHz, `dsp.dred.features`) -> 16 kHz audio.

Sources (no learning): a band-limited pulse train whose phase is integrated sample by sample from
the per-sample-interpolated pitch (so it is continuous through pitch changes), and white noise;
both are scaled to the same power spectral density as unit-variance white noise.

Filters: every 5 ms subframe gets a log-magnitude response for the harmonic branch and one for
the noise branch on 257 FFT bins (31.25 Hz apart). Each starts from an analytic prior (the
spectral envelope of the 18 Bark cepstra and the voicing of the pitch correlation) and a small
network adds learned corrections on 32 mel-spaced bands: features -> conv (k=3, one frame each
side) -> GRU -> dense -> corrections for the two subframes of each frame. The responses are made
minimum-phase (folded real cepstrum) and applied by frame-wise multiplication: each 160-sample
Hann-windowed excitation frame (hop 80, sums to one) is zero-padded to 512 samples, filtered in
the FFT domain and overlap-added, i.e. a linear time-varying convolution without wrap-around for
impulse responses up to 352 samples (22 ms). The priors read the envelope ahead by each
filter's energy delay, so the causal filtering does not make the output late.

Time alignment: feature frame t's analysis window is centred on sample ``t * 160``, and so is
synthesis frame ``2 t``; the output lines up with the audio the features came from, with no
delay. Output sample n of frame t (``t*160 <= n < (t+1)*160``) depends on features up to
``t + LOOKAHEAD_FRAMES``; beyond the last frame the features are held.
Weights: ``assets/dred/vocoder.npz`` written by ``training/dred/train_vocoder.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.fft

from dsp.dred.features import (
    FRAME_SIZE,
    INT16_SCALE,
    NB_BANDS,
    NB_FEATURES,
    PITCH_MAX_PERIOD,
    PITCH_MIN_PERIOD,
    SAMPLE_RATE,
    WINDOW_SIZE,
    band_energies_to_envelope,
    cepstrum_to_band_energies,
    pitch_correlation,
    pitch_period,
)
from dsp.weights import read_weights

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[2] / "assets" / "dred" / "vocoder.npz"
LOOKAHEAD_FRAMES = 2
SUBFRAME_SIZE = 80  # 5 ms: hop of the synthesis frames, two per feature frame
SYNTH_WINDOW = 2 * SUBFRAME_SIZE  # Hann length; at hop 80 the windows sum to exactly one
N_FFT = 512
N_BINS = N_FFT // 2 + 1
N_RESPONSE_BANDS = 32
HARMONIC_MAX_HZ = 7900.0  # highest partial of the pulse train (just below Nyquist)
# Features' spectra are |FFT/320|^2 of a window with sum(w^2) = 160: white noise of variance
# s^2 reads s^2/640 per bin, so a unit-PSD source needs amplitude gain sqrt(640 * envelope).
ENVELOPE_TO_POWER_GAIN = WINDOW_SIZE**2 / (WINDOW_SIZE / 2)
ENVELOPE_FLOOR = 1e-4  # int16-scale power per bin (-100 dB below a full-scale sine)
_VOICING_MIN, _VOICING_MAX = 0.01, 0.99


class VocoderError(ValueError):
    """Invalid vocoder input (feature shape, non-finite values) or a missing/corrupt weight file."""


def check_features(features: np.ndarray) -> np.ndarray:
    """Validated float64 copy of features ``(n_frames, 20)``, n_frames >= 1, all finite."""
    f = np.asarray(features)
    if f.ndim != 2 or f.shape[1] != NB_FEATURES or f.shape[0] < 1:
        raise VocoderError(f"features must have shape (n_frames >= 1, {NB_FEATURES}), "
                           f"got {f.shape}")
    if not (np.issubdtype(f.dtype, np.floating) or np.issubdtype(f.dtype, np.integer)):
        raise VocoderError(f"features must be real numbers, got dtype {f.dtype}")
    f = f.astype(np.float64)
    if not np.all(np.isfinite(f)):
        bad = np.argwhere(~np.isfinite(f))[0]
        raise VocoderError(f"features contain NaN/inf (first at frame {bad[0]}, column {bad[1]})")
    return f


def _mel(hz: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def response_band_matrix(n_bands: int = N_RESPONSE_BANDS) -> np.ndarray:
    """Band values -> per-bin values ``(N_BINS, n_bands)``: linear interpolation in frequency
    between band centres equally spaced on the mel scale from 0 to 8 kHz (rows sum to one)."""
    centres = 700.0 * (10 ** (np.linspace(0.0, _mel(SAMPLE_RATE / 2.0), n_bands) / 2595.0) - 1)
    freqs = np.arange(N_BINS) * SAMPLE_RATE / N_FFT
    return np.stack([np.interp(freqs, centres, np.eye(n_bands)[b]) for b in range(n_bands)], 1)


def _envelope_matrix() -> np.ndarray:
    """Band energies -> per-bin power on the 257-bin grid ``(NB_BANDS, N_BINS)``.

    The features' envelope is piecewise linear in frequency between band edges, so sampling it
    at 31.25 Hz spacing is exact.
    """
    env161 = band_energies_to_envelope(np.eye(NB_BANDS))  # (18, 161), 50 Hz apart
    f161 = np.arange(env161.shape[1]) * SAMPLE_RATE / WINDOW_SIZE
    f257 = np.arange(N_BINS) * SAMPLE_RATE / N_FFT
    return np.stack([np.interp(f257, f161, row) for row in env161])


_ENV_MATRIX = _envelope_matrix()
_HANN = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(SYNTH_WINDOW) / SYNTH_WINDOW)


def frame_log_gain(features: np.ndarray) -> np.ndarray:
    """Natural-log amplitude gain ``(n_frames, N_BINS)`` that turns a unit-PSD source into the
    features' spectral envelope, in float scale ([-1, 1] audio)."""
    energy = cepstrum_to_band_energies(features[:, :NB_BANDS])
    env = np.maximum(energy @ _ENV_MATRIX, ENVELOPE_FLOOR)
    return 0.5 * np.log(ENVELOPE_TO_POWER_GAIN * env) - np.log(INT16_SCALE)


def voicing(features: np.ndarray) -> np.ndarray:
    """Harmonic power fraction ``(n_frames,)`` in [0.01, 0.99] from the pitch correlation c.

    ``(c + 0.2) / 0.8``: fully harmonic from c = 0.6 up. On training files this mapping gave
    the LPC baseline +0.24 PESQ-WB over ``v = c`` (noise excitation in weakly correlated voiced
    frames is what hurts most); the neural vocoder learns per-band corrections on top.
    """
    return np.clip((pitch_correlation(features) + 0.2) / 0.8, _VOICING_MIN, _VOICING_MAX)


def interp_frames(per_frame: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Rows ``(F, ...)`` linearly interpolated at fractional frame positions ``(n,)`` (held
    outside 0..F-1)."""
    p = np.clip(positions, 0.0, per_frame.shape[0] - 1)
    lo = np.floor(p).astype(np.int64)
    hi = np.minimum(lo + 1, per_frame.shape[0] - 1)
    w = (p - lo).reshape(-1, *([1] * (per_frame.ndim - 1)))
    return (1.0 - w) * per_frame[lo] + w * per_frame[hi]


def subframe_priors(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Analytic log-magnitude responses ``(2F+1, N_BINS)`` for the harmonic and noise branch at
    the synthesis-frame centres ``m * 80``.

    Envelope gain (interpolated between frames in the log domain) plus half the log of the
    voicing fraction (harmonic) or of its complement (noise): together they carry the
    envelope's power. Each synthesis frame reads envelope and voicing ``D`` samples ahead of its
    centre, D the energy delay of its own filter (`energy_delay`): a causal filter puts the
    energy it is fed D samples late, and the features' envelope already shows the speech
    where it is, so this keeps the output aligned (D ~ 10 samples for vowels, 0 for a flat
    spectrum; at most 2 frames of look-ahead in all).
    """
    lg = frame_log_gain(features)
    centres = np.arange(2 * features.shape[0] + 1) / 2.0  # in frames
    delay = np.clip(energy_delay(interp_frames(lg, centres)), 0.0, SUBFRAME_SIZE - 1)
    pos = centres + delay / FRAME_SIZE
    lg = interp_frames(lg, pos)
    v = interp_frames(voicing(features), pos)[:, None]
    return lg + 0.5 * np.log(v), lg + 0.5 * np.log1p(-v)


def sample_f0(features: np.ndarray, start: int, n: int) -> np.ndarray:
    """Pitch frequency (Hz) ``(n,)`` at samples ``start .. start + n - 1``.

    The period is read from each frame (clipped to 32..256 samples) at the frame's centre
    (t * 160) and f0 is interpolated linearly in between, held beyond the first/last centre.
    """
    period = np.clip(pitch_period(features), PITCH_MIN_PERIOD, PITCH_MAX_PERIOD)
    centres = np.arange(features.shape[0]) * FRAME_SIZE
    return np.interp(np.arange(start, start + n), centres, SAMPLE_RATE / period)


def pulse_train(f0: np.ndarray) -> np.ndarray:
    """Band-limited pulse train ``(n,)`` for per-sample f0 (Hz) ``(n,)``, unit-variance-noise PSD.

    Sum of equal-amplitude cosine partials up to 7.9 kHz, in closed form (Dirichlet kernel):
    ``sum_{k=1..K} cos(k phi) = sin((K + 1/2) phi) / (2 sin(phi / 2)) - 1/2``, with the next
    partial faded in by the fractional part of 7900 / f0 so nothing clicks when K changes.
    Phase ``phi`` is the running sum of ``2 pi f0 / fs`` (starts at 0 at the first sample).
    Each partial has power 1/2 every f0 Hz; scaling by ``sqrt(f0 / 4000)`` gives the PSD of
    unit-variance white noise (1/8000 per Hz), so both sources take the same filter gains.
    """
    phi = np.cumsum(2 * np.pi * f0 / SAMPLE_RATE)
    phi = np.mod(phi + np.pi, 2 * np.pi) - np.pi
    k_real = HARMONIC_MAX_HZ / f0
    k = np.floor(k_real)
    half = np.sin(0.5 * phi)
    small = np.abs(half) < 1e-9
    dirichlet = np.where(small, k + 0.5, np.sin((k + 0.5) * phi) / (2 * np.where(small, 1, half)))
    partials = dirichlet - 0.5 + (k_real - k) * np.cos((k + 1) * phi)
    return partials * np.sqrt(f0 / 4000.0)


def excitation_length(n_frames: int) -> int:
    """Samples of source needed for ``n_frames``: synthesis frames m = 0..2F, each covering
    ``[m*80 - 80, m*80 + 80)``, i.e. samples -80 .. F*160 + 80."""
    return n_frames * FRAME_SIZE + SYNTH_WINDOW


def sources(features: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Harmonic and noise source ``(excitation_length(F),)`` each, first sample at -80."""
    n = excitation_length(features.shape[0])
    harmonic = pulse_train(sample_f0(features, -SUBFRAME_SIZE, n))
    noise = np.random.default_rng(seed).standard_normal(n)
    return harmonic, noise


def source_spectra(x: np.ndarray) -> np.ndarray:
    """Spectra ``(2F+1, N_BINS)`` complex of the Hann-windowed, zero-padded synthesis frames of
    a source ``(excitation_length(F),)`` (frame m = samples m*80 .. m*80 + 159 of ``x``)."""
    m = (x.size - SYNTH_WINDOW) // SUBFRAME_SIZE + 1
    idx = np.arange(m)[:, None] * SUBFRAME_SIZE + np.arange(SYNTH_WINDOW)[None, :]
    return scipy.fft.rfft(x[idx] * _HANN, n=N_FFT, axis=1)


def folded_cepstrum(log_mag: np.ndarray) -> np.ndarray:
    """Folded real cepstrum ``(..., N_FFT/2+1)`` of natural-log magnitudes ``(..., N_BINS)``:
    ``exp(rfft(c, n=N_FFT))`` is the minimum-phase response with that magnitude."""
    cep = scipy.fft.irfft(log_mag, n=N_FFT, axis=-1)[..., : N_FFT // 2 + 1]
    cep[..., 1:N_FFT // 2] *= 2.0
    return cep


def min_phase(log_mag: np.ndarray) -> np.ndarray:
    """Minimum-phase frequency responses ``(..., N_BINS)`` complex from natural-log magnitudes
    ``(..., N_BINS)`` (causal, so no wrap-around in `overlap_add` while the impulse response is
    shorter than N_FFT - SYNTH_WINDOW samples)."""
    return np.exp(scipy.fft.rfft(folded_cepstrum(log_mag), n=N_FFT, axis=-1))


_QUEFRENCY = np.arange(N_FFT // 2 + 1)


def energy_delay(log_mag: np.ndarray) -> np.ndarray:
    """Energy centroid (samples) ``(...,)`` of the impulse response of the minimum-phase filter
    with natural-log magnitudes ``(..., N_BINS)``: the power-weighted group delay
    ``sum |H|^2 tau / sum |H|^2``, with ``tau = Re rfft(n c_n)`` from the folded cepstrum c."""
    cep = folded_cepstrum(log_mag)
    power = np.exp(2 * log_mag)
    tau = scipy.fft.rfft(cep * _QUEFRENCY, n=N_FFT, axis=-1).real
    return np.sum(power * tau, axis=-1) / np.sum(power, axis=-1)


def overlap_add(frames: np.ndarray, n_out: int) -> np.ndarray:
    """Sum time-domain frames ``(M, N_FFT)`` placed at ``m*80 - 80``; returns samples
    0..n_out-1.

    Frames are split into 80-sample blocks; block j of frame m lands on output block m + j - 1,
    so the sum is 7 vectorized adds instead of a loop over frames.
    """
    m = frames.shape[0]
    n_blocks = -(-N_FFT // SUBFRAME_SIZE)
    padded = np.zeros((m, n_blocks * SUBFRAME_SIZE), dtype=frames.dtype)
    padded[:, :N_FFT] = frames
    blocks = padded.reshape(m, n_blocks, SUBFRAME_SIZE)
    out = np.zeros((m + n_blocks, SUBFRAME_SIZE), dtype=frames.dtype)
    for j in range(n_blocks):
        out[j:j + m] += blocks[:, j]
    return out.reshape(-1)[SUBFRAME_SIZE:SUBFRAME_SIZE + n_out]


def render(features: np.ndarray, log_h: np.ndarray, log_n: np.ndarray, seed: int) -> np.ndarray:
    """Audio ``(F*160,)`` float64 from per-synthesis-frame log-magnitude responses
    ``(2F+1, N_BINS)`` of the harmonic and noise branch (see `subframe_priors`)."""
    harmonic, noise = sources(features, seed)
    spec = min_phase(log_h) * source_spectra(harmonic) + min_phase(log_n) * source_spectra(noise)
    frames = scipy.fft.irfft(spec, n=N_FFT, axis=1)
    return overlap_add(frames, features.shape[0] * FRAME_SIZE)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class Vocoder:
    """The trained vocoder (numpy, float32 network, float64 synthesis).

    Raises `VocoderError` for missing or inconsistently shaped weights.
    """

    WEIGHT_NAMES = ("in_mean", "in_std", "conv_w", "conv_b", "gru_wih", "gru_whh", "gru_bih",
                    "gru_bhh", "dense_w", "dense_b", "out_w", "out_b")

    def __init__(self, weights: dict[str, np.ndarray], meta: dict | None = None):
        missing = [k for k in self.WEIGHT_NAMES if k not in weights]
        if missing:
            raise VocoderError(f"vocoder weights lack {missing}")
        w = {k: np.asarray(weights[k], dtype=np.float32) for k in self.WEIGHT_NAMES}
        self._check_shapes(w)
        self.meta = meta or {}
        self.in_mean, self.in_inv_std = w["in_mean"], 1.0 / w["in_std"]
        conv = w["conv_w"]  # torch layout (out, in, k) -> (k*in, out) for a frame-stacked input
        self.conv_w = np.ascontiguousarray(conv.transpose(2, 1, 0).reshape(-1, conv.shape[0]))
        self.conv_b = w["conv_b"]
        self.wih_t, self.whh_t = w["gru_wih"].T.copy(), w["gru_whh"].T.copy()
        self.bih, self.bhh = w["gru_bih"], w["gru_bhh"]
        self.dense_w_t, self.dense_b = w["dense_w"].T.copy(), w["dense_b"]
        self.out_w_t, self.out_b = w["out_w"].T.copy(), w["out_b"]
        self.hidden = self.whh_t.shape[0]
        self.n_bands = self.out_b.size // 4
        self.band_matrix_t = response_band_matrix(self.n_bands).T.copy()

    @staticmethod
    def _check_shapes(w: dict[str, np.ndarray]) -> None:
        """Layer shapes must chain: conv (C, 20, 3), GRU (3H, C)/(3H, H), dense (D, C+H),
        out (4B, D) for B bands (2 subframes x 2 branches)."""
        c, h = w["conv_w"].shape[0], w["gru_whh"].shape[-1]
        d, o = w["dense_w"].shape[0], w["out_w"].shape[0]
        want = {"in_mean": (NB_FEATURES,), "in_std": (NB_FEATURES,), "conv_w": (c, NB_FEATURES, 3),
                "conv_b": (c,), "gru_wih": (3 * h, c), "gru_whh": (3 * h, h), "gru_bih": (3 * h,),
                "gru_bhh": (3 * h,), "dense_w": (d, c + h), "dense_b": (d,), "out_w": (o, d),
                "out_b": (o,)}
        bad = {k: w[k].shape for k, shape in want.items() if w[k].shape != shape}
        if o % 4:
            bad["out_w (rows not a multiple of 4)"] = w["out_w"].shape
        if bad:
            raise VocoderError(f"vocoder weights have inconsistent shapes: {bad}")

    @classmethod
    def load(cls, path: str | Path | None = None) -> Vocoder:
        """Load weights (default ``assets/dred/vocoder.npz``)."""
        path = Path(DEFAULT_WEIGHTS if path is None else path)
        weights, meta = read_weights(path, VocoderError, "vocoder weights",
                                     "train them with python -m training.dred.train_vocoder")
        return cls(weights, meta)

    def corrections(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Learned log-magnitude corrections ``(2F+1, N_BINS)`` for the harmonic and noise
        branch (network run from a zero GRU state over frames 0..F, features held at the ends)."""
        n = features.shape[0]
        x = ((features - self.in_mean) * self.in_inv_std).astype(np.float32)
        # conv at step t sees frames t-1, t, t+1 (steps 0..F; edges held)
        idx = np.clip(np.arange(n + 1)[:, None] + np.arange(-1, 2)[None, :], 0, n - 1)
        c = np.tanh(x[idx].reshape(n + 1, -1) @ self.conv_w + self.conv_b)
        gi = c @ self.wih_t + self.bih
        hs = np.empty((n + 1, self.hidden), dtype=np.float32)
        h = np.zeros(self.hidden, dtype=np.float32)
        hd = self.hidden
        for t in range(n + 1):  # the only sequential part: 3*H x H matvec per 10 ms
            gh = h @ self.whh_t + self.bhh
            r = _sigmoid(gi[t, :hd] + gh[:hd])
            z = _sigmoid(gi[t, hd:2 * hd] + gh[hd:2 * hd])
            cand = np.tanh(gi[t, 2 * hd:] + r * gh[2 * hd:])
            h = (1.0 - z) * cand + z * h
            hs[t] = h
        d = np.tanh(np.concatenate([c, hs], axis=1) @ self.dense_w_t + self.dense_b)
        out = (d @ self.out_w_t + self.out_b).reshape(n + 1, 2, 2, self.n_bands)
        # (step, subframe, branch, band) -> synthesis frames m = 2t + subframe, m <= 2F
        per_frame = out.reshape(2 * (n + 1), 2, self.n_bands)[: 2 * n + 1]
        bins = per_frame.astype(np.float64) @ self.band_matrix_t
        return bins[:, 0], bins[:, 1]

    def synthesize(self, features: np.ndarray, seed: int = 0) -> np.ndarray:
        """Audio ``(n_frames * 160,)`` float32 in [-1, 1] from features ``(n_frames, 20)``.

        Same level as the audio the features were computed from, aligned sample for sample
        (no delay). Deterministic for a given ``seed`` (it seeds the noise source).
        Raises `VocoderError` (a ValueError) for a wrong shape or non-finite features.
        """
        f = check_features(features)
        prior_h, prior_n = subframe_priors(f)
        corr_h, corr_n = self.corrections(f)
        y = render(f, prior_h + corr_h, prior_n + corr_n, seed)
        return np.clip(y, -1.0, 1.0).astype(np.float32)
