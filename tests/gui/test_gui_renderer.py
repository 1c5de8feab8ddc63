"""Renderer panel (issue #4 item 5): open or drop a file, the player built off the GUI thread,
A/B/X buttons and keys, transport, meters, live parameters, offline render with progress and
cancel, bad files, and no PortAudio / no output device.

Playback here goes through `FakeEngine`, a stand-in for `AudioEngine` that the test pumps
block by block on its own thread: deterministic, no sound card. The real stream is
tests/gui/test_gui_renderer_audio.py (JACK)."""

import json
import threading
import time

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from dsp import audition
from dsp.signals import music_like, speech_like
from workbench.gui.audio import engine as audio_engine
from workbench.gui.audio import portaudio as audio
from workbench.gui.render import audition_controller, render_dialog
from workbench.gui.render.audition_controller import LIVE_DELAY_MS, AuditionController
from workbench.gui.render.render_dialog import RenderChoice

from .fake_audio import FakeEngine, fake_audio

FS_IN = 44100
SCENE = "design-stereo-2"  # anechoic, 2 drivers: the paths build in ~0.1 s


def write_programme(path, seconds=1.5, fs=FS_IN, seed=0):
    """Speech-like centre, music-like hard left and right, 44.1 kHz stereo."""
    s = speech_like(fs, seconds, seed=seed + 1)
    x = 0.08 * np.stack([s + music_like(fs, seconds, seed=seed + 2),
                         s + music_like(fs, seconds, seed=seed + 3)], 1)
    sf.write(str(path), x, fs, subtype="PCM_24")
    return x


@pytest.fixture
def audio_ok(monkeypatch):
    """Audio 'works': PortAudio is there (the app's start-up probe says so too, also on a
    machine without it), every device check passes and engines are FakeEngines."""
    return fake_audio(monkeypatch, AuditionController)


@pytest.fixture
def rwin(make_window, audio_ok):
    w = make_window(SCENE)
    w.renderer.show_dock()
    return w


@pytest.fixture
def wav(tmp_path):
    path = tmp_path / "programme.wav"
    write_programme(path)
    return path


def wait_built(qtbot, controller, timeout=20000):
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=timeout)


def open_programme(qtbot, window, path):
    """Open `path` in the window's Renderer panel and wait for its player; returns (controller,
    panel)."""
    c, panel = window.renderer.controller, window.renderer.panel
    panel.open_file(path)
    wait_built(qtbot, c)
    return c, panel


