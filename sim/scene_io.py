"""Scene, device and room files: JSON with a `schema_version`, validated field by field.

A failed load raises `SceneError`: one line naming the file, the field path and what was
expected, for example ``listeners[1].position[0] = 7.2 m is outside the room (0 .. 5 m)``,
whatever the file holds (limits on size, nesting, digits and text: `sim.scene_fields`).
Unknown keys are errors.
Saving writes `sim.scene_json`'s text through `sim.outputs.write_text` (atomic, modes kept)
and validates first, so a failed save leaves the file on disk untouched. File format reference:
presets/SCHEMA.md.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.directivity import read_directivity
from sim.geometry import polygon_area, polygon_is_simple
from sim.outputs import write_text
from sim.presets import find_preset
from sim.scene import (
    BUILTIN_SIGNALS,
    SHOEBOX_SURFACES,
    Device,
    Driver,
    Hrtf,
    Listener,
    Microphone,
    Room,
    Scene,
    Simulation,
    Source,
    Walls,
)
from sim.scene_fields import (
    MAX_DESCRIPTION_CHARS,
    MAX_PATH_CHARS,
    SceneError,
    read_json,
)

# The readers below use the field readers under their historical short private names.
from sim.scene_fields import Obj as _Obj
from sim.scene_fields import fmt as _fmt
from sim.scene_fields import number as _number
from sim.scene_fields import vector as _vector
from sim.scene_json import SCHEMA_VERSION, device_to_dict, scene_to_json, to_json
from sim.user_data import library_dir

KINDS = ("scene", "device", "room")
MIN_DRIVER_SPACING_M = 1e-3
MIN_WALL_M = 1e-3
"""Shortest wall of a floor plan (pyroomacoustics cannot build a zero-length wall)."""
MAX_DRIVERS = 256
MAX_MICROPHONES = 256
MAX_LISTENERS = 64
MAX_SOURCES = 64
MAX_FLOOR_VERTICES = 1000
MAX_BANDS = 32
"""Most absorption bands of a `walls.absorption` list."""


def _is_file(p: Path) -> bool:
    """Path.is_file, False also for names the OS refuses (too long, NUL, no permission)."""
    try:
        return p.is_file()
    except OSError:
        return False


def _is_dir(p: Path) -> bool:
    """Path.is_dir, False also for names the OS refuses."""
    try:
        return p.is_dir()
    except OSError:
        return False


def _resolve_path(value: str, base_dir: Path | None, path: str, what: str,
                  folder: bool = False) -> str:
    """Absolute path of an existing file (a folder with `folder`) that `value` names,
    relative to base_dir; SceneError at `path` otherwise."""
    try:
        p = Path(value).expanduser()
    except RuntimeError:  # "~user" of an unknown user
        p = Path(value)
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    if not (_is_dir(p) if folder else _is_file(p)):
        kind = "folder" if folder else "file"
        raise SceneError(f"{path} = {_fmt(value)}: {what} {kind} not found ({p})", path)
    return str(p.resolve())


# ---------------------------------------------------------------------------------------------
# Readers for each part of the world.


def _read_simulation(o: _Obj) -> Simulation:
    sim = Simulation(
        fs_hz=o.integer("fs", 8000, 192000, default=48000),
        c_m_s=o.number("c", 250.0, 400.0, "m/s", default=343.0),
        ism_order=o.integer("ism_order", 0, 100, default=None),
        ray_tracing=o.boolean("ray_tracing", default=True),
        early_ms=o.number("early_ms", 1.0, 1000.0, "ms", default=50.0),
        ir_length_s=o.number("ir_length", 0.01, 10.0, "s", default=None),
    )
    o.done()
    return sim


@functools.lru_cache(maxsize=1)
def _pra_material_names() -> frozenset[str]:
    import pyroomacoustics as pra

    names = set()
    for group in pra.materials_data.values():
        if isinstance(group, dict):
            for sub in group.values():
                if isinstance(sub, dict):
                    names.update(sub)
    return frozenset(names)


def _check_material(name: Any, path: str) -> str:
    if not isinstance(name, str):
        raise SceneError(f"{path} = {_fmt(name)} must be a material name (string)", path)
    known = _pra_material_names()
    if name not in known:
        close = sorted(n for n in known if name.lower()[:4] in n.lower())[:5]
        hint = f"; similar: {', '.join(close)}" if close else ""
        raise SceneError(f"{path} = {_fmt(name)} is not a pyroomacoustics material{hint}", path)
    return name


def _read_walls(o: _Obj, surfaces: tuple[str, ...]) -> Walls:
    given = [k for k in ("rt60", "material", "materials", "absorption") if o.has(k)]
    if len(given) != 1:
        raise SceneError(f"{o.path} must set exactly one of rt60, material, materials, absorption"
                         f" (found: {', '.join(given) or 'none'})", o.path)
    scattering = o.number("scattering", 0.0, 1.0, default=0.0)
    kind = given[0]
    if kind == "rt60":
        walls = Walls(rt60_s=o.number("rt60", 0.0, 20.0, "s", lo_open=True), scattering=scattering)
    elif kind == "material":
        walls = Walls(material=_check_material(o.raw("material"), o.sub("material")),
                      scattering=scattering)
    elif kind == "materials":
        m = _Obj(o.raw("materials"), o.sub("materials"))
        pairs = tuple((s, _check_material(m.raw(s), m.sub(s))) for s in surfaces)
        m.done()
        walls = Walls(materials=pairs, scattering=scattering)
    else:
        coeffs = o.array("absorption", MAX_BANDS)
        if not coeffs:
            raise SceneError(f"{o.sub('absorption')} must not be empty", o.sub("absorption"))
        freqs = o.array("center_freqs", MAX_BANDS,
                        default=[125.0 * 2**i for i in range(len(coeffs))])
        if len(freqs) != len(coeffs):
            raise SceneError(f"{o.sub('center_freqs')} has {len(freqs)} values but absorption has"
                             f" {len(coeffs)}", o.sub("center_freqs"))
        a = tuple(_number(c, f"{o.sub('absorption')}[{i}]", 0.0, 1.0) for i, c in enumerate(coeffs))
        f = tuple(_number(c, f"{o.sub('center_freqs')}[{i}]", 0.0, 1e5, "Hz", lo_open=True)
                  for i, c in enumerate(freqs))
        if any(b <= a_ for a_, b in itertools.pairwise(f)):
            raise SceneError(f"{o.sub('center_freqs')} must increase", o.sub("center_freqs"))
        walls = Walls(absorption=a, center_freqs_hz=f, scattering=scattering)
    o.done()
    return walls


def _read_room(o: _Obj, c_m_s: float) -> Room:
    kind = o.string("type", choices=("shoebox", "polygon", "anechoic"))
    name = o.string("name", default="")
    o.string("description", default="", max_chars=MAX_DESCRIPTION_CHARS, multiline=True)
    if kind == "anechoic":
        o.done()
        return Room(kind="anechoic", dimensions_m=None, walls=Walls(), air_absorption=False,
                    name=name)
    if kind == "shoebox":
        dims = o.vector("dimensions", 3, -math.inf, math.inf, "m")
        for i, d in enumerate(dims):
            if not 0.0 < d <= 200.0:
                raise SceneError(f"{o.sub('dimensions')}[{i}] = {_fmt(d)} m must be > 0 m"
                                 f" (and at most 200 m)", f"{o.sub('dimensions')}[{i}]")
        room = Room(kind="shoebox", dimensions_m=dims, name=name)
        surfaces = SHOEBOX_SURFACES
    else:
        pts = o.array("floor", MAX_FLOOR_VERTICES)
        if len(pts) < 3:
            raise SceneError(f"{o.sub('floor')} needs at least 3 vertices (found {len(pts)})",
                             o.sub("floor"))
        floor = tuple(_vector(p, f"{o.sub('floor')}[{i}]", 2, -1000.0, 1000.0, "m")
                      for i, p in enumerate(pts))
        arr = np.array(floor)
        edges = np.linalg.norm(np.roll(arr, -1, axis=0) - arr, axis=1)
        if edges.min() < MIN_WALL_M:
            i = int(np.argmin(edges))
            raise SceneError(f"{o.sub('floor')}[{(i + 1) % len(arr)}] repeats vertex {i}: walls"
                             f" must be at least {MIN_WALL_M * 1000:g} mm long",
                             f"{o.sub('floor')}[{(i + 1) % len(arr)}]")
        if abs(polygon_area(arr)) < 1e-3 or not polygon_is_simple(arr):
            raise SceneError(f"{o.sub('floor')} must be a simple polygon with a non-zero area"
                             " (edges must not cross)", o.sub("floor"))
        height = o.number("height", 0.0, 200.0, "m", lo_open=True)
        room = Room(kind="polygon", dimensions_m=None, floor_m=floor, height_m=height, name=name)
        surfaces = (*(f"wall{i}" for i in range(len(floor))), "floor", "ceiling")
    walls = _read_walls(_Obj(o.raw("walls"), o.sub("walls")), surfaces)
    room = replace(room, walls=walls, air_absorption=o.boolean("air_absorption", default=True))
    if walls.rt60_s is not None:
        # Sabine: the shortest reachable RT60 has fully absorbing walls (alpha = 1).
        area = room.surface_m2()
        shortest = 24.0 * math.log(10.0) * room.volume_m3() / (c_m_s * area)
        if walls.rt60_s < shortest:
            raise SceneError(f"{o.sub('walls')}.rt60 = {_fmt(walls.rt60_s)} s is shorter than this"
                             f" room can reach ({shortest:.3f} s with fully absorbing walls)",
                             f"{o.sub('walls')}.rt60")
    o.done()
    return room


class _FileFields(_Obj):
    """An object whose fields may name files relative to the scene file: the
    `sim.directivity.ParamReader` a directivity kind reads its parameters from."""

    def __init__(self, data: Any, path: str, base_dir: Path | None):
        super().__init__(data, path)
        self.base_dir = base_dir

    def file(self, key: str, what: str) -> str:
        return _resolve_path(self.string(key, max_chars=MAX_PATH_CHARS), self.base_dir,
                             self.sub(key), what)

    def folder(self, key: str, what: str) -> str:
        return _resolve_path(self.string(key, max_chars=MAX_PATH_CHARS), self.base_dir,
                             self.sub(key), what, folder=True)

    def error(self, key: str, message: str) -> SceneError:
        return SceneError(f"{self.sub(key)}: {message}", self.sub(key))


def _check_sofa(file: str, path: str) -> None:
    from sim import sofa

    try:
        sofa.load_hrir(file, 48000)
    except sofa.SofaError as e:
        raise SceneError(f"{path}: {e}", path) from e


def _read_transducer(o: _Obj, cls, base_dir):
    name = o.string("name")
    pos = o.vector("position", 3, -10.0, 10.0, "m")
    axis = o.vector("axis_deg", 2, -360.0, 360.0, "deg", default=[0.0, 0.0])
    fields = _FileFields(o.raw("directivity", default={"type": "omni"}), o.sub("directivity"),
                         base_dir)
    d = read_directivity(fields, microphone=cls is Microphone)
    fields.done()
    extra = {}
    if cls is Driver:
        extra["gain_db"] = o.number("gain_db", -60.0, 40.0, "dB", default=0.0)
    o.done()
    return cls(name=name, position_m=pos, axis_deg=axis, directivity=d, **extra)


def _read_parts(o: _Obj,
                base_dir: Path | None) -> tuple[tuple[Driver, ...], tuple[Microphone, ...]]:
    drivers = tuple(
        _read_transducer(_Obj(d, f"{o.sub('drivers')}[{i}]"), Driver, base_dir)
        for i, d in enumerate(o.array("drivers", MAX_DRIVERS)))
    if not drivers:
        raise SceneError(f"{o.sub('drivers')} must list at least one driver", o.sub("drivers"))
    mics = tuple(
        _read_transducer(_Obj(m, f"{o.sub('microphones')}[{i}]"), Microphone, base_dir)
        for i, m in enumerate(o.array("microphones", MAX_MICROPHONES, default=[])))
    pos = np.array([d.position_m for d in drivers])
    close = np.linalg.norm(pos[:, None] - pos[None], axis=-1) < MIN_DRIVER_SPACING_M
    close &= np.tri(len(pos), k=-1, dtype=bool)  # each pair once: drivers[j] before drivers[i]
    if close.any():
        i, j = (int(k) for k in np.argwhere(close)[0])
        f = f"{o.sub('drivers')}[{i}].position"
        raise SceneError(f"{f} = {_fmt(list(drivers[i].position_m))} m coincides with"
                         f" drivers[{j}] ({_fmt(drivers[j].name)}); drivers must be at least"
                         f" {MIN_DRIVER_SPACING_M * 1000:g} mm apart", f)
    _check_unique([d.name for d in drivers], o.sub("drivers"))
    _check_unique([m.name for m in mics], o.sub("microphones"))
    return drivers, mics


def _check_unique(names: list[str], path: str) -> None:
    seen = set()
    for i, n in enumerate(names):
        if n in seen:
            raise SceneError(f"{path}[{i}].name = {_fmt(n)} is used twice; names must be unique",
                             f"{path}[{i}].name")
        seen.add(n)


def _read_device(o: _Obj, base_dir: Path | None) -> Device:
    position = o.vector("position", 3, -1000.0, 1000.0, "m")
    yaw = o.number("yaw_deg", -3600.0, 3600.0, "deg", default=0.0)
    model = o.string("model", default="")
    if o.has("drivers"):
        name = o.string("name", default=model or "device")
        drivers, mics = _read_parts(o, base_dir)
    else:
        if not model:
            raise SceneError(f"{o.path} needs either 'model' (a device preset) or 'drivers'",
                             o.path)
        base = load_device(model, field=o.sub("model"))
        name = o.string("name", default=base.name)
        drivers, mics = base.drivers, base.microphones
    o.done()
    return Device(name=name, position_m=position, yaw_deg=yaw, drivers=drivers,
                  microphones=mics, model=model)


def _read_listener(o: _Obj, base_dir: Path | None) -> Listener:
    name = o.string("name")
    pos = o.vector("position", 3, -1000.0, 1000.0, "m")
    yaw = o.number("yaw_deg", -3600.0, 3600.0, "deg", default=0.0)
    radius = o.number("head_radius", 0.04, 0.15, "m", default=0.0875)
    ears = o.vector("ear_angles_deg", 2, -180.0, 180.0, "deg", default=[100.0, -100.0])
    if not (ears[0] > 0.0 > ears[1]):
        raise SceneError(f"{o.sub('ear_angles_deg')} = {_fmt(list(ears))} must be [left > 0,"
                         " right < 0] (degrees from the nose, positive to the left)",
                         o.sub("ear_angles_deg"))
    h = _Obj(o.raw("hrtf", default={"type": "sphere"}), o.sub("hrtf"))
    t = h.string("type", choices=("sphere", "sofa"))
    hrtf = Hrtf(type=t)
    if t == "sofa":
        f = _resolve_path(h.string("file", max_chars=MAX_PATH_CHARS), base_dir, h.sub("file"),
                          "SOFA")
        _check_sofa(f, h.sub("file"))
        hrtf = Hrtf(type="sofa", file=f)
    h.done()
    o.done()
    return Listener(name=name, position_m=pos, yaw_deg=yaw, head_radius_m=radius,
                    ear_angles_deg=ears, hrtf=hrtf)


def _read_source(o: _Obj, base_dir: Path | None) -> Source:
    name = o.string("name")
    kind = o.string("kind", choices=("talker", "noise"))
    pos = o.vector("position", 3, -1000.0, 1000.0, "m")
    signal = o.string("signal", default="builtin:pink-noise", max_chars=MAX_PATH_CHARS)
    if signal.startswith("builtin:"):
        if signal[8:] not in BUILTIN_SIGNALS:
            raise SceneError(f"{o.sub('signal')} = {_fmt(signal)} is not a built-in signal"
                             f" (builtin:{', builtin:'.join(BUILTIN_SIGNALS)})", o.sub("signal"))
    else:
        signal = _resolve_path(signal, base_dir, o.sub("signal"), "audio")
    level = o.number("level_db", -20.0, 140.0, "dB SPL", default=60.0)
    o.done()
    return Source(name=name, kind=kind, position_m=pos, signal=signal, level_db=level)


def _check_inside(room: Room, point, path: str) -> None:
    if room.is_anechoic or room.contains(np.asarray(point)):
        return
    if room.kind == "shoebox":
        for i, (v, hi) in enumerate(zip(point, room.dimensions_m, strict=False)):
            if not 0.0 <= v <= hi:
                raise SceneError(f"{path}[{i}] = {_fmt(v)} m is outside the room"
                                 f" (0 .. {_fmt(hi)} m)", f"{path}[{i}]")
    if not 0.0 <= point[2] <= room.height:
        raise SceneError(f"{path}[2] = {_fmt(point[2])} m is outside the room"
                         f" (0 .. {_fmt(room.height)} m)", f"{path}[2]")
    raise SceneError(f"{path} = {_fmt(list(point))} m is outside the room's floor plan", path)


def check_scene(scene: Scene) -> None:
    """Cross-field checks of a whole scene (placement inside the room, head clear of drivers).

    Raises SceneError naming the field. Used by the loader and before every save.
    """
    room, dev = scene.room, scene.device
    _check_inside(room, dev.position_m, "device.position")
    for i, p in enumerate(dev.driver_positions()):
        _check_inside(room, tuple(float(v) for v in p), f"device.drivers[{i}].position (in room)")
    for i, p in enumerate(dev.mic_positions()):
        _check_inside(room, tuple(float(v) for v in p),
                      f"device.microphones[{i}].position (in room)")
    drivers = dev.driver_positions()
    for i, li in enumerate(scene.listeners):
        _check_inside(room, li.position_m, f"listeners[{i}].position")
        dist = np.linalg.norm(drivers - np.asarray(li.position_m), axis=1)
        k = int(np.argmin(dist))
        if dist[k] < li.head_radius_m + 0.01:
            raise SceneError(f"listeners[{i}].position = {_fmt(list(li.position_m))} m puts the"
                             f" head inside the device: driver {dev.drivers[k].name!r} is"
                             f" {dist[k]:.3f} m from the head centre (needs >"
                             f" {li.head_radius_m + 0.01:.3f} m)", f"listeners[{i}].position")
    for i, s in enumerate(scene.sources):
        _check_inside(room, s.position_m, f"sources[{i}].position")
    _check_unique([li.name for li in scene.listeners], "listeners")
    _check_unique([s.name for s in scene.sources], "sources")


def _read_header(o: _Obj, kind: str) -> str:
    """Check `schema_version` and `kind` of a `kind` file; returns its description."""
    version = o.raw("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise SceneError(f"schema_version = {_fmt(version)} must be an integer", "schema_version")
    if version > SCHEMA_VERSION:
        raise SceneError(f"schema_version = {version} is newer than this program reads"
                         f" ({SCHEMA_VERSION}); update Acoustic Workbench", "schema_version")
    if version < 1:
        raise SceneError(f"schema_version = {version} is not a known version (1 .. "
                         f"{SCHEMA_VERSION})", "schema_version")
    found = _read_kind(o)
    if found != kind:
        raise SceneError(f"kind = {_fmt(found)} but a {kind} file was expected", "kind")
    return o.string("description", default="", max_chars=MAX_DESCRIPTION_CHARS, multiline=True)


def _read_kind(o: _Obj) -> str:
    if not o.has("kind"):
        raise SceneError('kind is missing: every file says what it holds ("kind": "scene",'
                         ' "device" or "room")', "kind")
    return o.string("kind", choices=KINDS)


def scene_from_dict(data: Any, base_dir: Path | None = None) -> Scene:
    """Build and validate a Scene from parsed JSON. Raises SceneError (no file prefix)."""
    o = _Obj(data, "")
    description = _read_header(o, "scene")
    sim = _read_simulation(_Obj(o.raw("simulation", default={}), "simulation"))
    room_ref = o.raw("room")
    if isinstance(room_ref, str):
        room = load_room(room_ref, field="room", c_m_s=sim.c_m_s)
    else:
        room = _read_room(_Obj(room_ref, "room"), sim.c_m_s)
    scene = Scene(
        name=o.string("name", default="untitled"),
        description=description,
        room=room,
        device=_read_device(_Obj(o.raw("device"), "device"), base_dir),
        listeners=tuple(_read_listener(_Obj(x, f"listeners[{i}]"), base_dir)
                        for i, x in enumerate(o.array("listeners", MAX_LISTENERS,
                                                      default=[]))),
        sources=tuple(_read_source(_Obj(x, f"sources[{i}]"), base_dir)
                      for i, x in enumerate(o.array("sources", MAX_SOURCES, default=[]))),
        simulation=sim,
    )
    o.done()
    check_scene(scene)
    return scene


# ---------------------------------------------------------------------------------------------
# Files and presets.


def _named_file(name: str, kind: str) -> Path | None:
    """The file a name stands for: a shipped preset of `kind`, else (a device) the user's
    library device of that name; None when there is none."""
    info = find_preset(name, kind)
    if info is not None:
        return info.path
    if kind == "device" and name and Path(name).name == name:
        path = library_dir() / f"{name}.json"
        return path if _is_file(path) else None
    return None


def _load_kind(ref: str | os.PathLike, kind: str, reader) -> Any:
    """Load a file path, or a preset (or library device) name, of `kind` with
    `reader(obj, base_dir)`."""
    path = Path(ref)
    if not _is_file(path):
        path = _named_file(str(ref), kind)
        if path is None:
            raise SceneError(f"{_fmt(str(ref))} is neither a file nor a {kind} preset"
                             " (see 'awb presets list')")
    data = read_json(path)
    try:
        return reader(data, path.parent)
    except SceneError as e:
        raise e.in_file(str(path)) from None


def load_scene(ref: str | os.PathLike) -> Scene:
    """Load and validate a scene file or scene preset name."""
    return _load_kind(ref, "scene", scene_from_dict)


def _device_reader(data: Any, base_dir: Path | None) -> Device:
    o = _Obj(data, "")
    _read_header(o, "device")
    name = o.string("name")
    drivers, mics = _read_parts(o, base_dir)
    o.done()
    return Device(name=name, position_m=(0.0, 0.0, 0.0), drivers=drivers, microphones=mics,
                  model=name)


def _room_reader(data: Any, base_dir: Path | None, c_m_s: float = 343.0) -> Room:
    o = _Obj(data, "")
    _read_header(o, "room")
    return _read_room(o, c_m_s)


def load_device(ref: str, field: str = "") -> Device:
    """Load a device file, preset or library device (drivers and microphones in its local
    frame)."""
    try:
        return _load_kind(ref, "device", _device_reader)
    except SceneError as e:
        if field and e.field == "" and e.file is None:
            raise SceneError(f"{field} = {_fmt(ref)}: {e.detail}", field) from None
        raise


def load_room(ref: str, field: str = "", c_m_s: float = 343.0) -> Room:
    """Load a room file or preset."""
    try:
        return _load_kind(ref, "room", lambda d, b: _room_reader(d, b, c_m_s))
    except SceneError as e:
        if field and e.field == "" and e.file is None:
            raise SceneError(f"{field} = {_fmt(ref)}: {e.detail}", field) from None
        raise


def validate_any(ref: str) -> tuple[str, Any]:
    """Load a scene, device or room (file or preset) and return (kind, object)."""
    path = Path(ref)
    kind = "scene"  # neither a file nor a preset: load_scene says so
    if _is_file(path):
        try:
            kind = _read_kind(_Obj(read_json(path), ""))
        except SceneError as e:
            raise (e if e.file else e.in_file(str(path))) from None
    else:
        kind = next((k for k in KINDS if _named_file(ref, k)), kind)
    loader = {"scene": load_scene, "device": load_device, "room": load_room}[kind]
    return kind, loader(ref)


# ---------------------------------------------------------------------------------------------
# Saving (the JSON itself: `sim.scene_json`).


def save_scene(scene: Scene, path: str | os.PathLike) -> None:
    """Validate `scene` and write it to `path` atomically; on any error the file is untouched."""
    path = Path(path)
    base = path.parent.resolve()
    text = scene_to_json(scene, base)
    try:
        scene_from_dict(json.loads(text), base)  # what we write must load back
    except SceneError as e:
        raise e.in_file(str(path)) from None
    write_text(path, text)


def save_device(device: Device, path: str | os.PathLike, description: str = "") -> None:
    """Write `device` as a device file (`sim.scene_json.device_to_dict`) to `path` atomically,
    after checking that what is written loads back; on any error the file is untouched."""
    path = Path(path)
    base = path.parent.resolve()
    data = device_to_dict(device, description, base)
    try:
        _device_reader(data, base)
    except SceneError as e:
        raise e.in_file(str(path)) from None
    write_text(path, to_json(data))
