"""The FilterSet: a designed filter network as causal FIRs, the unit that analysis and export
share.

Layout (the NPZ contract): `fir` (n_inputs, n_drivers, n_taps) float64, driver d's feed is
sum_i fir[i, d] * input_i; `fs_hz`; `delay_samples` = the modelling (bulk) latency every path
carries; `meta` a JSON-ready dict (scene, method, parameters, names, version).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np


@dataclass
class FilterSet:
    """Filters of one design.

    fir: (n_inputs, n_drivers, n_taps) float64; fs_hz: sample rate in Hz; delay_samples:
    modelling delay in samples; meta: JSON-ready metadata, including `inputs` and `drivers`
    (names) when known.
    """

    fir: np.ndarray
    fs_hz: int
    delay_samples: int
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.fir = np.asarray(self.fir, dtype=float)
        if self.fir.ndim != 3:
            raise ValueError(f"fir must be (n_inputs, n_drivers, n_taps), got {self.fir.shape}")

    @property
    def n_inputs(self) -> int:
        return self.fir.shape[0]

    @property
    def n_drivers(self) -> int:
        return self.fir.shape[1]

    @property
    def n_taps(self) -> int:
        return self.fir.shape[2]

    @property
    def input_names(self) -> list[str]:
        names = self.meta.get("inputs")
        return list(names) if names else [f"in{i + 1}" for i in range(self.n_inputs)]

    @property
    def driver_names(self) -> list[str]:
        names = self.meta.get("drivers")
        return list(names) if names else [f"d{d + 1}" for d in range(self.n_drivers)]

    def meta_json(self) -> str:
        return json.dumps(self.meta, sort_keys=True)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Driver feeds (n_drivers, n + n_taps - 1) for input signals x (n_inputs, n)."""
        from scipy.signal import fftconvolve

        x = np.atleast_2d(np.asarray(x, dtype=float))
        y = fftconvolve(x[:, None, :], self.fir, axes=-1)  # (I, D, n + N - 1)
        return y.sum(axis=0)