def mime_for(path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def drop(widget, path):
    """A real drag-enter and drop of a file on `widget` (synthetic Qt events)."""
    mime = mime_for(path)
    pos = QPointF(widget.rect().center())
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def flush(player):
    """Apply the player's queued commands (what the audio worker does at its next block)."""
    player.next_block()


# -- opening --------------------------------------------------------------------------------------


def test_drop_builds_the_player_off_the_gui_thread_with_progress(rwin, wav, qtbot,
                                                                  monkeypatch):
    c = rwin.renderer.controller
    panel = rwin.renderer.panel
    threads, progress, bar_shown = [], [], []
    real = audition.make_player

    def recording(*args, **kwargs):
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(audition, "make_player", recording)
    c.progress.connect(lambda f, m: (progress.append((f, m)),
                                     bar_shown.append(panel.build_progress.isVisible())))
    assert drop(panel, wav)
    assert c.is_busy and panel.build_progress.isVisible() and panel.build_cancel.isVisible()
    wait_built(qtbot, c)
    assert threads and threads[0] != threading.get_ident()  # built in the worker thread
    assert len(progress) > 3 and all(bar_shown)
    assert [f for f, _ in progress] == sorted(f for f, _ in progress)
    assert any("designing" in m for _, m in progress)
    assert not panel.build_progress.isVisible()
    # 44.1 kHz resampled (soxr) to the scene's 48 kHz; stereo; the player is ready, stopped.
    p = c.programme
    assert p.fs_in_hz == FS_IN and p.fs_hz == 48000 and p.channels_in == 2
    assert len(p.x) == pytest.approx(1.5 * 48000, abs=2)
    assert c.player is not None and c.player.state == "stopped" and c.player.fs_hz == 48000
    assert "44100 Hz → 48000 Hz" in panel.file_label.text()
    assert panel.time_label.text() == "0:00.0 / 0:01.5"
    assert panel.view.levels is not None and panel.view.spectrogram is not None
    assert "ready" in rwin.statusBar().currentMessage()


def test_drop_on_the_window_and_the_open_dialog_use_the_same_loader(make_window, audio_ok, wav,
                                                                    qtbot, dialogs, tmp_path):
    w = make_window(SCENE)
    c = w.renderer.controller
    assert not w.renderer.dock.isVisible()  # a fresh layout: hidden until used
    assert drop(w, wav)  # on the window itself: the Renderer dock opens and loads
    assert w.renderer.dock.isVisible()
    wait_built(qtbot, c)
    assert c.programme.path == wav
    # Scene files dropped on the window still open as scenes (not audio).
    assert not w.renderer.accepts_drop(mime_for(tmp_path / "scene.json"))
    # Audio ▸ Open Audio File… asks (monkeypatched dialog) and loads the same way.
    other = tmp_path / "other.flac"
    write_programme(other, seconds=1.0, fs=32000, seed=5)
    dialogs.open_path = str(other)
    w.renderer.panel.action_open.trigger()
    assert ("open-dialog", "Open Audio File") == dialogs.calls[-1][:2]
    wait_built(qtbot, c)
    assert c.programme.path == other and c.programme.fs_in_hz == 32000
    assert len(c.programme.x) == pytest.approx(48000, abs=2)


def test_bad_files_show_one_line_and_keep_the_previous_programme(rwin, wav, qtbot, tmp_path):
    c, panel = open_programme(qtbot, rwin, wav)
    good, player = c.programme, c.player
    nan = tmp_path / "broken.wav"
    x = write_programme(nan, seconds=0.5)
    x[1000, 0] = np.nan
    sf.write(str(nan), x, FS_IN, subtype="FLOAT")
    six = tmp_path / "surround.wav"
    sf.write(str(six), np.full((4410, 6), 0.1), FS_IN)
    for path, expected in ((nan, "1 NaN sample (first at 0.023 s); the file is damaged"),
                           (six, "6 channels; expected 2 (stereo)")):
        panel.open_file(path)
        wait_built(qtbot, c)
        text = panel.error_label.text()
        assert text == f"{path}: {expected}" and "\n" not in text
        assert panel.error_label.isVisible()
        assert rwin.statusBar().currentMessage() == text
        assert c.programme is good and c.player is player  # nothing replaced
        assert panel.file_label.text() == good.describe()
    panel.open_file(wav)  # a good file clears the error
    wait_built(qtbot, c)
    assert not panel.error_label.isVisible()


def test_cancel_while_building_keeps_the_previous_programme(rwin, wav, qtbot, monkeypatch,
                                                             tmp_path):
    c, panel = open_programme(qtbot, rwin, wav)
    good = c.programme
    started = threading.Event()

    def slow(*args, state, **kwargs):
        started.set()
        while True:  # a long simulation that checks for cancellation
            state.check()
            time.sleep(0.005)

    monkeypatch.setattr(audition, "make_player", slow)
    other = tmp_path / "other.wav"
    write_programme(other, seed=9)
    panel.open_file(other)
    assert started.wait(10)
    qtbot.mouseClick(panel.build_cancel, Qt.MouseButton.LeftButton)
    wait_built(qtbot, c)
    assert c.programme is good
    assert "cancelled (the previous programme is kept)" in rwin.statusBar().currentMessage()
    assert not panel.build_progress.isVisible() and not panel.error_label.isVisible()


# -- listening ------------------------------------------------------------------------------------


def test_abx_buttons_and_keys_switch_the_players_path(rwin, wav, qtbot):
    c, panel = open_programme(qtbot, rwin, wav)
    player = c.player
    assert player.selected == "B" and panel.path_buttons["B"].isChecked()
    qtbot.mouseClick(panel.path_buttons["A"], Qt.MouseButton.LeftButton)
    flush(player)
    assert player.selected == "A" and c.path == "A"
    assert "Selected <b>A</b>" in panel.hearing_label.text()
    rwin.activateWindow()
    qtbot.waitActive(rwin)
    for key, path in ((Qt.Key.Key_3, "X"), (Qt.Key.Key_2, "B"), (Qt.Key.Key_1, "A"),
                      (Qt.Key.Key_X, "X"), (Qt.Key.Key_B, "B")):
        qtbot.keyClick(rwin.view, key)  # anywhere in the window, e.g. the scene editor
        flush(player)
        assert player.selected == path and panel.path_buttons[path].isChecked(), key
    assert [p for _, p in player.switch_log] == ["A", "X", "B", "A", "X", "B"]
    # Space plays and pauses while the panel has the focus (in the scene editor it pans).
    panel.position_slider.setFocus()
    qtbot.keyClick(panel.position_slider, Qt.Key.Key_Space)
    assert c.state == "playing" and FakeEngine.instances[-1].started
    assert panel.play_button.text() == "❚❚ Pause"
    qtbot.keyClick(panel.position_slider, Qt.Key.Key_Space)
    assert c.state == "paused" and panel.play_button.text() == "▶ Play"


def test_transport_meters_seek_loop_and_the_end(rwin, wav, qtbot):
    c, panel = open_programme(qtbot, rwin, wav)
    assert panel.meters.updates == 0
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    engine = c.engine
    assert c.state == "playing" and engine.started and engine.player is c.player
    engine.pump(60)  # 0.64 s at 512 samples
    qtbot.waitUntil(lambda: panel.meters.updates > 3, timeout=3000)  # the poll timer
    v = panel.meters.values
    assert max(v["rms"]) > -40 and max(v["peak"]) <= -1.0 and v["gr"] <= 0.0
    assert max(v["lrc"]) > -60
    qtbot.waitUntil(lambda: panel.position_slider.value() > 300, timeout=3000)
    assert "Hearing <b>B</b>" in panel.hearing_label.text()
    # Seek from the slider (a page step) and from a click in the overview.
    panel.seek(1.0)
    engine.pump(1)
    assert c.player.position_s == pytest.approx(1.0, abs=0.02)
    panel.view.seekRequested.emit(0.25)
    engine.pump(10)
    assert c.player.transport.position / 48000 == pytest.approx(0.25 + 9 * 512 / 48000,
                                                                abs=0.02)
    # Loop region from the spin boxes; too short is refused with the reason.
    panel.loop_check.setChecked(True)
    panel.loop_start.setValue(0.2)
    panel.loop_end.setValue(0.25)
    assert "shorter than 0.1 s" in panel.error_label.text()
    panel.loop_end.setValue(0.8)
    assert c.loop == (0.2, 0.8) and panel.view.region.isVisible()
    engine.pump(200)
    assert 0.2 * 48000 <= c.player.transport.position < 0.8 * 48000 and c.state == "playing"
    # Without the loop the programme ends: the worker's "stopped" reaches the panel.
    panel.loop_check.setChecked(False)
    engine.pump(400)
    qtbot.waitUntil(lambda: c.state == "stopped", timeout=3000)
    assert panel.play_button.text() == "▶ Play"
    # Idle: the engine is closed after a moment (no CPU while stopped) and play reopens one.
    qtbot.waitUntil(lambda: c.engine is None, timeout=5000)
    assert engine.closed
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert c.engine is not engine and c.state == "playing"
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert c.state == "stopped" and panel.position_slider.value() == 0


def test_parameters_reach_the_player_while_playing(rwin, wav, qtbot):
    c, panel = open_programme(qtbot, rwin, wav)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    engine = c.engine
    engine.pump(5)
    levels_before = c.levels
    panel.tabs.setCurrentIndex(1)
    panel.width_slider.setValue(70)        # log scale: 10^(-3 + 2·0.7) = 0.025
    panel.smoothing_spin.setValue(60.0)
    panel.ambience_slider.setValue(40)
    panel.centre_gain_spin.setValue(3.0)
    assert engine.networks == []           # coalesced: one swap after the changes settle
    qtbot.waitUntil(lambda: len(engine.networks) == 1, timeout=LIVE_DELAY_MS * 20)
    engine.pump(1)
    up = c.player.paths.network.upmix      # applied by the player's stream (crossfaded)
    assert (up.centre_width, up.smoothing_ms, up.ambience, up.centre_gain_db) == (
        0.025, 60.0, 0.4, 3.0)
    assert c.player.stream._upmix.params == up
    # The L/R/C overview follows (recomputed in the background).
    qtbot.waitUntil(lambda: c.levels is not levels_before and not c.levels_runner.is_running,
                    timeout=10000)
    # Block size: a new player over the same paths, playing on from the same place.
    paths = c.player.paths
    panel.block_combo.setCurrentIndex(panel.block_combo.findData(256))
    qtbot.waitUntil(lambda: c.player.block == 256, timeout=3000)
    assert c.player.paths is paths and c.state == "playing" and c.engine is not engine
    assert c.player.stream._upmix.params.centre_width == 0.025  # the live setting carried over
    # A bad value is refused with the parameter's reason.
    assert "centre_gain_db" in c.set_upmix(centre_gain_db=50.0)
    # The renderer method rebuilds in the background; playing goes on.
    panel.lr_combo.setCurrentIndex(panel.lr_combo.findData("direct"))
    assert c.is_busy
    wait_built(qtbot, c)
    qtbot.waitUntil(lambda: c.player.paths.network.methods["LR"] == "direct", timeout=5000)
    assert c.state == "playing"
    # Designing in the room needs a room: this scene is anechoic, so the build says so in one
    # line and the playing player stays.
    player = c.player
    panel.space_combo.setCurrentIndex(panel.space_combo.findData("room_early"))
    wait_built(qtbot, c)
    assert "anechoic" in panel.error_label.text() and panel.error_label.isVisible()
    assert c.player is player and c.state == "playing"


def test_design_space_combo_designs_the_network_in_the_room(make_window, audio_ok, wav,
                                                            qtbot):
    w = make_window("default")  # the living room
    w.renderer.show_dock()
    c, panel = w.renderer.controller, w.renderer.panel
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData("early"))  # fast room paths
    panel.space_combo.setCurrentIndex(panel.space_combo.findData("room_early"))
    assert c.settings.params.design_space == "room_early"
    panel.open_file(wav)
    wait_built(qtbot, c)
    assert not c.error
    assert c.player.paths.network.methods["space"] == "room_early"
    assert c.player.paths.engine == "room" and c.player.paths.early_only


