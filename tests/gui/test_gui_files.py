"""Files: modified marker, save-before-close, recent files, autosave and crash recovery, presets,
open errors, themes."""

import json

from PySide6.QtCore import QPoint, QSettings
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

from sim.scene_io import load_scene, save_scene
from workbench.gui.shell import main_window as main_window_module
from workbench.gui.shell.theme import palette

from .gui_helpers import drag, listener_xy

SB = QMessageBox.StandardButton


def nudge_listener(window, qtbot, dx=40, dy=0):
    start = window.view.view_point(*listener_xy(window))
    drag(qtbot, window.view, start, start + QPoint(dx, dy))


def test_modified_marker_and_save_before_close(window, qtbot, dialogs, tmp_path):
    assert not window.isWindowModified()
    nudge_listener(window, qtbot)
    assert window.isWindowModified()
    assert "[*]" in window.windowTitle()

    # Cancel keeps the window open and the edit.
    dialogs.answers["warning"] = SB.Cancel
    assert not window.close()
    assert window.isVisible()
    assert "unsaved changes" in dialogs.texts("warning")[-1]

    # Save asks for a name (new document), writes the file and then closes.
    dialogs.answers["warning"] = SB.Save
    dialogs.save_path = str(tmp_path / "closing")  # no suffix: .json is added
    edited = window.document.scene
    assert window.close()
    assert load_scene(tmp_path / "closing.json") == edited


def test_discard_closes_without_saving(window, qtbot, dialogs):
    nudge_listener(window, qtbot)
    dialogs.answers["warning"] = SB.Discard
    assert window.close()
    assert "save-dialog" not in dialogs.kinds()


def test_unmodified_window_closes_without_asking(window, dialogs):
    assert window.close()
    assert dialogs.calls == []


def test_save_goes_to_current_file_and_recent_menu_lists_it(window, qtbot, dialogs, tmp_path):
    first = tmp_path / "first.json"
    dialogs.save_path = str(first)
    window.action_save.trigger()  # untitled: Save acts as Save As
    assert first.is_file()
    assert window.recent_paths() == [first.resolve()]

    nudge_listener(window, qtbot)
    dialogs.save_path = None  # a second Save must not ask again
    window.action_save.trigger()
    assert load_scene(first) == window.document.scene

    second = tmp_path / "second.json"
    dialogs.save_path = str(second)
    window.action_save_as.trigger()
    assert window.recent_paths() == [second.resolve(), first.resolve()]
    assert next(a.text() for a in window.recent_menu.actions() if a.data()).startswith(
        "&1 second.json")

    # Missing files are pruned, Clear empties the menu.
    first.unlink()
    window.recent_menu.aboutToShow.emit()
    assert window.recent_paths() == [second.resolve()]
    clear = next(a for a in window.recent_menu.actions() if a.objectName() == "actionClearRecent")
    clear.trigger()
    assert window.recent_paths() == []
    assert QSettings().value("file/recent") in ([], None)


def test_open_recent_and_open_dialog(window, qtbot, dialogs, tmp_path):
    path = tmp_path / "studio.json"
    save_scene(load_scene("soundbar-8-studio"), path)
    dialogs.open_path = str(path)
    window.action_open.trigger()
    assert window.document.scene == load_scene(path)
    assert window.document.path == path
    assert window.windowTitle() == "studio[*] — Acoustic Workbench"
    assert len(window.view.listener_items) == 2
    assert window.document.undo_stack.count() == 0

    window.new_from_preset("default")
    action = next(a for a in window.recent_menu.actions() if a.data())
    action.trigger()
    assert window.document.path == path


def test_open_a_bad_file_shows_the_field_and_keeps_the_document(window, dialogs, tmp_path):
    bad = tmp_path / "bad.json"
    data = {"schema_version": 1, "kind": "scene", "room": "living-room",
            "device": {"model": "echo-studio-like", "position": [2.5, 0.5, 1.0]},
            "listeners": [{"name": "l", "position": [7.2, 1.0, 1.0]}]}
    bad.write_text(json.dumps(data))
    before = window.document.scene
    dialogs.open_path = str(bad)
    window.action_open.trigger()
    assert window.document.scene == before
    message = dialogs.texts("critical")[-1]
    assert "listeners[0].position[0] = 7.2 m is outside the room" in message


