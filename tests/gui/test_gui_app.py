"""Application start: arguments, the initial scene, a bad file, PortAudio, a Qt-free package."""

import subprocess
import sys

import pytest

from sim.scene_io import load_scene, save_scene
from workbench.gui import app
from workbench.gui.audio import portaudio as audio


def test_version_and_help_need_no_qt(capsys):
    with pytest.raises(SystemExit) as e:
        app.parse_args(["--version"])
    assert e.value.code == 0
    assert "acoustic-workbench" in capsys.readouterr().out
    args = app.parse_args(["studio.json", "--theme", "light"])
    assert (args.scene, args.theme) == ("studio.json", "light")


def test_package_top_level_is_qt_free():
    code = ("import sys, workbench, workbench.gui.audio.portaudio, workbench.gui.scene.edits; "
            "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_starts_on_default_or_given_file_or_preset(make_window, tmp_path):
    assert make_window().document.scene == load_scene("default")
    w = make_window("design-echo-studio")
    assert w.document.scene == load_scene("design-echo-studio")
    assert w.document.path is None
    assert w.view.room_item.label.isVisible() is False  # free field: grid only
    path = tmp_path / "mine.json"
    save_scene(load_scene("reference-pair-living-room"), path)
    w = make_window(str(path))
    assert w.document.path == path
    assert w.windowTitle() == "mine[*] — Acoustic Workbench"
    assert w.recent_paths() == [path.resolve()]


def test_bad_file_shows_the_error_and_falls_back_to_default(make_window, dialogs, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"schema_version": 1, "kind": "scene", "room": "living-room"}')
    w = make_window(str(bad))
    assert w.document.scene == load_scene("default")
    assert w.document.path is None
    text = next(c[2] for c in dialogs.calls if c[0] == "critical")
    assert "device is missing" in text and "default scene instead" in text


def test_missing_portaudio_is_reported_and_the_app_still_starts(make_window, monkeypatch,
                                                                caplog):
    def no_portaudio():
        raise OSError("PortAudio library not found")

    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails with ImportError
    assert "sounddevice" in audio.portaudio_problem()
    monkeypatch.delitem(sys.modules, "sounddevice")
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "sounddevice":
            no_portaudio()
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    assert audio.portaudio_problem() == audio.PORTAUDIO_MISSING
    with caplog.at_level("WARNING"):
        w = make_window()
    assert w.isVisible()
    assert w.audio_label.isVisible()
    assert w.audio_label.toolTip() == ("Audio playback unavailable: PortAudio not found "
                                       "(install libportaudio2)")
    assert any("PortAudio not found (install libportaudio2)" in r.message for r in caplog.records)