def test_scene_edit_marks_the_paths_stale_until_rebuilt(rwin, wav, qtbot):
    from workbench.gui.scene import edits

    c, panel = open_programme(qtbot, rwin, wav)
    scene = rwin.document.scene
    x, y, z = edits.position_of(scene, ("listener", 0))
    rwin.document.push(edits.with_position(scene, ("listener", 0), (x, y + 0.2, z)), "move")
    assert c.stale and "Rebuild" in panel.error_label.text()
    panel.action_rebuild.trigger()
    wait_built(qtbot, c)
    assert not c.stale and not panel.error_label.isVisible()


# -- offline render -------------------------------------------------------------------------------


def test_render_to_files_writes_drivers_binaural_and_report(rwin, wav, qtbot, monkeypatch,
                                                             tmp_path):
    _, panel = open_programme(qtbot, rwin, wav)
    out = tmp_path / "render"
    asked = []

    def ask(parent, suggestion, summary=""):
        asked.append((suggestion, summary))
        return RenderChoice(out, ("A", "B", "X"), cues=False)

    monkeypatch.setattr(render_dialog, "ask_render", ask)
    progress = []
    panel.offline.progress.connect(lambda f, m: progress.append(
        (f, panel.render_progress.isVisible())))
    panel.action_render.trigger()
    assert panel.render_progress.isVisible() and panel.render_cancel.isVisible()
    assert not panel.action_render.isEnabled()
    qtbot.waitUntil(lambda: not panel.offline.is_running, timeout=30000)
    assert asked[0][0] == wav.parent / "programme-render" and "design-stereo-2" in asked[0][1]
    names = sorted(p.name for p in out.iterdir())
    assert names == ["binaural_A.wav", "binaural_B.wav", "binaural_X.wav", "drivers.wav",
                     "report.json"]
    report = json.loads((out / "report.json").read_text())
    assert report["input"]["fs_in_hz"] == FS_IN and report["render"]["block"] == 512
    assert sf.info(str(out / "drivers.wav")).channels == 2
    assert len(progress) > 3 and all(shown for _, shown in progress)
    assert "Rendered" in rwin.statusBar().currentMessage()
    assert not panel.render_progress.isVisible() and panel.action_render.isEnabled()


