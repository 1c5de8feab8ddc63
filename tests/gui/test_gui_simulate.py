"""Simulate menu: jobs run off the GUI thread, report progress, can be cancelled, show IRs, and
missing engines give a clear message. Fake engines stand in for `sim.transfer.simulate` where
the test is about the GUI; the real engines are used when they exist."""

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from sim import transfer
from sim.task import report
from sim.transfer import TransferResult

from .gui_helpers import drag, listener_xy


def fake_result(scene, n_taps=480, fs=48000):
    rng = np.random.default_rng(1)
    ir = np.zeros((len(scene.device.drivers), len(scene.listeners), 2, n_taps))
    ir[..., 40 + 350] = 0.4
    ir += 1e-3 * rng.standard_normal(ir.shape)
    return TransferResult(ir=ir, fs_hz=fs, t0_samples=40, engine="fake", meta={})


class FakeEngine:
    """A slow engine: `steps` progress reports `delay_s` apart, cancellable between them."""

    def __init__(self, steps=20, delay_s=0.01, error=None):
        self.steps, self.delay_s, self.error = steps, delay_s, error
        self.threads, self.calls, self.done_steps = [], [], 0

    def __call__(self, scene, engine="freefield", *, early_only=False, state=None, **kw):
        self.threads.append(threading.current_thread())
        self.calls.append((engine, early_only))
        if self.error is not None:
            raise self.error
        for i in range(self.steps):
            time.sleep(self.delay_s)
            report(state, (i + 1) / self.steps, f"step {i + 1}")  # raises Cancelled
            self.done_steps = i + 1
        return fake_result(scene)


def test_free_field_runs_off_the_gui_thread_and_plots(window, qtbot, monkeypatch):
    engine = FakeEngine(steps=15)
    monkeypatch.setattr(transfer, "simulate", engine)
    progress = []
    window.runner.progress.connect(lambda f, m: progress.append(f))
    assert not window.transfer_view.has_data()
    window.action_sim_free.trigger()
    assert window.runner.is_running
    assert window.progress_bar.isVisible() and window.cancel_button.isVisible()
    assert not window.action_sim_free.isEnabled() and window.action_stop.isEnabled()
    with qtbot.waitSignal(window.runner.done, timeout=5000):
        pass
    assert engine.calls == [("freefield", False)]
    assert engine.threads[0] is not threading.main_thread()
    assert progress and progress[-1] == pytest.approx(1.0)
    view = window.transfer_view
    assert view.has_data()
    x, y = view.ir_curves["left"].getData()
    assert len(x) == 480 and np.max(y) == pytest.approx(0.4, abs=0.01)
    assert view.mag_curves["right"].getData()[0] is not None
    assert view.listener_combo.count() == 1 and view.driver_combo.count() == 5
    assert "fake engine" in view.info_label.text()
    assert not window.progress_bar.isVisible()
    assert window.action_sim_free.isEnabled() and not window.action_stop.isEnabled()
    assert "finished" in window.statusBar().currentMessage()


def test_cancel_stops_the_job_and_the_window_stays_responsive(window, qtbot, monkeypatch):
    engine = FakeEngine(steps=400, delay_s=0.01)
    monkeypatch.setattr(transfer, "simulate", engine)
    window.action_sim_room.trigger()
    assert engine.calls == [] or engine.calls == [("room", False)]
    qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.runner.done, timeout=5000):
        pass
    assert engine.calls == [("room", False)]
    assert engine.done_steps < 400
    assert "cancelled" in window.statusBar().currentMessage()
    assert "cancelled" in window.transfer_view.message_label.text()
    assert not window.transfer_view.has_data()
    # Still responsive: an edit works right away, and a new simulation can start.
    start = window.view.view_point(*listener_xy(window))
    drag(qtbot, window.view, start, start + QPoint(30, 0))
    assert window.document.undo_stack.count() == 1
    assert window.action_sim_early.isEnabled()


def test_missing_engine_gives_a_clear_message(window, qtbot, monkeypatch, dialogs):
    error = ModuleNotFoundError("No module named 'sim.freefield'", name="sim.freefield")
    monkeypatch.setattr(transfer, "simulate", FakeEngine(error=error))
    with qtbot.waitSignal(window.runner.done, timeout=5000):
        window.action_sim_free.trigger()
    message = dialogs.texts("critical")[-1]
    assert "Free-field simulation is not available" in message and "sim.freefield" in message
    assert message in window.transfer_view.message_label.text()
    assert window.action_sim_free.isEnabled()


def test_editing_after_a_simulation_marks_the_plot_stale(window, qtbot, monkeypatch):
    monkeypatch.setattr(transfer, "simulate", FakeEngine(steps=1))
    with qtbot.waitSignal(window.runner.done, timeout=5000):
        window.action_sim_free.trigger()
    assert not window.transfer_view.stale
    start = window.view.view_point(*listener_xy(window))
    drag(qtbot, window.view, start, start + QPoint(30, 0))
    assert window.transfer_view.stale
    assert "F5" in window.transfer_view.message_label.text()
    window.action_undo.trigger()
    assert not window.transfer_view.stale


def test_real_free_field_simulation(window, qtbot):
    pytest.importorskip("sim.freefield")
    with qtbot.waitSignal(window.runner.done, timeout=60000):
        window.action_sim_free.trigger()
    view = window.transfer_view
    assert view.result is not None, window.transfer_view.message_label.text()
    scene = window.document.scene
    assert view.result.ir.shape[:3] == (len(scene.device.drivers), len(scene.listeners), 2)
    assert view.has_data()
    assert np.any(view.ir_curves["left"].getData()[1] != 0)


def test_real_room_simulation_can_be_cancelled(window, qtbot):
    pytest.importorskip("sim.room")
    window.action_sim_room.trigger()
    window.cancel_job()
    t0 = time.perf_counter()
    with qtbot.waitSignal(window.runner.done, timeout=60000):
        pass
    assert "cancelled" in window.statusBar().currentMessage()
    assert window.transfer_view.result is None
    assert time.perf_counter() - t0 < 30
