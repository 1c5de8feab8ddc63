"""Qt-free edits of the scene's device: its drivers and microphones ("parts"), addressed by a
part key (kind, index) with kind "driver" or "mic".

Each function returns a new Scene (the model is immutable); validation is the document's job
(`SceneDocument.push`: every field range of the file format, placement in the room), except
what the file format cannot know: `added_error` checks a new driver against the free-field
budget (`sim.budget`). Positions are metres in the device frame (+x front, +y left, +z up),
axes [azimuth, elevation] in degrees.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import replace

from sim.budget import check_budget
from sim.directivity import Directivity, Omni, directivity_class
from sim.scene import Driver, Microphone, Scene, Transducer
from sim.scene_fields import SceneError

Part = tuple[str, int]
KINDS = ("driver", "mic")
NEW_PART_SPACING_M = 0.03
"""Pitch of the free places a new part is put on (along y, then rows along z)."""


def parts_of(scene: Scene, kind: str) -> tuple[Transducer, ...]:
    return scene.device.drivers if kind == "driver" else scene.device.microphones


def part_of(scene: Scene, part: Part) -> Transducer:
    return parts_of(scene, part[0])[part[1]]


def all_parts(scene: Scene) -> list[Part]:
    """Every part key: drivers first, then microphones (the table's row order)."""
    return [(k, i) for k in KINDS for i in range(len(parts_of(scene, k)))]


def exists(scene: Scene, part: Part | None) -> bool:
    return part is not None and 0 <= part[1] < len(parts_of(scene, part[0]))


def label(scene: Scene, part: Part) -> str:
    word = "driver" if part[0] == "driver" else "microphone"
    return f"{word} '{part_of(scene, part).name}'"


def _with_parts(scene: Scene, kind: str, parts: tuple) -> Scene:
    return scene.with_device(**{"drivers" if kind == "driver" else "microphones": parts})


def with_part(scene: Scene, part: Part, **changes) -> Scene:
    """`scene` with the part's fields changed (keyword arguments of Driver / Microphone)."""
    items = list(parts_of(scene, part[0]))
    items[part[1]] = replace(items[part[1]], **changes)
    return _with_parts(scene, part[0], tuple(items))


def with_position_mm(scene: Scene, part: Part, axis: int, value_mm: float) -> Scene:
    """One coordinate (0 x, 1 y, 2 z) of the part set, in mm."""
    p = list(part_of(scene, part).position_m)
    p[axis] = finite(value_mm, "position") / 1000.0
    return with_part(scene, part, position_m=tuple(p))


def with_axis(scene: Scene, part: Part, azimuth_deg: float | None = None,
              elevation_deg: float | None = None) -> Scene:
    """The part aimed: azimuth and/or elevation in degrees (the other kept)."""
    az, el = part_of(scene, part).axis_deg
    az = az if azimuth_deg is None else finite(azimuth_deg, "azimuth")
    el = el if elevation_deg is None else finite(elevation_deg, "elevation")
    return with_part(scene, part, axis_deg=(float(az), float(el)))


def with_directivity_kind(scene: Scene, part: Part, kind: str, **params) -> Scene:
    """The part's directivity replaced by a `kind` one: its defaults, then `params`."""
    return with_part(scene, part, directivity=directivity_class(kind)(**params))


def with_parameter(scene: Scene, part: Part, name: str, value) -> Scene:
    """One field of the part's directivity set."""
    d = part_of(scene, part).directivity
    if isinstance(value, float):
        value = finite(value, name)
    return with_part(scene, part, directivity=replace(d, **{name: value}))


EDITABLE = (float, int, str)
"""Types of the directivity fields a user edits as text; other fields are shown only."""
PATH_WORDS = ("file", "folder", "dir", "path")


def parameters(directivity: Directivity | type[Directivity]) -> list[dataclasses.Field]:
    """The fields of a directivity kind (its dataclass fields), in declaration order."""
    return list(dataclasses.fields(directivity))


def is_path(field: dataclasses.Field) -> bool:
    """A field naming a file or a folder (by its name: file, folder, dir, path, or ending so)."""
    return any(field.name == w or field.name.endswith(f"_{w}") for w in PATH_WORDS)


def is_folder(field: dataclasses.Field) -> bool:
    return is_path(field) and ("folder" in field.name or "dir" in field.name)


def finite(value: float, what: str) -> float:
    """`value` as a float; ValueError naming `what` for NaN or ±inf."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number")
    return value


def unique_name(taken: set[str], stem: str) -> str:
    """`stem` followed by the smallest number ≥ 1 not yet in `taken`."""
    n = 1
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


def _free_position(scene: Scene) -> tuple[float, float, float]:
    """A place at least NEW_PART_SPACING_M from every part: along y from the origin (0, +1,
    −1, +2, … pitches), further rows above."""
    taken = [p.position_m for k in KINDS for p in parts_of(scene, k)]
    for row in range(64):
        for k in range(64):
            y = NEW_PART_SPACING_M * ((k + 1) // 2) * (1 if k % 2 else -1)
            cand = (0.0, y + 0.0, NEW_PART_SPACING_M * row)
            if all(math.dist(cand, t) >= NEW_PART_SPACING_M - 1e-9 for t in taken):
                return cand
    return (0.0, 0.0, 0.0)  # a full device: the document refuses the coinciding part


def add_part(scene: Scene, kind: str) -> tuple[Scene, Part]:
    """`scene` with a new omni part of `kind` at a free place, facing front, and its key."""
    names = {p.name for p in parts_of(scene, kind)}
    pos = _free_position(scene)
    cls, stem = (Driver, "d") if kind == "driver" else (Microphone, "mic")
    new = cls(unique_name(names, stem), pos, (0.0, 0.0), Omni())
    items = (*parts_of(scene, kind), new)
    return _with_parts(scene, kind, items), (kind, len(items) - 1)


def remove_part(scene: Scene, part: Part) -> Scene:
    items = list(parts_of(scene, part[0]))
    del items[part[1]]
    return _with_parts(scene, part[0], tuple(items))


def added_error(scene: Scene) -> str | None:
    """Why a scene with more drivers cannot be simulated in free field (`sim.budget`), or
    None."""
    try:
        check_budget(scene, "freefield")
    except SceneError as e:
        return str(e)
    return None
