"""Real-input helpers for the GUI tests (mouse drags and wheel turns on the editor viewport), and
the check that a tool panel refuses to save over its input."""

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
