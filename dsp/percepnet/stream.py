"""Streaming processor: push 10 ms blocks, get 10 ms blocks out, 40 ms algorithmic latency.

At step j (block j = input samples ``[j·H, (j+1)·H)`` pushed) the processor analyses frame j,
advances the pitch tracker (which decides frame k = j − 3), comb-filters frame k (reading up to
sample (j+1)·H), runs the model on step j's features and overlap-adds frame k. It returns the
samples ``[(j−4)·H, (j−3)·H)`` of the enhanced signal, i.e. ``stream[n] = enhanced[n − 4H]``
(`latency_samples`, 40 ms). The arithmetic is the same as the offline path's (`enhance.process`),
so the two agree to float rounding.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from dsp.percepnet.bands import band_matrix
from dsp.percepnet.comb import COMB_M, EPS, comb_weights
from dsp.percepnet.features import LOOKAHEAD_FRAMES, latency_samples, log_energy, period_feature
from dsp.percepnet.model import PercepNetModel
from dsp.percepnet.pitch import ViterbiTracker, ncc_frames, octave_scores, pitch_range
from dsp.percepnet.postfilter import STRENGTH, check_strength, postfilter
from dsp.percepnet.stft import hop_size, vorbis_window


@dataclass
class StreamOptions:
    """Switches of the enhancement chain (as `enhance.EnhanceOptions`)."""

    use_comb: bool = True
    use_postfilter: bool = True
    postfilter_gate: bool = False
    postfilter_strength: float = STRENGTH


class PercepNetStream:
    """Stateful per-block enhancer at the model's rate (16 kHz: 160-sample blocks)."""

    def __init__(self, model: PercepNetModel, options: StreamOptions | None = None):
        self.model = model
        self.opt = options or StreamOptions()
        check_strength(self.opt.postfilter_strength)
        self.fs = model.fs_hz
        self.hop = hop_size(self.fs)
        self.pr = pitch_range(self.fs)
        self.win = vorbis_window(2 * self.hop)
        self.w_comb = comb_weights()
        self.bm = band_matrix(self.fs)
        # input history: samples [(j + 1)·H − buf_len, (j + 1)·H); the comb of frame k = j − 3
        # reads back to k·H − H − M·T_max, the pitch search to j·H − H − T_max
        self.reach = COMB_M * self.pr.t_max
        self.buf_len = (LOOKAHEAD_FRAMES + 2) * self.hop + 2 * self.reach
        self.buf = np.zeros(self.buf_len)
        self.ola = np.zeros(self.hop)
        self.spec_hist: deque = deque(maxlen=LOOKAHEAD_FRAMES + 1)
        self.ncc_hist: deque = deque(maxlen=LOOKAHEAD_FRAMES + 1)
        self.tracker = ViterbiTracker(self.pr)
        self.state = model.new_state()
        self.j = 0
        nb = self.bm.shape[0]
        self.feat = np.zeros(2 * nb + 2)
        self.pad_period = period_feature(np.array(self.pr.t_min), np.array(0.0), self.fs)
        self.bm_t = np.ascontiguousarray(self.bm.T)
        # comb taps of frame k = j − 3: its window ends at (k+1)·H = (j+1)·H − 3H (buffer end − 3H)
        end = self.buf_len - LOOKAHEAD_FRAMES * self.hop
        self.comb_idx = np.arange(end - 2 * self.hop, end)[None, :]
        self.comb_k = np.arange(-COMB_M, COMB_M + 1)[:, None]

    @property
    def block_size(self) -> int:
        """Samples per push (10 ms)."""
        return self.hop

    @property
    def latency_samples(self) -> int:
        """Algorithmic latency in samples (4 hops = 40 ms)."""
        return latency_samples(self.fs)

    def process(self, block: np.ndarray) -> np.ndarray:
        """Push one block (block_size,) of input; returns block_size enhanced samples."""
        h = self.hop
        self.buf[:-h] = self.buf[h:]
        self.buf[-h:] = block
        n = len(self.buf)
        frame = self.buf[n - 2 * h:]
        y = np.fft.rfft(frame * self.win)
        e_y = (y.real ** 2 + y.imag ** 2) @ self.bm_t
        self.spec_hist.append((y, e_y))
        ext = self.buf[n - 2 * h - self.pr.t_max:]
        ncc = ncc_frames(ext[None, :], self.pr)
        self.ncc_hist.append(ncc[0])
        s = self.tracker.step(octave_scores(ncc, self.pr)[0])
        nb = len(e_y)
        feat = self.feat
        feat[:nb] = log_energy(e_y, self.fs)
        self.j += 1
        if s < 0:
            feat[nb:2 * nb] = 0.0
            feat[2 * nb:] = self.pad_period
            self.model.step(self.state, feat)
            return np.zeros(h)
        period = int(self.pr.periods[s])
        p_frame = self.w_comb @ self.buf[self.comb_idx - self.comb_k * period]
        p = np.fft.rfft(p_frame * self.win)
        yk, e_yk = self.spec_hist[0]
        e_p = (p.real ** 2 + p.imag ** 2) @ self.bm_t
        cross = (yk.real * p.real + yk.imag * p.imag) @ self.bm_t
        feat[nb:2 * nb] = cross / np.sqrt(e_yk * e_p + EPS)
        feat[2 * nb] = (period - self.pr.t_min) / (self.pr.t_max - self.pr.t_min) - 0.5
        feat[2 * nb + 1] = self.ncc_hist[0][s]
        g, r = self.model.step(self.state, feat)
        g = g.astype(np.float64)
        r = r.astype(np.float64)
        if self.opt.use_comb:
            rb = r @ self.bm
            z = (1 - rb) * yk + rb * p
            norm = np.sqrt(e_yk / ((z.real ** 2 + z.imag ** 2) @ self.bm_t + EPS))
            z = z * (norm @ self.bm)
        else:
            z = yk
        if self.opt.use_postfilter:
            g = postfilter(g, e_yk, gate=self.opt.postfilter_gate,
                           strength=self.opt.postfilter_strength)
        frame_out = np.fft.irfft(z * (g @ self.bm), 2 * h) * self.win
        out = self.ola + frame_out[:h]
        self.ola = frame_out[h:].copy()
        return out
