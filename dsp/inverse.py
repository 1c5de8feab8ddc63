"""Regularized multichannel inverse shared by crosstalk cancellation and null steering.

Design (Kirkeby–Nelson, frequency-dependent β):
1. plant G (F, 2P, D) at P head positions, scaled by 1/√P so every β law below holds for
   the sweet spot and the robust design alike; desired response: identity per position
   (each input to its own ear, nothing to the other), delayed by the modelling delay;
2. β_E(f): smallest β whose filter gain ‖C‖₂ stays within the effort cap (exact, bisected);
3. β_T(f): largest β whose cancellation (ipsi/contra energy, summed over the design
   positions, worst input) still meets the target curve, below a ceiling that keeps the
   strongest channel within 0.8 dB (so a 0 dB target means "no CTC", not "no sound");
4. β = max(β_E, β_T): the target's own regularization unless the effort cap needs more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsp.fir import design_freqs
from dsp.params import DesignError, DesignParams
from dsp.plant import Plant, design_plant
from dsp.regularization import Tikhonov, beta_ceiling, beta_for_gain, bisect_beta
from sim.scene import Scene


@dataclass
class InverseDesign:
    """Frequency-domain design on the grid of n_fft = oversample · n_taps.

    response: (F, D, K) driver filters, modelling delay included; beta (F,); effort_db (F,)
    of the designed filters; cancellation_db (F, 2): design-grid cancellation (ipsi/contra
    energy over the design positions) for the left and right input; plant: what was inverted.
    """

    freqs_hz: np.ndarray
    n_fft: int
    response: np.ndarray
    beta: np.ndarray
    effort_db: np.ndarray
    cancellation_db: np.ndarray
    plant: Plant


def _cancellation(m: np.ndarray) -> np.ndarray:
    """Ipsi/contra energy ratio (F, 2) of at-ear responses m (F, 2P, 2), summed over P."""
    ipsi = np.abs(m[:, 0::2, 0]) ** 2, np.abs(m[:, 1::2, 1]) ** 2
    contra = np.abs(m[:, 1::2, 0]) ** 2, np.abs(m[:, 0::2, 1]) ** 2
    return np.stack([ipsi[k].sum(axis=1) / np.maximum(contra[k].sum(axis=1), 1e-300)
                     for k in (0, 1)], axis=-1)


def check_effort(plant: Plant, max_effort_db: float) -> None:
    """An effort cap below what plain delivery to one ear needs (no cancellation at all) is
    impossible: the design would only get quieter, not cancel."""
    f = plant.freqs_hz
    band = (f >= 100.0) & (f <= 16000.0)
    g = plant.G[band, :2, :]
    ipsi = np.maximum(np.linalg.norm(g[:, 0, :], axis=-1), np.linalg.norm(g[:, 1, :], axis=-1))
    need = float(np.max(20.0 * np.log10(plant.g_ref[band] / ipsi)))
    if max_effort_db < need:
        raise DesignError(f"max_effort_db = {max_effort_db:g} dB is impossible: even without"
                          f" cancellation the drivers need {need:.1f} dB of effort to reach the"
                          " ear at unit level")


def design_inverse(scene: Scene, params: DesignParams,
                   post: np.ndarray | None = None) -> InverseDesign:
    """CTC / null-steering filters (F, D, 2) on the design grid.

    post: optional (F, 2, K) matrix applied after the inverse (the virtualizer's binaural
    synthesis); the effort cap then holds for the cascade, the target for the inverse.
    """
    fs = scene.simulation.fs_hz
    n_fft, f = design_freqs(params.n_taps, fs, params.oversample)
    plant = design_plant(scene, f, params.listener, params.robust_cm, params.robust_points)
    check_effort(plant, params.max_effort_db)
    p = plant.heads_m.shape[0]
    eye = np.tile(np.eye(2), (p, 1)) / np.sqrt(p)  # (2P, 2)
    t = Tikhonov(plant.G / np.sqrt(p), np.broadcast_to(eye, (f.size, 2 * p, 2)))
    tc = t if post is None else t.with_desired(eye @ post)
    max_gain = 10.0 ** (params.max_effort_db / 20.0) / plant.g_ref
    beta_e = beta_for_gain(tc, max_gain)
    target = 10.0 ** (params.target_curve.at(f) / 10.0)
    ceiling = np.maximum(beta_ceiling(t), beta_e)
    lo = 1e-14 * t.s_max**2 + 1e-300

    def below_target(b):
        return np.min(_cancellation(t.at_ear(b)), axis=-1) < target

    beta_t = bisect_beta(below_target, lo, ceiling)
    beta = np.maximum(beta_e, beta_t)
    delay = np.exp(-2j * np.pi * f * params.delay / fs)[:, None, None]
    response = tc.filters(beta) * delay
    effort = 20.0 * np.log10(np.maximum(tc.gain(beta) * plant.g_ref, 1e-300))
    canc = 10.0 * np.log10(_cancellation(t.at_ear(beta)))
    return InverseDesign(freqs_hz=f, n_fft=n_fft, response=response, beta=beta,
                         effort_db=effort, cancellation_db=canc, plant=plant)
