"""The Enhancement panel: file and scene inputs, toggles, metrics, errors, cancel, save."""

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt

from dsp.loudness import integrated_loudness
from dsp.percepnet.audio_io import mix_at_snr
from dsp.signals import pink_noise, speech_like

from .fake_audio import fake_audio
from .gui_helpers import (
    assert_save_refused,
    cancel_panel_job,
    cell_text,
    check_view_menu_dock,
    run_panel_job,
)

FS = 16000
TIMEOUT_MS = 20000


@pytest.fixture
def noisy_files(tmp_path):
    clean = 0.1 * speech_like(FS, 3.0, seed=3)
    noisy = mix_at_snr(clean, pink_noise(len(clean), seed=5), 5.0)
    sf.write(tmp_path / "clean.wav", clean, FS, subtype="FLOAT")
    sf.write(tmp_path / "noisy.wav", noisy, FS, subtype="FLOAT")
    return tmp_path / "noisy.wav", tmp_path / "clean.wav"


@pytest.fixture
def panel(window):
    window.enhance.show_dock()
    return window.enhance.panel


def _process(qtbot, panel):
    return run_panel_job(qtbot, panel, TIMEOUT_MS)


def _use_file(panel, noisy, clean=None):
    panel.radio_file.setChecked(True)
    panel.noisy_edit.setText(str(noisy))
    panel.clean_edit.setText(str(clean) if clean else "")


def _cell(panel, row, col):
    return cell_text(panel.metrics_table, row, col)


def test_dock_is_in_view_menu(window):
    check_view_menu_dock(window, window.enhance, "actionViewEnhancement")


def test_file_with_clean_reference(qtbot, panel, noisy_files, tmp_path, dialogs):
    noisy, clean = noisy_files
    _use_file(panel, noisy, clean)
    assert panel.oracle_check.isEnabled()
    assert not panel.save_button.isEnabled()
    o = _process(qtbot, panel)
    assert o is not None and not panel.error_label.isVisible()
    before, after = panel.before_plot.image.image, panel.after_plot.image.image
    assert before is not None and after is not None and before.shape == after.shape
    assert np.isfinite(before).all() and not np.allclose(before, after)
    assert panel.before_plot.image.levels == pytest.approx(panel.after_plot.image.levels)
    assert o.metrics_enhanced["pesq_wb"] > o.metrics_noisy["pesq_wb"]
    assert _cell(panel, 0, 0) == f"{o.metrics_noisy['pesq_wb']:.2f}"
    assert _cell(panel, 0, 1) == f"{o.metrics_enhanced['pesq_wb']:.2f}"
    assert _cell(panel, 1, 1) != "—" and _cell(panel, 2, 1) != "—"
    # Save Output: atomic WAV at the chosen path
    assert panel.save_button.isEnabled()
    dialogs.save_path = str(tmp_path / "out.wav")
    panel.save_button.click()
    y, fs = sf.read(tmp_path / "out.wav")
    assert fs == FS and np.allclose(y, o.result.output, atol=1e-6)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.wav")] == []
    # ... never over a file the result was made from (the input or its clean reference).
    assert_save_refused(panel, dialogs, noisy)
    assert_save_refused(panel, dialogs, clean)


def test_toggles_reach_the_request(qtbot, panel, noisy_files):
    """What each option does to the output is the job's test (tests/test_jobs_enhance.py)."""
    noisy, clean = noisy_files
    _use_file(panel, noisy, clean)
    r = panel.request()
    assert (r.source, r.noisy_path, r.clean_path) == ("file", str(noisy), str(clean))
    assert r.use_comb and r.use_postfilter and not (r.int8 or r.oracle or r.postfilter_gate)
    assert r.postfilter_strength == 0.5  # `awb enhance`'s default
    panel.strength_spin.setValue(1.0)
    assert panel.request().postfilter_strength == 1.0
    for name, field in (("gate_check", "postfilter_gate"), ("comb_check", "use_comb"),
                        ("postfilter_check", "use_postfilter"), ("int8_check", "int8"),
                        ("oracle_check", "oracle")):
        check = getattr(panel, name)
        check.setChecked(not check.isChecked())
        assert getattr(panel.request(), field) == check.isChecked(), name
    # the strength and the gate belong to the postfilter
    assert not panel.strength_spin.isEnabled() and not panel.gate_check.isEnabled()
    o = _process(qtbot, panel)  # comb, postfilter off; int8 weights; oracle gains
    assert o.oracle and "oracle" in panel.after_plot.plotItem.titleLabel.text


