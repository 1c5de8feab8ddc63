"""The FilterSet: a designed filter network as causal FIRs, the unit that analysis and export
share.

Layout (the NPZ contract): `fir` (n_inputs, n_drivers, n_taps) float64, driver d's feed is
sum_i fir[i, d] * input_i; `fs_hz`; `delay_samples` = the modelling (bulk) latency every path
carries; `meta` a JSON-ready dict (scene, method, parameters, names, version). A beam's
FilterSet also carries its relative-transfer-function form (`RtfForm`).
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
    rtf: RtfForm | None = None
    """The same network as reference filter + relative filters (beam designs), else None."""

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

    def latency(self) -> list[dict]:
        """Total latency per output (driver feed): the modelling delay plus the FIR's bulk
        delay, i.e. where the output's impulse response peaks (the energy summed over
        inputs; a parabola through the three samples around the largest one places it
        between samples). Per output: {"output", "samples", "ms", "modelling_delay_samples",
        "bulk_fir_delay_samples" (= samples − the modelling delay)}."""
        env = np.sum(self.fir**2, axis=0)  # (D, N)
        out = []
        for name, e in zip(self.driver_names, env, strict=True):
            k = int(np.argmax(e))
            lo, mid, hi = e[max(k - 1, 0)], e[k], e[min(k + 1, e.size - 1)]
            curv = lo - 2.0 * mid + hi
            total = k + (0.5 * (lo - hi) / curv if curv < 0 else 0.0)
            out.append({"output": name, "samples": round(float(total), 2),
                        "ms": round(1e3 * float(total) / self.fs_hz, 3),
                        "modelling_delay_samples": self.delay_samples,
                        "bulk_fir_delay_samples": round(float(total) - self.delay_samples, 2)})
        return out


@dataclass
class RtfForm:
    """A beam's filters as one reference filter and a relative filter per driver: driver d's
    feed is reference ∗ relative[d] (driver errors then separate: the relative filters hold
    the geometry, the reference filter the common response).

    reference: FilterSet (1 input, 1 output: the reference driver's weight w_ref with the
    modelling delay); relative: FilterSet (1, D, taps) of w_d / w_ref with its own modelling
    delay (relative filters are non-causal); realization_error_db: 10·log10 of the energy of
    (cascade − full weights) over the full weights' energy on the design grid, both with the
    cascade's delay (reference delay + relative delay).
    """

    reference: FilterSet
    relative: FilterSet
    realization_error_db: float

    def cascade(self) -> FilterSet:
        """The network the two realize together, (1, D, 2·taps − 1), delay = the sum."""
        from scipy.signal import fftconvolve

        fir = fftconvolve(self.reference.fir[:, :1], self.relative.fir, axes=-1)
        return FilterSet(fir=fir, fs_hz=self.relative.fs_hz,
                         delay_samples=self.reference.delay_samples
                         + self.relative.delay_samples,
                         meta={"inputs": self.reference.input_names,
                               "drivers": self.relative.driver_names})
