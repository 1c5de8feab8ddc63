"""Pitch period: normalized cross-correlation search, octave-error removal, fixed-lag Viterbi.

For frame k (window samples ``[k·H − H, k·H + H)``), ``ncc[k, T]`` is the normalized
cross-correlation of that window with the signal T samples earlier, for integer periods
``T_min … T_max``: ``T_min = fs/500`` (500 Hz) and ``T_max = H`` (fs/100, 100 Hz). T_max is set
by the look-ahead budget: the comb filter reaches ``M·T_max = 3H`` (30 ms) into the future, which
with the 10 ms window overlap gives the 40 ms total latency.

Octave errors: a period T whose sub-multiple T/2 or T/3 correlates almost as well
(≥ `OCTAVE_RATIO` of ncc(T)) is a multiple of the true period and is penalised by
`OCTAVE_PENALTY`. The per-frame scores are then smoothed by a Viterbi search whose transition cost
is `JUMP_COST` per octave of period change. Decisions are taken with a fixed lag of `VITERBI_LAG`
frames (the best path at frame j, traced back to frame j − lag), so the offline and the streaming
trackers give identical periods using only the look-ahead the latency budget allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dsp.percepnet.stft import frame_blocks, hop_size, segment
from sim.task import TaskState, report

OCTAVE_RATIO = 0.85
OCTAVE_PENALTY = 0.25
JUMP_COST = 0.7
VITERBI_LAG = 3


@dataclass(frozen=True)
class PitchRange:
    """Integer period range in samples at a sample rate."""

    fs_hz: int
    t_min: int
    t_max: int

    @property
    def periods(self) -> np.ndarray:
        """Candidate periods in samples, int (n_periods,)."""
        return np.arange(self.t_min, self.t_max + 1)


def pitch_range(fs_hz: int) -> PitchRange:
    """Period range for fs_hz: 500 Hz … 100 Hz."""
    return PitchRange(fs_hz, round(fs_hz / 500), hop_size(fs_hz))


def _nfft(n: int) -> int:
    return 1 << int(np.ceil(np.log2(n)))


def ncc_frames(ext: np.ndarray, pr: PitchRange) -> np.ndarray:
    """Normalized cross-correlation for frames given their extended segments.

    ext: (n_frames, T_max + 2H) = the T_max samples before each frame window, then the window.
    Returns float64 (n_frames, n_periods), values in [−1, 1].
    """
    hop = hop_size(pr.fs_hz)
    n = 2 * hop
    t_max = pr.t_max
    seg = ext[:, t_max:]
    nfft = _nfft(ext.shape[1] + n)
    corr_full = np.fft.irfft(np.fft.rfft(ext, nfft) * np.conj(np.fft.rfft(seg, nfft)), nfft)
    # corr_full[d] = Σ_n seg[n]·ext[n + d]; lag T ↔ d = t_max − T
    d = t_max - pr.periods
    corr = corr_full[:, d]
    e_seg = np.einsum("ij,ij->i", seg, seg)
    c2 = np.concatenate([np.zeros((ext.shape[0], 1)), np.cumsum(ext * ext, axis=1)], axis=1)
    e_lag = c2[:, d + n] - c2[:, d]
    return corr / np.sqrt(e_seg[:, None] * np.maximum(e_lag, 0.0) + 1e-12)


def extended_segments(x: np.ndarray, fs_hz: int, n_frames: int, first: int = 0) -> np.ndarray:
    """Segments ``x[k·H − H − T_max : k·H + H]`` (zero outside x) of frames k = first …
    first + n_frames − 1: (n_frames, T_max + 2H)."""
    pr = pitch_range(fs_hz)
    hop = hop_size(fs_hz)
    lo = first * hop - hop - pr.t_max
    pad = segment(np.asarray(x, dtype=np.float64), lo, (first + n_frames) * hop + hop)
    idx = np.arange(n_frames)[:, None] * hop + np.arange(pr.t_max + 2 * hop)[None, :]
    return pad[idx]


@lru_cache(maxsize=16)
def _sub_multiples(pr: PitchRange) -> list[tuple[np.ndarray, np.ndarray]]:
    periods = pr.periods
    out = []
    for k in (2, 3):
        sub = np.rint(periods / k).astype(int)
        ok = np.flatnonzero(sub >= pr.t_min)
        out.append((ok, sub[ok] - pr.t_min))
    return out


def octave_scores(ncc: np.ndarray, pr: PitchRange) -> np.ndarray:
    """Per-frame Viterbi emission scores with octave-error penalty: (n_frames, n_periods)."""
    sub_best = np.full(ncc.shape, -np.inf)
    for ok, sub in _sub_multiples(pr):
        sub_best[:, ok] = np.maximum(sub_best[:, ok], ncc[:, sub])
    bad = (sub_best >= OCTAVE_RATIO * ncc) & (ncc > 0)
    return ncc - OCTAVE_PENALTY * bad


class ViterbiTracker:
    """Fixed-lag Viterbi over the period grid; one `step` per frame.

    The transition maximisation ``max_s' δ(s') − JUMP_COST·|log2 T_s − log2 T_s'|`` is an L1
    distance transform on the sorted log-period axis, done in O(S) with two running maxima
    (from below: ``cummax(δ + λ·p) − λ·p``; from above: the same reversed).
    `step(score)` returns the period index decided for the frame `VITERBI_LAG` steps earlier
    (−1 while fewer steps have been taken).
    """

    def __init__(self, pr: PitchRange, lag: int = VITERBI_LAG):
        self.lp = JUMP_COST * np.log2(pr.periods.astype(float))
        self.idx = np.arange(len(self.lp))
        self.lag = lag
        self.delta: np.ndarray | None = None
        self.back: list[np.ndarray] = []

    def _best_from(self, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lp, idx = self.lp, self.idx
        up = delta + lp
        up_max = np.maximum.accumulate(up)
        up_arg = np.maximum.accumulate(np.where(up >= up_max, idx, 0))
        dn = (delta - lp)[::-1]
        dn_max = np.maximum.accumulate(dn)
        dn_arg = (len(idx) - 1 - np.maximum.accumulate(np.where(dn >= dn_max, idx, 0)))[::-1]
        from_below = up_max - lp
        from_above = dn_max[::-1] + lp
        use_below = from_below >= from_above
        return np.where(use_below, from_below, from_above), np.where(use_below, up_arg, dn_arg)

    def step(self, score: np.ndarray) -> int:
        """Add one frame's emission scores (n_periods,); return the decided index or −1."""
        if self.delta is None:
            self.delta = score.copy()
            self.back.append(self.idx)
        else:
            best, arg = self._best_from(self.delta)
            d = best + score
            self.delta = d - d.max()
            self.back.append(arg)
        if len(self.back) > self.lag + 1:
            self.back.pop(0)
        if len(self.back) < self.lag + 1:
            return -1
        s = int(np.argmax(self.delta))
        for bp in reversed(self.back[1:]):
            s = int(bp[s])
        return s


