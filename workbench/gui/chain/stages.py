"""The voice chain drawn as its stages (`dsp.chain.STAGES`, in chain order): room → PercepNet →
sender → network → receiver → playback, and the clean talker at the microphone (the reference)
before them. Each stage is a button that picks its output tap to hear (one at a time) over a
Bypass check box; arrows between them show the signal's way.

`StageStrip` signals `tapSelected(tap)` when a stage's button is clicked and `bypassChanged()`
when a bypass box is toggled by the user; `tap_buttons` {tap: QPushButton} and `bypass_checks`
{stage: QCheckBox} are the controls.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QButtonGroup, QCheckBox, QGridLayout, QLabel, QPushButton, QWidget

from dsp.chain import REFERENCE, STAGES
from workbench.gui.audio.widgets import choice_button_style
from workbench.gui.shell.theme import SceneColors

STAGE_TITLES = {"room": "Room", "percepnet": "PercepNet", "sender": "Sender",
                "network": "Network", "receiver": "Receiver", "playback": "Playback"}
STAGE_TIPS = {
    "room": "Talker and noise convolved with the room's responses to the device microphone",
    "percepnet": "PercepNet noise suppression (40 ms)",
    "sender": "Opus encoder with LBRR and DRED: the packets (heard: a lossless decode)",
    "network": "Packet loss (model or trace) and jitter (heard: lost frames muted)",
    "receiver": "Playout buffer; lost frames from LBRR, DRED or PLC: the far end",
    "playback": "The far-end voice played by the device's drivers to the listener's ears",
}


class StageStrip(QWidget):
    """Stage buttons (listen to a tap) with bypass boxes; see the module docstring."""

    tapSelected = Signal(str)
    bypassChanged = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("chainStages")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(1)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.tap_buttons: dict[str, QPushButton] = {}
        self.bypass_checks: dict[str, QCheckBox] = {}
        self._add_tap(grid, 0, REFERENCE, "Clean", "The talker at the microphone, direct path "
                                                   "only: what the scores compare with")
        for k, (name, cls) in enumerate(STAGES.items()):
            col = 2 * (k + 1)
            arrow = QLabel("→")
            arrow.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(arrow, 0, col - 1)
            self._add_tap(grid, col, cls.tap, STAGE_TITLES.get(name, name), STAGE_TIPS.get(
                name, ""))
            check = QCheckBox("Bypass")
            check.setObjectName(f"chainBypass_{name}")
            check.setToolTip(f"Bypass {STAGE_TITLES.get(name, name)}: its output is its input "
                             "(crossfaded)")
            check.toggled.connect(lambda _on: self.bypassChanged.emit())
            grid.addWidget(check, 1, col, Qt.AlignmentFlag.AlignHCenter)
            self.bypass_checks[name] = check

    def _add_tap(self, grid: QGridLayout, col: int, tap: str, title: str, tip: str) -> None:
        button = QPushButton(f"{title}\n{tap}")
        button.setObjectName(f"chainTap_{tap}")
        button.setCheckable(True)
        button.setToolTip(f"{tip}. Click to hear the {tap!r} tap.")
        button.setMinimumHeight(40)
        button.clicked.connect(lambda _c=False, t=tap: self.tapSelected.emit(t))
        self.group.addButton(button)
        grid.addWidget(button, 0, col)
        self.tap_buttons[tap] = button

    def bypass(self) -> frozenset[str]:
        """The stages whose Bypass is checked."""
        return frozenset(n for n, c in self.bypass_checks.items() if c.isChecked())

    def show_tap(self, tap: str) -> None:
        """Check `tap`'s button (without signalling)."""
        self.tap_buttons[tap].setChecked(True)

    def set_bypass(self, bypass: frozenset[str]) -> None:
        """Check the bypass boxes of `bypass` (without signalling)."""
        for name, check in self.bypass_checks.items():
            check.blockSignals(True)
            check.setChecked(name in bypass)
            check.blockSignals(False)

    def apply_theme(self, colors: SceneColors) -> None:
        # Padded by the style sheet, a button is as wide as its text (not the style's 80 px).
        self.setStyleSheet(choice_button_style(colors) + " QPushButton { padding: 3px 6px; }")
