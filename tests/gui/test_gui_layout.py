"""The window fits a laptop screen (issue 11 item 5): any set of open panels keeps the minimum
size within 1366 x 740 (a 1366 x 768 screen less a taskbar), a saved geometry larger than the
screen opens inside it, View > Reset Layout restores the default docks, empty plots say so
instead of showing axes from nowhere, and opening another scene resets every panel."""

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QSize
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel

from sim import transfer
from sim.scene_io import load_scene, save_scene
from workbench.gui.app import build_window
from workbench.gui.plots.base import NO_DATA, EmptyPlotPlaceholder
from workbench.gui.shell.job_panel import show_line
from workbench.gui.shell.settings import WINDOW_GEOMETRY

from .test_gui_design import wait_design
from .test_gui_dred import _opus_only
from .test_gui_enhance import _use_file, noisy_files  # noqa: F401 (a fixture used here)
from .test_gui_renderer import (  # noqa: F401 (audio_ok: a fixture used here)
    SCENE,
    audio_ok,
    wait_built,
    write_programme,
)
from .test_gui_simulate import fake_result

LAPTOP = QSize(1366, 740)
PANELS = {"design": "actionViewDesign", "renderer": "actionViewRenderer",
          "enhance": "actionViewEnhancement", "dred": "actionViewDred",
          "chain": "actionViewVoiceChain", "sweep": "actionViewSweep"}


def trigger(window, action_id: str) -> None:
    """A menu entry, found by its id and triggered as a click on it would."""
    window.findChild(QAction, action_id).trigger()


def placeholder(plot) -> EmptyPlotPlaceholder:
    return plot.findChild(EmptyPlotPlaceholder)


def wait_default_tabs(window, qtbot) -> None:
    """Until the default layout's tab groups have formed (after the first show)."""
    qtbot.waitUntil(lambda: window.design.filter_dock in
                    window.tabifiedDockWidgets(window.transfer_dock), timeout=5000)


def fits(size: QSize) -> bool:
    return size.width() <= LAPTOP.width() and size.height() <= LAPTOP.height()


@pytest.mark.parametrize("panels", [(), ("design",), ("renderer",), ("enhance",), ("dred",),
                                    ("chain",), ("sweep",), ("renderer", "enhance", "dred"),
                                    ("enhance", "dred", "chain"), tuple(PANELS)])
def test_the_minimum_size_fits_a_laptop_with_any_panels_open(window, qtbot, panels):
    wait_default_tabs(window, qtbot)
    if "design" not in panels:
        trigger(window, PANELS["design"])  # the Design dock starts open: close it
    for name in panels:
        if name != "design":
            trigger(window, PANELS[name])
    docks = {"design": window.design.design_dock, "renderer": window.renderer.dock,
             "enhance": window.enhance.dock, "dred": window.dred.dock,
             "chain": window.chain.dock, "sweep": window.sweep.dock}
    qtbot.waitUntil(lambda: all(docks[n].isVisible() == (n in panels) for n in docks))
    assert fits(window.minimumSizeHint()), window.minimumSizeHint()
    assert fits(window.minimumSize()), window.minimumSize()
    # Smaller than a panel's content, a dock scrolls: the panel keeps its own minimum.
    window.resize(window.minimumSize())
    for name in panels:
        sheet = docks[name].widget().widget()  # the scroll area's: the panel at its size
        qtbot.waitUntil(lambda s=sheet: s.width() >= s.minimumSizeHint().width())


def cut_labels(widget) -> list[str]:
    """The shown labels of `widget` that are narrower (or, wrapped, shorter) than their text."""
    cut = []
    for label in widget.findChildren(QLabel):
        if not label.isVisible() or not label.text():
            continue
        if label.wordWrap():
            short = label.height() < label.heightForWidth(label.width())
        else:
            short = label.width() < label.minimumSizeHint().width()
        if short:
            cut.append(label.text())
    return cut


