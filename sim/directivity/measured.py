"""A directivity sampled on a set of directions: the table measured patterns are read into.

SI units.  Complex responses use the numpy-FFT sign convention (a delay ``tau`` is
``exp(-1j * 2 * pi * f * tau)``).  Directions are in the transducer's local frame (x = axis).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from sim.directivity.base import unit


@dataclass(eq=False)
class MeasuredPattern:
    """Directivity sampled on a set of directions, as complex frequency responses.

    Attributes:
        directions: (D, 3) unit vectors in the driver's local frame (x = axis); normalised
            on construction.
        tf: (D, F) complex responses on ``freqs_hz``, bulk delay already removed (see
            :meth:`from_irs`).
        freqs_hz: (F,) ascending frequency grid, Hz.
        fs_hz: sample rate of the impulse responses the pattern came from, Hz.
    """

    directions: np.ndarray
    tf: np.ndarray
    freqs_hz: np.ndarray
    fs_hz: float
    _tree: cKDTree = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.directions = unit(np.atleast_2d(self.directions))
        self.tf = np.atleast_2d(np.asarray(self.tf, dtype=complex))
        self.freqs_hz = np.asarray(self.freqs_hz, dtype=float)
        if self.directions.shape[-1] != 3 or self.tf.shape != (
            len(self.directions),
            len(self.freqs_hz),
        ):
            raise ValueError(
                f"need directions (D, 3) and tf (D, F) with F = len(freqs_hz); got "
                f"{self.directions.shape}, {self.tf.shape}, F = {len(self.freqs_hz)}"
            )
        # Nearest unit vector by chord length is the nearest by angle.
        self._tree = cKDTree(self.directions)

    @classmethod
    def from_irs(
        cls, directions: ArrayLike, irs: ArrayLike, fs_hz: float, n_fft: int | None = None
    ) -> MeasuredPattern:
        """Pattern from impulse responses (D, N) sampled at ``fs_hz``.

        The bulk (propagation and latency) delay is removed so that the on-axis response has
        about zero delay: the direction closest to +x is taken as on-axis, the peak of its
        |IR| located to a fraction of a sample by a parabola through the three samples
        around the maximum, and all responses are advanced by that same time, keeping the
        delays between directions.
        """
        d = unit(np.atleast_2d(directions))
        irs = np.atleast_2d(np.asarray(irs, dtype=float))
        n = n_fft or irs.shape[-1]
        axis_ir = np.abs(irs[np.argmax(d[:, 0])])
        k = int(np.argmax(axis_ir))
        lo, mid, hi = axis_ir[max(k - 1, 0)], axis_ir[k], axis_ir[min(k + 1, len(axis_ir) - 1)]
        curv = lo - 2.0 * mid + hi
        delay_s = (k + (0.5 * (lo - hi) / curv if curv < 0 else 0.0)) / fs_hz
        freqs = np.fft.rfftfreq(n, 1.0 / fs_hz)
        tf = np.fft.rfft(irs, n) * np.exp(2j * np.pi * freqs * delay_s)
        return cls(d, tf, freqs, float(fs_hz))

    def gain(self, freqs_hz: ArrayLike, directions_local: ArrayLike) -> np.ndarray:
        """Complex response toward ``directions_local`` (..., 3) at ``freqs_hz`` (F,).

        Nearest measured direction; real and imaginary parts interpolated linearly in
        frequency (held constant outside the measured grid).  Returns shape (..., F).
        """
        f = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
        _, idx = self._tree.query(unit(directions_local))
        rows = self.tf[idx]
        grid = self.freqs_hz
        if len(grid) == 1:
            return np.repeat(rows, f.size, axis=-1)
        hi = np.clip(np.searchsorted(grid, f), 1, len(grid) - 1)
        lo = hi - 1
        t = np.clip((f - grid[lo]) / (grid[hi] - grid[lo]), 0.0, 1.0)
        return rows[..., lo] * (1.0 - t) + rows[..., hi] * t
