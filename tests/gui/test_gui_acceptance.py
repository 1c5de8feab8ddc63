"""Acceptance: open on the default scene, drag a listener with the mouse, undo, save as, reload."""

from PySide6.QtCore import QPoint, Qt

from sim.scene_io import load_scene

from .gui_helpers import drag, listener_xy


def test_drag_listener_undo_save_as_reload(window, qtbot, dialogs, tmp_path):
    original = window.document.scene
    assert original == load_scene("default")
    assert window.windowTitle() == "default[*] — Acoustic Workbench"
    assert not window.isWindowModified()
    window.action_snap.setChecked(False)  # measure the drag itself, not the grid

    # Drag the listener 120 px right and 80 px down with real mouse events.
    x0, y0 = listener_xy(window)
    start = window.view.view_point(x0, y0)
    end = start + QPoint(120, 80)
    drag(qtbot, window.view, start, end)

    scale = window.view.px_per_m
    x1, y1 = listener_xy(window)
    assert abs((x1 - x0) - 120 / scale) < 0.02
    assert abs((y1 - y0) - (-80 / scale)) < 0.02  # screen down is room -y
    assert window.document.scene.listeners[0].position_m[2] == original.listeners[0].position_m[2]
    assert window.view.selected_key == ("listener", 0)
    assert window.isWindowModified()
    # One drag, one undo step.
    assert window.document.undo_stack.count() == 1
    assert window.action_undo.text().startswith("&Undo Move listener")

    # Ctrl+Z on the editor, as a user would.
    window.activateWindow()
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.scene == original
    assert not window.isWindowModified()

    window.action_redo.trigger()
    moved = window.document.scene
    assert moved != original
    window.action_undo.trigger()
    assert window.document.scene == original

    # Move it again, then Save As into tmp_path through the (monkeypatched) file dialog.
    drag(qtbot, window.view, start, start + QPoint(-60, 40))
    edited = window.document.scene
    assert edited != original
    target = tmp_path / "edited-scene.json"
    dialogs.save_path = str(target)
    window.action_save_as.trigger()
    assert target.is_file()
    assert window.document.path == target
    assert window.windowTitle() == "edited-scene[*] — Acoustic Workbench"
    assert not window.isWindowModified()

    reloaded = load_scene(target)
    assert reloaded == window.document.scene == edited
