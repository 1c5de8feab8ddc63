"""Driver and microphone directivity: analytic patterns and measured ones.

SI units; angles in rad.  Complex responses use the numpy-FFT sign convention (a delay
``tau`` is ``exp(-1j * 2 * pi * f * tau)``).  The local frame of a driver has x along its axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree
from scipy.special import j1

from sim.constants import SPEED_OF_SOUND_M_S


def _unit(v: ArrayLike) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def angle_off_axis(axis: ArrayLike, directions: ArrayLike) -> np.ndarray:
    """Angle between an axis and directions.

    Args:
        axis: axis vector, shape (3,) or (..., 3); need not be unit length.
        directions: direction vectors, shape (..., 3); need not be unit length.

    Returns:
        Angles in rad, in [0, pi], shape broadcast(axis, directions)[:-1].
    """
    a = np.asarray(axis, dtype=float)
    d = np.asarray(directions, dtype=float)
    # atan2 of |a x d| and a.d stays accurate near 0 and pi, where arccos does not.
    return np.arctan2(np.linalg.norm(np.cross(a, d), axis=-1), np.sum(a * d, axis=-1))


def cardioid_gain(theta_rad: ArrayLike, p: float, gain: float = 1.0) -> np.ndarray:
    """First-order pattern ``gain * (p + (1 - p) cos theta)``.

    ``p`` = 1 omni, 0.75 subcardioid, 0.5 cardioid, 0.25 hypercardioid, 0 figure-8 (the
    pyroomacoustics ``CardioidFamily`` parameterisation).  Real gains, shape of ``theta_rad``.
    """
    return gain * (p + (1.0 - p) * np.cos(np.asarray(theta_rad, dtype=float)))


def piston_gain(
    freqs_hz: ArrayLike,
    theta_rad: ArrayLike,
    radius_m: float,
    c: float = SPEED_OF_SOUND_M_S,
    rear_db: float = -15.0,
) -> np.ndarray:
    """Far-field pattern of a rigid circular piston in a baffle, extended behind it.

    Front half-space (theta <= 90 deg): ``2 J1(ka sin theta) / (ka sin theta)`` (Beranek &
    Mellow eq. 4.42), k = 2 pi f / c, a = ``radius_m``.

    Behind the baffle plane a closed box is modelled by a crossfade
    ``(1 - w) D90(ka) + w R(ka)`` with ``w = -cos theta`` (0 at 90 deg, 1 straight behind),
    ``D90`` the piston value at 90 deg (continuity) and the rear level
    ``R(ka) = r + (1 - r) / (1 + (ka)^2)``, ``r = 10**(rear_db / 20)``: omni when ka << 1
    (the box is small against the wavelength) and ``rear_db`` once ka >> 1.

    Args:
        freqs_hz: frequencies, shape (F,), Hz.
        theta_rad: off-axis angles, rad, shape S.
        radius_m: piston radius, m.
        c: speed of sound, m/s.
        rear_db: high-frequency level straight behind the driver, dB re on-axis.

    Returns:
        Real gains, shape S + (F,); 1 on axis.
    """
    ka = 2.0 * np.pi * np.atleast_1d(np.asarray(freqs_hz, dtype=float)) * radius_m / c
    theta = np.asarray(theta_rad, dtype=float)[..., None]

    def jinc(v: np.ndarray) -> np.ndarray:
        safe = np.where(v == 0.0, 1.0, v)
        return np.where(v == 0.0, 1.0, 2.0 * j1(safe) / safe)

    front = jinc(ka * np.abs(np.sin(theta)))
    r = 10.0 ** (rear_db / 20.0)
    rear_level = r + (1.0 - r) / (1.0 + ka**2)
    w = np.clip(-np.cos(theta), 0.0, 1.0)
    rear = (1.0 - w) * jinc(ka) + w * rear_level
    return np.where(theta > np.pi / 2, rear, front)


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
        self.directions = _unit(np.atleast_2d(self.directions))
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
        d = _unit(np.atleast_2d(directions))
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
        _, idx = self._tree.query(_unit(directions_local))
        rows = self.tf[idx]
        grid = self.freqs_hz
        if len(grid) == 1:
            return np.repeat(rows, f.size, axis=-1)
        hi = np.clip(np.searchsorted(grid, f), 1, len(grid) - 1)
        lo = hi - 1
        t = np.clip((f - grid[lo]) / (grid[hi] - grid[lo]), 0.0, 1.0)
        return rows[..., lo] * (1.0 - t) + rows[..., hi] * t
