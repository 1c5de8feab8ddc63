"""Programme loudness after ITU-R BS.1770-4 (K-weighting, 400 ms gated blocks), in LUFS/LKFS.

K-weighting is the standard's two biquads: a high-shelf pre-filter (head acoustics) and the RLB
high-pass. At 48 kHz the standard publishes the coefficients (Tables 1 and 2); at other rates
they come from the same analog prototypes through the bilinear transform with pre-warping
(the parametrization libebur128 uses), which reproduces the published 48 kHz values to better
than 1e-8 (tested).

Integrated loudness: mean-square per channel of the K-weighted signal over 400 ms blocks with
75 % overlap; blocks below −70 LKFS (absolute gate) and then below the mean of the remaining
blocks − 10 LU (relative gate) are dropped; L = −0.691 + 10·log10(Σ_c G_c · mean z_c). Channel
weights G are 1 for left, right and centre (all this workbench renders; ears count as L/R).

BS.1770 does not define the loudness of a signal shorter than one block; `integrated_loudness`
raises `LoudnessError` for one, or with ``pad_short`` measures it as one block with silence
after it (its energy over 400 ms), so that short signals still compare by their energy.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
BLOCK_S, STEP_S = 0.4, 0.1

# BS.1770-4 Table 1 (pre-filter) and Table 2 (RLB high-pass) at 48 kHz.
PUBLISHED_48K = {
    "shelf_b": (1.53512485958697, -2.69169618940638, 1.19839281085285),
    "shelf_a": (1.0, -1.69065929318241, 0.73248077421585),
    "highpass_b": (1.0, -2.0, 1.0),
    "highpass_a": (1.0, -1.99004745483398, 0.99007225036621),
}


class LoudnessError(ValueError):
    """The signal is too short or otherwise cannot be measured."""


def k_weighting(fs_hz: float) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray,
                                                                                np.ndarray]]:
    """((b, a) of the pre-filter shelf, (b, a) of the RLB high-pass) at fs_hz."""
    # Analog prototypes of the two stages (fitted to the published 48 kHz filters).
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / fs_hz)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh ** 0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf_b = np.array([vh + vb * k / q + k * k, 2.0 * (k * k - vh), vh - vb * k / q + k * k]) / a0
    shelf_a = np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0])
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / fs_hz)
    a0 = 1.0 + k / q + k * k
    hp_b = np.array([1.0, -2.0, 1.0])
    hp_a = np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0])
    return (shelf_b, shelf_a), (hp_b, hp_a)


def k_weight(x: np.ndarray, fs_hz: float) -> np.ndarray:
    """K-weighted copy of x (n, channels) or (n,)."""
    (b1, a1), (b2, a2) = k_weighting(fs_hz)
    return lfilter(b2, a2, lfilter(b1, a1, np.asarray(x, dtype=float), axis=0), axis=0)


def block_loudness(x: np.ndarray, fs_hz: float) -> np.ndarray:
    """Loudness (LKFS) of each 400 ms block (step 100 ms) of x (n, channels): (n_blocks,)."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    y = k_weight(x, fs_hz)
    n_block, n_step = round(BLOCK_S * fs_hz), round(STEP_S * fs_hz)
    if len(y) < n_block:
        raise LoudnessError(f"signal of {len(y) / fs_hz:.3f} s is shorter than one 400 ms"
                            " loudness block")
    n_blocks = 1 + (len(y) - n_block) // n_step
    # Mean square per block from a cumulative sum: O(n) for any overlap.
    power = np.sum(y * y, axis=1)  # channel weights G = 1
    cs = np.concatenate([[0.0], np.cumsum(power)])
    starts = np.arange(n_blocks) * n_step
    z = (cs[starts + n_block] - cs[starts]) / n_block
    with np.errstate(divide="ignore"):
        return -0.691 + 10.0 * np.log10(z)


def integrated_loudness(x: np.ndarray, fs_hz: float, pad_short: bool = False) -> float:
    """Gated integrated loudness of x (n, channels) in LUFS; −inf for silence. pad_short: a
    signal shorter than one 400 ms block is measured as that block, zero-padded (see above)."""
    x = np.asarray(x, dtype=float)
    n_block = round(BLOCK_S * fs_hz)
    if pad_short and len(x) < n_block:
        x = np.concatenate([x, np.zeros((n_block - len(x), *x.shape[1:]))])
    lk = block_loudness(x, fs_hz)
    gated = lk[lk > ABSOLUTE_GATE_LUFS]
    if gated.size == 0:
        return -math.inf
    # Gate in the power domain: the mean of the blocks' powers, not of their dB values.
    power = 10.0 ** ((gated + 0.691) / 10.0)
    relative = -0.691 + 10.0 * math.log10(float(np.mean(power))) + RELATIVE_GATE_LU
    kept = power[gated > relative]
    return -0.691 + 10.0 * math.log10(float(np.mean(kept)))


def match_gain_db(x: np.ndarray, fs_hz: float, target_lufs: float) -> float:
    """Gain in dB that brings x to `target_lufs` (0 for silence)."""
    level = integrated_loudness(x, fs_hz)
    return 0.0 if not math.isfinite(level) else target_lufs - level


def peak_dbfs(x: np.ndarray) -> float:
    """Sample peak of x in dBFS (−inf for silence)."""
    peak = float(np.max(np.abs(x))) if np.size(x) else 0.0
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf
