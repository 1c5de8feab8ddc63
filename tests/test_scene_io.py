"""Scene files: every preset loads and round-trips; every kind of bad input names its field,
and neither a failed load nor a failed save touches the file on disk."""

import contextlib
import hashlib
import io
import json
from dataclasses import replace

import numpy as np
import pytest

from sim.presets import list_presets
from sim.scene_io import SceneError, load_scene, save_scene, validate_any
from sim.scene_json import scene_to_dict
from workbench.cli.main import main as cli_main


@pytest.mark.parametrize("info", list_presets(), ids=lambda p: f"{p.kind}:{p.name}")
def test_every_preset_validates(info):
    kind, _obj = validate_any(info.name)
    assert kind == info.kind


@pytest.mark.parametrize("info", list_presets("scene"), ids=lambda p: p.name)
def test_scene_presets_round_trip_through_files(info, tmp_path):
    scene = load_scene(info.name)
    path = tmp_path / "scene.json"
    save_scene(scene, path)
    assert load_scene(path) == scene


def test_default_scene_matches_its_description():
    s = load_scene("default")
    assert s.device.name == "echo-studio-like" and len(s.device.drivers) == 5
    assert s.room.kind == "shoebox" and s.room.dimensions_m == (5.0, 4.0, 2.7)
    assert s.room.walls.rt60_s == 0.4
    (li,) = s.listeners
    on_axis = np.asarray(li.position_m) - np.asarray(s.device.position_m)
    assert np.linalg.norm(on_axis) == pytest.approx(2.5)
    # On axis: the listener is straight in front of the device, facing it.
    yaw = np.radians(s.device.yaw_deg)
    front = np.array([np.cos(yaw), np.sin(yaw), 0.0])
    assert np.dot(on_axis / 2.5, front) == pytest.approx(1.0)
    assert {x.kind for x in s.sources} == {"talker", "noise"}


def _default_dict():
    return scene_to_dict(load_scene("default"))


