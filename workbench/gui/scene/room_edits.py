"""Qt-free edits of a scene's room: type switches, wall and corner geometry, wall absorption.

Every function returns a new Scene (the model is immutable); validation (self-intersecting
floors, items left outside, RT60 targets the room cannot reach) is the document's job, which
refuses the edit with the reader's message.

Conversions keep what the user built:
- shoebox → polygon: the same rectangle as four corners (walls wall0..wall3 = south, east,
  north, west), same height and absorption;
- polygon → shoebox: the floor's bounding box, the scene shifted so that its corner is the
  origin, each shoebox wall taking the material of the polygon walls facing its way;
- anechoic → shoebox / polygon: the room the scene had before, when everything still fits in
  it, else the default 5 × 4 × 2.7 m room (RT60 0.4 s), enlarged and the scene shifted so
  that everything sits at least `MARGIN_M` inside;
- any → anechoic: free field (positions unchanged).
Per-surface materials follow corners as they are inserted (the new wall takes the split wall's
material) and deleted (the merged wall keeps the earlier wall's material).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from sim.scene import SHOEBOX_SURFACES, Room, Scene, Walls
from workbench.gui.scene.edits import placement_error

Vec2 = tuple[float, float]
DEFAULT_DIMENSIONS_M = (5.0, 4.0, 2.7)
DEFAULT_RT60_S = 0.4
MARGIN_M = 0.5
MIN_CORNERS = 3
POLYGON_SIDES = ("south", "east", "north", "west")
"""The shoebox surface each edge of a converted rectangle (corners counter-clockwise from the
origin) stands for."""
WALL_MODES = ("rt60", "material", "materials", "absorption")
BAND_CENTRES_HZ = (125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0)
"""Where octave-band absorption typed in the properties is given (pyroomacoustics' database
bands)."""


def material_names() -> list[tuple[str, str, str]]:
    """(category, name, description) of every pyroomacoustics absorption material, by
    category as the database lists them."""
    import pyroomacoustics as pra

    out = []
    for category, entries in pra.materials_data["absorption"].items():
        for name, entry in entries.items():
            out.append((category, name, entry.get("description", name)))
    return out


def surfaces(room: Room) -> tuple[str, ...]:
    """Names of the room's surfaces as `Walls.materials` keys them (empty in free field)."""
    if room.kind == "shoebox":
        return SHOEBOX_SURFACES
    if room.kind == "polygon":
        return (*(f"wall{i}" for i in range(len(room.floor_m))), "floor", "ceiling")
    return ()


def _with_room(scene: Scene, room: Room) -> Scene:
    return replace(scene, room=room)


def shift_scene(scene: Scene, dx: float, dy: float) -> Scene:
    """Every positioned object (device, listeners, sources) moved by (dx, dy) m."""
    def moved(p):
        return (float(p[0] + dx), float(p[1] + dy), float(p[2]))

    return replace(scene, device=replace(scene.device, position_m=moved(scene.device.position_m)),
                   listeners=tuple(replace(li, position_m=moved(li.position_m))
                                   for li in scene.listeners),
                   sources=tuple(replace(s, position_m=moved(s.position_m))
                                 for s in scene.sources))


def _points(scene: Scene) -> np.ndarray:
    """Room-frame points (n, 3) that must stay inside: device, drivers, mics, heads, sources."""
    dev = scene.device
    pts = [np.asarray(dev.position_m, float)[None], dev.driver_positions(), dev.mic_positions()]
    pts += [np.array([li.position_m for li in scene.listeners]).reshape(-1, 3),
            np.array([s.position_m for s in scene.sources]).reshape(-1, 3)]
    return np.concatenate(pts)


def _enclosing_shoebox(scene: Scene) -> tuple[Scene, Room]:
    """The default room, enlarged so every point sits MARGIN_M inside, and the scene shifted
    into it (free field → room)."""
    pts = _points(scene)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    size = [max(d, float(b - a) + 2 * MARGIN_M) for d, a, b in
            zip(DEFAULT_DIMENSIONS_M[:2], lo[:2], hi[:2], strict=True)]
    height = max(DEFAULT_DIMENSIONS_M[2], float(hi[2]) + MARGIN_M)
    # Centre the contents in the floor.
    dx = (size[0] - float(hi[0] - lo[0])) / 2 - float(lo[0])
    dy = (size[1] - float(hi[1] - lo[1])) / 2 - float(lo[1])
    room = Room(kind="shoebox", dimensions_m=(round(size[0], 3), round(size[1], 3),
                                              round(height, 3)),
                walls=Walls(rt60_s=DEFAULT_RT60_S), air_absorption=True,
                name=scene.room.name if scene.room.name != "anechoic" else "")
    return shift_scene(scene, round(dx, 3), round(dy, 3)), room


