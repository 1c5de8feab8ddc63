"""Every panel survives a scene whose optional fields are odd (issue 12 item 5): with the Design,
Renderer, Enhancement and DRED panels open, each odd scene is opened from a file, the design
runs, a free-field transfer is simulated, a programme is built in the Renderer, and the
Enhancement and DRED panels process the scene's own talker; each part either has a result or
shows why not. Any exception nothing caught — in a slot (pytest-qt) or a thread (the app's
hook) — fails the test."""

import sys
import threading
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf
from conftest import shared_file

from sim.scene import Hrtf
from sim.scene_io import load_scene, scene_to_json
from workbench.gui.audio import engine as audio_engine
from workbench.gui.shell import exception_hook


def _device(scene, **changes):
    return replace(scene, device=replace(scene.device, **changes))


def _sofa_head(scene):
    sofa = str(shared_file("hrtf/MIT_KEMAR_normal_pinna.sofa"))
    heads = tuple(replace(li, hrtf=Hrtf("sofa", sofa)) for li in scene.listeners)
    return replace(scene, listeners=heads)


def _one_driver(scene):
    return _device(scene, drivers=scene.device.drivers[:1])


ODD = {
    "no listeners": lambda: replace(load_scene("design-stereo-2"), listeners=()),
    "no sources": lambda: replace(load_scene("default"), sources=()),
    "no microphones": lambda: _device(load_scene("default"), microphones=()),
    "anechoic, 5 drivers, 7 microphones": lambda: load_scene("design-echo-studio"),
    "one driver": lambda: _one_driver(load_scene("default")),
    "SOFA head": lambda: _sofa_head(load_scene("default")),
    "nothing optional": lambda: _device(replace(load_scene("default"), listeners=(),
                                                sources=()), microphones=()),
    "one driver, no listeners, anechoic": lambda: _one_driver(
        replace(load_scene("design-stereo-2"), listeners=())),
}


@pytest.fixture
def failures(monkeypatch):
    """The app's exception hook with a dialog that records: any entry fails the test."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    seen = []
    monkeypatch.setattr(exception_hook, "show_exception_dialog",
                        lambda parent, summary, details: seen.append(details))
    exception_hook.install_exception_hook()
    return seen


@pytest.fixture
def programme(tmp_path):
    path = tmp_path / "programme.wav"
    rng = np.random.default_rng(0)
    sf.write(str(path), 0.05 * rng.standard_normal((48000, 2)), 48000)
    return path


def _idle(window):
    return not (window.runner.is_running or window.design.controller.is_busy
                or window.renderer.controller.is_busy or window.enhance.panel.runner.is_running
                or window.dred.panel.runner.is_running)


def _outcomes(w):
    """Per part: True when it has a result, else the reason it shows ("" = neither: a bug)."""
    renderer, enhance, dred = w.renderer.controller, w.enhance.panel, w.dred.panel
    return {"design": w.design.controller.outcome is not None or w.design.controller.error,
            "transfer": w.transfer_view.result is not None,
            "renderer": renderer.player is not None or renderer.error,
            "enhance": enhance.outcome is not None or enhance.error_label.text(),
            "dred": dred.outcome is not None or dred.error_label.text()}


@pytest.mark.parametrize("odd", ODD)
def test_every_panel_survives_an_odd_scene(odd, make_window, failures, programme, qtbot,
                                           monkeypatch, tmp_path):
    monkeypatch.setattr(audio_engine, "output_problem", lambda *a, **k: None)
    w = make_window("design-stereo-2")
    for dock in w.design.docks:
        dock.show()
    for feature in (w.renderer, w.enhance, w.dred):
        feature.show_dock()
    renderer = w.renderer.panel
    renderer.mode_combo.setCurrentIndex(renderer.mode_combo.findData("freefield"))
    for panel in (w.enhance.panel, w.dred.panel):  # the scene's talker, quickly
        panel.radio_scene.setChecked(True)
        panel.engine_combo.setCurrentIndex(panel.engine_combo.findData("freefield"))
        panel.seconds_spin.setValue(1.0)
    path = tmp_path / "odd.json"
    path.write_text(scene_to_json(ODD[odd]()))
    assert w.open_file(path)
    qtbot.waitUntil(lambda: _idle(w), timeout=60000)
    w.simulate("freefield")
    renderer.open_file(programme)
    w.enhance.panel.process()
    w.dred.panel.process()
    qtbot.waitUntil(lambda: _idle(w), timeout=240000)
    qtbot.wait(50)  # the jobs' last queued reports
    assert failures == []
    outcomes = _outcomes(w)
    assert all(outcomes.values()), outcomes
    scene = w.document.scene
    if not scene.listeners:
        assert "no listener" in renderer.error_label.text()
    if scene.listeners and scene.sources and scene.device.microphones:
        assert outcomes["enhance"] is True and outcomes["dred"] is True
    w.document.undo_stack.setClean()