def _write(tmp_path, data, name="scene.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _expect_error(path, field, *fragments):
    """Loading fails naming the file and field; `awb scene validate` exits 2 with that one
    line; the file is never modified."""
    before = _digest(path)
    with pytest.raises(SceneError) as err:
        load_scene(path)
    assert err.value.field == field
    message = str(err.value)
    assert str(path) in message and field in message
    for frag in fragments:
        assert frag in message, message
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert cli_main(["scene", "validate", str(path)]) == 2
    assert stderr.getvalue() == f"awb: error: {message}\n"
    assert _digest(path) == before  # a failed load never modifies the file
    return message


def test_malformed_json_names_line_and_column(tmp_path):
    path = _write(tmp_path, '{"schema_version": 1,\n "name": "x",, }')
    msg = _expect_error(path, "", "is not valid JSON", "line 2")
    assert "column" in msg


def test_unknown_key_is_an_error(tmp_path):
    d = _default_dict()
    d["listeners"][0]["colour"] = "red"
    _expect_error(_write(tmp_path, d), "listeners[0].colour", "unknown key", "allowed here")


def test_position_outside_the_room(tmp_path):
    d = _default_dict()
    d["listeners"].append(dict(d["listeners"][0], name="second", position=[7.2, 1.0, 1.2]))
    msg = _expect_error(_write(tmp_path, d), "listeners[1].position[0]")
    assert "listeners[1].position[0] = 7.2 m is outside the room (0 .. 5 m)" in msg


@pytest.mark.parametrize("value", [0, -3.0])
def test_zero_or_negative_room_dimension(tmp_path, value):
    d = _default_dict()
    d["room"]["dimensions"][1] = value
    _expect_error(_write(tmp_path, d), "room.dimensions[1]", "must be > 0 m")


def test_two_drivers_at_one_point(tmp_path):
    d = _default_dict()
    d["device"]["drivers"][3]["position"] = list(d["device"]["drivers"][1]["position"])
    _expect_error(_write(tmp_path, d), "device.drivers[3].position", "coincides with drivers[1]")


def test_nan_in_a_number(tmp_path):
    text = json.dumps(_default_dict()).replace('"yaw_deg": -90.0', '"yaw_deg": NaN')
    _expect_error(_write(tmp_path, text), "listeners[0].yaw_deg", "NaN is not a finite number")


def test_wrong_type_and_missing_field(tmp_path):
    d = _default_dict()
    d["listeners"][0]["head_radius"] = "big"
    _expect_error(_write(tmp_path, d), "listeners[0].head_radius", "must be a number")
    d = _default_dict()
    del d["device"]["position"]
    _expect_error(_write(tmp_path, d, "b.json"), "device.position", "is missing")


def test_missing_sofa_file(tmp_path):
    d = _default_dict()
    d["listeners"][0]["hrtf"] = {"type": "sofa", "file": "no_such_head.sofa"}
    _expect_error(_write(tmp_path, d), "listeners[0].hrtf.file", "SOFA file not found")


def test_wrong_convention_sofa(tmp_path):
    sofar = pytest.importorskip("sofar")
    sofa = sofar.Sofa("GeneralFIR")
    sofa.Data_IR = np.zeros((4, 2, 64))
    sofa.Data_IR[:, :, 3] = 1.0
    sofa.Data_SamplingRate = 48000
    sofa.Data_Delay = np.zeros((1, 2))
    sofa.SourcePosition = [[az, 0, 1.5] for az in (0, 90, 180, 270)]
    sofa.ReceiverPosition = np.zeros((2, 3))
    sofar.write_sofa(str(tmp_path / "fir.sofa"), sofa)
    d = _default_dict()
    d["listeners"][0]["hrtf"] = {"type": "sofa", "file": "fir.sofa"}
    _expect_error(_write(tmp_path, d), "listeners[0].hrtf.file", "GeneralFIR",
                  "SimpleFreeFieldHRIR")


def test_garbage_sofa_file(tmp_path):
    (tmp_path / "junk.sofa").write_bytes(b"not an hdf5 file at all")
    d = _default_dict()
    d["listeners"][0]["hrtf"] = {"type": "sofa", "file": "junk.sofa"}
    _expect_error(_write(tmp_path, d), "listeners[0].hrtf.file", "cannot be read as SOFA")


def test_listener_inside_the_device(tmp_path):
    d = _default_dict()
    d["listeners"][0]["position"] = [2.5, 0.55, 1.0]
    _expect_error(_write(tmp_path, d), "listeners[0].position", "head inside the device")


def test_rt60_too_short_for_the_room(tmp_path):
    d = _default_dict()
    d["room"]["walls"] = {"rt60": 0.05}
    _expect_error(_write(tmp_path, d), "room.walls.rt60", "shorter than this room can reach")


def test_unknown_material_and_newer_schema(tmp_path):
    d = _default_dict()
    d["room"]["walls"] = {"material": "unobtainium"}
    _expect_error(_write(tmp_path, d), "room.walls.material", "not a pyroomacoustics material")
    d = _default_dict()
    d["schema_version"] = 99
    _expect_error(_write(tmp_path, d, "v.json"), "schema_version", "newer than this program")


def test_polygon_room_validates_floor_plan(tmp_path):
    d = _default_dict()
    d["room"] = {"type": "polygon", "floor": [[0, 0], [6, 0], [6, 5], [2, 5], [2, 4], [0, 4]],
                 "height": 2.7, "walls": {"rt60": 0.5}}
    scene = load_scene(_write(tmp_path, d))
    assert scene.room.kind == "polygon" and scene.room.volume_m3() == pytest.approx(28 * 2.7)
    d["listeners"][0]["position"] = [1.0, 4.5, 1.0]  # in the notch of the L
    _expect_error(_write(tmp_path, d, "l.json"), "listeners[0].position", "floor plan")
    d["room"]["floor"] = [[0, 0], [4, 4], [4, 0], [0, 4]]  # a bow tie
    _expect_error(_write(tmp_path, d, "bow.json"), "room.floor", "simple polygon")


def test_failed_save_leaves_the_file_untouched(tmp_path):
    scene = load_scene("default")
    path = tmp_path / "scene.json"
    save_scene(scene, path)
    before = _digest(path)
    bad = scene.with_listener(0, position_m=(9.0, 1.0, 1.0))
    with pytest.raises(SceneError, match=r"listeners\[0\]\.position\[0\] = 9 m"):
        save_scene(bad, path)
    assert _digest(path) == before
    assert [p.name for p in tmp_path.iterdir()] == ["scene.json"]  # no temp file left behind


def test_save_writes_relative_paths_that_load_from_elsewhere(tmp_path):
    audio = tmp_path / "media" / "talk.wav"
    audio.parent.mkdir()
    audio.write_bytes(b"RIFF")
    scene = load_scene("default")
    scene = replace(scene, sources=(replace(scene.sources[0], signal=str(audio)),))
    save_scene(scene, tmp_path / "a.json")
    assert json.loads((tmp_path / "a.json").read_text())["sources"][0]["signal"] == "media/talk.wav"
    assert load_scene(tmp_path / "a.json").sources[0].signal == str(audio)


def test_points_in_polygon_edges_corners_and_notch():
    from sim.geometry import points_in_polygon

    ell = np.array([[0, 0], [6, 0], [6, 5], [2, 5], [2, 4], [0, 4]], float)
    x = np.array([1.0, 1.0, 5.0, 0.0, 6.0, 2.0, 7.0, 3.0])
    y = np.array([1.0, 4.5, 4.9, 2.0, 5.0, 4.5, 1.0, -0.1])
    # inside, notch, inside, on west edge, on a corner, on the notch edge, east of it, below it
    assert points_in_polygon(x, y, ell).tolist() == [True, False, True, True, True, True, False,
                                                     False]


# ---------------------------------------------------------------------------------------------
# Hostile input (issue 12): each finding of the fuzzing pass, as its one-line field error.


def _default_text():
    return json.dumps(_default_dict())


def _with_yaw(raw: str) -> str:
    """The default scene's text with listeners[0].yaw_deg replaced by raw JSON text."""
    text = _default_text()
    assert text.count('"yaw_deg": -90.0') == 1
    return text.replace('"yaw_deg": -90.0', f'"yaw_deg": {raw}')


@pytest.mark.parametrize("digits", [310, 400, 5000])
def test_huge_integer_literals_name_their_field(tmp_path, digits):
    """1e309 overflowed float(); over 4300 digits json itself raised ValueError."""
    msg = _expect_error(_write(tmp_path, _with_yaw("1" + "0" * (digits - 1))),
                        "listeners[0].yaw_deg", f"({digits} digits) has more than 30 digits")
    assert len(msg) < 200


def test_huge_integers_from_python_are_field_errors():
    from sim.scene_io import scene_from_dict

    d = _default_dict()
    d["listeners"][0]["yaw_deg"] = 10**400
    with pytest.raises(SceneError, match=r"listeners\[0\]\.yaw_deg = 1e\+400 deg is far too"):
        scene_from_dict(d)


@pytest.mark.parametrize("depth", [17, 400, 1000, 100_000])
def test_deep_nesting_is_refused_before_parsing(tmp_path, depth):
    """~990 levels raised RecursionError in json, 400 in the message formatter."""
    text = _with_yaw("[" * depth + "]" * depth)
    _expect_error(_write(tmp_path, text), "", "nests lists or objects more than 16 levels deep",
                  "(line 1)")


def test_deeply_nested_python_values_format_in_one_short_line():
    from sim.scene_io import scene_from_dict

    value: list = []
    for _ in range(5000):  # no recursion in the formatter
        value = [value, 1.5]
    d = _default_dict()
    d["listeners"][0]["yaw_deg"] = value
    with pytest.raises(SceneError) as err:
        scene_from_dict(d)
    assert str(err.value) == "listeners[0].yaw_deg = [[…], 1.5] must be a number in deg"


def test_a_long_list_is_abbreviated_in_the_message(tmp_path):
    """A 200 000-number list used to be echoed whole (a 1.49 MB error line)."""
    msg = _expect_error(_write(tmp_path, _with_yaw("[" + ", ".join(["1.5"] * 200_000) + "]")),
                        "listeners[0].yaw_deg", "[1.5, 1.5, 1.5, 1.5, … (200000 items)]")
    assert len(msg) < 200


def test_long_and_odd_keys_and_strings_are_abbreviated_and_escaped(tmp_path):
    d = _default_dict()
    d["listeners"][0]["line\nbreak" * 1000] = 1
    field = 'listeners[0]["line\\nbreakline\\nbreakline\\nbreakline\\nbreak…" (10000 characters)]'
    msg = _expect_error(_write(tmp_path, d), field, f"{field}: unknown key")
    assert len(msg) <= 500
    d = _default_dict()
    d["sources"][0]["signal"] = "x" * 4000 + ".wav"
    msg = _expect_error(_write(tmp_path, d, "long.json"), "sources[0].signal",
                        "(4004 characters): audio file not found")
    assert len(msg) <= 500


def test_description_must_be_text(tmp_path):
    """A number was accepted, then the GUI's property panel raised on it."""
    d = _default_dict()
    d["description"] = 5
    _expect_error(_write(tmp_path, d), "description", "description = 5 must be a string")
    d["description"] = "two\nlines are fine"
    assert load_scene(_write(tmp_path, d, "ok.json")).description == "two\nlines are fine"
    d["room"]["description"] = ["no"]
    _expect_error(_write(tmp_path, d, "room.json"), "room.description", "must be a string")


def test_kind_is_required_and_checked_per_file_type(tmp_path):
    d = _default_dict()
    del d["kind"]
    _expect_error(_write(tmp_path, d), "kind", "kind is missing")
    d["kind"] = "device"
    path = _write(tmp_path, d, "kind.json")
    with pytest.raises(SceneError, match='kind = "device" but a scene file was expected'):
        load_scene(path)
    d["kind"] = "speaker"
    _expect_error(_write(tmp_path, d, "speaker.json"), "kind",
                  'kind = "speaker" must be one of scene, device, room')


@pytest.mark.parametrize("kind", ["device", "room"])
def test_device_or_room_file_without_kind_says_so(tmp_path, kind):
    """It used to be read as a scene and rejected as 'room is missing'."""
    from sim.presets import find_preset

    data = json.loads(find_preset("soundbar-8" if kind == "device" else "studio",
                                  kind).path.read_text())
    del data["kind"]
    msg = _expect_error(_write(tmp_path, data), "kind", "kind is missing")
    assert "room is missing" not in msg
    data["kind"] = kind
    assert validate_any(str(_write(tmp_path, data, "ok.json")))[0] == kind


def test_duplicate_keys_are_errors(tmp_path):
    _expect_error(_write(tmp_path, _with_yaw('-90.0, "yaw_deg": 90.0')), "",
                  'has the key "yaw_deg" twice in one object')


def test_text_fields_refuse_control_characters_and_lone_surrogates(tmp_path):
    d = _default_dict()
    d["listeners"][0]["name"] = "a\u0007b"
    _expect_error(_write(tmp_path, d), "listeners[0].name", 'listeners[0].name = "a\\u0007b"',
                  "control character")
    text = json.dumps(_default_dict()).replace('"name": "listener"', '"name": "\\ud800"')
    _expect_error(_write(tmp_path, text, "s.json"), "listeners[0].name",
                  '"\\ud800" is not valid Unicode')
    d = _default_dict()
    d["name"] = "n" * 201
    _expect_error(_write(tmp_path, d, "n.json"), "name", "is too long (at most 200 characters)")


def test_odd_file_references_are_field_errors(tmp_path):
    cases = [("~no_such_user_xyz/a.wav", "audio file not found"),  # expanduser: RuntimeError
             ("a" * 300 + ".wav", "audio file not found"),  # over 255 bytes: OSError
             ("a\u0000b.wav", "holds a control character")]  # os.stat: ValueError
    for i, (ref, fragment) in enumerate(cases):
        d = _default_dict()
        d["sources"][0]["signal"] = ref
        _expect_error(_write(tmp_path, d, f"{i}.json"), "sources[0].signal", fragment)


def test_oversized_file_and_long_lists_are_refused_early(tmp_path):
    path = _write(tmp_path, _default_text() + " " * 2_000_000)
    _expect_error(path, "", "is larger than 2 MB")
    d = _default_dict()
    d["listeners"] = [d["listeners"][0]] * 65
    _expect_error(_write(tmp_path, d, "many.json"), "listeners", "has 65 entries (at most 64)")


def test_a_20000_vertex_floor_plan_is_refused_in_little_time_and_memory(tmp_path):
    """The simple-polygon check of 20 000 vertices ran out of memory (6.6 GB)."""
    import time
    import tracemalloc

    a = np.linspace(0.0, 2 * np.pi, 20_000, endpoint=False)
    d = _default_dict()
    d["room"] = {"type": "polygon", "floor": np.column_stack([np.cos(a), np.sin(a)]).tolist(),
                 "height": 2.7, "walls": {"rt60": 0.5}}
    path = _write(tmp_path, d)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(SceneError, match=r"room\.floor has 20000 entries \(at most 1000\)"):
            load_scene(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 5.0 and peak < 100e6


def test_zero_length_wall_is_refused(tmp_path):
    d = _default_dict()
    d["room"] = {"type": "polygon", "floor": [[0, 0], [5, 0], [5, 0], [5, 4], [0, 4]],
                 "height": 2.7, "walls": {"rt60": 0.5}}
    _expect_error(_write(tmp_path, d), "room.floor[2]", "repeats vertex 1",
                  "at least 1 mm long")
