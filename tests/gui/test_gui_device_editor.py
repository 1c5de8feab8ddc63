"""The device editor and the device library in the window (issue 13 item 3): add a driver,
make it a 2.5 cm piston aimed 30° (the polar map follows), save the device to the library,
replace the scene's device from the library; every step undone and redone gives identical
scenes; invalid values are refused with the reason and the fields show the model again."""

from dataclasses import dataclass

import numpy as np
import pytest
from conftest import shared_file
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QComboBox

from sim import device_library
from sim.directivity import Directivity, kind_names
from sim.directivity import base as directivity_base
from sim.scene_io import load_device, load_scene
from sim.scene_json import scene_to_dict
from workbench.gui.device import library_dialogs
from workbench.gui.device.library_dialogs import LibraryDialog
from workbench.gui.device.table import KIND_COLUMN

from .test_gui_layout import trigger


@pytest.fixture
def editor(window):
    trigger(window, "actionDeviceEditor")
    ed = window.device_tools.editor
    assert ed is not None and ed.isVisible()
    return ed


def snapshot(window) -> dict:
    return scene_to_dict(window.document.scene)


def type_in_cell(ed, part, column: int, text: str) -> None:
    """What typing `text` into a table cell does (itemChanged)."""
    ed.table.item(ed.table.rows.index(part), column).setText(text)


def type_parameter(ed, name: str, text: str) -> None:
    edit = ed.params.fields[name]
    edit.setText(text)
    edit.setModified(True)
    edit.editingFinished.emit()


def choose_kind(ed, part, kind: str) -> None:
    combo = ed.table.cellWidget(ed.table.rows.index(part), KIND_COLUMN)
    assert isinstance(combo, QComboBox)
    combo.setCurrentText(kind)
    combo.textActivated.emit(kind)


def test_the_device_editor_flow_with_undo_and_redo(window, editor, monkeypatch, dialogs,
                                                   tmp_path):
    ed, stack = editor, window.document.undo_stack
    states = [snapshot(window)]
    n_drivers = len(window.document.scene.device.drivers)

    ed.add_driver_button.click()
    part = ed.selected
    assert part == ("driver", n_drivers) and ed.error == ""
    states.append(snapshot(window))
    omni_cut = ed.polar.cut_db.copy()

    choose_kind(ed, part, "piston")
    states.append(snapshot(window))
    for radius_mm in ("20", "25"):
        type_parameter(ed, "radius_m", radius_mm)
        states.append(snapshot(window))
    type_parameter(ed, "radius_m", "25.0")  # the same value again: no command
    type_in_cell(ed, part, 5, "30")
    states.append(snapshot(window))
    driver = window.document.scene.device.drivers[part[1]]
    assert driver.directivity.kind == "piston" and driver.directivity.radius_m == 0.025
    assert driver.axis_deg == (30.0, 0.0)
    assert ed.params.fields["radius_m"].text() == "25"
    # The polar map follows: off its axis a 2.5 cm piston at 8 kHz is well down from omni,
    # and its peak points at 30°.
    assert ed.polar.cut_db.shape == omni_cut.shape and not np.allclose(ed.polar.cut_db, omni_cut)
    ed.polar.choice_combo.setCurrentIndex(5)  # 8 kHz
    az = ed.polar.outcome.azimuth.azimuths_deg
    assert az[np.argmax(ed.polar.cut_db[0])] == pytest.approx(30.0, abs=1.0)
    assert ed.polar.cut_db[0, np.argmin(np.abs(az + 60.0))] < -10.0

    # Save to the library, then put another device in, then the saved one back.
    monkeypatch.setattr(library_dialogs, "ask_library_name", lambda parent, name: ("mine", "x"))
    ed.save_button.click()
    path = device_library.scan().find("mine").path
    assert load_device(str(path)).drivers == window.document.scene.device.drivers
    library = device_library.scan()
    for name in ("stereo-speaker-2", "mine"):
        choice = next(o for o in device_library.offered(library) if o.name == name)
        monkeypatch.setattr(library_dialogs, "choose_device", lambda parent, lib, c=choice: c)
        trigger(window, "actionReplaceDevice")
        states.append(snapshot(window))
        assert window.document.scene.device.model == name
    assert len(window.document.scene.device.drivers) == n_drivers + 1
    assert window.document.scene.device.drivers[-1] == driver
    assert ed.windowTitle().endswith("mine")  # the editor follows the scene's device
    # Saved and opened again: the same scene.
    dialogs.save_path = str(tmp_path / "edited.json")
    trigger(window, "actionSaveAs")
    assert scene_to_dict(load_scene(tmp_path / "edited.json")) == states[-1]

    assert stack.count() == len(states) - 1
    for k in range(len(states) - 1, 0, -1):
        stack.undo()
        assert snapshot(window) == states[k - 1], f"undo to step {k - 1}"
    for k in range(1, len(states)):
        stack.redo()
        assert snapshot(window) == states[k], f"redo to step {k}"


