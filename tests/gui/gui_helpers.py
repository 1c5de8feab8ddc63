"""Helpers for the GUI tests: real input (mouse drags and wheel turns on the editor viewport), a
feature's View menu entry and dock, a tool panel's job run to its end or cancelled, a table cell's
text, and the check that a tool panel refuses to save over its input."""

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication


def view_pos(window, x_m: float, y_m: float) -> QPoint:
    return window.view.view_point(x_m, y_m)


def drag(qtbot, view, start: QPoint, end: QPoint, steps: int = 10,
         button=Qt.MouseButton.LeftButton) -> None:
    """Press at `start`, move in `steps` to `end`, release: real mouse events on the viewport."""
    vp = view.viewport()
    qtbot.mousePress(vp, button, pos=start)
    for i in range(1, steps + 1):
        p = QPoint(round(start.x() + (end.x() - start.x()) * i / steps),
                   round(start.y() + (end.y() - start.y()) * i / steps))
        qtbot.mouseMove(vp, pos=p)
    qtbot.mouseRelease(vp, button, pos=end)


def wheel(view, pos: QPoint, notches: float = 1.0,
          modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    vp = view.viewport()
    event = QWheelEvent(QPointF(pos), QPointF(vp.mapToGlobal(pos)), QPoint(0, 0),
                        QPoint(0, round(120 * notches)), Qt.MouseButton.NoButton, modifiers,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, event)


def listener_xy(window, i: int = 0) -> tuple[float, float]:
    p = window.document.scene.listeners[i].position_m
    return p[0], p[1]


def run_panel_job(qtbot, panel, timeout_ms: int):
    """Press the tool panel's Process (it must start) and wait for the job to end; returns the
    panel's outcome."""
    with qtbot.waitSignal(panel.runner.done, timeout=timeout_ms):
        assert panel.process()
    return panel.outcome


def cancel_panel_job(qtbot, panel, timeout_ms: int) -> None:
    """Start the tool panel's job, press Cancel while it runs (Cancel enabled, Process not) and
    wait until it has ended."""
    with qtbot.waitSignal(panel.runner.cancelled, timeout=timeout_ms):
        assert panel.process()
        assert panel.cancel_button.isEnabled() and not panel.process_button.isEnabled()
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: not panel.runner.is_running, timeout=timeout_ms)


def cell_text(table, row: int, col: int) -> str:
    """The text of a table cell ("" when the cell is empty)."""
    item = table.item(row, col)
    return item.text() if item else ""


def check_view_menu_dock(window, feature, action_name: str) -> None:
    """The feature has its View menu entry `action_name`; its dock is hidden at first and
    shows on `show_dock()`."""
    menus = [a.menu() for a in window.menuBar().actions() if a.menu()]
    assert action_name in [a.objectName() for m in menus for a in m.actions()]
    assert not feature.dock.isVisible()
    feature.show_dock()
    assert feature.dock.isVisible()


def assert_save_refused(panel, dialogs, src) -> None:
    """A tool panel's Save Output onto `src`, a file its result was made from: refused with the
    reason in the panel's error label, `src` unchanged, nothing new beside it."""
    names, before = sorted(p.name for p in src.parent.iterdir()), src.read_bytes()
    dialogs.save_path = str(src)
    panel.save_button.click()
    assert panel.error_label.text() == (f"Not saved: {src}: would overwrite the input file"
                                        f" {src}; choose another output")
    assert src.read_bytes() == before
    assert sorted(p.name for p in src.parent.iterdir()) == names
