"""Neural PLC feature predictor (numpy inference; weights trained by training/dred/train_plc.py).

When nothing (regular packet, LBRR, DRED) covers a lost 10 ms frame, the receiver asks this
predictor for the next frame of 20 LPCNet-style features (18 Bark cepstra, pitch, correlation;
see :mod:`dsp.dred.features`) and drives the vocoder with it. Per frame: input = 20 features
normalized by the training mean/std + a flag (1 = the input is the predictor's own guess),
dense 128 (tanh) -> GRU 128 -> GRU 128 (sizes are read from the weights; libopus uses two GRUs
of 192) -> dense 20 added to the normalized input, de-normalized and clamped to the feature range
seen in training. GRUs follow torch's (r, z, n) gate layout.
Known frames advance the GRUs with flag 0; during a gap each prediction is fed back with flag 1,
which is how the model was trained (teacher forcing off inside simulated gaps of up to 40 frames).
Beyond those 40 frames its output is extrapolation: :func:`prediction_gain` fades what is played
from it (the predictor itself still consumes its own unfaded predictions).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dsp.dred.features import NB_BANDS, NB_FEATURES
from dsp.weights import read_weights

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "assets" / "dred" / "plc.npz"
HORIZON_FRAMES = 40  # the longest gap the predictor was trained on (10 ms frames)
FADE_DB_PER_FRAME = 0.5  # fade beyond the horizon: 50 dB per second of further prediction
_KEYS = ("mean", "std", "lo", "hi", "dense_in_w", "dense_in_b", "dense_out_w", "dense_out_b",
         *(f"{g}_{p}" for g in ("gru1", "gru2")
           for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))


class PlcError(ValueError):
    """Bad input to the PLC predictor or an unusable weights file."""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _gru(x: np.ndarray, h: np.ndarray, w: tuple[np.ndarray, ...]) -> np.ndarray:
    """One torch-layout GRU step; ``x`` (..., in), ``h`` (..., hidden) -> new h."""
    w_ih, w_hh, b_ih, b_hh = w
    gi = x @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    n_h = h.shape[-1]
    r = _sigmoid(gi[..., :n_h] + gh[..., :n_h])
    z = _sigmoid(gi[..., n_h:2 * n_h] + gh[..., n_h:2 * n_h])
    n = np.tanh(gi[..., 2 * n_h:] + r * gh[..., 2 * n_h:])
    return n + z * (h - n)


def prediction_gain(run: np.ndarray) -> np.ndarray:
    """Linear gain ``(...)`` for playing a frame that is the ``run``-th consecutive prediction
    (``run`` ``(...)`` integers, 0 = a known frame): 1 up to :data:`HORIZON_FRAMES`, then
    falling by :data:`FADE_DB_PER_FRAME` per frame."""
    excess = np.maximum(np.asarray(run, dtype=np.float64) - HORIZON_FRAMES, 0.0)
    return 10.0 ** (-FADE_DB_PER_FRAME * excess / 20.0)


def cepstral_distance_db(ref: np.ndarray, est: np.ndarray) -> np.ndarray:
    """LPCNet-style cepstral distance in dB per frame: 10/ln10 · sqrt(2 · Σ (c − ĉ)²).

    Over the 18 cepstra of feature arrays ``(..., 20)`` (or ``(..., 18)``); returns ``(...)``.
    """
    d = np.asarray(ref)[..., :NB_BANDS] - np.asarray(est)[..., :NB_BANDS]
    return 10.0 / np.log(10.0) * np.sqrt(2.0 * np.sum(d * d, axis=-1))


class FeaturePredictor:
    """Streaming next-frame feature predictor for one receiver (float32 compute)."""

    def __init__(self, weights: dict[str, np.ndarray]):
        missing = [k for k in _KEYS if k not in weights]
        if missing:
            raise PlcError(f"PLC weights lack {missing}")
        w = {k: np.asarray(weights[k], dtype=np.float32) for k in _KEYS}
        if not all(np.isfinite(v).all() for v in w.values()):
            raise PlcError("PLC weights contain NaN or inf")
        if w["dense_in_w"].shape[1] != NB_FEATURES + 1 or w["dense_out_w"].shape[0] != NB_FEATURES:
            raise PlcError(f"PLC weights are for another feature size: dense_in "
                           f"{w['dense_in_w'].shape}, dense_out {w['dense_out_w'].shape}")
        self._mean, self._inv_std, self._std = w["mean"], 1.0 / w["std"], w["std"]
        self._lo, self._hi = w["lo"], w["hi"]
        # The flag column is split off so a step is one matvec on the normalized frame.
        self._din_w = np.ascontiguousarray(w["dense_in_w"][:, :NB_FEATURES].T)
        self._din_flag = w["dense_in_w"][:, NB_FEATURES].copy()
        self._din_b = w["dense_in_b"]
        self._dout_w = np.ascontiguousarray(w["dense_out_w"].T)
        self._dout_b = w["dense_out_b"]
        self._gru1 = tuple(w[f"gru1_{p}"] for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        self._gru2 = tuple(w[f"gru2_{p}"] for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        self.hidden = (self._gru1[1].shape[1], self._gru2[1].shape[1])
        self.reset()

    @classmethod
    def load(cls, path: str | Path | None = None) -> FeaturePredictor:
        """Predictor with the weights of an npz file (default ``assets/dred/plc.npz``)."""
        p = Path(path) if path is not None else DEFAULT_PATH
        weights, _ = read_weights(p, PlcError, "PLC weights",
                                  "train with `python -m training.dred.train_plc`")
        return cls(weights)

    def reset(self) -> None:
        """Forget the stream: zero GRU states; the last frame becomes the training mean."""
        self._h1 = np.zeros(self.hidden[0], np.float32)
        self._h2 = np.zeros(self.hidden[1], np.float32)
        self._last_n = np.zeros(NB_FEATURES, np.float32)  # normalized last input frame

    def _advance(self, xn: np.ndarray, flag: float, h1: np.ndarray, h2: np.ndarray):
        z = np.tanh(xn @ self._din_w + (self._din_b + flag * self._din_flag))
        h1 = _gru(z, h1, self._gru1)
        return h1, _gru(h1, h2, self._gru2)

    def _output(self, xn: np.ndarray, h2: np.ndarray) -> np.ndarray:
        pred = (xn + h2 @ self._dout_w + self._dout_b) * self._std + self._mean
        return np.clip(pred, self._lo, self._hi)

    @staticmethod
    def _check_frame(frame: np.ndarray) -> np.ndarray:
        f = np.asarray(frame, dtype=np.float32)
        if f.shape != (NB_FEATURES,):
            raise PlcError(f"a feature frame must have shape ({NB_FEATURES},), got {f.shape}")
        if not np.isfinite(f).all():
            raise PlcError("feature frame contains NaN or inf")
        return f

    def observe(self, frame: np.ndarray) -> None:
        """Advance with a known frame ``(20,)`` (received or DRED-recovered), flag "known"."""
        self._last_n = (self._check_frame(frame) - self._mean) * self._inv_std
        self._h1, self._h2 = self._advance(self._last_n, 0.0, self._h1, self._h2)

    def predict(self) -> np.ndarray:
        """Prediction ``(20,)`` of the next frame; the GRUs then consume it, flag "lost"."""
        pred = self._output(self._last_n, self._h2)
        self._last_n = (pred - self._mean) * self._inv_std
        self._h1, self._h2 = self._advance(self._last_n, 1.0, self._h1, self._h2)
        return pred

    def fill(self, features: np.ndarray, known: np.ndarray) -> np.ndarray:
        """Offline concealment: ``features`` (n, 20), ``known`` (n,) bool -> (n, 20).

        Known rows are copied, unknown rows predicted; the same as ``reset`` then ``observe``
        / ``predict`` row by row (unknown rows of ``features`` are never read, may be NaN).
        """
        f = np.asarray(features, dtype=np.float32)
        k = np.asarray(known)
        if f.ndim != 2 or f.shape[1] != NB_FEATURES:
            raise PlcError(f"features must have shape (n, {NB_FEATURES}), got {f.shape}")
        if k.shape != (f.shape[0],) or k.dtype != bool:
            raise PlcError(f"known must be a bool array of shape ({f.shape[0]},), "
                           f"got {k.dtype} {k.shape}")
        if not np.isfinite(f[k]).all():
            raise PlcError("known feature rows contain NaN or inf")
        self.reset()
        out = np.empty_like(f)
        for i in range(f.shape[0]):
            if k[i]:
                self.observe(f[i])
                out[i] = f[i]
            else:
                out[i] = self.predict()
        return out

    def predict_gaps(self, features: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
        """Blind predictions ``(len(starts), length, 20)`` for gaps in one feature stream.

        For each start s, the predictor has observed ``features[:s]`` (from reset) and then
        predicts ``length`` frames with nothing received: row j estimates ``features[s + j]``.
        One pass over the stream, then all gaps run as one batch (offline evaluation).
        Resets the predictor.
        """
        f = np.asarray(features, dtype=np.float32)
        s = np.asarray(starts)
        if f.ndim != 2 or f.shape[1] != NB_FEATURES:
            raise PlcError(f"features must have shape (n, {NB_FEATURES}), got {f.shape}")
        if not np.isfinite(f).all():
            raise PlcError("features contain NaN or inf")
        if s.ndim != 1 or not np.issubdtype(s.dtype, np.integer) or (
                s.size and (s.min() < 1 or s.max() > f.shape[0])):
            raise PlcError(f"starts must be integers in [1, {f.shape[0]}] (1-D)")
        if int(length) != length or length < 1:
            raise PlcError(f"length must be a positive integer, got {length!r}")
        self.reset()
        h1 = np.empty((s.size, self.hidden[0]), np.float32)
        h2 = np.empty((s.size, self.hidden[1]), np.float32)
        last = np.empty((s.size, NB_FEATURES), np.float32)
        order = np.argsort(s, kind="stable")
        j = 0
        for t in range(int(s.max(initial=0))):
            self.observe(f[t])
            while j < s.size and s[order[j]] == t + 1:
                h1[order[j]], h2[order[j]], last[order[j]] = self._h1, self._h2, self._last_n
                j += 1
        out = np.empty((s.size, int(length), NB_FEATURES), np.float32)
        for step in range(int(length)):
            out[:, step] = self._output(last, h2)
            last = (out[:, step] - self._mean) * self._inv_std
            h1, h2 = self._advance(last, 1.0, h1, h2)
        self.reset()
        return out