def test_render_to_files_can_be_cancelled(rwin, wav, qtbot, monkeypatch, tmp_path):
    _, panel = open_programme(qtbot, rwin, wav)
    out = tmp_path / "render"
    monkeypatch.setattr(render_dialog, "ask_render",
                        lambda *a, **k: RenderChoice(out, ("A", "B", "X"), cues=True))
    cancelled = []
    panel.offline.cancelled.connect(lambda: cancelled.append(True))
    assert panel.render_to_files()
    qtbot.mouseClick(panel.render_cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.offline.is_running, timeout=30000)
    assert cancelled == [True]
    assert not (out / "report.json").exists()
    assert "Render cancelled" in rwin.statusBar().currentMessage()


def test_render_to_files_refuses_to_replace_the_programme_or_the_scene_file(rwin, qtbot,
                                                                          monkeypatch, tmp_path):
    """The programme is binaural_A.wav in the chosen folder, then the scene file is that
    folder's report.json: refused before any work, the reason in the panel, nothing written."""
    c, panel = rwin.renderer.controller, rwin.renderer.panel
    monkeypatch.setattr(render_dialog, "ask_render",
                        lambda *a, **k: RenderChoice(tmp_path, ("A", "B"), cues=False))

    def refused(victim):
        names = sorted(p.name for p in tmp_path.iterdir())
        before = victim.read_bytes()
        with qtbot.waitSignal(panel.offline.failed, timeout=30000) as failed:
            assert panel.render_to_files()
        qtbot.waitUntil(lambda: not panel.offline.is_running, timeout=30000)
        text = (f"Render failed: {victim}: would overwrite the input file {victim}; choose"
                " another output")
        assert failed.args == [text] and panel.error_label.text() == text
        assert victim.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == names

    programme = tmp_path / "binaural_A.wav"
    write_programme(programme)
    panel.open_file(programme)
    wait_built(qtbot, c)
    refused(programme)
    programme.rename(tmp_path / "programme.wav")
    panel.open_file(tmp_path / "programme.wav")
    wait_built(qtbot, c)
    rwin.document.save(tmp_path / "report.json")
    refused(tmp_path / "report.json")


