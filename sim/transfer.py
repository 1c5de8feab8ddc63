"""One interface to the acoustic transfer of a scene, with two engines.

- "freefield": analytic (driver directivity × spherical spreading × rigid-sphere or SOFA head),
  vectorized, used by design and plots (`sim.freefield`).
- "room": pyroomacoustics image sources (+ ray tracing for the tail) with the heads as measured
  directivities (`sim.room`).

Both return impulse responses with the same layout and the same leading modelling delay
`t0_samples`, so sample n of an IR is the pressure at time (n - t0_samples) / fs after the
driver emitted a unit impulse; amplitudes follow 1/r (1 m → 1.0), as in pyroomacoustics.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.scene import Scene, content_hash
from sim.task import TaskState

ENGINES = ("freefield", "room")

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
        from sim.scene_io import atomic_write_bytes

        arrays = {"ir": self.ir, "fs": np.int64(self.fs_hz), "t0": np.int64(self.t0_samples),
                  "meta": np.array(json.dumps(self.meta))}
        if self.ir_mic is not None:
            arrays["ir_mic"] = self.ir_mic
        import io

        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(path, buf.getvalue())


def simulate(scene: Scene, engine: str = "freefield", *, fs_hz: int | None = None,
             talkers: bool = False, early_only: bool = False,
             state: TaskState | None = None, cache=None) -> TransferResult:
    """Driver → ear IRs of every listener (and source → mic IRs with `talkers`).

    fs_hz overrides the scene's rate; early_only (room engine) keeps only the first
    `scene.simulation.early_ms` with a low ISM order and no ray tracing, for interaction.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine = {engine!r} must be one of {', '.join(ENGINES)}")
    if fs_hz is not None:
        from dataclasses import replace

        scene = replace(scene, simulation=replace(scene.simulation, fs_hz=int(fs_hz)))
    if engine == "freefield":
        from sim.freefield import freefield_result

        result = freefield_result(scene, talkers=talkers, state=state)
    else:
        from sim.room import room_result

        result = room_result(scene, talkers=talkers, early_only=early_only, state=state,
                             cache=cache)
    result.meta.setdefault("scene_hash", content_hash(scene))
    result.meta.setdefault("engine", engine)
    return result
