"""Building a scene in the editor as a user does: an empty room filled from the Edit menu and
right-click menus, Delete and Duplicate, a browsed signal; the room's type, walls, corners and
materials; the RT60 table before and after a room simulation. Every step is one undo command,
and undoing and redoing them all walks through identical scenes."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from dsp.audio_io import write_audio
from sim.scene_json import scene_to_dict

from .gui_helpers import drag


def menu_action(menu, text: str):
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def right_click_menu(window, x_m: float, y_m: float):
    return window.scene_editor.context_menu(window.view.view_point(x_m, y_m))


def choose(panel, name: str, text: str) -> None:
    """Pick `text` in the panel's combo box `name`, as a click in its list does."""
    combo = panel.fields[name].widget
    combo.setCurrentIndex(combo.findText(text))
    combo.activated.emit(combo.currentIndex())


@pytest.fixture
def signal_wav(tmp_path):
    fs = 16000
    t = np.arange(fs) / fs
    x = 0.5 * np.sin(2 * np.pi * 440 * t)  # RMS −9.0 dBFS, peak −6.0 dBFS
    path = tmp_path / "voice.wav"
    write_audio(path, x[:, None], fs)
    return path


def test_a_scene_built_from_an_empty_room_undoes_and_redoes_step_by_step(
        window, qtbot, dialogs, signal_wav):
    doc = window.document
    window.action_new_empty_room.trigger()
    assert doc.scene.listeners == () and doc.scene.sources == ()
    assert doc.undo_stack.count() == 0
    states = [scene_to_dict(doc.scene)]

    def step():
        states.append(scene_to_dict(doc.scene))
        assert doc.undo_stack.count() == len(states) - 1  # each step one undo command

    window.view.centerOn(2.5, 3.0)
    window.registry["actionAddListener"].trigger()  # at the view's centre
    step()
    assert window.view.selected_key == ("listener", 0)
    menu_action(right_click_menu(window, 1.5, 3.2), "Add Listener Here").trigger()
    step()
    assert doc.scene.listeners[1].name == "listener-2"
    assert doc.scene.listeners[1].position_m[:2] == pytest.approx((1.5, 3.2), abs=0.03)
    menu_action(right_click_menu(window, 1.0, 1.5), "Add Talker Here").trigger()
    step()
    panel = window.properties
    assert panel.key == ("source", 0)
    dialogs.open_path = str(signal_wav)
    panel.signal_browser.button.click()
    step()
    assert doc.scene.sources[0].signal == str(signal_wav)
    assert "RMS -9.0 dBFS, peak -6.0 dBFS" in panel.signal_browser.level.text()
    menu_action(right_click_menu(window, 4.0, 3.0), "Add Noise Source Here").trigger()
    step()
    assert [s.kind for s in doc.scene.sources] == ["talker", "noise"]
    # Duplicate the second listener (Ctrl+D), delete the first one (its right-click menu).
    window.view.select(("listener", 1))
    window.action_duplicate.trigger()
    step()
    assert [li.name for li in doc.scene.listeners] == ["listener", "listener-2", "listener-3"]
    menu = right_click_menu(window, *doc.scene.listeners[0].position_m[:2])
    menu_action(menu, "Delete").trigger()
    step()
    assert [li.name for li in doc.scene.listeners] == ["listener-2", "listener-3"]
    # The Del key deletes the selection.
    window.view.select(("source", 1))
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    step()
    assert [s.name for s in doc.scene.sources] == ["talker"]

    for i in range(len(states) - 1, 0, -1):
        window.action_undo.trigger()
        assert scene_to_dict(doc.scene) == states[i - 1], f"undo to step {i - 1}"
    for i in range(1, len(states)):
        window.action_redo.trigger()
        assert scene_to_dict(doc.scene) == states[i], f"redo to step {i}"


def test_refused_placements_say_why_and_change_nothing(window, qtbot, tmp_path):
    doc = window.document
    before = doc.scene
    assert not window.scene_editor.add("listener", (7.0, 2.0))  # outside the 5 × 4 m room
    assert doc.scene == before and doc.undo_stack.count() == 0
    assert "outside the room" in window.statusBar().currentMessage()
    window.view.select(("device", 0))
    assert not window.action_delete.isEnabled()
    assert not window.scene_editor.delete()
    assert "exactly one" in window.statusBar().currentMessage()
    # A signal file that cannot be read: one line, the scene unchanged.
    window.view.select(("source", 0))
    bad = tmp_path / "noise.wav"
    bad.write_bytes(b"RIFF not really")
    assert not window.properties.signal_browser.browse(str(bad))
    message = window.statusBar().currentMessage()
    assert message.startswith("Not applied: Signal not changed:") and "noise.wav" in message
    assert "\n" not in message
    assert doc.scene == before
    assert window.properties.fields["signal"].widget.currentText() == \
        "builtin:speech-shaped-noise"


