"""Qt-free scene edits behind the editor: adding, removing and duplicating listeners and
sources; room type switches, wall and corner geometry, wall absorption descriptions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dsp.room_acoustics import estimate_rt60
from sim.scene import Room, Walls
from sim.scene_io import SceneError, load_scene
from workbench.gui.scene import contents, room_edits
from workbench.gui.scene.document import validate_scene


@pytest.fixture
def scene():
    return load_scene("default")


def test_unique_names():
    assert contents.unique_name(set(), "listener") == "listener"
    assert contents.unique_name({"listener"}, "listener") == "listener-2"
    assert contents.unique_name({"talker", "talker-2"}, "talker-2") == "talker-3"


def test_add_listener_faces_the_device_and_sources_get_their_defaults(scene):
    new, key = contents.add_listener(scene, (1.0, 3.0))
    assert key == ("listener", 1)
    li = new.listeners[1]
    assert li.name == "listener-2" and li.position_m == (1.0, 3.0, 1.2)
    assert li.yaw_deg == -59.0  # atan2(0.5 - 3, 2.5 - 1): towards the device at (2.5, 0.5)
    new, key = contents.add_source(new, "noise", (4.0, 1.0))
    s = new.sources[key[1]]
    assert (s.kind, s.name, s.signal, s.level_db, s.position_m[2]) == (
        "noise", "noise", "builtin:pink-noise", 60.0, 1.0)
    validate_scene(new)


def test_remove_and_duplicate(scene):
    assert [s.name for s in contents.remove(scene, ("source", 0)).sources] == ["tv-noise"]
    with pytest.raises(ValueError, match="exactly one"):
        contents.remove(scene, ("device", 0))
    new, key = contents.duplicate(scene, ("listener", 0))
    copy = new.listeners[key[1]]
    assert copy.name == "listener-2"
    assert copy.position_m == (2.8, 2.7, 1.0)
    validate_scene(new)
    # A source 0.15 m from the east wall: its copy goes the way that fits.
    near = scene.with_source(1, position_m=(4.85, 2.0, 0.8))
    new, key = contents.duplicate(near, ("source", 1))
    assert new.sources[key[1]].position_m == (4.55, 1.7, 0.8)
    assert new.sources[key[1]].name == "tv-noise-2"


def test_empty_room_keeps_room_and_device(scene):
    empty = contents.empty_room(scene)
    assert empty.listeners == () and empty.sources == ()
    assert empty.room == scene.room and empty.device == scene.device
    validate_scene(empty)


def test_shoebox_polygon_round_trip_keeps_materials(scene):
    walls = Walls(materials=(("east", "brickwork"), ("west", "plasterboard"),
                             ("north", "glass_window"), ("south", "wood_16mm"),
                             ("floor", "carpet_cotton"), ("ceiling", "rough_concrete")))
    scene = replace(scene, room=replace(scene.room, walls=walls))
    poly = room_edits.convert_room(scene, "polygon")
    room = poly.room
    assert room.floor_m == ((0.0, 0.0), (5.0, 0.0), (5.0, 4.0), (0.0, 4.0))
    assert room.height_m == 2.7
    assert dict(room.walls.materials) == {"wall0": "wood_16mm", "wall1": "brickwork",
                                          "wall2": "glass_window", "wall3": "plasterboard",
                                          "floor": "carpet_cotton", "ceiling": "rough_concrete"}
    validate_scene(poly)
    back = room_edits.convert_room(poly, "shoebox")
    assert back.room.dimensions_m == (5.0, 4.0, 2.7)
    assert dict(back.room.walls.materials) == dict(walls.materials)
    assert back.listeners == scene.listeners


def test_polygon_to_shoebox_shifts_the_scene_to_the_origin(scene):
    poly = room_edits.convert_room(scene, "polygon")
    floor = ((1.0, -1.0), (6.0, -1.0), (6.0, 3.0), (1.0, 3.0))
    moved = room_edits.shift_scene(poly, 1.0, -1.0)
    moved = replace(moved, room=replace(moved.room, floor_m=floor))
    box = room_edits.convert_room(moved, "shoebox")
    assert box.room.dimensions_m == (5.0, 4.0, 2.7)
    assert box.listeners[0].position_m == scene.listeners[0].position_m


def test_anechoic_and_back(scene):
    free = room_edits.convert_room(scene, "anechoic")
    assert free.room.is_anechoic and free.listeners == scene.listeners
    validate_scene(free)
    far = replace(free, sources=(replace(free.sources[0], position_m=(-3.0, 9.0, 1.6)),
                                 free.sources[1]))
    box = room_edits.convert_room(far, "shoebox")
    validate_scene(box)  # everything inside, 0.5 m clear at least
    lx, ly, lz = box.room.dimensions_m
    assert lx >= 5.0 and ly > 9.0 and lz == 2.7
    for p in [box.device.position_m, *(s.position_m for s in box.sources),
              *(li.position_m for li in box.listeners)]:
        assert 0.5 - 1e-9 <= p[0] <= lx - 0.5 + 1e-9 and 0.5 - 1e-9 <= p[1] <= ly - 0.5 + 1e-9
    assert box.room.walls.rt60_s == 0.4
    poly = room_edits.convert_room(free, "polygon")
    assert poly.room.kind == "polygon"
    validate_scene(poly)


def test_moving_the_west_wall_keeps_everything_in_place_relative_to_the_east_wall(scene):
    new = room_edits.move_shoebox_wall(scene, "west", 0.5)
    assert new.room.dimensions_m == (4.5, 4.0, 2.7)
    assert new.listeners[0].position_m == (2.0, 3.0, 1.0)
    new = room_edits.move_shoebox_wall(scene, "north", 4.5)
    assert new.room.dimensions_m == (5.0, 4.5, 2.7)
    with pytest.raises(SceneError, match="outside the room"):
        validate_scene(room_edits.move_shoebox_wall(scene, "east", 4.0))  # tv-noise at 4.4


def test_corners_inserted_and_deleted_carry_wall_materials(scene):
    poly = room_edits.convert_room(scene, "polygon")
    walls = ("wood_16mm", "brickwork", "glass_window", "plasterboard")
    names = (*((f"wall{i}", m) for i, m in enumerate(walls)), ("floor", "carpet_cotton"),
             ("ceiling", "rough_concrete"))
    poly = replace(poly, room=replace(poly.room, walls=Walls(materials=names)))
    five = room_edits.insert_corner(poly, 1, (5.0, 2.0))
    assert five.room.floor_m[2] == (5.0, 2.0)
    m = dict(five.room.walls.materials)
    assert [m[f"wall{i}"] for i in range(5)] == ["wood_16mm", "brickwork", "brickwork",
                                                 "glass_window", "plasterboard"]
    validate_scene(five)
    back = room_edits.delete_corner(five, 2)
    assert back.room.floor_m == poly.room.floor_m
    assert dict(back.room.walls.materials) == dict(names)
    first = room_edits.delete_corner(five, 0)  # wall4 (ending at corner 0) runs on
    m = dict(first.room.walls.materials)
    assert [m[f"wall{i}"] for i in range(4)] == ["brickwork", "brickwork", "glass_window",
                                                 "plasterboard"]
    tri = room_edits.delete_corner(poly, 3)
    with pytest.raises(ValueError, match="at least 3"):
        room_edits.delete_corner(tri, 0)


def test_a_crossing_corner_is_refused(scene):
    poly = room_edits.convert_room(contents.empty_room(scene), "polygon")
    bowtie = room_edits.move_corner(poly, 3, (6.0, 2.0))  # wall 3 now crosses wall 1
    with pytest.raises(SceneError, match="edges must not cross"):
        validate_scene(bowtie)


def test_walls_descriptions_convert_keeping_the_reverberation(scene):
    c = scene.simulation.c_m_s
    dry = replace(scene, room=replace(scene.room, air_absorption=False))
    coeffs = room_edits.convert_walls(dry, "absorption")
    assert coeffs.room.walls.absorption == pytest.approx((0.2453,) * 6, abs=1e-3)
    sab = estimate_rt60(coeffs.room, c).sabine_s
    assert sab[:6] == pytest.approx((0.4,) * 6, rel=2e-3)
    again = room_edits.convert_walls(coeffs, "rt60")
    assert again.room.walls.rt60_s == pytest.approx(0.4, abs=1e-3)
    # From a target: the database material nearest α ≈ 0.245 at 500 Hz–1 kHz.
    one = room_edits.convert_walls(dry, "material")
    assert one.room.walls.material == room_edits.closest_material(0.2453)
    mid = estimate_rt60(one.room, c).sabine_s[2:4]
    assert mid == pytest.approx((0.4, 0.4), rel=0.2)
    per = room_edits.convert_walls(one, "materials")
    assert dict(per.room.walls.materials) == dict.fromkeys(room_edits.surfaces(scene.room),
                                                            one.room.walls.material)
    per = room_edits.with_surface_material(per, "floor", "carpet_cotton")
    assert dict(per.room.walls.materials)["floor"] == "carpet_cotton"
    validate_scene(per)
    assert room_edits.convert_walls(per, "material").room.walls.material == \
        one.room.walls.material  # the first surface's (east)


def test_closest_material():
    assert room_edits.closest_material(0.0) in {name for _c, name, _d in
                                                room_edits.material_names()}
    # rough_concrete: 0.02, 0.03, 0.03, 0.03, … — as hard as it gets
    assert room_edits.closest_material(0.03) != room_edits.closest_material(0.9)


def test_parse_absorption():
    assert room_edits.parse_absorption("0.1, 0.2 0.3;0.4,0.5,0.6") == (0.1, 0.2, 0.3, 0.4, 0.5,
                                                                        0.6)
    with pytest.raises(ValueError, match="give 6"):
        room_edits.parse_absorption("0.1, 0.2")
    with pytest.raises(ValueError, match="0 … 1"):
        room_edits.parse_absorption("0.1, 0.2, 0.3, 0.4, 0.5, 1.5")
    with pytest.raises(ValueError):
        room_edits.parse_absorption("a, b, c, d, e, f")


def test_nearest_edge():
    room = Room()
    edge, dist, xy = room_edits.nearest_edge(room.floor_polygon(), (5.1, 2.0))
    assert (edge, xy) == (1, (5.0, 2.0)) and dist == pytest.approx(0.1)