# -- no audio -------------------------------------------------------------------------------------


PORTAUDIO_MISSING = ("Audio playback unavailable: PortAudio not found (install libportaudio2)"
                     " [PortAudio library not found]; " + audio_engine.OFFLINE_HINT)


def test_without_portaudio_the_panel_says_so_and_offline_render_works(
        make_window, wav, qtbot, monkeypatch, tmp_path):
    def no_portaudio():
        raise audio_engine.AudioUnavailable(PORTAUDIO_MISSING)

    monkeypatch.setattr(audio_engine, "_sounddevice", no_portaudio)
    monkeypatch.setattr(audio, "portaudio_problem", lambda: audio.PORTAUDIO_MISSING)
    w = make_window(SCENE)
    w.renderer.show_dock()
    c, panel = w.renderer.controller, w.renderer.panel
    assert c.audio_problem == PORTAUDIO_MISSING
    assert panel.audio_box.isVisible() and panel.audio_label.text() == PORTAUDIO_MISSING
    assert w.audio_label.isVisible() and "PortAudio not found" in w.audio_label.toolTip()
    assert panel.device_combo.count() == 1  # only "System default"
    panel.open_file(wav)
    wait_built(qtbot, c)
    assert c.player is not None  # the programme is there, for offline work
    assert not panel.action_play.isEnabled() and not panel.play_button.isEnabled()
    panel.position_slider.setFocus()
    qtbot.keyClick(panel.position_slider, Qt.Key.Key_Space)
    assert c.state == "stopped" and c.engine is None
    assert not c.play()
    # Render to Files Instead… works without any audio device.
    out = tmp_path / "offline"
    monkeypatch.setattr(render_dialog, "ask_render",
                        lambda *a, **k: RenderChoice(out, ("B",), cues=False))
    assert panel.audio_render_button.isEnabled()
    qtbot.mouseClick(panel.audio_render_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.offline.is_running, timeout=30000)
    assert sorted(p.name for p in out.iterdir()) == ["binaural_B.wav", "drivers.wav",
                                                     "report.json"]


