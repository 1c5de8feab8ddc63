"""The user's device library (issue 13 item 3): save → list → load gives the same device,
a corrupt file is one line naming it and hides no other, name clashes are explicit, the data
folder follows AWB_DATA_DIR (tests never touch the real home), `awb presets list` shows it."""

import json
import math
from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest

from sim import device_library
from sim.device_library import NameClash
from sim.scene_fields import SceneError
from sim.scene_io import load_device, load_scene
from sim.user_data import ENV_VAR, data_dir, library_dir
from workbench.cli.main import main


@pytest.fixture
def bar():
    return load_device("soundbar-8")


def test_a_saved_device_is_listed_and_loads_back_identical(bar, private_data_dir):
    path = device_library.save(bar, "my bar", "eight drivers")
    assert path == private_data_dir / "devices" / "my bar.json"
    library = device_library.scan()
    assert library.problems == ()
    [entry] = library.devices
    assert (entry.name, entry.path, entry.description) == ("my bar", path, "eight drivers")
    again = load_device(str(path))
    assert again == entry.device
    assert again == replace(bar, name="my bar", model="my bar")
    assert [o.name for o in device_library.offered(library) if o.library] == ["my bar"]


def test_a_library_device_is_taken_by_name_where_a_preset_is(bar, tmp_path, capsys):
    device_library.save(bar, "my bar")
    assert load_device("my bar") == replace(bar, name="my bar", model="my bar")
    scene = json.loads((Path(str(resources.files("presets"))) / "scenes" /
                        "soundbar-8-studio.json").read_text())
    scene["device"] = {"model": "my bar", "position": scene["device"]["position"]}
    (tmp_path / "scene.json").write_text(json.dumps(scene))
    assert load_scene(tmp_path / "scene.json").device.drivers == bar.drivers
    assert main(["scene", "validate", "my bar"]) == 0
    assert capsys.readouterr().out.startswith("ok: device 'my bar': 8 drivers")
    with pytest.raises(SceneError, match="neither a file nor a device preset"):
        load_device("../devices/my bar")


def test_a_library_file_named_like_a_shipped_preset_is_reported(bar, private_data_dir):
    folder = private_data_dir / "devices"
    folder.mkdir(parents=True)
    (folder / "soundbar-8.json").write_text((folder.parent.parent / "x").as_posix())
    library = device_library.scan()
    assert library.devices == () and "shipped device preset" in library.problems[0]
    assert load_device("soundbar-8") == bar  # the shipped preset wins


def test_the_data_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "elsewhere"))
    assert library_dir() == tmp_path / "elsewhere" / "devices"
    monkeypatch.delenv(ENV_VAR)
    from platformdirs import user_data_dir

    assert data_dir() == Path(user_data_dir("acoustic-workbench",
                                                           appauthor=False))


def test_a_corrupt_file_is_one_line_naming_it_and_hides_no_other(bar, private_data_dir):
    device_library.save(bar, "good")
    folder = private_data_dir / "devices"
    (folder / "broken.json").write_text("{")
    (folder / "a room.json").write_text(json.dumps({"schema_version": 1, "kind": "room",
                                                    "type": "anechoic"}))
    data = json.loads((folder / "good.json").read_text())
    data["drivers"][0]["directivity"] = {"type": "piston", "radius": 0.0}
    (folder / "zero radius.json").write_text(json.dumps(data))
    library = device_library.scan()
    assert [d.name for d in library.devices] == ["good"]
    assert len(library.problems) == 3
    for name, problem in zip(("a room", "broken", "zero radius"), library.problems,
                             strict=True):
        assert problem.startswith(str(folder / f"{name}.json") + ": ")
        assert "\n" not in problem
    assert "radius = 0" in library.problems[2]


def test_a_name_clash_is_refused_unless_replacing(bar, private_data_dir):
    path = device_library.save(bar, "Bar", "first")
    before = path.read_text()
    small = replace(bar, drivers=bar.drivers[:2])
    for name in ("Bar", "bar", " BAR "):
        with pytest.raises(NameClash, match="already holds a device named"):
            device_library.save(small, name)
    assert path.read_text() == before
    assert device_library.save(small, "bar", "second", replace_existing=True) == path
    assert len(load_device(str(path)).drivers) == 2
    assert [d.description for d in device_library.scan().devices] == ["second"]


@pytest.mark.parametrize("name, reason", [
    ("soundbar-8", "shipped device preset"), ("", "library name"), ("../up", "library name"),
    ("a/b", "library name"), ("x" * 65, "library name"), ("bar.", "library name")])
def test_bad_and_shipped_names_are_refused(bar, private_data_dir, name, reason):
    with pytest.raises(SceneError, match=reason):
        device_library.save(bar, name)
    assert not (private_data_dir / "devices").exists() or not any(
        (private_data_dir / "devices").iterdir())


def test_an_invalid_device_is_not_written(bar, private_data_dir):
    d = bar.drivers[0]
    broken = replace(bar, drivers=(replace(d, position_m=(math.nan, 0.0, 0.0)), *bar.drivers[1:]))
    with pytest.raises(SceneError, match="position"):
        device_library.save(broken, "broken")
    assert list((private_data_dir / "devices").glob("*")) == []


def test_awb_presets_list_shows_library_devices_beside_the_shipped(bar, private_data_dir,
                                                                  capsys):
    path = device_library.save(bar, "my bar", "mine")
    (path.parent / "broken.json").write_text("[")
    assert main(["presets", "list"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    kinds = [line.split()[0] for line in lines]
    mine = next(i for i, line in enumerate(lines) if "my bar" in line)
    assert kinds[: mine + 1] == ["device"] * (mine + 1) and kinds[mine + 1] == "room"
    assert f"[library: {path}] mine" in lines[mine]
    assert "soundbar-8" in out and "default" in out
    assert err.strip().count("\n") == 0 and str(path.parent / "broken.json") in err
    assert main(["presets", "list", "--kind", "room"]) == 0
    out, err = capsys.readouterr()
    assert "my bar" not in out and err == ""
