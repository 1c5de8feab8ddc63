"""Scene editor: rotate, snap, clamp at walls, zoom, pan, nudge, selection and status bar."""

import math

import pytest
from PySide6.QtCore import QPoint, Qt

from workbench.gui.scene import edits

from .gui_helpers import drag, listener_xy, wheel


def test_wheel_over_listener_rotates_in_one_undo_step(window, qtbot):
    original = window.document.scene
    yaw0 = original.listeners[0].yaw_deg
    pos = window.view.view_point(*listener_xy(window))
    for _ in range(3):
        wheel(window.view, pos, 1)
    assert window.document.scene.listeners[0].yaw_deg == pytest.approx(yaw0 + 15.0)
    assert window.document.scene.listeners[0].position_m == original.listeners[0].position_m
    assert window.document.undo_stack.count() == 1
    window.document.undo_stack.undo()
    assert window.document.scene == original


def test_shift_wheel_rotates_selected_device_and_zoom_elsewhere(window, qtbot):
    view = window.view
    view.select(("device", 0))
    yaw0 = window.document.scene.device.yaw_deg
    empty = view.view_point(4.6, 0.4)  # a corner of the room, nothing there
    wheel(view, empty, -2, Qt.KeyboardModifier.ShiftModifier)
    assert window.document.scene.device.yaw_deg == pytest.approx(yaw0 - 10.0)
    scale = view.px_per_m
    wheel(view, empty, 2)  # plain wheel over empty floor zooms
    assert view.px_per_m > scale
    assert window.document.scene.device.yaw_deg == pytest.approx(yaw0 - 10.0)
    window.action_fit.trigger()
    assert view.px_per_m == pytest.approx(scale, rel=1e-6)


def test_rotation_handle_drag_sets_yaw_snapped(window, qtbot):
    view = window.view
    view.select(("listener", 0))
    handle = view.handle_view_point(("listener", 0))
    assert handle is not None
    cx, cy = listener_xy(window)
    # Drag the handle to a point 37° counter-clockwise from +x of the head centre.
    target = view.view_point(cx + 0.5 * math.cos(math.radians(37)),
                             cy + 0.5 * math.sin(math.radians(37)))
    drag(qtbot, view, handle, target)
    yaw = window.document.scene.listeners[0].yaw_deg
    assert yaw == pytest.approx(35.0)  # snapping: 5° steps
    assert window.document.undo_stack.count() == 1
    window.action_undo.trigger()
    assert window.document.scene.listeners[0].yaw_deg == -90.0


def test_snapping_puts_dragged_items_on_the_5cm_grid(window, qtbot):
    assert window.action_snap.isChecked()  # on by default
    view = window.view
    for key, start_xy in ((("listener", 0), listener_xy(window)),
                          (("source", 0), window.document.scene.sources[0].position_m[:2])):
        start = view.view_point(*start_xy)
        drag(qtbot, view, start, start + QPoint(37, -23))
        x, y, _ = edits.position_of(window.document.scene, key)
        for v in (x, y):
            assert abs(v / 0.05 - round(v / 0.05)) < 1e-6, (key, v)
        assert (x, y) != tuple(start_xy)


def test_drag_out_of_room_is_clamped_with_a_message(window, qtbot):
    view = window.view
    messages = []
    view.message.connect(messages.append)
    start = view.view_point(*listener_xy(window))
    outside = view.view_point(7.5, 3.0)  # 2.5 m beyond the east wall (x = 5)
    drag(qtbot, view, start, outside)
    scene = window.document.scene
    x = scene.listeners[0].position_m[0]
    assert scene.room.contains(scene.listeners[0].position_m)
    assert 4.9 <= x <= 5.0
    assert messages and "outside the room" in messages[-1]
    assert "Kept" in window.statusBar().currentMessage()


def test_cannot_drag_listener_into_the_device(window, qtbot):
    view = window.view
    window.action_snap.setChecked(False)
    start = view.view_point(*listener_xy(window))
    dev = window.document.scene.device.position_m
    drag(qtbot, view, start, view.view_point(dev[0], dev[1]))
    scene = window.document.scene
    edits_err = edits.placement_error(scene)
    assert edits_err is None
    x, y, _ = scene.listeners[0].position_m
    assert math.hypot(x - dev[0], y - dev[1]) > 0.09  # stopped in front of the device


def test_middle_drag_pans_and_status_bar_shows_cursor_and_selection(window, qtbot):
    view = window.view
    centre = view.viewport().rect().center()
    before = view.mapToScene(centre)
    drag(qtbot, view, centre, centre + QPoint(100, 0), button=Qt.MouseButton.MiddleButton)
    after = view.mapToScene(centre)
    assert after.x() == pytest.approx(before.x() - 100 / view.px_per_m, abs=0.02)
    assert window.document.undo_stack.count() == 0  # panning is not an edit

    qtbot.mouseMove(view.viewport(), pos=view.view_point(1.0, 2.0))
    numbers = [float(v) for v in window.cursor_label.text().split() if v[0].isdigit()]
    assert numbers == pytest.approx([1.0, 2.0], abs=2 / view.px_per_m)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.view_point(*listener_xy(window)))
    assert view.selected_key == ("listener", 0)
    assert "x 2.500" in window.selection_label.text()
    assert "yaw -90.0" in window.selection_label.text()
    # Clicking the floor selects the room; outside it, nothing.
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.view_point(4.0, 1.0))
    assert view.selected_key == ("room", 0)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.view_point(-0.3, 1.0))
    assert view.selected_key is None


def test_arrow_keys_nudge_selected_item(window, qtbot):
    view = window.view
    view.select(("source", 1))
    x0, y0, _ = window.document.scene.sources[1].position_m
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Left)
    qtbot.keyClick(view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    x1, y1, _ = window.document.scene.sources[1].position_m
    assert x1 == pytest.approx(x0 - 0.05)
    assert y1 == pytest.approx(y0 - 0.5)


def test_view_follows_the_model_on_undo(window, qtbot):
    """Items are redrawn from the model: after undo the listener item is back in place."""
    view = window.view
    item = view.item_for(("listener", 0))
    x0, y0 = listener_xy(window)
    start = view.view_point(x0, y0)
    drag(qtbot, view, start, start + QPoint(50, 0))
    assert item.pos().x() == pytest.approx(listener_xy(window)[0])
    window.action_undo.trigger()
    assert (item.pos().x(), item.pos().y()) == pytest.approx((x0, y0))


def test_space_drag_pans_instead_of_moving(window, qtbot):
    view = window.view
    start = view.view_point(*listener_xy(window))
    before = view.mapToScene(view.viewport().rect().center())
    view.setFocus()
    qtbot.keyPress(view, Qt.Key.Key_Space)
    drag(qtbot, view, start, start + QPoint(0, 60))
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    after = view.mapToScene(view.viewport().rect().center())
    assert window.document.undo_stack.count() == 0  # the listener did not move
    assert after.y() == pytest.approx(before.y() + 60 / view.px_per_m, abs=0.02)
