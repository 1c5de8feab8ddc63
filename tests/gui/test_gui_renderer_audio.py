"""Renderer panel through a real PortAudio stream (JACK's dummy backend): 3 s of playback with
A→B→X switches from the panel, meters polled from the engine, a clean stop.

Skipped unless a JACK server was running when PortAudio started (CI: `jackd --no-realtime -d
dummy -r 48000 -p 512`, recipe in ../shared/research/ecosystem.md §1b)."""

import time

import numpy as np
import pytest
from conftest import jack_output_or_skip
from PySide6.QtCore import Qt

from .test_gui_renderer import SCENE, wait_built, write_programme


@pytest.mark.audio
def test_real_playback_through_the_panel(make_window, qtbot, tmp_path):
    from workbench.gui.audio.engine import AudioEngine

    device = jack_output_or_skip()
    wav = tmp_path / "programme.wav"
    write_programme(wav, seconds=4.0)
    w = make_window(SCENE)
    w.renderer.show_dock()
    c, panel = w.renderer.controller, w.renderer.panel
    panel.device_combo.setCurrentIndex(panel.device_combo.findData(device))
    assert c.device == device and c.audio_problem == ""
    panel.open_file(wav)
    wait_built(qtbot, c)
    assert panel.action_play.isEnabled()
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    engine = c.engine
    assert isinstance(engine, AudioEngine) and engine.running and c.state == "playing"
    heard, rms = set(), []
    t0 = time.perf_counter()
    for at, button in ((0.6, "A"), (1.4, "B"), (2.2, "X"), (3.0, None)):
        while time.perf_counter() - t0 < at:
            qtbot.wait(40)  # the GUI runs: the poll timer feeds the meters
            heard.add(c.heard_path())
            rms.append(max(panel.meters.values["rms"]))
        if button:
            qtbot.mouseClick(panel.path_buttons[button], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.wait(300)
    stats = engine.stats()
    print(f"stats {stats}, switches {engine.player.switch_log}, heard {sorted(heard)}")
    assert engine.worker_error is None
    assert [p for _, p in engine.player.switch_log] == ["A", "B", "X"]
    assert heard == {"A", "B", "X"}                 # the meters' path followed the switches
    assert panel.meters.updates > 20 and max(rms) > -40.0
    assert stats["frames_played"] >= 2.5 * 48000
    assert c.state == "stopped" and panel.position_slider.value() < 200
    assert max(panel.meters.values["peak"]) <= -1.0
    qtbot.waitUntil(lambda: c.engine is None, timeout=5000)  # closed once idle
    assert not engine.running and np.isfinite(stats["worker_max_ms"])