def test_when_no_output_device_opens_play_is_disabled_with_the_reason(rwin, wav, qtbot):
    c, panel = open_programme(qtbot, rwin, wav)
    FakeEngine.fail_start = ("Cannot open the audio output (Device unavailable [PaErrorCode"
                             f" -9985]); {audio_engine.OFFLINE_HINT}")
    assert panel.action_play.isEnabled()
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert c.engine is None and c.state == "stopped"
    assert panel.audio_box.isVisible() and "Device unavailable" in panel.audio_label.text()
    assert "offline render still works" in panel.audio_label.text()
    assert not panel.action_play.isEnabled()
    assert rwin.audio_label.isVisible() and "Device unavailable" in rwin.audio_label.toolTip()
    # Choosing the device again (or Rescan) checks the output anew.
    FakeEngine.fail_start = None
    assert c.refresh_audio() == "" and panel.action_play.isEnabled()
    assert not panel.audio_box.isVisible() and not rwin.audio_label.isVisible()


def test_window_closes_cleanly_while_playing_and_building(rwin, wav, qtbot):
    c, panel = open_programme(qtbot, rwin, wav)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    engine = c.engine
    panel.action_rebuild.trigger()
    assert rwin.close()
    assert engine.closed and c.build_runner.wait(0)  # the job's thread has ended


def test_the_overview_switches_to_the_spectrogram_and_follows_the_theme(rwin, wav, qtbot):
    c, panel = open_programme(qtbot, rwin, wav)
    view = panel.view
    assert view.mode == "levels" and view.curves["C"].isVisible()
    view.set_mode("spectrogram")
    assert view.image.isVisible() and not view.curves["C"].isVisible()
    assert view.image.image.shape == c.spectrogram.level_db.T.shape
    rwin.set_theme("light")
    assert panel.meters.colors.plot_background == "#ffffff"


def test_changing_the_output_device_while_playing_reopens_on_it(rwin, wav, qtbot,
                                                                 monkeypatch):
    devices = [{"index": 3, "name": "system", "hostapi": "JACK Audio Connection Kit",
                "channels": 2, "default_samplerate": 48000.0}]
    monkeypatch.setattr(audio_engine, "list_output_devices", lambda: devices)
    monkeypatch.setattr(audition_controller, "_rescan_portaudio", lambda: None)
    c, panel = rwin.renderer.controller, rwin.renderer.panel
    panel.rescan_devices()
    assert panel.device_combo.count() == 2
    panel.open_file(wav)
    wait_built(qtbot, c)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    first = c.engine
    first.pump(20)
    panel.device_combo.setCurrentIndex(panel.device_combo.findData(3))
    # The old stream fades out (pause), closes, and a new one opens where it was, playing.
    qtbot.waitUntil(lambda: c.engine is not None and c.engine is not first, timeout=3000)
    assert first.closed and c.engine.device == 3 and c.state == "playing"
    assert c.engine.player is first.player
    from PySide6.QtCore import QSettings

    assert QSettings().value("audio/device") == "system (JACK Audio Connection Kit)"


# -- the Settings tab: every `awb render` option ------------------------------------------------


