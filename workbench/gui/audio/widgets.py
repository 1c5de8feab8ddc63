"""Widgets both auditions' transports show (the Renderer panel and the clip strip of Enhancement
and DRED): the position slider, the framed line that says why audio cannot play, and the look
of the buttons that pick what is heard."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractSlider, QFrame, QHBoxLayout, QLabel, QPushButton, QSlider

from workbench.gui.shell.theme import SceneColors


class PositionSlider(QSlider):
    """A horizontal slider over the programme time in milliseconds: drag it, click beside the
    handle or use the keys to seek.

    Signals: seekRequested(seconds) when a drag ends or after a click or key step;
    dragged(seconds) while the handle is dragged. `show_position` moves the handle unless
    the user holds it."""

    seekRequested = Signal(float)
    dragged = Signal(float)

    def __init__(self, name: str, page_ms: int, step_ms: int):
        super().__init__(Qt.Orientation.Horizontal)
        self.setObjectName(name)
        self.setRange(0, 0)
        self.setPageStep(page_ms)
        self.setSingleStep(step_ms)
        self.dragging = False
        self.sliderPressed.connect(self._on_pressed)
        self.sliderReleased.connect(self._on_released)
        self.sliderMoved.connect(lambda v: self.dragged.emit(v / 1000.0))
        self.actionTriggered.connect(self._on_action)

    def seconds(self) -> float:
        return self.value() / 1000.0

    def show_position(self, seconds: float, duration_s: float | None = None) -> bool:
        """Put the handle at `seconds` (and the end at `duration_s` when given) without
        signals; False, nothing moved, while the user drags it."""
        if self.dragging:
            return False
        self.blockSignals(True)
        if duration_s is not None:
            self.setRange(0, round(1000 * duration_s))
        self.setValue(round(1000 * seconds))
        self.blockSignals(False)
        return True

    def _on_pressed(self) -> None:
        self.dragging = True

    def _on_released(self) -> None:
        self.dragging = False
        self.seekRequested.emit(self.seconds())

    def _on_action(self, action: int) -> None:
        # A click or key step: the value changes after this signal, so read it on the next turn.
        if action != QAbstractSlider.SliderAction.SliderMove.value:
            QTimer.singleShot(0, self, lambda: self.seekRequested.emit(self.seconds()))


class AudioProblemBox(QFrame):
    """Why audio cannot play (`label`, selectable) beside a `button` offering another way to
    listen; shown only while there is a problem, framed in the theme's error colour.

    name, label_name, button_name: object names (tests and the style sheet use them)."""

    def __init__(self, name: str, label_name: str, offer: str, button_name: str):
        super().__init__()
        self.setObjectName(name)
        self.label = QLabel()
        self.label.setObjectName(label_name)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.button = QPushButton(offer)
        self.button.setObjectName(button_name)
        box = QHBoxLayout(self)
        box.setContentsMargins(6, 2, 6, 2)
        box.addWidget(self.label, 1)
        box.addWidget(self.button)

    def show_problem(self, problem: str) -> None:
        """Show `problem` ("" hides the box)."""
        self.label.setText(problem)
        self.label.setToolTip(problem)
        self.setVisible(bool(problem))

    def apply_theme(self, colors: SceneColors) -> None:
        self.setStyleSheet(
            f"#{self.objectName()} {{ border: 1px solid {colors.error}; border-radius: 3px; }}"
            f" #{self.label.objectName()} {{ color: {colors.error}; }}")


def choice_button_style(colors: SceneColors) -> str:
    """Style sheet of a checkable button that picks what is heard (a clip, a path): the
    checked one in the listener colour."""
    return (f"QPushButton:checked {{ background: {colors.listener};"
            f" color: {colors.background}; border-radius: 3px; }}")
