"""The DRED panel (issue #6 item 11): settings through the widgets, Process in the background,
lost packets shaded by how each was filled (counted as the run counts them), the comparison
table, Save, Cancel, refused settings that keep the previous result, the scene's talker as
the source, A/B playback of the clips, the theme.

Runs that need no trained weights (DRED and the neural PLC off: Opus, LBRR and Opus PLC) run
everywhere; the run with DRED and the neural PLC needs assets/dred/*.npz and skips without."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt

from dsp.dred.receiver import SOURCES
from dsp.signals import speech_like
from workbench.gui.dred import panel as dred_panel
from workbench.jobs.dred import PACKET_S

from .fake_audio import fake_audio
from .gui_helpers import (
    assert_save_refused,
    cancel_panel_job,
    cell_text,
    check_view_menu_dock,
    run_panel_job,
)

TIMEOUT_MS = 60000
ASSETS = Path(__file__).resolve().parents[2] / "assets" / "dred"


@pytest.fixture
def speech(tmp_path):
    """3 s of speech-like stereo at 48 kHz (the chain takes a 16 kHz mono mix)."""
    fs = 48000
    s = 0.2 * speech_like(fs, 3.0, seed=4)
    path = tmp_path / "speech.wav"
    sf.write(path, np.stack([s, 0.9 * s], 1), fs, subtype="PCM_24")
    return path


@pytest.fixture
def panel(window):
    window.dred.show_dock()
    return window.dred.panel


def _process(qtbot, panel):
    outcome = run_panel_job(qtbot, panel, TIMEOUT_MS)
    assert not panel.error_label.isVisible(), panel.error_label.text()
    return outcome


def _opus_only(panel, path, loss="ge:0.3,4", seed=3):
    """Settings through the widgets: a file, 16 kb/s, LBRR, no DRED, Opus PLC."""
    panel.radio_file.setChecked(True)
    panel.file_edit.setText(str(path))
    panel.bitrate_spin.setValue(16)
    panel.lbrr_check.setChecked(True)
    panel.dred_check.setChecked(False)
    panel.plc_check.setChecked(False)
    panel.loss_combo.setCurrentText(loss)
    panel.seed_spin.setValue(seed)


def _cell(panel, key, col):
    return cell_text(panel.table, [r[0] for r in dred_panel.ROWS].index(key), col)


def _shaded_packets(bars):
    """Packets under one BarGraphItem (every bar is a whole number of 20 ms packets)."""
    widths = np.asarray(bars.opts["width"], dtype=float)
    return round(float(np.sum(widths)) / PACKET_S)


def test_dock_is_in_view_menu_hidden_at_first_and_follows_the_theme(window):
    from workbench.gui.shell.theme import scene_colors

    check_view_menu_dock(window, window.dred, "actionViewDred")
    panel = window.dred.panel
    window.set_theme("light")
    light = scene_colors("light")
    assert panel.colors == light and panel.audition.colors == light
    assert panel.wave_plot.backgroundBrush().color().name() == light.plot_background
    window.set_theme("dark")
    assert panel.wave_plot.backgroundBrush().color().name() == scene_colors(
        "dark").plot_background


def test_opus_run_shading_counts_table_and_save(qtbot, panel, speech, tmp_path, dialogs):
    _opus_only(panel, speech)
    assert not panel.depth_spin.isEnabled() and not panel.save_button.isEnabled()
    o = _process(qtbot, panel)
    run = o.run
    assert run.settings.bitrate == 16000 and run.settings.lbrr and not run.settings.dred
    assert run.settings.loss_perc == 30  # "from the loss model"
    assert o.baseline is run  # DRED and neural PLC off: the chosen settings are the baseline
    lost = int(np.count_nonzero(run.lost))
    assert lost > 10 and run.counters["lbrr"] > 0 and run.counters["opus_plc"] > 0
    # Every lost packet is shaded once, in the colour of how it was filled, and the legend
    # gives the run's counts.
    shaded = {name: _shaded_packets(bars) for name, bars in panel.shading.items()}
    assert shaded == {n: run.counters[n] for n in dred_panel.FILLED if run.counters[n]}
    assert sum(shaded.values()) == lost
    assert set(panel.spec_shading) == set(panel.shading)
    legend = panel.legend_label.text().replace("&nbsp;", " ")
    for name, count in shaded.items():
        assert f"{dred_panel.FILL_LABELS[name]} {count}" in legend
    # A shaded span sits where its packets' audio is: the first LBRR-filled packet.
    k = int(np.flatnonzero(run.lost & (run.sources == SOURCES.index("lbrr")))[0])
    starts = np.asarray(panel.shading["lbrr"].opts["x0"])
    assert np.min(np.abs(starts - (320 * k - o.lookahead) / 16000)) < 1e-9
    # The table: scores against the clean input, rates and counts, for both columns.
    from dsp.percepnet.metrics import pesq_wb

    assert o.metrics["run"]["pesq_wb"] == pytest.approx(pesq_wb(run.clean16, run.decoded))
    for col in (0, 1):
        assert _cell(panel, "pesq_wb", col) == f"{o.metrics['run']['pesq_wb']:.2f}"
        assert _cell(panel, "lost", col) == str(lost)
        assert _cell(panel, "opus_plc", col) == str(run.counters["opus_plc"])
        assert _cell(panel, "kbps_total", col) == f"{run.kbps['total']:.1f}"
    assert 12.0 < run.kbps["total"] < 22.0
    assert list(panel.audition.clip_buttons) == ["Clean", "Opus LBRR+PLC"]
    # Save Output: the decoded speech, 16 kHz float WAV, written atomically.
    dialogs.save_path = str(tmp_path / "decoded.wav")
    panel.save_button.click()
    y, fs = sf.read(tmp_path / "decoded.wav")
    assert fs == 16000 and np.allclose(y, run.decoded, atol=1e-6)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".decoded.wav")] == []
    assert_save_refused(panel, dialogs, speech)  # never over the file it was made from


def test_bad_settings_are_refused_and_keep_the_previous_result(qtbot, panel, speech, tmp_path):
    _opus_only(panel, speech)
    o = _process(qtbot, panel)
    table = [_cell(panel, "pesq_wb", c) for c in (0, 1)]
    # (every refusal's wording: tests/test_jobs_dred.py)
    for spec in ("ge:0.2", f"trace:{tmp_path / 'missing.txt'}"):
        panel.loss_combo.setCurrentText(spec)
        assert not panel.process(), spec
        text = panel.error_label.text()
        assert panel.error_label.isVisible() and text.startswith("Loss model:")
        assert "\n" not in text
        assert panel.outcome is o and not panel.runner.is_running
        assert [_cell(panel, "pesq_wb", c) for c in (0, 1)] == table
    # A trace file that is not 0/1 lines names the line.
    bad = tmp_path / "trace.txt"
    bad.write_text("0\n1\nx\n")
    panel.loss_combo.setCurrentText(f"trace:{bad}")
    assert not panel.process()
    assert "line 3" in panel.error_label.text()
    # A good trace runs: its loss rate is what the encoder expects.
    bad.write_text("0\n1\n1\n0\n" * 20)
    o2 = _process(qtbot, panel)
    assert o2 is not o and o2.run.settings.loss_perc == 50
    np.testing.assert_array_equal(o2.run.lost[:8], [0, 1, 1, 0, 0, 1, 1, 0])
    panel.file_edit.setText("")
    assert not panel.process() and "Choose a speech file" in panel.error_label.text()
    # A missing file is found by the job: one line, and the previous result stays.
    panel.file_edit.setText(str(tmp_path / "nothing.wav"))
    assert panel.process()
    qtbot.waitUntil(lambda: not panel.runner.is_running, timeout=TIMEOUT_MS)
    assert "no such file" in panel.error_label.text() and panel.outcome is o2


def test_cancel_keeps_the_previous_result(qtbot, panel, speech):
    _opus_only(panel, speech)
    o = _process(qtbot, panel)
    cancel_panel_job(qtbot, panel, TIMEOUT_MS)
    assert panel.outcome is o
    assert "Cancelled" in panel.error_label.text()
    assert panel.process_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_scene_talker_at_a_microphone(qtbot, panel):
    """The scene's choices reach the request; the job's own test sends it."""
    scene = panel.document.scene
    assert panel.mic_combo.count() == len(scene.device.microphones) > 0
    assert panel.talker_combo.count() >= 1
    panel.radio_scene.setChecked(True)
    assert panel.scene_widgets.isEnabled() and not panel.file_widgets.isEnabled()
    panel.engine_combo.setCurrentIndex(panel.engine_combo.findData("room"))
    panel.mic_combo.setCurrentIndex(1)
    panel.seconds_spin.setValue(2.0)
    panel.dred_check.setChecked(False)
    panel.plc_check.setChecked(False)
    panel.loss_combo.setCurrentText("bernoulli:0.2")
    r = panel.request()
    assert (r.source, r.scene, r.engine, r.mic, r.seconds) == ("scene", scene, "room", 1, 2.0)
    assert scene.sources[r.talker].kind == "talker" and r.loss == "bernoulli:0.2"
    assert not (r.settings.dred or r.settings.neural_plc) and r.settings.loss_perc == 20


def test_ab_playback_of_clean_and_decoded(qtbot, window, panel, speech, monkeypatch):
    from workbench.gui.audio.clip_audition import ClipAudition

    FakeEngine = fake_audio(monkeypatch, ClipAudition)
    _opus_only(panel, speech)
    o = _process(qtbot, panel)
    a = panel.audition
    assert a.path == "Opus LBRR+PLC" and a.play_button.isEnabled()
    qtbot.mouseClick(a.play_button, Qt.MouseButton.LeftButton)
    engine = FakeEngine.instances[-1]
    window.activateWindow()
    qtbot.waitActive(window)
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_1)
    engine.pump(20)
    assert engine.player.selected == "Clean" and a.clip_buttons["Clean"].isChecked()
    # What plays is the clip itself (no loudness matching between codecs), after the limiter.
    y = np.concatenate([engine.player.next_block() for _ in range(4)])
    lat = engine.player.limiter.latency
    pos = engine.player.transport.position - 4 * 512
    np.testing.assert_allclose(y[lat:, 0], o.run.clean16[pos:pos + 4 * 512 - lat], atol=1e-6)


@pytest.mark.skipif(not all((ASSETS / f).is_file() for f in ("rdovae.npz", "vocoder.npz",
                                                              "plc.npz")),
                    reason="DRED weights not trained yet (assets/dred/*.npz)")
def test_dred_against_the_opus_baseline(qtbot, panel, speech):
    panel.radio_file.setChecked(True)
    panel.file_edit.setText(str(speech))
    panel.dred_check.setChecked(True)
    panel.plc_check.setChecked(True)
    panel.depth_spin.setValue(400)
    panel.loss_combo.setCurrentText("ge:0.3,6")
    panel.seed_spin.setValue(1)
    o = _process(qtbot, panel)  # (the two runs themselves: tests/test_jobs_dred.py)
    run = o.run
    assert run.settings.dred and run.settings.dred_ms == 400 and run.counters["dred"] > 0
    shaded = {name: _shaded_packets(bars) for name, bars in panel.shading.items()}
    assert shaded == {n: run.counters[n] for n in dred_panel.FILLED if run.counters[n]}
    assert _cell(panel, "dred", 1) == str(run.counters["dred"]) and _cell(panel, "dred", 0) == "0"
    assert _cell(panel, "pesq_wb", 0) == f"{o.metrics['baseline']['pesq_wb']:.2f}"
    assert _cell(panel, "pesq_wb", 1) == f"{o.metrics['run']['pesq_wb']:.2f}"
    assert list(panel.audition.clip_buttons) == ["Clean", "Opus LBRR+PLC", "DRED"]
    assert panel.audition.path == "DRED"
