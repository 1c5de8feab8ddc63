"""Streaming LPCNet-style features: push 10 ms of 16 kHz audio, get the frames that became final.

The same arithmetic as :func:`dsp.dred.features.compute_features`, one 10 ms frame at a time
(the offline function is vectorized over the whole signal; this one keeps the state between
pushes: the input and excitation history, the low-pass filter state and the pitch tracker).

Timing: after the block of 10 ms frame m (input samples ``[160 m, 160 m + 160)``) is pushed,
feature frame ``m - LATENCY_FRAMES`` is final. Three frames of look-ahead: the pitch search of
frame t correlates the excitation window ending at ``160 t + 160``; the excitation of 10 ms frame t
is filtered with the LPC of the analysis window centred on its end (reaching ``160 t + 320``); the
Viterbi decides 2 frames late (``PITCH_LAG``). The offline
path sees the whole signal at once, so the two agree to float rounding on every frame but the last
``LATENCY_FRAMES`` of a finite signal (tests/test_dred_stream.py).
"""

from __future__ import annotations

from collections import deque

import numpy as np
import scipy.fft
import scipy.signal

from dsp.dred.features import (
    _PITCH_LOWPASS,
    _PITCH_LPC_ORDER,
    _PITCH_RANGE,
    _PITCH_WIN,
    _WINDOW,
    FRAME_SIZE,
    INT16_SCALE,
    NB_FEATURES,
    PITCH_CENTER,
    PITCH_LAG,
    PITCH_MAX_PERIOD,
    PITCH_MIN_PERIOD,
    PITCH_SCALE,
    WINDOW_SIZE,
    band_energies,
    band_energies_to_cepstrum,
    envelope_to_lpc,
)
from dsp.percepnet.pitch import ViterbiTracker, octave_scores

LATENCY_FRAMES = PITCH_LAG + 1
"""10 ms frames between the newest input frame and the newest final feature frame."""
_LAGS = np.arange(PITCH_MIN_PERIOD - 1, PITCH_MAX_PERIOD + 2)  # +-1 for the parabolic fit
_EXC_HIST = _PITCH_WIN + int(_LAGS[-1])  # excitation samples one frame's correlations read


class FeatureStream:
    """Features ``(20,)`` per 10 ms frame of 16 kHz float audio in [-1, 1], pushed in 160s."""

    def __init__(self) -> None:
        # input samples [160 M - 160 - 8, 160 M + 160), M = newest frame: the analysis window
        # of frame M and the LPC residual's memory before frame M - 1
        self.x = np.zeros(WINDOW_SIZE + _PITCH_LPC_ORDER)
        self.exc = np.zeros(_EXC_HIST)  # excitation up to the end of frame M - 1
        self.zi = np.zeros((_PITCH_LOWPASS.shape[0], 2))
        self.tracker = ViterbiTracker(_PITCH_RANGE, lag=PITCH_LAG)
        self.ceps: deque[np.ndarray] = deque(maxlen=LATENCY_FRAMES + 1)
        self.corrs: deque[np.ndarray] = deque(maxlen=PITCH_LAG + 1)
        self.m = 0  # frames pushed

    def push(self, block: np.ndarray) -> np.ndarray:
        """Push 10 ms ``(160,)``; returns the features ``(k, 20)`` now final (k is 0 or 1)."""
        h, order = FRAME_SIZE, _PITCH_LPC_ORDER
        self.x[:-h] = self.x[h:]
        self.x[-h:] = np.asarray(block, dtype=np.float64)
        spec = scipy.fft.rfft(self.x[order:] * INT16_SCALE * _WINDOW) / WINDOW_SIZE
        power = spec.real**2 + spec.imag**2
        self.ceps.append(band_energies_to_cepstrum(band_energies(power)))
        self.m += 1
        if self.m < 2:  # frame M - 1's excitation needs the LPC of frame M
            return np.zeros((0, NB_FEATURES))
        a = envelope_to_lpc(power, order=order)
        res = np.zeros(h)
        for k in range(order + 1):
            res += a[k] * self.x[order - k:order - k + h]
        y, self.zi = scipy.signal.sosfilt(_PITCH_LOWPASS, res, zi=self.zi)
        self.exc[:-h] = self.exc[h:]
        self.exc[-h:] = y
        self.corrs.append(self._correlations())
        s = self.tracker.step(octave_scores(self.corrs[-1][None, 1:-1], _PITCH_RANGE)[0])
        if s < 0:
            return np.zeros((0, NB_FEATURES))
        return self._feature(self.ceps[0], self.corrs[0], s)[None, :]

    def _correlations(self) -> np.ndarray:
        """Normalized correlation ``(227,)`` of frame M - 1's excitation window (the newest 20 ms)
        with itself T samples earlier, T = 31..257 (as ``features._lag_correlations``)."""
        seg = self.exc[-_PITCH_WIN:]
        lo = _EXC_HIST - _PITCH_WIN - int(_LAGS[-1])
        win = np.lib.stride_tricks.sliding_window_view(
            self.exc[lo:_EXC_HIST - int(_LAGS[0])], _PITCH_WIN)[::-1]  # row i: lag 31 + i
        num = win @ seg
        return num / np.sqrt(np.dot(seg, seg) * np.einsum("ij,ij->i", win, win) + 1e-9)

    @staticmethod
    def _feature(cep: np.ndarray, corr: np.ndarray, j: int) -> np.ndarray:
        """One frame's features from its cepstrum, correlations and Viterbi index ``j``
        (the refinement of ``features.pitch_search``)."""
        inner = corr[1:-1]
        near = np.clip(j + np.arange(-2, 3), 0, inner.size - 1)
        j = int(near[np.argmax(inner[near])])
        ym, y0, yp = corr[j], corr[j + 1], corr[j + 2]
        denom = ym - 2 * y0 + yp
        shift = float(np.clip(0.5 * (ym - yp) / denom, -0.5, 0.5)) if abs(denom) > 1e-12 else 0.0
        period = _LAGS[j + 1] + shift
        return np.concatenate([cep, [(period - PITCH_CENTER) / PITCH_SCALE,
                                     float(np.clip(y0, -1.0, 1.0)) - 0.5]])
