"""Qt-free edits of what a scene holds: listeners and sources added, removed and duplicated,
and the empty room File ▸ New ▸ Empty Room starts from.

Functions return (new Scene, key of the object they made) or a new Scene; validation (inside
the room, head clear of the device, unique names) is the document's job.

New objects: a listener stands at seated ear height (1.2 m) facing the device; a talker at
standing mouth height (1.6 m) with speech-shaped noise at 65 dB SPL; a noise source at 1.0 m
with pink noise at 60 dB SPL. Heights are capped 0.1 m under a low ceiling. Names are the kind
with the first free number ("listener-2"); a duplicate is its original's name with the next
free number, placed `DUPLICATE_OFFSET_M` away (the first of four diagonal offsets that is a
valid placement).
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from sim.scene import Listener, Scene, Source
from workbench.gui.scene.edits import placement_error

ItemKey = tuple[str, int]
LISTENER_Z_M = 1.2
SOURCES = {"talker": ("talker", 1.6, "builtin:speech-shaped-noise", 65.0),
           "noise": ("noise", 1.0, "builtin:pink-noise", 60.0)}
"""kind → (name stem, height m, signal, level dB SPL at 1 m) of a new source."""
DUPLICATE_OFFSET_M = 0.3


def unique_name(taken: set[str], stem: str) -> str:
    """`stem` if free, else `stem-N` with the smallest free N ≥ 2 (a trailing -N of `stem`
    is replaced, so "talker-2" duplicates as "talker-3")."""
    stem = re.sub(r"-\d+$", "", stem) if stem in taken else stem
    if stem not in taken:
        return stem
    n = 2
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"


def _height(scene: Scene, z: float) -> float:
    ceiling = scene.room.height
    return z if ceiling is None else min(z, max(ceiling - 0.1, ceiling / 2))


def add_listener(scene: Scene, xy: tuple[float, float]) -> tuple[Scene, ItemKey]:
    """A new listener at `xy` (m), facing the device."""
    dev = scene.device.position_m
    yaw = math.degrees(math.atan2(dev[1] - xy[1], dev[0] - xy[0]))
    name = unique_name({li.name for li in scene.listeners}, "listener")
    listener = Listener(name=name, position_m=(float(xy[0]), float(xy[1]),
                                               _height(scene, LISTENER_Z_M)),
                        yaw_deg=round(yaw, 1) + 0.0)
    return replace(scene, listeners=(*scene.listeners, listener)), \
        ("listener", len(scene.listeners))


def add_source(scene: Scene, kind: str, xy: tuple[float, float]) -> tuple[Scene, ItemKey]:
    """A new talker or noise source (`kind`) at `xy` (m)."""
    stem, z, signal, level = SOURCES[kind]
    name = unique_name({s.name for s in scene.sources}, stem)
    source = Source(name=name, kind=kind, position_m=(float(xy[0]), float(xy[1]),
                                                      _height(scene, z)),
                    signal=signal, level_db=level)
    return replace(scene, sources=(*scene.sources, source)), ("source", len(scene.sources))


def remove(scene: Scene, key: ItemKey) -> Scene:
    """The scene without listener or source `key`; ValueError for the device and the room,
    which every scene has exactly one of."""
    kind, i = key
    if kind == "listener":
        return replace(scene, listeners=scene.listeners[:i] + scene.listeners[i + 1:])
    if kind == "source":
        return replace(scene, sources=scene.sources[:i] + scene.sources[i + 1:])
    raise ValueError(f"the {kind} cannot be deleted: a scene has exactly one")


def duplicate(scene: Scene, key: ItemKey) -> tuple[Scene, ItemKey]:
    """A copy of listener or source `key` next to it (see the module doc); the last offset
    tried when none is valid (the document then refuses it with the reason)."""
    kind, i = key
    if kind not in ("listener", "source"):
        raise ValueError(f"the {kind} cannot be duplicated: a scene has exactly one")
    items = scene.listeners if kind == "listener" else scene.sources
    original = items[i]
    name = unique_name({x.name for x in items}, original.name)
    x, y, z = original.position_m
    new = scene
    for sx, sy in ((1, -1), (-1, -1), (1, 1), (-1, 1)):
        pos = (round(x + sx * DUPLICATE_OFFSET_M, 6), round(y + sy * DUPLICATE_OFFSET_M, 6), z)
        copy = replace(original, name=name, position_m=pos)
        field = "listeners" if kind == "listener" else "sources"
        new = replace(scene, **{field: (*items, copy)})
        if placement_error(new) is None:
            break
    return new, (kind, len(items))


def empty_room(template: Scene) -> Scene:
    """File ▸ New ▸ Empty Room: `template`'s room and device (a scene always holds one device),
    no listeners, no sources, default simulation settings kept."""
    return replace(template, name="untitled", description="", listeners=(), sources=())
