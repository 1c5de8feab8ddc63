"""The first-order (cardioid) family: omni, subcardioid, cardioid, hypercardioid, figure-8."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from sim.directivity.base import Directivity, ParamReader, cos_off_axis, register


def cardioid_gain(theta_rad: ArrayLike, p: float, gain: float = 1.0) -> np.ndarray:
    """First-order pattern ``gain * (p + (1 - p) cos theta)``.

    ``p`` = 1 omni, 0.75 subcardioid, 0.5 cardioid, 0.25 hypercardioid, 0 figure-8 (the
    pyroomacoustics ``CardioidFamily`` parameterisation).  Real gains, shape of ``theta_rad``.
    """
    return gain * (p + (1.0 - p) * np.cos(np.asarray(theta_rad, dtype=float)))


@register
@dataclass(frozen=True)
class Cardioid(Directivity):
    """First-order pattern ``p + (1 - p) cos θ`` (scene file: ``{"type": "cardioid",
    "p": 0.5}``); frequency-independent."""

    kind = "cardioid"
    p: float = 0.5

    def response(self, freqs_hz: np.ndarray, frame: np.ndarray, directions: np.ndarray,
                 c: float, fs_hz: int) -> np.ndarray:
        cos_t = cos_off_axis(frame, directions)
        return np.broadcast_to(cardioid_gain(np.arccos(cos_t), self.p)[..., None],
                               cos_t.shape + np.shape(freqs_hz))

    def pra_pattern(self, axis: np.ndarray) -> object:
        from pyroomacoustics.directivities import CardioidFamily

        return CardioidFamily(orientation=np.asarray(axis, dtype=float), p=float(self.p))

    @classmethod
    def read(cls, reader: ParamReader) -> Cardioid:
        return cls(p=reader.number("p", 0.0, 1.0))

    def write(self, rel: Callable[[str], str]) -> dict[str, Any]:
        return {"p": self.p}