def _rename_surfaces(walls: Walls, mapping: dict[str, str]) -> Walls:
    """Per-surface materials re-keyed: new name → old name in `mapping`."""
    if walls.materials is None:
        return walls
    old = dict(walls.materials)
    return replace(walls, materials=tuple((new, old[src]) for new, src in mapping.items()))


def _shoebox_to_polygon(room: Room) -> Room:
    lx, ly, lz = room.dimensions_m
    mapping = {f"wall{i}": side for i, side in enumerate(POLYGON_SIDES)}
    mapping.update(floor="floor", ceiling="ceiling")
    return replace(room, kind="polygon", dimensions_m=None, height_m=lz,
                   floor_m=((0.0, 0.0), (lx, 0.0), (lx, ly), (0.0, ly)),
                   walls=_rename_surfaces(room.walls, mapping))


def _facing_wall(floor: np.ndarray, normal: np.ndarray) -> int:
    """Index of the polygon wall with the most length facing outward along `normal`."""
    edges = np.roll(floor, -1, axis=0) - floor
    ccw = 1.0 if _signed_area(floor) > 0 else -1.0
    outward = ccw * np.column_stack([edges[:, 1], -edges[:, 0]])  # length-weighted normals
    return int(np.argmax(outward @ normal))


def _polygon_to_shoebox(scene: Scene) -> Scene:
    room = scene.room
    floor = np.asarray(room.floor_m, dtype=float)
    lo, hi = floor.min(axis=0), floor.max(axis=0)
    normals = {"east": (1, 0), "west": (-1, 0), "north": (0, 1), "south": (0, -1)}
    mapping = {side: f"wall{_facing_wall(floor, np.array(n, float))}"
               for side, n in normals.items()}
    mapping.update(floor="floor", ceiling="ceiling")
    walls = _rename_surfaces(room.walls, {s: mapping[s] for s in SHOEBOX_SURFACES})
    box = replace(room, kind="shoebox", floor_m=None, height_m=None, walls=walls,
                  dimensions_m=(round(float(hi[0] - lo[0]), 6), round(float(hi[1] - lo[1]), 6),
                                float(room.height_m)))
    return _with_room(shift_scene(scene, -float(lo[0]), -float(lo[1])), box)


def convert_room(scene: Scene, kind: str, previous: Room | None = None) -> Scene:
    """The scene with its room switched to `kind` ("shoebox", "polygon", "anechoic").

    previous: the room the scene had before it went free field; leaving free field brings it
    back (converted to `kind`) when everything fits inside it, instead of a default room."""
    room = scene.room
    if kind == room.kind:
        return scene
    if kind == "anechoic":
        return _with_room(scene, Room(kind="anechoic", dimensions_m=None, walls=Walls(),
                                      air_absorption=False, name=room.name))
    if room.is_anechoic:
        if previous is not None and not previous.is_anechoic:
            back = convert_room(_with_room(scene, previous), kind)
            if placement_error(back) is None:
                return back
        scene, room = _enclosing_shoebox(scene)
        scene = _with_room(scene, room)
        return scene if kind == "shoebox" else _with_room(scene, _shoebox_to_polygon(room))
    if kind == "polygon":
        return _with_room(scene, _shoebox_to_polygon(room))
    if kind == "shoebox":
        return _polygon_to_shoebox(scene)
    raise ValueError(f"room type {kind!r} must be shoebox, polygon or anechoic")


# -- geometry ----------------------------------------------------------------------------------
def _signed_area(floor: np.ndarray) -> float:
    return 0.5 * float(np.sum(floor[:, 0] * np.roll(floor[:, 1], -1)
                              - np.roll(floor[:, 0], -1) * floor[:, 1]))


