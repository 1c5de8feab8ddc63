"""One exception hook (issue 12 item 5): an exception nothing caught — in a Qt slot or a worker
thread — is logged and shown in a non-modal error dialog, and the app keeps running.

pytest-qt fails a test on any exception in a slot; these tests raise them on purpose, so they
turn that off and check the hook instead."""

import logging
import sys
import threading

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from workbench.gui.shell import exception_hook


@pytest.fixture
def hook(monkeypatch):
    """The app's hook, installed for this test only; dialogs recorded as (summary, details)."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # put back after the test
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    shown = []
    monkeypatch.setattr(exception_hook, "show_exception_dialog",
                        lambda parent, summary, details: shown.append((summary, details)))
    installed = exception_hook.install_exception_hook()
    installed.shown = shown
    return installed


@pytest.mark.qt_no_exception_capture
def test_a_slot_that_raises_shows_a_dialog_logs_it_and_the_window_keeps_running(
        window, hook, qtbot, monkeypatch, caplog):
    def broken():
        raise ZeroDivisionError("boom in a slot")

    monkeypatch.setattr(window, "show_about", broken)
    with caplog.at_level(logging.ERROR):
        window.registry["actionAbout"].trigger()  # Help ▸ About: its handler raises
        qtbot.waitUntil(lambda: bool(hook.shown), timeout=2000)
    summary, details = hook.shown[0]
    assert summary == "ZeroDivisionError: boom in a slot"
    assert "Traceback" in details and "broken" in details
    assert any("uncaught exception" in r.message and "boom in a slot" in r.message
               for r in caplog.records)
    # Still responsive: the next command works and the window is up.
    snapping = window.view.snapping
    window.registry["actionSnap"].trigger()
    assert window.view.snapping is not snapping and window.isVisible()
    qtbot.wait(50)
    assert len(hook.shown) == 1


@pytest.mark.qt_no_exception_capture
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # chained
def test_a_worker_thread_that_raises_is_shown_on_the_gui_thread(hook, qtbot, caplog):
    where = []
    hook.raised.connect(lambda *_: where.append(threading.current_thread()))

    def work():
        raise ValueError("bad block")

    with caplog.at_level(logging.ERROR):
        t = threading.Thread(target=work, name="audio worker")
        t.start()
        t.join()
        qtbot.waitUntil(lambda: bool(hook.shown), timeout=2000)
    assert hook.shown[0][0] == "ValueError in thread audio worker: bad block"
    assert where == [threading.main_thread()]
    assert any("in thread audio worker" in r.message for r in caplog.records)


@pytest.mark.qt_no_exception_capture
def test_one_dialog_at_a_time_and_it_does_not_block(monkeypatch, qtbot):
    """The real dialog: non-modal, and a timer that keeps failing does not open one per tick."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    exception_hook.install_exception_hook()
    ticks = []

    def failing_tick():
        ticks.append(1)
        raise RuntimeError("tick")

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(failing_tick)
    timer.start()
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=3000)  # the event loop runs on
    timer.stop()
    qtbot.wait(20)
    boxes = [w for w in QApplication.topLevelWidgets()
             if isinstance(w, QMessageBox) and w.isVisible()]
    assert len(boxes) == 1 and not boxes[0].isModal()
    assert boxes[0].windowTitle() == exception_hook.TITLE and "tick" in boxes[0].text()
    boxes[0].close()


def test_installing_twice_keeps_one_hook_and_chains_to_a_foreign_one(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "excepthook", lambda *a: seen.append(a[0]))
    monkeypatch.setattr(exception_hook, "show_exception_dialog", lambda *a: None)
    first = exception_hook.install_exception_hook()
    assert exception_hook.install_exception_hook() is first
    sys.excepthook(KeyError, KeyError("k"), None)
    assert seen == [KeyError]  # the hook found first (here: the test's) still sees it
    first.uninstall()
    assert sys.excepthook != first.on_exception