def test_invalid_values_are_refused_and_the_fields_show_the_model(window, editor):
    ed, stack = editor, window.document.undo_stack
    ed.add_driver_button.click()
    part = ed.selected
    choose_kind(ed, part, "piston")
    before, count = snapshot(window), stack.count()
    first = window.document.scene.device.drivers[0].name
    refusals = [("radius_m", "0", "must be > 0"), ("radius_m", "-3", "must be > 0"),
                ("radius_m", "nan", "finite"), ("radius_m", "wide", "radius")]
    for name, text, reason in refusals:
        type_parameter(ed, name, text)
        assert reason in ed.error and reason in ed.error_label.text()
        assert ed.params.fields[name].text() == "25"
    for column, text, reason, shown in ((1, first, "used twice", "d1"), (2, "nan", "finite", "0"),
                                        (5, "inf", "finite", "0"), (8, "x", "float", "0")):
        type_in_cell(ed, part, column, text)
        assert reason in ed.error
        assert ed.table.item(ed.table.rows.index(part), column).text() == shown
    assert snapshot(window) == before and stack.count() == count
    # A position outside the room (the echo speaker stands on a shelf by a wall).
    type_in_cell(ed, part, 2, "-5000")
    assert "outside the room" in ed.error and snapshot(window) == before
    assert window.statusBar().currentMessage().startswith("Not applied")


def test_too_many_drivers_are_refused_by_the_budget(window, editor, monkeypatch):
    monkeypatch.setenv("AWB_SIM_MEMORY_GB", "1e-6")
    before = snapshot(window)
    assert not editor.add("driver")
    assert "AWB_SIM_MEMORY_GB" in editor.error and snapshot(window) == before


def test_parts_are_dragged_and_aimed_in_both_views(window, editor):
    ed, stack = editor, window.document.undo_stack
    ed.add_mic_button.click()
    part = ed.selected
    assert part[0] == "mic"
    count = stack.count()
    old = window.document.scene.device.microphones[part[1]].position_m
    ed.top_view.drop("part", part, QPointF(-20.4, -10.2))  # y = 20 mm, x = 10 mm
    mic = window.document.scene.device.microphones[part[1]]
    assert mic.position_m == pytest.approx((0.010, 0.020, old[2]))
    ed.front_view.drop("part", part, QPointF(20.0, -35.0))  # y 20 mm, z 35 mm
    assert window.document.scene.device.microphones[part[1]].position_m == pytest.approx(
        (0.010, 0.020, 0.035))
    # The handle dragged to the left of the part in the top view: aimed 90° (to the left).
    at = QPointF(-20.0, -10.0)
    ed.top_view.drop("handle", part, at + QPointF(-40.0, 0.0))
    ed.front_view.drop("handle", part, QPointF(20.0, -35.0) + QPointF(0.0, -20.0))
    assert window.document.scene.device.microphones[part[1]].axis_deg == (90.0, 30.0)
    assert stack.count() == count + 4
    ed.remove_button.click()
    assert len(window.document.scene.device.microphones) == part[1]


def test_a_name_clash_asks_before_replacing(window, monkeypatch, dialogs):
    monkeypatch.setattr(library_dialogs, "ask_library_name", lambda parent, name: ("mine", ""))
    tools = window.device_tools
    first = tools.save_device_as()
    assert first is not None
    text = first.read_text()
    tools.editor = None
    window.document.push(window.document.scene.with_device(
        drivers=window.document.scene.device.drivers[:1]), "fewer drivers")
    assert tools.save_device_as() is None  # the default answer: No
    assert "already holds" in dialogs.texts("question")[-1] and first.read_text() == text
    dialogs.answers["question"] = dialogs.answers["critical"].Yes
    assert tools.save_device_as() == first and len(load_device(str(first)).drivers) == 1
    monkeypatch.setattr(library_dialogs, "ask_library_name",
                        lambda parent, name: ("soundbar-8", ""))
    assert tools.save_device_as() is None
    assert "shipped device preset" in dialogs.texts("critical")[-1]


def test_the_library_dialog_lists_every_device_and_the_corrupt_file(window, qtbot,
                                                                     private_data_dir):
    device_library.save(load_device("soundbar-8"), "mine", "my own")
    (private_data_dir / "devices" / "broken.json").write_text("{")
    dialog = LibraryDialog(device_library.scan(), window)
    qtbot.addWidget(dialog)
    texts = [dialog.device_list.item(i).text() for i in range(dialog.device_list.count())]
    assert texts[-1] == "mine  [library] — my own"
    assert any(t.startswith("soundbar-8 — ") for t in texts)
    assert "broken.json" in dialog.problems_label.text()
    assert dialog.problems_label.text().count("\n") == 0
    dialog.device_list.setCurrentRow(len(texts) - 1)
    assert dialog.chosen().library and dialog.chosen().name == "mine"


