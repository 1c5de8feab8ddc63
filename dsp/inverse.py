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

The plant, its SVD and the cancellation's quadratic forms do not depend on the effort cap or
the target, and β_T does not depend on the effort cap: they are cached per (scene, listener,
design grid, robustness) and target, so the effort-cap retry in `dsp.design.design` and a
redesign after a slider move (effort, target curve) skip them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from dsp.fir import design_freqs
from dsp.measured_plant import measured_design_plant
from dsp.params import DesignError, DesignParams
from dsp.plant import Plant, design_plant
from dsp.plant_files import MeasuredPlant
from dsp.regularization import AtEarEnergy, Tikhonov, beta_ceiling, beta_for_gain, bisect_beta
from dsp.target_curve import TargetCurve
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


@dataclass(eq=False)
class _Inversion:
    """What a design inverts, independent of effort cap and target: plant, Tikhonov solver
    of the plant scaled by 1/√P toward the identity, at-ear energies (ipsi, contra) per input
    summed over the design positions; and β_T per target curve, filled in as asked."""

    plant: Plant
    tikhonov: Tikhonov
    energy: AtEarEnergy
    target_betas: dict = field(default_factory=dict)  # TargetCurve → β_T, a few at most

    def target_beta(self, target: TargetCurve) -> np.ndarray:
        """β_T (F,): the largest β whose cancellation still meets the target, up to the
        ceiling that keeps the strongest channel within 0.8 dB.

        The effort cap does not enter: where β_E exceeds that ceiling the design uses β_E
        whatever β_T is (β = max(β_E, β_T), β_T ≤ the search's upper end), and elsewhere the
        search ends at the ceiling. So β_T is kept per target, for the effort-cap retry and
        effort slider moves.
        """
        beta = self.target_betas.get(target)
        if beta is None:
            t = self.tikhonov
            goal = 10.0 ** (target.at(self.plant.freqs_hz) / 10.0)

            def below_target(b):
                ipsi, contra = self.energy(b)  # (input, F) each
                return np.logical_or.reduce(ipsi < goal * np.maximum(contra, 1e-300))

            beta = bisect_beta(below_target, 1e-14 * t.s_max**2 + 1e-300, beta_ceiling(t))
            beta.flags.writeable = False
            if len(self.target_betas) >= 8:  # a target-curve drag makes a new one per step
                self.target_betas.clear()
            self.target_betas[target] = beta
        return beta


@functools.lru_cache(maxsize=4)
def _inversion(scene: Scene, listener: int, n_taps: int, oversample: int, robust_cm: float,
               robust_points: int, measured: MeasuredPlant | None = None) -> _Inversion:
    _, f = design_freqs(n_taps, scene.simulation.fs_hz, oversample)
    if measured is None:
        plant = design_plant(scene, f, listener, robust_cm, robust_points)
    else:
        plant = measured_design_plant(scene, f, measured, listener, robust_cm, robust_points)
    for a in (plant.freqs_hz, plant.G, plant.g_ref, plant.heads_m):
        a.flags.writeable = False  # shared by every design that hits the cache
    p = plant.heads_m.shape[0]
    eye = np.tile(np.eye(2), (p, 1)) / np.sqrt(p)  # (2P, 2)
    t = Tikhonov(plant.G / np.sqrt(p), np.broadcast_to(eye, (f.size, 2 * p, 2)))
    left, right = np.arange(0, 2 * p, 2), np.arange(1, 2 * p, 2)
    # Energy 0: each input's own ears (ipsi), energy 1: the other ears (contra).
    return _Inversion(plant, t, AtEarEnergy(t, [[left, right], [right, left]]))


def design_inverse(scene: Scene, params: DesignParams,
                   post: np.ndarray | None = None) -> InverseDesign:
    """CTC / null-steering filters (F, D, 2) on the design grid.

    post: optional (F, 2, K) matrix applied after the inverse (the virtualizer's binaural
    synthesis); the effort cap then holds for the cascade, the target for the inverse.
    """
    fs = scene.simulation.fs_hz
    n_fft, f = design_freqs(params.n_taps, fs, params.oversample)
    inv = _inversion(scene, params.listener, params.n_taps, params.oversample,
                     params.robust_cm, params.robust_points, params.plant)
    plant, t = inv.plant, inv.tikhonov
    check_effort(plant, params.max_effort_db)
    p = plant.heads_m.shape[0]
    eye = np.tile(np.eye(2), (p, 1)) / np.sqrt(p)  # (2P, 2)
    tc = t if post is None else t.with_desired(eye @ post)
    max_gain = 10.0 ** (params.max_effort_db / 20.0) / plant.g_ref
    beta = np.maximum(beta_for_gain(tc, max_gain), inv.target_beta(params.target_curve))
    delay = np.exp(-2j * np.pi * f * params.delay / fs)[:, None, None]
    response = tc.filters(beta) * delay
    effort = 20.0 * np.log10(np.maximum(tc.gain(beta) * plant.g_ref, 1e-300))
    canc = 10.0 * np.log10(_cancellation(t.at_ear(beta)))
    return InverseDesign(freqs_hz=f, n_fft=n_fft, response=response, beta=beta,
                         effort_db=effort, cancellation_db=canc, plant=plant)
