"""Directivity kinds as classes: each response against its closed form in a turned frame,
each kind's scene-file read/write round trip, the registry, and cache keys that stay as they
were when the kinds were one dataclass."""

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import shared_file
from scipy.special import j1

from sim import room
from sim.directivity import (
    Cardioid,
    Directivity,
    Omni,
    Piston,
    Sofa,
    directivity_class,
    kind_names,
    register,
    write_directivity,
)
from sim.directivity import base as registry
from sim.freefield import ear_transfer
from sim.geometry import yaw_matrix
from sim.scene import content_hash
from sim.scene_io import load_scene, scene_from_dict
from sim.scene_json import scene_to_dict

C, FS = 343.0, 48000


def turned_frame(az_deg: float, el_deg: float) -> np.ndarray:
    """A transducer frame whose axis (column 0) points at azimuth/elevation."""
    el = np.deg2rad(el_deg)
    ry = np.array([[np.cos(el), 0.0, -np.sin(el)], [0.0, 1.0, 0.0],
                   [np.sin(el), 0.0, np.cos(el)]])
    return yaw_matrix(az_deg) @ ry


def directions_at(frame: np.ndarray, theta: np.ndarray, roll: float) -> np.ndarray:
    """Unit vectors at off-axis angles theta (rad) around the frame's axis, at roll angle."""
    local = np.stack([np.cos(theta), np.sin(theta) * np.cos(roll),
                      np.sin(theta) * np.sin(roll)], axis=-1)
    return local @ frame.T


FRAME = turned_frame(37.0, -20.0)
THETA = np.linspace(0.0, np.pi, 19)
F = np.array([0.0, 125.0, 1000.0, 4000.0, 12000.0])


def test_omni_is_one_everywhere():
    g = Omni().response(F, FRAME, directions_at(FRAME, THETA, 0.4), C, FS)
    assert g.shape == (19, 5) and np.all(g == 1.0)


@pytest.mark.parametrize("p", [1.0, 0.75, 0.5, 0.25, 0.0])
def test_cardioid_family_is_p_plus_one_minus_p_cos_theta(p):
    g = Cardioid(p=p).response(F, FRAME, directions_at(FRAME, THETA, 1.1), C, FS)
    expected = p + (1.0 - p) * np.cos(THETA)
    np.testing.assert_allclose(g, np.repeat(expected[:, None], F.size, axis=1), atol=1e-12)


def test_piston_front_is_2_j1_over_argument_and_behind_the_baffle_falls_to_rear_db():
    a = 0.04
    front = THETA[THETA <= np.pi / 2]
    g = Piston(radius_m=a).response(F, FRAME, directions_at(FRAME, front, -0.7), C, FS)
    v = (2.0 * np.pi * F / C * a)[None, :] * np.sin(front)[:, None]
    expected = np.where(v == 0.0, 1.0, 2.0 * j1(np.where(v == 0.0, 1.0, v))
                        / np.where(v == 0.0, 1.0, v))
    np.testing.assert_allclose(g, expected, atol=1e-12)
    ka = 100.0
    behind = Piston(radius_m=a, rear_db=-18.0).response(
        np.array([ka * C / (2 * np.pi * a)]), FRAME, -FRAME[:, 0], C, FS)
    assert 20 * np.log10(abs(behind[0])) == pytest.approx(-18.0, abs=0.05)


def test_sofa_response_is_the_measured_pattern_in_the_transducer_frame():
    path = str(shared_file("hrtf/FHK_HRIR_L2354.sofa"))
    d = Sofa(file=path, receiver=1)
    dirs = directions_at(FRAME, THETA, 0.3)
    np.testing.assert_array_equal(d.response(F, FRAME, dirs, C, FS),
                                  d.pattern(FS).gain(F, dirs @ FRAME))
    assert d.pattern(FS) is d.pattern(FS)  # loaded once per file, receiver and rate
    assert d.file == path and not d.axisymmetric and d.grid_taps == 256


def test_the_registry_holds_each_kind_once_in_order():
    assert kind_names() == ("omni", "cardioid", "piston", "sofa", "frd")
    assert kind_names(microphone=True) == ("omni", "cardioid")
    for name in kind_names():
        assert directivity_class(name).kind == name
    with pytest.raises(ValueError, match="unknown directivity kind 'dipole' \\(known: omni"):
        directivity_class("dipole")
    with pytest.raises(ValueError, match="registered twice"):
        register(Piston)


