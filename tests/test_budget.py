"""The resource estimate: huge but valid scenes are refused by `simulate` within seconds and
without allocating, naming the field to change; the presets pass; the estimate errs high
against measured runs; the limits follow the environment and the `limits` argument."""

import contextlib
import io
import json
import math
import time
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest

from sim.budget import Limits, check_budget, estimate
from sim.presets import list_presets
from sim.room import RirCache
from sim.scene import Room, Walls
from sim.scene_io import SceneError, load_scene
from sim.scene_json import scene_to_dict
from sim.transfer import simulate
from workbench.cli.main import main as cli_main


@pytest.fixture(autouse=True)
def _default_limits(monkeypatch):
    monkeypatch.delenv("AWB_SIM_MEMORY_GB", raising=False)
    monkeypatch.delenv("AWB_SIM_TIME_S", raising=False)


def _default():
    return load_scene("default")


def _with_sim(scene, **changes):
    return replace(scene, simulation=replace(scene.simulation, **changes))


def _far_listener(scene, y_m=999.0):
    """The default scene in free field with its listener y_m metres away."""
    li = replace(scene.listeners[0], position_m=(2.5, y_m, 1.0))
    return replace(scene, room=Room(kind="anechoic", dimensions_m=None, walls=Walls(),
                                    air_absorption=False), listeners=(li,), sources=())


def _polygon_room(n_vertices: int) -> Room:
    a = 2 * np.pi * np.arange(n_vertices) / n_vertices
    floor = tuple((2.5 + 2.4 * float(np.cos(t)), 2.0 + 1.9 * float(np.sin(t))) for t in a)
    return Room(kind="polygon", dimensions_m=None, floor_m=floor, height_m=2.7,
                walls=Walls(rt60_s=0.5))


HUGE = {
    # name: (scene builder, engine, field named, fragments of the message)
    "192 kHz, 10 s IR, free field": (
        lambda s: _with_sim(s, fs_hz=192000, ir_length_s=10.0), "freefield",
        "simulation.ir_length",
        ["simulation.ir_length = 10 s at 192000 Hz", "lower simulation.fs"]),
    "192 kHz, 10 s IR, room": (
        lambda s: _with_sim(s, fs_hz=192000, ir_length_s=10.0), "room",
        "simulation.ir_length", ["simulation.ir_length = 10 s", "ray_tracing"]),
    "listener 999 m away at 192 kHz": (
        lambda s: _with_sim(_far_listener(s), fs_hz=192000), "freefield",
        "listeners[0].position", ["999 m from the device", "move it closer"]),
    "RT60 20 s in a 5 x 4 m room": (
        lambda s: replace(s, room=replace(s.room, walls=Walls(rt60_s=20.0))), "room",
        "room.walls.rt60", ["room.walls.rt60 = 20 s", "10 s tail", "ray_tracing to false"]),
    "image-source order 40": (
        lambda s: _with_sim(s, ism_order=40, ray_tracing=False), "room",
        "simulation.ism_order", ["simulation.ism_order = 40", "lower it"]),
    "300-wall floor plan": (
        lambda s: replace(s, room=_polygon_room(300), device=replace(
            s.device, position_m=(2.5, 0.9, 1.0)), listeners=(replace(
                s.listeners[0], position_m=(2.5, 3.0, 1.0)),), sources=()), "room",
        "room.floor", ["room.floor with 300 walls", "simplify the floor plan"]),
}


@pytest.mark.parametrize("name", HUGE)
def test_huge_valid_scenes_are_refused_fast_without_allocating(name):
    build, engine, field, fragments = HUGE[name]
    scene = build(_default())
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(SceneError) as err:
            simulate(scene, engine, cache=RirCache()) if engine == "room" else \
                simulate(scene, engine)
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 5.0
    assert peak < 50e6, f"refusing allocated {peak / 1e6:.0f} MB"
    assert err.value.field == field
    message = str(err.value)
    assert len(message) <= 500 and "\n" not in message
    assert "(limit 2 GB, AWB_SIM_MEMORY_GB)" in message or "(limit 120 s" in message
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("info", list_presets("scene"), ids=lambda p: p.name)
def test_every_preset_is_within_the_default_budget(info):
    scene = load_scene(info.name)
    for engine, early_only, talkers in [("freefield", False, False), ("freefield", False, True),
                                        ("room", True, False), ("room", False, True)]:
        est = check_budget(scene, engine, early_only=early_only, talkers=talkers)
        assert 0 < est.memory_bytes < 1e9 and 0 < est.time_s < 30


def test_estimate_errs_high_against_measured_runs():
    """numpy's allocations (tracemalloc) of two quick runs stay below the estimate (a lower
    bound only: the ear tables and sphere-series weights may already sit in their caches)."""
    scene = _default()
    cases = [(_with_sim(scene, ir_length_s=1.0), "freefield", {}),
             (scene, "room", {"early_only": True, "cache": RirCache()})]
    for case, engine, kwargs in cases:
        est = estimate(case, engine, early_only=kwargs.get("early_only", False))
        tracemalloc.start()
        try:
            simulate(case, engine, **kwargs)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < est.memory_bytes, (engine, peak, est.memory_bytes)


def test_more_drivers_listeners_and_longer_tails_cost_more():
    scene = _default()
    base = estimate(scene, "room")
    two = replace(scene, listeners=(*scene.listeners, replace(
        scene.listeners[0], name="second", position_m=(1.5, 3.0, 1.0))))
    assert estimate(two, "room").time_s > 1.5 * base.time_s
    longer = replace(scene, room=replace(scene.room, walls=Walls(rt60_s=2.0)))
    assert estimate(longer, "room").memory_bytes > 2 * base.memory_bytes
    ff = estimate(_with_sim(scene, ir_length_s=1.0), "freefield")
    assert estimate(_with_sim(scene, ir_length_s=2.0), "freefield").memory_bytes > 1.9 * \
        ff.memory_bytes


def test_limits_come_from_the_environment_and_the_argument(monkeypatch):
    scene = replace(_default(), room=replace(_default().room, walls=Walls(rt60_s=20.0)))
    with pytest.raises(SceneError, match="limit 2 GB"):
        check_budget(scene, "room")
    monkeypatch.setenv("AWB_SIM_MEMORY_GB", "64")
    monkeypatch.setenv("AWB_SIM_TIME_S", "1e4")
    assert check_budget(scene, "room").memory_bytes > 2e9
    with pytest.raises(SceneError, match=r"~\d+ s \(limit 1 s, AWB_SIM_TIME_S\)"):
        check_budget(scene, "room", limits=Limits(memory_bytes=math.inf, time_s=1.0))
    monkeypatch.setenv("AWB_SIM_TIME_S", "soon")
    with pytest.raises(SceneError, match="AWB_SIM_TIME_S = 'soon' must be a positive number"):
        check_budget(scene, "room")


def test_cli_simulate_refuses_a_huge_scene_with_one_line(tmp_path):
    d = scene_to_dict(_default())
    d["simulation"].update(fs=192000, ir_length=10.0)
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(d))
    stderr = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(stderr):
        code = cli_main(["simulate", str(path), "--out", str(tmp_path / "ir.npz"), "--quiet"])
    assert code == 2 and time.perf_counter() - t0 < 5.0
    (line,) = stderr.getvalue().splitlines()
    assert line.startswith("awb: error: simulation.ir_length = 10 s at 192000 Hz needs ~")
    assert not (tmp_path / "ir.npz").exists()