def test_room_type_switches_and_undo(window, qtbot):
    doc = window.document
    window.view.select(("room", 0))
    panel = window.properties
    choose(panel, "room_type", "polygon")
    assert doc.scene.room.kind == "polygon" and len(doc.scene.room.floor_m) == 4
    assert "height" in panel.fields and "lx" not in panel.fields  # the page was rebuilt
    choose(panel, "room_type", "anechoic")
    assert doc.scene.room.is_anechoic and "rt60" not in panel.fields
    choose(panel, "room_type", "shoebox")
    assert doc.scene.room.dimensions_m == (5.0, 4.0, 2.7)
    assert doc.undo_stack.count() == 3
    for _ in range(3):
        window.action_undo.trigger()
    assert doc.scene.room.kind == "shoebox" and doc.undo_stack.index() == 0


def test_dragging_a_shoebox_wall_resizes_the_room_and_refits_the_view(window, qtbot):
    doc = window.document
    view = window.view
    scale = view.px_per_m
    drag(qtbot, view, view.view_point(5.0, 2.0), view.view_point(6.0, 2.0))
    assert doc.scene.room.dimensions_m == (6.0, 4.0, 2.7)
    assert doc.undo_stack.count() == 1
    assert view.px_per_m < scale  # refitted to the larger room
    # The west wall: the room grows to the left, everything keeps its place to the east wall.
    listener_x = doc.scene.listeners[0].position_m[0]
    drag(qtbot, view, view.view_point(0.0, 2.0), view.view_point(-1.0, 2.0))
    assert doc.scene.room.dimensions_m == (7.0, 4.0, 2.7)
    assert doc.scene.listeners[0].position_m[0] == pytest.approx(listener_x + 1.0)
    assert doc.undo_stack.count() == 2
    # A wall dragged over an item is refused with the reason.
    drag(qtbot, view, view.view_point(7.0, 2.0), view.view_point(4.0, 2.0))
    assert doc.scene.room.dimensions_m[0] > 5.0
    assert "outside the room" in window.statusBar().currentMessage()


def test_polygon_corners_dragged_inserted_deleted_and_crossing_refused(window, qtbot):
    doc = window.document
    view = window.view
    window.action_new_empty_room.trigger()
    window.view.select(("room", 0))
    choose(window.properties, "room_type", "polygon")
    assert doc.scene.room.floor_m == ((0.0, 0.0), (5.0, 0.0), (5.0, 4.0), (0.0, 4.0))
    drag(qtbot, view, view.view_point(5.0, 4.0), view.view_point(5.5, 4.5))
    assert doc.scene.room.floor_m[2] == (5.5, 4.5)
    assert doc.undo_stack.count() == 2  # the type switch and the whole drag
    # Double-click the north wall: a corner there.
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton,
                      pos=view.view_point(2.0, 4.2))
    floor = doc.scene.room.floor_m
    assert len(floor) == 5 and floor[3] == pytest.approx((2.0, 4.2), abs=0.03)
    assert "floor" in window.properties._infos  # the room page shows the new corner count
    # Drag the new corner across the south wall: refused, the floor stays as it was.
    before = doc.scene.room.floor_m
    drag(qtbot, view, view.view_point(*floor[3]), view.view_point(6.0, 2.0), steps=1)
    assert doc.scene.room.floor_m == before
    assert "edges must not cross" in window.statusBar().currentMessage()
    # Right-click the corner: Delete Corner.
    corner = doc.scene.room.floor_m[3]
    menu = right_click_menu(window, *corner)
    menu_action(menu, "Delete Corner").trigger()
    assert len(doc.scene.room.floor_m) == 4
    # Undo walks back to the rectangle.
    while doc.undo_stack.canUndo():
        window.action_undo.trigger()
    assert doc.scene.room.kind == "shoebox"


