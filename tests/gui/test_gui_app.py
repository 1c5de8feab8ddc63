"""Application start: arguments, the initial scene, a bad file, PortAudio, a Qt-free package;
the settings declared in one module; the menus and the toolbar built from one registry."""

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from sim.scene_io import load_scene, save_scene
from workbench.gui import app
from workbench.gui.audio import portaudio as audio
from workbench.gui.shell import settings


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


def _write(path, content):
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return str(path)


BAD_REFS = {
    "a field missing": (lambda d: _write(d / "broken.json", '{"schema_version": 1, "kind": '
                                         '"scene", "room": "living-room"}'), "device is missing"),
    "no such file": (lambda d: str(d / "nowhere.json"), "neither a file nor a scene preset"),
    "a folder": (lambda d: str(d), "neither a file nor a scene preset"),
    "garbage bytes": (lambda d: _write(d / "garbage.json", bytes(range(256)) * 8), "UTF-8"),
    "nested 100k deep": (lambda d: _write(d / "deep.json", "[" * 100_000 + "]" * 100_000),
                         "levels deep"),
    "an integer of 5000 digits": (lambda d: _write(d / "big.json", "9" * 5000), "digits"),
    "a NUL in the name": (lambda d: str(d / "a\0b.json"), "Cannot open"),
}


@pytest.mark.parametrize("bad", BAD_REFS)
def test_bad_file_shows_the_error_and_falls_back_to_default(bad, make_window, monkeypatch,
                                                            tmp_path, caplog):
    shown = []
    monkeypatch.setattr(app, "show_error", lambda parent, title, text: shown.append(text))
    make_ref, reason = BAD_REFS[bad]
    w = make_window(make_ref(tmp_path))
    assert w.document.scene == load_scene("default")
    assert w.document.path is None
    assert len(shown) == 1 and reason in shown[0] and "default scene instead" in shown[0]
    assert "default scene instead" in w.statusBar().currentMessage()
    assert any("cannot open" in r.message for r in caplog.records)


@pytest.mark.parametrize("error", [OSError(5, "Input/output error"), MemoryError(),
                                   RecursionError("maximum recursion depth exceeded")])
def test_any_load_error_of_the_scene_argument_opens_the_default(error, make_window,
                                                                monkeypatch, tmp_path):
    """Not only the one-line SceneError: whatever loading a file raises, start-up goes on."""
    import sim.scene_io

    shown = []
    monkeypatch.setattr(app, "show_error", lambda parent, title, text: shown.append(text))
    load = sim.scene_io.load_scene

    def failing(ref):
        if ref != "default":
            raise error
        return load(ref)

    monkeypatch.setattr(sim.scene_io, "load_scene", failing)
    w = make_window(_write(tmp_path / "s.json", "{}"))
    assert w.document.scene == load_scene("default")
    assert type(error).__name__ in shown[0]


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


def test_every_setting_is_declared_once_and_read_through_the_settings_module():
    declared = [v for v in vars(settings).values() if isinstance(v, settings.Setting)]
    keys = [s.key for s in declared]
    assert len(keys) == len(set(keys)) and "window/geometry" in keys
    gui = Path(app.__file__).parent
    others = sorted(str(p.relative_to(gui)) for p in gui.rglob("*.py")
                    if p.name != "settings.py" and "QSettings(" in p.read_text())
    assert others == []


def test_settings_read_back_typed_and_fall_back_on_bad_values():
    store = QSettings()
    for key, raw in (("view/snap", "false"), ("renderer/block", "256"), ("file/recent", "/a.json"),
                     ("design/method", "no-such-method"), ("renderer/renderPaths", "X,Q,A"),
                     ("design/autoRedesign", "maybe")):
        store.setValue(key, raw)
    assert settings.SNAP.get() is False
    assert settings.RENDERER_BLOCK.get() == 256
    assert settings.RECENT_FILES.get() == ("/a.json",)
    assert settings.DESIGN_METHOD.get() == "ctc"  # not a method: the default
    assert settings.RENDER_PATHS.get() == ("X", "A")  # unknown paths dropped
    assert settings.AUTO_REDESIGN.get() is True
    settings.RENDER_PATHS.set(("B",))
    assert store.value("renderer/renderPaths") == "B"
    assert not settings.WINDOW_STATE.is_stored() and settings.WINDOW_STATE.get() is None


