"""Design ▸ Use Measured Plant… (issue 13, build point 5): the plant indicator, the measured
responses over the simulated ones in the Transfer dock, the design on both plants in the
cancellation plot, a bad plant refused with the scene and the design unchanged, and back to the
simulated plant; Design ▸ Keep Measured Timing Between Drivers (remembered)."""

from sim.transfer import simulate

from .test_gui_design import wait_design


def test_measured_plant_from_menu_to_plots_and_back(make_window, qtbot, dialogs, tmp_path):
    from dsp.plant_files import write_plant_wavs

    w = make_window("design-stereo-2")
    ws, panel = w.design, w.design.panel
    panel.method_combo.setCurrentIndex(panel.method_combo.findData("ctc"))
    wait_design(w, qtbot)
    scene = w.document.scene
    assert panel.plant_label.text() == "simulated" and not panel.simulated_button.isEnabled()
    assert not ws.action_simulated_plant.isEnabled()
    folder = tmp_path / "plant"
    write_plant_wavs(folder, simulate(scene), scene)

    dialogs.open_path = str(folder / "left.wav")  # any WAV of the folder picks the folder
    w.findChild(type(ws.action_simulated_plant), "actionUseMeasuredPlant").trigger()
    o = wait_design(w, qtbot)
    assert o.params.plant is not None and o.params.plant.path == str(folder)
    assert panel.plant_label.text() == "measured: plant, geometry timing"
    # On a 1366 × 768 screen the indicator shows whole and the buttons their whole text.
    w.resize(1366, 768)
    qtbot.wait(50)
    label = panel.plant_label
    assert label.height() >= label.heightForWidth(label.width())
    for button in (panel.plant_button, panel.simulated_button):
        assert button.width() >= button.sizeHint().width(), button.text()
    assert panel.simulated_button.isEnabled()
    assert ws.action_simulated_plant.isEnabled()
    assert "measured plant" in panel.cancel_label.text()
    canc = ws.cancellation_view
    assert {"simulated left", "simulated right"} <= set(canc.curves)
    assert canc.info_label.text().startswith("measured plant:")
    assert w.transfer_view.has_measured()

    # A plant for another device: refused, nothing changes.
    bad = tmp_path / "bad"
    bad.mkdir()
    (folder / "left.wav").rename(bad / "woofer.wav")
    assert not ws.use_plant(bad)
    assert "Measured plant not used" in panel.message_label.text()
    assert "woofer.wav" in w.statusBar().currentMessage()
    assert w.document.scene == scene and ws.controller.params.plant.path == str(folder)

    panel.simulated_button.click()
    o = wait_design(w, qtbot)
    assert o.params.plant is None and o.redesign.simulated is None
    assert panel.plant_label.text() == "simulated" and not ws.action_simulated_plant.isEnabled()
    assert not {"simulated left", "simulated right"} & set(canc.curves)
    assert not w.transfer_view.has_measured()


def test_keep_measured_timing_is_remembered_and_redesigns_the_plant_in_use(
        make_window, qtbot, dialogs, tmp_path):
    from dsp.measured_plant import align
    from dsp.plant_files import write_plant_wavs
    from dsp.plant_timing import PlantTiming
    from workbench.gui.shell.settings import PLANT_TIMING

    w = make_window("design-stereo-2")
    ws, panel = w.design, w.design.panel
    keep = w.findChild(type(ws.action_simulated_plant), "actionKeepMeasuredTiming")
    assert keep is ws.action_plant_timing and not keep.isChecked()
    wait_design(w, qtbot)
    folder = tmp_path / "plant"
    write_plant_wavs(folder, simulate(w.document.scene), w.document.scene)

    keep.trigger()  # chosen before any plant: the next plant is read so
    assert PLANT_TIMING.get() == "measured" and ws.controller.params.plant is None
    dialogs.open_path = str(folder / "left.wav")
    w.findChild(type(keep), "actionUseMeasuredPlant").trigger()
    o = wait_design(w, qtbot)
    assert o.params.plant.timing is PlantTiming.MEASURED
    offsets = align(o.scene, o.params.plant, o.params.listener).offsets_s
    assert offsets.size == 2 and offsets[0] == offsets[1]
    assert panel.plant_label.text() == "measured: plant, measured timing"
    assert "(measured timing)" in w.statusBar().currentMessage()

    keep.trigger()  # off, with the plant in use: the same file, redesigned by geometry
    qtbot.waitUntil(lambda: ws.controller.params.plant.timing is PlantTiming.GEOMETRY)
    o = wait_design(w, qtbot)
    assert o.params.plant.timing is PlantTiming.GEOMETRY and o.params.plant.path == str(folder)
    assert panel.plant_label.text() == "measured: plant, geometry timing"
    assert PLANT_TIMING.get() == "geometry"

    keep.trigger()
    again = make_window("design-stereo-2")
    assert again.design.action_plant_timing.isChecked()
