"""`awb` as scripts use it: exit codes, one-line errors, the NPZ contract."""

import json
import subprocess
import sys

import numpy as np
import pytest

from workbench.cli.main import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_presets_list_names_every_kind(capsys):
    code, out, _ = run(capsys, "presets", "list")
    assert code == 0
    names = {tuple(line.split()[:2]) for line in out.splitlines()}
    for expected in [("scene", "default"), ("device", "echo-studio-like"), ("device", "soundbar-8"),
                     ("device", "stereo-speaker-2"), ("device", "reference-stereo-pair"),
                     ("room", "anechoic"), ("room", "living-room"), ("room", "studio"),
                     ("room", "hall")]:
        assert expected in names


def test_scene_validate_preset_and_file(capsys, tmp_path):
    code, out, _ = run(capsys, "scene", "validate", "default")
    assert code == 0 and out.startswith("ok: scene 'default'")
    code, out, _ = run(capsys, "scene", "validate", "living-room")
    assert code == 0 and "room" in out


def test_simulate_freefield_writes_the_npz_contract(capsys, tmp_path):
    out_path = tmp_path / "ir.npz"
    code, out, _ = run(capsys, "simulate", "default", "--engine", "freefield", "--fs", "16000",
                       "--talkers", "--out", str(out_path), "--quiet")
    assert code == 0, out
    with np.load(out_path) as z:
        assert z["ir"].shape[:3] == (5, 1, 2)
        assert int(z["fs"]) == 16000
        meta = json.loads(str(z["meta"]))
        assert meta["engine"] == "freefield" and len(meta["scene_hash"]) == 64
        assert z["ir_mic"].shape[:2] == (2, 7)
        # Left ear = index 0: the device's left midrange is louder at the left ear.
        ir = z["ir"]
        assert np.sum(ir[0, 0, 0] ** 2) > np.sum(ir[0, 0, 1] ** 2)


@pytest.mark.parametrize("argv, fragment", [
    (["scene", "validate", "no-such-thing"], "neither a file nor a scene preset"),
    (["simulate", "default", "--engine", "raytrace", "--out", "x.npz"], "invalid choice"),
    (["simulate", "default", "--fs", "1000", "--out", "x.npz"], "--fs = 1000 Hz"),
    (["simulate", "default", "--out", "/no/such/folder/x.npz"], "does not exist"),
    (["simulate", "reference-pair-living-room", "--talkers", "--out", "x.npz"], "no microphones"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, monkeypatch, tmp_path, argv, fragment):
    monkeypatch.chdir(tmp_path)  # nothing may be written, and surely not into the repo
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert fragment in err and err.count("\n") == 1 and err.startswith("awb: error:")
    assert not list(tmp_path.iterdir())


def test_bad_scene_file_exits_2_naming_the_field(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema_version": 1, "kind": "scene", "room": "living-room",
                               "device": {"model": "stereo-speaker-2", "position": [1, 1, 1]},
                               "listeners": [{"name": "l", "position": [2, 1, 9.0]}]}))
    before = bad.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "workbench.cli", "scene", "validate", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "listeners[0].position[2] = 9 m is outside the room (0 .. 2.7 m)" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert bad.read_bytes() == before