def test_every_setting_reaches_the_build_and_the_render_request_and_is_remembered(
        make_window, audio_ok, wav, qtbot, monkeypatch, tmp_path):
    from dataclasses import replace

    from sim.scene_io import load_scene, scene_to_json
    from sim.task import Cancelled
    from workbench.gui.shell import settings
    from workbench.jobs import render as render_job

    scene = load_scene(SCENE)
    second = replace(scene.listeners[0], name="sofa", position_m=(2.0, 0.6, 0.0))
    path = tmp_path / "two-listeners.json"
    path.write_text(scene_to_json(replace(scene, listeners=(*scene.listeners, second))))
    w = make_window(str(path))
    w.renderer.show_dock()
    c, panel = w.renderer.controller, w.renderer.panel
    prepared, rendered = [], []
    prepare = render_job.prepare
    monkeypatch.setattr(render_job, "prepare",
                        lambda request, state=None: prepared.append(request)
                        or prepare(request, state))

    def run(request, state=None):
        rendered.append(request)
        raise Cancelled

    monkeypatch.setattr(render_job, "run", run)
    monkeypatch.setattr(render_dialog, "ask_render",
                        lambda *a, **k: RenderChoice(tmp_path / "out", ("B",), cues=False))
    assert [panel.listener_combo.itemText(i) for i in range(2)] == ["listener", "sofa"]
    assert not panel.early_window_spin.isEnabled()  # only for designing in the room
    panel.taps_combo.setCurrentIndex(panel.taps_combo.findData(1024))
    panel.effort_spin.setValue(12.0)
    panel.early_window_spin.setValue(30.0)
    panel.room_max_spin.setValue(1500.0)
    panel.floor_spin.setValue(-30.0)
    panel.frame_combo.setCurrentIndex(panel.frame_combo.findData(1024))
    panel.listener_combo.setCurrentIndex(1)
    p = c.settings.params
    assert (p.n_taps, p.max_effort_db, p.early_window_ms, p.room_max_hz, p.listener,
            p.upmix.floor_db, p.upmix.frame) == (1024, 12.0, 30.0, 1500.0, 1, -30.0, 1024)
    panel.open_file(wav)
    wait_built(qtbot, c)
    assert not c.error and prepared[-1].settings.params == p
    assert c.player.paths.network.upmix.frame == 1024
    taps = c.player.paths.network.filters.fir.shape[-1]
    panel.action_render.trigger()
    qtbot.waitUntil(lambda: not panel.offline.is_running, timeout=10000)
    assert rendered[0].params == p and rendered[0].block == c.settings.block
    # Live: the networks are built again for a new tap count; the floor is swapped in.
    panel.taps_combo.setCurrentIndex(panel.taps_combo.findData(512))
    assert c.is_busy
    wait_built(qtbot, c)
    assert prepared[-1].settings.params.n_taps == 512
    assert c.player.paths.network.filters.fir.shape[-1] < taps
    panel.floor_spin.setValue(-50.0)
    assert not c.is_busy
    qtbot.waitUntil(lambda: flush(c.player) or c.player.stream._upmix.params.floor_db == -50.0,
                    timeout=LIVE_DELAY_MS * 20)
    # Remembered for the next window, but the listener (the scene's); a stored value out of
    # range reads as the default.
    assert settings.RENDERER_TAPS.get() == 512 and settings.UPMIX_FLOOR_DB.get() == -50.0
    settings.RENDERER_MAX_EFFORT_DB.set(float("nan"))
    settings.RENDERER_EARLY_WINDOW_MS.set(500.0)
    again = make_window(SCENE).renderer
    q = again.controller.settings.params
    assert (q.n_taps, q.upmix.floor_db, q.upmix.frame, q.room_max_hz, q.listener) == (
        512, -50.0, 1024, 1500.0, 0)
    assert q.max_effort_db == 18.0 and q.early_window_ms == 20.0
    shown = again.panel
    assert shown.taps_combo.currentData() == 512 and shown.floor_spin.value() == -50.0
    assert shown.listener_combo.count() == 1 and not shown.listener_combo.isEnabled()


def test_a_listener_the_scene_no_longer_has_goes_back_to_the_first(make_window, audio_ok,
                                                                   tmp_path):
    w = make_window("soundbar-8-studio")  # two listeners
    c, panel = w.renderer.controller, w.renderer.panel
    panel.listener_combo.setCurrentIndex(1)
    assert c.settings.params.listener == 1
    w.new_from_preset(SCENE)  # one listener
    assert c.settings.params.listener == 0 and panel.listener_combo.currentIndex() == 0
