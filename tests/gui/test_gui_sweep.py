"""The Sweep panel on its own: run a small sweep off the GUI thread, see its plots and cases,
load a case as the scene, refuse a bad range, cancel and resume."""

from __future__ import annotations

import pytest

from sim.scene_io import load_scene
from workbench.gui.sweep.panel import SweepPanel


@pytest.fixture
def panel(qtbot, tmp_path):
    p = SweepPanel()
    qtbot.addWidget(p)
    p.set_scene(load_scene("default"))
    p.where_combo.setCurrentText("serial")
    p.folder_edit.setText(str(tmp_path / "results.parquet"))
    return p


def test_run_shows_results_and_a_clicked_case_becomes_the_scene(panel, qtbot):
    panel.add_parameter("listeners[0].position[0]", "grid", 2.0, 3.0, 3)
    panel.add_parameter("listeners[0].position[1]", "grid", 2.8, 3.0, 2)
    assert not panel.cancel_button.isEnabled()
    finished = []
    panel.sweep_finished.connect(finished.append)
    with qtbot.waitSignal(panel.runner.done, timeout=60000):
        assert panel.run()
        assert panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
    assert len(finished) == 1, panel.status_label.text()
    view = finished[0]
    assert view.outcome.n_computed == 6 and view.outcome.n_failed == 0
    assert panel.case_table.rowCount() == 6
    assert set(panel.percentile_plot.curves) == {"cancellation_db", "ild_error_db"}
    assert len(panel.floor_plot.points.data) == 6

    case = int(panel.case_table.item(2, 0).text())
    with qtbot.waitSignal(panel.scene_requested) as got:
        panel.case_table.cellClicked.emit(2, 0)
    wanted = panel.case_values(case)
    assert got.args[0].listeners[0].position_m[:2] == pytest.approx(
        (wanted["listeners[0].position[0]"], wanted["listeners[0].position[1]"]))

    # A floor-map click loads the worst case at that position.
    x, y = view.floor.x_m[0], view.floor.y_m[0]
    with qtbot.waitSignal(panel.scene_requested) as got:
        panel.floor_plot.position_clicked.emit(x, y)
    assert got.args[0].listeners[0].position_m[:2] == pytest.approx((x, y))


def test_an_empty_range_is_refused_with_its_field(panel, tmp_path):
    panel.add_parameter("listeners[0].head_radius", "uniform", 0.09, 0.08, 4)
    assert not panel.run()
    assert "empty range" in panel.status_label.text()
    assert 'vary["listeners[0].head_radius"]' in panel.status_label.text()
    assert not (tmp_path / "results.parquet").exists()


def test_cancel_keeps_finished_cases_and_run_resumes(panel, qtbot, tmp_path):
    panel.add_parameter("listeners[0].head_radius", "uniform", 0.08, 0.095, 400)
    # Cancel at the third case's progress, as a user would click (on the GUI thread).
    seen = []

    def on_progress(fraction, _message):
        seen.append(fraction)
        if len(seen) == 3:
            panel.cancel_button.click()

    panel.runner.progress.connect(on_progress)
    with qtbot.waitSignal(panel.runner.done, timeout=60000):
        assert panel.run()
    panel.runner.progress.disconnect(on_progress)
    assert "cancelled" in panel.status_label.text()
    assert panel.run_button.isEnabled()
    assert any((tmp_path / "results.parquet").glob("part-*.parquet"))
    panel.table.cellWidget(0, 4).setValue(5)  # fewer cases: a new spec, a new folder
    panel.folder_edit.setText(str(tmp_path / "small.parquet"))
    finished = []
    panel.sweep_finished.connect(finished.append)
    for _ in range(2):
        with qtbot.waitSignal(panel.runner.done, timeout=60000):
            assert panel.run()
    assert [(v.outcome.n_resumed, v.outcome.n_computed) for v in finished] == [(0, 5), (5, 0)]


