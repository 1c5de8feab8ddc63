"""A measured directivity from a SOFA file: directions as source positions, IRs of one
receiver (`sim.sofa.load_directivity`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.directivity.base import Directivity, ParamReader, register
from sim.directivity.measured import MeasuredPattern

CHECK_FS_HZ = 48000
"""Rate a scene file's SOFA directivity is test-loaded at when the scene is read."""


@functools.lru_cache(maxsize=16)
def _pattern(file: str, receiver: int, fs_hz: int) -> MeasuredPattern:
    from sim.sofa import load_directivity

    return load_directivity(file, fs_hz, receiver=receiver)


@register
@dataclass(frozen=True)
class Sofa(Directivity):
    """Measured pattern: `file` (absolute path) and the `receiver` whose IRs are the driver's
    (scene file: ``{"type": "sofa", "file": "driver.sofa", "receiver": 0}``, the file relative
    to the scene file). Complex responses by nearest measured direction."""

    kind = "sofa"
    grid_taps = 256
    axisymmetric = False
    file: str = ""  # a default only because the base's `file` property must be shadowed
    receiver: int = 0

    def pattern(self, fs_hz: int) -> MeasuredPattern:
        """The measured table at `fs_hz` (loaded once per file, receiver and rate)."""
        return _pattern(self.file, self.receiver, fs_hz)

    def response(self, freqs_hz: np.ndarray, frame: np.ndarray, directions: np.ndarray,
                 c: float, fs_hz: int) -> np.ndarray:
        return self.pattern(fs_hz).gain(np.asarray(freqs_hz, dtype=float), directions @ frame)

    @classmethod
    def read(cls, reader: ParamReader) -> Sofa:
        from sim.sofa import SofaError

        d = cls(file=reader.file("file", "SOFA"),
                receiver=reader.integer("receiver", 0, 1000, default=0))
        try:
            d.pattern(CHECK_FS_HZ)
        except SofaError as e:
            raise reader.error("file", str(e)) from e
        return d

    def write(self, rel: Callable[[str], str]) -> dict[str, Any]:
        return {"file": rel(self.file), "receiver": self.receiver}
