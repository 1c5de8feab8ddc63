"""Omnidirectional: the same gain, 1, in every direction at every frequency."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.directivity.base import Directivity, ParamReader, register


@register
@dataclass(frozen=True)
class Omni(Directivity):
    """Omnidirectional pattern (scene file: ``{"type": "omni"}``)."""

    kind = "omni"

    def response(self, freqs_hz: np.ndarray, frame: np.ndarray, directions: np.ndarray,
                 c: float, fs_hz: int) -> np.ndarray:
        return np.ones(np.shape(directions)[:-1] + np.shape(freqs_hz))

    def pra_pattern(self, axis: np.ndarray) -> None:
        return None  # pyroomacoustics' sources and microphones are omni without one

    @classmethod
    def read(cls, reader: ParamReader) -> Omni:
        return cls()

    def write(self, rel: Callable[[str], str]) -> dict[str, Any]:
        return {}
