"""Stereo → left, right, centre upmix in the STFT domain (streaming and offline).

Method: Avendano & Jot's similarity/panning-index mask (JAES 52(7/8) 2004; spatial.md §C.1) with
one change, the *in-phase* similarity

    ψ = 2·Re Φ_LR / (Φ_LL + Φ_RR) ∈ [−1, 1],   Ψ = 1 − ψ ∈ [0, 2],
    Θ = ν + (1 − ν)·exp(−Ψ² / (2ξ)),

where Φ are the cross-spectra smoothed over frames with time constant τ. Why this and not PCA or
least squares: it needs no eigen-decomposition, it is cheap per bin, and it was the most
selective on the test mixes (a centred source plus hard-left and hard-right sources of equal
power, tests/test_upmix.py). Measured while choosing (8 s mixes, centre SIR / centre kept):
the per-bin least-squares (Wiener) centre estimate of the model X_L = S + N_L, X_R = S + N_R
gave 9.5 dB / −0.3 dB on dense music where this mask gives 15.6 dB / −3.6 dB; it keeps more
centre but lets the side sources in. Using Re Φ_LR instead of |Φ_LR| rejects bins where L and R
are correlated but not in phase (time-delay panned sources, anti-phase effects, room sound),
which are not a phantom centre either: it raised the SIR by 1–5 dB over |Φ_LR| on the same
mixes. Defaults ξ = 0.006, τ = 30 ms: the goal of 15 dB SIR on every test mix at the least
centre loss.

Re-synthesis is complementary, so the input is always recovered exactly:

    C = g_c · Θ · (X_L + X_R)/√2,   L' = X_L − Θ·(X_L + X_R)/2,   R' = X_R − Θ·(X_L + X_R)/2,

and L' + C/√2 = X_L, R' + C/√2 = X_R whenever g_c = 1 (the neutral setting), whatever the mask.
A pure centre source goes wholly to C at +3 dB (C = √2·S), which keeps energy: C² = L² + R².

Framing: Hann^½ analysis and synthesis windows, hop = frame/4 (weighted overlap-add sums to
exactly 1). The streaming `Upmixer` accepts blocks of any size and has a fixed latency of
`frame − 1` samples, independent of the block size; the offline `upmix` reproduces the stream
sample for sample (same framing, same recursion).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import lfilter

CHANNELS = ("L", "R", "C")


class UpmixError(ValueError):
    """Bad upmix parameters; the message names the parameter."""


@dataclass(frozen=True)
class UpmixParams:
    """Upmix settings.

    frame: STFT length in samples (power of two, 256 .. 8192); hop is frame/4.
    centre_width: ξ, the variance of the Gaussian on the panning index (larger = wider centre,
        more of the half-panned sources in C; smaller = more selective, less centre kept).
    smoothing_ms: τ, time constant of the recursive cross-spectrum smoothing in ms (0 = none).
    floor_db: ν, the lowest centre mask gain in dB (≤ 0; a floor limits musical noise but lets
        a little of every side source into C).
    ambience: 0 .. 1, how far incoherent (ambient) sound is kept out of the centre: the mask is
        multiplied by 1 − ambience·(1 − coherence).
    centre_gain_db: gain of C (dialogue lift); 0 dB is neutral (perfect reconstruction).
    """

    frame: int = 2048
    centre_width: float = 0.006
    smoothing_ms: float = 30.0
    floor_db: float = -40.0
    ambience: float = 0.0
    centre_gain_db: float = 0.0

    @property
    def hop(self) -> int:
        return self.frame // 4

    @property
    def latency(self) -> int:
        """Input → output delay of the upmix in samples (any block size)."""
        return self.frame - 1

    @property
    def neutral(self) -> bool:
        """True when L' + C/√2 and R' + C/√2 give back the input exactly."""
        return self.centre_gain_db == 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def check_upmix_params(p: UpmixParams) -> None:
    """Raise UpmixError naming the first bad parameter."""
    if not isinstance(p.frame, int) or p.frame < 256 or p.frame > 8192 or p.frame & (p.frame - 1):
        raise UpmixError(f"frame = {p.frame} must be a power of two in 256 .. 8192")
    if not 1e-4 <= p.centre_width <= 1.0:
        raise UpmixError(f"centre_width = {p.centre_width:g} must be in 0.0001 .. 1")
    if not 0.0 <= p.smoothing_ms <= 1000.0:
        raise UpmixError(f"smoothing_ms = {p.smoothing_ms:g} must be in 0 .. 1000 ms")
    if not -120.0 <= p.floor_db <= 0.0:
        raise UpmixError(f"floor_db = {p.floor_db:g} must be in -120 .. 0 dB")
    if not 0.0 <= p.ambience <= 1.0:
        raise UpmixError(f"ambience = {p.ambience:g} must be in 0 .. 1")
    if not -40.0 <= p.centre_gain_db <= 20.0:
        raise UpmixError(f"centre_gain_db = {p.centre_gain_db:g} must be in -40 .. 20 dB")


def _windows(frame: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Analysis and synthesis windows (frame,): Hann^½ each, synthesis scaled so that the
    overlap-added product of the two is exactly 1 (periodic Hann at hop frame/4 sums to 2)."""
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame) / frame)
    analysis = np.sqrt(hann)
    return analysis, analysis * (2.0 * hop / frame)


