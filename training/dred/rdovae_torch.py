"""Torch RDO-VAE for DRED (training only; run time is :mod:`dsp.dred.rdovae` in numpy).

Encoder: every 20 ms step j it reads feature frames 2j, 2j+1 (40 inputs, standardized), a dense
layer and two stacked GRUs (causal), and emits a latent z_j (``latent_dim``) and an initial
decoder state s_j (``state_dim``). Latent j describes the 40 ms chunk of frames 2j-2 .. 2j+1.

Decoder: runs newest -> oldest. s_j of the newest chunk -> two dense layers -> the initial
hidden states of two stacked GRUs; then each latent z_j, z_{j-2}, ... -> dense -> GRUs -> dense
-> 80 outputs = 4 feature frames (time order) of that chunk.

Quantizer (per quality level q = 0..15 and per dimension, latents and state separately): scale s,
soft dead zone d, ``y = x*s - d*tanh(x*s / (d + 0.1))``, then rounding (straight-through in
training). The rate is the exact cost of the rounded symbols under a per-(q, dim) discrete
Laplace (p0, r) learnt jointly, i.e. the coder's cost, so the rates seen in training match the
tables fitted after training (:func:`symbol_bits`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

N_LEVELS = 16
NB_FEATURES = 20
CHUNK_FRAMES = 4
MAX_ABS = 15  # symbol clip, same as dsp.dred.laplace.DEFAULT_MAX_ABS


class RdoVaeTorch(nn.Module):
    """Encoder, decoder and per-level quantizer parameters (see module docstring)."""

    def __init__(self, latent_dim: int = 24, state_dim: int = 24, enc_dense: int = 128,
                 enc_gru: int = 96, dec_dense: int = 96, dec_gru: int = 128,
                 dec_hidden: int = 128, init_hidden: int = 128):
        super().__init__()
        self.latent_dim, self.state_dim = latent_dim, state_dim
        self.dec_gru_size = dec_gru
        self.register_buffer("feat_mean", torch.zeros(NB_FEATURES))
        self.register_buffer("feat_std", torch.ones(NB_FEATURES))
        self.enc_in = nn.Linear(2 * NB_FEATURES, enc_dense)
        self.enc_gru1 = nn.GRU(enc_dense, enc_gru, batch_first=True)
        self.enc_gru2 = nn.GRU(enc_gru, enc_gru, batch_first=True)
        cat = enc_dense + 2 * enc_gru
        self.enc_z = nn.Linear(cat, latent_dim)
        self.enc_s = nn.Linear(cat, state_dim)
        self.dec_init1 = nn.Linear(state_dim, init_hidden)
        self.dec_init2 = nn.Linear(init_hidden, 2 * dec_gru)
        self.dec_in = nn.Linear(latent_dim, dec_dense)
        self.dec_gru1 = nn.GRU(dec_dense, dec_gru, batch_first=True)
        self.dec_gru2 = nn.GRU(dec_gru, dec_gru, batch_first=True)
        self.dec_hid = nn.Linear(dec_dense + 2 * dec_gru, dec_hidden)
        self.dec_out = nn.Linear(dec_hidden, CHUNK_FRAMES * NB_FEATURES)
        n = latent_dim + state_dim
        # fine levels start with large scales (small steps); coarse ones with small scales
        scale0 = torch.logspace(math.log10(6.0), math.log10(0.4), N_LEVELS)
        self.q_log_scale = nn.Parameter(scale0.log()[:, None].repeat(1, n))
        self.q_dead_raw = nn.Parameter(torch.full((N_LEVELS, n), -2.0))
        self.q_p0_logit = nn.Parameter(torch.zeros(N_LEVELS, n))
        self.q_rate_logit = nn.Parameter(torch.zeros(N_LEVELS, n))

    # -- encoder / decoder ----------------------------------------------------------------
    def encode(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """feats ``(B, 2S, 20)`` -> latents ``(B, S, latent_dim)``, states ``(B, S, state_dim)``."""
        b, t, _ = feats.shape
        x = ((feats - self.feat_mean) / self.feat_std).reshape(b, t // 2, 2 * NB_FEATURES)
        d = torch.tanh(self.enc_in(x))
        g1, _ = self.enc_gru1(d)
        g2, _ = self.enc_gru2(g1)
        h = torch.cat([d, g1, g2], dim=-1)
        return self.enc_z(h), self.enc_s(h)

    def decode(self, state: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        """state ``(N, state_dim)``, latents ``(N, C, latent_dim)`` newest first ->
        ``(N, C, 80)``: chunk k's 4 frames (time order within the chunk), newest chunk first."""
        h0 = torch.tanh(self.dec_init2(torch.tanh(self.dec_init1(state))))
        h1, h2 = h0[:, : self.dec_gru_size], h0[:, self.dec_gru_size:]
        d = torch.tanh(self.dec_in(latents))
        g1, _ = self.dec_gru1(d, h1[None].contiguous())
        g2, _ = self.dec_gru2(g1, h2[None].contiguous())
        y = self.dec_out(torch.tanh(self.dec_hid(torch.cat([d, g1, g2], dim=-1))))
        n, c, _ = y.shape
        y = y.reshape(n, c, CHUNK_FRAMES, NB_FEATURES) * self.feat_std + self.feat_mean
        return y.reshape(n, c, CHUNK_FRAMES * NB_FEATURES)

    # -- quantizer ------------------------------------------------------------------------
    def quant_params(self, q: torch.Tensor, part: str) -> tuple[torch.Tensor, ...]:
        """Scale, dead zone, Laplace p0 and decay r for levels ``q`` -> ``(*q.shape, dim)``."""
        sl = slice(0, self.latent_dim) if part == "latent" else slice(self.latent_dim, None)
        scale = self.q_log_scale[:, sl].exp()[q]
        dead = nn.functional.softplus(self.q_dead_raw[:, sl])[q]
        p0 = torch.sigmoid(self.q_p0_logit[:, sl])[q].clamp(1e-4, 1 - 1e-4)
        r = torch.sigmoid(self.q_rate_logit[:, sl])[q].clamp(1e-4, 1 - 1e-4)
        return scale, dead, p0, r

    def quantize(self, x: torch.Tensor, q: torch.Tensor, part: str
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """Dequantized ``x`` (straight-through rounding) and its bits per vector."""
        scale, dead, p0, r = self.quant_params(q, part)
        xs = x * scale
        y = xs - dead * torch.tanh(xs / (dead + 0.1))
        # clipping stays in the gradient path: a clipped value gets no distortion gradient,
        # only the rate's, which pulls it back inside the alphabet
        yc = y.clamp(-MAX_ABS, MAX_ABS)
        y_hard = yc + (torch.round(yc) - yc).detach()
        return y_hard / scale, symbol_bits(y, p0, r).sum(dim=-1)


def symbol_bits(y: torch.Tensor, p0: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Bits of the coded symbol round(clip(y)) under the discrete Laplace (p0, r) of
    :func:`dsp.dred.laplace.laplace_pmf` (its value: exact, so p0 and r are fitted by maximum
    likelihood), with the gradient in y of its piecewise-linear interpolation in |y|."""
    c0 = -torch.log2(p0)
    c1 = -torch.log2(0.5 * (1.0 - p0) * (1.0 - r))
    slope = -torch.log2(r)
    k = torch.round(y.detach().clamp(-MAX_ABS, MAX_ABS)).abs()
    exact = torch.where(k == 0, c0, c1 + (k - 1.0) * slope)
    a = y.abs()
    c0d, c1d, sd = c0.detach(), c1.detach(), slope.detach()
    interp = torch.where(a < 1.0, c0d + a * (c1d - c0d), c1d + (a - 1.0) * sd)
    return exact + interp - interp.detach()


def frame_loss(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """libopus rdovae distortion per frame ``(...)`` for features ``(..., 20)``: cepstral MSE,
    pitch error weighted by the squared correlation, correlation error."""
    ceps = (pred[..., :18] - true[..., :18]) ** 2
    pitch = 2.0 * (pred[..., 18] - true[..., 18]).abs()
    corr = (pred[..., 19] - true[..., 19]) ** 2
    w = torch.relu(true[..., 19] + 0.5) ** 2
    return ceps.mean(dim=-1) + (10.0 / 18.0) * pitch * w + (1.0 / 18.0) * corr


def quality_levels(q0: np.ndarray, dq: np.ndarray, qmax: np.ndarray, n_chunks: int) -> np.ndarray:
    """Age-coarsened levels ``(..., n_chunks)`` (same rule as dsp.dred.payload.quality_levels)."""
    dq_tab = np.array([0, 2, 3, 4, 6, 8, 12, 16])
    i = np.arange(n_chunks)
    q0, qmax = np.asarray(q0)[..., None], np.asarray(qmax)[..., None]
    return np.minimum(qmax, q0 + (dq_tab[np.asarray(dq)][..., None] * i + 8) // 16)


def model_from_npz(weights: dict[str, np.ndarray]) -> RdoVaeTorch:
    """A model with the layer sizes and network weights of a run-time npz (quantizer
    parameters stay at their initial values: the run time uses the npz tables directly)."""
    def rows(name: str) -> int:
        return int(weights[f"w_{name}__weight"].shape[0])

    def gru(name: str) -> int:
        return int(weights[f"w_{name}__weight_hh_l0"].shape[1])

    model = RdoVaeTorch(latent_dim=rows("enc_z"), state_dim=rows("enc_s"),
                        enc_dense=rows("enc_in"), enc_gru=gru("enc_gru1"),
                        dec_dense=rows("dec_in"), dec_gru=gru("dec_gru1"),
                        dec_hidden=rows("dec_hid"), init_hidden=rows("dec_init1"))
    sd = model.state_dict()
    for name in sd:
        key = "w_" + name.replace(".", "__")
        if key in weights:
            sd[name] = torch.from_numpy(np.asarray(weights[key], dtype=np.float32))
    model.load_state_dict(sd)
    return model


def export_weights(model: RdoVaeTorch) -> dict[str, np.ndarray]:
    """Network weights as float16 arrays named ``w_<param path with __>``, plus the feature
    standardization (float32). Quantizer tables are exported separately."""
    out = {}
    for name, t in model.state_dict().items():
        if name.startswith("q_"):
            continue
        dtype = np.float32 if name.startswith("feat_") else np.float16
        out["w_" + name.replace(".", "__")] = t.detach().cpu().numpy().astype(dtype)
    return out