def _round_trip(tmp_path, drivers, mics=None):
    """A scene with these driver (and microphone) directivities, written and read back."""
    data = scene_to_dict(load_scene("default"))
    for t, d in zip(data["device"]["drivers"], drivers, strict=False):
        t["directivity"] = d
    for t, d in zip(data["device"]["microphones"], mics or [], strict=False):
        t["directivity"] = d
    scene = scene_from_dict(json.loads(json.dumps(data)), base_dir=tmp_path)
    return scene, scene_to_dict(scene, base_dir=tmp_path)


def test_every_kind_reads_and_writes_its_scene_file_object(tmp_path):
    sofa = tmp_path / "driver.sofa"
    sofa.write_bytes(shared_file("hrtf/FHK_HRIR_L2354.sofa").read_bytes())
    written = [{"type": "omni"}, {"type": "cardioid", "p": 0.25},
               {"type": "piston", "radius": 0.03, "rear_db": -20.0},
               {"type": "sofa", "file": "driver.sofa", "receiver": 1}]
    scene, out = _round_trip(tmp_path, written, [{"type": "cardioid", "p": 0.5}])
    assert [d.directivity for d in scene.device.drivers[:4]] == [
        Omni(), Cardioid(p=0.25), Piston(radius_m=0.03, rear_db=-20.0),
        Sofa(file=str(sofa.resolve()), receiver=1)]
    assert scene.device.microphones[0].directivity == Cardioid(p=0.5)
    assert [t["directivity"] for t in out["device"]["drivers"][:4]] == written
    assert write_directivity(Piston()) == {"type": "piston", "radius": 0.025, "rear_db": -15.0}


@dataclass(frozen=True)
class _FigureEight(Directivity):
    """A kind that exists only in this test: cos θ, as pyroomacoustics' figure-8."""

    kind = "test-figure-eight"

    def response(self, freqs_hz, frame, directions, c, fs_hz):
        return np.repeat((directions @ frame[:, 0])[..., None], np.size(freqs_hz), axis=-1)

    def pra_pattern(self, axis):
        return Cardioid(p=0.0).pra_pattern(axis)

    @classmethod
    def read(cls, reader):
        return cls()

    def write(self, rel):
        return {}


@pytest.fixture
def figure_eight():
    """The test kind, registered for one test."""
    yield register(_FigureEight)
    registry._KINDS.pop(_FigureEight.kind)


def test_a_new_kind_is_one_class_for_files_engines_and_microphones(figure_eight, tmp_path):
    scene, out = _round_trip(tmp_path, [{"type": figure_eight.kind}],
                             [{"type": figure_eight.kind}])
    assert scene.device.drivers[0].directivity == figure_eight()
    assert out["device"]["microphones"][0]["directivity"] == {"type": figure_eight.kind}
    assert np.all(np.isfinite(ear_transfer(scene, np.array([1000.0]))))
    res = room.room_result(scene, talkers=True, early_only=True, cache=room.RirCache())
    assert np.all(np.isfinite(res.ir)) and np.abs(res.ir_mic).max() > 0
    assert figure_eight.kind in kind_names(microphone=True)


def test_cache_keys_are_those_of_the_single_dataclass_they_replaced():
    def legacy(**fields):
        d = {"__type__": "Directivity", "type": "omni", "p": 0.5, "radius_m": 0.025,
             "rear_db": -15.0, "file": None, "receiver": 0, **fields}
        d = {k: repr(v) if isinstance(v, float) else v for k, v in d.items()}
        text = json.dumps(["k", d], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    assert content_hash("k", Omni()) == legacy()
    assert content_hash("k", Cardioid(p=0.25)) == legacy(type="cardioid", p=0.25)
    assert content_hash("k", Piston(0.03, -20.0)) == legacy(type="piston", radius_m=0.03,
                                                             rear_db=-20.0)
    assert content_hash("k", Sofa("/x.sofa", 2)) == legacy(type="sofa", file="/x.sofa",
                                                            receiver=2)
    assert content_hash(Cardioid(p=0.5)) != content_hash(Omni())