def test_the_device_editor_and_library_dialogs_fit_a_laptop(window, qtbot):
    from sim.device_library import scan
    from workbench.gui.device.library_dialogs import LibraryDialog, SaveDeviceDialog

    trigger(window, "actionDeviceEditor")
    editor = window.device_tools.editor
    qtbot.waitExposed(editor)
    assert fits(editor.minimumSizeHint()) and fits(editor.minimumSize())
    assert fits(editor.size()), editor.size()
    editor.resize(editor.minimumSize())
    qtbot.wait(50)
    assert cut_labels(editor) == []
    for dialog in (LibraryDialog(scan(), window), SaveDeviceDialog("a device", window)):
        qtbot.addWidget(dialog)
        assert fits(dialog.minimumSizeHint()) and fits(dialog.size())


def test_the_docked_renderer_shows_its_labels_whole(window, qtbot):
    wait_default_tabs(window, qtbot)
    window.resize(LAPTOP)
    for name in ("enhance", "dred", "renderer"):
        trigger(window, PANELS[name])
    panel = window.renderer.panel
    for tab in range(panel.tabs.count()):
        panel.tabs.setCurrentIndex(tab)
        qtbot.waitUntil(lambda: panel.tabs.currentWidget().isVisible())
        qtbot.wait(50)  # the deferred width of a tool panel first shown
        assert cut_labels(panel) == []
        assert panel.device_combo.width() >= panel.device_combo.minimumSizeHint().width()


def test_a_saved_geometry_wider_than_the_screen_opens_within_it(make_window, qtbot,
                                                                tmp_path):
    first = make_window()
    first.resize(3000, 1200)
    qtbot.waitUntil(lambda: first.width() == 3000)
    first.close()  # an unmodified scene: no question, the geometry is saved
    assert WINDOW_GEOMETRY.is_stored()
    second = build_window(recovery_dir=tmp_path / "recovery")
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    available = second.screen().availableGeometry()
    assert available.contains(second.frameGeometry()), (available, second.frameGeometry())


def test_a_fresh_start_fits_the_screen(qtbot, tmp_path):
    w = build_window(recovery_dir=tmp_path / "recovery")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    assert w.screen().availableGeometry().contains(w.frameGeometry())


def test_reset_layout_puts_every_dock_back(window, qtbot):
    wait_default_tabs(window, qtbot)
    design = window.design
    # A user's layout: Properties floating, Transfer closed, Polar tabbed onto the map, the
    # Renderer and DRED open.
    window.properties_dock.setFloating(True)
    trigger(window, "actionViewTransfer")
    window.tabifyDockWidget(design.map_dock, design.polar_dock)
    trigger(window, "actionViewRenderer")
    trigger(window, "actionViewDred")
    assert not window.transfer_dock.isVisible() and window.renderer.dock.isVisible()

    trigger(window, "actionResetLayout")
    wait_default_tabs(window, qtbot)
    assert not window.properties_dock.isFloating() and window.properties_dock.isVisible()
    assert window.tabifiedDockWidgets(window.properties_dock) == [window.history_dock]
    assert set(window.tabifiedDockWidgets(window.transfer_dock)) == {
        design.cancellation_dock, design.filter_dock}
    assert window.tabifiedDockWidgets(design.polar_dock) == []
    for dock in (window.transfer_dock, design.design_dock, design.polar_dock, design.map_dock):
        assert dock.isVisible(), dock.objectName()
    for dock in (window.renderer.dock, window.enhance.dock, window.dred.dock,
                 window.chain.dock):
        assert not dock.isVisible(), dock.objectName()
    qtbot.waitUntil(design.cancellation_view.on_screen)  # the front tab of its group
    # A tool panel opened again joins Transfer's tabs.
    trigger(window, "actionViewDred")
    assert window.dred.dock in window.tabifiedDockWidgets(window.transfer_dock)


