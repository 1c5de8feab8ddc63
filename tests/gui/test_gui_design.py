"""Filter design in the GUI: dragging a listener redesigns and redraws while dragging, undo
redesigns back, a refused method clears the plots, the effort slider, export and figures."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from .gui_helpers import listener_xy


def wait_design(window, qtbot, timeout=30000):
    """Until the design shown is made for the scene and parameters of now."""
    c = window.design.controller

    def ready():
        return c.outcome is not None and c.outcome.current and not c.is_busy

    qtbot.waitUntil(ready, timeout=timeout)
    return c.outcome


def snapshot(window) -> dict:
    """What the plots and the panel show now (copies of the plotted arrays, label texts)."""
    ws = window.design
    canc = ws.cancellation_view
    _x, left = canc.curves["left"].getData()
    _x, right = canc.curves["right"].getData()
    p = ws.panel
    return {
        "cancellation": np.concatenate([left, right]).copy(),
        "zone": ws.overlay.values_db.copy(),
        "polar": ws.polar_view.cut_db.copy(),
        "polar_curve": ws.polar_view.curves["left"].getData()[0].copy(),
        "map": ws.map_view.image_db.copy(),
        "numbers": {name: getattr(p, name).text() for name in (
            "effort_label", "fir_label", "zone_label", "cancel_label", "probe_reading")},
    }


@pytest.fixture
def stereo(make_window, qtbot):
    w = make_window("design-stereo-2")
    panel = w.design.panel
    panel.method_combo.setCurrentIndex(panel.method_combo.findData("ctc"))
    wait_design(w, qtbot)
    return w


def test_dragging_the_listener_redesigns_while_dragging_and_undo_goes_back(stereo, qtbot):
    w, ws = stereo, stereo.design
    c = ws.controller
    assert c.params.method == "ctc" and ws.panel.state_label.text() == "up to date"
    before = snapshot(w)
    assert ws.overlay.item.isVisible() and ws.overlay.legend.isVisible()
    shown = []
    c.outcomeChanged.connect(shown.append)

    vp = w.view.viewport()
    start = w.view.view_point(*listener_xy(w))
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    # Move sideways in steps; after the first steps a redesign for a moved listener must
    # arrive and be drawn while the button is still down.
    for k in range(1, 4):
        qtbot.mouseMove(vp, pos=start + QPoint(0, -12 * k))
    origin = (2.0, 0.0, 0.0)
    qtbot.waitUntil(lambda: any(o is not None and o.scene.listeners[0].position_m != origin
                                for o in shown), timeout=30000)
    assert w.document.undo_stack.count() == 1  # the button is still down: one gesture
    during = snapshot(w)
    assert not np.array_equal(during["zone"], before["zone"], equal_nan=True)
    for k in range(4, 9):
        qtbot.mouseMove(vp, pos=start + QPoint(0, -12 * k))
    end = start + QPoint(0, -12 * 8)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)
    assert w.document.undo_stack.count() == 1  # one drag, one undo step
    moved = w.document.scene.listeners[0].position_m
    assert moved[1] > 0.2  # dragged to the listener's left by tens of cm

    o = wait_design(w, qtbot)
    assert o.scene.listeners[0].position_m == moved
    after = snapshot(w)
    # The plots show new data: compare the arrays, not just that something was emitted.
    assert not np.allclose(after["cancellation"], before["cancellation"])
    assert not np.array_equal(after["zone"], before["zone"], equal_nan=True)
    assert not np.allclose(after["polar"], before["polar"])
    assert not np.allclose(after["map"], before["map"])
    # The numbers are those of the new design.
    s = o.summary
    assert after["numbers"]["zone_label"] == f"{s.zone_area_m2:.2f} m² ≥ 10 dB"
    assert after["numbers"]["cancel_label"].startswith(f"≥ {s.cancellation_db:.1f} dB")
    assert after["numbers"] != before["numbers"]
    assert ws.panel.state_label.text() == "up to date"

    w.action_undo.trigger()
    assert w.document.scene.listeners[0].position_m == (2.0, 0.0, 0.0)
    wait_design(w, qtbot)
    back = snapshot(w)
    assert back["numbers"] == before["numbers"]
    for key in ("cancellation", "polar", "map"):
        np.testing.assert_allclose(back[key], before[key], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(back["zone"], before["zone"])


def test_beam_on_two_drivers_is_refused_with_the_reason_and_no_stale_plots(make_window, qtbot):
    w = make_window("design-stereo-2")
    ws = w.design
    c, panel = ws.controller, ws.panel
    panel.method_combo.setCurrentIndex(panel.method_combo.findData("ctc"))
    c.redesign_now()
    qtbot.waitUntil(lambda: c.runner.is_running, timeout=5000)
    # Switch while a CTC redesign is still running: its result must not be shown.
    panel.method_combo.setCurrentIndex(panel.method_combo.findData("beam"))
    assert c.params.method == "beam"
    qtbot.waitUntil(lambda: bool(c.error), timeout=5000)  # at once, not after the CTC job
    assert c.outcome is None and ws.polar_view.cut_db is None
    qtbot.waitUntil(lambda: not c.runner.is_running, timeout=30000)
    qtbot.wait(50)
    assert c.outcome is None
    text = panel.message_label.text()
    assert panel.message_label.isVisible()
    assert "2 side-by-side drivers cannot null" in text and "Traceback" not in text
    assert panel.state_label.text() == "refused"
    assert not panel.export_button.isEnabled()
    assert ws.cancellation_view.curves == {} and ws.polar_view.cut_db is None
    assert all(len(cv.getData()[0] or []) == 0 for cv in ws.polar_view.curves.values())
    assert ws.map_view.image_db is None and ws.filter_view.series == {}
    assert ws.overlay.values_db is None and not ws.overlay.item.isVisible()
    assert "cannot null" in ws.cancellation_view.message_label.text()
    assert panel.beam_box.isVisible() and not panel.target_box.isVisible()

    panel.method_combo.setCurrentIndex(panel.method_combo.findData("ctc"))
    o = wait_design(w, qtbot)
    assert o.params.method == "ctc" and not panel.message_label.isVisible()
    assert ws.cancellation_view.curves and ws.overlay.item.isVisible()


def test_effort_slider_changes_the_effort_reading(stereo, qtbot):
    ws = stereo.design
    panel = ws.panel
    first = wait_design(stereo, qtbot)
    assert first.summary.effort_db == pytest.approx(18.0, abs=0.2)
    reading = panel.effort_label.text()
    panel.effort_slider.setFocus()
    for _ in range(5):  # PageDown: −2 dB each, as a user would
        qtbot.keyClick(panel.effort_slider, Qt.Key.Key_PageDown)
    assert ws.controller.params.max_effort_db == 8.0
    assert panel.effort_value.text() == "8.0 dB"
    o = wait_design(stereo, qtbot)
    assert o.summary.effort_db <= 8.0 + 1e-6
    assert panel.effort_label.text() != reading
    assert panel.effort_label.text().startswith(f"{o.summary.effort_db:.1f} dB (cap 8 dB)")


def test_export_writes_files_that_dsp_reads_back(stereo, qtbot, tmp_path, monkeypatch):
    import sofar
    import soundfile as sf
    import yaml

    from dsp.export import c_header, camilladsp, csv_text, format_names, json_file, npz
    from workbench.gui.design import export_dialog

    out = tmp_path / "exported"
    asked = []

    def fake_ask(parent, suggestion, summary=""):
        asked.append((suggestion, summary))
        return export_dialog.ExportChoice(out, list(format_names()), "filters")

    monkeypatch.setattr(export_dialog, "ask_export", fake_ask)
    ws = stereo.design
    o = wait_design(stereo, qtbot)
    fir = o.filters.fir
    assert ws.panel.export_button.isEnabled()
    with qtbot.waitSignal(ws.exporter.finished, timeout=30000) as blocker:
        qtbot.mouseClick(ws.panel.export_button, Qt.MouseButton.LeftButton)
    assert asked and "2 inputs → 2 drivers" in asked[0][1]
    written = blocker.args[0]
    assert set(written) == set(format_names())
    assert not ws.panel.export_progress.isVisible()
    # beside the filters, the report `awb design --report` writes (tests/test_jobs_design.py)
    import json

    report = json.loads((out / "report.json").read_text())
    assert report["method"] == "ctc" and report["scene"] == "design-stereo-2"
    assert report["files"] == {k: [p.name for p in v] for k, v in written.items()}

    back = npz.read(out / "filters.npz")
    np.testing.assert_array_equal(back.fir, fir)
    assert back.delay_samples == 512 and back.meta["method"] == "ctc"
    assert back.meta["scene"] == "design-stereo-2"
    np.testing.assert_array_equal(json_file.read(out / "filters.json").fir, fir)
    data, _names, header = csv_text.read(out / "filters.csv")
    assert header == {"fs": "48000", "delay": "512", "taps": "1024"}
    np.testing.assert_array_equal(data, fir.reshape(4, -1))
    arr, macros = c_header.read(out / "filters.h")
    np.testing.assert_array_equal(arr, fir.astype(np.float32))
    assert macros["FILTERS_DELAY_SAMPLES"] == 512
    x, fs = sf.read(out / "filters_left.wav", dtype="float32")
    assert fs == 48000
    np.testing.assert_array_equal(x.T, fir[0].astype(np.float32))
    s = sofar.read_sofa(str(out / "filters.sofa"), verbose=False)
    np.testing.assert_allclose(s.Data_IR, fir)
    config = yaml.safe_load((out / "filters_camilladsp.yml").read_text())
    rng = np.random.default_rng(1)
    sig = rng.standard_normal((2, 2000))
    y = camilladsp.run_config(config, out, sig)
    direct = o.filters.apply(sig)[:, :2000]
    np.testing.assert_allclose(y, direct, atol=1e-9)
    assert (out / "filters_eqapo_config.txt").is_file()
    assert not list(out.glob("*.tmp*"))  # atomic writes leave no temporaries


def test_plots_save_as_png_and_pdf(stereo, qtbot, tmp_path, dialogs):
    ws = stereo.design
    wait_design(stereo, qtbot)
    for view in ws.plots:
        assert view.save_button.isEnabled()
        for suffix, magic in ((".png", b"\x89PNG"), (".pdf", b"%PDF")):
            path = view.save_figure(tmp_path / f"{view.figure_name}{suffix}")
            data = path.read_bytes()
            assert data.startswith(magic) and len(data) > 2000, path
    ws.filter_view.kind_combo.setCurrentIndex(ws.filter_view.kind_combo.findData("impulse"))
    assert ws.filter_view.save_figure(tmp_path / "ir.png").stat().st_size > 2000
    zone = ws.save_zone_figure(tmp_path / "zone.pdf")
    assert zone.read_bytes().startswith(b"%PDF")
    # Through the Save Figure… button and its (replaced) file dialog; no suffix → PNG.
    dialogs.save_path = str(tmp_path / "from-dialog")
    qtbot.mouseClick(ws.polar_view.save_button, Qt.MouseButton.LeftButton)
    assert (tmp_path / "from-dialog.png").read_bytes().startswith(b"\x89PNG")


def test_target_curve_drag_redesigns_and_undo_and_reset(stereo, qtbot):
    ws = stereo.design
    editor = ws.panel.target_editor
    ws.design_dock.show()
    default = editor.curve()
    ws.panel.scroll_area.ensureWidgetVisible(editor)
    qtbot.waitUntil(editor.plot.isVisible, timeout=5000)
    plot = editor.plot
    vb = plot.getPlotItem().getViewBox()

    def to_widget(f_hz, db):
        return plot.mapFromScene(vb.mapViewToScene(QPointF(np.log10(f_hz), db)))

    # A real mouse drag of the 350 Hz / 30 dB point down to 20 dB.
    start, end = to_widget(350.0, 30.0), to_widget(350.0, 20.0)
    vp = plot.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 7):
        qtbot.mouseMove(vp, pos=QPoint(start.x(),
                                       round(start.y() + (end.y() - start.y()) * k / 6)))
        qtbot.wait(5)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)
    curve = editor.curve()
    assert curve != default
    assert curve.freqs_hz[2] == pytest.approx(350.0, rel=0.05)
    assert curve.gains_db[2] == pytest.approx(20.0, abs=1.5)
    assert ws.controller.params.target == curve
    o = wait_design(stereo, qtbot)
    assert o.params.target == curve
    np.testing.assert_allclose(ws.cancellation_view.series["target"][1],
                               curve.at(o.redesign.cancellation.band_hz))
    assert editor.undo_button.isEnabled()
    qtbot.mouseClick(editor.undo_button, Qt.MouseButton.LeftButton)
    assert editor.curve() == default and ws.controller.params.target == default
    editor.move_point(1, 200.0, 6.0)
    editor.remove_point(2)
    assert len(editor.curve().freqs_hz) == 3
    qtbot.mouseClick(editor.reset_button, Qt.MouseButton.LeftButton)
    assert editor.curve() == default


def test_presets_menu_f6_and_zone_toggle(stereo, qtbot):
    w, ws = stereo, stereo.design
    robust = w.findChild(type(ws.action_redesign), "actionDesignPreset_ctc_robust")
    robust.trigger()
    assert ws.controller.params.robust_cm == 5.0 and ws.panel.robust_spin.value() == 5.0
    o = wait_design(w, qtbot)
    assert o.params.robust_cm == 5.0
    ws.action_zone.setChecked(False)
    assert not ws.overlay.item.isVisible() and not ws.overlay.legend.isVisible()
    ws.action_zone.setChecked(True)
    assert ws.overlay.item.isVisible()
    gen = o.generation
    ws.action_redesign.trigger()  # F6: again, even though nothing changed
    o = wait_design(w, qtbot)
    assert o.generation > gen
    w.set_theme("light")  # the design docks restyle without trouble
    assert ws.polar_view.colors.plot_background == "#ffffff"


def test_export_dialog_and_a_failed_export_shows_one_line(stereo, qtbot, tmp_path, monkeypatch):
    from dsp.export import format_names
    from workbench.gui.design import export_dialog

    dialog = export_dialog.ExportDialog(stereo, tmp_path / "a", ["npz", "json"], "filters")
    qtbot.addWidget(dialog)
    assert [f for f, box in dialog.checks.items() if box.isChecked()] == ["npz", "json"]
    dialog.folder_edit.setText(str(tmp_path / "b"))
    dialog.stem_edit.setText("ctc_2m")
    dialog.checks["c"].setChecked(True)
    req = dialog.choice()
    assert req.folder == tmp_path / "b" and req.stem == "ctc_2m"
    assert req.formats == [f for f in format_names() if f in ("npz", "json", "c")]

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    monkeypatch.setattr(export_dialog, "ask_export", lambda *a, **k: export_dialog.ExportChoice(
        blocker / "out", ["npz"], "filters"))
    ws = stereo.design
    wait_design(stereo, qtbot)
    with qtbot.waitSignal(ws.exporter.failed, timeout=30000):
        ws.action_export.trigger()
    text = ws.panel.message_label.text()
    assert text.startswith("Export failed:") and "Traceback" not in text
    assert "\n" not in text and not ws.panel.export_progress.isVisible()


def test_export_refuses_to_replace_the_scene_file(stereo, qtbot, tmp_path, monkeypatch):
    """Stem "scene", JSON, into the scene file's folder: scene.json would be replaced. Refused
    with the reason in the panel, nothing written (the filters were staged, not renamed)."""
    from workbench.gui.design import export_dialog

    scene_file = tmp_path / "scene.json"
    stereo.document.save(scene_file)
    before, names = scene_file.read_bytes(), sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.setattr(export_dialog, "ask_export", lambda *a, **k: export_dialog.ExportChoice(
        tmp_path, ["npz", "json"], "scene"))
    ws = stereo.design
    wait_design(stereo, qtbot)
    with qtbot.waitSignal(ws.exporter.failed, timeout=30000):
        ws.action_export.trigger()
    assert ws.panel.message_label.text() == (f"Export failed: {scene_file}: would overwrite the"
                                             f" input file {scene_file}; choose another output")
    assert scene_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == names


def test_hidden_filter_tab_draws_when_shown(stereo, qtbot):
    ws = stereo.design
    o = wait_design(stereo, qtbot)
    view = ws.filter_view
    assert not view.on_screen()  # the default layout keeps Filters behind Cancellation
    assert view.outcome is o and view._stale and view.series == {}
    ws.filter_dock.raise_()
    qtbot.waitUntil(view.on_screen, timeout=2000)
    assert not view._stale and set(view.series) == set(o.filters.driver_names)
    _x, y = view.curves["left"].getData()
    np.testing.assert_array_equal(y, o.responses.magnitude_db[0, 0][o.responses.freqs_hz > 0])


def test_export_dialog_offers_every_registered_format(qtbot, tmp_path, monkeypatch):
    from dsp.export import export_formats, registry
    from workbench.gui.design import export_dialog

    fake = registry.ExportFormat("fake", "Fake text for the test", ".fake", lambda *a: [])
    monkeypatch.setitem(registry._REGISTRY, "fake", fake)
    dialog = export_dialog.ExportDialog(None, tmp_path, ["fake"], "filters")
    qtbot.addWidget(dialog)
    assert list(dialog.checks) == [f.name for f in export_formats()]
    assert [box.text() for box in dialog.checks.values()] == [f.label for f in export_formats()]
    assert dialog.choice().formats == ["fake"]


def test_the_virtualizer_zone_shows_the_virtualization_error(stereo, qtbot, tmp_path):
    w, ws = stereo, stereo.design
    ws.panel.method_combo.setCurrentIndex(ws.panel.method_combo.findData("virtualizer"))
    o = wait_design(w, qtbot)
    zone = o.redesign.zone
    assert zone.kind == "virtualization"
    lg = ws.overlay.legend
    assert lg.title.startswith("ILD error vs the reference pair (dB)")
    assert lg.note.startswith("ILD error ≤ 2 dB, ITD error ≤ 50 µs:")
    assert ws.panel.zone_label.text().endswith("ILD error ≤ 2 dB, ITD error ≤ 50 µs")
    # The scale runs backwards: a smaller error is brighter and more opaque.
    from workbench.gui.design.zone_overlay import SCALE_DB, zone_rgba

    rgba = zone_rgba(np.array([[0.5, 5.5]]), *SCALE_DB["virtualization"])
    assert rgba[0, 0, 3] > rgba[0, 1, 3]
    assert ws.save_zone_figure(tmp_path / "zone.png").read_bytes().startswith(b"\x89PNG")
