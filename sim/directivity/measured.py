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

NEIGHBOURS = 3
"""Measured directions a response between them is interpolated from."""


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

    @classmethod
    def from_tf(cls, directions: ArrayLike, tf: ArrayLike, freqs_hz: ArrayLike,
                fs_hz: float) -> MeasuredPattern:
        """Pattern from transfer functions (D, F) on ascending ``freqs_hz`` (F,), the bulk
        delay of the direction closest to +x (`bulk_delay_s`) removed from all, keeping the
        delays between directions."""
        d = unit(np.atleast_2d(directions))
        tf = np.atleast_2d(np.asarray(tf, dtype=complex))
        f = np.asarray(freqs_hz, dtype=float)
        axis = tf[np.argmax(d[:, 0])]
        tau = bulk_delay_s(f, 20 * np.log10(np.maximum(np.abs(axis), 1e-30)),
                           np.unwrap(np.angle(axis)))
        return cls(d, tf * np.exp(2j * np.pi * f * tau), f, float(fs_hz))

    def gain(self, freqs_hz: ArrayLike, directions_local: ArrayLike) -> np.ndarray:
        """Complex response toward ``directions_local`` (..., 3) at ``freqs_hz`` (F,).

        Between directions: the `NEIGHBOURS` nearest measured ones, weighted by inverse
        squared distance (exact on a measured direction), magnitude in dB and phase unwrapped
        across them (each neighbour's phase taken the shorter way round from the nearest
        one's). Between frequencies: real and imaginary parts linear (held constant outside
        the measured grid). Returns shape (..., F).
        """
        f = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
        u = unit(directions_local)
        k = min(NEIGHBOURS, len(self.directions))
        dist, idx = self._tree.query(u.reshape(-1, 3), k=k)
        dist, idx = dist.reshape(-1, k), idx.reshape(-1, k)
        rows = self._at_freqs(f)[idx]  # (N, k, F)
        exact = dist[:, :1] < 1e-12
        w = np.where(exact, (np.arange(k) == 0)[None], 1.0 / np.maximum(dist, 1e-12) ** 2)
        w = (w / w.sum(axis=1, keepdims=True))[..., None]
        level = np.sum(w * np.log(np.maximum(np.abs(rows), 1e-300)), axis=1)
        near = np.angle(rows[:, 0])
        turn = np.angle(rows * np.exp(-1j * near)[:, None])  # (−π, π] from the nearest
        out = np.exp(level + 1j * (near + np.sum(w * turn, axis=1)))
        return out.reshape(*u.shape[:-1], f.size)

    def _at_freqs(self, f: np.ndarray) -> np.ndarray:
        """The table (D, F) at frequencies f: real and imaginary parts linear in frequency."""
        grid = self.freqs_hz
        if len(grid) == 1:
            return np.repeat(self.tf, f.size, axis=-1)
        hi = np.clip(np.searchsorted(grid, f), 1, len(grid) - 1)
        lo = hi - 1
        t = np.clip((f - grid[lo]) / (grid[hi] - grid[lo]), 0.0, 1.0)
        return self.tf[:, lo] * (1.0 - t) + self.tf[:, hi] * t


def bulk_delay_s(freqs_hz: np.ndarray, level_db: np.ndarray, phase_rad: np.ndarray) -> float:
    """Delay (s) of the least-squares phase line (with intercept) through an unwrapped phase
    (F,) where its level is within 20 dB of its peak; 0 with fewer than 2 such points."""
    m = level_db >= level_db.max() - 20.0
    if np.count_nonzero(m) < 2:
        return 0.0
    slope = np.polyfit(freqs_hz[m], phase_rad[m], 1)[0]
    return float(-slope / (2 * np.pi))