def move_shoebox_wall(scene: Scene, side: str, coordinate: float) -> Scene:
    """The shoebox's wall `side` ("east", "west", "north", "south") moved to `coordinate` (x
    for east/west, y for north/south, room frame before the edit). The opposite wall stays
    where it is: moving the west or south wall shifts the room's origin, so the scene moves
    by the same amount and everything keeps its place relative to the walls that stay."""
    lx, ly, lz = scene.room.dimensions_m
    if side == "east":
        dims = (float(coordinate), ly, lz)
    elif side == "north":
        dims = (lx, float(coordinate), lz)
    elif side == "west":
        dims = (lx - float(coordinate), ly, lz)
        scene = shift_scene(scene, -float(coordinate), 0.0)
    elif side == "south":
        dims = (lx, ly - float(coordinate), lz)
        scene = shift_scene(scene, 0.0, -float(coordinate))
    else:
        raise ValueError(f"wall {side!r} must be east, west, north or south")
    return _with_room(scene, replace(scene.room, dimensions_m=dims))


def _with_floor(scene: Scene, floor: list[Vec2], materials_from: list[int] | None) -> Scene:
    """The polygon room with `floor`; wall i of the new floor takes the material of old wall
    `materials_from[i]` (None: same count, same order)."""
    room = scene.room
    walls = room.walls
    if walls.materials is not None and materials_from is not None:
        mapping = {f"wall{i}": f"wall{j}" for i, j in enumerate(materials_from)}
        mapping.update(floor="floor", ceiling="ceiling")
        walls = _rename_surfaces(walls, mapping)
    floor_m = tuple((float(x), float(y)) for x, y in floor)
    return _with_room(scene, replace(room, floor_m=floor_m, walls=walls))


def move_corner(scene: Scene, index: int, xy: Vec2) -> Scene:
    """Polygon corner `index` moved to `xy` (m)."""
    floor = list(scene.room.floor_m)
    floor[index] = (float(xy[0]), float(xy[1]))
    return _with_floor(scene, floor, None)


def insert_corner(scene: Scene, edge: int, xy: Vec2) -> Scene:
    """A new corner at `xy` on polygon wall `edge` (between corners edge and edge + 1); both
    halves keep the wall's material."""
    floor = list(scene.room.floor_m)
    floor.insert(edge + 1, (float(xy[0]), float(xy[1])))
    return _with_floor(scene, floor, [i if i <= edge else i - 1 for i in range(len(floor))])


def delete_corner(scene: Scene, index: int) -> Scene:
    """Polygon corner `index` removed (the two walls it joined become one, keeping the
    material of the wall that ended there). Raises ValueError below three corners."""
    floor = list(scene.room.floor_m)
    if len(floor) <= MIN_CORNERS:
        raise ValueError(f"a floor needs at least {MIN_CORNERS} corners")
    # Wall i starts at corner i: new wall j is old wall j, or j + 1 past the deleted corner;
    # the wall that ended at the deleted corner now runs on to the next one.
    walls_from = [i for i in range(len(floor)) if i != index]
    del floor[index]
    return _with_floor(scene, floor, walls_from)


def nearest_edge(floor: np.ndarray, xy: Vec2) -> tuple[int, float, Vec2]:
    """(edge index, distance m, closest point) of the polygon edge nearest to `xy`."""
    a = np.asarray(floor, dtype=float)
    b = np.roll(a, -1, axis=0)
    p = np.asarray(xy, dtype=float)
    d = b - a
    t = np.clip(np.sum((p - a) * d, axis=1) / np.maximum(np.sum(d * d, axis=1), 1e-12), 0, 1)
    closest = a + t[:, None] * d
    dist = np.linalg.norm(closest - p, axis=1)
    i = int(np.argmin(dist))
    return i, float(dist[i]), (float(closest[i, 0]), float(closest[i, 1]))


# -- absorption --------------------------------------------------------------------------------
def walls_mode(walls: Walls) -> str:
    """Which description the walls use: one of WALL_MODES."""
    if walls.rt60_s is not None:
        return "rt60"
    if walls.material is not None:
        return "material"
    return "materials" if walls.materials is not None else "absorption"


