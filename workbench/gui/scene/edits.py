"""Qt-free helpers that read and change one scene object addressed by an item key.

An item key is (kind, index): ("room", 0), ("device", 0), ("listener", i), ("source", i). The
functions return new Scene objects (the model is immutable); validation is the document's job.
"""

from __future__ import annotations

import math

from sim.scene import Scene
from sim.scene_io import SceneError, check_scene

Vec3 = tuple[float, float, float]
GRID_M = 0.05
YAW_STEP_DEG = 5.0


def label_of(scene: Scene, key: tuple[str, int]) -> str:
    kind, i = key
    if kind == "listener":
        return f"listener '{scene.listeners[i].name}'"
    if kind == "source":
        return f"{scene.sources[i].kind} '{scene.sources[i].name}'"
    if kind == "device":
        return f"device '{scene.device.name}'"
    return f"room '{scene.room.name or scene.room.kind}'"


def exists(scene: Scene, key: tuple[str, int] | None) -> bool:
    if key is None:
        return False
    kind, i = key
    if kind == "listener":
        return 0 <= i < len(scene.listeners)
    if kind == "source":
        return 0 <= i < len(scene.sources)
    return kind in ("device", "room")


POSITIONED = ("listener", "source", "device")
TURNABLE = ("listener", "device")


def _item(scene: Scene, key: tuple[str, int]):
    """The listener, source or device `key` addresses (None for the room)."""
    kind, i = key
    if kind == "listener":
        return scene.listeners[i]
    if kind == "source":
        return scene.sources[i]
    return scene.device if kind == "device" else None


def _with(scene: Scene, key: tuple[str, int], **changes) -> Scene:
    """A copy of `scene` with the listener, source or device `key` addresses changed."""
    kind, i = key
    if kind == "listener":
        return scene.with_listener(i, **changes)
    if kind == "source":
        return scene.with_source(i, **changes)
    return scene.with_device(**changes)


def position_of(scene: Scene, key: tuple[str, int]) -> Vec3 | None:
    return _item(scene, key).position_m if key[0] in POSITIONED else None


def with_position(scene: Scene, key: tuple[str, int], position: Vec3) -> Scene:
    if key[0] not in POSITIONED:
        raise ValueError(f"{key[0]} has no position")
    return _with(scene, key, position_m=tuple(float(v) for v in position))


def yaw_of(scene: Scene, key: tuple[str, int]) -> float | None:
    return _item(scene, key).yaw_deg if key[0] in TURNABLE else None


def with_yaw(scene: Scene, key: tuple[str, int], yaw_deg: float) -> Scene:
    if key[0] not in TURNABLE:
        raise ValueError(f"{key[0]} has no yaw")
    return _with(scene, key, yaw_deg=float(yaw_deg))


def wrap_deg(angle: float) -> float:
    """Angle in degrees wrapped to (-180, 180]."""
    a = math.fmod(angle, 360.0)
    if a <= -180.0:
        a += 360.0
    elif a > 180.0:
        a -= 360.0
    return round(a, 9) + 0.0


def snap(value: float, step: float) -> float:
    """`value` rounded to a multiple of `step` (and to 9 decimals, so 0.05 * 53 prints as 2.65)."""
    return round(round(value / step) * step, 9) + 0.0


def placement_error(scene: Scene) -> str | None:
    """The check_scene message for `scene`, or None when everything is placed validly."""
    try:
        check_scene(scene)
    except SceneError as e:
        return str(e)
    return None


def clamp_move(scene: Scene, key: tuple[str, int], target_xy: tuple[float, float],
               iterations: int = 16) -> tuple[tuple[float, float], str | None]:
    """The reachable (x, y) closest to `target_xy` when moving `key` from where it is now.

    Moves one axis at a time (so an item slides along a wall) and bisects towards the target
    on each axis for the furthest valid placement (`check_scene`: inside the room, head clear of
    the device). Returns the position and the reason the target itself was refused (or None).
    The current placement must be valid.
    """
    x0, y0, z = position_of(scene, key)
    first = placement_error(with_position(scene, key, (target_xy[0], target_xy[1], z)))
    if first is None:
        return (float(target_xy[0]), float(target_xy[1])), None
    pos = [x0, y0]
    for axis in (0, 1):
        cand = list(pos)
        cand[axis] = target_xy[axis]
        if placement_error(with_position(scene, key, (cand[0], cand[1], z))) is None:
            pos = cand
            continue
        lo, hi = pos[axis], target_xy[axis]  # lo valid, hi invalid
        for _ in range(iterations):
            mid = (lo + hi) / 2
            cand[axis] = mid
            if placement_error(with_position(scene, key, (cand[0], cand[1], z))) is None:
                lo = mid
            else:
                hi = mid
        pos[axis] = lo
    return (float(pos[0]), float(pos[1])), first
