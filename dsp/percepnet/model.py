"""Numpy inference of the PercepNet-style model (weights trained by training/percepnet).

Layers (per step j, x = model input (n_features,)): ``d = tanh(W_fc·norm(x))``; causal conv k=5
over d (tanh) and k=3 (tanh) → c; GRU1(c) → h1; GRU2(h1) → h2; gain GRU over [c, h2] → hg;
strength GRU over [c, h2] → hr; ``g = σ(W_g·[c, h1, h2, hg])``, ``r = σ(W_r·hr)`` (n_bands each),
for frame j − 3. GRUs follow torch's (r, z, n) gate layout. `step` runs one frame with a state
(streaming); `run` runs a whole sequence with the per-time input projections batched (offline);
both give the same numbers to float32 rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsp.percepnet.quantize import dequantize
from dsp.percepnet.stft import BLOCK_FRAMES
from dsp.weights import read_weights
from sim.task import TaskState, report, sub

ASSET_DIR = Path(__file__).resolve().parents[2] / "assets" / "percepnet"
WEIGHT_FILES = {"float16": "percepnet16k_f16.npz", "int8": "percepnet16k_int8.npz"}
GRUS = ("gru1", "gru2", "grug", "grur")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def weight_path(kind: str = "float16") -> Path:
    """Path of the shipped weights: kind 'float16' or 'int8'."""
    if kind not in WEIGHT_FILES:
        raise ValueError(f"weights must be one of {sorted(WEIGHT_FILES)}, not {kind!r}")
    return ASSET_DIR / WEIGHT_FILES[kind]


class ModelError(ValueError):
    """A PercepNet weight file that is missing or cannot be read (the message names it)."""


@dataclass
class ModelState:
    """Recurrent state for `PercepNetModel.step`."""

    d_hist: np.ndarray
    c1_hist: np.ndarray
    h: dict[str, np.ndarray] = field(default_factory=dict)


class PercepNetModel:
    """Band gains and comb strengths from features; float32 compute."""

    def __init__(self, weights: dict[str, np.ndarray], meta: dict | None = None):
        w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
        self.meta = meta or {}
        self.fs_hz = int(self.meta.get("fs_hz", 16000))
        self.mean, self.inv_std = w["in_mean"], 1.0 / w["in_std"]
        self.fc_w, self.fc_b = w["fc_w"], w["fc_b"]
        # conv weight (out, in, k) → (out, k·in) matching a (k, in) history flattened
        self.c1_w = self._conv_matrix(w["conv1_w"])
        self.c2_w = self._conv_matrix(w["conv2_w"])
        self.c1_b, self.c2_b = w["conv1_b"], w["conv2_b"]
        self.k1, self.k2 = w["conv1_w"].shape[2], w["conv2_w"].shape[2]
        self.gru = {n: (w[f"{n}_wih"], w[f"{n}_whh"], w[f"{n}_bih"], w[f"{n}_bhh"]) for n in GRUS}
        # the two heads read the same input: one stacked input projection
        self.head_wih = np.concatenate([w["grug_wih"], w["grur_wih"]])
        self.head_bih = np.concatenate([w["grug_bih"], w["grur_bih"]])
        self.n_g = w["grug_wih"].shape[0]
        self.fcg_w, self.fcg_b = w["fcg_w"], w["fcg_b"]
        self.fcr_w, self.fcr_b = w["fcr_w"], w["fcr_b"]
        self.n_features = self.fc_w.shape[1]
        self.n_bands = self.fcg_w.shape[0]

    @staticmethod
    def _conv_matrix(w: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(w.transpose(0, 2, 1).reshape(w.shape[0], -1))

    @classmethod
    def load(cls, path: str | Path) -> PercepNetModel:
        """Load a float16/float32 or int8 npz written by training/percepnet/train.py --export."""
        stored, meta = read_weights(path, ModelError, "PercepNet weights")
        return cls(dequantize(stored), meta)

    @property
    def n_params(self) -> int:
        """Number of weights (fc, conv, GRUs, heads)."""
        n = self.fc_w.size + self.fc_b.size + self.c1_w.size + self.c2_w.size
        n += self.c1_b.size + self.c2_b.size + self.fcg_w.size + self.fcg_b.size
        n += self.fcr_w.size + self.fcr_b.size
        return n + sum(a.size for g in self.gru.values() for a in g)

    def new_state(self) -> ModelState:
        """Zero state."""
        c = self.fc_w.shape[0]
        h = {n: np.zeros(self.gru[n][1].shape[1], np.float32) for n in GRUS}
        return ModelState(np.zeros((self.k1, c), np.float32),
                          np.zeros((self.k2, self.c1_w.shape[0]), np.float32), h)

    @staticmethod
    def _gru_cell(gi: np.ndarray, h: np.ndarray, whh: np.ndarray, bhh: np.ndarray) -> np.ndarray:
        gh = whh @ h + bhh
        n = h.shape[-1]
        rz = _sigmoid(gi[: 2 * n] + gh[: 2 * n])
        cand = np.tanh(gi[2 * n:] + rz[:n] * gh[2 * n:])
        z = rz[n:]
        return (1.0 - z) * cand + z * h

    def step(self, state: ModelState, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One frame: features (n_features,) → (gains, strengths), each float32 (n_bands,)."""
        xn = ((np.asarray(x, np.float32) - self.mean) * self.inv_std).astype(np.float32)
        d = np.tanh(self.fc_w @ xn + self.fc_b)
        state.d_hist[:-1] = state.d_hist[1:]
        state.d_hist[-1] = d
        c1 = np.tanh(self.c1_w @ state.d_hist.reshape(-1) + self.c1_b)
        state.c1_hist[:-1] = state.c1_hist[1:]
        state.c1_hist[-1] = c1
        c = np.tanh(self.c2_w @ state.c1_hist.reshape(-1) + self.c2_b)
        h = state.h
        wih, whh, bih, bhh = self.gru["gru1"]
        h["gru1"] = self._gru_cell(wih @ c + bih, h["gru1"], whh, bhh)
        wih, whh, bih, bhh = self.gru["gru2"]
        h["gru2"] = self._gru_cell(wih @ h["gru1"] + bih, h["gru2"], whh, bhh)
        gi = self.head_wih @ np.concatenate([c, h["gru2"]]) + self.head_bih
        _, whh, _, bhh = self.gru["grug"]
        h["grug"] = self._gru_cell(gi[: self.n_g], h["grug"], whh, bhh)
        _, whh, _, bhh = self.gru["grur"]
        h["grur"] = self._gru_cell(gi[self.n_g:], h["grur"], whh, bhh)
        g = _sigmoid(self.fcg_w @ np.concatenate([c, h["gru1"], h["gru2"], h["grug"]]) + self.fcg_b)
        r = _sigmoid(self.fcr_w @ h["grur"] + self.fcr_b)
        return g, r

    def _gru_seq(self, gi: np.ndarray, name: str, state: TaskState | None = None) -> np.ndarray:
        _, whh, _, bhh = self.gru[name]
        h = np.zeros(whh.shape[1], np.float32)
        out = np.empty((gi.shape[0], h.shape[0]), np.float32)
        for t in range(gi.shape[0]):
            if t % BLOCK_FRAMES == 0:
                report(state, t / gi.shape[0])
            h = self._gru_cell(gi[t], h, whh, bhh)
            out[t] = h
        return out

    @staticmethod
    def _causal_stack(a: np.ndarray, k: int) -> np.ndarray:
        pad = np.concatenate([np.zeros((k - 1, a.shape[1]), a.dtype), a])
        return np.concatenate([pad[i:i + a.shape[0]] for i in range(k)], axis=1)

    def run(self, feats: np.ndarray, state: TaskState | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
        """Whole sequence: features (T, n_features) → (gains, strengths), each (T, n_bands).

        ``state`` (:class:`sim.task.TaskState`): progress every `BLOCK_FRAMES` steps of the four
        recurrent layers (a quarter each), which is where the time goes.
        """
        xn = ((np.asarray(feats, np.float32) - self.mean) * self.inv_std).astype(np.float32)
        d = np.tanh(xn @ self.fc_w.T + self.fc_b)
        c1 = np.tanh(self._causal_stack(d, self.k1) @ self.c1_w.T + self.c1_b)
        c = np.tanh(self._causal_stack(c1, self.k2) @ self.c2_w.T + self.c2_b)
        wih, _, bih, _ = self.gru["gru1"]
        h1 = self._gru_seq(c @ wih.T + bih, "gru1", sub(state, 0.0, 0.25))
        wih, _, bih, _ = self.gru["gru2"]
        h2 = self._gru_seq(h1 @ wih.T + bih, "gru2", sub(state, 0.25, 0.5))
        gi = np.concatenate([c, h2], axis=1) @ self.head_wih.T + self.head_bih
        hg = self._gru_seq(gi[:, : self.n_g], "grug", sub(state, 0.5, 0.75))
        hr = self._gru_seq(gi[:, self.n_g:], "grur", sub(state, 0.75, 1.0))
        g = _sigmoid(np.concatenate([c, h1, h2, hg], axis=1) @ self.fcg_w.T + self.fcg_b)
        r = _sigmoid(hr @ self.fcr_w.T + self.fcr_b)
        return g, r


_CACHE: dict[str, PercepNetModel] = {}


def load_model(kind_or_path: str | Path = "float16") -> PercepNetModel:
    """The shipped model ('float16' or 'int8') or a weights file, cached per process."""
    key = str(kind_or_path)
    if key not in _CACHE:
        path = weight_path(key) if key in WEIGHT_FILES else Path(key)
        _CACHE[key] = PercepNetModel.load(path)
    return _CACHE[key]
