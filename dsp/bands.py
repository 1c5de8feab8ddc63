"""Fractional-octave bands: nominal 1/3-octave centres and band-energy averaging.

Band edges follow IEC 61260 base-2: exact centre fm = 1000 · 2^(k/3) Hz, edges fm · 2^(±1/6).
Band energies are integrals of |H(f)|² over the band, approximated on a per-band grid of
log-spaced points weighted by their bandwidth (∝ f), so each band is sampled equally densely
whatever the frequency, which a uniform FFT grid does not do at low frequency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOMINAL_THIRD_OCTAVE_HZ = (
    25.0, 31.5, 40.0, 50.0, 63.0, 80.0, 100.0, 125.0, 160.0, 200.0, 250.0, 315.0, 400.0, 500.0,
    630.0, 800.0, 1000.0, 1250.0, 1600.0, 2000.0, 2500.0, 3150.0, 4000.0, 5000.0, 6300.0,
    8000.0, 10000.0, 12500.0, 16000.0, 20000.0,
)


def third_octave_centres(lo_hz: float, hi_hz: float) -> np.ndarray:
    """Nominal 1/3-octave centres (B,) in Hz within [lo_hz, hi_hz] (inclusive)."""
    c = np.array(NOMINAL_THIRD_OCTAVE_HZ)
    return c[(c >= lo_hz * 0.999) & (c <= hi_hz * 1.001)]


def exact_centre(nominal_hz: np.ndarray) -> np.ndarray:
    """Base-2 exact centres 1000 · 2^(k/3) for nominal centres (same shape), Hz."""
    k = np.round(3.0 * np.log2(np.asarray(nominal_hz, dtype=float) / 1000.0))
    return 1000.0 * 2.0 ** (k / 3.0)


@dataclass(frozen=True)
class BandGrid:
    """Frequencies at which to evaluate responses for band energies.

    centres_hz: nominal band centres (B,); freqs_hz: evaluation points (B·K,), band-major;
    weights: (B, B·K) averaging matrix (rows sum to 1) so that band energy = weights @ |H|².
    """

    centres_hz: np.ndarray
    freqs_hz: np.ndarray
    weights: np.ndarray
    points_per_band: int

    def energy(self, power: np.ndarray) -> np.ndarray:
        """Band-mean power (..., B) from power |H|² (..., B·K)."""
        return power @ self.weights.T


def band_grid(centres_hz: np.ndarray, points_per_band: int = 16) -> BandGrid:
    """Log-spaced evaluation points inside each 1/3-octave band (midpoint rule in ln f)."""
    centres = np.asarray(centres_hz, dtype=float)
    fm = exact_centre(centres)
    k = points_per_band
    u = (np.arange(k) + 0.5) / k - 0.5  # in octaves/3 across the band, midpoints
    f = (fm[:, None] * 2.0 ** (u[None, :] / 3.0)).ravel()
    b = centres.size
    w = np.zeros((b, b * k))
    for i in range(b):  # a few dozen bands: building the matrix once is cheap
        seg = f[i * k:(i + 1) * k]
        w[i, i * k:(i + 1) * k] = seg / seg.sum()  # df ∝ f·d(ln f)
    return BandGrid(centres_hz=centres, freqs_hz=f, weights=w, points_per_band=k)


def band_db(power_num: np.ndarray, power_den: np.ndarray, grid: BandGrid,
            floor: float = 1e-30) -> np.ndarray:
    """10·log10 of the ratio of band energies of two power spectra (..., B·K) → (..., B)."""
    return 10.0 * np.log10((grid.energy(power_num) + floor) / (grid.energy(power_den) + floor))
