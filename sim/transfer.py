"""One interface to the acoustic transfer of a scene, with two engines.

- "freefield": analytic (driver directivity × spherical spreading × rigid-sphere or SOFA head),
  vectorized, used by design and plots (`sim.freefield`).
- "room": pyroomacoustics image sources (+ ray tracing for the tail) with the heads as measured
  directivities (`sim.room`).

Both return a `TransferResult` (sim.transfer_result): impulse responses with the same layout
and the same leading modelling delay `T0_SAMPLES`.
"""

from __future__ import annotations

from sim.scene import Scene, content_hash
from sim.task import TaskState
from sim.transfer_result import T0_SAMPLES, TransferResult

__all__ = ["ENGINES", "T0_SAMPLES", "TransferResult", "simulate"]

ENGINES = ("freefield", "room")


def simulate(scene: Scene, engine: str = "freefield", *, fs_hz: int | None = None,
             talkers: bool = False, early_only: bool = False,
             state: TaskState | None = None, cache=None) -> TransferResult:
    """Driver → ear IRs of every listener (and source → mic IRs with `talkers`).

    fs_hz overrides the scene's rate; early_only (room engine) keeps only the first
    `scene.simulation.early_ms` with a low ISM order and no ray tracing, for interaction.
    Raises SceneError naming the field to change when the run would need more memory or time
    than `sim.budget.Limits.from_env()` allows (checked before anything is allocated).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine = {engine!r} must be one of {', '.join(ENGINES)}")
    if fs_hz is not None:
        from dataclasses import replace

        scene = replace(scene, simulation=replace(scene.simulation, fs_hz=int(fs_hz)))
    from sim.budget import check_budget  # refuses (SceneError) runs past the memory/time limits

    check_budget(scene, engine, talkers=talkers, early_only=early_only)
    # Imported on use: the room engine needs pyroomacoustics, which the free field does not.
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