def test_file_without_reference_shows_no_metrics(qtbot, panel, noisy_files):
    noisy, _ = noisy_files
    _use_file(panel, noisy)
    assert not panel.oracle_check.isEnabled()
    panel.oracle_check.setChecked(True)  # disabled: ignored
    o = _process(qtbot, panel)
    assert o.metrics_noisy is None and o.clean is None
    assert _cell(panel, 0, 0) == "—" and _cell(panel, 0, 1) == "—"
    assert panel.after_plot.image.image is not None


def test_scene_source_on_default_preset(qtbot, panel):
    """The scene's choices reach the request; the job's own test processes it."""
    scene = panel.document.scene
    assert panel.mic_combo.count() == len(scene.device.microphones) > 0
    assert panel.talker_combo.count() >= 1 and panel.noise_list.count() >= 1
    panel.radio_scene.setChecked(True)
    panel.engine_combo.setCurrentIndex(panel.engine_combo.findData("room"))
    panel.mic_combo.setCurrentIndex(1)
    panel.seconds_spin.setValue(2.0)
    panel.noise_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    r = panel.request()
    assert (r.source, r.scene, r.engine, r.mic, r.seconds) == ("scene", scene, "room", 1, 2.0)
    assert scene.sources[r.talker].kind == "talker" and r.noises == ()


