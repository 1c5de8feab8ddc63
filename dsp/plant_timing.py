"""How a measured plant's time axis is read when it is moved onto the simulated plant's
(`dsp.measured_plant.align`): which of its timings are kept and which come from the scene.

The move is a delay that maximizes the cross-correlation of the measured responses with the
simulated ones (1/8 sample, refined by a parabola). The timing says what shares one delay:

- `PlantTiming.GEOMETRY`: one delay per driver (both ears summed), so each driver's pair lands
  where the scene's geometry puts it. Right when the drivers were measured one after another
  (a latency per driver); the time between drivers is then the scene's, the time between one
  driver's ears (the ITD) the file's. A driver misplaced in the scene by 1 cm is 29 µs off.
- `PlantTiming.MEASURED`: one delay for all drivers (summed over drivers and ears), so the time
  between drivers is the file's. Right for one synchronous multichannel capture (all drivers on
  one clock, one latency): a driver misplaced in the scene does not move its timing; a latency
  that differs per driver stays in the plant as an error.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

UPSAMPLE = 8
"""Cross-correlation peak searched on a grid of 1/UPSAMPLE sample before the parabola."""


class PlantTiming(Enum):
    """Which delays an alignment finds (module doc); the value is the CLI and report word."""

    GEOMETRY = "geometry"
    MEASURED = "measured"

    def lags(self, cross: np.ndarray, n: int) -> np.ndarray:
        """(D,) delays (samples, may be negative) that move each driver's measured pair onto the
        reference, from cross (D, F): per driver, the cross-spectrum of the measured pair with
        the reference pair summed over the ears, on the rfft grid of n. MEASURED: all equal."""
        if self is PlantTiming.MEASURED:
            return np.full(cross.shape[0], _peak_lag(np.sum(cross, axis=0), n))
        return np.array([_peak_lag(c, n) for c in cross])


def _peak_lag(cross: np.ndarray, n: int) -> float:
    """Delay (samples, may be negative) at the peak of the cross-correlation whose spectrum
    (rfft grid of n) is `cross`: upsampled by UPSAMPLE, refined by a parabola."""
    xc = np.fft.irfft(cross, n * UPSAMPLE)
    k = int(np.argmax(xc))
    a, b, c = xc[k - 1], xc[k], xc[(k + 1) % xc.size]
    den = a - 2 * b + c
    frac = 0.5 * (a - c) / den if den < 0 else 0.0
    lag = (k + frac) / UPSAMPLE
    return lag - n if lag > n / 2 else lag
