"""Properties panel: typed edits go through undo; invalid values are refused and shown."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLineEdit

from .gui_helpers import listener_xy


def type_into(qtbot, widget, text: str) -> None:
    """Select the field's text, type `text`, press Enter (what a user does)."""
    line = widget.lineEdit() if isinstance(widget, (QDoubleSpinBox, QComboBox)) else widget
    widget.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def test_clicking_a_listener_shows_its_properties(window, qtbot):
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.view.view_point(*listener_xy(window)))
    panel = window.properties
    assert panel.key == ("listener", 0)
    assert panel.fields["x"].widget.value() == pytest.approx(2.5)
    assert panel.fields["yaw"].widget.value() == pytest.approx(-90.0)
    assert panel.fields["head_radius"].widget.value() == pytest.approx(0.0875)
    assert "Listener" in panel.title.text()


def test_edit_position_then_undo(window, qtbot):
    window.view.select(("listener", 0))
    panel = window.properties
    original = window.document.scene
    type_into(qtbot, panel.fields["x"].widget, "3.25")
    assert window.document.scene.listeners[0].position_m == (3.25, 3.0, 1.0)
    assert window.isWindowModified()
    type_into(qtbot, panel.fields["yaw"].widget, "-60")
    assert window.document.scene.listeners[0].yaw_deg == -60.0
    assert window.document.undo_stack.count() == 2
    window.action_undo.trigger()
    window.action_undo.trigger()
    assert window.document.scene == original
    assert panel.fields["x"].widget.value() == pytest.approx(2.5)  # the panel follows the model


def test_out_of_room_value_is_refused_with_a_message(window, qtbot):
    window.view.select(("listener", 0))
    panel = window.properties
    original = window.document.scene
    spin = panel.fields["x"].widget
    type_into(qtbot, spin, "7.2")
    assert window.document.scene == original
    assert window.document.undo_stack.count() == 0
    error = panel.field_error("x")
    assert error and "outside the room" in error and "listeners[0].position" in error
    assert panel.error_label.isVisible() and "outside the room" in panel.error_label.text()
    assert spin.property("invalid") is True
    # The field shows the model's value again (a refused value left there would read as
    # applied), marked, with the reason beside it.
    assert spin.value() == pytest.approx(2.5)
    assert "Not applied" in window.statusBar().currentMessage()
    # A valid value clears the mark and applies.
    type_into(qtbot, spin, "4.5")
    assert window.document.scene.listeners[0].position_m[0] == 4.5
    assert panel.field_error("x") is None
    assert spin.property("invalid") is False
    assert not panel.error_label.isVisible()


def test_room_dimension_that_would_exclude_items_is_refused(window, qtbot):
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.view.view_point(4.0, 1.0))
    panel = window.properties
    assert panel.key == ("room", 0)
    type_into(qtbot, panel.fields["lx"].widget, "3")  # the noise source is at x = 4.4
    assert window.document.scene.room.dimensions_m == (5.0, 4.0, 2.7)
    assert "outside the room" in panel.field_error("lx")
    type_into(qtbot, panel.fields["lx"].widget, "6")
    assert window.document.scene.room.dimensions_m == (6.0, 4.0, 2.7)
    # The room outline is redrawn from the model.
    assert window.view.room_item.boundingRect().width() == pytest.approx(6.1)
    type_into(qtbot, panel.fields["rt60"].widget, "0.01")  # shorter than the room can reach
    assert window.document.scene.room.walls.rt60_s == 0.4
    assert "rt60" in panel.field_error("rt60")


def test_source_kind_level_and_name(window, qtbot):
    window.view.select(("source", 0))
    panel = window.properties
    kind = panel.fields["kind"].widget
    kind.setCurrentIndex(kind.findText("noise"))
    kind.activated.emit(kind.currentIndex())
    assert window.document.scene.sources[0].kind == "noise"
    type_into(qtbot, panel.fields["level_db"].widget, "72.5")
    assert window.document.scene.sources[0].level_db == 72.5
    name = panel.fields["name"].widget
    assert isinstance(name, QLineEdit)
    type_into(qtbot, name, "tv-noise")  # taken by the other source
    assert window.document.scene.sources[0].name == "talker"
    assert "used twice" in panel.field_error("name")
    type_into(qtbot, name, "host")
    assert window.document.scene.sources[0].name == "host"
    assert window.document.undo_stack.count() == 3


def test_scene_fields_when_nothing_is_selected(window, qtbot):
    window.view.select(None)
    panel = window.properties
    assert panel.key is None
    type_into(qtbot, panel.fields["early_ms"].widget, "80")
    assert window.document.scene.simulation.early_ms == 80.0
    window.action_undo.trigger()
    assert window.document.scene.simulation.early_ms == 50.0