def test_bad_file_shows_one_line_error(qtbot, panel, tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_text("this is not audio")
    _use_file(panel, bad)
    _process(qtbot, panel)
    assert panel.outcome is None
    text = panel.error_label.text()
    assert panel.error_label.isVisible() and "bad.wav" in text and "\n" not in text
    _use_file(panel, tmp_path / "missing.wav")
    _process(qtbot, panel)
    assert "no such file" in panel.error_label.text()
    panel.noisy_edit.setText("")
    assert not panel.process()
    assert "Choose an input file" in panel.error_label.text()


def test_cancel(qtbot, panel, noisy_files):
    noisy, clean = noisy_files
    _use_file(panel, noisy, clean)
    cancel_panel_job(qtbot, panel, TIMEOUT_MS)
    assert panel.outcome is None
    assert panel.info_label.text() == "Cancelled."
    assert panel.process_button.isEnabled() and not panel.cancel_button.isEnabled()


# -- A/B playback of Noisy / Enhanced / Clean through the audition engine -------------------------


@pytest.fixture
def clip_audio(monkeypatch):
    """Audio 'works' for the clip player: device checks pass, engines are FakeEngines (the
    Renderer tests' stand-in, pumped block by block)."""
    from workbench.gui.audio.clip_audition import ClipAudition

    return fake_audio(monkeypatch, ClipAudition)


def test_ab_playback_of_noisy_enhanced_and_clean(qtbot, window, panel, noisy_files, clip_audio):
    a = panel.audition
    assert not a.play_button.isEnabled() and a.clip_buttons == {}
    noisy, clean = noisy_files
    _use_file(panel, noisy, clean)
    o = _process(qtbot, panel)
    assert list(a.clip_buttons) == ["Noisy", "Enhanced", "Clean"]
    assert a.play_button.isEnabled() and a.clip_buttons["Noisy"].isChecked()
    assert not a.problem_box.isVisible()
    # The clips are the job's signals, loudness-matched to the noisy input.
    np.testing.assert_array_equal(o.clips.signals[1, :, 0], o.result.output)
    target = integrated_loudness(o.clips.signals[0], FS)
    for sig, g in zip(o.clips.signals, o.clips.gains_db, strict=True):
        assert integrated_loudness(sig * 10 ** (g / 20), FS) == pytest.approx(target, abs=0.05)
    assert "to match the loudness" in a.clip_buttons["Enhanced"].toolTip()
    # Play, then keys 2 / 3 / 1 anywhere in the panel switch clips; the meters follow.
    qtbot.mouseClick(a.play_button, Qt.MouseButton.LeftButton)
    engine = clip_audio.instances[-1]
    assert engine.started and a.state == "playing" and a.play_button.text() == "❚❚ Pause"
    # The Renderer is visible too (floated), with its window-wide 1 2 3 keys: in this panel
    # the keys are the clip player's.
    window.renderer.show_dock()
    window.renderer.dock.setFloating(True)
    window.enhance.show_dock()
    assert window.renderer.panel.isVisible() and panel.isVisible()
    window.activateWindow()
    qtbot.waitActive(window)
    panel.metrics_table.setFocus()
    for key, name in ((Qt.Key.Key_2, "Enhanced"), (Qt.Key.Key_3, "Clean"),
                      (Qt.Key.Key_1, "Noisy"), (Qt.Key.Key_2, "Enhanced")):
        qtbot.keyClick(panel.metrics_table, key)
        engine.pump(5)
        assert engine.player.selected == name and a.clip_buttons[name].isChecked(), name
    assert [p for _, p in engine.player.switch_log] == ["Enhanced", "Clean", "Noisy", "Enhanced"]
    assert window.renderer.controller.path == "B"  # untouched
    qtbot.waitUntil(lambda: a.meters.updates > 2, timeout=3000)
    assert max(a.meters.values["rms"]) > -60 and max(a.meters.values["peak"]) <= -1.0
    qtbot.waitUntil(lambda: "hearing <b>Enhanced</b>" in a.hearing_label.text(), timeout=3000)
    # Typing a digit in a text field still types.
    panel.noisy_edit.setFocus()
    qtbot.keyClick(panel.noisy_edit, Qt.Key.Key_3)
    assert panel.noisy_edit.text().endswith("3") and a.path == "Enhanced"
    panel.noisy_edit.setText(str(noisy))
    # Space pauses (focus in the panel), the slider seeks, the end stops back at 0.
    panel.metrics_table.setFocus()
    qtbot.keyClick(panel.metrics_table, Qt.Key.Key_Space)
    assert a.state == "paused"
    a.seek(2.0)
    assert a.slider.value() == 2000
    qtbot.mouseClick(a.play_button, Qt.MouseButton.LeftButton)
    engine.pump(2)  # the first block fades out where it was, then the jump
    assert engine.player.position_s == pytest.approx(2.0 + 512 / FS, abs=1e-9)
    engine.pump(round(1.5 * FS / 512))
    qtbot.waitUntil(lambda: a.state == "stopped", timeout=3000)
    assert a.play_button.text() == "▶ Play" and a.slider.value() == 0
    qtbot.waitUntil(lambda: a.engine is None, timeout=5000)  # idle: closed
    assert engine.closed


def test_ab_player_without_clean_and_without_audio_offers_save(qtbot, panel, noisy_files,
                                                               tmp_path, dialogs, monkeypatch):
    from workbench.gui.audio import engine as audio_engine

    problem = f"No audio output device (Error querying device -1); {audio_engine.OFFLINE_HINT}"
    monkeypatch.setattr(audio_engine, "output_problem", lambda *a, **k: problem)
    monkeypatch.setattr(audio_engine, "list_output_devices", lambda: [])
    noisy, _ = noisy_files
    _use_file(panel, noisy)
    o = _process(qtbot, panel)
    a = panel.audition
    assert list(a.clip_buttons) == ["Noisy", "Enhanced"]  # no clean reference: no Clean clip
    assert a.problem_box.isVisible() and a.problem_label.text() == problem
    assert not a.play_button.isEnabled() and a.play_button.toolTip() == problem
    assert not a.play() and a.engine is None
    # The offer: save the output instead, through the same atomic Save.
    dialogs.save_path = str(tmp_path / "instead.wav")
    a.save_instead.click()
    y, fs = sf.read(tmp_path / "instead.wav")
    assert fs == FS and np.allclose(y, o.result.output, atol=1e-6)


def test_ab_player_when_the_stream_cannot_start(qtbot, panel, noisy_files, clip_audio):
    noisy, clean = noisy_files
    _use_file(panel, noisy, clean)
    _process(qtbot, panel)
    a = panel.audition
    clip_audio.fail_start = "Cannot open the audio output (Device unavailable)"
    qtbot.mouseClick(a.play_button, Qt.MouseButton.LeftButton)
    assert a.engine is None and a.state == "stopped"
    assert a.problem_box.isVisible() and "Device unavailable" in a.problem_label.text()
    assert not a.play_button.isEnabled()
    # Processing again checks the output anew.
    clip_audio.fail_start = None
    _process(qtbot, panel)
    assert not a.problem_box.isVisible() and a.play_button.isEnabled()
