"""Issue 13's user flow from nothing, in one window: File ▸ New Empty Room; a device from the
library; two listeners, a talker with a browsed signal and a noise source; the device editor
adds a driver and makes it a 2.5 cm piston aimed 30°; the device saved to the library; the scene
saved and opened again is the same scene. Every step undone and redone walks through identical
scenes; Delete removes; a self-intersecting floor edit is refused."""

from __future__ import annotations

import numpy as np

from dsp.audio_io import write_audio
from sim import device_library
from sim.scene_json import scene_to_dict
from workbench.gui.device import library_dialogs

from .gui_helpers import drag
from .test_gui_device_editor import choose_kind, type_in_cell, type_parameter
from .test_gui_layout import trigger
from .test_gui_scene_editing import choose, menu_action, right_click_menu


def test_a_users_own_scene_from_nothing(window, qtbot, dialogs, monkeypatch, tmp_path):
    doc = window.document
    signal = tmp_path / "voice.wav"
    write_audio(signal, 0.3 * np.sin(2 * np.pi * 300 * np.arange(16000) / 16000)[:, None], 16000)
    window.action_new_empty_room.trigger()
    states = [scene_to_dict(doc.scene)]

    def step() -> None:  # each user step is exactly one undo command
        states.append(scene_to_dict(doc.scene))
        assert doc.undo_stack.count() == len(states) - 1

    # A device from the library (shipped and user devices are offered together).
    choice = next(o for o in device_library.offered(device_library.scan())
                  if o.name == "stereo-speaker-2")
    monkeypatch.setattr(library_dialogs, "choose_device", lambda parent, lib: choice)
    trigger(window, "actionReplaceDevice")
    step()
    assert doc.scene.device.model == "stereo-speaker-2"
    # Two listeners, a talker with a browsed signal, a noise source.
    menu_action(right_click_menu(window, 2.5, 3.0), "Add Listener Here").trigger()
    step()
    menu_action(right_click_menu(window, 1.5, 3.2), "Add Listener Here").trigger()
    step()
    menu_action(right_click_menu(window, 1.0, 1.5), "Add Talker Here").trigger()
    step()
    dialogs.open_path = str(signal)
    window.properties.signal_browser.button.click()
    step()
    menu_action(right_click_menu(window, 4.0, 3.0), "Add Noise Source Here").trigger()
    step()
    assert [li.name for li in doc.scene.listeners] == ["listener", "listener-2"]
    assert [(s.kind, s.signal) for s in doc.scene.sources] == [
        ("talker", str(signal)), ("noise", "builtin:pink-noise")]
    # The device editor: a new driver, a 2.5 cm piston aimed 30°.
    trigger(window, "actionDeviceEditor")
    ed = window.device_tools.editor
    ed.add_driver_button.click()
    step()
    part = ed.selected
    choose_kind(ed, part, "piston")
    step()
    if doc.scene.device.drivers[part[1]].directivity.radius_m != 0.025:  # not the default
        type_parameter(ed, "radius_m", "25")
        step()
    type_in_cell(ed, part, 5, "30")
    step()
    driver = doc.scene.device.drivers[part[1]]
    assert (driver.directivity.kind, driver.directivity.radius_m, driver.axis_deg) == (
        "piston", 0.025, (30.0, 0.0))
    # Saved to the library: there, and offered beside the presets.
    monkeypatch.setattr(library_dialogs, "ask_library_name", lambda parent, name: ("my-bar", ""))
    ed.save_button.click()
    saved = device_library.scan().find("my-bar")
    assert saved is not None and saved.device.drivers == doc.scene.device.drivers
    assert "my-bar" in [o.name for o in device_library.offered(device_library.scan())]
    # Delete removes (the second listener, from its right-click menu).
    menu_action(right_click_menu(window, 1.5, 3.2), "Delete").trigger()
    step()
    assert [li.name for li in doc.scene.listeners] == ["listener"]
    # A floor edit that makes the polygon cross itself is refused; the scene stays.
    window.view.select(("room", 0))
    choose(window.properties, "room_type", "polygon")
    step()
    before = doc.scene
    view = window.view
    drag(qtbot, view, view.view_point(5.0, 4.0), view.view_point(-1.0, 2.0), steps=1)
    assert doc.scene == before and "edges must not cross" in window.statusBar().currentMessage()

    # Every step undone and redone gives identical scenes.
    assert doc.undo_stack.count() == len(states) - 1
    for k in range(len(states) - 1, 0, -1):
        window.action_undo.trigger()
        assert scene_to_dict(doc.scene) == states[k - 1], f"undo to step {k - 1}"
    for k in range(1, len(states)):
        window.action_redo.trigger()
        assert scene_to_dict(doc.scene) == states[k], f"redo to step {k}"
    # Saved and opened again: the same scene.
    path = tmp_path / "mine.json"
    dialogs.save_path = str(path)
    trigger(window, "actionSaveAs")
    dialogs.open_path = str(path)
    window.new_from_preset("default")
    window.action_open.trigger()
    assert scene_to_dict(doc.scene) == states[-1]
