"""Output safety limiter: the output never exceeds the ceiling (default −1 dBFS), with ramped gain.

Gain computer, per sample t of the input x (n, channels), all channels sharing one gain:

    g_req[t] = min(1, ceiling / max_c |x[t, c]|)                 what sample t alone needs
    g_min[t] = min g_req[t − hold .. t + lookahead]              look ahead, then hold
    g_avg[t] = mean g_min[t − lookahead .. t]                    linear attack ramp
    g[t]     = min(g_avg[t], g[t − 1] + 1/(release·fs))          release slew limit

Every g_min in the mean at t covers t itself, so g_avg[t] ≤ g_req[t], and the release step only
ever lowers g further: |g[t]·x[t]| ≤ ceiling exactly, not approximately. The gain never moves by
more than 1/(lookahead + 1) per sample going down and 1/(release·fs) going up, so it cannot
click. The output is the input delayed by `lookahead` samples times g.

`SafetyLimiter` streams blocks of any length with state; `limit` is the same gain computer run on
a whole signal at once (an independent vectorized path, used to test the stream); `limit_file`
runs the stream over a whole signal with its latency removed, for files written offline, and
says what it did (`LimitReport`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import minimum_filter1d

from dsp.loudness import peak_dbfs

FLOAT32_MARGIN = 1.0 - 1e-6
"""The ceiling is applied with this factor so that rounding to float32 on the way to the sound
card cannot lift a sample above it."""


def _ceiling(ceiling_db: float) -> float:
    return 10.0 ** (ceiling_db / 20.0) * FLOAT32_MARGIN


def _required(x: np.ndarray, ceiling: float) -> np.ndarray:
    peak = np.max(np.abs(x), axis=1) if x.shape[1] else np.zeros(len(x))
    with np.errstate(divide="ignore"):
        return np.minimum(1.0, ceiling / peak)  # peak 0 → inf → 1


def _shift_min(ext: np.ndarray, size: int, n: int) -> np.ndarray:
    """min(ext[j : j + size]) for j = 0 .. n − 1, via scipy's centred filter."""
    # Centred at c = j + (size − 1)//2 … the window [c − size//2, c + (size−1)//2] when origin 0;
    # so the window starting at j is centred at j + size//2.
    centred = minimum_filter1d(ext, size, mode="nearest")
    return centred[size // 2: size // 2 + n]


class SafetyLimiter:
    """Streaming brick-wall limiter with lookahead.

    fs_hz: sample rate; n_channels; ceiling_db (≤ 0); lookahead_ms: attack ramp length and
    latency; hold_ms: how long a reduction is held before release; release_s: time for the gain
    to climb back from 0 to 1 (a linear slew).
    """

    def __init__(self, fs_hz: float, n_channels: int = 2, ceiling_db: float = -1.0,
                 lookahead_ms: float = 3.0, hold_ms: float = 10.0, release_s: float = 0.15):
        if ceiling_db > 0.0:
            raise ValueError(f"ceiling_db = {ceiling_db:g} must be ≤ 0 dBFS")
        self.fs_hz = float(fs_hz)
        self.n_channels = int(n_channels)
        self.ceiling_db = float(ceiling_db)
        self.ceiling = _ceiling(ceiling_db)
        self.lookahead = max(1, round(lookahead_ms * 1e-3 * fs_hz))
        self.hold = max(0, round(hold_ms * 1e-3 * fs_hz))
        self.release_step = 1.0 / max(release_s * fs_hz, 1.0)
        self.reset()

    @property
    def latency(self) -> int:
        """Delay of the output in samples."""
        return self.lookahead

    def reset(self) -> None:
        la, h = self.lookahead, self.hold
        # With T the time of the next input sample:
        self._req = np.ones(h + la)                # g_req at T − hold − lookahead .. T − 1
        self._gmin = np.ones(la)                   # g_min at T − 2·lookahead .. T − lookahead − 1
        self._x = np.zeros((la, self.n_channels))  # input at T − lookahead .. T − 1
        self._g = 1.0                              # g at T − lookahead − 1
        self.last_gain = 1.0                       # lowest gain of the last block (meters)
        self.gain = np.ones(0)

    def process(self, x: np.ndarray) -> np.ndarray:
        """Limit a block x (n, n_channels) → (n, n_channels), delayed by `latency`."""
        x = np.asarray(x, dtype=float)
        n = len(x)
        if n == 0:
            return x.reshape(0, self.n_channels)
        la, h = self.lookahead, self.hold
        req = np.concatenate([self._req, _required(x, self.ceiling)])  # from T − h − la
        gmin = _shift_min(req, h + la + 1, n)          # times T − la .. T + n − 1 − la
        ext = np.concatenate([self._gmin, gmin])       # from T − 2·la
        cs = np.concatenate([[0.0], np.cumsum(ext)])
        avg = (cs[la + 1:la + 1 + n] - cs[:n]) / (la + 1)
        g = self._slew(avg)
        xd = np.concatenate([self._x, x])
        y = xd[:n] * g[:, None]
        self._req, self._gmin, self._x = req[n:], ext[n:], xd[n:]
        self._g = float(g[-1])
        self.gain = g  # per-sample gain of this block's output (meters, tests)
        self.last_gain = float(g.min())
        return y

    def _slew(self, avg: np.ndarray) -> np.ndarray:
        """g[k] = min(avg[k], g[k − 1] + r) in closed form: a running minimum."""
        r = self.release_step
        k = np.arange(len(avg))
        # g[k] = r·k + min(g_prev + r, min_{j ≤ k} (avg[j] − r·j))
        run = np.minimum.accumulate(avg - r * k)
        return np.minimum(r * k + np.minimum(run, self._g + r), 1.0)


def limit(x: np.ndarray, fs_hz: float, **settings) -> np.ndarray:
    """Offline limiter: x (n, channels) → (n + lookahead, channels), the same output as
    `SafetyLimiter(fs_hz, channels, **settings)` fed x and then `lookahead` zeros."""
    lim = SafetyLimiter(fs_hz, np.shape(x)[1], **settings)
    la, h, r = lim.lookahead, lim.hold, lim.release_step
    x = np.asarray(x, dtype=float)
    n = len(x)
    swv = np.lib.stride_tricks.sliding_window_view
    # Times run from −hold − lookahead; g_req = 1 wherever there is no signal.
    padded = np.concatenate([np.ones(h + la), _required(x, lim.ceiling), np.ones(la)])
    gmin = swv(padded, h + la + 1).min(axis=1)                 # times −la .. n − 1
    avg = swv(np.concatenate([np.ones(la), gmin]), la + 1).mean(axis=1)  # times −la .. n − 1
    g = np.empty(n + la)
    prev = 1.0
    # The reference runs the release recursion literally (a plain loop on purpose: it is the
    # definition that the stream's closed form must reproduce).
    for t in range(n + la):
        prev = min(avg[t], prev + r, 1.0)
        g[t] = prev
    return np.concatenate([np.zeros((la, x.shape[1])), x]) * g[:, None]


def gain_db(gain: float) -> float:
    """Gain reduction in dB (0 when not limiting)."""
    return 20.0 * math.log10(max(gain, 1e-12))


@dataclass(frozen=True)
class LimitReport:
    """What `limit_file` did to one signal: sample peak before and after (dBFS, −inf for
    silence), the deepest gain reduction (dB, ≥ 0) and how many sample frames (instants, all
    channels together) it lowered."""

    peak_before_dbfs: float
    peak_dbfs: float
    reduction_db: float
    limited_samples: int


def limit_file(x: np.ndarray, fs_hz: float, ceiling_db: float = -1.0) -> tuple[np.ndarray,
                                                                                LimitReport]:
    """x (n, channels) through a `SafetyLimiter` (live audition's settings, one gain for all
    channels) with the lookahead latency removed: y (n, channels), y[t] = g[t]·x[t], every
    |y| ≤ the ceiling. A signal already under the ceiling comes back unchanged (bit for bit)."""
    x = np.asarray(x, dtype=float)
    lim = SafetyLimiter(fs_hz, x.shape[1], ceiling_db)
    before = peak_dbfs(x)
    if not x.size or float(np.max(np.abs(x))) <= lim.ceiling:
        return x, LimitReport(before, before, 0.0, 0)
    la = lim.latency
    y = lim.process(np.concatenate([x, np.zeros((la, x.shape[1]))]))[la:]
    g = lim.gain[la:]
    return y, LimitReport(before, peak_dbfs(y), -gain_db(float(g.min())),
                          int(np.count_nonzero(g < 1.0)))
