"""The Enhancement panel: file and scene inputs, toggles, metrics, errors, cancel, save."""

import numpy as np
import pytest
import soundfile as sf

from dsp.percepnet.audio_io import mix_at_snr
from dsp.signals import pink_noise, speech_like

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
    with qtbot.waitSignal(panel.runner.done, timeout=TIMEOUT_MS):
        assert panel.process()
    return panel.outcome


def _use_file(panel, noisy, clean=None):
    panel.radio_file.setChecked(True)
    panel.noisy_edit.setText(str(noisy))
    panel.clean_edit.setText(str(clean) if clean else "")


def _cell(panel, row, col):
    item = panel.metrics_table.item(row, col)
    return item.text() if item else ""


def test_dock_is_in_view_menu(window):
    menus = [a.menu() for a in window.menuBar().actions() if a.menu()]
    names = [a.objectName() for m in menus for a in m.actions()]
    assert "actionViewEnhancement" in names
    assert not window.enhance.dock.isVisible()
    window.enhance.show_dock()
    assert window.enhance.dock.isVisible()


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


def test_toggles_change_the_output(qtbot, panel, noisy_files):
    noisy, clean = noisy_files
    _use_file(panel, noisy, clean)
    base = _process(qtbot, panel).result.output
    outputs = {}
    for name in ("comb_check", "postfilter_check", "oracle_check"):
        check = getattr(panel, name)
        check.setChecked(not check.isChecked())
        outputs[name] = _process(qtbot, panel).result.output
        check.setChecked(not check.isChecked())
        assert not np.allclose(outputs[name], base), name
    panel.int8_check.setChecked(True)
    assert not np.array_equal(_process(qtbot, panel).result.output, base)  # tiny, but not 0
    panel.int8_check.setChecked(False)
    panel.oracle_check.setChecked(True)
    o = _process(qtbot, panel)
    assert "oracle" in panel.after_plot.plotItem.titleLabel.text
    assert o.metrics_enhanced["pesq_wb"] > o.metrics_noisy["pesq_wb"]


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
    scene = panel.document.scene
    assert panel.mic_combo.count() == len(scene.device.microphones) > 0
    assert panel.talker_combo.count() >= 1 and panel.noise_list.count() >= 1
    panel.radio_scene.setChecked(True)
    panel.engine_combo.setCurrentIndex(panel.engine_combo.findData("freefield"))
    panel.mic_combo.setCurrentIndex(1)
    panel.seconds_spin.setValue(2.0)
    o = _process(qtbot, panel)
    assert not panel.error_label.isVisible(), panel.error_label.text()
    assert o.fs_hz == 16000 and o.noisy.shape == (32000,)
    assert o.clean is not None and np.std(o.noisy - o.clean) > 0  # noise was mixed in
    assert "mic2" in o.label and "freefield" in o.label
    assert o.metrics_enhanced is not None


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
    with qtbot.waitSignal(panel.runner.cancelled, timeout=TIMEOUT_MS):
        assert panel.process()
        assert panel.cancel_button.isEnabled() and not panel.process_button.isEnabled()
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: not panel.runner.is_running, timeout=TIMEOUT_MS)
    assert panel.outcome is None
    assert panel.info_label.text() == "Cancelled."
    assert panel.process_button.isEnabled() and not panel.cancel_button.isEnabled()