def test_new_from_preset_loads_that_preset(window, qtbot, dialogs):
    nudge_listener(window, qtbot)
    dialogs.answers["warning"] = SB.Discard
    action = window.findChild(type(window.action_open), "actionPreset_soundbar-8-studio")
    action.trigger()
    assert window.document.scene == load_scene("soundbar-8-studio")
    assert window.document.path is None
    assert not window.isWindowModified()
    assert window.document.undo_stack.count() == 0
    assert len(window.view.listener_items) == 2
    assert window.view.room_item.boundingRect().width() > 6.0  # the studio is 6 m long


def test_autosave_then_restore_in_a_new_window(make_window, qtbot, dialogs, tmp_path,
                                               monkeypatch):
    first = make_window()
    first.AUTOSAVE_MS = 50
    first._autosave_timer.setInterval(50)
    nudge_listener(first, qtbot, 60, 30)
    edited = first.document.scene
    recovery_file = first.recovery.scene_file
    qtbot.waitUntil(recovery_file.is_file, timeout=3000)
    assert load_scene(recovery_file) == edited

    # A "crash": the first window never closes cleanly. A new window offers the copy.
    asked = []

    def answer_yes(parent, leftover):
        asked.append(leftover)
        return True

    monkeypatch.setattr(main_window_module, "ask_restore_recovery", answer_yes)
    second = make_window()
    assert len(asked) == 1 and asked[0].name == "default"
    assert second.document.scene == edited
    assert second.isWindowModified()  # restored work is unsaved work
    assert second.document.path is None

    # Saving cleanly removes the recovery copy.
    dialogs.save_path = str(tmp_path / "restored.json")
    second.action_save.trigger()
    assert not second.recovery.scene_file.exists()
    first.document.undo_stack.setClean()


def test_declined_recovery_is_deleted(make_window, qtbot, monkeypatch, tmp_path):
    first = make_window()
    nudge_listener(first, qtbot)
    first.autosave_now()
    assert first.recovery.exists
    monkeypatch.setattr(main_window_module, "ask_restore_recovery", lambda parent, r: False)
    second = make_window()
    assert second.document.scene == load_scene("default")
    assert not list((tmp_path / "recovery").glob("autosave-*.json"))
    first.document.undo_stack.setClean()


def test_undo_back_to_clean_removes_the_recovery_file(window, qtbot):
    nudge_listener(window, qtbot)
    window.autosave_now()
    assert window.recovery.exists
    window.action_undo.trigger()
    assert not window.isWindowModified()
    assert not window.recovery.exists


def test_theme_switch_changes_palette_and_is_remembered(window):
    app = QApplication.instance()
    dark_window = palette("dark").color(QPalette.ColorRole.Window)
    assert app.palette().color(QPalette.ColorRole.Window) == dark_window
    window.theme_actions["light"].trigger()
    light_window = app.palette().color(QPalette.ColorRole.Window)
    assert light_window != dark_window
    assert light_window.lightness() > 200
    assert QSettings().value("view/theme") == "light"
    assert window.view.colors.room_fill == "#fbfcfd"
    assert window.theme_actions["light"].isChecked()
    window.theme_actions["dark"].trigger()
    assert app.palette().color(QPalette.ColorRole.Window) == dark_window


def test_window_geometry_and_snapping_are_remembered(make_window, qtbot):
    first = make_window()
    first.action_snap.setChecked(False)
    first.resize(1100, 700)
    first.close()
    second = make_window()
    assert not second.action_snap.isChecked()
    assert not second.view.snapping
    assert QSettings().value("window/geometry") is not None


def test_recent_files_keep_ten_without_duplicates(window, tmp_path):
    paths = []
    for i in range(12):
        p = tmp_path / f"s{i}.json"
        p.write_text("{}")
        paths.append(p)
        window.remember_recent(p)
    window.remember_recent(paths[5])  # again: moves to the top, no duplicate
    listed = window.recent_paths()
    assert len(listed) == 10
    assert listed[0] == paths[5].resolve()
    assert len(set(listed)) == 10
    assert paths[0].resolve() not in listed