def _smoothing_pole(p: UpmixParams, fs_hz: float) -> float:
    """λ of Φ(m) = λΦ(m−1) + (1−λ)·X X*: exp(−hop / (τ·fs)), 0 without smoothing."""
    if p.smoothing_ms <= 0.0:
        return 0.0
    return math.exp(-p.hop / (p.smoothing_ms * 1e-3 * fs_hz))


def centre_mask(phi_ll: np.ndarray, phi_rr: np.ndarray, phi_lr: np.ndarray,
                p: UpmixParams) -> np.ndarray:
    """Centre mask Θ (same shape as the inputs, 0..1) from smoothed auto/cross spectra."""
    power = phi_ll + phi_rr
    tiny = np.finfo(float).tiny
    # Silence (power 0) counts as centre: Θ there multiplies zero anyway.
    psi = np.where(power > tiny, 2.0 * phi_lr.real / np.maximum(power, tiny), 1.0)
    nu = 10.0 ** (p.floor_db / 20.0)
    theta = nu + (1.0 - nu) * np.exp(-((1.0 - psi) ** 2) / (2.0 * p.centre_width))
    if p.ambience > 0.0:
        denom = np.sqrt(phi_ll * phi_rr)
        coherence = np.where(denom > tiny, np.abs(phi_lr) / np.maximum(denom, tiny), 1.0)
        theta = theta * (1.0 - p.ambience * (1.0 - np.minimum(coherence, 1.0)))
    return theta


def _split(xl: np.ndarray, xr: np.ndarray, theta: np.ndarray, centre_gain: float) -> np.ndarray:
    """(…, 3, K) spectra L', R', C from input spectra and the mask (complementary split)."""
    half = 0.5 * theta * (xl + xr)
    return np.stack([xl - half, xr - half, centre_gain * math.sqrt(2.0) * half], axis=-2)


