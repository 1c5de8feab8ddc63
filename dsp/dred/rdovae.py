"""DRED RDO-VAE inference in numpy: causal encoder, backward (newest -> oldest) decoder.

Time base: feature frames are 10 ms (20 features each, :mod:`dsp.dred.features`); the encoder
runs every 20 ms step j on frames 2j, 2j+1 and emits a latent z_j and an initial state s_j.
Latent j describes the 40 ms chunk of frames 2j-2 .. 2j+1 (``CHUNK_FRAMES = 4``). A packet
carries every other latent, newest first, so its chunks tile the history without overlap;
the decoder starts from the newest chunk's state and walks back in time, 4 frames per latent.

Network (trained by ``training/dred/train_rdovae.py``, weights ``assets/dred/rdovae.npz``,
float16): encoder = dense(tanh) -> GRU -> GRU -> concat -> dense heads for z and s; decoder =
state -> dense(tanh) -> dense(tanh) -> initial GRU states; each latent -> dense(tanh) -> GRU ->
GRU -> concat -> dense(tanh) -> dense -> 80 outputs. GRUs follow torch's gate convention
(reset gate applied to the recurrent projection including its bias).

The asset also holds the quantizer tables per quality level q = 0 (finest) .. 15 and per
dimension, separately for latents and states (:class:`QuantTables`): scale, soft dead zone,
and the Laplace ``(p0, r)`` fitted to the integer symbols on the training set, which is what the
range coder uses (:mod:`dsp.dred.payload`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsp.dred.laplace import DEFAULT_MAX_ABS, laplace_pmf
from dsp.weights import read_weights
from sim.task import TaskState, check

CHUNK_FRAMES = 4  # feature frames (10 ms) per latent: 40 ms
MAX_CHUNKS = 26  # 1.04 s of history per packet
N_LEVELS = 16  # quality levels q = 0 (finest) .. 15
NB_FEATURES = 20
ASSET_VERSION = 1
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "assets" / "dred" / "rdovae.npz"
CHECK_STEPS = 50  # GRU steps (20 ms each) between cancellation checks: a few ms of work


class RdoVaeError(ValueError):
    """Bad weights file or bad input to the RDO-VAE."""


@dataclass(frozen=True)
class QuantTables:
    """Per-level quantizer and entropy model, arrays ``(N_LEVELS, dim)``.

    ``mean_bits`` ``(N_LEVELS,)`` is the mean cost of one whole vector at each level on the
    training set (bits); ``pmf`` ``(N_LEVELS, dim, 2*DEFAULT_MAX_ABS + 1)`` the coder's tables.
    """

    scale: np.ndarray
    dead_zone: np.ndarray
    p0: np.ndarray
    r: np.ndarray
    mean_bits: np.ndarray
    pmf: np.ndarray

    @classmethod
    def from_arrays(cls, scale: np.ndarray, dead_zone: np.ndarray, p0: np.ndarray,
                    r: np.ndarray, mean_bits: np.ndarray) -> QuantTables:
        arrs = [np.asarray(a, dtype=np.float64) for a in (scale, dead_zone, p0, r)]
        shape = arrs[0].shape
        if len(shape) != 2 or shape[0] != N_LEVELS or any(a.shape != shape for a in arrs):
            raise RdoVaeError(f"quantizer tables must all be ({N_LEVELS}, dim)")
        bits = np.asarray(mean_bits, dtype=np.float64)
        if bits.shape != (N_LEVELS,):
            raise RdoVaeError(f"mean bits must have shape ({N_LEVELS},), got {bits.shape}")
        if not all(np.all(np.isfinite(a)) for a in [*arrs, bits]) or np.any(arrs[0] <= 0):
            raise RdoVaeError("quantizer tables must be finite with positive scales")
        pmf = laplace_pmf(arrs[2], arrs[3], DEFAULT_MAX_ABS)
        return cls(*arrs, bits, pmf)

    @property
    def dim(self) -> int:
        return self.scale.shape[1]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic


class _Dense:
    def __init__(self, w: np.ndarray, b: np.ndarray):
        self.wt = np.ascontiguousarray(w.T, dtype=np.float32)
        self.b = b.astype(np.float32)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x @ self.wt + self.b


class _Gru:
    """torch.nn.GRU (one layer): gates r, z, n stacked in that order."""

    def __init__(self, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray):
        self.inp = _Dense(w_ih, b_ih)
        self.rec = _Dense(w_hh, b_hh)
        self.size = w_hh.shape[1]

    def run(self, x: np.ndarray, h: np.ndarray, state: TaskState | None = None) -> np.ndarray:
        """Inputs ``(T, in)``, initial state ``(H,)`` -> outputs ``(T, H)``; ``state`` is
        checked for cancellation every `CHECK_STEPS` steps."""
        n_h = self.size
        xp = self.inp(x)  # input projections of all steps at once; only the recurrence loops
        out = np.empty((x.shape[0], n_h), dtype=np.float32)
        for t in range(x.shape[0]):
            if t % CHECK_STEPS == 0:
                check(state)
            hp = h @ self.rec.wt + self.rec.b
            rz = _sigmoid(xp[t, : 2 * n_h] + hp[: 2 * n_h])
            n = np.tanh(xp[t, 2 * n_h:] + rz[:n_h] * hp[2 * n_h:])
            h = n + rz[n_h:] * (h - n)
            out[t] = h
        return out


class RdoVae:
    """The numpy RDO-VAE with its quantizer tables (see module docstring)."""

    def __init__(self, weights: Mapping[str, np.ndarray]):
        try:
            version = int(np.asarray(weights["version"]))
            if version != ASSET_VERSION:
                raise RdoVaeError(f"rdovae asset version {version}, expected {ASSET_VERSION}")

            def w(name: str) -> np.ndarray:
                return np.asarray(weights["w_" + name], dtype=np.float32)

            def dense(name: str) -> _Dense:
                return _Dense(w(name + "__weight"), w(name + "__bias"))

            def gru(name: str) -> _Gru:
                return _Gru(*(w(f"{name}__{k}_l0") for k in ("weight_ih", "weight_hh",
                                                             "bias_ih", "bias_hh")))

            self.feat_mean, self.feat_std = w("feat_mean"), w("feat_std")
            self._enc_in, self._enc_z, self._enc_s = (dense(n) for n in ("enc_in", "enc_z",
                                                                         "enc_s"))
            self._enc_gru1, self._enc_gru2 = gru("enc_gru1"), gru("enc_gru2")
            self._dec_init1, self._dec_init2 = dense("dec_init1"), dense("dec_init2")
            self._dec_in, self._dec_hid, self._dec_out = (dense(n) for n in ("dec_in", "dec_hid",
                                                                             "dec_out"))
            self._dec_gru1, self._dec_gru2 = gru("dec_gru1"), gru("dec_gru2")
            self.latent_tables, self.state_tables = (QuantTables.from_arrays(
                *(weights[f"{part}_{k}"] for k in ("scale", "dead_zone", "p0", "r", "bits")))
                for part in ("latent", "state"))
        except KeyError as exc:
            raise RdoVaeError(f"rdovae weights lack array {exc}") from exc
        self.latent_dim = self._enc_z.b.size
        self.state_dim = self._enc_s.b.size
        if (self.latent_tables.dim != self.latent_dim or self.state_tables.dim != self.state_dim
                or self._dec_out.b.size != CHUNK_FRAMES * NB_FEATURES):
            raise RdoVaeError("rdovae weights have inconsistent shapes")

    @classmethod
    def load(cls, path: str | Path | None = None) -> RdoVae:
        """Load ``path`` (default ``assets/dred/rdovae.npz``)."""
        p = Path(path) if path is not None else DEFAULT_PATH
        arrays, _ = read_weights(p, RdoVaeError, "rdovae weights",
                                 "train with python -m training.dred.train_rdovae")
        return cls(arrays)

    def encode(self, features: np.ndarray, state: TaskState | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Features ``(n_frames, 20)`` -> latents ``(n_frames // 2, latent_dim)`` and states
        ``(n_frames // 2, state_dim)``; row j is step j (after frame 2j + 1), causal.
        ``state`` (:class:`sim.task.TaskState`) is checked for cancellation as it runs."""
        f = np.asarray(features)
        if f.ndim != 2 or f.shape[1] != NB_FEATURES:
            raise RdoVaeError(f"features must have shape (n_frames, {NB_FEATURES}), got {f.shape}")
        if not np.all(np.isfinite(f)):
            raise RdoVaeError("features contain NaN or inf")
        n = f.shape[0] // 2
        x = ((f[: 2 * n].astype(np.float32) - self.feat_mean) / self.feat_std).reshape(
            n, 2 * NB_FEATURES)
        d = np.tanh(self._enc_in(x))
        g1 = self._enc_gru1.run(d, np.zeros(self._enc_gru1.size, np.float32), state)
        g2 = self._enc_gru2.run(g1, np.zeros(self._enc_gru2.size, np.float32), state)
        h = np.concatenate([d, g1, g2], axis=1)
        return self._enc_z(h), self._enc_s(h)

    def encoder_state(self) -> tuple[np.ndarray, np.ndarray]:
        """The encoder GRUs' initial hidden states (what :meth:`encode` starts from)."""
        return (np.zeros(self._enc_gru1.size, np.float32),
                np.zeros(self._enc_gru2.size, np.float32))

    def encode_step(self, frames: np.ndarray, hidden: tuple[np.ndarray, np.ndarray]
                    ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """One step of :meth:`encode`: two feature frames ``(2, 20)`` and the GRU states ->
        latent ``(latent_dim,)``, state ``(state_dim,)`` and the new GRU states (the same
        arithmetic, so a stream of steps equals one :meth:`encode` call)."""
        x = ((np.asarray(frames).astype(np.float32) - self.feat_mean) / self.feat_std).reshape(
            1, 2 * NB_FEATURES)
        d = np.tanh(self._enc_in(x))
        g1 = self._enc_gru1.run(d, hidden[0])
        g2 = self._enc_gru2.run(g1, hidden[1])
        h = np.concatenate([d, g1, g2], axis=1)
        return self._enc_z(h)[0], self._enc_s(h)[0], (g1[0], g2[0])

    def decode(self, state: np.ndarray, latents: np.ndarray) -> np.ndarray:
        """Initial state ``(state_dim,)`` and latents ``(n_chunks, latent_dim)`` newest first ->
        features ``(4 * n_chunks, 20)`` in time order (the last 4 rows are the newest chunk)."""
        s = np.asarray(state)
        z = np.asarray(latents)
        if s.shape != (self.state_dim,):
            raise RdoVaeError(f"state must have shape ({self.state_dim},), got {s.shape}")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise RdoVaeError(f"latents must have shape (n_chunks, {self.latent_dim}), "
                              f"got {z.shape}")
        if not (np.all(np.isfinite(s)) and np.all(np.isfinite(z))):
            raise RdoVaeError("state or latents contain NaN or inf")
        h0 = np.tanh(self._dec_init2(np.tanh(self._dec_init1(s.astype(np.float32)))))
        n1 = self._dec_gru1.size
        d = np.tanh(self._dec_in(z.astype(np.float32)))
        g1 = self._dec_gru1.run(d, h0[:n1])
        g2 = self._dec_gru2.run(g1, h0[n1:])
        y = self._dec_out(np.tanh(self._dec_hid(np.concatenate([d, g1, g2], axis=1))))
        y = y.reshape(-1, CHUNK_FRAMES, NB_FEATURES) * self.feat_std + self.feat_mean
        return y[::-1].reshape(-1, NB_FEATURES).astype(np.float64)
