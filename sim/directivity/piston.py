"""A rigid circular piston in a baffle, extended behind it by a closed box."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import j1

from sim.constants import SPEED_OF_SOUND_M_S
from sim.directivity.base import Directivity, ParamReader, cos_off_axis, register


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


@register
@dataclass(frozen=True)
class Piston(Directivity):
    """Baffled circular piston of `radius_m` with `rear_db` behind it at high ka (see
    `piston_gain`; scene file: ``{"type": "piston", "radius": 0.025, "rear_db": -15}``)."""

    kind = "piston"
    grid_taps = 128  # pyroomacoustics needs ≥ 128 (research §F4.5)
    radius_m: float = 0.025
    rear_db: float = -15.0

    def response(self, freqs_hz: np.ndarray, frame: np.ndarray, directions: np.ndarray,
                 c: float, fs_hz: int) -> np.ndarray:
        return piston_gain(freqs_hz, np.arccos(cos_off_axis(frame, directions)),
                           self.radius_m, c, self.rear_db)

    @classmethod
    def read(cls, reader: ParamReader) -> Piston:
        return cls(radius_m=reader.number("radius", 0.0, 1.0, "m", lo_open=True),
                   rear_db=reader.number("rear_db", -60.0, 0.0, "dB", default=-15.0))

    def write(self, rel: Callable[[str], str]) -> dict[str, Any]:
        return {"radius": self.radius_m, "rear_db": self.rear_db}

    def describe(self) -> str:
        return f"{self.kind} r={self.radius_m * 1000:.0f} mm"