def convert_walls(scene: Scene, mode: str) -> Scene:
    """The room's walls switched to description `mode`, starting from what they do now: a
    target becomes the Sabine RT60 of the present walls at 500 Hz–1 kHz; coefficients the
    area-weighted mean per band; one material the first surface's (from per-surface
    materials) or the database material closest to the present mean absorption at
    500 Hz–1 kHz (from a target or coefficients), so the room keeps about its reverberation;
    per-surface materials that one material on every surface."""
    from dsp.room_acoustics import estimate_rt60

    room = scene.room
    walls = room.walls
    old = walls_mode(walls)
    if mode == old:
        return scene
    keep = {"scattering": walls.scattering}
    if mode == "rt60":
        est = estimate_rt60(replace(room, air_absorption=False), scene.simulation.c_m_s)
        mid = [t for f, t in zip(est.bands_hz, est.sabine_s, strict=True) if 500 <= f <= 1000]
        new = Walls(rt60_s=round(float(np.mean(mid)), 3), **keep)
    elif mode == "absorption":
        new = Walls(absorption=tuple(round(a, 4) for a in mean_absorption(room,
                                                                            scene.simulation)),
                    center_freqs_hz=BAND_CENTRES_HZ, **keep)
    elif mode in ("material", "materials"):
        if old == "materials":
            name = dict(walls.materials)[surfaces(room)[0]]
        else:
            name = walls.material or closest_material(
                float(np.mean(mean_absorption(room, scene.simulation)[2:4])))
        new = (Walls(material=name, **keep) if mode == "material" else
               Walls(materials=tuple((s, name) for s in surfaces(room)), **keep))
    else:
        raise ValueError(f"walls mode {mode!r} must be one of {', '.join(WALL_MODES)}")
    return _with_room(scene, replace(room, walls=new))


def closest_material(alpha_mid: float) -> str:
    """The database material whose mean absorption at 500 Hz and 1 kHz is closest to
    `alpha_mid` (its coefficients start at 125 Hz, one per octave)."""
    import pyroomacoustics as pra

    best, best_error = "", math.inf
    for entries in pra.materials_data["absorption"].values():
        for name, entry in entries.items():
            coeffs = entry["coeffs"]
            error = abs(float(np.mean(coeffs[2:4])) - alpha_mid) if len(coeffs) >= 4 else \
                math.inf
            if error < best_error:
                best, best_error = name, error
    return best


def mean_absorption(room: Room, simulation) -> list[float]:
    """Area-weighted mean absorption coefficient of the room's surfaces at BAND_CENTRES_HZ, as
    the room engine sees them."""
    from sim.room.materials import make_pra_room

    pra_room = make_pra_room(room, 48000, simulation.c_m_s, order=0, ray_tracing=False)
    centres = [float(f) for f in pra_room.octave_bands.centers]
    areas = np.array([w.area() for w in pra_room.walls])
    alpha = np.array([np.asarray(w.absorption, dtype=float) for w in pra_room.walls])
    mean = areas @ alpha / float(areas.sum())
    return [float(mean[centres.index(f)]) for f in BAND_CENTRES_HZ]


def with_surface_material(scene: Scene, surface: str, name: str) -> Scene:
    """Per-surface materials with `surface` set to material `name`."""
    walls = scene.room.walls
    materials = tuple((s, name if s == surface else m) for s, m in walls.materials)
    return _with_room(scene, replace(scene.room, walls=replace(walls, materials=materials)))


def parse_absorption(text: str) -> tuple[float, ...]:
    """Coefficients typed as "0.1, 0.2, …" (one per band of BAND_CENTRES_HZ); ValueError
    names what is wrong."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    values = tuple(float(p) for p in parts)
    if len(values) != len(BAND_CENTRES_HZ):
        raise ValueError(f"give {len(BAND_CENTRES_HZ)} coefficients (125 Hz … 4 kHz), "
                         f"found {len(values)}")
    if any(not (0.0 <= v <= 1.0) or math.isnan(v) for v in values):
        raise ValueError("absorption coefficients must lie in 0 … 1")
    return values


def with_absorption(scene: Scene, values: tuple[float, ...]) -> Scene:
    walls = replace(scene.room.walls, absorption=tuple(values), center_freqs_hz=BAND_CENTRES_HZ)
    return _with_room(scene, replace(scene.room, walls=walls))