# id: (text, first shortcut) of every command the menus had before the registry
COMMANDS = {
    "actionNew": ("&New", "Ctrl+N"), "actionOpen": ("&Open…", "Ctrl+O"),
    "actionSave": ("&Save", "Ctrl+S"), "actionSaveAs": ("Save &As…", "Ctrl+Shift+S"),
    "actionQuit": ("&Quit", "Ctrl+Q"), "actionUndo": ("&Undo", "Ctrl+Z"),
    "actionRedo": ("&Redo", "Ctrl+Y"), "actionSnap": ("&Snap to Grid (5 cm, 5°)", "Ctrl+G"),
    "actionFit": ("&Fit to Room", "Ctrl+0"), "actionZoomIn": ("Zoom &In", "Ctrl++"),
    "actionZoomOut": ("Zoom &Out", "Ctrl+-"), "actionTheme_dark": ("&Dark", ""),
    "actionTheme_light": ("&Light", ""), "actionSimulateFreeField": ("&Free Field", "F5"),
    "actionSimulateRoom": ("&Room (full)", "Ctrl+F5"),
    "actionSimulateRoomEarly": ("Room (&early only)", "Shift+F5"),
    "actionStop": ("&Stop", "Ctrl+."), "actionMouseHelp": ("&Mouse and Keys", "F1"),
    "actionAbout": ("&About Acoustic Workbench", ""),
    "actionZoneOverlay": ("Listening &Zone Overlay", "Ctrl+L"),
    "actionRedesign": ("&Redesign", "F6"), "actionAutoRedesign": ("&Automatic Redesign", ""),
    "actionExportFilters": ("&Export Filters…", "Ctrl+E"),
    "actionSaveZoneFigure": ("Save &Zone Map Figure…", ""),
    "actionDesignPreset_ctc_robust": ("CTC, robust ±5 cm", ""),
    "actionOpenAudio": ("&Open Audio File…", "Ctrl+Shift+O"),
    "actionPlayPause": ("&Play", "Space"), "actionStopAudio": ("&Stop", "Shift+Space"),
    "actionPathA": ("Listen to &A: plain stereo through the device", "1"),
    "actionPathB": ("Listen to &B: spatial renderer through the device", "2"),
    "actionPathX": ("Listen to &X: reference stereo pair (the target)", "3"),
    "actionRenderFiles": ("&Render to Files…", "Ctrl+Shift+R"),
    "actionRebuildPaths": ("Re&build Paths", ""), "actionRescanDevices": ("Rescan &Devices", ""),
    "actionViewRenderer": ("Renderer", ""), "actionViewEnhancement": ("Enhancement", ""),
    "actionViewDred": ("DRED", ""), "actionViewSweep": ("Sweep", ""),
    "actionResetLayout": ("&Reset Layout", ""),
    "actionPreset_soundbar-8-studio": ("soundbar-8-studio", ""),
}


def _menu_actions(menu) -> list:
    found = []
    for action in menu.actions():
        if action.menu() is not None:
            if action.menu().objectName() != "menuRecent":  # rebuilt from the recent files
                found += _menu_actions(action.menu())
        elif not action.isSeparator():
            found.append(action)
    return found


def test_menus_and_toolbar_are_built_from_the_registry(window):
    registered = {spec.id: s.qactions[spec.id] for s in window.registry.sets
                  for spec in s.specs}
    in_menus = [a for m in window.menuBar().actions() for a in _menu_actions(m.menu())]
    ids = [a.objectName() for a in in_menus]
    assert len(ids) == len(set(ids))  # each command once
    assert all(registered.get(a.objectName()) is a for a in in_menus)
    assert all(registered.get(a.objectName()) is a
               for a in window.toolbar.actions() if not a.isSeparator())
    for action_id, (text, key) in COMMANDS.items():
        action = registered[action_id]
        assert action.text() == text, action_id
        assert action.shortcut().toString() == key, action_id
    assert registered["actionPathA"].shortcuts()[1].toString() == "A"


def test_a_window_deleted_before_its_first_event_loop_turn_leaves_no_error(qtbot, tmp_path):
    # Start-up work deferred to the first turn of the event loop (the renderer's audio report)
    # must die with the window: a script or a test that builds a window and deletes it at once
    # hit "Internal C++ object already deleted" there.
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    w = app.build_window(recovery_dir=tmp_path / "recovery")
    w.close()
    w.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    with qtbot.captureExceptions() as errors:
        QApplication.processEvents()
    assert not errors, errors
