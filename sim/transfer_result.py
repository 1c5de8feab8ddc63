"""What both transfer engines return: impulse responses on one time axis.

Every IR starts with the same leading modelling delay `T0_SAMPLES`, so sample n of an IR is
the pressure at time (n - T0_SAMPLES) / fs after the driver emitted a unit impulse;
amplitudes follow 1/r (1 m → 1.0), as in pyroomacoustics.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

T0_SAMPLES = 40
"""Leading delay of every IR, in samples: pyroomacoustics' fixed fractional-delay offset
(81-tap windowed sinc → 40 samples), used by the free-field engine too so both line up."""


@dataclass
class TransferResult:
    """Impulse responses of a scene.

    ir: (n_drivers, n_listeners, 2, n_taps) driver → ear, left ear = index 0.
    ir_mic: (n_sources, n_mics, n_taps) talker/noise source → device microphone, or None.
    fs_hz: sample rate; t0_samples: leading delay (see module doc); engine: which engine;
    meta: JSON-ready settings and the scene hash.
    """

    ir: np.ndarray
    fs_hz: int
    t0_samples: int
    engine: str
    meta: dict = field(default_factory=dict)
    ir_mic: np.ndarray | None = None

    def save_npz(self, path: str | Path) -> None:
        """Write `ir`, `fs`, `t0`, `meta` (JSON string) and `ir_mic` if present, atomically."""
        from sim.outputs import write_npz

        arrays = {"ir": self.ir, "fs": np.int64(self.fs_hz), "t0": np.int64(self.t0_samples),
                  "meta": np.array(json.dumps(self.meta))}
        if self.ir_mic is not None:
            arrays["ir_mic"] = self.ir_mic
        write_npz(path, arrays)