def test_an_empty_plot_shows_the_placeholder_until_it_has_data(make_window, qtbot,
                                                               monkeypatch):
    monkeypatch.setattr(transfer, "simulate",
                        lambda scene, engine="freefield", **kw: fake_result(scene))
    window = make_window("design-stereo-2")
    window.transfer_dock.raise_()
    for plot in (window.transfer_view.ir_plot, window.transfer_view.mag_plot):
        qtbot.waitUntil(plot.isVisible)
        ph = placeholder(plot)
        assert ph.isVisible() and ph.text() == NO_DATA
        assert ph.geometry() == plot.rect()  # covers the axes too
    with qtbot.waitSignal(window.runner.done, timeout=10000):
        trigger(window, "actionSimulateFreeField")
    for plot in (window.transfer_view.ir_plot, window.transfer_view.mag_plot):
        qtbot.waitUntil(placeholder(plot).isHidden)
    # A design plot is empty while there is no design (its polar grid is no data): a beam
    # on two drivers is refused.
    ws = window.design
    wait_design(window, qtbot)
    polar = placeholder(ws.polar_view.plot)
    assert polar.isHidden()
    trigger(window, "actionDesignPreset_beam")
    qtbot.waitUntil(lambda: bool(ws.controller.error), timeout=5000)
    assert ws.polar_view.isVisible() and polar.isVisible()


@pytest.mark.usefixtures("audio_ok")
def test_opening_another_scene_resets_every_panel(make_window, qtbot, dialogs, tmp_path,
                                                  request):
    noisy, clean = request.getfixturevalue("noisy_files")
    w = make_window(SCENE)
    # Results in every panel, through the panels' own controls.
    programme = tmp_path / "programme.wav"
    write_programme(programme)
    dialogs.open_path = str(programme)
    trigger(w, "actionOpenAudio")
    wait_built(qtbot, w.renderer.controller)
    assert w.renderer.controller.programme is not None

    trigger(w, "actionViewEnhancement")
    enhance = w.enhance.panel
    _use_file(enhance, noisy, clean)
    with qtbot.waitSignal(enhance.processed, timeout=60000):
        enhance.process_button.click()

    trigger(w, "actionViewDred")
    dred = w.dred.panel
    speech = tmp_path / "speech.wav"
    sf.write(speech, sf.read(clean)[0], 16000)
    _opus_only(dred, speech)
    with qtbot.waitSignal(dred.processed, timeout=60000):
        dred.process_button.click()
    old = wait_design(w, qtbot)

    other = tmp_path / "other.json"
    save_scene(load_scene("design-echo-studio"), other)
    dialogs.open_path = str(other)
    trigger(w, "actionOpen")
    assert w.document.path == other

    c = w.renderer.controller
    assert c.programme is None and c.player is None and c.state == "stopped"
    assert w.renderer.panel.file_label.text().startswith("No programme")
    for panel in (enhance, dred):
        assert panel.outcome is None and panel.audition.clips is None
        assert not panel.save_button.isEnabled() and panel.info_label.text() == ""
    assert enhance.metrics_table.item(0, 0) is None and dred.table.item(0, 0) is None
    w.enhance.show_dock()
    qtbot.waitUntil(lambda: placeholder(enhance.before_plot).isVisible())
    w.dred.show_dock()
    qtbot.waitUntil(lambda: placeholder(dred.wave_plot).isVisible())
    assert not np.any([len(x) for x in dred.clean_curve.getData() if x is not None])
    # The design follows the new scene.
    new = wait_design(w, qtbot)
    assert new is not old and new.scene == w.document.scene


def test_the_docked_voice_chain_fits_a_laptop_and_shows_its_labels_whole(window, qtbot):
    wait_default_tabs(window, qtbot)
    window.resize(LAPTOP)
    trigger(window, PANELS["chain"])
    panel = window.chain.panel
    panel.show_error("talker /a/rather/long/path/to/a/file.wav: no such file")
    show_line(panel.audio_label, "No audio output device (Error querying device -1); the chain "
                                 "runs silently (meters, spectrograms, packets), or use Save Run…")
    qtbot.waitUntil(panel.isVisible)
    sheet = window.chain.dock.widget()
    # The deferred width of a tool panel first shown: then it needs no scrolling.
    qtbot.waitUntil(lambda: panel.minimumSizeHint().width() <= sheet.viewport().width())
    assert panel.minimumSizeHint().height() <= sheet.viewport().height()
    assert cut_labels(panel) == []
