"""Torch twin of :mod:`dsp.dred.plc`: the PLC feature predictor, its training loss, npz export.

Network per 10 ms frame (libopus's deep-PLC predictor, GRUs 128 wide instead of 192 so it
trains on one shared CPU thread in 21 min; sizes in plc_settings.json): input = 20 normalized
features + a "lost" flag (1 = the input is the model's own prediction) -> dense 128 (tanh)
-> GRU 128 -> GRU 128 -> dense 20, added to the normalized input frame (the network predicts
the change to the next frame), de-normalized and clamped to the feature range seen in
training so a long blind run cannot leave the space of real features.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from dsp.dred.features import NB_BANDS, NB_FEATURES
from sim.outputs import write_npz

PITCH, CORR = NB_BANDS, NB_BANDS + 1  # feature indices


class PlcNet(nn.Module):
    """Next-frame feature predictor; ``step`` advances one frame for a batch."""

    def __init__(self, mean: np.ndarray, std: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 dense: int = 128, gru: int = 128):
        super().__init__()
        self.dense_in = nn.Linear(NB_FEATURES + 1, dense)
        self.gru1 = nn.GRUCell(dense, gru)
        self.gru2 = nn.GRUCell(gru, gru)
        self.dense_out = nn.Linear(gru, NB_FEATURES)
        for name, v in (("mean", mean), ("std", std), ("lo", lo), ("hi", hi)):
            self.register_buffer(name, torch.as_tensor(np.asarray(v, np.float32)))

    def init_state(self, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Zero GRU states ``(batch, gru)`` twice."""
        z = torch.zeros(batch, self.gru1.hidden_size)
        return z, z.clone()

    def step(self, xn: torch.Tensor, lost: torch.Tensor,
             state: tuple[torch.Tensor, torch.Tensor]):
        """Consume a normalized frame ``xn`` (B, 20) with flag ``lost`` (B, 1).

        Returns ``(normalized prediction of the next frame (B, 20), new state)``; the
        network works in the normalized domain so the loop does no scaling per step.
        """
        z = torch.tanh(self.dense_in(torch.cat([xn, lost], dim=1)))
        h1 = self.gru1(z, state[0])
        h2 = self.gru2(h1, state[1])
        pred = torch.clamp(xn + self.dense_out(h2), (self.lo - self.mean) / self.std,
                           (self.hi - self.mean) / self.std)
        return pred, (h1, h2)

    def run(self, feats: torch.Tensor, lost: torch.Tensor) -> torch.Tensor:
        """Predictions ``(B, T-1, 20)`` of frames 1..T-1 of ``feats`` (B, T, 20).

        Frames with ``lost`` (B, T) True are replaced by the model's previous prediction and
        flagged, exactly as the runtime predictor does during a gap (teacher forcing off).
        ``lost[:, 0]`` must be False.
        """
        xn = (feats - self.mean) / self.std
        flags = lost.float()[..., None]
        lost_b = lost[..., None]
        state = self.init_state(feats.shape[0])
        preds = []
        prev = xn[:, 0]
        for t in range(feats.shape[1] - 1):
            x = torch.where(lost_b[:, t], prev, xn[:, t]) if t else xn[:, 0]
            prev, state = self.step(x, flags[:, t], state)
            preds.append(prev)
        return torch.stack(preds, dim=1) * self.std + self.mean


def _idct_matrix(n: int = NB_BANDS) -> torch.Tensor:
    """Orthonormal inverse DCT-II ``(n, n)``: cepstra -> log10 band energies."""
    k = np.arange(n)
    c = np.cos(np.pi * k[None, :] * (k[:, None] + 0.5) / n) * np.sqrt(2.0 / n)
    c[:, 0] = np.sqrt(1.0 / n)
    return torch.as_tensor(c, dtype=torch.float32)


_IDCT = _idct_matrix()


def plc_loss(pred: torch.Tensor, target: torch.Tensor, over_bias: float = 0.5,
             pitch_weight: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Training loss of predictions ``pred`` vs ``target`` (both (..., 20)).

    L1 on the 18 cepstra + L1 on the log10 band energies (inverse DCT) with an extra
    ``over_bias`` penalty on over-estimated energy (a too-loud guess in a gap is worse than a
    too-quiet one, and it pushes long blind runs to decay) + voicing-weighted, capped L1 on the
    pitch feature (capped so octave ambiguity does not pull the guess between octaves)
    + L1 on the correlation. Returns ``(loss, parts)``.
    """
    err = pred - target
    cep = err[..., :NB_BANDS].abs().mean()
    e_bands = err[..., :NB_BANDS] @ _IDCT.T
    bands = (e_bands.abs() + over_bias * torch.relu(e_bands)).mean()
    voicing = torch.clamp((target[..., CORR] + 0.5 - 0.4) / 0.3, 0.0, 1.0)
    pitch = (voicing * torch.clamp(err[..., PITCH].abs(), max=1.0)).mean()
    corr = err[..., CORR].abs().mean()
    loss = cep + bands + pitch_weight * pitch + corr
    parts = {"cep": cep.item(), "bands": bands.item(), "pitch": pitch.item(), "corr": corr.item()}
    return loss, parts


def export_npz(model: PlcNet, path: Path) -> None:
    """Write the float16 weights file read by :class:`dsp.dred.plc.FeaturePredictor`."""
    sd = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    arrays = {
        "mean": sd["mean"], "std": sd["std"], "lo": sd["lo"], "hi": sd["hi"],
        "dense_in_w": sd["dense_in.weight"], "dense_in_b": sd["dense_in.bias"],
        "dense_out_w": sd["dense_out.weight"], "dense_out_b": sd["dense_out.bias"],
    }
    for g in ("gru1", "gru2"):
        for part in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            arrays[f"{g}_{part}"] = sd[f"{g}.{part}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_npz(path, {k: v.astype(np.float16) for k, v in arrays.items()}, compressed=True)


def from_npz(path: Path) -> PlcNet:
    """A :class:`PlcNet` holding the (float16-rounded) weights of an exported npz."""
    with np.load(path) as z:
        a = {k: z[k].astype(np.float32) for k in z.files}
    model = PlcNet(a["mean"], a["std"], a["lo"], a["hi"], dense=a["dense_in_w"].shape[0],
                   gru=a["gru1_weight_hh"].shape[1])
    sd = {"mean": a["mean"], "std": a["std"], "lo": a["lo"], "hi": a["hi"],
          "dense_in.weight": a["dense_in_w"], "dense_in.bias": a["dense_in_b"],
          "dense_out.weight": a["dense_out_w"], "dense_out.bias": a["dense_out_b"]}
    for g in ("gru1", "gru2"):
        for part in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            sd[f"{g}.{part}"] = a[f"{g}_{part}"]
    model.load_state_dict({k: torch.as_tensor(v) for k, v in sd.items()})
    return model
