"""Target cancellation-gain curve: the ipsi/contra energy ratio (dB) a CTC or null-steering
design is normalized to, so that it does not spend effort (and robustness) on cancellation
beyond what the target asks for.

Interpolated linearly in dB over log frequency and held constant beyond the end points. The
default tapers to 3 dB below 150 Hz, where a compact device is effort-limited (spatial.md
takeaway 3), and asks 30 dB from 350 Hz up (model ceiling; real heads give ≈25 dB at best).
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsp.design_error import DesignError

DEFAULT_POINTS = ((20.0, 0.0), (150.0, 3.0), (350.0, 30.0), (24000.0, 30.0))


@dataclass(frozen=True)
class TargetCurve:
    """Points (freq_hz, gain_db), strictly increasing in frequency."""

    freqs_hz: tuple[float, ...]
    gains_db: tuple[float, ...]

    @classmethod
    def default(cls) -> TargetCurve:
        f, g = zip(*DEFAULT_POINTS, strict=True)
        return cls(tuple(f), tuple(g))

    @classmethod
    def flat(cls, gain_db: float) -> TargetCurve:
        return cls((20.0, 24000.0), (float(gain_db), float(gain_db)))

    def __post_init__(self) -> None:
        f, g = self.freqs_hz, self.gains_db
        if len(f) != len(g) or len(f) < 1:
            raise DesignError("target curve needs matching, non-empty frequency and gain lists")
        if any(not math.isfinite(v) for v in (*f, *g)):
            raise DesignError("target curve contains a non-finite value")
        if any(v <= 0 for v in f):
            raise DesignError("target curve frequencies must be > 0 Hz")
        if any(b <= a for a, b in itertools.pairwise(f)):
            raise DesignError("target curve frequencies must be strictly increasing")
        if any(not 0.0 <= v <= 60.0 for v in g):
            raise DesignError("target curve gains must be in 0 .. 60 dB")

    def at(self, freqs_hz: np.ndarray) -> np.ndarray:
        """Target gain in dB at frequencies (F,) (0 Hz takes the lowest point's value)."""
        f = np.maximum(np.asarray(freqs_hz, dtype=float), 1e-3)
        return np.interp(np.log(f), np.log(self.freqs_hz), self.gains_db)

    def to_dict(self) -> dict:
        return {"freqs_hz": list(self.freqs_hz), "gains_db": list(self.gains_db)}


def load_target_curve(path: str | Path) -> TargetCurve:
    """Read a target curve: JSON {"freqs_hz": [...], "gains_db": [...]} or CSV/text lines
    "freq_hz, gain_db" ('#' comments and a header line allowed)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise DesignError(f"target curve {p}: cannot be read: {e.strerror or e}") from e
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
            return TargetCurve(tuple(float(v) for v in data["freqs_hz"]),
                               tuple(float(v) for v in data["gains_db"]))
        except (ValueError, KeyError, TypeError) as e:
            raise DesignError(f"target curve {p}: expected {{\"freqs_hz\": [...], "
                              f"\"gains_db\": [...]}} ({e})") from e
    freqs, gains = [], []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [s for s in line.replace(";", ",").replace("\t", ",").replace(" ", ",")
                 .split(",") if s]
        try:
            f, g = float(parts[0]), float(parts[1])
        except (ValueError, IndexError):
            if not freqs and n == 1:
                continue  # a header line
            raise DesignError(f"target curve {p}: line {n} is not 'freq_hz, gain_db'") from None
        freqs.append(f)
        gains.append(g)
    if not freqs:
        raise DesignError(f"target curve {p}: no 'freq_hz, gain_db' lines")
    try:
        return TargetCurve(tuple(freqs), tuple(gains))
    except DesignError as e:
        raise DesignError(f"target curve {p}: {e}") from None
