"""Small widget factories shared by the panels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox


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