@dataclass
class PitchTrack:
    """Per-frame period (samples, int (n_frames,)) and its normalized correlation (n_frames,)."""

    period: np.ndarray
    corr: np.ndarray


def track_pitch(x: np.ndarray, fs_hz: int, n_frames: int,
                state: TaskState | None = None) -> PitchTrack:
    """Offline pitch track for frames 0 … n_frames−1 (same result as the streaming tracker).

    Frame k's period is decided with `VITERBI_LAG` frames of look-ahead (frames up to k + lag must
    exist in x, else zeros are assumed there, exactly as a flushed stream would). Runs in blocks
    of frames; ``state`` (:class:`sim.task.TaskState`) gets progress per block.
    """
    pr = pitch_range(fs_hz)
    n_ext = n_frames + VITERBI_LAG
    ncc = np.empty((n_ext, len(pr.periods)))
    tracker = ViterbiTracker(pr)
    idx = np.zeros(n_ext, dtype=int)
    for a, b in frame_blocks(n_ext):
        report(state, a / n_ext)
        ncc[a:b] = ncc_frames(extended_segments(x, fs_hz, b - a, first=a), pr)
        score = octave_scores(ncc[a:b], pr)
        for j in range(a, b):
            s = tracker.step(score[j - a])
            if j >= VITERBI_LAG:
                idx[j - VITERBI_LAG] = s
    idx = idx[:n_frames]
    return PitchTrack(pr.periods[idx], ncc[np.arange(n_frames), idx])