class Upmixer:
    """Streaming stereo → (L, R, C) upmix with fixed latency `params.latency` samples.

    `process(x)` takes (n, 2) for any n ≥ 0 and returns (n, 3) float64; output sample k is the
    offline result for input sample k − latency (zeros before). Parameter changes (`set_params`
    with the same frame length) take effect at the next frame; the smoothed statistics carry
    over, so there is no click.
    """

    def __init__(self, fs_hz: float, params: UpmixParams | None = None):
        self.params = params or UpmixParams()
        check_upmix_params(self.params)
        self.fs_hz = float(fs_hz)
        self._configure()
        self.reset()

    def _configure(self) -> None:
        p = self.params
        self._win_a, self._win_s = _windows(p.frame, p.hop)
        self._lambda = _smoothing_pole(p, self.fs_hz)
        self._gain = 10.0 ** (p.centre_gain_db / 20.0)

    def reset(self) -> None:
        """Forget all input: as if freshly made."""
        n, hop, k = self.params.frame, self.params.hop, self.params.frame // 2 + 1
        self._hist = np.zeros((2, n))          # last `frame` input samples per channel
        self._pending = np.zeros((0, 2))       # input not yet framed (< hop samples)
        self._ola = np.zeros((3, n))           # overlap-add accumulator
        self._stats = np.zeros((3, k), dtype=complex)  # Φ_LL, Φ_RR, Φ_LR
        # Output FIFO: hop − 1 zeros make the latency frame − 1 for every block size (the
        # first frame ends `hop` samples after time 0 and finalizes times hop − frame ...).
        self._out = np.zeros((hop - 1, 3))

    def set_params(self, params: UpmixParams) -> None:
        """New settings; a different frame length restarts the upmix (reset)."""
        check_upmix_params(params)
        frame_changed = params.frame != self.params.frame
        self.params = params
        self._configure()
        if frame_changed:
            self.reset()

    @property
    def latency(self) -> int:
        return self.params.latency

    def _frame(self) -> None:
        spec = np.fft.rfft(self._hist * self._win_a, axis=-1)  # (2, K)
        xl, xr = spec
        lam = self._lambda
        inst = np.stack([xl.real ** 2 + xl.imag ** 2, xr.real ** 2 + xr.imag ** 2,
                         xl * np.conj(xr)])
        self._stats *= lam
        self._stats += (1.0 - lam) * inst
        s = self._stats
        theta = centre_mask(s[0].real, s[1].real, s[2], self.params)
        frames = np.fft.irfft(_split(xl, xr, theta, self._gain), self.params.frame, axis=-1)
        self._ola += frames * self._win_s
        hop = self.params.hop
        self._out = np.concatenate([self._out, self._ola[:, :hop].T])
        self._ola[:, :-hop] = self._ola[:, hop:]
        self._ola[:, -hop:] = 0.0

    def process(self, x: np.ndarray) -> np.ndarray:
        """Upmix a block x (n, 2) → (n, 3) columns L, R, C."""
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"upmix input must be (n, 2), got {x.shape}")
        hop = self.params.hop
        data = np.concatenate([self._pending, x]) if len(self._pending) else x
        n_frames = len(data) // hop
        for m in range(n_frames):
            self._hist[:, :-hop] = self._hist[:, hop:]
            self._hist[:, -hop:] = data[m * hop:(m + 1) * hop].T
            self._frame()
        self._pending = data[n_frames * hop:].copy()
        n = len(x)
        y, self._out = self._out[:n], self._out[n:]
        return y


@dataclass
class UpmixResult:
    """Offline upmix.

    signals: (n + latency + frame − 1, 3) L, R, C exactly as the stream outputs them for the
    input followed by silence (latency included, and the last frames' tails: a mask that varies
    across a frame spreads it over the whole frame); latency: samples; mask: (M, K) centre mask
    per frame and bin (for analysis and `apply_mask`); params.
    """

    signals: np.ndarray
    latency: int
    mask: np.ndarray
    params: UpmixParams

    def aligned(self, n: int) -> np.ndarray:
        """(n, 3) with the latency removed: sample k belongs to input sample k."""
        return self.signals[self.latency:self.latency + n]


def output_length(n: int, p: UpmixParams) -> int:
    """Samples of upmix output for n input samples: latency plus the tail of the last frame."""
    return n + p.latency + p.frame - 1


def _stft(x: np.ndarray, p: UpmixParams, n_frames: int) -> np.ndarray:
    """Spectra (M, C, K) of x (n, C) framed like the stream: frame m ends at (m + 1)·hop."""
    n, hop = p.frame, p.hop
    total = (n_frames - 1) * hop + n
    pad = np.zeros((total, x.shape[1]))
    pad[n - hop:n - hop + len(x)] = x[:total - (n - hop)]
    win, _ = _windows(n, hop)
    idx = np.arange(n_frames)[:, None] * hop + np.arange(n)[None, :]
    return np.fft.rfft(pad[idx].transpose(0, 2, 1) * win, axis=-1)


def _istft(spec: np.ndarray, p: UpmixParams, n_out: int) -> np.ndarray:
    """Overlap-add (M, C, K) spectra → (n_out, C) in the stream's output timing (latency
    included)."""
    n, hop = p.frame, p.hop
    _, win = _windows(n, hop)
    frames = np.fft.irfft(spec, n, axis=-1) * win  # (M, C, n)
    m, c, _ = frames.shape
    # Frame m covers times (m+1)·hop − n ... ; in stream output time add latency n − 1.
    acc = np.zeros((m + 3, c, hop))
    quarters = frames.reshape(m, c, 4, hop)
    for q in range(4):
        acc[q:q + m] += quarters[:, :, q]
    t = acc.transpose(1, 0, 2).reshape(c, -1).T  # time (m+1)·hop − n + i for index i
    shift = hop - 1  # stream output index of time hop − n is hop − 1
    out = np.zeros((n_out, c))
    stop = min(n_out, shift + len(t))
    out[shift:stop] = t[:stop - shift]
    return out


