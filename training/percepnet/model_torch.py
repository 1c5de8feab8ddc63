"""The PercepNet-style model in torch, for training only (inference is numpy: dsp.percepnet.model).

inputs (B, T, n_features) → normalise → dense (tanh) → causal conv k=5 (tanh) → causal conv k=3
(tanh) → GRU → GRU; gain head: GRU over [conv, gru2], dense sigmoid over [conv, gru1, gru2,
gru_gain] → n_bands gains; strength head: GRU over [conv, gru2], dense sigmoid → n_bands strengths.
Row t's outputs are for frame t − 3 (see dsp.percepnet.features).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class PercepNetTorch(nn.Module):
    def __init__(self, n_features: int, n_bands: int, dense: int = 128, conv: int = 128,
                 gru: int = 128, gru_gain: int = 128, gru_strength: int = 64):
        super().__init__()
        self.register_buffer("in_mean", torch.zeros(n_features))
        self.register_buffer("in_std", torch.ones(n_features))
        self.fc = nn.Linear(n_features, dense)
        self.conv1 = nn.Conv1d(dense, conv, 5)
        self.conv2 = nn.Conv1d(conv, conv, 3)
        self.gru1 = nn.GRU(conv, gru, batch_first=True)
        self.gru2 = nn.GRU(gru, gru, batch_first=True)
        self.gru_g = nn.GRU(conv + gru, gru_gain, batch_first=True)
        self.gru_r = nn.GRU(conv + gru, gru_strength, batch_first=True)
        self.fc_g = nn.Linear(conv + 2 * gru + gru_gain, n_bands)
        self.fc_r = nn.Linear(gru_strength, n_bands)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.tanh(self.fc((x - self.in_mean) / self.in_std))
        h = h.transpose(1, 2)
        h = torch.tanh(self.conv1(nn.functional.pad(h, (4, 0))))
        c = torch.tanh(self.conv2(nn.functional.pad(h, (2, 0)))).transpose(1, 2)
        g1, _ = self.gru1(c)
        g2, _ = self.gru2(g1)
        cg = torch.cat([c, g2], dim=-1)
        gg, _ = self.gru_g(cg)
        gr, _ = self.gru_r(cg)
        gain = torch.sigmoid(self.fc_g(torch.cat([c, g1, g2, gg], dim=-1)))
        strength = torch.sigmoid(self.fc_r(gr))
        return gain, strength

    def numpy_weights(self) -> dict[str, np.ndarray]:
        """Weights under the names dsp.percepnet.model expects (float32)."""
        out = {"in_mean": self.in_mean, "in_std": self.in_std,
               "fc_w": self.fc.weight, "fc_b": self.fc.bias,
               "conv1_w": self.conv1.weight, "conv1_b": self.conv1.bias,
               "conv2_w": self.conv2.weight, "conv2_b": self.conv2.bias,
               "fcg_w": self.fc_g.weight, "fcg_b": self.fc_g.bias,
               "fcr_w": self.fc_r.weight, "fcr_b": self.fc_r.bias}
        for name in ("gru1", "gru2", "gru_g", "gru_r"):
            m = getattr(self, name)
            key = name.replace("_", "")
            out[f"{key}_wih"] = m.weight_ih_l0
            out[f"{key}_whh"] = m.weight_hh_l0
            out[f"{key}_bih"] = m.bias_ih_l0
            out[f"{key}_bhh"] = m.bias_hh_l0
        return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in out.items()}


def percepnet_loss(g_hat, r_hat, g, r, gamma: float = 0.5, c4: float = 10.0,
                   over_attenuation: float = 0.0) -> torch.Tensor:
    """PercepNet loss, mean over frames:
    Σ(g^γ − ĝ^γ)² + C4·Σ(g^γ − ĝ^γ)⁴ + Σ((1−r)^γ − (1−r̂)^γ)² + w_o·Σ relu(g^γ − ĝ^γ)².

    The last term (PercepNet+, weight `over_attenuation` = w_o) charges gains below the target
    extra: over-attenuated speech bands cost intelligibility (STOI), residual noise costs less.
    g_hat, r_hat, g, r: (B, T, n_bands) in [0, 1]."""
    eps = 1e-8
    dg = (g + eps) ** gamma - (g_hat + eps) ** gamma
    dr = (1 - r + eps) ** gamma - (1 - r_hat + eps) ** gamma
    per_band = dg ** 2 + c4 * dg ** 4 + dr ** 2
    if over_attenuation:
        per_band = per_band + over_attenuation * torch.relu(dg) ** 2
    return per_band.sum(-1).mean()


def envelope_correlation_loss(g_hat: torch.Tensor, g: torch.Tensor, log_e: torch.Tensor,
                              bands: slice, seg: int = 38, step: int = 8,
                              clip_db: float = 15.0, silence_db: float = 40.0) -> torch.Tensor:
    """1 − STOI-like short-time envelope correlation between target and enhanced band amplitudes.

    STOI (Taal et al. 2011) correlates clean and enhanced 1/3-octave band amplitudes over 384 ms
    segments after scaling the enhanced segment to the clean one's norm and clipping it at
    clean·(1 + 10^(clip_db/20)), ignoring frames more than silence_db below the loudest. The gain
    loss weights every band-frame alike; this term rewards the temporal shape of speech bands,
    which is what intelligibility depends on. Here on the model's own bands: amplitudes
    g·√E_y and ĝ·√E_y from the noisy band energies E_y (comb filter and postfilter ignored).
    g_hat, g, log_e: (B, T, n_bands) (log_e: log10 noisy band energies); bands: the bands to use;
    seg, step: segment length and hop in 10 ms frames."""
    amp = torch.sqrt(10.0 ** log_e[..., bands].double()).float()
    a = g[..., bands] * amp
    a_hat = g_hat[..., bands] * amp
    e = (a ** 2).sum(-1)
    active = (10 * torch.log10(e + 1e-20)
              > 10 * torch.log10(e.amax(1, keepdim=True) + 1e-20) - silence_db).float()
    a = a.unfold(1, seg, step)  # (B, S, n_bands, seg)
    a_hat = a_hat.unfold(1, seg, step)
    w = active.unfold(1, seg, step).mean(-1)  # (B, S): share of active frames
    eps = 1e-8
    scale = a.norm(dim=-1, keepdim=True) / (a_hat.norm(dim=-1, keepdim=True) + eps)
    a_hat = torch.minimum(a_hat * scale, a * (1 + 10 ** (clip_db / 20)))
    a = a - a.mean(-1, keepdim=True)
    a_hat = a_hat - a_hat.mean(-1, keepdim=True)
    corr = (a * a_hat).sum(-1) / (a.norm(dim=-1) * a_hat.norm(dim=-1) + eps)
    return 1 - (corr.mean(-1) * w).sum() / (w.sum() + eps)