def test_materials_and_the_rt60_readout(make_window, qtbot):
    window = make_window("reference-pair-living-room")
    doc = window.document
    window.view.select(("room", 0))
    panel = window.properties
    table = panel.rt60_table
    rows = table.rows()
    assert [r[0] for r in rows] == ["125 Hz", "250 Hz", "500 Hz", "1 kHz", "2 kHz", "4 kHz",
                                    "8 kHz"]
    assert rows[3][1:] == ["0.40 s", "0.35 s", "—", "—"]  # Sabine = the target; no sim yet
    # A full room simulation fills EDT and T30.
    with qtbot.waitSignal(window.runner.done, timeout=120000):
        assert window.simulate("room")
    rows = panel.rt60_table.rows()
    for band in range(1, 6):  # 250 Hz … 4 kHz: T30 within 15 % of Sabine's estimate
        sabine, t30 = (float(rows[band][c].split()[0]) for c in (1, 4))
        assert abs(sabine / t30 - 1) < 0.15, rows[band]
    # One material everywhere: the estimate follows the material's coefficients.
    choose(panel, "walls_mode", "one material")  # the nearest to the target's absorption
    assert doc.scene.room.walls.material == "carpet_soft_10mm"
    choose(panel, "material", "carpet_cotton")
    assert doc.scene.room.walls.material == "carpet_cotton"
    rows = panel.rt60_table.rows()
    assert rows[0][1] != rows[4][1]  # carpet absorbs far more at 2 kHz than at 125 Hz
    assert rows[3][3] == "—"  # the simulation was of another room
    # Per-surface materials: the floor alone changed.
    choose(panel, "walls_mode", "material per surface")
    choose(panel, "material_floor", "linoleum_on_concrete")
    walls = dict(doc.scene.room.walls.materials)
    assert walls["floor"] == "linoleum_on_concrete" and walls["ceiling"] == "carpet_cotton"
    # Octave-band coefficients typed in; a wrong count is refused, the field shows the model.
    choose(panel, "walls_mode", "octave-band absorption")
    line = panel.fields["absorption"].widget
    current = line.text()
    line.setText("0.1, 0.2")
    line.editingFinished.emit()
    assert "give 6 coefficients" in window.statusBar().currentMessage()
    assert line.text() == current
    line.setText("0.1, 0.1, 0.1, 0.1, 0.1, 0.1")
    line.editingFinished.emit()
    assert doc.scene.room.walls.absorption == (0.1,) * 6
    # 24 ln10 · 54 / (343 · (88.6 · 0.1 + 4 · 0.001 · 54)): walls and the air at 1 kHz
    assert panel.rt60_table.rows()[3][1] == "0.96 s"
    assert doc.undo_stack.count() == 6  # the refused coefficients left no step


def test_context_menus_of_items(window, qtbot):
    doc = window.document
    menu = right_click_menu(window, *doc.scene.listeners[0].position_m[:2])
    texts = [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]
    assert texts == ["Delete", "Duplicate", "Properties…"]
    menu_action(menu, "Duplicate").trigger()
    assert len(doc.scene.listeners) == 2 and window.view.selected_key == ("listener", 1)
    menu = right_click_menu(window, *doc.scene.device.position_m[:2])
    assert not menu_action(menu, "Delete").isEnabled()
    window.properties_dock.hide()
    menu_action(menu, "Properties…").trigger()
    assert window.properties_dock.isVisible() and window.properties.key == ("device", 0)
    empty = right_click_menu(window, 0.6, 3.5)
    assert [a.text() for a in empty.actions() if not a.isSeparator()][:3] == [
        "Add Listener Here", "Add Talker Here", "Add Noise Source Here"]


def test_edit_and_file_menus(window):
    edit = window.registry.menus["edit"]
    texts = [a.text().replace("&", "") if not a.isSeparator() else "|" for a in edit.actions()]
    assert texts[2:] == ["|", "Add Listener", "Add Talker", "Add Noise Source", "|", "Delete",
                         "Duplicate", "|", "Device Editor…"]
    assert window.action_delete.shortcut().toString() == "Del"
    assert window.action_duplicate.shortcut().toString() == "Ctrl+D"
    window.view.select(None)
    assert not window.action_delete.isEnabled() and not window.action_duplicate.isEnabled()
    window.view.select(("listener", 0))
    assert window.action_delete.isEnabled() and window.action_duplicate.isEnabled()
    file_menu = window.registry.menus["file"]
    assert [a.objectName() for a in file_menu.actions()][:2] == ["actionNew",
                                                                 "actionNewEmptyRoom"]
