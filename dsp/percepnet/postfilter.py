"""Envelope postfilter (PercepNet): warped gains with loudness restoration.

``g_w = g·sin(π g / 2)`` pushes small gains down and leaves g ≈ 1 alone. With the band energies
after the gains, ``E0 = Σ_b g_b²·E_y,b`` and ``E1 = Σ_b g_w,b²·E_y,b`` (energies, i.e. g² — the
unofficial implementation weights E_y by g instead), the gain
``G = sqrt((1 + β)·(E0/E1) / (1 + β·(E0/E1)²))`` restores loudness; G peaks at E0/E1 = 1/√β with
``G² = (1 + β)/(2√β)``: +5.6 dB at β = 0.02. The applied gain is ``min(G·g_w, 1)``.

SNR gate (PercepNet+ idea, off by default): the postfilter can over-attenuate clean-ish input, so
it can be faded out as the frame's SNR implied by the gains themselves, ``Σg²E / Σ(1−g²)E``,
rises from `GATE_LO_DB` to `GATE_HI_DB`. The trained model's gains rarely exceed 0.93 (≈ 6 dB
implied SNR in a band), so the thresholds sit low: the gate acts on clearly speech-dominated frames.
"""

from __future__ import annotations

import numpy as np

BETA = 0.02
GATE_LO_DB = 0.0
GATE_HI_DB = 8.0


def loudness_gain(ratio: np.ndarray, beta: float = BETA) -> np.ndarray:
    """G as a function of E0/E1 (any shape)."""
    return np.sqrt((1 + beta) * ratio / (1 + beta * ratio ** 2))


def postfilter(g: np.ndarray, e_y: np.ndarray, beta: float = BETA,
               gate: bool = False) -> np.ndarray:
    """Postfiltered band gains: g (…, n_bands) in [0, 1], e_y noisy band energies (same shape)."""
    gw = g * np.sin(0.5 * np.pi * g)
    e0 = np.sum(g ** 2 * e_y, axis=-1, keepdims=True)
    e1 = np.sum(gw ** 2 * e_y, axis=-1, keepdims=True)
    big_g = loudness_gain(e0 / (e1 + 1e-12 * (e0 + 1e-30)), beta)
    out = np.minimum(big_g * gw, 1.0)
    if gate:
        noise = np.sum((1 - g ** 2) * e_y, axis=-1, keepdims=True)
        snr_db = 10 * np.log10((e0 + 1e-12) / (noise + 1e-12))
        mix = np.clip((snr_db - GATE_LO_DB) / (GATE_HI_DB - GATE_LO_DB), 0.0, 1.0)
        out = mix * g + (1 - mix) * out
    return out