def upmix_spectra(x: np.ndarray, fs_hz: float, p: UpmixParams,
                  n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(spectra (M, 3, K) of L', R', C; mask (M, K)) for x (n, 2), vectorized over frames."""
    spec = _stft(x, p, n_frames)
    xl, xr = spec[:, 0], spec[:, 1]
    lam = _smoothing_pole(p, fs_hz)
    # The same recursion as the stream (initial state 0), run along frames by lfilter.
    stats = lfilter([1.0 - lam], [1.0, -lam],
                    np.stack([np.abs(xl) ** 2, np.abs(xr) ** 2, xl * np.conj(xr)]), axis=1)
    theta = centre_mask(stats[0].real, stats[1].real, stats[2], p)
    return _split(xl, xr, theta, 10.0 ** (p.centre_gain_db / 20.0)), theta


def upmix(x: np.ndarray, fs_hz: float, params: UpmixParams | None = None) -> UpmixResult:
    """Offline upmix of x (n, 2) → UpmixResult with signals (n + latency + frame − 1, 3).

    Equals the streaming `Upmixer` fed the same samples followed by zeros.
    """
    p = params or UpmixParams()
    check_upmix_params(p)
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"upmix input must be (n, 2), got {x.shape}")
    n_out = output_length(len(x), p)
    n_frames = n_out // p.hop + 4  # every frame that touches the input, and then some
    spec, theta = upmix_spectra(x, fs_hz, p, n_frames)
    return UpmixResult(signals=_istft(spec, p, n_out), latency=p.latency, mask=theta, params=p)


def apply_mask(stem: np.ndarray, mask: np.ndarray, params: UpmixParams) -> np.ndarray:
    """Run a stem (n, 2) through given masks (M, K) from `upmix` of a mix: (n + latency +
    frame − 1, 3).

    The upmix is linear once its mask is fixed, so the parts of a mix's L', R', C that each
    stem contributes are this function of the stem; they sum to the mix's own upmix.
    """
    p = params
    stem = np.asarray(stem, dtype=float)
    spec = _stft(stem, p, mask.shape[0])
    split = _split(spec[:, 0], spec[:, 1], mask, 10.0 ** (p.centre_gain_db / 20.0))
    return _istft(split, p, output_length(len(stem), p))


@dataclass
class CentreQuality:
    """Centre extraction on a mix with known stems (spatial.md §B7).

    sir_db: centre-stem energy in C over the side stems' energy in C; kept_db: centre-stem
    energy in C relative to the ideal C = √2·centre; side_leak_db: centre-stem energy left in
    L' + R' relative to the ideal C energy.
    """

    sir_db: float
    kept_db: float
    side_leak_db: float


def centre_quality(centre: np.ndarray, left: np.ndarray, right: np.ndarray, fs_hz: float,
                   params: UpmixParams | None = None) -> CentreQuality:
    """Upmix the mix (centre + left, centre + right) of mono stems (n,) and measure C."""
    p = params or UpmixParams()
    c, zero = np.asarray(centre, float), np.zeros(len(centre))
    mix = np.stack([c + left, c + right], axis=1)
    res = upmix(mix, fs_hz, p)
    from_c = apply_mask(np.stack([c, c], axis=1), res.mask, p)
    from_sides = (apply_mask(np.stack([left, zero], axis=1), res.mask, p)
                  + apply_mask(np.stack([zero, right], axis=1), res.mask, p))
    e_c = float(np.sum(from_c[:, 2] ** 2))
    ideal = 2.0 * float(np.sum(c ** 2)) * 10.0 ** (p.centre_gain_db / 10.0)
    return CentreQuality(
        sir_db=10 * np.log10(e_c / max(float(np.sum(from_sides[:, 2] ** 2)), 1e-300)),
        kept_db=10 * np.log10(e_c / ideal),
        side_leak_db=10 * np.log10(max(float(np.sum(from_c[:, :2] ** 2)), 1e-300) / ideal))
