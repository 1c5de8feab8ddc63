"""Small widget factories shared by the panels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QWidget,
)


def double_spin(lo: float, hi: float, step: float, suffix: str, decimals: int, *,
                name: str = "", special: str = "") -> QDoubleSpinBox:
    """A right-aligned spin box that applies on Enter, focus-out or an arrow step, not on
    every keystroke (so half-typed values never reach the model)."""
    w = QDoubleSpinBox()
    if name:
        w.setObjectName(name)
    w.setRange(lo, hi)
    w.setSingleStep(step)
    w.setDecimals(decimals)
    w.setSuffix(suffix)
    w.setKeyboardTracking(False)
    w.setAlignment(Qt.AlignmentFlag.AlignRight)
    if special:
        w.setSpecialValueText(special)
    return w


def push_button(text: str, name: str, tip: str) -> QPushButton:
    """A push button with its object name and tool tip."""
    button = QPushButton(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    return button


def spin_box(lo: float, hi: float, value: float, *, decimals: int | None = None,
             step: float | None = None, suffix: str = "", special: str = "", name: str = "",
             tip: str = "") -> QSpinBox | QDoubleSpinBox:
    """A spin box over [lo, hi] set to `value`: a QDoubleSpinBox showing `decimals` places
    when they are given, else a QSpinBox. step: the arrow step (Qt's 1 when None); special:
    the text shown at `lo`; name: the object name; tip: the tool tip."""
    w = QSpinBox() if decimals is None else QDoubleSpinBox()
    if decimals is not None:
        w.setDecimals(decimals)
    w.setRange(lo, hi)
    if step is not None:
        w.setSingleStep(step)
    w.setSuffix(suffix)
    if special:
        w.setSpecialValueText(special)
    w.setValue(value)
    if name:
        w.setObjectName(name)
    if tip:
        w.setToolTip(tip)
    return w


def show_names(combo: QComboBox, names: list[str], index: int) -> None:
    """Make `names` the items of `combo` (refilled only when they changed) with `index`
    (clamped to them) current, without emitting the combo's signals."""
    combo.blockSignals(True)
    try:
        if names != [combo.itemText(i) for i in range(combo.count())]:
            combo.clear()
            combo.addItems(names)
        combo.setCurrentIndex(min(max(index, 0), len(names) - 1))
    finally:
        combo.blockSignals(False)


def settings_column(widget: QWidget, min_width: int, max_width: int) -> QScrollArea:
    """`widget` (a tool panel's column of settings) in a frameless scroll area `min_width` to
    `max_width` px wide that scrolls up and down only."""
    scroll = QScrollArea()
    scroll.setWidget(widget)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(min_width)
    scroll.setMaximumWidth(max_width)
    return scroll