def test_a_device_that_does_not_fit_the_room_is_refused(window, dialogs):
    doc = window.document
    doc.push(doc.scene.with_device(position_m=(0.3, 0.5, 1.0), yaw_deg=0.0), "to a corner")
    choice = next(o for o in device_library.offered() if o.name == "reference-stereo-pair")
    before = snapshot(window)  # the pair is 2.5 m wide: 0.5 m from the wall it does not fit
    assert not window.device_tools.replace_device(choice)
    assert "outside the room" in dialogs.texts("critical")[-1] and snapshot(window) == before


def test_a_mouse_drag_moves_a_part_as_one_command(window, editor, qtbot):
    ed, stack = editor, window.document.undo_stack
    ed.add_mic_button.click()
    part, count = ed.selected, stack.count()
    canvas = ed.top_view
    old = window.document.scene.device.microphones[part[1]].position_m
    start = canvas.mapFromScene(canvas.markers[part].pos())
    end = canvas.mapFromScene(canvas.markers[part].pos() + QPointF(-30.0, 0.0))  # +30 mm y
    qtbot.mousePress(canvas.viewport(), Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 6):
        qtbot.mouseMove(canvas.viewport(), start + (end - start) * k / 5)
    qtbot.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, pos=end)
    new = window.document.scene.device.microphones[part[1]].position_m
    assert stack.count() == count + 1
    assert new[1] - old[1] == pytest.approx(0.030, abs=0.003) and new[0] == pytest.approx(old[0])


@dataclass(frozen=True)
class Beam(Directivity):
    """A kind the editor has never heard of: a cos^n beam of `width_deg` (its own reader and
    writer), to show that a kind registered anywhere is offered with its parameters."""

    kind = "toy-beam"
    width_deg: float = 60.0

    def response(self, freqs_hz, frame, directions, c, fs_hz):
        cos_t = np.clip(directions @ frame[:, 0], 0.0, 1.0)
        n = np.log(0.5) / np.log(np.cos(np.radians(self.width_deg / 2)))
        return np.broadcast_to((cos_t ** n)[..., None], cos_t.shape + np.shape(freqs_hz))

    def pra_pattern(self, axis):
        return None

    @classmethod
    def read(cls, reader):
        return cls(width_deg=reader.number("width_deg", 1.0, 180.0, "deg"))

    def write(self, rel):
        return {"width_deg": self.width_deg}


def test_a_newly_registered_kind_is_offered_with_its_parameters(window, editor, monkeypatch):
    monkeypatch.setitem(directivity_base._KINDS, Beam.kind, Beam)
    ed = editor
    ed.add_driver_button.click()
    part = ed.selected
    combo = ed.table.cellWidget(ed.table.rows.index(part), KIND_COLUMN)
    assert [combo.itemText(i) for i in range(combo.count())] == list(kind_names())
    assert Beam.kind in kind_names()
    choose_kind(ed, part, Beam.kind)
    assert window.document.scene.device.drivers[part[1]].directivity == Beam()
    type_parameter(ed, "width_deg", "40")
    assert window.document.scene.device.drivers[part[1]].directivity == Beam(40.0)
    type_parameter(ed, "width_deg", "400")
    assert "width_deg = 400" in ed.error and ed.params.fields["width_deg"].text() == "40"
    cut = ed.polar.cut_db[0]
    assert cut.max() == pytest.approx(0.0, abs=1e-6) and cut[np.argmin(np.abs(
        ed.polar.outcome.azimuth.azimuths_deg - 20.0))] == pytest.approx(-6.02, abs=0.05)


def test_a_measured_kind_asks_for_its_file_first(window, editor, dialogs):
    ed = editor
    ed.add_driver_button.click()
    part, before = ed.selected, snapshot(window)
    dialogs.open_path = ""  # cancelled: nothing changes
    choose_kind(ed, part, "sofa")
    assert snapshot(window) == before
    assert ed.table.cellWidget(ed.table.rows.index(part), KIND_COLUMN).currentText() == "omni"
    dialogs.open_path = str(shared_file("hrtf/FHK_HRIR_L2354.sofa"))
    choose_kind(ed, part, "sofa")
    d = window.document.scene.device.drivers[part[1]].directivity
    assert d.kind == "sofa" and d.file == dialogs.open_path
    assert set(ed.params.fields) == {"file", "receiver"} and set(ed.params.browse_buttons) == {
        "file"}
    assert ed.polar.outcome is not None and np.isfinite(ed.polar.cut_db).all()


def test_undo_redo_and_delete_keys_work_in_the_editor(window, editor, qtbot):
    ed, stack = editor, window.document.undo_stack
    before = snapshot(window)
    ed.add_driver_button.click()
    added = snapshot(window)
    ed.table.setFocus()
    qtbot.keyClick(ed.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert snapshot(window) == before
    qtbot.keyClick(ed.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert snapshot(window) == added
    ed.select(("driver", len(window.document.scene.device.drivers) - 1))
    qtbot.keyClick(ed.table, Qt.Key.Key_Delete)
    assert snapshot(window) == before and stack.count() == 2


def test_the_polar_map_saves_as_a_figure(editor, tmp_path):
    path = editor.polar.save_figure(tmp_path / "driver.png")
    assert path.stat().st_size > 1000
