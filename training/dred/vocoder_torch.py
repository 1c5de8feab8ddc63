"""Torch twin of `dsp.dred.vocoder` for training: the network, differentiable min-phase
filtering and overlap-add, the multi-resolution STFT loss, and the npz export.

The sources, their framed spectra, the analytic priors and the folded cepstrum come from the
numpy module itself (they have no parameters), so training and inference share that code; only
the network and the filtering are re-implemented here, and `tests/test_dred_vocoder.py` checks
that both give the same audio.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dsp.dred.features import NB_FEATURES
from dsp.dred.vocoder import (
    N_FFT,
    SUBFRAME_SIZE,
    Vocoder,
    folded_cepstrum,
    response_band_matrix,
)
from sim.outputs import write_npz


class VocoderNet(nn.Module):
    """features ``(B, F, 20)`` -> corrections ``(B, 2F+1, 2, N_FFT/2+1)`` (synthesis frame,
    branch harmonic/noise, folded cepstrum; see `folded_cepstrum`); layer names match
    `Vocoder.WEIGHT_NAMES`. The numpy inference adds the same corrections as log magnitudes on
    the 257 bins; the folded cepstrum is linear in them, so the two are the same filter."""

    def __init__(self, in_mean: np.ndarray, in_std: np.ndarray, conv: int = 128,
                 gru: int = 192, dense: int = 128, bands: int = 32):
        super().__init__()
        self.register_buffer("in_mean", torch.as_tensor(in_mean, dtype=torch.float32))
        self.register_buffer("in_std", torch.as_tensor(in_std, dtype=torch.float32))
        self.conv = nn.Conv1d(NB_FEATURES, conv, 3)
        self.gru = nn.GRU(conv, gru, batch_first=True)
        self.dense = nn.Linear(conv + gru, dense)
        self.out = nn.Linear(dense, 4 * bands)
        # start exactly at the analytic vocoder: corrections are zero until the net learns them
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.bands = bands
        band_cep = folded_cepstrum(response_band_matrix(bands).T)
        self.register_buffer("band_cepstrum", torch.as_tensor(band_cep, dtype=torch.float32))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        b, f, _ = feats.shape
        x = (feats - self.in_mean) / self.in_std
        # step t (0..F) sees frames t-1, t, t+1, held at both ends (as the numpy inference)
        x = torch.cat([x[:, :1], x, x[:, -1:], x[:, -1:]], dim=1)
        c = torch.tanh(self.conv(x.transpose(1, 2))).transpose(1, 2)
        h, _ = self.gru(c)
        d = torch.tanh(self.dense(torch.cat([c, h], dim=2)))
        out = self.out(d).reshape(b, 2 * (f + 1), 2, self.bands)[:, : 2 * f + 1]
        return out @ self.band_cepstrum


def min_phase(cep: torch.Tensor) -> torch.Tensor:
    """Minimum-phase responses ``(..., N_BINS)`` complex from folded cepstra."""
    return torch.exp(torch.fft.rfft(cep, n=N_FFT, dim=-1))


def overlap_add(frames: torch.Tensor, n_out: int) -> torch.Tensor:
    """``(B, M, N_FFT)`` frames placed at ``m*80 - 80`` -> samples 0..n_out-1 ``(B, n_out)``."""
    b, m, _ = frames.shape
    n_blocks = -(-N_FFT // SUBFRAME_SIZE)
    blocks = nn.functional.pad(frames, (0, n_blocks * SUBFRAME_SIZE - N_FFT))
    blocks = blocks.reshape(b, m, n_blocks, SUBFRAME_SIZE)
    out = sum(nn.functional.pad(blocks[:, :, j], (0, 0, j, n_blocks - j))
              for j in range(n_blocks))
    return out.reshape(b, -1)[:, SUBFRAME_SIZE:SUBFRAME_SIZE + n_out]


def render(cep_h: torch.Tensor, cep_n: torch.Tensor, spec_h: torch.Tensor,
           spec_n: torch.Tensor, n_out: int) -> torch.Tensor:
    """Audio ``(B, n_out)`` from folded cepstra of the responses and source spectra, all
    ``(B, M, N_BINS)``."""
    spec = min_phase(cep_h) * spec_h + min_phase(cep_n) * spec_n
    return overlap_add(torch.fft.irfft(spec, n=N_FFT, dim=-1), n_out)


def stft_loss(y: torch.Tensor, x: torch.Tensor, sizes: tuple[int, ...] = (128, 256, 512, 1024),
              eps: float = 1e-5) -> torch.Tensor:
    """Multi-resolution STFT loss of output ``y`` vs target ``x`` ``(B, n)``: per FFT size,
    spectral convergence + mean |log magnitude difference| (hop n/4, Hann), averaged."""
    total = y.new_zeros(())
    for n in sizes:
        win = torch.hann_window(n, device=y.device)
        sy = torch.stft(y, n, n // 4, window=win, return_complex=True).abs()
        sx = torch.stft(x, n, n // 4, window=win, return_complex=True).abs()
        sc = torch.linalg.norm(sy - sx) / (torch.linalg.norm(sx) + eps)
        mag = (torch.log(sy + eps) - torch.log(sx + eps)).abs().mean()
        total = total + sc + mag
    return total / len(sizes)


def export_weights(net: VocoderNet, path: Path, meta: dict) -> dict[str, np.ndarray]:
    """Write the float16 npz `dsp.dred.vocoder.Vocoder.load` reads; returns the arrays."""
    sd = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    arrays = {
        "in_mean": sd["in_mean"], "in_std": sd["in_std"],
        "conv_w": sd["conv.weight"], "conv_b": sd["conv.bias"],
        "gru_wih": sd["gru.weight_ih_l0"], "gru_whh": sd["gru.weight_hh_l0"],
        "gru_bih": sd["gru.bias_ih_l0"], "gru_bhh": sd["gru.bias_hh_l0"],
        "dense_w": sd["dense.weight"], "dense_b": sd["dense.bias"],
        "out_w": sd["out.weight"], "out_b": sd["out.bias"],
    }
    assert set(arrays) == set(Vocoder.WEIGHT_NAMES)
    arrays = {k: v.astype(np.float16) for k, v in arrays.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_npz(path, {"meta": np.array(json.dumps(meta)), **arrays}, compressed=True)
    return arrays