def test_in_the_window_a_clicked_case_is_one_undoable_edit_and_open_resets_the_panel(window,
                                                                                      qtbot):
    from dataclasses import replace

    from PySide6.QtGui import QAction

    window.findChild(QAction, "actionViewSweep").trigger()
    panel, doc = window.sweep.panel, window.document
    qtbot.waitUntil(window.sweep.dock.isVisible)
    before = doc.scene
    moved = replace(before, listeners=(replace(before.listeners[0], position_m=(
        before.listeners[0].position_m[0] + 0.2, *before.listeners[0].position_m[1:])),
        *before.listeners[1:]))
    panel.scene_requested.emit(moved)
    assert doc.scene == moved and panel.scene == moved
    doc.undo_stack.undo()
    assert doc.scene == before and panel.scene == before
    window.new_from_preset("design-stereo-2")
    assert panel.scene.name == doc.scene.name and panel.view is None


def test_the_floor_map_is_a_toggleable_editor_overlay_cleared_by_a_new_shape_or_sweep(
        window, qtbot, tmp_path):
    from dataclasses import replace

    import numpy as np
    from PySide6.QtGui import QAction

    from dsp.sweep.summary import floor_raster

    panel, doc, ov = window.sweep.panel, window.document, window.sweep_overlay
    overlay, toggle = ov.overlay, window.findChild(QAction, "actionSweepOverlay")
    window.findChild(QAction, "actionViewSweep").trigger()
    assert toggle.isChecked() and overlay.values_db is None and not overlay.item.isVisible()
    panel.where_combo.setCurrentText("serial")
    panel.engine_combo.setCurrentText("freefield")
    panel.folder_edit.setText(str(tmp_path / "results.parquet"))
    panel.add_parameter("listeners[0].position[0]", "grid", 2.0, 3.0, 3)
    panel.add_parameter("listeners[0].position[1]", "grid", 2.6, 3.0, 2)
    panel.add_parameter("listeners[0].head_radius", "normal", 0.0875, 0.006, 2)
    with qtbot.waitSignal(panel.sweep_finished, timeout=60000) as got:
        assert panel.run()
    fmap = got.args[0].floor
    assert overlay.item.isVisible() and overlay.legend.isVisible()
    assert overlay.values_db.shape == (2, 3) and np.isfinite(overlay.values_db).all()
    np.testing.assert_array_equal(overlay.values_db, floor_raster(fmap, "median")[2])
    assert overlay.legend.title.startswith("Sweep median (dB)")
    assert overlay.legend.note.startswith("6 positions: ")
    # Its legend sits above the listening zone's, both in the view's bottom-right corner.
    zone_legend = window.design.overlay.legend
    assert overlay.legend.x() == zone_legend.x()
    assert overlay.legend.geometry().bottom() < zone_legend.geometry().top()

    panel.floor_which.setCurrentText("p10")
    np.testing.assert_array_equal(overlay.values_db, floor_raster(fmap, "p10")[2])
    assert not np.array_equal(fmap.p10, fmap.median)
    toggle.trigger()
    assert not overlay.item.isVisible() and not overlay.legend.isVisible()
    toggle.trigger()
    assert overlay.item.isVisible()

    # Loading a swept case (another listener position and head) keeps the map.
    case = int(panel.case_table.item(0, 0).text())
    panel.load_case(case)
    values = panel.case_values(case)
    assert doc.scene.listeners[0].position_m[:2] == pytest.approx(
        (values["listeners[0].position[0]"], values["listeners[0].position[1]"]))
    assert overlay.item.isVisible() and overlay.values_db.shape == (2, 3)

    # A new sweep clears the map as it starts and shows its own when it finishes (Run is
    # enabled again once the first job's thread has ended, just after its result showed).
    qtbot.waitUntil(panel.run_button.isEnabled, timeout=10000)
    panel.table.cellWidget(0, 4).setValue(2)
    panel.folder_edit.setText(str(tmp_path / "second.parquet"))
    cleared = []
    panel.sweep_started.connect(lambda: cleared.append(overlay.values_db is None))
    with qtbot.waitSignal(panel.sweep_finished, timeout=60000):
        assert panel.run()
    assert cleared == [True] and overlay.values_db.shape == (2, 2)

    # A room of another shape clears it, and undoing that does not bring it back.
    room = replace(doc.scene.room, dimensions_m=(6.0, 4.0, 2.7))
    doc.push(replace(doc.scene, room=room), "Resize Room")
    assert overlay.values_db is None and not overlay.item.isVisible()
    doc.undo_stack.undo()
    assert overlay.values_db is None
